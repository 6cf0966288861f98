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
 * - Configurations (docs/reconfiguration.md, R6): a request names the head of
 *   the configuration its ballot is in. A replica whose head is newer answers
 *   'stale-config' to promises and writes that reach above its head's entry;
 *   one whose head is older does not vote for it ('unknown-config' to a
 *   promise, IGNORED to a write). Every reply carries the replica's head, and
 *   promise, read and recover replies its pending config entry (R5).
 * - The change path (R3, R4, R6, R7, R14; acceptor-chain.ts): a replica votes
 *   only at positions whose configuration lists it as a voter (a removed one
 *   answers 'stale-config', others IGNORED), except the config entry's own
 *   write to a voter of the next configuration, which it accepts only once it
 *   holds every position below ('not-ready' before). Ballots not above the
 *   floor of the governing configuration are rejected, naming the floor. A
 *   promise that carries a chosen configuration (`install`) or the links a
 *   replica lacks (`links`) extends its chain first, link by link. Learning
 *   a config entry (a commit, a learned message, an install) extends the chain
 *   in a metadata record written before the learn, in the same step.
 */
import { actionBytes, actionsEqual, TOMBSTONE } from './actions.js';
import { assert, assertNever, isNat } from './assert.js';
import { limits } from './constants.js';
import { isRetired, knownDisks, mergeWitness, ownDisk, recordedDisk, sameDisk } from './identity.js';
import { storedHead } from './config-view.js';
import { chainHead, chainOf, extendChain, floorOver, heldBackLinks, holdsHead, ownAcceptance, truncationCovered, voterStanding, type LearnedLink } from './acceptor-chain.js';
import { BOOTSTRAP_HEAD, compareHeads, governing, heldBelow, type ConfigHead, type PendingConfig, type PlacedConfiguration } from './membership.js';
import { ALL_RULES_ON, type SafetyRules } from './rules.js';
import type { StoreView } from './store.js';
import type {
  Action,
  Metadata,
  CommitMessage,
  LearnedMessage,
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
  ReplicaReply,
  ReplicaRequest,
  Slot,
  SlotMeta,
  WriteReply,
  WriteRequest,
  Witness,
} from './types.js';

/** What handling one message produced. */
export interface ReplicaStep {
  /** To append to the store, in order, before the reply may be sent. */
  readonly records: readonly PersistRecord[];
  /** To send back to the sender once `records` are durable. */
  readonly reply?: ReplicaReply;
}

const NOTHING: ReplicaStep = { records: [] };

/** What the acceptor needs to know besides its store and the message. */
export interface ReplicaContext {
  /** The replica's own id (writes that name it with another disk are refused). */
  readonly self?: ReplicaId;
  /** The sender, when it is a peer replica (its hello named it): a rejoin may record only the sender's own disk. */
  readonly from?: ReplicaId;
  /** A writer holding this replica's implicit promise wrote or committed lately (ReadReply.writerActive). */
  readonly writerActive?: boolean;
  /**
   * What this replica has seen of each member's disk so far (ReplicaNodeCore's
   * in-memory table). Metadata.witnessed is only a copy written every few
   * seconds: a recover reply that carried the copy alone would let a restart
   * check miss progress this replica has already seen.
   */
  readonly witnessed?: Readonly<Record<number, Witness>>;
  /**
   * The highest promise a peer member reported in its state gossip. A replica
   * that lagged (down while the others counted up, or a new disk) measures the
   * proposal bound from here too, else it would refuse every real proposer.
   */
  readonly peersPromised?: Proposal;
  /**
   * The configuration this replica was started with (its --members, epoch
   * 0), the base of its chain while its metadata stores none. Absent: a
   * replica without a stored chain checks no membership (as before
   * reconfiguration), and its first learned link starts its chain.
   */
  readonly bootstrap?: PlacedConfiguration;
}

/** Messages the acceptor/learner answers (PeerStateMessage is the node's business). */
export type AcceptorMessage = Exclude<ReplicaRequest, { type: 'config' }> | CommitMessage | LearnedMessage;

/** The single entry point of the acceptor/learner. */
export function replicaStep(
  store: StoreView,
  msg: AcceptorMessage,
  rules: SafetyRules = ALL_RULES_ON,
  ctx: ReplicaContext = {},
): ReplicaStep {
  assertStoreSane(store);
  const step = answer(store, msg, rules, ctx);
  assertStepSound(store, msg, step, rules);
  return step;
}

function answer(store: StoreView, msg: AcceptorMessage, rules: SafetyRules, ctx: ReplicaContext): ReplicaStep {
  switch (msg.type) {
    case 'promise':
      return msg.from === undefined ? implicitPromise(store, msg, rules, ctx) : explicitPromise(store, msg, rules, ctx);
    case 'write':
      return write(store, msg, rules, ctx);
    case 'commit':
      return commit(store, msg, rules, ctx);
    case 'learned':
      return learned(store, msg, rules, ctx);
    case 'read':
      return { records: [], reply: read(store, msg, ctx) };
    case 'recover':
      return { records: [], reply: recover(store, msg, ctx) };
    case 'rejoin':
      return rejoin(store, msg, ctx);
    default:
      return assertNever(msg, 'message');
  }
}

