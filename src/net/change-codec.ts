/**
 * The change relay's messages (docs/wire.md, codes 18 to 22; docs/reconfiguration.md
 * R12): how a membership change asked through any replica reaches the writer
 * that holds the log, and how its outcome comes back.
 *
 *   changeOffer      client -> replica: hold this change for the writer (or, with
 *                    `withdraw`, stop holding it); sent again with the same id it
 *                    only asks the state, so it is also the poll.
 *   changeOfferReply replica -> client: held | taken | done (with the outcome) |
 *                    withdrawn | no-writer (no active writer takes changes here:
 *                    nothing is held).
 *   changeTake       writer -> replica: the held changes, for the holder of this
 *                    replica's promise (`proposal`); with `done`, the writer stops
 *                    taking (it resigned): nothing is held for it any more.
 *   changeTakeReply  replica -> writer: the changes it hands over.
 *   changeReport     writer -> replica, one-way: the outcome of a change it took.
 *   changeForward    replica -> replica, one-way (wire version 7, R15): a change an
 *                    admin asked through the sender, so that every member holds
 *                    it as authorised and takes the config write of a writer
 *                    without the admin role that carries it out.
 *   configVouch      replica -> replica, one-way (wire version 7, R15): a config
 *                    entry the sender holds accepted above its chain's head (a
 *                    change in progress), so that a member that lacks the admin's
 *                    request (expired, restarted, withdrawn) takes a writer's
 *                    re-proposal of that very entry at that position (R5).
 *
 * Like the divergence check's messages they travel on the replica port but are
 * not the core protocol's: the core (src/core, and the simulator that drives it)
 * never sees them, so they stay out of the Message union, and a connection's
 * extension hook (ListenOptions.extension, PeerLinkOptions.extension) hands their
 * frames here. Decoding checks every field and throws WireError, and only
 * WireError, on anything malformed.
 */
import { assert, assertNever } from '../core/assert.js';
import { isMemberId, MEMBER_ID_MAX, type MembershipChange, type PlacedConfiguration } from '../core/membership.js';
import type { ReplicaId } from '../core/types.js';
import type { ChangeRequest } from '../core/writer.js';
import { encodeFramed, encodePayload } from './codec-parts.js';
import { placedSize, readPlaced, writePlaced } from './config-codec.js';
import { WireError } from './errors.js';
import { wireLimits } from './limits.js';
import { changeKindByCode, changeTypeCode, offerStateByCode } from './schema.js';
import { WireReader } from './wire-reader.js';
import { shortStringSize, type WireWriter } from './wire-writer.js';

export type OfferState = (typeof offerStateByCode)[number];

/** A change's outcome as the writer reports it: the configuration it made, or why not (a reason code and one line). */
export type RelayOutcome = { readonly ok: true; readonly config: PlacedConfiguration } | { readonly ok: false; readonly reason: string; readonly message: string };

export interface ChangeOffer {
  readonly type: 'changeOffer';
  readonly rid: number;
  readonly request: ChangeRequest;
  /** Stop holding it (a held change becomes withdrawn; a taken one stays taken, and the reply says so). */
  readonly withdraw?: true;
}

export interface ChangeOfferReply {
  readonly type: 'changeOfferReply';
  readonly rid: number;
  readonly state: OfferState;
  /** Present exactly when `state` is done. */
  readonly outcome?: RelayOutcome;
}

export interface ChangeTake {
  readonly type: 'changeTake';
  readonly rid: number;
  /** The proposal the asking writer holds: only the holder of the replica's promise is handed anything. */
  readonly proposal: number;
  /** The writer stops taking changes (it resigned or stopped): nothing is handed, and the replica has no taker. */
  readonly done?: true;
}

export interface ChangeTakeReply {
  readonly type: 'changeTakeReply';
  readonly rid: number;
  readonly requests: readonly ChangeRequest[];
}

export interface ChangeReport {
  readonly type: 'changeReport';
  readonly id: string;
  readonly outcome: RelayOutcome;
}

/** An admin's change request, forwarded by the replica that admitted it to its peers (R15). */
export interface ChangeForward {
  readonly type: 'changeForward';
  readonly request: ChangeRequest;
}

/** A config entry the sender holds accepted above its head, at `config.position` (R15): a change in progress. */
export interface ConfigVouch {
  readonly type: 'configVouch';
  readonly config: PlacedConfiguration;
}

export type ChangeMessage = ChangeOffer | ChangeOfferReply | ChangeTake | ChangeTakeReply | ChangeReport | ChangeForward | ConfigVouch;

/** The type codes of the relay's messages (a connection's extension hook routes them here). */
export const CHANGE_CODES: ReadonlySet<number> = new Set(Object.values(changeTypeCode));

/** True for a payload whose type byte is one of the relay's. */
export function isChangeFrame(payload: Buffer): boolean {
  return payload.length > 0 && CHANGE_CODES.has(payload[0]!);
}

/** A string field: at most 255 bytes of UTF-8; longer text (a refusal's message) is cut at a character boundary. */
function clip(s: string): string {
  if (Buffer.byteLength(s, 'utf8') <= 255) return s;
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch, 'utf8') > 252) break;
    out += ch;
  }
  return `${out}…`;
}

