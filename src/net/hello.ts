/**
 * The handshake: the first frame each way is a hello (docs/wire.md). Its
 * payload starts with the magic "RPLG" so that a hello can never be mistaken
 * for a message (whose first byte is a type code below 0x52) and a stray
 * protocol on the port is recognised at once.
 */
import { assert } from '../core/assert.js';
import { WireError } from './errors.js';
import { frame } from './frame.js';
import { wireLimits } from './limits.js';
import { WireReader } from './wire-reader.js';
import { WireWriter } from './wire-writer.js';

/** The wire protocol version this code speaks. Bump on any incompatible change to docs/wire.md. */
export const WIRE_VERSION = 7;
export const HELLO_MAGIC = Buffer.from('RPLG', 'latin1');
/** A refusal in place of a hello: "RPLN" then the reason in UTF-8 (docs/wire.md, "Refusals"). */
export const REFUSAL_MAGIC = Buffer.from('RPLN', 'latin1');

export type Role = 'client' | 'replica';

export interface Hello {
  /** The sender's wire protocol version. */
  readonly version: number;
  /** The cluster the sender belongs to; a client that does not know it yet sends '' and learns it from the reply. */
  readonly clusterId: string;
  readonly role: Role;
  /** The sender's replica id (a positive safe integer) iff role is 'replica'. */
  readonly replicaId?: number;
}

/** Encodes a hello as a whole frame. */
export function encodeHelloFrame(h: Hello): Buffer {
  const id = Buffer.from(h.clusterId, 'utf8');
  assert(id.length <= wireLimits.clusterIdBytesMax, `cluster id longer than ${wireLimits.clusterIdBytesMax} bytes`);
  assert((h.role === 'replica') === (h.replicaId !== undefined), 'a replica hello, and only it, carries a replica id');
  assert(h.replicaId === undefined || (Number.isSafeInteger(h.replicaId) && h.replicaId >= 1), 'replica id >= 1');
  const w = new WireWriter(Buffer.allocUnsafe(4 + 2 + 1 + 8 + 1 + id.length));
  w.buf.set(HELLO_MAGIC, 0);
  w.buf.writeUInt16LE(h.version, 4);
  w.offset = 6;
  w.u8(h.role === 'replica' ? 1 : 0);
  w.u64(h.replicaId ?? 0);
  w.u8(id.length);
  w.buf.set(id, w.offset);
  return frame(w.buf);
}

/** Decodes and checks a hello payload; a wrong magic or version is a WireError('handshake'). */
export function decodeHello(payload: Buffer): Hello {
  if (payload.length > wireLimits.helloBytesMax) throw new WireError('handshake', `hello of ${payload.length} bytes`);
  if (payload.length < 6 || !payload.subarray(0, 4).equals(HELLO_MAGIC)) {
    throw new WireError('handshake', 'first frame is not a replog hello (bad magic)');
  }
  const version = payload.readUInt16LE(4);
  if (version !== WIRE_VERSION) {
    throw new WireError('handshake', `peer speaks wire version ${version}, we speak ${WIRE_VERSION}`);
  }
  const r = new WireReader(payload, 6);
  const roleCode = r.u8('role');
  if (roleCode > 1) throw new WireError('handshake', `unknown role ${roleCode}`);
  const replicaId = r.u64('replica id');
  const clusterId = r.shortString('cluster id');
  r.end('hello');
  if (roleCode === 0) {
    if (replicaId !== 0) throw new WireError('handshake', 'a client hello carries no replica id');
    return { version, clusterId, role: 'client' };
  }
  if (replicaId === 0) throw new WireError('handshake', 'a replica hello needs a replica id >= 1');
  return { version, clusterId, role: 'replica', replicaId };
}

/** Longest refusal reason sent, in UTF-8 bytes (a refusal frame stays within the hello bound). */
const REFUSAL_REASON_BYTES_MAX = wireLimits.helloBytesMax - REFUSAL_MAGIC.length;

/**
 * A refusal frame: sent in place of a hello (or of the first message) by a
 * side that will not talk to the other, so that both ends can say why: a
 * plaintext client on a TLS port, a certificate from another CA, a hello that
 * its certificate does not back. The sender closes the connection after it.
 */
export function encodeRefusalFrame(reason: string): Buffer {
  let text = Buffer.from(reason, 'utf8');
  if (text.length > REFUSAL_REASON_BYTES_MAX) text = Buffer.from(text.subarray(0, REFUSAL_REASON_BYTES_MAX).toString('utf8').replace(/\uFFFD$/, ''), 'utf8');
  return frame(Buffer.concat([REFUSAL_MAGIC, text]));
}

/** The reason of a refusal frame's payload, or undefined if the payload is not a refusal. */
export function decodeRefusal(payload: Buffer): string | undefined {
  if (payload.length < REFUSAL_MAGIC.length || !payload.subarray(0, REFUSAL_MAGIC.length).equals(REFUSAL_MAGIC)) return undefined;
  // Shown to a user in one line: no control characters from the other side.
  return payload.subarray(REFUSAL_MAGIC.length).toString('utf8').replace(/[\u0000-\u001f\u007f]/g, ' ');
}
