/**
 * The replica: Paxos acceptor and learner for every position of the log.
 *
 * A pure function of (the store's current state, one incoming message): it
 * returns the records to persist and at most one reply. The shell appends the
 * records to the store and sends the reply only once they are durable, so no
 * reply ever promises something a crash could take back.
 *
 * Rules (docs/protocol.md has the argument):
 * - The promise in force at position p is max(metadata.promised, slot(p).promised).
 * - A promise needs a proposal strictly above the promise in force: a number is
 *   promised to one proposer only.
 * - A write needs a proposal at or above the promise in force, and is refused at
 *   a learned position unless it carries the learned value.
 * - A replica that is not VOTING, or that holds corrupted records in the range
 *   a request depends on, answers IGNORED: it may have forgotten a promise or
 *   an acceptance, so it must not vote.
 * - Learned values (commit, learned) are applied in every status: they are
 *   chosen, so storing them can never contradict a vote.
 */
import { actionsEqual, TOMBSTONE } from './actions.js';
import { assertNever } from './assert.js';
import { limits } from './constants.js';
import { ALL_RULES_ON, type SafetyRules } from './rules.js';
import type { StoreView } from './store.js';
import type {
  CommitMessage,
  LearnedMessage,
  Metadata,
  Named,
  RecoverReply,
  RecoverRequest,
  RejoinReply,
  RejoinRequest,
  ReplicaId,
  PersistRecord,
  Position,
  PromiseReply,
  PromiseRequest,
  Proposal,
  ReadReply,
  ReadRequest,
  ReplicaOneWay,
  ReplicaReply,
  ReplicaRequest,
  Slot,
  SlotMeta,
  WriteReply,
  WriteRequest,
} from './types.js';

/** What handling one message produced. */
export interface ReplicaStep {
  /** To append to the store, in order, before the reply may be sent. */
  readonly records: readonly PersistRecord[];
  /** To send back to the sender once `records` are durable. */
  readonly reply?: ReplicaReply;
}

const NOTHING: ReplicaStep = { records: [] };

/** The single entry point of the acceptor/learner. */
export function replicaStep(
  store: StoreView,
  msg: ReplicaRequest | ReplicaOneWay,
  rules: SafetyRules = ALL_RULES_ON,
): ReplicaStep {
  switch (msg.type) {
    case 'promise':
      return msg.from === undefined ? implicitPromise(store, msg, rules) : explicitPromise(store, msg, rules);
    case 'write':
      return write(store, msg, rules);
    case 'commit':
      return commit(store, msg);
    case 'learned':
      return learned(store, msg);
    case 'read':
      return { records: [], reply: read(store, msg) };
    case 'recover':
      return { records: [], reply: recover(store, msg) };
    case 'rejoin':
      return rejoin(store, msg);
    default:
      return assertNever(msg, 'message');
  }
}

/**
 * The promise in force at a position: the implicit promise, the explicit one,
 * and the proposal of the accepted value (accepting a proposal promises it:
 * a late write under a lower one must not overwrite a value that may be chosen).
 */
export function promiseAt(store: StoreView, position: Position): Proposal {
  const s = store.slot(position);
  return Math.max(store.metadata().promised, s?.promised ?? 0, s?.accepted ?? 0);
}

function promiseReply(
  store: StoreView,
  req: PromiseRequest,
  outcome: PromiseReply['outcome'],
  proposal: Proposal,
  slots: readonly Slot[] = [],
): PromiseReply {
  return {
    type: 'promiseReply',
    rid: req.rid,
    outcome,
    proposal,
    status: store.metadata().status,
    begin: store.begin(),
    end: store.end(),
    learnedThrough: store.learnedThrough(),
    slots,
    generation: generationOf(store.metadata()),
  };
}

/** This replica's disk generation. */
export function generationOf(meta: Metadata): number {
  return meta.generation ?? 0;
}

/** The generation this replica recorded for another member (0 if none). */
export function recordedGeneration(meta: Metadata, member: ReplicaId): number {
  return meta.memberGenerations?.[member] ?? 0;
}

/** True if this replica may vote on the positions in [from, to]. */
function mayVote(store: StoreView, from: Position, to: Position, rules: SafetyRules): boolean {
  if (store.metadata().status !== 'VOTING') return !rules.nonVotingIgnores;
  return !store.lostPositions().some((p) => p >= from && p <= to);
}

