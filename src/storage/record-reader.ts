/**
 * Reading one position's action back from its segment (StoreView.action is
 * synchronous, so this uses readSync). The frame is checked again on every
 * read: bytes that rotted since start-up are caught here, never served.
 */
import type { Action, Position } from '../core/types.js';
import { readFullySync, type FileLayer } from './file-layer.js';
import { checkActionFrame, checkFrame, FRAME_HEADER_BYTES, FRAME_PAYLOAD_MAX } from './record-codec.js';
import { locationOffset, locationSegment, type Segment } from './segment.js';

/**
 * Reads and checks the frame at packed location `loc` of `segments` (live,
 * consecutive ids); returns the action, or a string saying why it could not.
 * Never throws: a read error is one more reason.
 */
export function readAction(layer: FileLayer, segments: readonly Segment[], position: Position, loc: number, salt: number): Action | string {
  const seg = segmentOf(segments, loc);
  if (seg === undefined) return `segment ${locationSegment(loc)} is gone`;
  const offset = locationOffset(loc);
  try {
    const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    if (readFullySync(layer, seg.fd, head, FRAME_HEADER_BYTES, offset) < FRAME_HEADER_BYTES) return 'frame cut short';
    const payloadBytes = head.readUInt32LE(0);
    if (payloadBytes > FRAME_PAYLOAD_MAX) return 'bad frame length';
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
    const n = readFullySync(layer, seg.fd, frame, frame.length, offset);
    return actionOfFrame(frame, 0, n, position, salt);
  } catch (e) {
    return `read failed: ${String(e)}`;
  }
}

/** The live segment a packed location points into, if it still exists (ids ascend; a damaged directory may miss some). */
export function segmentOf(segments: readonly Segment[], loc: number): Segment | undefined {
  const id = locationSegment(loc);
  const first = segments[0];
  if (first === undefined) return undefined;
  const guess = segments[id - first.id];
  if (guess?.id === id) return guess;
  let lo = 0;
  let hi = segments.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = segments[mid]!;
    if (m.id === id) return m;
    if (m.id < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Checks the frame at `offset` of `buf` (valid bytes end at `size`) and returns its action for `position`, or why not. */
export function actionOfFrame(buf: Buffer, offset: number, size: number, position: Position, salt: number): Action | string {
  const c = checkFrame(buf, offset, size, salt);
  if (c.status !== 'ok') return 'checksum mismatch';
  const r = c.record;
  if ((r.type !== 'accept' && r.type !== 'learn') || r.position !== position) return "record is not this position's";
  // A plain copy: callers get a Uint8Array of their own, not a view of a read buffer.
  return r.action.kind === 'append' ? { kind: 'append', data: new Uint8Array(r.action.data) } : r.action;
}

/** A range read covers at most this many bytes of frame offsets (plus RANGE_TAIL_BYTES for the last frame). */
export const RANGE_SPAN_BYTES = 1024 * 1024;
/** Bytes read past the last frame's offset of a range: a frame longer than that is read on its own. */
export const RANGE_TAIL_BYTES = 64 * 1024;

/**
 * Reads the frames at packed locations `locs` (ascending offsets in one
 * segment, spanning at most RANGE_SPAN_BYTES) with one read, and checks each
 * as readAction does. A frame that does not fit in the read (a large entry)
 * is read on its own. Bytes at or past the segment's durable size are never
 * read. Never throws.
 */
export function readActionRange(layer: FileLayer, segments: readonly Segment[], positions: readonly Position[], locs: readonly number[], salt: number): (Action | string)[] {
  const seg = segmentOf(segments, locs[0]!);
  if (seg === undefined) return positions.map((p, i) => readAction(layer, segments, p, locs[i]!, salt));
  const start = locationOffset(locs[0]!);
  const last = locationOffset(locs[locs.length - 1]!);
  const length = Math.max(0, Math.min(seg.size, last + RANGE_TAIL_BYTES) - start);
  let buf: Buffer;
  let n: number;
  try {
    buf = Buffer.allocUnsafe(length);
    n = readFullySync(layer, seg.fd, buf, length, start);
  } catch {
    return positions.map((p, i) => readAction(layer, segments, p, locs[i]!, salt));
  }
  const out = new Array<Action | string>(positions.length);
  for (let i = 0; i < positions.length; i++) {
    const at = locationOffset(locs[i]!) - start;
    const fits = at + FRAME_HEADER_BYTES <= n && at + FRAME_HEADER_BYTES + buf.readUInt32LE(at) <= n;
    // The read buffer is this call's own: entry data are views of it, no copy (the slow path copies).
    out[i] = fits ? (checkActionFrame(buf, at, n, positions[i]!, salt) ?? actionOfFrame(buf, at, n, positions[i]!, salt)) : readAction(layer, segments, positions[i]!, locs[i]!, salt);
  }
  return out;
}
