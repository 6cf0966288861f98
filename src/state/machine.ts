/**
 * The state machine: the keys as of one log position, and the deterministic
 * rule that applies an entry to them. Every copy of the store (the writer's,
 * followers', each watch's replay) applies the same entries in position order
 * with this code, so all compute the same results and the same digest.
 *
 * The digest is the XOR of a hash of each key's full record (key, revisions,
 * version, value): it changes with every write, is kept up to date in O(1) a
 * write, and two copies at the same revision have equal digests unless they
 * diverged. Snapshots carry it, so loading one checks its bytes.
 */
import { createHash } from 'node:crypto';
import { assert } from '../core/assert.js';
import type { WireCompare, WireOp, WireTxn } from './codec.js';
import { StateFormatError } from './errors.js';
import type { KeyValue, TxnResponse, TxnResult, WatchEvent } from './types.js';

interface Rec extends KeyValue {
  /** This record's share of the digest. */
  readonly hash: Buffer;
}

const DIGEST_BYTES = 16;

export class StateMachine {
  private readonly kvs = new Map<string, Rec>();
  private readonly digestBytes = Buffer.alloc(DIGEST_BYTES);
  /** Sum of key and value bytes (a snapshot's rough size). */
  liveBytes = 0;

  /** @param applied the position whose state this is (-1: before the log's first position). */
  constructor(public applied = -1) {}

  get size(): number {
    return this.kvs.size;
  }

  /** The state's digest, hex. */
  get digest(): string {
    return this.digestBytes.toString('hex');
  }

  get digestRaw(): Uint8Array {
    return Buffer.from(this.digestBytes);
  }

  get(key: string): KeyValue | undefined {
    const r = this.kvs.get(key);
    return r === undefined ? undefined : publicKv(r);
  }

  /** Keys starting with `prefix`, in key order. */
  range(prefix: string, limit = Infinity): KeyValue[] {
    const keys: string[] = [];
    for (const k of this.kvs.keys()) if (k.startsWith(prefix)) keys.push(k);
    keys.sort(compareKeys);
    return keys.slice(0, limit).map((k) => publicKv(this.kvs.get(k)!));
  }

  /** Every key, in key order (for a snapshot). */
  all(): KeyValue[] {
    return this.range('');
  }

  /** An independent copy (records are immutable and shared). */
  clone(): StateMachine {
    const m = new StateMachine(this.applied);
    for (const [k, r] of this.kvs) m.kvs.set(k, r);
    this.digestBytes.copy(m.digestBytes);
    m.liveBytes = this.liveBytes;
    return m;
  }

  /** Replaces the state with a snapshot's keys as of `revision`; throws StateFormatError if its digest does not match. */
  load(revision: number, kvs: readonly KeyValue[], digest: Uint8Array): void {
    this.kvs.clear();
    this.digestBytes.fill(0);
    this.liveBytes = 0;
    for (const kv of kvs) this.set(kv);
    if (!this.digestBytes.equals(digest)) throw new StateFormatError(`the snapshot at revision ${revision} does not match its digest: its chunks are corrupt`);
    this.applied = revision;
  }

  /** Marks a position whose entry changes nothing (not the store's, a chunk, a barrier). */
  skip(position: number): void {
    assert(position > this.applied, 'positions are applied in increasing order');
    this.applied = position;
  }

  /** Applies a transaction at `position`: its result and the changes it made. */
  applyTxn(position: number, txn: WireTxn): { result: TxnResult; events: WatchEvent[] } {
    assert(position > this.applied, 'positions are applied in increasing order');
    this.applied = position;
    const succeeded = txn.compare.every((c) => this.holds(c));
    const events: WatchEvent[] = [];
    const responses = (succeeded ? txn.success : txn.failure).map((op) => this.run(position, op, events));
    return { result: { succeeded, revision: position, responses }, events };
  }

  private holds(c: WireCompare): boolean {
    const kv = this.kvs.get(c.key);
    if (c.target === 'value') {
      if (kv === undefined) return false;
      return test(Buffer.compare(Buffer.from(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength), Buffer.from(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength)), c.op);
    }
    const actual = kv === undefined ? 0 : c.target === 'mod' ? kv.modRevision : c.target === 'create' ? kv.createRevision : kv.version;
    return test(actual - c.number, c.op);
  }

  private run(position: number, op: WireOp, events: WatchEvent[]): TxnResponse {
    const prev = this.kvs.get(op.key);
    switch (op.kind) {
      case 'get':
        return prev === undefined ? { type: 'get' } : { type: 'get', kv: publicKv(prev) };
      case 'put': {
        const kv: KeyValue = {
          key: op.key,
          value: op.value,
          createRevision: prev?.createRevision ?? position,
          modRevision: position,
          version: (prev?.version ?? 0) + 1,
        };
        this.set(kv);
        events.push(prev === undefined ? { type: 'put', kv } : { type: 'put', kv, prev: publicKv(prev) });
        return prev === undefined ? { type: 'put' } : { type: 'put', prev: publicKv(prev) };
      }
      case 'delete': {
        if (prev === undefined) return { type: 'delete', deleted: false };
        this.remove(prev);
        events.push({ type: 'delete', key: op.key, modRevision: position, prev: publicKv(prev) });
        return { type: 'delete', deleted: true, prev: publicKv(prev) };
      }
    }
  }

  private set(kv: KeyValue): void {
    const old = this.kvs.get(kv.key);
    if (old !== undefined) this.remove(old);
    const rec: Rec = { ...kv, hash: recordHash(kv) };
    this.kvs.set(kv.key, rec);
    xorInto(this.digestBytes, rec.hash);
    this.liveBytes += Buffer.byteLength(kv.key) + kv.value.byteLength;
  }

  private remove(rec: Rec): void {
    this.kvs.delete(rec.key);
    xorInto(this.digestBytes, rec.hash);
    this.liveBytes -= Buffer.byteLength(rec.key) + rec.value.byteLength;
  }
}

function test(cmp: number, op: WireCompare['op']): boolean {
  switch (op) {
    case '=':
      return cmp === 0;
    case '!=':
      return cmp !== 0;
    case '<':
      return cmp < 0;
    case '>':
      return cmp > 0;
  }
}

/** Key order: by UTF-16 code units, the same on every copy. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function publicKv(r: KeyValue): KeyValue {
  return { key: r.key, value: r.value, createRevision: r.createRevision, modRevision: r.modRevision, version: r.version };
}

function recordHash(kv: KeyValue): Buffer {
  const h = createHash('sha256');
  h.update(`${kv.key.length}:${kv.key}:${kv.createRevision}:${kv.modRevision}:${kv.version}:`);
  h.update(kv.value);
  return h.digest().subarray(0, DIGEST_BYTES);
}

function xorInto(acc: Buffer, h: Buffer): void {
  for (let i = 0; i < DIGEST_BYTES; i++) acc[i] = acc[i]! ^ h[i]!;
}
