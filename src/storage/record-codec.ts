/**
 * The on-disk encoding of records (the format is documented in docs/storage.md).
 *
 * Frame:   [payload length u32 LE][crc32c(payload) u32 LE][payload]
 * Payload: [key][keyCrc u32 LE][data]
 *   key    = the record type and every fixed field (positions, proposals,
 *            action kind, metadata) in a few bytes;
 *   keyCrc = crc32c(payload length bytes ++ key): a second, independent check
 *            so that a record whose entry bytes rotted still tells which
 *            position it was for (the position is then marked lost, not
 *            silently forgotten), and a corrupted length is detected;
 *   data   = the entry bytes of an append action, raw; empty otherwise.
 * Numbers (positions, proposals, replica ids) are float64 LE: exact for every
 * safe integer and validated as such on decode.
 *
 * Metadata (in metadata records and segment headers) is its fixed fields
 * (status, promised, incarnation) in binary, then every other field of the
 * object as one length-prefixed JSON object (metadata-codec.ts): the core adds
 * fields to Metadata without a change here.
 */
import { crc32c } from '@node-rs/crc32';
import { crc32cSmall } from './crc32c-js.js';
import { assert, isNat } from '../core/assert.js';
import { limits } from '../core/constants.js';
import type { Action, Metadata, PersistRecord } from '../core/types.js';
import { METADATA_EXTRA_BYTES_MAX, metadataFixedBytes, parseMetadata, prepareMetadata, writeMetadata, type MetadataParts } from './metadata-codec.js';
import { Malformed, Reader, STRING_BYTES_MAX, Writer } from './codec-io.js';
import { CONFIG_BYTES_MAX, prepareConfig, readConfig, writeConfig, type ConfigParts } from './config-codec.js';

/**
 * The first record of every segment file (and only there): who owns it, a
 * checkpoint of the state before it, and the link to the previous segment
 * that makes the chain of segments verifiable.
 */
export interface SegmentHeader {
  readonly type: 'header';
  /** The segment's number; equals the number in its file name. */
  readonly segmentId: number;
  /** The replica's id; 0 if the opener gave none. */
  readonly replicaId: number;
  /** The cluster's id; '' if the opener gave none. */
  readonly clusterId: string;
  /** The log's beginning when the segment was created: records below it in this segment and later were ignored. */
  readonly begin: number;
  /** The metadata in force when the segment was created (so older segments can be deleted). */
  readonly metadata: Metadata;
  /** The highest proposal any promise or accept record before this segment carried (so it survives their deletion). */
  readonly highestProposal: number;
  /** The previous segment's size when this one was created: where its seal goes (0 for segment 1). */
  readonly prevBytes: number;
  /** The frame checksum of the previous segment's last frame before its seal (0 if none). */
  readonly prevLastCrc: number;
  /** The highest position any record of the previous segment refers to; -1 if none (it may be deleted once begin passes it). */
  readonly prevMaxPosition: number;
  /** A random number drawn when the data directory was created, seeding every other frame's checksums. */
  readonly salt: number;
}

/**
 * The last record of a segment that a roll-over closed, written once the
 * next segment is durable: a last segment that is sealed lost its successor.
 */
export interface SegmentSeal {
  readonly type: 'seal';
  /** The segment that follows (this one's id + 1). */
  readonly nextSegmentId: number;
  /** The seal's own offset: the segment's size before it. */
  readonly bytesBefore: number;
  /** The frame checksum of the frame before the seal (0 if none). */
  readonly lastFrameCrc: number;
}

export type DiskRecord = PersistRecord | SegmentHeader | SegmentSeal;

export const FRAME_HEADER_BYTES = 8;
/** Most bytes a record's key (and its key checksum) takes: the fixed fields plus the metadata's JSON fields. */
export const KEY_BYTES_MAX = METADATA_EXTRA_BYTES_MAX + 1024;
/** Largest payload a frame may carry: the largest entry plus room for the key. */
export const FRAME_PAYLOAD_MAX = limits.entryBytesMax + KEY_BYTES_MAX;
export { STRING_BYTES_MAX };

