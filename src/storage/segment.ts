/**
 * Segment files: naming, the in-memory description of each, and the packed
 * number that says where a record lives.
 */
import { assert } from '../core/assert.js';
import type { DiskRecord } from './record-codec.js';

/** One segment file of the data directory. */
export interface Segment {
  /** Its number, from 1, one more than the previous segment's; also in its file name. */
  readonly id: number;
  readonly path: string;
  /** Open for reading and (for the last segment) appending. */
  readonly fd: number;
  /** Bytes of intact frames; the next frame is written at this offset. */
  size: number;
  /** The highest position any record of the segment refers to; -1 if none (deletable once begin passes it). */
  maxPosition: number;
  /** Records in it besides the header (and the seal). */
  records: number;
  /** The frame checksum of its last frame before any seal (0 if none): the next header names it. */
  lastCrc: number;
  /** True once a roll-over wrote its seal (the next segment is durable). */
  sealed: boolean;
}

const NAME = /^segment-(\d{10})\.log$/;

export function segmentFileName(id: number): string {
  assert(Number.isSafeInteger(id) && id >= 1 && id < 1e10, `segment id ${id}`);
  return `segment-${String(id).padStart(10, '0')}.log`;
}

/** The segment number of a file name, or undefined for any other file. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = NAME.exec(name);
  return m === null ? undefined : Number(m[1]);
}

/**
 * A record's location packed in one number: segment id * 2^32 + byte offset
 * of its frame. Exact while segment ids stay below 2^21 (2 million segments)
 * and segments below 4 GiB, both asserted.
 */
export function packLocation(segmentId: number, offset: number): number {
  assert(segmentId < 2 ** 21 && offset < 2 ** 32, 'location out of range');
  return segmentId * 2 ** 32 + offset;
}

export function locationSegment(loc: number): number {
  return Math.floor(loc / 2 ** 32);
}

export function locationOffset(loc: number): number {
  return loc % 2 ** 32;
}

/** The highest position a record refers to; -1 for records about no position. */
export function maxPositionOf(rec: DiskRecord): number {
  switch (rec.type) {
    case 'seal':
      return -1;
    case 'promise':
    case 'accept':
    case 'learn':
      return rec.position;
    case 'commit':
      return rec.to;
    case 'metadata':
    case 'header':
      return -1;
  }
}
