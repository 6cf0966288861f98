/** Helpers for tests that damage segment files by hand. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanFrames } from '../../src/storage/frame-scan.js';
import { checkFrame } from '../../src/storage/record-codec.js';
import { parseSegmentFileName } from '../../src/storage/segment.js';

export function segmentPaths(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => parseSegmentFileName(n) !== undefined)
    .sort()
    .map((n) => join(dir, n));
}

/** The checksum salt of a data directory, from its first segment's header. */
export function saltOf(dir: string): number {
  const buf = readFileSync(segmentPaths(dir)[0]!);
  const c = checkFrame(buf, 0, buf.length, 0);
  if (c.status !== 'ok' || c.record.type !== 'header') throw new Error(`no header in the first segment of ${dir}`);
  return c.record.salt;
}

/** Where the frame of the first record of `type` at `position` lives. */
export function findFrame(dir: string, type: string, position?: number): { path: string; offset: number; end: number } {
  const salt = saltOf(dir);
  for (const path of segmentPaths(dir)) {
    const buf = readFileSync(path);
    for (const it of scanFrames(buf, buf.length, salt)) {
      if (it.kind !== 'frame' || it.record.type !== type) continue;
      if (position !== undefined && (it.record as { position?: number }).position !== position) continue;
      return { path, offset: it.offset, end: it.end };
    }
  }
  throw new Error(`no ${type} record for position ${String(position)}`);
}

/** Flips one bit of the byte at `offset` of the file. */
export function flipBit(path: string, offset: number, bit = 0): void {
  const buf = readFileSync(path);
  buf[offset] = buf[offset]! ^ (1 << bit);
  writeFileSync(path, buf);
}
