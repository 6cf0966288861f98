/**
 * The message codec: a compact binary layout, one schema for every message
 * (docs/wire.md). Encoding computes the exact size, allocates once and fills
 * it; decoding validates every field and throws WireError on anything
 * malformed, so a decoded Message can be trusted.
 *
 * Zero copy: the `data` of a decoded append action is a Uint8Array view into
 * the buffer that was decoded (which, behind a FrameDecoder, is the socket's
 * read chunk). Keeping it alive keeps that chunk alive: a consumer that holds
 * entries for long (a cache) should copy them; one that writes them to disk
 * and drops them need not.
 */
import { assert, assertNever } from '../core/assert.js';
import { limits } from '../core/constants.js';
import type { ConfigHead, PendingConfig } from '../core/membership.js';
import type { Message, Position, RecoverReply, RejoinReply } from '../core/types.js';
import {
  ACTION_MIN_BYTES,
  ENTRY_FIXED_BYTES,
  SLOT_FIXED_BYTES,
  actionSize,
  entrySize,
  namedSize,
  readAction,
  readEntry,
  readMember,
  readNamed,
  readOutcome,
  readSlot,
  readStatus,
  readWriteOutcome,
  slotSize,
  writeAction,
  writeEntry,
  writeNamed,
  writeOutcome,
  writePromiseOutcome,
  readPromiseOutcome,
  writeSlot,
  writeStatus,
  writeWriteOutcome,
  encodeFramed,
  encodePayload,
} from './codec-parts.js';
import {
  HEAD_BYTES,
  chainSize,
  flagsOf,
  membersSize,
  pendingSize,
  readChain,
  readFlags,
  readHead,
  readMembers,
  readPending,
  readPlaced,
  readStorablePlaced,
  placedSize,
  writeChain,
  writePlaced,
  writeHead,
  writeMembers,
  writePending,
} from './config-codec.js';
import { WireError } from './errors.js';
import { wireLimits } from './limits.js';
import { promiseFlag, recoverFlag, typeCode } from './schema.js';
import { WireReader } from './wire-reader.js';
import { type WireWriter, shortStringSize } from './wire-writer.js';

function sum<T>(items: readonly T[], size: (t: T) => number): number {
  let n = 0;
  for (const t of items) n += size(t);
  return n;
}

