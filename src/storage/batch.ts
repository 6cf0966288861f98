/**
 * Records waiting for durability and the batches that carry them to disk.
 * A batch is one write + one fdatasync; it keeps its bytes until the fsync
 * succeeded, so that a failed write or fsync is retried by writing the same
 * bytes at the same offset again (never by trusting the page cache: after a
 * failed fsync the kernel may have dropped the dirty pages, "fsyncgate").
 */
import type { Action, Metadata, Position } from '../core/types.js';

/** One appended record, encoded, not yet durable. */
export interface PendingRecord {
  /** The record's frame, or its head when `data` follows it (record-codec.ts, encodeFrameHead). */
  readonly frame: Buffer;
  /** The entry bytes written right after `frame` (not copied into it), if any. */
  readonly data: Uint8Array | undefined;
  /** The whole frame's length on disk: frame plus data. */
  readonly bytes: number;
  /** Its sequence number (1 for the first record appended since open). */
  readonly seq: number;
  /** The highest position it refers to; -1 for none. */
  readonly maxPosition: number;
  /** Set if the record gave a position a new action. */
  readonly actionAt?: Position;
  readonly action?: Action;
  /** Set if the record moved the log's beginning. */
  readonly truncatedBelow?: Position;
  /** Set for metadata records. */
  readonly metadata?: Metadata;
  /** The proposal a promise or accept record carries; 0 for others (for the headers' checkpoint). */
  readonly proposal: number;
}

/** A group of records written with one write and made durable with one fdatasync. */
export interface Batch {
  readonly records: readonly PendingRecord[];
  /** The frames (preceded by a segment header if the batch opens a new segment), in file order. */
  readonly parts: readonly Uint8Array[];
  /** Their total length. */
  readonly byteLength: number;
  /** File offset of each record's frame, parallel to `records`. */
  readonly frameOffsets: readonly number[];
  /** The segment the batch goes to. */
  readonly segmentId: number;
  readonly segmentPath: string;
  /** Offset in the segment file where `bytes` go. */
  readonly offset: number;
  /** True if the batch creates its segment (then the directory is fsynced too). */
  readonly newSegment: boolean;
  /** The file's descriptor, once opened (kept across retries). */
  fd: number | undefined;
  /** The sequence number of the last record: durable once the batch is. */
  readonly lastSeq: number;
  /** The frame checksum of the batch's last frame (the next segment's header names a segment's last one). */
  readonly lastCrc: number;
  /** For a batch that opens a segment: the seal of the previous one, written once the new one is durable (none if it was sealed already). */
  readonly seal: Buffer | undefined;
  readonly sealFd: number;
  readonly sealOffset: number;
}

/** Takes the first records of `pending` whose frames fit in `bytesMax` (at least one). */
export function takeRecords(pending: PendingRecord[], bytesMax: number): PendingRecord[] {
  let n = 0;
  let bytes = 0;
  while (n < pending.length && (n === 0 || bytes + pending[n]!.bytes <= bytesMax)) {
    bytes += pending[n]!.bytes;
    n++;
  }
  return pending.splice(0, n);
}