// The key of the largest record (a segment header with two full strings and full JSON fields) fits in the slack.
assert(1 + 8 * 6 + 4 + 4 + (1 + STRING_BYTES_MAX) + metadataFixedBytes(STRING_BYTES_MAX) + METADATA_EXTRA_BYTES_MAX + 4 <= KEY_BYTES_MAX, 'key room');
// And so does a config record's (type, position, proposal, kind, the configuration).
assert(1 + 16 + 1 + CONFIG_BYTES_MAX + 4 <= KEY_BYTES_MAX, 'config key room');
assert(FRAME_PAYLOAD_MAX < 2 ** 32, 'a payload length fits in u32');

const T_METADATA = 1;
const T_PROMISE = 2;
const T_ACCEPT = 3;
const T_COMMIT = 4;
const T_LEARN = 5;
const T_HEADER = 6;
const T_SEAL = 7;
const T_LAST = T_SEAL;

const K_NOP = 0;
const K_TOMBSTONE = 1;
const K_APPEND = 2;
const K_TRUNCATE = 3;
/** A configuration (config-codec.ts) follows in the key. */
const K_CONFIG = 4;
/**
 * A truncate with the head of config(to) (R14): to, then the head's epoch and
 * position + 1 (stored numbers are non-negative; epoch 0 sits at -1). A
 * truncate without a head keeps K_TRUNCATE, so directories written before
 * heads existed read as they are.
 */
const K_TRUNCATE_HEAD = 5;

/**
 * Encodes one record as a complete frame. Both checksums of every frame but a
 * segment header are seeded with the data directory's `salt`, so that a frame
 * found inside an application's entry bytes (a log stored in the log, or
 * bytes made to look like a record) does not check out as one of ours.
 * Headers are seeded with 0 (they carry the salt) and count only at offset 0.
 */
export function encodeFrame(rec: DiskRecord, salt = 0): Buffer {
  // Config entries and truncates with a head are rare: they take the general path below (their value sits in the key).
  if (rec.type === 'accept' && hotAction(rec.action)) return encodeActionRecord(T_ACCEPT, rec.position, rec.proposal, rec.action, salt);
  if (rec.type === 'learn' && hotAction(rec.action)) return encodeActionRecord(T_LEARN, rec.position, undefined, rec.action, salt);
  const config = (rec.type === 'accept' || rec.type === 'learn') && rec.action.kind === 'config' ? prepareConfig(rec.action.config) : undefined;
  const seed = rec.type === 'header' ? 0 : salt;
  const data = EMPTY;
  const meta = rec.type === 'metadata' || rec.type === 'header' ? prepareMetadata(rec.metadata) : undefined;
  const clusterId = rec.type === 'header' ? stringBytes(rec.clusterId) : undefined;
  const keyBytes = keyLength(rec, meta, clusterId, config);
  const payloadBytes = keyBytes + 4 + data.length;
  assert(payloadBytes <= FRAME_PAYLOAD_MAX, `record of ${payloadBytes} bytes exceeds the frame limit`);
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
  buf.writeUInt32LE(payloadBytes, 0);
  const w = new Writer(buf, FRAME_HEADER_BYTES);
  writeKey(w, rec, meta, clusterId, config);
  assert(w.at === FRAME_HEADER_BYTES + keyBytes, 'key length');
  const keyCrc = crc32c(buf.subarray(FRAME_HEADER_BYTES, w.at), lengthCrc(buf, payloadBytes, seed));
  buf.writeUInt32LE(keyCrc, w.at);
  buf.set(data, w.at + 4);
  buf.writeUInt32LE(crc32c(buf.subarray(FRAME_HEADER_BYTES), seed), 4);
  return buf;
}

/** An action the hot path encodes: anything but a config entry or a truncate with a head. */
function hotAction(a: Action): a is Exclude<Action, { kind: 'config' }> {
  return a.kind !== 'config' && !(a.kind === 'truncate' && a.config !== undefined);
}

/**
 * The hot paths: one accept record per appended entry, one learn record per
 * entry a catch-up copies. The same bytes as the general encoder, without its
 * intermediate arrays and writer object. Key: type, position, the proposal
 * (accept only), the action kind, `to` for a truncate.
 */