/** The payload size of a message in bytes (without the frame header). */
export function messageSize(msg: Message): number {
  switch (msg.type) {
    case 'promise':
      return (
        1 + 8 + 8 + 8 + 1 + (msg.from === undefined ? 0 : 16) + headTail(msg.config) +
        (msg.install === undefined ? 0 : placedSize(msg.install)) + (msg.links === undefined ? 0 : chainSize(msg.links))
      );
    case 'promiseReply':
      return 1 + 8 + 1 + 8 + 1 + 8 * 3 + 8 + 8 + 8 + 4 + sum(msg.slots, slotSize) + headTail(msg.config) + pendingTail(msg.pending);
    case 'write':
      return 1 + 8 * 3 + namedSize(msg.named) + 4 + sum(msg.actions, actionSize) + headTail(msg.config);
    case 'writeReply':
      return 1 + 8 + 1 + 8 + 8 + 4 + 8 + 8 + namedSize(msg.retired) + headTail(msg.config) + (msg.learnedThrough === undefined ? 0 : 9);
    case 'commit':
      return 1 + 8 * 3;
    case 'learned':
      return 1 + 4 + sum(msg.entries, entrySize) + 1 + (msg.floors === undefined ? 0 : 4 + FLOOR_BYTES * msg.floors.length);
    case 'read':
      return 1 + 8 * 3 + 4;
    case 'readReply':
      return (
        1 + 8 + 1 + 8 * 3 + 4 + sum(msg.slots, slotSize) + 8 + 4 + 8 * msg.lost.length + 1 + 1 + (msg.pendingTruncate === undefined ? 0 : 16) +
        headTail(msg.config) + pendingTail(msg.pending) + 1 + (msg.chain === undefined ? 0 : chainSize(msg.chain))
      );
    case 'recover':
      return 1 + 8 + 1 + (msg.member === undefined ? 0 : 8) + (msg.config === undefined ? 0 : HEAD_BYTES);
    case 'recoverReply':
      return (
        1 + 8 + 1 + 8 + 8 + shortStringSize(msg.incarnation) + 8 * 4 + namedSize(msg.recorded) +
        1 + (msg.witness === undefined ? 0 : 32) +
        1 + (msg.startView === undefined ? 0 : 4 + sum(msg.startView, (e) => 8 + shortStringSize(e.incarnation))) +
        1 + (msg.progress === undefined ? 0 : 16) +
        headTail(msg.config) + pendingTail(msg.pending) + discoveryTailSize(msg)
      );
    case 'rejoin':
      return 1 + 8 + 8 + 8 + 8;
    case 'rejoinReply':
      return 1 + 8 + 1 + 1 + 8 + 8 + 8 + 8 + 1 + (msg.removed === undefined ? 0 : placedSize(msg.removed));
    case 'peerState':
      return (
        1 + shortStringSize(msg.incarnation) + 8 + 8 + 1 + 8 + 8 + 8 + 8 + 1 + (msg.yours === undefined ? 0 : 16) + headTail(msg.config) +
        1 + (msg.address === undefined ? 0 : shortStringSize(msg.address))
      );
    case 'config':
      return 1 + 8;
    case 'configReply':
      return (
        1 + 8 + 8 + 4 + sum(msg.members, (m) => 8 + shortStringSize(m.address)) + 1 +
        (msg.clusterId === undefined ? 0 : shortStringSize(msg.clusterId)) +
        (msg.position === undefined ? 0 : 8 + membersSize(msg.voters ?? []) + membersSize(msg.learners ?? []) + 8) +
        (msg.chain === undefined ? 0 : chainSize(msg.chain)) +
        (msg.pending === undefined ? 0 : pendingSize(msg.pending))
      );
    default:
      return assertNever(msg, 'message');
  }
}

/** A learned message's floor: `pos` position, `prop` floor. */
const FLOOR_BYTES = 16;

/** The bytes of a version 3 tail carrying a head only: its flags byte, and the head if present. */
function headTail(h: ConfigHead | undefined): number {
  return 1 + (h === undefined ? 0 : HEAD_BYTES);
}

/** The bytes a pending entry adds to a tail whose flags byte headTail counted. */
function pendingTail(p: PendingConfig | undefined): number {
  return p === undefined ? 0 : pendingSize(p);
}

/** Writes a tail: flags (bit 0 head, bit 1 pending), then each present field. */
function writeHeadTail(w: WireWriter, h: ConfigHead | undefined, p?: PendingConfig): void {
  w.u8(flagsOf(h !== undefined, p !== undefined));
  if (h !== undefined) writeHead(w, h);
  if (p !== undefined) writePending(w, p);
}

/** Reads a tail written by writeHeadTail; `pending` says whether the message may carry a pending entry. */
function readHeadTail(r: WireReader, pending: boolean): { config?: ConfigHead; pending?: PendingConfig } {
  const f = readFlags(r, 'config flags', pending ? 2 : 1);
  return {
    ...((f & 1) !== 0 ? { config: readHead(r, 'head') } : {}),
    ...((f & 2) !== 0 ? { pending: readPending(r, 'pending') } : {}),
  };
}

/**
 * A recoverReply's second tail (wire version 4, R7, R11, R13): flags (bit 0
 * learnedThrough, bit 1 links, bit 2 removed, bit 3 clusterId, bit 4
 * membersHash), then each present field in bit order.
 */
function discoveryTailSize(m: RecoverReply): number {
  return (
    1 +
    (m.learnedThrough === undefined ? 0 : 8) +
    (m.links === undefined ? 0 : chainSize(m.links)) +
    (m.removed === undefined ? 0 : placedSize(m.removed)) +
    (m.clusterId === undefined ? 0 : shortStringSize(m.clusterId)) +
    (m.membersHash === undefined ? 0 : shortStringSize(m.membersHash))
  );
}

