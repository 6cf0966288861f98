/**
 * Framing: every frame is `[u32 little-endian payload length][payload]`, with
 * 1 <= length <= wireLimits.frameBytesMax. FrameDecoder cuts a byte stream
 * into payloads; a bad length is a WireError as soon as its 4 bytes arrive,
 * before anything is allocated for it.
 */
import { WireError } from './errors.js';
import { wireLimits } from './limits.js';

export const FRAME_HEADER_BYTES = 4;

/** Wraps a payload in a frame (one copy; the codec's encodeFrame avoids it for messages). */
export function frame(payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  buf.writeUInt32LE(payload.length, 0);
  buf.set(payload, FRAME_HEADER_BYTES);
  return buf;
}

export class FrameDecoder {
  /** Bytes of an incomplete frame, in arrival order; concatenated only once the frame is complete. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes needed before the pending frame can make progress: a header, or the whole frame once its header is known. */
  private needBytes = FRAME_HEADER_BYTES;

  /** Frames cut so far: the first one (the hello) has its own, far smaller bound. */
  private frames = 0;

  /**
   * `firstFrameBytesMax` bounds the first frame (a hello, wireLimits.helloBytesMax): a peer that has not
   * introduced itself cannot make us buffer a large frame.
   */
  constructor(
    readonly frameBytesMax: number = wireLimits.frameBytesMax,
    readonly firstFrameBytesMax: number = frameBytesMax,
  ) {}

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /**
   * Feeds a chunk; returns the payloads of the frames it completes, in order.
   * A payload is a view into the chunk (or into a concatenation when the frame
   * spanned chunks). Throws WireError on a bad length; the stream is then unusable.
   */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let buf = chunk;
    let off = 0;
    if (this.pendingBytes > 0) {
      const before = this.pendingBytes;
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.needBytes) return out;
      if (before >= FRAME_HEADER_BYTES) {
        // The pending frame's length is known (and was checked): only its own bytes are joined; the
        // frames after it are cut from the chunk in place (not copied once here and again as the next rest).
        const take = this.needBytes - before;
        this.pending[this.pending.length - 1] = chunk.subarray(0, take);
        out.push(Buffer.concat(this.pending, this.needBytes).subarray(FRAME_HEADER_BYTES));
        this.frames++;
        off = take;
      } else {
        buf = Buffer.concat(this.pending, this.pendingBytes);
      }
    }
    while (buf.length - off >= FRAME_HEADER_BYTES) {
      const len = this.checkLength(buf.readUInt32LE(off));
      if (buf.length - off - FRAME_HEADER_BYTES < len) break;
      out.push(buf.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len));
      this.frames++;
      off += FRAME_HEADER_BYTES + len;
    }
    this.keepRest(buf, off);
    return out;
  }

  private checkLength(len: number): number {
    if (len === 0) throw new WireError('bad-value', 'frame length 0 (a payload has at least a type byte)');
    const max = this.frames === 0 ? this.firstFrameBytesMax : this.frameBytesMax;
    if (len > max) throw new WireError('oversized', `${this.frames === 0 ? 'first frame (hello)' : 'frame'} length ${len} > ${max}`);
    return len;
  }

  private keepRest(buf: Buffer, off: number): void {
    if (off === buf.length) {
      this.pending = [];
      this.pendingBytes = 0;
      this.needBytes = FRAME_HEADER_BYTES;
      return;
    }
    const rest = buf.subarray(off);
    this.pending = [rest];
    this.pendingBytes = rest.length;
    this.needBytes = rest.length >= FRAME_HEADER_BYTES ? FRAME_HEADER_BYTES + rest.readUInt32LE(0) : FRAME_HEADER_BYTES;
  }
}
