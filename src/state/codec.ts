/**
 * The store's entries in the log, and its snapshot payload.
 *
 * Every state entry starts with the 4-byte magic `00 52 4C 53` ("\0RLS"),
 * then a format version byte (1) and a kind byte. Log entries without the
 * magic are not the store's (other data, future configuration entries) and
 * are skipped; an entry with the magic and an unknown version or kind, or
 * bytes that do not decode, fails loudly (StateFormatError): skipping it would
 * make this copy's state differ from the others'.
 *
 *   kind 1 TXN       compares, success ops, failure ops (a put/delete is a TXN)
 *   kind 2 CHUNK     one piece of a snapshot: id (8 bytes), revision R, seq,
 *                    total chunks, payload bytes, key count, digest (16 bytes),
 *                    then the piece; the payload is the state as of revision R
 *   kind 3 BARRIER   nothing: a linearizable read's proof that the writer
 *                    still held the log
 *
 * Integers are unsigned LEB128 varints (safe integers only); strings and byte
 * strings are a varint length then the bytes (UTF-8 for strings).
 *
 * Snapshot payload: for each key in key order: key, createRevision,
 * modRevision, version, value.
 */
import { StateFormatError } from './errors.js';
import type { Compare, CompareOp, KeyValue } from './types.js';

export const MAGIC = Uint8Array.of(0x00, 0x52, 0x4c, 0x53);
export const FORMAT_VERSION = 1;

/** A compare in its decoded, normalized form. */
export type WireCompare =
  | { readonly key: string; readonly op: CompareOp; readonly target: 'mod' | 'create' | 'version'; readonly number: number }
  | { readonly key: string; readonly op: CompareOp; readonly target: 'value'; readonly bytes: Uint8Array };

export type WireOp =
  | { readonly kind: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'get'; readonly key: string };

export interface WireTxn {
  readonly compare: readonly WireCompare[];
  readonly success: readonly WireOp[];
  readonly failure: readonly WireOp[];
}

export interface WireChunk {
  /** 16 hex digits, unique per snapshot. */
  readonly id: string;
  /** The state in the payload is the state after every entry at or below this position. */
  readonly revision: number;
  readonly seq: number;
  readonly total: number;
  readonly payloadBytes: number;
  readonly keys: number;
  readonly digest: Uint8Array;
  readonly data: Uint8Array;
}

export type StateEntry = { readonly kind: 'txn'; readonly txn: WireTxn } | { readonly kind: 'chunk'; readonly chunk: WireChunk } | { readonly kind: 'barrier' };

const KIND = { txn: 1, chunk: 2, barrier: 3 } as const;
const TARGETS = ['mod', 'create', 'version', 'value'] as const;
const OPS: readonly CompareOp[] = ['=', '!=', '<', '>'];
const OP_KINDS = ['put', 'delete', 'get'] as const;

// ------------------------------------------------------------------ writing