function writeDiscoveryTail(w: WireWriter, m: RecoverReply): void {
  w.u8(flagsOf(m.learnedThrough !== undefined, m.links !== undefined, m.removed !== undefined, m.clusterId !== undefined, m.membersHash !== undefined));
  if (m.learnedThrough !== undefined) w.pos(m.learnedThrough);
  if (m.links !== undefined) writeChain(w, m.links);
  if (m.removed !== undefined) writePlaced(w, m.removed);
  if (m.clusterId !== undefined) w.shortString(m.clusterId);
  if (m.membersHash !== undefined) w.shortString(m.membersHash);
}

function readDiscoveryTail(r: WireReader): Pick<RecoverReply, 'learnedThrough' | 'links' | 'removed' | 'clusterId' | 'membersHash'> {
  const f = readFlags(r, 'recoverReply discovery flags', 5);
  return {
    ...((f & 1) !== 0 ? { learnedThrough: r.positionOrNone('learnedThrough') } : {}),
    // Links are stored by the asker with its new disk (R9a): refused here if the store could not keep them.
    ...((f & 2) !== 0 ? { links: readChain(r, 'links', true) } : {}),
    ...((f & 4) !== 0 ? { removed: readPlaced(r, 'removed') } : {}),
    ...((f & 8) !== 0 ? { clusterId: r.shortString('clusterId') } : {}),
    ...((f & 16) !== 0 ? { membersHash: r.shortString('membersHash') } : {}),
  };
}

function readRemoved(r: WireReader): Pick<RejoinReply, 'removed'> {
  const f = readFlags(r, 'rejoinReply flags', 1);
  return f === 0 ? {} : { removed: readPlaced(r, 'removed') };
}