function implicitPromise(store: StoreView, req: PromiseRequest, rules: SafetyRules): ReplicaStep {
  // An implicit promise speaks for every position from learnedThrough on; the
  // reply must report all accepted values there, which a lost record cannot.
  if (!mayVote(store, store.learnedThrough() + 1, Number.MAX_SAFE_INTEGER, rules)) {
    return { records: [], reply: promiseReply(store, req, 'ignored', req.proposal) };
  }
  const meta = store.metadata();
  // Above every promise made anywhere, explicit ones included: a number is granted to one proposer only.
  const highest = store.highestProposal();
  const refused = rules.strictPromise ? req.proposal <= highest : req.proposal < meta.promised;
  if (refused) return { records: [], reply: promiseReply(store, req, 'reject', highest) };
  // Report every accepted or learned value above the learned prefix, before the promise.
  const slots = collectSlots(store, store.learnedThrough() + 1, store.end(), Number.MAX_SAFE_INTEGER).slots;
  const records: PersistRecord[] = [{ type: 'metadata', metadata: { ...meta, promised: req.proposal } }];
  return { records, reply: promiseReply(store, req, 'accept', req.proposal, slots) };
}

function explicitPromise(store: StoreView, req: PromiseRequest, rules: SafetyRules): ReplicaStep {
  const from = req.from as Position;
  const to = req.to ?? from;
  // A range the proposer may not ask for (decoding already checked from <= to) is not voted on.
  const tooLarge = to - from >= limits.readSlotsMax;
  if (tooLarge || !mayVote(store, from, to, rules)) {
    return { records: [], reply: promiseReply(store, req, 'ignored', req.proposal) };
  }
  const begin = store.begin();
  const slots: Slot[] = [];
  // Truncated positions answer as learned tombstones, so the proposer stops there.
  for (let p = from; p <= Math.min(to, begin - 1); p++) {
    slots.push({ position: p, promised: 0, accepted: 0, learned: true, action: TOMBSTONE });
  }
  const lo = Math.max(from, begin);
  let highest = 0;
  const toPromise: Position[] = [];
  for (let p = lo; p <= to; p++) {
    const s = store.slot(p);
    if (s?.learned) continue;
    const inForce = promiseAt(store, p);
    const refused = rules.strictPromise ? req.proposal <= inForce : req.proposal < inForce;
    if (refused) highest = Math.max(highest, inForce);
    else toPromise.push(p);
  }
  if (highest > 0) return { records: [], reply: promiseReply(store, req, 'reject', highest) };
  slots.push(...collectSlots(store, lo, to, Number.MAX_SAFE_INTEGER).slots);
  const records: PersistRecord[] = toPromise.map((position) => ({ type: 'promise', position, promised: req.proposal }));
  return { records, reply: promiseReply(store, req, 'accept', req.proposal, slots) };
}

function write(store: StoreView, req: WriteRequest, rules: SafetyRules): ReplicaStep {
  const last = req.from + req.actions.length - 1;
  const meta = store.metadata();
  const reply = (outcome: WriteReply['outcome'], proposal: Proposal, retired: Named[] = []): WriteReply => ({
    type: 'writeReply',
    rid: req.rid,
    outcome,
    proposal,
    from: req.from,
    count: req.actions.length,
    generation: generationOf(meta),
    retired,
  });
  // Proposal 0 means "none": no proposer can hold it (decoding rejects it too).
  if (req.proposal < 1 || !mayVote(store, req.from, last, rules)) return { records: [], reply: reply('ignored', req.proposal) };
  // A proposer that counts a disk this replica knows was replaced could count a
  // forgotten acceptance: refuse, and say which generations are current now.
  const retired = req.named
    .filter((n) => recordedGeneration(meta, n.id) > n.generation)
    .map((n) => ({ id: n.id, generation: recordedGeneration(meta, n.id) }));
  if (retired.length > 0 && rules.refuseRetired) return { records: [], reply: reply('stale', req.proposal, retired) };
  const begin = store.begin();
  const records: PersistRecord[] = [];
  let highest = 0;
  for (let i = 0; i < req.actions.length; i++) {
    const position = req.from + i;
    const action = req.actions[i]!;
    if (position < begin) {
      // Chosen and truncated here: this replica no longer votes on it (the others may, until they learn the truncation).
      return { records: [], reply: reply('ignored', req.proposal) };
    }
    const s = store.slot(position);
    if (s?.learned) {
      const stored = store.action(position);
      if (stored === 'lost' || stored === undefined || !actionsEqual(stored, action)) {
        highest = Math.max(highest, promiseAt(store, position), req.proposal);
      }
      continue;
    }
    const inForce = promiseAt(store, position);
    if (rules.honourPromise && req.proposal < inForce) {
      highest = Math.max(highest, inForce);
      continue;
    }
    records.push({ type: 'accept', position, proposal: req.proposal, action });
  }
  if (highest > 0) return { records: [], reply: reply('reject', highest) };
  return { records, reply: reply('accept', req.proposal) };
}

