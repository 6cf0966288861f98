/**
 * The divergence-check messages (docs/wire.md, codes 16 and 17): a request
 * for the digest of a range of chosen positions, and its reply
 * (src/storage/range-digest.ts). They travel on the replica port like every
 * other message, but they are not part of the core protocol: the core
 * (src/core) is sans-I/O and never sees them, so they are kept out of the
 * Message union. The replica server decodes frames with decodeWireMessage,
 * which knows both; everything else (clients, the core's codec tests) keeps
 * decodeMessage, which rejects these codes as unknown.
 *
 * Decoding validates every field and throws WireError, and only WireError,
 * on anything malformed, as the core codec does.
 */
import { assert } from '../core/assert.js';
import type { Message, Position, Status } from '../core/types.js';
import type { DigestStop } from '../storage/range-digest.js';
import { encodeFramed, encodePayload, readStatus, writeStatus } from './codec-parts.js';
import { decodeMessage } from './codec.js';
import { WireError } from './errors.js';
import { wireLimits } from './limits.js';
import { digestStopByCode, extensionTypeCode } from './schema.js';
import { WireReader } from './wire-reader.js';
import type { WireWriter } from './wire-writer.js';

/**
 * Asks for the digest of the chosen positions of [from, to) (half-open), continued from `seed` (the crc
 * of the range before `from`, 0 for a fresh digest). The replier covers at most `limit` positions
 * (0: its own bound, wireLimits.digestPositionsMax, which also caps any larger limit) and a few MiB of
 * entry bytes, and says where it stopped.
 */
export interface DigestRequest {
  readonly type: 'digest';
  readonly rid: number;
  readonly from: Position;
  readonly to: Position;
  readonly seed: number;
  readonly limit: number;
}

/** The digest of [from, through) on the replier, and the replier's log (src/storage/range-digest.ts). */
export interface DigestReply {
  readonly type: 'digestReply';
  readonly rid: number;
  readonly status: Status;
  readonly begin: Position;
  readonly learnedThrough: Position;
  readonly from: Position;
  readonly through: Position;
  readonly count: number;
  readonly crc: number;
  readonly stop: DigestStop;
}

export type DigestMessage = DigestRequest | DigestReply;
/** Every message a replica's port carries: the core protocol's and the divergence check's. */
export type WireMessage = Message | DigestMessage;

const REQUEST_BYTES = 1 + 8 + 8 + 8 + 4 + 4;
const REPLY_BYTES = 1 + 8 + 1 + 8 + 8 + 8 + 8 + 8 + 4 + 1;

/** True for the divergence check's messages (narrows a WireMessage). */
export function isDigestMessage(msg: WireMessage): msg is DigestMessage {
  return msg.type === 'digest' || msg.type === 'digestReply';
}

/** The payload size of a digest message (without the frame header). */
export function digestMessageSize(msg: DigestMessage): number {
  return msg.type === 'digest' ? REQUEST_BYTES : REPLY_BYTES;
}

function writeDigestBody(w: WireWriter, msg: DigestMessage): void {
  if (msg.type === 'digest') {
    assert(msg.to >= msg.from, `digest range [${msg.from}, ${msg.to}) runs backwards`);
    w.u8(extensionTypeCode.digest);
    w.u64(msg.rid);
    w.u64(msg.from);
    w.u64(msg.to);
    w.u32(msg.seed >>> 0);
    w.u32(msg.limit);
    return;
  }
  assert(msg.through >= msg.from && msg.count <= msg.through - msg.from, 'a digest reply covers [from, through)');
  w.u8(extensionTypeCode.digestReply);
  w.u64(msg.rid);
  writeStatus(w, msg.status);
  w.u64(msg.begin);
  w.pos(msg.learnedThrough);
  w.u64(msg.from);
  w.u64(msg.through);
  w.u64(msg.count);
  w.u32(msg.crc >>> 0);
  const stop = digestStopByCode.indexOf(msg.stop);
  assert(stop >= 0, `digest stop ${msg.stop}`);
  w.u8(stop);
}

/** Encodes a digest message payload (no frame header). */
export function encodeDigestMessage(msg: DigestMessage): Buffer {
  return encodePayload(digestMessageSize(msg), (w) => writeDigestBody(w, msg));
}

/** Encodes a digest message as a whole frame, `[u32 length][payload]` (for sendFrame). */
export function encodeDigestFrame(msg: DigestMessage): Buffer {
  return encodeFramed(digestMessageSize(msg), (w) => writeDigestBody(w, msg));
}

function readDigestBody(r: WireReader): DigestMessage {
  const code = r.u8('message type');
  if (code === extensionTypeCode.digest) {
    const rid = r.u64('rid');
    const from = r.position('from');
    const to = r.position('to');
    if (to < from) throw new WireError('bad-value', `digest range [${from}, ${to}) runs backwards`);
    return { type: 'digest', rid, from, to, seed: r.u32('seed'), limit: r.u32('limit') };
  }
  if (code !== extensionTypeCode.digestReply) throw new WireError('unknown-type', `unknown message type ${code}`);
  const rid = r.u64('rid');
  const status = readStatus(r);
  const begin = r.position('begin');
  const learnedThrough = r.positionOrNone('learnedThrough');
  const from = r.position('from');
  const through = r.position('through');
  const count = r.u64('count');
  const crc = r.u32('crc');
  const stopCode = r.u8('stop');
  const stop = digestStopByCode[stopCode];
  if (stop === undefined) throw new WireError('bad-value', `digest stop ${stopCode}`);
  if (through < from) throw new WireError('bad-value', `a digest reply covers [${from}, ${through})`);
  if (through - from > wireLimits.digestPositionsMax) throw new WireError('oversized', `a digest reply covers ${through - from} positions > ${wireLimits.digestPositionsMax}`);
  if (count > through - from) throw new WireError('bad-value', `a digest reply counts ${count} positions in [${from}, ${through})`);
  return { type: 'digestReply', rid, status, begin, learnedThrough, from, through, count, crc, stop };
}

/** Decodes a digest message payload; WireError on anything malformed or on another type. */
export function decodeDigestMessage(payload: Buffer): DigestMessage {
  const r = new WireReader(payload);
  const msg = readDigestBody(r);
  r.end(msg.type);
  return msg;
}

/** The type codes decodeWireMessage adds to the core codec's. */
export const DIGEST_CODES: ReadonlySet<number> = new Set(Object.values(extensionTypeCode));

/**
 * Decodes any message of the replica port: a digest message by its code, anything else with the core
 * codec (decodeMessage). Throws WireError, and only WireError, on malformed input.
 */
export function decodeWireMessage(payload: Buffer): WireMessage {
  if (payload.length > 0 && DIGEST_CODES.has(payload[0]!)) return decodeDigestMessage(payload);
  return decodeMessage(payload);
}