function writeBody(w: WireWriter, msg: Message): void {
  w.u8(typeCode[msg.type]);
  switch (msg.type) {
    case 'promise':
      assert((msg.from === undefined) === (msg.to === undefined), 'an explicit promise has both from and to');
      w.u64(msg.rid);
      w.u64(msg.proposal);
      w.u64(msg.nonce ?? 0);
      w.u8(msg.from === undefined ? 0 : promiseFlag.range);
      if (msg.from !== undefined) {
        w.u64(msg.from);
        w.u64(msg.to!);
      }
      // Flags: bit 0 head, bit 1 install, bit 2 links (wire version 4).
      w.u8(flagsOf(msg.config !== undefined, msg.install !== undefined, msg.links !== undefined));
      if (msg.config !== undefined) writeHead(w, msg.config);
      if (msg.install !== undefined) writePlaced(w, msg.install);
      if (msg.links !== undefined) writeChain(w, msg.links);
      return;
    case 'promiseReply':
      w.u64(msg.rid);
      writePromiseOutcome(w, msg.outcome);
      w.u64(msg.proposal);
      writeStatus(w, msg.status);
      w.u64(msg.begin);
      w.pos(msg.end);
      w.pos(msg.learnedThrough);
      w.pos(msg.coveredThrough);
      w.u64(msg.generation);
      w.u64(msg.disk);
      w.u32(msg.slots.length);
      for (const s of msg.slots) writeSlot(w, s);
      writeHeadTail(w, msg.config, msg.pending);
      return;
    case 'write':
      w.u64(msg.rid);
      w.u64(msg.proposal);
      w.u64(msg.from);
      writeNamed(w, msg.named);
      w.u32(msg.actions.length);
      for (const a of msg.actions) writeAction(w, a);
      writeHeadTail(w, msg.config);
      return;
    case 'writeReply':
      assert((msg.outcome === 'stale') === (msg.retired.length > 0), 'a stale write reply, and only it, lists retired members');
      w.u64(msg.rid);
      writeWriteOutcome(w, msg.outcome);
      w.u64(msg.proposal);
      w.u64(msg.from);
      w.u32(msg.count);
      w.u64(msg.generation);
      w.u64(msg.disk);
      writeNamed(w, msg.retired);
      // Flags: bit 0 head, bit 1 learnedThrough and lostBelow (both or neither).
      assert((msg.learnedThrough === undefined) === (msg.lostBelow === undefined), 'a write reply reports learnedThrough and lostBelow together');
      w.u8(flagsOf(msg.config !== undefined, msg.learnedThrough !== undefined));
      if (msg.config !== undefined) writeHead(w, msg.config);
      if (msg.learnedThrough !== undefined) {
        w.pos(msg.learnedThrough);
        w.u8(msg.lostBelow! ? 1 : 0);
      }
      return;
    case 'commit':
      w.u64(msg.proposal);
      w.u64(msg.from);
      w.u64(msg.to);
      return;
    case 'learned':
      w.u32(msg.entries.length);
      for (const e of msg.entries) writeEntry(w, e);
      // Flags: bit 0 floors (wire version 4).
      w.u8(msg.floors === undefined ? 0 : 1);
      if (msg.floors !== undefined) {
        assert(msg.floors.length <= limits.readSlotsMax, `a learned message with ${msg.floors.length} floors exceeds the bound`);
        w.u32(msg.floors.length);
        for (const f of msg.floors) {
          w.u64(f.position);
          w.u64(f.floor);
        }
      }
      return;
    case 'read':
      w.u64(msg.rid);
      w.u64(msg.from);
      w.u64(msg.to);
      // A held read's wait rides in the high 16 bits of limit (docs/wire.md): replicas that predate it clamp
      // limit to 4096 and serve the read at once, so the field is backward compatible.
      w.u32(msg.waitMs === undefined ? msg.limit : packLimit(msg.limit, msg.waitMs));
      return;
    case 'readReply':
      w.u64(msg.rid);
      writeStatus(w, msg.status);
      w.u64(msg.begin);
      w.pos(msg.end);
      w.pos(msg.learnedThrough);
      w.u32(msg.slots.length);
      for (const s of msg.slots) writeSlot(w, s);
      w.pos(msg.coveredThrough);
      w.u32(msg.lost.length);
      for (const p of msg.lost) w.u64(p);
      w.u8(msg.writerActive ? 1 : 0);
      w.u8(msg.pendingTruncate === undefined ? 0 : 1);
      if (msg.pendingTruncate !== undefined) {
        w.u64(msg.pendingTruncate.position);
        w.u64(msg.pendingTruncate.to);
      }
      writeHeadTail(w, msg.config, msg.pending);
      // A second tail (wire version 4, R14): bit 0, the replier's whole chain, for a reader that may adopt its begin.
      w.u8(flagsOf(msg.chain !== undefined));
      if (msg.chain !== undefined) writeChain(w, msg.chain);
      return;
    case 'recover':
      w.u64(msg.rid);
      w.u8((msg.member === undefined ? 0 : recoverFlag.member) | (msg.config === undefined ? 0 : recoverFlag.head));
      if (msg.member !== undefined) {
        assert(msg.member >= 1, `member id must be >= 1, got ${msg.member}`);
        w.u64(msg.member);
      }
      if (msg.config !== undefined) writeHead(w, msg.config);
      return;
    case 'recoverReply':
      w.u64(msg.rid);
      writeStatus(w, msg.status);
      w.u64(msg.begin);
      w.pos(msg.end);
      w.shortString(msg.incarnation);
      w.u64(msg.generation);
      w.u64(msg.disk);
      w.u64(msg.memberGeneration);
      w.u64(msg.memberDisk);
      writeNamed(w, msg.recorded);
      w.u8(msg.witness === undefined ? 0 : 1);
      if (msg.witness !== undefined) {
        w.u64(msg.witness.generation);
        w.u64(msg.witness.disk);
        w.u64(msg.witness.promised);
        w.pos(msg.witness.end);
      }
      w.u8(msg.startView === undefined ? 0 : 1);
      if (msg.startView !== undefined) {
        w.u32(msg.startView.length);
        for (const e of msg.startView) {
          w.u64(e.id);
          w.shortString(e.incarnation);
        }
      }
      w.u8(msg.progress === undefined ? 0 : 1);
      if (msg.progress !== undefined) {
        w.u64(msg.progress.done);
        w.u64(msg.progress.total);
      }
      writeHeadTail(w, msg.config, msg.pending);
      writeDiscoveryTail(w, msg);
      return;
    case 'rejoin':
      assert(msg.member >= 1, `member id must be >= 1, got ${msg.member}`);
      w.u64(msg.rid);
      w.u64(msg.member);
      w.u64(msg.generation);
      w.u64(msg.disk);
      return;
    case 'rejoinReply':
      w.u64(msg.rid);
      writeOutcome(w, msg.outcome);
      writeStatus(w, msg.status);
      w.u64(msg.begin);
      w.pos(msg.end);
      w.u64(msg.generation);
      w.u64(msg.disk);
      w.u8(msg.removed === undefined ? 0 : 1);
      if (msg.removed !== undefined) writePlaced(w, msg.removed);
      return;
    case 'config':
      w.u64(msg.rid);
      return;
    case 'configReply':
      assert(msg.members.length <= wireLimits.namedLengthMax, 'too many members');
      // The placement (position, voters, learners, nextId) travels whole or not at all.
      assert(
        [msg.voters, msg.learners, msg.nextId].every((f) => (f === undefined) === (msg.position === undefined)),
        'a configReply carries position, voters, learners and nextId together',
      );
      w.u64(msg.rid);
      w.u64(msg.epoch);
      w.u32(msg.members.length);
      for (const m of msg.members) {
        w.u64(m.id);
        w.shortString(m.address);
      }
      // Flags: bit 0 clusterId, bit 1 the placement, bit 2 chain, bit 3 pending.
      w.u8(flagsOf(msg.clusterId !== undefined, msg.position !== undefined, msg.chain !== undefined, msg.pending !== undefined));
      if (msg.clusterId !== undefined) w.shortString(msg.clusterId);
      if (msg.position !== undefined) {
        w.pos(msg.position);
        writeMembers(w, msg.voters!);
        writeMembers(w, msg.learners!);
        w.u64(msg.nextId!);
      }
      if (msg.chain !== undefined) writeChain(w, msg.chain);
      if (msg.pending !== undefined) writePending(w, msg.pending);
      return;
    case 'peerState':
      w.shortString(msg.incarnation);
      w.u64(msg.generation);
      w.u64(msg.disk);
      writeStatus(w, msg.status);
      w.u64(msg.promised);
      w.u64(msg.begin);
      w.pos(msg.end);
      w.pos(msg.learnedThrough);
      w.u8(msg.yours === undefined ? 0 : 1);
      if (msg.yours !== undefined) {
        w.u64(msg.yours.generation);
        w.u64(msg.yours.disk);
      }
      writeHeadTail(w, msg.config);
      // Wire version 6: the sender's own address (R13), a flag byte then the string.
      w.u8(msg.address === undefined ? 0 : 1);
      if (msg.address !== undefined) w.shortString(msg.address);
      return;
    default:
      assertNever(msg, 'message');
  }
}

