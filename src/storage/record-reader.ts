/**
 * Reading one position's action back from its segment (StoreView.action is
 * synchronous, so this uses readSync). The frame is checked again on every
 * read: bytes that rotted since start-up are caught here, never served.
 */
import type { Action, Position } from '../core/types.js';
import { readFullySync, type FileLayer } from './file-layer.js';
import { checkFrame, FRAME_HEADER_BYTES, FRAME_PAYLOAD_MAX } from './record-codec.js';
import { locationOffset, locationSegment, type Segment } from './segment.js';

/**
 * Reads and checks the frame at packed location `loc` of `segments` (live,
 * consecutive ids); returns the action, or a string saying why it could not.
 * Never throws: a read error is one more reason.
 */
export function readAction(layer: FileLayer, segments: readonly Segment[], position: Position, loc: number): Action | string {
  const first = segments[0];
  const seg = first === undefined ? undefined : segments[locationSegment(loc) - first.id];
  if (seg === undefined) return `segment ${locationSegment(loc)} is gone`;
  const offset = locationOffset(loc);
  try {
    const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    if (readFullySync(layer, seg.fd, head, FRAME_HEADER_BYTES, offset) < FRAME_HEADER_BYTES) return 'frame cut short';
    const payloadBytes = head.readUInt32LE(0);
    if (payloadBytes > FRAME_PAYLOAD_MAX) return 'bad frame length';
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
    const n = readFullySync(layer, seg.fd, frame, frame.length, offset);
    const c = checkFrame(frame, 0, n);
    if (c.status !== 'ok') return 'checksum mismatch';
    const r = c.record;
    if ((r.type !== 'accept' && r.type !== 'learn') || r.position !== position) return "record is not this position's";
    // A plain copy: callers get a Uint8Array of their own, not a view of a read buffer.
    return r.action.kind === 'append' ? { kind: 'append', data: new Uint8Array(r.action.data) } : r.action;
  } catch (e) {
    return `read failed: ${String(e)}`;
  }
}