/** A growable byte buffer. */
export class ByteWriter {
  private buf: Buffer;
  private len = 0;
  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  u8(n: number): this {
    this.room(1);
    this.buf[this.len++] = n;
    return this;
  }
  uint(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a non-negative safe integer: ${n}`);
    this.room(8);
    while (n >= 0x80) {
      this.buf[this.len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.len++] = n;
    return this;
  }
  raw(b: Uint8Array): this {
    this.room(b.byteLength);
    this.buf.set(b, this.len);
    this.len += b.byteLength;
    return this;
  }
  bytes(b: Uint8Array): this {
    return this.uint(b.byteLength).raw(b);
  }
  str(s: string): this {
    return this.bytes(Buffer.from(s, 'utf8'));
  }
  get length(): number {
    return this.len;
  }
  /** The bytes written (a view, not a copy). */
  done(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

function header(kind: number, w = new ByteWriter()): ByteWriter {
  return w.raw(MAGIC).u8(FORMAT_VERSION).u8(kind);
}

export function encodeTxn(txn: WireTxn): Buffer {
  const w = header(KIND.txn);
  w.uint(txn.compare.length);
  for (const c of txn.compare) {
    w.str(c.key).u8(TARGETS.indexOf(c.target)).u8(OPS.indexOf(c.op));
    if (c.target === 'value') w.bytes(c.bytes);
    else w.uint(c.number);
  }
  for (const ops of [txn.success, txn.failure]) {
    w.uint(ops.length);
    for (const op of ops) {
      w.u8(OP_KINDS.indexOf(op.kind)).str(op.key);
      if (op.kind === 'put') w.bytes(op.value);
    }
  }
  return w.done();
}

export function encodeChunk(c: WireChunk): Buffer {
  const w = header(KIND.chunk, new ByteWriter(c.data.byteLength + 64));
  w.raw(Buffer.from(c.id, 'hex')).uint(c.revision).uint(c.seq).uint(c.total).uint(c.payloadBytes).uint(c.keys).raw(c.digest);
  return w.raw(c.data).done();
}

export function encodeBarrier(): Buffer {
  return header(KIND.barrier).done();
}

// ------------------------------------------------------------------ reading

/** Reads what ByteWriter wrote; every overrun or malformed field throws StateFormatError. */
export class ByteReader {
  private at = 0;
  constructor(private readonly buf: Uint8Array) {}
  private need(n: number): void {
    if (this.at + n > this.buf.byteLength) throw new StateFormatError(`a state entry ends early (needs ${n} bytes at ${this.at} of ${this.buf.byteLength})`);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.at++]!;
  }
  uint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      n += (b & 0x7f) * scale;
      if (!Number.isSafeInteger(n)) throw new StateFormatError('a state entry holds a number beyond the safe integers');
      if ((b & 0x80) === 0) return n;
      scale *= 0x80;
    }
  }
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  bytes(): Uint8Array {
    return this.raw(this.uint());
  }
  str(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }
  rest(): Uint8Array {
    return this.raw(this.buf.byteLength - this.at);
  }
  get remaining(): number {
    return this.buf.byteLength - this.at;
  }
}

/** Whether a log entry is one of the store's (starts with the magic). */
export function isStateEntry(data: Uint8Array): boolean {
  return data.byteLength >= MAGIC.byteLength && MAGIC.every((b, i) => data[i] === b);
}

/** Decodes one of the store's entries; `undefined` for an entry that is not the store's. */
export function decodeEntry(data: Uint8Array): StateEntry | undefined {
  if (!isStateEntry(data)) return undefined;
  const r = new ByteReader(data);
  r.raw(MAGIC.byteLength);
  const version = r.u8();
  if (version !== FORMAT_VERSION) throw new StateFormatError(`a state entry has format version ${version}; this replog reads version ${FORMAT_VERSION}: upgrade it`);
  const kind = r.u8();
  switch (kind) {
    case KIND.txn:
      return { kind: 'txn', txn: decodeTxn(r) };
    case KIND.chunk:
      return { kind: 'chunk', chunk: decodeChunk(r) };
    case KIND.barrier:
      return { kind: 'barrier' };
    default:
      throw new StateFormatError(`a state entry has an unknown kind ${kind}`);
  }
}

function decodeTxn(r: ByteReader): WireTxn {
  const compare: WireCompare[] = [];
  for (let n = r.uint(); n > 0; n--) {
    const key = r.str();
    const target = TARGETS[r.u8()];
    const op = OPS[r.u8()];
    if (target === undefined || op === undefined) throw new StateFormatError('a state entry has an unknown compare');
    compare.push(target === 'value' ? { key, op, target, bytes: r.bytes() } : { key, op, target, number: r.uint() });
  }
  const branches: WireOp[][] = [[], []];
  for (const ops of branches) {
    for (let n = r.uint(); n > 0; n--) {
      const kind = OP_KINDS[r.u8()];
      const key = r.str();
      if (kind === undefined) throw new StateFormatError('a state entry has an unknown operation');
      ops.push(kind === 'put' ? { kind, key, value: r.bytes() } : { kind, key });
    }
  }
  if (r.remaining !== 0) throw new StateFormatError('a state entry has trailing bytes');
  return { compare, success: branches[0]!, failure: branches[1]! };
}

function decodeChunk(r: ByteReader): WireChunk {
  const id = Buffer.from(r.raw(8)).toString('hex');
  const revision = r.uint();
  const seq = r.uint();
  const total = r.uint();
  const payloadBytes = r.uint();
  const keys = r.uint();
  const digest = r.raw(16);
  const data = r.rest();
  if (seq >= total) throw new StateFormatError(`a snapshot chunk has seq ${seq} of ${total}`);
  return { id, revision, seq, total, payloadBytes, keys, digest, data };
}

// ------------------------------------------------------------------ public forms to wire forms

export function toBytes(v: Uint8Array | string): Uint8Array {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return v;
  throw new TypeError('a value must be a Uint8Array or a string');
}

export function wireCompare(c: Compare): WireCompare {
  const op = c.op ?? '=';
  if (!OPS.includes(op)) throw new TypeError(`unknown compare op '${String(op)}'`);
  if ('modRevision' in c) return { key: c.key, op, target: 'mod', number: c.modRevision };
  if ('createRevision' in c) return { key: c.key, op, target: 'create', number: c.createRevision };
  if ('version' in c) return { key: c.key, op, target: 'version', number: c.version };
  if ('value' in c) return { key: c.key, op, target: 'value', bytes: toBytes(c.value) };
  throw new TypeError(`a compare on '${String((c as { key: unknown }).key)}' names none of modRevision, createRevision, version, value`);
}

// ------------------------------------------------------------------ snapshot payload

export function encodeSnapshotPayload(kvs: Iterable<KeyValue>): Buffer {
  const w = new ByteWriter(1 << 16);
  for (const kv of kvs) w.str(kv.key).uint(kv.createRevision).uint(kv.modRevision).uint(kv.version).bytes(kv.value);
  return w.done();
}

export function decodeSnapshotPayload(payload: Uint8Array): KeyValue[] {
  const r = new ByteReader(payload);
  const out: KeyValue[] = [];
  while (r.remaining > 0) {
    const key = r.str();
    const createRevision = r.uint();
    const modRevision = r.uint();
    const version = r.uint();
    // A copy: the payload buffer is large and transient.
    const value = Uint8Array.prototype.slice.call(r.bytes());
    out.push({ key, createRevision, modRevision, version, value });
  }
  return out;
}