// ------------------------------------------------------------------ sizes

function changeSize(c: MembershipChange): number {
  switch (c.kind) {
    case 'add':
      return 1 + 8 + shortStringSize(c.member.address);
    case 'promote':
    case 'remove':
      return 1 + 8;
    case 'replace':
      return 1 + 16;
    case 'address':
      return 1 + 8 + shortStringSize(c.address);
    case 'set':
      return 1 + 4 + 8 * c.voters.length + 4 + 8 * c.learners.length;
    default:
      return assertNever(c, 'membership change');
  }
}

function requestSize(r: ChangeRequest): number {
  return shortStringSize(r.id) + 8 + changeSize(r.change);
}

function outcomeSize(o: RelayOutcome): number {
  return 1 + (o.ok ? placedSize(o.config) : shortStringSize(clip(o.reason)) + shortStringSize(clip(o.message)));
}

export function changeMessageSize(msg: ChangeMessage): number {
  switch (msg.type) {
    case 'changeOffer':
      return 1 + 8 + requestSize(msg.request) + 1;
    case 'changeOfferReply':
      return 1 + 8 + 1 + 1 + (msg.outcome === undefined ? 0 : outcomeSize(msg.outcome));
    case 'changeTake':
      return 1 + 8 + 8 + 1;
    case 'changeTakeReply':
      return 1 + 8 + 4 + msg.requests.reduce((n, r) => n + requestSize(r), 0);
    case 'changeReport':
      return 1 + shortStringSize(msg.id) + outcomeSize(msg.outcome);
    case 'changeForward':
      return 1 + requestSize(msg.request);
    case 'configVouch':
      return 1 + placedSize(msg.config);
    default:
      return assertNever(msg, 'change message');
  }
}

// ------------------------------------------------------------------ writing

function writeIds(w: WireWriter, ids: readonly ReplicaId[]): void {
  assert(ids.length <= wireLimits.namedLengthMax, `an id list of ${ids.length} exceeds the bound`);
  w.u32(ids.length);
  for (const id of ids) w.u64(id);
}

function writeChange(w: WireWriter, c: MembershipChange): void {
  w.u8(changeKindByCode.indexOf(c.kind));
  switch (c.kind) {
    case 'add':
      w.u64(c.member.id);
      w.shortString(c.member.address);
      return;
    case 'promote':
    case 'remove':
      w.u64(c.id);
      return;
    case 'replace':
      w.u64(c.old);
      w.u64(c.replacement);
      return;
    case 'address':
      w.u64(c.id);
      w.shortString(c.address);
      return;
    case 'set':
      writeIds(w, c.voters);
      writeIds(w, c.learners);
      return;
    default:
      assertNever(c, 'membership change');
  }
}

function writeRequest(w: WireWriter, r: ChangeRequest): void {
  assert(r.id.length > 0, 'a change request has an id');
  w.shortString(r.id);
  w.u64(r.ifEpoch);
  writeChange(w, r.change);
}

function writeOutcome(w: WireWriter, o: RelayOutcome): void {
  w.u8(o.ok ? 1 : 0);
  if (o.ok) writePlaced(w, o.config);
  else {
    w.shortString(clip(o.reason));
    w.shortString(clip(o.message));
  }
}

function writeBody(w: WireWriter, msg: ChangeMessage): void {
  w.u8(changeTypeCode[msg.type]);
  switch (msg.type) {
    case 'changeOffer':
      w.u64(msg.rid);
      writeRequest(w, msg.request);
      w.u8(msg.withdraw === true ? 1 : 0);
      return;
    case 'changeOfferReply':
      assert((msg.state === 'done') === (msg.outcome !== undefined), 'a done offer, and only it, carries an outcome');
      w.u64(msg.rid);
      w.u8(offerStateByCode.indexOf(msg.state));
      w.u8(msg.outcome === undefined ? 0 : 1);
      if (msg.outcome !== undefined) writeOutcome(w, msg.outcome);
      return;
    case 'changeTake':
      w.u64(msg.rid);
      w.u64(msg.proposal);
      w.u8(msg.done === true ? 1 : 0);
      return;
    case 'changeTakeReply':
      assert(msg.requests.length <= wireLimits.relayHeldMax, `a take reply of ${msg.requests.length} requests exceeds the bound`);
      w.u64(msg.rid);
      w.u32(msg.requests.length);
      for (const r of msg.requests) writeRequest(w, r);
      return;
    case 'changeReport':
      w.shortString(msg.id);
      writeOutcome(w, msg.outcome);
      return;
    case 'changeForward':
      writeRequest(w, msg.request);
      return;
    case 'configVouch':
      writePlaced(w, msg.config);
      return;
    default:
      assertNever(msg, 'change message');
  }
}

/** Encodes a relay message payload (no frame header). */
export function encodeChangeMessage(msg: ChangeMessage): Buffer {
  return encodePayload(changeMessageSize(msg), (w) => writeBody(w, msg));
}

