/**
 * Scans the bytes of one segment into intact frames, frames whose entry bytes
 * are damaged (key still readable), and gaps of unreadable bytes.
 *
 * - A segment header counts only at offset 0 (its checksums are seeded with
 *   0); every other frame's checksums are seeded with the directory's salt,
 *   so entry bytes that hold frames (of another directory, or made to look
 *   like ours) do not check out.
 * - After a damaged region the scan looks for the next intact frame byte by
 *   byte. A candidate must pass cheap filters (a known type byte, a length
 *   that fits) and then the key checksum, so the search costs a few
 *   operations per byte, not a checksum of the rest of the file.
 * - A gap is then tried as exactly one frame filling it (its length field
 *   read as the gap's size): the key checksum covers the length, so this
 *   holds only for a frame whose length field alone rotted; it is kept as a
 *   frame (`lengthDamaged`), its record known.
 */
import { checkFrame, FRAME_HEADER_BYTES, type DiskRecord, type FrameCheck } from './record-codec.js';

export type ScanItem =
  /**
   * A record; `dataLost` when only its entry bytes failed the checksum,
   * `lengthDamaged` when its length field did (found by trying a gap as one frame).
   */
  | { readonly kind: 'frame'; readonly offset: number; readonly end: number; readonly record: DiskRecord; readonly dataLost: boolean; readonly lengthDamaged: boolean }
  /** Bytes [offset, end) that hold no readable frame. */
  | { readonly kind: 'gap'; readonly offset: number; readonly end: number };

/** checkFrame, with headers counted only at offset 0. */
function frameAt(buf: Buffer, at: number, size: number, salt: number, assumedPayloadBytes?: number): FrameCheck {
  const c = checkFrame(buf, at, size, salt, assumedPayloadBytes);
  return c.status !== 'bad' && c.record.type === 'header' && at !== 0 ? { status: 'bad' } : c;
}

export function scanFrames(buf: Buffer, size: number, salt: number): ScanItem[] {
  const items: ScanItem[] = [];
  let at = 0;
  while (at < size) {
    const c = frameAt(buf, at, size, salt);
    if (c.status !== 'bad') {
      items.push({ kind: 'frame', offset: at, end: c.end, record: c.record, dataLost: c.status === 'dataLost', lengthDamaged: false });
      at = c.end;
      continue;
    }
    let next = at + 1;
    while (next < size && frameAt(buf, next, size, salt).status !== 'ok') next++;
    const whole = next - at - FRAME_HEADER_BYTES > 0 ? frameAt(buf, at, next, salt, next - at - FRAME_HEADER_BYTES) : c;
    if (whole.status !== 'bad') items.push({ kind: 'frame', offset: at, end: next, record: whole.record, dataLost: whole.status === 'dataLost', lengthDamaged: true });
    else items.push({ kind: 'gap', offset: at, end: next });
    at = next;
  }
  return items;
}

/**
 * True if the bytes [at, size) at the end of the last segment are the torn
 * tail of an interrupted write: all zeros (a size extended before its data
 * reached the disk), or the start of a frame whose own length field says it
 * runs past the end of the file. Anything else there (a complete frame that
 * fails its checksums) is corruption: it may hold a record that was durable
 * and revealed.
 */
export function isTornTail(buf: Buffer, at: number, size: number): boolean {
  if (size - at < 4) return true;
  if (at + FRAME_HEADER_BYTES + buf.readUInt32LE(at) > size) return true;
  for (let i = at; i < size; i++) if (buf[i] !== 0) return false;
  return true;
}
