/**
 * Scans the bytes of one segment into intact frames, frames whose entry bytes
 * are damaged (key still readable), and gaps of unreadable bytes.
 *
 * After a damaged region the scan looks for the next intact frame byte by
 * byte. A candidate must pass cheap filters (a known type byte, a length that
 * fits) and then the key checksum, so the search costs a few operations per
 * byte, not a checksum of the rest of the file.
 */
import { checkFrame, type DiskRecord } from './record-codec.js';

export type ScanItem =
  /** A record; `dataLost` when only its entry bytes failed the checksum. */
  | { readonly kind: 'frame'; readonly offset: number; readonly end: number; readonly record: DiskRecord; readonly dataLost: boolean }
  /** Bytes [offset, end) that hold no readable frame. */
  | { readonly kind: 'gap'; readonly offset: number; readonly end: number };

export function scanFrames(buf: Buffer, size: number): ScanItem[] {
  const items: ScanItem[] = [];
  let at = 0;
  while (at < size) {
    const c = checkFrame(buf, at, size);
    if (c.status !== 'bad') {
      items.push({ kind: 'frame', offset: at, end: c.end, record: c.record, dataLost: c.status === 'dataLost' });
      at = c.end;
      continue;
    }
    let next = at + 1;
    while (next < size && checkFrame(buf, next, size).status !== 'ok') next++;
    items.push({ kind: 'gap', offset: at, end: next });
    at = next;
  }
  return items;
}

/** The offset just past the last intact frame: in the last segment, everything after it is a torn tail. */
export function endOfLastIntactFrame(items: readonly ScanItem[]): number {
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i]!;
    if (it.kind === 'frame' && !it.dataLost) return it.end;
  }
  return 0;
}