/** Encodes a message payload (no frame header). The message must be valid: a bad field is an assertion failure. */
export function encodeMessage(msg: Message): Buffer {
  return encodePayload(messageSize(msg), (w) => writeBody(w, msg));
}

/** Encodes a message as a whole frame, `[u32 length][payload]`, in one allocation. */
export function encodeFrame(msg: Message): Buffer {
  const size = messageSize(msg);
  assert(size <= wireLimits.frameBytesMax, `message of ${size} bytes exceeds the frame bound`);
  return encodeFramed(size, (w) => writeBody(w, msg));
}

function readSlots(r: WireReader): ReturnType<typeof readSlot>[] {
  const n = r.count('slot count', SLOT_FIXED_BYTES, limits.readSlotsMax);
  const slots = new Array<ReturnType<typeof readSlot>>(n);
  for (let i = 0; i < n; i++) slots[i] = readSlot(r);
  return slots;
}

/** A range [from, from + count) must stay within safe integers. */
function checkSpan(from: Position, count: number, what: string): void {
  if (from + count > Number.MAX_SAFE_INTEGER) throw new WireError('bad-value', `${what} runs past the largest position`);
}

/** The optional catch-up progress of a recoverReply: a flag byte, then done and total. */
function readProgress(r: WireReader): { progress?: { done: number; total: number } } {
  const flag = r.u8('progress flag');
  if (flag === 0) return {};
  if (flag !== 1) throw new WireError('bad-value', `progress flag ${flag}`);
  return { progress: { done: r.u64('done'), total: r.u64('total') } };
}