/** Encodes a relay message as a whole frame, `[u32 length][payload]` (for sendFrame). */
export function encodeChangeFrame(msg: ChangeMessage): Buffer {
  return encodeFramed(changeMessageSize(msg), (w) => writeBody(w, msg));
}

// ------------------------------------------------------------------ reading

function readId(r: WireReader, what: string): ReplicaId {
  const id = r.u64(what);
  if (!isMemberId(id)) throw new WireError('bad-value', `${what} must be from 1 to ${MEMBER_ID_MAX}`);
  return id;
}

function readIds(r: WireReader, what: string): ReplicaId[] {
  const n = r.count(`${what} count`, 8, wireLimits.namedLengthMax);
  const out: ReplicaId[] = [];
  for (let i = 0; i < n; i++) {
    const id = readId(r, `${what} id`);
    if (out.includes(id)) throw new WireError('bad-value', `${what} lists member ${id} twice`);
    out.push(id);
  }
  return out;
}

function readAddress(r: WireReader, what: string): string {
  const a = r.shortString(what);
  if (a.length === 0) throw new WireError('bad-value', `${what} is empty`);
  return a;
}

function readChange(r: WireReader): MembershipChange {
  const code = r.u8('change kind');
  const kind = changeKindByCode[code];
  switch (kind) {
    case 'add':
      return { kind, member: { id: readId(r, 'added member'), address: readAddress(r, 'added member address') } };
    case 'promote':
    case 'remove':
      return { kind, id: readId(r, `${kind}d member`) };
    case 'replace':
      return { kind, old: readId(r, 'replaced member'), replacement: readId(r, 'replacement') };
    case 'address':
      return { kind, id: readId(r, 'moved member'), address: readAddress(r, 'new address') };
    case 'set':
      return { kind, voters: readIds(r, 'set voters'), learners: readIds(r, 'set learners') };
    case undefined:
      throw new WireError('bad-value', `unknown change kind ${code}`);
    default:
      return assertNever(kind, 'change kind');
  }
}

function readRequest(r: WireReader): ChangeRequest {
  const id = r.shortString('change id');
  if (id.length === 0) throw new WireError('bad-value', 'a change request needs an id');
  const ifEpoch = r.u64('ifEpoch');
  return { id, ifEpoch, change: readChange(r) };
}

function readOutcome(r: WireReader): RelayOutcome {
  if (r.bool('outcome ok')) return { ok: true, config: readPlaced(r, 'outcome configuration') };
  const reason = r.shortString('outcome reason');
  if (reason.length === 0) throw new WireError('bad-value', 'a refused outcome needs a reason');
  return { ok: false, reason, message: r.shortString('outcome message') };
}

function readBody(r: WireReader): ChangeMessage {
  const code = r.u8('message type');
  switch (code) {
    case changeTypeCode.changeOffer: {
      const rid = r.u64('rid');
      const request = readRequest(r);
      const withdraw = r.bool('withdraw');
      return { type: 'changeOffer', rid, request, ...(withdraw ? { withdraw: true as const } : {}) };
    }
    case changeTypeCode.changeOfferReply: {
      const rid = r.u64('rid');
      const stateCode = r.u8('offer state');
      const state = offerStateByCode[stateCode];
      if (state === undefined) throw new WireError('bad-value', `offer state ${stateCode}`);
      const hasOutcome = r.bool('outcome flag');
      if (hasOutcome !== (state === 'done')) throw new WireError('bad-value', `an offer ${state} ${hasOutcome ? 'with' : 'without'} an outcome`);
      return { type: 'changeOfferReply', rid, state, ...(hasOutcome ? { outcome: readOutcome(r) } : {}) };
    }
    case changeTypeCode.changeTake: {
      const rid = r.u64('rid');
      const proposal = r.proposal('proposal');
      if (proposal === 0) throw new WireError('bad-value', 'a change take needs a proposal');
      const done = r.bool('done');
      return { type: 'changeTake', rid, proposal, ...(done ? { done: true as const } : {}) };
    }
    case changeTypeCode.changeTakeReply: {
      const rid = r.u64('rid');
      const n = r.count('request count', 11, wireLimits.relayHeldMax);
      const requests: ChangeRequest[] = [];
      for (let i = 0; i < n; i++) requests.push(readRequest(r));
      return { type: 'changeTakeReply', rid, requests };
    }
    case changeTypeCode.changeReport: {
      const id = r.shortString('change id');
      if (id.length === 0) throw new WireError('bad-value', 'a change report needs an id');
      return { type: 'changeReport', id, outcome: readOutcome(r) };
    }
    case changeTypeCode.changeForward:
      return { type: 'changeForward', request: readRequest(r) };
    case changeTypeCode.configVouch:
      return { type: 'configVouch', config: readPlaced(r, 'vouched configuration') };
    default:
      throw new WireError('unknown-type', `unknown message type ${code}`);
  }
}

/** Decodes a relay message payload; WireError on anything malformed or on another type. */
export function decodeChangeMessage(payload: Buffer): ChangeMessage {
  const r = new WireReader(payload);
  const msg = readBody(r);
  r.end(msg.type);
  return msg;
}
