/**
 * Reads the primitive field types of docs/wire.md from an untrusted payload.
 * Every read checks bounds and ranges and throws WireError: the values it
 * returns can be trusted by the code behind it.
 */
import { limits } from '../core/constants.js';
import { WireError } from './errors.js';
import { wireLimits } from './limits.js';

const TWO_32 = 2 ** 32;
/** The high word of the largest safe integer (2^53 - 1). */
const SAFE_HIGH_MAX = 0x1fffff;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class WireReader {
  offset: number;

  constructor(
    readonly buf: Buffer,
    offset = 0,
  ) {
    this.offset = offset;
  }

  private need(n: number, what: string): void {
    if (this.buf.length - this.offset < n) {
      throw new WireError('truncated', `payload ends inside ${what} at byte ${this.offset}`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.offset++]!;
  }

  u32(what: string): number {
    this.need(4, what);
    const n = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return n;
  }

  /** A non-negative safe integer (position, proposal, rid). */
  u64(what: string): number {
    this.need(8, what);
    const lo = this.buf.readUInt32LE(this.offset);
    const hi = this.buf.readUInt32LE(this.offset + 4);
    if (hi > SAFE_HIGH_MAX) throw new WireError('bad-value', `${what} is not a safe integer`);
    this.offset += 8;
    return hi * TWO_32 + lo;
  }

  /** A safe integer >= -1 (a position, or -1 meaning none). */
  pos(what: string): number {
    this.need(8, what);
    const lo = this.buf.readUInt32LE(this.offset);
    const hi = this.buf.readInt32LE(this.offset + 4);
    const n = hi * TWO_32 + lo;
    if (!Number.isSafeInteger(n) || n < -1) throw new WireError('bad-value', `${what} must be a safe integer >= -1`);
    this.offset += 8;
    return n;
  }

  /** A position: a non-negative integer at most limits.positionMax (no message may point past it). */
  position(what: string): number {
    return this.atMost(this.u64(what), limits.positionMax, what);
  }

  /** A position or -1 (none), at most limits.positionMax. */
  positionOrNone(what: string): number {
    return this.atMost(this.pos(what), limits.positionMax, what);
  }

  /** A proposal or generation number, at most limits.proposalMax (so that one above it always exists). */
  proposal(what: string): number {
    return this.atMost(this.u64(what), limits.proposalMax, what);
  }

  private atMost(n: number, max: number, what: string): number {
    if (n > max) throw new WireError('bad-value', `${what} ${n} is above the sanity bound ${max}`);
    return n;
  }

  bool(what: string): boolean {
    const b = this.u8(what);
    if (b > 1) throw new WireError('bad-value', `${what} must be 0 or 1, got ${b}`);
    return b === 1;
  }

  /** An array length: at most `max`, and at most the bytes left (every element takes at least `minBytes`). */
  count(what: string, minBytes: number, max: number = wireLimits.arrayLengthMax): number {
    const n = this.u32(what);
    if (n > max) throw new WireError('oversized', `${what} ${n} > ${max}`);
    if (n * minBytes > this.buf.length - this.offset) {
      throw new WireError('truncated', `${what} ${n} does not fit in the ${this.buf.length - this.offset} bytes left`);
    }
    return n;
  }

  /** Length-prefixed raw bytes, returned as a view of the payload (no copy). */
  bytes(what: string, maxBytes: number): Buffer {
    const n = this.u32(what);
    if (n > maxBytes) throw new WireError('oversized', `${what} is ${n} bytes > ${maxBytes}`);
    this.need(n, what);
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }

  /** Like bytes(), as a plain Uint8Array view (one object, no copy). */
  view(what: string, maxBytes: number): Uint8Array {
    const n = this.u32(what);
    if (n > maxBytes) throw new WireError('oversized', `${what} is ${n} bytes > ${maxBytes}`);
    this.need(n, what);
    const v = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.offset, n);
    this.offset += n;
    return v;
  }

  /** A u8-length-prefixed UTF-8 string (valid UTF-8, at most 255 bytes). */
  shortString(what: string): string {
    const n = this.u8(what);
    this.need(n, what);
    let s: string;
    try {
      s = utf8.decode(this.buf.subarray(this.offset, this.offset + n));
    } catch {
      throw new WireError('bad-value', `${what} is not valid UTF-8`);
    }
    this.offset += n;
    return s;
  }

  /** The payload must end exactly after the last field. */
  end(what: string): void {
    if (this.offset !== this.buf.length) {
      throw new WireError('trailing-bytes', `${this.buf.length - this.offset} bytes after the end of ${what}`);
    }
  }
}