/** A request's proposal: 0 means "none" and no proposer can hold it. */
function proposalOf(r: WireReader): number {
  const p = r.proposal('proposal');
  if (p < 1) throw new WireError('bad-value', 'proposal must be >= 1 in a request');
  return p;
}

/** An inclusive range [from, to] with from <= to. */
function rangeOf(r: WireReader, what: string): [number, number] {
  const from = r.position('from');
  const to = r.position('to');
  if (to < from) throw new WireError('bad-value', `${what} range [${from}, ${to}] is empty`);
  return [from, to];
}

/** A held read's limit field: the wait (1 to 65535 ms) in the high 16 bits, the slot limit (below 65536) in the low ones. */
function packLimit(limit: number, waitMs: number): number {
  const wait = Math.min(0xffff, Math.max(1, Math.round(waitMs)));
  return wait * 0x10000 + Math.min(0xffff, limit);
}

function readBody(r: WireReader): Message {
  const code = r.u8('message type');
  switch (code) {
    case typeCode.promise: {
      const rid = r.u64('rid');
      const proposal = proposalOf(r);
      const nonce = r.u64('nonce');
      const flags = r.u8('promise flags');
      if (flags !== 0 && flags !== promiseFlag.range) throw new WireError('bad-value', `promise flags ${flags}`);
      const range = flags === 0 ? {} : (([from, to]) => ({ from, to }))(rangeOf(r, 'promise'));
      const f = readFlags(r, 'promise tail flags', 3);
      const config = (f & 1) !== 0 ? { config: readHead(r, 'head') } : {};
      const install = (f & 2) !== 0 ? { install: readStorablePlaced(r, 'install') } : {};
      const links = (f & 4) !== 0 ? { links: readChain(r, 'links', true) } : {};
      return { type: 'promise', rid, proposal, ...(nonce === 0 ? {} : { nonce }), ...range, ...config, ...install, ...links };
    }
    case typeCode.promiseReply:
      return {
        type: 'promiseReply',
        rid: r.u64('rid'),
        outcome: readPromiseOutcome(r),
        proposal: r.proposal('proposal'),
        status: readStatus(r),
        begin: r.position('begin'),
        end: r.positionOrNone('end'),
        learnedThrough: r.positionOrNone('learnedThrough'),
        coveredThrough: r.positionOrNone('coveredThrough'),
        generation: r.proposal('generation'),
        disk: r.u64('disk'),
        slots: readSlots(r),
        ...readHeadTail(r, true),
      };
    case typeCode.write: {
      const rid = r.u64('rid');
      const proposal = proposalOf(r);
      const from = r.position('from');
      const named = readNamed(r, 'named');
      // The writer's batch bound (a fill is smaller): 150,000 NOPs in one write are refused here.
      const n = r.count('action count', ACTION_MIN_BYTES, limits.writeBatchPositionsMax);
      checkSpan(from, n, 'write');
      const actions = new Array<ReturnType<typeof readAction>>(n);
      for (let i = 0; i < n; i++) actions[i] = readAction(r);
      return { type: 'write', rid, proposal, from, actions, named, ...readHeadTail(r, false) };
    }
    case typeCode.writeReply: {
      const rid = r.u64('rid');
      const outcome = readWriteOutcome(r);
      const proposal = r.proposal('proposal');
      const from = r.position('from');
      const count = r.u32('count');
      checkSpan(from, count, 'writeReply');
      const generation = r.proposal('generation');
      const disk = r.u64('disk');
      const retired = readNamed(r, 'retired');
      if ((outcome === 'stale') !== (retired.length > 0)) {
        throw new WireError('bad-value', `a ${outcome} write reply lists ${retired.length} retired members`);
      }
      const f = readFlags(r, 'writeReply flags', 2);
      const config = (f & 1) !== 0 ? { config: readHead(r, 'head') } : {};
      const held = (f & 2) !== 0 ? { learnedThrough: r.positionOrNone('learnedThrough'), lostBelow: r.bool('lostBelow') } : {};
      return { type: 'writeReply', rid, outcome, proposal, from, count, generation, disk, retired, ...config, ...held };
    }
    case typeCode.commit: {
      const proposal = proposalOf(r);
      const [from, to] = rangeOf(r, 'commit');
      return { type: 'commit', proposal, from, to };
    }
    case typeCode.learned: {
      const n = r.count('entry count', ENTRY_FIXED_BYTES + ACTION_MIN_BYTES, limits.readSlotsMax);
      const entries = new Array<ReturnType<typeof readEntry>>(n);
      for (let i = 0; i < n; i++) entries[i] = readEntry(r);
      if (readFlags(r, 'learned flags', 1) === 0) return { type: 'learned', entries };
      const m = r.count('floor count', FLOOR_BYTES, limits.readSlotsMax);
      const floors = new Array<{ position: Position; floor: number }>(m);
      for (let i = 0; i < m; i++) floors[i] = { position: r.position('floor position'), floor: r.proposal('floor') };
      return { type: 'learned', entries, floors };
    }
    case typeCode.read: {
      const rid = r.u64('rid');
      const from = r.position('from');
      const to = r.position('to');
      const packed = r.u32('limit');
      const waitMs = Math.floor(packed / 0x10000);
      return waitMs === 0 ? { type: 'read', rid, from, to, limit: packed } : { type: 'read', rid, from, to, limit: packed % 0x10000, waitMs };
    }
    case typeCode.readReply: {
      const rid = r.u64('rid');
      const status = readStatus(r);
      const begin = r.position('begin');
      const end = r.positionOrNone('end');
      const learnedThrough = r.positionOrNone('learnedThrough');
      const slots = readSlots(r);
      const coveredThrough = r.positionOrNone('coveredThrough');
      const n = r.count('lost count', 8);
      const lost = new Array<number>(n);
      for (let i = 0; i < n; i++) lost[i] = r.position('lost position');
      const writerActive = r.bool('writerActive');
      const reply = { type: 'readReply' as const, rid, status, begin, end, learnedThrough, slots, coveredThrough, lost, writerActive };
      let pendingTruncate: { pendingTruncate?: { position: number; to: number } } = {};
      if (r.bool('pendingTruncate flag')) {
        const position = r.position('pendingTruncate position');
        const to = r.position('pendingTruncate to');
        if (to > position) throw new WireError('bad-value', `a truncation at ${position} to ${to} reaches past itself`);
        pendingTruncate = { pendingTruncate: { position, to } };
      }
      const tail = readHeadTail(r, true);
      const chain = (readFlags(r, 'readReply chain flags', 1) & 1) !== 0 ? { chain: readChain(r, 'chain', true) } : {};
      return { ...reply, ...pendingTruncate, ...tail, ...chain };
    }
    case typeCode.recover: {
      const rid = r.u64('rid');
      const flags = readFlags(r, 'recover flags', 2);
      return {
        type: 'recover',
        rid,
        ...((flags & recoverFlag.member) !== 0 ? { member: readMember(r, 'member') } : {}),
        ...((flags & recoverFlag.head) !== 0 ? { config: readHead(r, 'head') } : {}),
      };
    }
    case typeCode.recoverReply:
      return readRecoverReply(r);
    case typeCode.rejoin:
      return { type: 'rejoin', rid: r.u64('rid'), member: readMember(r, 'member'), generation: r.proposal('generation'), disk: r.u64('disk') };
    case typeCode.rejoinReply:
      return {
        type: 'rejoinReply',
        rid: r.u64('rid'),
        outcome: readOutcome(r),
        status: readStatus(r),
        begin: r.position('begin'),
        end: r.positionOrNone('end'),
        generation: r.proposal('generation'),
        disk: r.u64('disk'),
        ...readRemoved(r),
      };
    case typeCode.config:
      return { type: 'config', rid: r.u64('rid') };
    case typeCode.configReply: {
      const rid = r.u64('rid');
      const epoch = r.u64('epoch');
      const n = r.count('member count', 9, wireLimits.namedLengthMax);
      const members = new Array<{ id: number; address: string }>(n);
      for (let i = 0; i < n; i++) {
        const id = readMember(r, 'member id');
        for (let j = 0; j < i; j++) if (members[j]!.id === id) throw new WireError('bad-value', `member ${id} listed twice`);
        members[i] = { id, address: r.shortString('member address') };
      }
      if (n === 0) throw new WireError('bad-value', 'a configuration with no member');
      const f = readFlags(r, 'configReply flags', 4);
      const clusterId = (f & 1) !== 0 ? { clusterId: r.shortString('clusterId') } : {};
      const placed =
        (f & 2) !== 0
          ? { position: r.positionOrNone('position'), voters: readMembers(r, 'voter'), learners: readMembers(r, 'learner'), nextId: r.u64('nextId') }
          : {};
      const chain = (f & 4) !== 0 ? { chain: readChain(r, 'chain') } : {};
      const pending = (f & 8) !== 0 ? { pending: readPending(r, 'pending') } : {};
      return { type: 'configReply', rid, epoch, members, ...clusterId, ...placed, ...chain, ...pending };
    }
    case typeCode.peerState: {
      const msg = {
        type: 'peerState' as const,
        incarnation: r.shortString('incarnation'),
        generation: r.proposal('generation'),
        disk: r.u64('disk'),
        status: readStatus(r),
        promised: r.proposal('promised'),
        begin: r.position('begin'),
        end: r.positionOrNone('end'),
        learnedThrough: r.positionOrNone('learnedThrough'),
      };
      // The disk the sender recorded for the receiver: a flag byte, then generation and disk.
      const flag = r.u8('yours flag');
      if (flag > 1) throw new WireError('bad-value', `yours flag ${flag}`);
      const yours = flag === 0 ? {} : { yours: { generation: r.proposal('yours generation'), disk: r.u64('yours disk') } };
      const head = readHeadTail(r, false);
      const addressFlag = r.u8('address flag');
      if (addressFlag > 1) throw new WireError('bad-value', `address flag ${addressFlag}`);
      const address = addressFlag === 0 ? {} : { address: r.shortString('address') };
      return { ...msg, ...yours, ...head, ...address };
    }
    default:
      throw new WireError('unknown-type', `unknown message type ${code}`);
  }
}

