/**
 * How a Metadata object is stored (in metadata records and segment headers):
 *
 *   status:u8  promised:f64  incarnation:str  extraBytes:u32  extra[extraBytes]
 *
 * `extra` is a JSON object of every other field of the metadata (today
 * `generation` and `memberGenerations`), or nothing (extraBytes 0) when there
 * is none. The core owns Metadata and adds fields to it; storage keeps any
 * JSON-serialisable field without knowing it, so a new field needs no change
 * here. The fixed fields stay binary: replay and the checks read them.
 *
 * Two JSON fields are checked, because membership is decided from them:
 * `clusterId` and `configs`, the chain of configurations
 * (docs/reconfiguration.md, R11 and R14; config-codec.ts says what is
 * valid). A bad one fails an assertion at encode, and makes the record
 * unreadable at decode, as a bad fixed field does. A directory written before
 * them has neither; stored-config.ts reads it as before.
 *
 * A field whose value is `undefined` is absent (as JSON has it); any value
 * JSON would not give back exactly (a function, a bigint, NaN, an undefined
 * array element, a class instance) is a programmer error and fails an
 * assertion at encode. The JSON is parsed only after the record's key
 * checksum held, and must be an object that does not name a fixed field.
 */
import { assert, isNat } from '../core/assert.js';
import type { Metadata, Status } from '../core/types.js';
import { Malformed, STRING_BYTES_MAX, type Reader, type Writer } from './codec-io.js';
import { chainFieldsProblem } from './config-codec.js';

/** Most bytes the JSON of the non-fixed fields may take (so a key stays small enough to scan for). */
export const METADATA_EXTRA_BYTES_MAX = 64 * 1024;

const STATUSES: readonly Status[] = ['VOTING', 'RECOVERING', 'STARTING', 'EMPTY'];
const FIXED_FIELDS = new Set(['status', 'promised', 'incarnation']);
const EMPTY = Buffer.alloc(0);

/** A metadata object checked and turned into the bytes it is written as. */
export interface MetadataParts {
  readonly status: number;
  readonly promised: number;
  readonly incarnation: Buffer;
  /** The JSON of the other fields; empty if there are none. */
  readonly extra: Buffer;
  /** Bytes writeMetadata writes. */
  readonly bytes: number;
}

/** Bytes of the fixed part for an incarnation of `incarnationBytes` bytes (the extra JSON's length prefix included). */
export function metadataFixedBytes(incarnationBytes: number): number {
  return 1 + 8 + 1 + incarnationBytes + 4;
}

export function prepareMetadata(m: Metadata): MetadataParts {
  const status = STATUSES.indexOf(m.status);
  assert(status >= 0, `unknown status ${String(m.status)}`);
  assert(isNat(m.promised), `promised ${m.promised} is not a safe non-negative integer`);
  const incarnation = Buffer.from(m.incarnation, 'utf8');
  assert(incarnation.length <= STRING_BYTES_MAX, 'incarnation too long');
  const badChain = chainFieldsProblem(m);
  assert(badChain === undefined, `metadata: ${badChain}`);
  const others: Record<string, unknown> = {};
  let n = 0;
  for (const [k, v] of Object.entries(m)) {
    if (FIXED_FIELDS.has(k) || v === undefined) continue;
    assertJson(v, `metadata.${k}`);
    others[k] = v;
    n++;
  }
  const extra = n === 0 ? EMPTY : Buffer.from(JSON.stringify(others), 'utf8');
  assert(extra.length <= METADATA_EXTRA_BYTES_MAX, `metadata fields take ${extra.length} bytes of JSON, more than ${METADATA_EXTRA_BYTES_MAX}`);
  return { status, promised: m.promised, incarnation, extra, bytes: metadataFixedBytes(incarnation.length) + extra.length };
}

export function writeMetadata(w: Writer, p: MetadataParts): void {
  w.u8(p.status);
  w.num(p.promised);
  w.str(p.incarnation);
  w.u32(p.extra.length);
  w.bytes(p.extra);
}

/**
 * Reads the fixed fields and the bounds of the JSON; returns a function that
 * parses the JSON and builds the metadata (it throws Malformed), to be called
 * only once the key checksum held.
 */
export function parseMetadata(r: Reader): () => Metadata {
  const status = STATUSES[r.u8()];
  if (status === undefined) throw new Malformed();
  const promised = r.nat();
  const incarnation = r.str();
  const extraBytes = r.u32();
  if (extraBytes > METADATA_EXTRA_BYTES_MAX) throw new Malformed();
  const extra = r.bytes(extraBytes);
  return () => {
    if (extraBytes === 0) return { status, promised, incarnation };
    let others: unknown;
    try {
      others = JSON.parse(extra.toString('utf8'));
    } catch {
      throw new Malformed();
    }
    if (typeof others !== 'object' || others === null || Array.isArray(others)) throw new Malformed();
    for (const k of Object.keys(others)) if (FIXED_FIELDS.has(k)) throw new Malformed();
    if (chainFieldsProblem(others) !== undefined) throw new Malformed();
    return { ...(others as object), status, promised, incarnation };
  };
}

/** Asserts that JSON gives `v` back exactly (undefined object fields count as absent). */
function assertJson(v: unknown, path: string): void {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      assert(Number.isFinite(v), `${path} is ${v}: not JSON`);
      return;
    case 'object': {
      if (v === null) return;
      if (Array.isArray(v)) {
        v.forEach((e, i) => {
          assert(e !== undefined, `${path}[${i}] is undefined: not JSON`);
          assertJson(e, `${path}[${i}]`);
        });
        return;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      assert(proto === Object.prototype || proto === null, `${path} is not a plain object`);
      for (const [k, e] of Object.entries(v)) if (e !== undefined) assertJson(e, `${path}.${k}`);
      return;
    }
    default:
      assert(false, `${path} is a ${typeof v}: not JSON`);
  }
}