function encodeActionRecord(type: number, position: number, proposal: number | undefined, action: Exclude<Action, { kind: 'config' }>, salt: number, headOnly = false): Buffer {
  const data = action.kind === 'append' ? action.data : EMPTY;
  const kindAt = FRAME_HEADER_BYTES + 1 + (proposal === undefined ? 8 : 16);
  const keyEnd = kindAt + 1 + (action.kind === 'truncate' ? 8 : 0);
  const keyBytes = keyEnd - FRAME_HEADER_BYTES;
  const payloadBytes = keyBytes + 4 + data.length;
  assert(payloadBytes <= FRAME_PAYLOAD_MAX, `record of ${payloadBytes} bytes exceeds the frame limit`);
  const buf = allocFrame(headOnly ? keyEnd + 4 : FRAME_HEADER_BYTES + payloadBytes);
  buf.writeUInt32LE(payloadBytes, 0);
  buf[FRAME_HEADER_BYTES] = type;
  buf.writeDoubleLE(position, FRAME_HEADER_BYTES + 1);
  if (proposal !== undefined) buf.writeDoubleLE(proposal, FRAME_HEADER_BYTES + 9);
  if (action.kind === 'append') buf[kindAt] = K_APPEND;
  else if (action.kind === 'nop') buf[kindAt] = action.tombstone === true ? K_TOMBSTONE : K_NOP;
  else {
    assert(action.config === undefined, 'a truncate with a head takes the general path');
    buf[kindAt] = K_TRUNCATE;
    buf.writeDoubleLE(action.to, kindAt + 1);
  }
  buf.writeUInt32LE(crc32cSmall(buf, FRAME_HEADER_BYTES, keyEnd, lengthCrc(buf, payloadBytes, salt)), keyEnd);
  if (headOnly) {
    // The payload's crc is the key's (and key crc's) continued over the entry bytes where they are.
    buf.writeUInt32LE(crc32c(data, crc32cSmall(buf, FRAME_HEADER_BYTES, keyEnd + 4, salt)), 4);
    return buf;
  }
  if (data.length > 0) buf.set(data, keyEnd + 4);
  buf.writeUInt32LE(crc32c(buf.subarray(FRAME_HEADER_BYTES), salt), 4);
  return buf;
}

/**
 * Entries at least this long are not copied into their record's frame: the
 * store writes the frame's head (length, checksum, key, key checksum) and
 * then the entry bytes where they already are (a view of the request that
 * brought them), as two parts of one pwritev; the bytes on disk are the same.
 * Copying 256 B cost more than the extra iovec (issue 21); shorter entries
 * are still copied (an iovec each is not worth it).
 */
export const SEPARATE_DATA_BYTES_MIN = 128;

/** The entry bytes a record's frame leaves out (encodeFrameHead), or undefined if encodeFrame encodes it whole. */
export function separateData(rec: DiskRecord): Uint8Array | undefined {
  if (rec.type !== 'accept' && rec.type !== 'learn') return undefined;
  const a = rec.action;
  return a.kind === 'append' && a.data.length >= SEPARATE_DATA_BYTES_MIN ? a.data : undefined;
}

/**
 * The frame of a record for which separateData() gave the entry bytes, without
 * them: encodeFrame(rec) is this followed by those bytes. The caller keeps the
 * bytes unchanged until they are written (the checksum covers them now).
 */
export function encodeFrameHead(rec: DiskRecord, salt = 0): Buffer {
  assert((rec.type === 'accept' || rec.type === 'learn') && rec.action.kind === 'append', 'only an append record has a separate entry');
  return encodeActionRecord(rec.type === 'accept' ? T_ACCEPT : T_LEARN, rec.position, rec.type === 'accept' ? rec.proposal : undefined, rec.action, salt, true);
}

/**
 * Frames of small records are carved from shared slabs: one allocation per
 * SLAB_BYTES instead of a new 8 KiB pool every few records (Buffer.allocUnsafe).
 * A frame is a view of its slab, never written again once encoded; a slab is
 * freed once every frame carved from it is (frames live until their batch is
 * durable).
 */
const SLAB_BYTES = 1024 * 1024;
const SLAB_FRAME_MAX = 16 * 1024;
let slab = Buffer.allocUnsafeSlow(0);
let slabAt = 0;
function allocFrame(bytes: number): Buffer {
  if (bytes > SLAB_FRAME_MAX) return Buffer.allocUnsafe(bytes);
  if (slabAt + bytes > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabAt = 0;
  }
  const b = slab.subarray(slabAt, slabAt + bytes);
  slabAt += (bytes + 7) & ~7;
  return b;
}

/** crc32c, seeded with `seed`, of the frame's 4 length bytes (at `offset` of `buf`); entries of one size share it. */
let lastLength = -1;
let lastSeed = 0;
let lastLengthCrc = 0;
function lengthCrc(buf: Buffer, payloadBytes: number, seed: number, offset = 0): number {
  if (payloadBytes !== lastLength || seed !== lastSeed) {
    lastLengthCrc = crc32cSmall(buf, offset, offset + 4, seed);
    lastLength = payloadBytes;
    lastSeed = seed;
  }
  return lastLengthCrc;
}