function readRecoverReply(r: WireReader): Message {
  const rid = r.u64('rid');
  const status = readStatus(r);
  const begin = r.position('begin');
  const end = r.positionOrNone('end');
  const incarnation = r.shortString('incarnation');
  const generation = r.proposal('generation');
  const disk = r.u64('disk');
  const memberGeneration = r.proposal('memberGeneration');
  const memberDisk = r.u64('memberDisk');
  const recorded = readNamed(r, 'recorded');
  const witness = r.bool('witness flag')
    ? { generation: r.proposal('witness generation'), disk: r.u64('witness disk'), promised: r.proposal('witness promised'), end: r.positionOrNone('witness end') }
    : undefined;
  let startView: { id: number; incarnation: string }[] | undefined;
  if (r.bool('startView flag')) {
    const n = r.count('startView count', 9, wireLimits.namedLengthMax);
    startView = new Array(n);
    for (let i = 0; i < n; i++) startView[i] = { id: readMember(r, 'startView member'), incarnation: r.shortString('startView incarnation') };
  }
  return {
    type: 'recoverReply',
    rid,
    status,
    begin,
    end,
    incarnation,
    generation,
    disk,
    memberGeneration,
    memberDisk,
    recorded,
    ...(witness === undefined ? {} : { witness }),
    ...(startView === undefined ? {} : { startView }),
    ...readProgress(r),
    ...readHeadTail(r, true),
    ...readDiscoveryTail(r),
  };
}

/**
 * Decodes one message payload (no frame header). Throws WireError, and only
 * WireError, on any malformed input. See the zero-copy note at the top.
 */
export function decodeMessage(payload: Buffer): Message {
  const r = new WireReader(payload);
  const msg = readBody(r);
  r.end(msg.type);
  return msg;
}