function recover(store: StoreView, req: RecoverRequest): RecoverReply {
  const meta = store.metadata();
  return {
    type: 'recoverReply',
    rid: req.rid,
    status: meta.status,
    begin: store.begin(),
    end: store.end(),
    generation: generationOf(meta),
    memberGeneration: req.member === undefined ? 0 : recordedGeneration(meta, req.member),
  };
}

/**
 * Records a rejoining member's new generation. The reply (sent only once the
 * record is durable) reports the range the newcomer must catch up to: every
 * write this replica accepts from now on either names the new generation or
 * does not count the member at all, so nothing chosen with the lost disk's
 * help can lie beyond that range unseen.
 */
function rejoin(store: StoreView, req: RejoinRequest): ReplicaStep {
  const meta = store.metadata();
  const recorded = recordedGeneration(meta, req.member);
  const reply = (outcome: RejoinReply['outcome'], generation: number): RejoinReply => ({
    type: 'rejoinReply',
    rid: req.rid,
    outcome,
    status: meta.status,
    begin: store.begin(),
    end: store.end(),
    generation,
  });
  if (meta.status !== 'VOTING') return { records: [], reply: reply('ignored', recorded) };
  if (req.generation < recorded) return { records: [], reply: reply('reject', recorded) };
  if (req.generation === recorded) return { records: [], reply: reply('accept', recorded) };
  const memberGenerations = { ...meta.memberGenerations, [req.member]: req.generation };
  return { records: [{ type: 'metadata', metadata: { ...meta, memberGenerations } }], reply: reply('accept', req.generation) };
}

function commit(store: StoreView, msg: CommitMessage): ReplicaStep {
  if (msg.proposal < 1) return NOTHING;
  // Only worth a record if some position of the range holds that proposal's value unlearned.
  // Positions already learned here need nothing: start above the learned prefix (commits are resent).
  for (const p of store.positions(Math.max(msg.from, store.learnedThrough() + 1), msg.to)) {
    const s = store.slot(p);
    if (s !== undefined && !s.learned && s.accepted === msg.proposal) {
      return { records: [{ type: 'commit', from: msg.from, to: msg.to, proposal: msg.proposal }] };
    }
  }
  return NOTHING;
}

function learned(store: StoreView, msg: LearnedMessage): ReplicaStep {
  const records: PersistRecord[] = [];
  const begin = store.begin();
  for (const e of msg.entries) {
    // A learned position is taken again only to repair its corrupted record.
    if (e.position < begin || (store.slot(e.position)?.learned && store.action(e.position) !== 'lost')) continue;
    records.push({ type: 'learn', position: e.position, action: e.action });
  }
  return records.length === 0 ? NOTHING : { records };
}

function read(store: StoreView, req: ReadRequest): ReadReply {
  const limit = Math.max(1, Math.min(req.limit, limits.readSlotsMax));
  const { slots, coveredThrough, lost } = collectSlots(store, req.from, req.to, limit);
  return {
    type: 'readReply',
    rid: req.rid,
    status: store.metadata().status,
    begin: store.begin(),
    end: store.end(),
    learnedThrough: store.learnedThrough(),
    slots,
    coveredThrough,
    lost,
  };
}

/** The accepted or learned slots in [from, to], with their actions, up to `limit` of them. */
function collectSlots(
  store: StoreView,
  from: Position,
  to: Position,
  limit: number,
): { slots: Slot[]; coveredThrough: Position; lost: Position[] } {
  const slots: Slot[] = [];
  const lost: Position[] = [];
  // Positions whose action is to be read, read together (StoreView.readActions) when the store can.
  let batch: Position[] = [];
  let metas: SlotMeta[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    const actions = store.readActions !== undefined ? store.readActions(batch) : batch.map((p) => store.action(p));
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const s = metas[i]!;
      const action = actions[i];
      if (action === 'lost' || action === undefined) lost.push(p);
      else slots.push({ position: p, promised: s.promised, accepted: s.accepted, learned: s.learned, action });
    }
    batch = [];
    metas = [];
  };
  const visit = (p: Position, s: SlotMeta | undefined): boolean => {
    if (s === undefined) return true;
    if (slots.length + batch.length >= limit) {
      flush();
      if (slots.length >= limit) return false;
    }
    if (s.accepted === 0 && !s.learned) return true;
    batch.push(p);
    metas.push(s);
    return true;
  };
  const lo = Math.max(from, store.begin());
  const hi = Math.min(to, store.end());
  if (hi - lo < 4 * limits.readSlotsMax) {
    // A short range (a catch-up read): every position in turn, without positions()' iterator.
    for (let p = lo; p <= hi; p++) if (!visit(p, store.slot(p))) return { slots, coveredThrough: p - 1, lost };
  } else {
    for (const p of store.positions(from, to)) if (!visit(p, store.slot(p))) return { slots, coveredThrough: p - 1, lost };
  }
  flush();
  return { slots, coveredThrough: to, lost };
}