/** What every decision below takes from the store: checked on entry to every step, in production too. */
function assertStoreSane(store: StoreView): void {
  const begin = store.begin();
  const through = store.learnedThrough();
  const meta = store.metadata();
  assert(isNat(begin) && Number.isSafeInteger(through) && through >= begin - 1, `store bounds: begin ${begin}, learned through ${through}`);
  assert(isNat(meta.promised) && store.highestProposal() >= meta.promised, `store promise ${meta.promised}, highest proposal ${store.highestProposal()}`);
}

/**
 * What no answer of the acceptor may do, whatever the message (the delta
 * checker, src/core/invariants.ts, checks the same rules after the records
 * are applied, in tests and the simulator; these stay on in production):
 * - change its own disk identity or status (the recovery's business);
 * - lower its implicit promise;
 * - accept below the promise in force at a position (with honourPromise);
 * - vote while not VOTING (with nonVotingIgnores): no promise, no
 *   acceptance, no accepting answer to a promise or a write.
 */
function assertStepSound(store: StoreView, msg: AcceptorMessage, step: ReplicaStep, rules: SafetyRules): void {
  const meta = store.metadata();
  const voting = meta.status === 'VOTING' || !rules.nonVotingIgnores;
  for (const r of step.records) {
    if (r.type === 'metadata') {
      const m = r.metadata;
      assert(m.status === meta.status && m.incarnation === meta.incarnation && m.generation === meta.generation && m.disk === meta.disk, `the acceptor changed its disk or status: ${msg.type}`);
      assert(m.promised >= meta.promised, `the acceptor lowered its promise from ${meta.promised} to ${m.promised}: ${msg.type}`);
      assert(voting || m.promised === meta.promised, `a ${meta.status} replica promised ${m.promised}`);
    } else if (r.type === 'accept') {
      assert(voting, `a ${meta.status} replica accepted at ${r.position}`);
      assert(!rules.honourPromise || r.proposal >= promiseAt(store, r.position), `accepted ${r.proposal} at ${r.position} below the promise in force ${promiseAt(store, r.position)}`);
    } else if (r.type === 'promise') {
      assert(voting, `a ${meta.status} replica promised at ${r.position}`);
    }
  }
  const reply = step.reply;
  if ((reply?.type === 'promiseReply' || reply?.type === 'writeReply') && reply.outcome === 'accept') assert(voting, `a ${meta.status} replica answered accept to a ${msg.type}`);
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
  coveredThrough: Position = store.end(),
): PromiseReply {
  const meta = store.metadata();
  const pending = pendingConfig(store);
  return {
    type: 'promiseReply',
    rid: req.rid,
    outcome,
    proposal,
    status: meta.status,
    begin: store.begin(),
    end: store.end(),
    learnedThrough: store.learnedThrough(),
    slots,
    coveredThrough,
    generation: meta.generation ?? 0,
    disk: meta.disk ?? 0,
    config: storedHead(meta),
    ...(pending === undefined ? {} : { pending }),
  };
}

/**
 * R6: how a request's configuration (its head, `theirs`) stands against this
 * replica's latest learned one, for a request reaching up to `to`:
 * - 'stale': this replica learned a newer configuration, and the request
 *   reaches above its entry, where the request's configuration no longer
 *   governs (a ballot of an older configuration must not be counted there);
 * - 'unknown': the request's configuration is newer than any this replica
 *   learned: it cannot tell whether it is a voter there, so it does not vote;
 * - 'ok': the same configuration, or an older one at positions it still governs.
 * With one configuration (every head the bootstrap one) it is always 'ok'.
 */
export function configStanding(store: StoreView, theirs: ConfigHead | undefined, to: Position, rules: SafetyRules): 'ok' | 'stale' | 'unknown' {
  const mine = storedHead(store.metadata());
  const c = compareHeads(theirs ?? BOOTSTRAP_HEAD, mine);
  if (c < 0 && to > mine.position && rules.staleConfig) return 'stale';
  if (c > 0 && rules.unknownConfig) return 'unknown';
  return 'ok';
}

/**
 * The config entry this replica holds above its head, if any (R5): the
 * lowest such position, the first stop sign a proposer must meet. Accepted
 * and unlearned, or learned and held back (its predecessor is missing): an
 * entry stays pending until it is chained (R14). Needs a store that tracks
 * config entries (StoreView.pendingConfigs).
 */
export function pendingConfig(store: StoreView): PendingConfig | undefined {
  const head = storedHead(store.metadata());
  for (const p of store.pendingConfigs?.() ?? []) {
    if (p <= head.position) continue;
    const s = store.slot(p);
    const action = store.action(p);
    if (s === undefined || action === undefined || action === 'lost' || action.kind !== 'config') continue;
    return { position: p, proposal: s.accepted, config: action.config };
  }
  return undefined;
}