/**
 * What a frame at some offset turned out to be:
 * - ok: intact; `end` is the offset just past it.
 * - dataLost: the frame checksum failed but the key checksum held: the record
 *   is known except its entry bytes (`record` carries an empty placeholder).
 * - bad: nothing can be trusted, not even the length.
 */
export type FrameCheck =
  | { readonly status: 'ok'; readonly record: DiskRecord; readonly end: number }
  | { readonly status: 'dataLost'; readonly record: DiskRecord; readonly end: number }
  | { readonly status: 'bad' };

const BAD: FrameCheck = { status: 'bad' };

/**
 * Checks and decodes the frame at `offset` of `buf` (whose valid bytes end at
 * `size`), with checksums seeded by `salt` (a header's by 0). With
 * `payloadBytes` given, the frame is read as if its length field said so
 * (the key checksum covers the length: it holds only for the true one).
 */
export function checkFrame(buf: Buffer, offset: number, size: number, salt = 0, payloadBytesAssumed?: number): FrameCheck {
  if (offset + FRAME_HEADER_BYTES + 5 > size) return BAD;
  const payloadBytes = payloadBytesAssumed ?? buf.readUInt32LE(offset);
  const typeByte = buf[offset + FRAME_HEADER_BYTES]!;
  if (payloadBytes < 5 || payloadBytes > FRAME_PAYLOAD_MAX || typeByte < T_METADATA || typeByte > T_LAST) return BAD;
  const seed = typeByte === T_HEADER ? 0 : salt;
  const start = offset + FRAME_HEADER_BYTES;
  const end = start + payloadBytes;
  if (end > size) return BAD;
  const payload = buf.subarray(start, end);
  // The small key checksum first: scanning for the next frame after damage
  // calls this at every byte, and must not checksum megabytes each time.
  const key = parseKey(payload);
  if (key === undefined) return BAD;
  const lenBytes = Buffer.allocUnsafe(4);
  lenBytes.writeUInt32LE(payloadBytes, 0);
  const keyOk = crc32c(payload.subarray(0, key.keyBytes), crc32cSmall(lenBytes, 0, 4, seed)) === payload.readUInt32LE(key.keyBytes);
  if (!keyOk) return BAD;
  const data = payload.subarray(key.keyBytes + 4);
  if (!key.hasData && data.length !== 0) return BAD;
  const whole = crc32c(payload, seed) === buf.readUInt32LE(offset + 4);
  let record: DiskRecord;
  try {
    // Metadata's JSON fields are parsed here, only once the key checksum held.
    record = key.build(whole ? data : EMPTY);
  } catch (e) {
    if (e instanceof Malformed) return BAD;
    throw e;
  }
  return { status: whole || !key.hasData ? 'ok' : 'dataLost', record, end };
}

/**
 * checkFrame for the frame of an accept or learn record at `position`, the
 * catch-up's read path: the same checks (length, key checksum, fields, frame
 * checksum), without building the record. Returns the action (append data is
 * a view of `buf`), or undefined if the frame is anything else or damaged in
 * any way (the caller then asks checkFrame, which says what); config entries,
 * rare, take that path too.
 */
