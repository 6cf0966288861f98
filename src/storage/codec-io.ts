/**
 * The byte-level reader and writer the record codecs share. Numbers are
 * float64 LE (exact for every safe integer; the reader checks that they are
 * non-negative safe integers), strings a u8 length and UTF-8, lengths u32 LE.
 */
import { isNat } from '../core/assert.js';

/** A string field (incarnation, cluster id) holds at most this many UTF-8 bytes. */
export const STRING_BYTES_MAX = 255;

/** Thrown inside a parser on any malformed field; the codec turns it into "unreadable", it never escapes. */
export class Malformed extends Error {}

export class Writer {
  constructor(
    private readonly buf: Buffer,
    public at: number,
  ) {}
  u8(n: number): void {
    this.buf[this.at++] = n;
  }
  u32(n: number): void {
    this.buf.writeUInt32LE(n, this.at);
    this.at += 4;
  }
  num(n: number): void {
    this.buf.writeDoubleLE(n, this.at);
    this.at += 8;
  }
  /** A string field: u8 length, then its bytes (at most STRING_BYTES_MAX, checked by the caller). */
  str(s: Uint8Array): void {
    this.u8(s.length);
    this.bytes(s);
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.at);
    this.at += b.length;
  }
}

export class Reader {
  at = 0;
  constructor(private readonly buf: Buffer) {}
  u8(): number {
    if (this.at + 1 > this.buf.length) throw new Malformed();
    return this.buf[this.at++]!;
  }
  u32(): number {
    if (this.at + 4 > this.buf.length) throw new Malformed();
    const n = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return n;
  }
  /** A non-negative safe integer. */
  nat(): number {
    if (this.at + 8 > this.buf.length) throw new Malformed();
    const n = this.buf.readDoubleLE(this.at);
    this.at += 8;
    if (!isNat(n)) throw new Malformed();
    return n;
  }
  str(): string {
    const len = this.u8();
    return this.bytes(len).toString('utf8');
  }
  /** The next `len` bytes, as a view. */
  bytes(len: number): Buffer {
    if (this.at + len > this.buf.length) throw new Malformed();
    const b = this.buf.subarray(this.at, this.at + len);
    this.at += len;
    return b;
  }
}