/**
 * A proposal a replica may promise or accept: at most limits.proposalMax, and at most
 * limits.proposalStepMax above the highest it knows: its own, or a peer's promise from gossip (a
 * replica that lagged, or a new disk, must not refuse every real proposer). Proposers count up by
 * one from the highest they saw, so no real one jumps that far; a single hostile promise of the
 * bound itself would otherwise leave no number above it, and no writer could ever be elected again.
 * A hostile proposer can still raise the numbers by proposalStepMax per gossip round (2^30 rounds
 * to the bound); shutting it out needs authenticated roles.
 */
function saneProposal(store: StoreView, proposal: Proposal, ctx: ReplicaContext): boolean {
  const known = Math.max(store.highestProposal(), ctx.peersPromised ?? 0);
  return proposal <= limits.proposalMax && proposal <= known + limits.proposalStepMax;
}

/** True if this replica may vote on the positions in [from, to]. */
function mayVote(store: StoreView, from: Position, to: Position, rules: SafetyRules): boolean {
  if (store.metadata().status !== 'VOTING') return !rules.nonVotingIgnores;
  return !store.lostPositions().some((p) => p >= from && p <= to);
}

/**
 * R4, R6: the configurations a promise carries (`links`, then `install`)
 * that extend this replica's chain, installed as learned: the new chain in a
 * metadata record, then a learn record for each entry this replica holds
 * positions for. Returns the store as it will be (its metadata) and the
 * records, or nothing to do.
 */
function installFrom(store: StoreView, req: PromiseRequest, ctx: ReplicaContext): { store: StoreView; records: PersistRecord[] } {
  const offered = [...(req.links ?? []), ...(req.install === undefined ? [] : [req.install])];
  if (offered.length === 0) return { store, records: [] };
  const meta = store.metadata();
  const before = chainOf(meta, ctx.bootstrap);
  const links: LearnedLink[] = offered.map((c) => {
    const { position, floor, ...config } = c;
    // The higher of the teller's floor and this replica's own acceptance of the entry: a teller that
    // copied the entry without its floor may offer a weaker one than the ballot this replica accepted
    // it under (attack5-weak-floor-e2e).
    return { position, floor: Math.max(floor, ownAcceptance(store, position, config) ?? 0), config };
  });
  const after = extendChain(before, [...links, ...heldBackLinks(store, before)]);
  if (after === before || after === undefined) return { store, records: [] };
  const metadata = { ...meta, configs: after };
  const records: PersistRecord[] = [{ type: 'metadata', metadata }];
  const far = farEnd(store);
  for (const c of after.slice(before?.length ?? 0)) {
    if (c.position < store.begin() || c.position > far || store.slot(c.position)?.learned) continue;
    const { position, floor: _floor, ...config } = c;
    records.push({ type: 'learn', position, action: { kind: 'config', config } });
  }
  return { store: withMetadata(store, metadata), records };
}