export function checkActionFrame(buf: Buffer, offset: number, size: number, position: number, salt: number): Action | undefined {
  if (offset + FRAME_HEADER_BYTES + 5 > size) return undefined;
  const payloadBytes = buf.readUInt32LE(offset);
  const start = offset + FRAME_HEADER_BYTES;
  const end = start + payloadBytes;
  if (payloadBytes > FRAME_PAYLOAD_MAX || end > size) return undefined;
  const type = buf[start]!;
  let at: number;
  if (type === T_ACCEPT) {
    if (payloadBytes < 1 + 16 + 1 + 4) return undefined;
    const proposal = buf.readDoubleLE(start + 9);
    if (!isNat(proposal) || proposal === 0) return undefined;
    at = start + 17;
  } else if (type === T_LEARN) {
    if (payloadBytes < 1 + 8 + 1 + 4) return undefined;
    at = start + 9;
  } else return undefined;
  if (buf.readDoubleLE(start + 1) !== position) return undefined;
  const kind = buf[at++]!;
  let action: Action;
  if (kind === K_TRUNCATE) {
    if (at + 8 + 4 > end) return undefined;
    const to = buf.readDoubleLE(at);
    if (!isNat(to)) return undefined;
    at += 8;
    action = { kind: 'truncate', to };
  } else if (kind === K_NOP) action = { kind: 'nop' };
  else if (kind === K_TOMBSTONE) action = { kind: 'nop', tombstone: true };
  else if (kind === K_APPEND) action = { kind: 'append', data: EMPTY };
  else return undefined;
  if (at + 4 > end) return undefined;
  if (crc32cSmall(buf, start, at, lengthCrc(buf, payloadBytes, salt, offset)) !== buf.readUInt32LE(at)) return undefined;
  const dataStart = at + 4;
  if (kind !== K_APPEND && dataStart !== end) return undefined;
  if (crc32c(buf.subarray(start, end), salt) !== buf.readUInt32LE(offset + 4)) return undefined;
  return kind === K_APPEND ? { kind: 'append', data: new Uint8Array(buf.buffer, buf.byteOffset + dataStart, end - dataStart) } : action;
}

// --- encoding --------------------------------------------------------------

const EMPTY = new Uint8Array(0);

/** A string field's UTF-8 bytes, checked against STRING_BYTES_MAX. */
function stringBytes(str: string): Buffer {
  const b = Buffer.from(str, 'utf8');
  assert(b.length <= STRING_BYTES_MAX, 'string field too long');
  return b;
}

function actionKeyBytes(a: Action, config: ConfigParts | undefined): number {
  return a.kind === 'truncate' ? (a.config === undefined ? 9 : 25) : a.kind === 'config' ? 1 + config!.bytes : 1;
}

function keyLength(rec: DiskRecord, meta: MetadataParts | undefined, clusterId: Buffer | undefined, config: ConfigParts | undefined): number {
  switch (rec.type) {
    case 'metadata':
      return 1 + meta!.bytes;
    case 'promise':
      return 1 + 16;
    case 'accept':
      return 1 + 16 + actionKeyBytes(rec.action, config);
    case 'commit':
      return 1 + 24;
    case 'learn':
      return 1 + 8 + actionKeyBytes(rec.action, config);
    case 'header':
      return 1 + 8 * 6 + 4 + 4 + 1 + clusterId!.length + meta!.bytes;
    case 'seal':
      return 1 + 16 + 4;
  }
}

function writeAction(w: Writer, a: Action, config: ConfigParts | undefined): void {
  switch (a.kind) {
    case 'nop':
      return w.u8(a.tombstone === true ? K_TOMBSTONE : K_NOP);
    case 'append':
      return w.u8(K_APPEND);
    case 'truncate':
      if (a.config === undefined) {
        w.u8(K_TRUNCATE);
        return w.num(a.to);
      }
      assert(isNat(a.config.epoch) && (a.config.epoch === 0) === (a.config.position === -1) && isNat(a.config.position + 1), 'a truncate head: epoch 0 sits at -1, any other at a position');
      w.u8(K_TRUNCATE_HEAD);
      w.num(a.to);
      w.num(a.config.epoch);
      return w.num(a.config.position + 1);
    case 'config':
      w.u8(K_CONFIG);
      return writeConfig(w, config!);
  }
}

function writeKey(w: Writer, rec: DiskRecord, meta: MetadataParts | undefined, clusterId: Buffer | undefined, config: ConfigParts | undefined): void {
  switch (rec.type) {
    case 'metadata':
      w.u8(T_METADATA);
      return writeMetadata(w, meta!);
    case 'promise':
      w.u8(T_PROMISE);
      w.num(rec.position);
      return w.num(rec.promised);
    case 'accept':
      w.u8(T_ACCEPT);
      w.num(rec.position);
      w.num(rec.proposal);
      return writeAction(w, rec.action, config);
    case 'commit':
      w.u8(T_COMMIT);
      w.num(rec.from);
      w.num(rec.to);
      return w.num(rec.proposal);
    case 'learn':
      w.u8(T_LEARN);
      w.num(rec.position);
      return writeAction(w, rec.action, config);
    case 'header':
      w.u8(T_HEADER);
      w.num(rec.segmentId);
      w.num(rec.replicaId);
      w.num(rec.begin);
      w.num(rec.highestProposal);
      w.num(rec.prevBytes);
      w.u32(rec.prevLastCrc);
      // -1 (no position) is stored as 0: stored numbers are non-negative.
      w.num(rec.prevMaxPosition + 1);
      w.u32(rec.salt);
      w.str(clusterId!);
      return writeMetadata(w, meta!);
    case 'seal':
      w.u8(T_SEAL);
      w.num(rec.nextSegmentId);
      w.num(rec.bytesBefore);
      return w.u32(rec.lastFrameCrc);
  }
}

