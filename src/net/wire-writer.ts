/**
 * Writes the primitive field types of docs/wire.md into a buffer sized in
 * advance (the codec computes the exact size first, so encoding allocates
 * once and never grows or copies). All integers are little-endian.
 * Writing a value outside its field type is a programmer error: asserted.
 */
import { assert } from '../core/assert.js';

const TWO_32 = 2 ** 32;

/** Bytes a shortString takes. */
export function shortStringSize(s: string): number {
  return 1 + Buffer.byteLength(s, 'utf8');
}

export class WireWriter {
  offset: number;

  constructor(
    readonly buf: Buffer,
    offset = 0,
  ) {
    this.offset = offset;
  }

  u8(n: number): void {
    this.buf[this.offset++] = n;
  }

  u32(n: number): void {
    if (!(Number.isInteger(n) && n >= 0 && n < TWO_32)) assert(false, `u32 out of range: ${n}`); // message built only on failure: this is the hot path
    this.buf.writeUInt32LE(n, this.offset);
    this.offset += 4;
  }

  /** u64 carrying a non-negative safe integer. */
  u64(n: number): void {
    if (!(Number.isSafeInteger(n) && n >= 0)) assert(false, `u64 field must be a non-negative safe integer, got ${n}`); // message built only on failure: this is the hot path
    this.buf.writeUInt32LE(n >>> 0, this.offset);
    this.buf.writeUInt32LE(Math.floor(n / TWO_32), this.offset + 4);
    this.offset += 8;
  }

  /** i64 carrying a safe integer >= -1 (a position or -1 for "none"). */
  pos(n: number): void {
    if (!(Number.isSafeInteger(n) && n >= -1)) assert(false, `position field must be a safe integer >= -1, got ${n}`); // message built only on failure: this is the hot path
    this.buf.writeUInt32LE(n >>> 0, this.offset);
    this.buf.writeInt32LE(Math.floor(n / TWO_32), this.offset + 4);
    this.offset += 8;
  }

  /** A u8-length-prefixed UTF-8 string (at most 255 bytes). */
  shortString(s: string): void {
    const b = Buffer.from(s, 'utf8');
    assert(b.length <= 255, `short string of ${b.length} bytes`);
    this.u8(b.length);
    this.buf.set(b, this.offset);
    this.offset += b.length;
  }

  /** Raw bytes, length written before them as u32. */
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.buf.set(b, this.offset);
    this.offset += b.length;
  }
}