/** A store seen with other metadata (the metadata a record of this step will write). */
export function withMetadata(store: StoreView, metadata: Metadata): StoreView {
  return new Proxy(store, {
    get: (t, k) => {
      if (k === 'metadata') return () => metadata;
      const v: unknown = Reflect.get(t, k);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** Prepends records to a step's. */
function prefixed(records: readonly PersistRecord[], step: ReplicaStep): ReplicaStep {
  return records.length === 0 ? step : { ...step, records: [...records, ...step.records] };
}

/**
 * R6, R7 (switch removedStaysOut), R6's floor (switch configFloor): whether
 * this replica may vote for `proposal` over [from, to]. A refusal is the
 * outcome to answer with: 'stale-config' (removed), 'ignored' (not a voter
 * there), or a reject naming the floor.
 */
function membershipRefusal(
  store: StoreView,
  from: Position,
  to: Position,
  proposal: Proposal,
  rules: SafetyRules,
  ctx: ReplicaContext,
): { outcome: 'stale-config' | 'ignored' } | { outcome: 'reject'; floor: Proposal } | undefined {
  const chain = chainOf(store.metadata(), ctx.bootstrap);
  if (rules.removedStaysOut) {
    const standing = voterStanding(chain, ctx.self, from, to);
    if (standing === 'removed') return { outcome: 'stale-config' };
    if (standing === 'not-voter') return { outcome: 'ignored' };
  }
  const floor = floorOver(chain, from, to);
  if (rules.configFloor && proposal <= floor) return { outcome: 'reject', floor };
  return undefined;
}

/**
 * R3: the config entry's write to a voter of the next configuration that is
 * not a voter of the current one (a promoted learner): one action, the
 * configuration of the epoch after the one governing its position, listing
 * this replica as a voter (a replica that learned it since answers as for
 * any learned value).
 */
function jointWrite(store: StoreView, req: WriteRequest, ctx: ReplicaContext): boolean {
  const chain = chainOf(store.metadata(), ctx.bootstrap);
  if (chain === undefined || ctx.self === undefined || req.actions.length !== 1) return false;
  const a = req.actions[0]!;
  const c = governing(chain, req.from);
  return a.kind === 'config' && c !== undefined && a.config.epoch === c.epoch + 1 && a.config.voters.some((m) => m.id === ctx.self);
}

function implicitPromise(store0: StoreView, req: PromiseRequest, rules: SafetyRules, ctx: ReplicaContext): ReplicaStep {
  const install = installFrom(store0, req, ctx);
  return prefixed(install.records, implicitPromiseIn(install.store, req, rules, ctx));
}

function implicitPromiseIn(store: StoreView, req: PromiseRequest, rules: SafetyRules, ctx: ReplicaContext): ReplicaStep {
  // An implicit promise speaks for every position from learnedThrough on; the
  // reply must report all accepted values there, which a lost record cannot.
  if (!mayVote(store, store.learnedThrough() + 1, Number.MAX_SAFE_INTEGER, rules) || !saneProposal(store, req.proposal, ctx)) {
    return { records: [], reply: promiseReply(store, req, 'ignored', req.proposal) };
  }
  // An implicit promise reaches every position: a newer head here makes it stale.
  const standing = configStanding(store, req.config, Number.MAX_SAFE_INTEGER, rules);
  if (standing !== 'ok') return { records: [], reply: promiseReply(store, req, standing === 'stale' ? 'stale-config' : 'unknown-config', req.proposal) };
  // Its ballot is in the latest configuration: a voter of that one only votes (R7), above its floor (R6).
  const refusal = membershipRefusal(store, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, req.proposal, rules, ctx);
  if (refusal !== undefined) return { records: [], reply: promiseReply(store, req, refusal.outcome, refusal.outcome === 'reject' ? refusal.floor : req.proposal) };
  const meta = store.metadata();
  // The proposer that holds this number here asks again (its reply was lost, or it counts its members anew).
  const again = req.nonce !== undefined && req.nonce !== 0 && req.proposal === meta.promised && meta.promisedBy === req.nonce;
  // Otherwise above every promise made anywhere, explicit ones included: a number is granted to one proposer only.
  const highest = store.highestProposal();
  const refused = !again && (rules.strictPromise ? req.proposal <= highest && bindingAtLeast(store, req.proposal) : req.proposal < meta.promised);
  if (refused) return { records: [], reply: promiseReply(store, req, 'reject', highest) };
  // Report every accepted or learned value above the learned prefix, up to the reply's byte bound
  // (the proposer reads the rest): what was accepted before the promise, and anything since.
  const { slots, coveredThrough } = collectSlots(store, store.learnedThrough() + 1, store.end(), limits.readSlotsMax);
  const records: PersistRecord[] = again
    ? []
    : [{ type: 'metadata', metadata: { ...meta, promised: req.proposal, promisedBy: req.nonce ?? 0 } }];
  return { records, reply: promiseReply(store, req, 'accept', req.proposal, slots, coveredThrough) };
}

/**
 * True if a proposal of at least `proposal` still binds a vote this replica may
 * cast: its implicit promise, or a promise or acceptance at any position above
 * its learned prefix. Positions within the prefix bind nothing more: every
 * election whose quorum includes this replica sees L >= learnedThrough and
 * never writes or commits there, just as a disk that caught up by copying the
 * learned prefix holds no proposal for it. Without this, a disk that kept its
 * records through a rejoin (damaged metadata) refuses the live writer its own
 * number for good, for the writer's own values it learned since.
 *
 * A learned position *above* a gap still binds: another proposer (a fill)
 * may hold that number at replicas that have not learned it, and an election
 * re-proposes there under its own number; a commit naming only the number
 * would then teach the fill's value (test/core/attack-learned-binding.test.ts).
 */
function bindingAtLeast(store: StoreView, proposal: Proposal): boolean {
  if (store.metadata().promised >= proposal) return true;
  for (const p of store.positions(store.learnedThrough() + 1, limits.positionMax)) {
    const s = store.slot(p);
    if (s !== undefined && Math.max(s.promised, s.accepted) >= proposal) return true;
  }
  return false;
}

function explicitPromise(store0: StoreView, req: PromiseRequest, rules: SafetyRules, ctx: ReplicaContext): ReplicaStep {
  const install = installFrom(store0, req, ctx);
  return prefixed(install.records, explicitPromiseIn(install.store, req, rules, ctx));
}

function explicitPromiseIn(store: StoreView, req: PromiseRequest, rules: SafetyRules, ctx: ReplicaContext): ReplicaStep {
  const from = req.from as Position;
  const to = req.to ?? from;
  // A range the proposer may not ask for (decoding already checked from <= to) is not voted on.
  const tooLarge = to - from >= limits.fillRangeMax || to > limits.positionMax || !saneProposal(store, req.proposal, ctx);
  if (tooLarge || !mayVote(store, from, to, rules)) {
    return { records: [], reply: promiseReply(store, req, 'ignored', req.proposal, [], to) };
  }
  const standing = configStanding(store, req.config, to, rules);
  if (standing !== 'ok') return { records: [], reply: promiseReply(store, req, standing === 'stale' ? 'stale-config' : 'unknown-config', req.proposal, [], to) };
  const refusal = membershipRefusal(store, from, to, req.proposal, rules, ctx);
  if (refusal !== undefined) return { records: [], reply: promiseReply(store, req, refusal.outcome, refusal.outcome === 'reject' ? refusal.floor : req.proposal, [], to) };
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
  if (highest > 0) return { records: [], reply: promiseReply(store, req, 'reject', highest, [], to) };
  const collected = collectSlots(store, lo, to, limits.readSlotsMax);
  for (const s of collected.slots) slots.push(s);
  const records: PersistRecord[] = toPromise.map((position) => ({ type: 'promise', position, promised: req.proposal }));
  return { records, reply: promiseReply(store, req, 'accept', req.proposal, slots, collected.coveredThrough) };
}

/** Positions beyond this are far ahead of this replica: it is caught up in bulk instead (limits.positionsBeyondEndMax). */
function farEnd(store: StoreView): Position {
  return Math.min(limits.positionMax, Math.max(store.end(), store.learnedThrough()) + limits.positionsBeyondEndMax);
}

/** A TRUNCATE may remove only positions before its own: one reaching past it would empty the log for good. */
function saneAt(position: Position, action: Action): boolean {
  return action.kind !== 'truncate' || action.to <= position;
}

/**
 * R14: a TRUNCATE's head of config(to) names a configuration this replica's chain holds. An honest one
 * always does (the replica holds the chain through the request's head, R6, and config(to) is at or below
 * it); one that names no configuration of the log could never be learned anywhere (truncationCovered),
 * and would stop every learned prefix below it (attack6-truncate-head-stall).
 */
function saneHead(store: StoreView, action: Action, ctx: ReplicaContext): boolean {
  return action.kind !== 'truncate' || action.config === undefined || holdsHead(chainOf(store.metadata(), ctx.bootstrap), action.config);
}

function write(store: StoreView, req: WriteRequest, rules: SafetyRules, ctx: ReplicaContext): ReplicaStep {
  const last = req.from + req.actions.length - 1;
  const meta = store.metadata();
  const reply = (outcome: WriteReply['outcome'], proposal: Proposal, retired: Named[] = []): WriteReply => ({
    type: 'writeReply',
    rid: req.rid,
    outcome,
    proposal,
    from: req.from,
    count: req.actions.length,
    generation: meta.generation ?? 0,
    disk: meta.disk ?? 0,
    retired,
    config: storedHead(meta),
    learnedThrough: store.learnedThrough(),
    lostBelow: store.lostPositions().some((p) => p < req.from),
  });
  // Proposal 0 means "none": no proposer can hold it (decoding rejects it too). A write far
  // beyond this replica's end, or with a truncation past its own position, is not voted on.
  const insane = req.proposal < 1 || !saneProposal(store, req.proposal, ctx) || last > farEnd(store) || req.actions.some((a, i) => !saneAt(req.from + i, a) || !saneHead(store, a, ctx));
  if (insane || !mayVote(store, req.from, last, rules)) return { records: [], reply: reply('ignored', req.proposal) };
  // A write carries no configuration to learn: of an unknown one, it is not voted on (its promise brings the chain, step 4).
  const standing = configStanding(store, req.config, last, rules);
  if (standing !== 'ok') return { records: [], reply: reply(standing === 'stale' ? 'stale-config' : 'ignored', req.proposal) };
  const refusal = membershipRefusal(store, req.from, last, req.proposal, rules, ctx);
  if (refusal !== undefined && !(refusal.outcome === 'ignored' && jointWrite(store, req, ctx))) {
    return { records: [], reply: reply(refusal.outcome, refusal.outcome === 'reject' ? refusal.floor : req.proposal) };
  }
  // R3: a new voter accepts the config entry only once it holds every position below it.
  if (refusal !== undefined && rules.caughtUpToAccept && !heldBelow(req.from, store.learnedThrough(), store.lostPositions().some((p) => p < req.from))) {
    return { records: [], reply: reply('not-ready', req.proposal) };
  }
  // A proposer that counts a disk this replica knows was replaced could count a
  // forgotten acceptance: refuse, and say which disks are current now. That
  // includes this replica's own earlier disks.
  const retired: Named[] = [];
  for (const n of req.named) {
    const known = ctx.self === n.id ? ownDisk(meta) : recordedDisk(meta, n.id);
    if (isRetired(known, n)) retired.push({ id: n.id, ...known });
  }
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

function recover(store: StoreView, req: RecoverRequest, ctx: ReplicaContext): RecoverReply {
  const meta = store.metadata();
  const member = req.member === undefined ? undefined : recordedDisk(meta, req.member);
  const self = ctx.self ?? 0;
  // The freshest of what this replica saw of that disk: the in-memory table and the persisted copy.
  const witness = req.member === undefined ? undefined : mergeWitness(meta.witnessed?.[req.member], ctx.witnessed?.[req.member]);
  return {
    type: 'recoverReply',
    rid: req.rid,
    status: meta.status,
    begin: store.begin(),
    end: store.end(),
    incarnation: meta.incarnation,
    generation: meta.generation ?? 0,
    disk: meta.disk ?? 0,
    memberGeneration: member?.generation ?? 0,
    memberDisk: member?.disk ?? 0,
    recorded: self === 0 ? [] : knownDisks(meta, self),
    ...(witness === undefined ? {} : { witness }),
    ...(meta.startView === undefined ? {} : { startView: Object.entries(meta.startView).map(([id, incarnation]) => ({ id: Number(id), incarnation })) }),
    config: storedHead(meta),
    ...withPending(store),
  };
}

function withPending(store: StoreView): { pending?: PendingConfig } {
  const pending = pendingConfig(store);
  return pending === undefined ? {} : { pending };
}

/**
 * Records a rejoining member's new disk. The reply (sent only once the
 * record is durable) reports the range the newcomer must catch up to: every
 * write this replica accepts from now on either names the new disk or does
 * not count the member at all, so nothing chosen with the lost disk's help
 * can lie beyond that range unseen. Only the member itself may ask (a peer's
 * hello names it), and only for a newer disk than the one recorded.
 */
function rejoin(store: StoreView, req: RejoinRequest, ctx: ReplicaContext): ReplicaStep {
  const meta = store.metadata();
  const recorded = recordedDisk(meta, req.member);
  const reply = (outcome: RejoinReply['outcome'], d: { generation: number; disk: number }): RejoinReply => ({
    type: 'rejoinReply',
    rid: req.rid,
    outcome,
    status: meta.status,
    begin: store.begin(),
    end: store.end(),
    generation: d.generation,
    disk: d.disk,
  });
  if (ctx.from !== req.member || req.member === ctx.self || req.generation > limits.proposalMax) return { records: [], reply: reply('ignored', recorded) };
  if (meta.status !== 'VOTING') return { records: [], reply: reply('ignored', recorded) };
  if (sameDisk(recorded, req)) return { records: [], reply: reply('accept', recorded) };
  if (req.generation <= recorded.generation) return { records: [], reply: reply('reject', recorded) };
  const next = { generation: req.generation, disk: req.disk };
  const metadata = { ...meta, recorded: { ...meta.recorded, [req.member]: next } };
  return { records: [{ type: 'metadata', metadata }], reply: reply('accept', next) };
}

function commit(store: StoreView, msg: CommitMessage, rules: SafetyRules, ctx: ReplicaContext): ReplicaStep {
  if (msg.proposal < 1) return NOTHING;
  // Only worth a record if some position of the range holds that proposal's value unlearned.
  // Positions already learned here need nothing: start above the learned prefix (commits are resent).
  // Nothing lies above end: a commit reaching beyond it is cut there (no walk towards a far position).
  let to = Math.min(msg.to, store.end());
  if (rules.chainBeforeTruncate) to = Math.min(to, truncationCut(store, msg.from, to, msg.proposal, ctx));
  for (const p of store.positions(Math.max(msg.from, store.learnedThrough() + 1), to)) {
    const s = store.slot(p);
    if (s !== undefined && !s.learned && s.accepted === msg.proposal) {
      return withChain(store, ctx, [{ type: 'commit', from: msg.from, to, proposal: msg.proposal }], committedLinks(store, msg.from, to, msg.proposal));
    }
  }
  return NOTHING;
}

/**
 * R14: the last position a commit of [from, to] under `proposal` may teach:
 * just below the first TRUNCATE it would teach whose config(to) this
 * replica's chain (with the config entries the commit teaches below it) does
 * not hold; `to` if there is none. The rest is learned once the chain is
 * here (a resent commit, or a copy).
 */
function truncationCut(store: StoreView, from: Position, to: Position, proposal: Proposal, ctx: ReplicaContext): Position {
  const lo = Math.max(from, store.learnedThrough() + 1);
  const truncates = (store.pendingTruncates?.() ?? []).filter((t) => t.position >= lo && t.position <= to).sort((a, b) => a.position - b.position);
  for (const t of truncates) {
    if (t.to <= store.begin() || store.slot(t.position)?.accepted !== proposal) continue;
    const before = chainOf(store.metadata(), ctx.bootstrap);
    const links = committedLinks(store, from, t.position - 1, proposal);
    const chain = links.length === 0 ? before : extendChain(before, [...links, ...heldBackLinks(store, before)]);
    const action = store.action(t.position);
    const head = action !== undefined && action !== 'lost' && action.kind === 'truncate' ? action.config : undefined;
    if (!truncationCovered(store.begin(), chain, t.to, head, unchainedConfigs(store, chain))) return t.position - 1;
  }
  return to;
}

/** Config entries a commit of [from, to] under `proposal` teaches, with that proposal as their floor. */
function committedLinks(store: StoreView, from: Position, to: Position, proposal: Proposal): LearnedLink[] {
  const out: LearnedLink[] = [];
  const lo = Math.max(from, store.learnedThrough() + 1);
  // A store that tracks its unlearned config entries (all of them do but hand-made ones) answers without a
  // walk over the range: commits are sent for every batch and resent for the whole term.
  const candidates = store.pendingConfigs !== undefined ? store.pendingConfigs().filter((p) => p >= lo && p <= to) : store.positions(lo, to);
  for (const p of candidates) {
    const s = store.slot(p);
    if (s === undefined || s.learned || s.accepted !== proposal || s.kind !== 'config') continue;
    const a = store.action(p);
    if (a !== undefined && a !== 'lost' && a.kind === 'config') out.push({ position: p, config: a.config, floor: proposal });
  }
  return out;
}

/**
 * R14: the records of a step that learns config entries (`links`), with the
 * chain they extend written first (a crash between the two leaves a chain
 * ahead of the log, never behind it). Entries learned before their
 * predecessor stay out of the chain until it comes (acceptor-chain.ts).
 */
function withChain(store: StoreView, ctx: ReplicaContext, records: PersistRecord[], links: readonly LearnedLink[]): ReplicaStep {
  if (links.length === 0) return { records };
  const meta = store.metadata();
  const before = chainOf(meta, ctx.bootstrap);
  const after = extendChain(before, [...links, ...heldBackLinks(store, before)]);
  if (after === before || after === undefined) return { records };
  return { records: [{ type: 'metadata', metadata: { ...meta, configs: after } }, ...records] };
}

function learned(store: StoreView, msg: LearnedMessage, rules: SafetyRules, ctx: ReplicaContext): ReplicaStep {
  const records: PersistRecord[] = [];
  const begin = store.begin();
  const far = farEnd(store);
  for (const e of msg.entries) {
    // A learned position is taken again only to repair its corrupted record. Far-out positions and
    // truncations past their own position are not sane (caught up in bulk, or refused).
    if (e.position < begin || e.position > far || !saneAt(e.position, e.action)) continue;
    if (store.slot(e.position)?.learned && store.action(e.position) !== 'lost') continue;
    records.push({ type: 'learn', position: e.position, action: e.action });
  }
  if (records.length === 0) return NOTHING;
  const links: LearnedLink[] = [];
  /** Config entries not taken: no floor to chain them with (see below). */
  const floorless = new Set<Position>();
  for (const r of records) {
    if (r.type !== 'learn' || r.action.kind !== 'config') continue;
    // The higher of the floor its teller names (the sender fills it from its chain: catch-up, the harness's
    // copies) and the ballot this replica accepted the same entry under. Never another value's ballot: it is
    // below the floor R6 needs. A copy that names no floor, of an entry this replica never accepted, is not
    // taken (attack5-weak-floor): floor 0 would let ballots of the new configuration that are not above the
    // entry's own ballot in; a later copy that names it, or R4's install, brings it again.
    const named = msg.floors?.find((f) => f.position === r.position)?.floor;
    const own = ownAcceptance(store, r.position, r.action.config);
    if (named === undefined && own === undefined && rules.configFloor) {
      floorless.add(r.position);
      continue;
    }
    links.push({ position: r.position, config: r.action.config, floor: Math.max(named ?? 0, own ?? 0) });
  }
  // A config entry that cannot be chained yet (its predecessor is not learned here) is not learned
  // either: its floor would be lost before the predecessor comes, and a later copy brings it again.
  const before = chainOf(store.metadata(), ctx.bootstrap);
  const after = links.length === 0 ? before : extendChain(before, [...links, ...heldBackLinks(store, before)]);
  const head = after?.[after.length - 1]?.epoch ?? 0;
  const waiting = new Set([...floorless, ...links.filter((l) => l.config.epoch > head).map((l) => l.position)]);
  // R14: a TRUNCATE whose config(to) this replica's chain (as this step leaves it) does not hold is not
  // taken: its beginning would pass a configuration it never learned (attack5-truncate-past-entry). The
  // chain comes with a peer's beginning (catch-up), an install, or a copy of the config entry itself.
  if (rules.chainBeforeTruncate) {
    const unchained = unchainedConfigs(store, after);
    for (const r of records) {
      if (r.type !== 'learn' || r.action.kind !== 'truncate') continue;
      if (!truncationCovered(begin, after, r.action.to, r.action.config, unchained)) waiting.add(r.position);
    }
  }
  const kept = waiting.size === 0 ? records : records.filter((r) => !(r.type === 'learn' && waiting.has(r.position)));
  if (kept.length === 0) return NOTHING;
  return withChain(store, ctx, kept, links.filter((l) => !waiting.has(l.position)));
}

/** Positions of config entries this replica holds (accepted, or learned and held back) above the head of `chain`. */
function unchainedConfigs(store: StoreView, chain: readonly PlacedConfiguration[] | undefined): Position[] {
  const reach = chainHead(chain).position;
  return (store.pendingConfigs?.() ?? []).filter((p) => p > reach);
}

function read(store: StoreView, req: ReadRequest, ctx: ReplicaContext): ReadReply {
  const limit = Math.max(1, Math.min(req.limit, limits.readSlotsMax));
  const { slots, coveredThrough, lost } = collectSlots(store, req.from, req.to, limit);
  const truncate = pendingTruncate(store);
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
    writerActive: ctx.writerActive ?? false,
    ...(truncate === undefined ? {} : { pendingTruncate: truncate }),
    config: storedHead(store.metadata()),
    ...withPending(store),
    ...chainFor(store, req, slots),
  };
}

/**
 * ReadReply.chain: the stored chain, when the reader needs it (the
 * beginning lies above the range asked, or a learned config entry is among
 * the slots); nothing otherwise, and nothing without a stored chain.
 */
function chainFor(store: StoreView, req: ReadRequest, slots: readonly Slot[]): { chain?: readonly PlacedConfiguration[] } {
  const chain = store.metadata().configs;
  if (chain === undefined || chain.length === 0) return {};
  const needed = store.begin() > req.from || slots.some((s) => s.learned && s.action?.kind === 'config');
  return needed ? { chain } : {};
}

/**
 * The accepted, unlearned TRUNCATE with the highest `to` above the beginning, if any; of two with the same
 * `to`, the lower position (whatever order they were accepted in: the store lists them so).
 */
function pendingTruncate(store: StoreView): { position: Position; to: Position } | undefined {
  let best: { position: Position; to: Position } | undefined;
  for (const t of store.pendingTruncates?.() ?? []) {
    if (t.to <= store.begin()) continue;
    if (best === undefined || t.to > best.to || (t.to === best.to && t.position < best.position)) best = t;
  }
  return best;
}

/** The fewest positions a reply reads together (collectSlots). */
const READ_BATCH_MIN = 64;

/**
 * The accepted or learned slots in [from, to], with their actions: at most
 * `limit` slots and about limits.replyBytesMax entry bytes (always at least
 * one slot, so an entry larger than the bound still travels alone).
 * `coveredThrough` is the last position looked at: the asker continues after it.
 */
function collectSlots(
  store: StoreView,
  from: Position,
  to: Position,
  limit: number,
): { slots: Slot[]; coveredThrough: Position; lost: Position[] } {
  assert(limit >= 1, 'a reply carries at least one slot');
  const slots: Slot[] = [];
  const lost: Position[] = [];
  let bytes = 0;
  // Positions whose action is to be read, read together (StoreView.readActions) when the store can.
  let batch: Position[] = [];
  let metas: SlotMeta[] = [];
  /** Reads the batch; returns the position to stop before if the byte bound was reached inside it. */
  const flush = (): Position | undefined => {
    if (batch.length === 0) return undefined;
    const actions = store.readActions !== undefined ? store.readActions(batch) : batch.map((p) => store.action(p));
    let stopAt: Position | undefined;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const s = metas[i]!;
      const action = actions[i];
      if (action === 'lost' || action === undefined) {
        lost.push(p);
        continue;
      }
      const size = actionBytes(action);
      // A reply already full takes nothing more, not even an entry of no bytes (a NOP): the same bound as
      // full() between runs, so where a reply ends does not depend on where a run did.
      if (slots.length > 0 && (bytes >= limits.replyBytesMax || bytes + size > limits.replyBytesMax)) {
        stopAt = p;
        break;
      }
      bytes += size;
      slots.push({ position: p, promised: s.promised, accepted: s.accepted, learned: s.learned, action });
    }
    batch = [];
    metas = [];
    grow();
    return stopAt;
  };
  const full = (): boolean => slots.length >= limit || bytes >= limits.replyBytesMax;
  /**
   * Positions read together. It starts small so the byte bound is checked
   * before reading far more than fits, then doubles while the bytes left
   * would hold twice as many entries of the mean size so far: small entries
   * are read in a few large runs, not one run (and its tail read, see
   * record-reader.ts) per 64 positions, which made a full read cost its
   * replica many times the reply's bytes in reads and memory (issue 20, item 3).
   */
  let batchMax = READ_BATCH_MIN;
  const grow = (): void => {
    if (slots.length === 0) return;
    const mean = Math.max(1, bytes / slots.length);
    if ((limits.replyBytesMax - bytes) / mean >= 2 * batchMax) batchMax = Math.min(2 * batchMax, limit);
  };
  /** Visits one position; returns the position to stop before, if the reply is full. */
  const visit = (p: Position, s: SlotMeta | undefined): Position | undefined => {
    if (s === undefined || (s.accepted === 0 && !s.learned)) return undefined;
    if (slots.length + batch.length >= limit || batch.length >= batchMax) {
      const stop = flush();
      if (stop !== undefined) return stop;
    }
    if (full()) return p;
    batch.push(p);
    metas.push(s);
    return undefined;
  };
  const lo = Math.max(from, store.begin());
  const hi = Math.min(to, store.end());
  if (hi - lo < 4 * limits.readSlotsMax) {
    // A short range (a catch-up read): every position in turn, without positions()' iterator.
    for (let p = lo; p <= hi; p++) {
      const stop = visit(p, store.slot(p));
      if (stop !== undefined) return { slots, coveredThrough: stop - 1, lost };
    }
  } else {
    for (const p of store.positions(lo, hi)) {
      const stop = visit(p, store.slot(p));
      if (stop !== undefined) return { slots, coveredThrough: stop - 1, lost };
    }
  }
  const stop = flush();
  if (stop !== undefined) return { slots, coveredThrough: stop - 1, lost };
  return { slots, coveredThrough: to, lost };
}