// --- decoding ----------------------------------------------------------------

interface ParsedKey {
  readonly keyBytes: number;
  /** True if the record carries entry bytes after the key checksum. */
  readonly hasData: boolean;
  readonly build: (data: Uint8Array) => DiskRecord;
}

/** The action kind byte; for append, the bytes come later. */
function readAction(r: Reader): { hasData: boolean; make: (data: Uint8Array) => Action } {
  const k = r.u8();
  if (k === K_NOP) return { hasData: false, make: () => ({ kind: 'nop' }) };
  if (k === K_TOMBSTONE) return { hasData: false, make: () => ({ kind: 'nop', tombstone: true }) };
  if (k === K_APPEND) return { hasData: true, make: (data) => ({ kind: 'append', data }) };
  if (k === K_TRUNCATE) {
    const to = r.nat();
    return { hasData: false, make: () => ({ kind: 'truncate', to }) };
  }
  if (k === K_TRUNCATE_HEAD) {
    const to = r.nat();
    const epoch = r.nat();
    const position = r.nat() - 1;
    if ((epoch === 0) !== (position === -1)) throw new Malformed();
    return { hasData: false, make: () => ({ kind: 'truncate', to, config: { epoch, position } }) };
  }
  if (k === K_CONFIG) {
    const config = readConfig(r);
    return { hasData: false, make: () => ({ kind: 'config', config }) };
  }
  throw new Malformed();
}

function parseKey(payload: Buffer): ParsedKey | undefined {
  const r = new Reader(payload);
  try {
    const build = parseFields(r);
    if (r.at + 4 > payload.length) return undefined;
    return { keyBytes: r.at, hasData: build.hasData, build: build.make };
  } catch (e) {
    if (e instanceof Malformed) return undefined;
    throw e;
  }
}

function parseFields(r: Reader): { hasData: boolean; make: (data: Uint8Array) => DiskRecord } {
  const none = false;
  switch (r.u8()) {
    case T_METADATA: {
      const metadata = parseMetadata(r);
      return { hasData: none, make: () => ({ type: 'metadata', metadata: metadata() }) };
    }
    case T_PROMISE: {
      const position = r.nat();
      const promised = r.nat();
      return { hasData: none, make: () => ({ type: 'promise', position, promised }) };
    }
    case T_ACCEPT: {
      const position = r.nat();
      const proposal = r.nat();
      if (proposal === 0) throw new Malformed();
      const a = readAction(r);
      return { hasData: a.hasData, make: (d) => ({ type: 'accept', position, proposal, action: a.make(d) }) };
    }
    case T_COMMIT: {
      const from = r.nat();
      const to = r.nat();
      const proposal = r.nat();
      if (from > to) throw new Malformed();
      return { hasData: none, make: () => ({ type: 'commit', from, to, proposal }) };
    }
    case T_LEARN: {
      const position = r.nat();
      const a = readAction(r);
      return { hasData: a.hasData, make: (d) => ({ type: 'learn', position, action: a.make(d) }) };
    }
    case T_HEADER: {
      const segmentId = r.nat();
      const replicaId = r.nat();
      const begin = r.nat();
      const highestProposal = r.nat();
      const prevBytes = r.nat();
      const prevLastCrc = r.u32();
      const prevMaxPosition = r.nat() - 1;
      const salt = r.u32();
      const clusterId = r.str();
      const metadata = parseMetadata(r);
      return {
        hasData: none,
        make: () => ({ type: 'header', segmentId, replicaId, clusterId, begin, metadata: metadata(), highestProposal, prevBytes, prevLastCrc, prevMaxPosition, salt }),
      };
    }
    case T_SEAL: {
      const nextSegmentId = r.nat();
      const bytesBefore = r.nat();
      const lastFrameCrc = r.u32();
      return { hasData: none, make: () => ({ type: 'seal', nextSegmentId, bytesBefore, lastFrameCrc }) };
    }
    default:
      throw new Malformed();
  }
}
