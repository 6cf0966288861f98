/**
 * Membership rules, pure: what a configuration is, its quorums, which changes
 * are valid, which changes the liveness guard lets through, when a config
 * entry counts as chosen (the joint, caught-up count), and which
 * configuration governs a position. docs/reconfiguration.md has the design;
 * the rule numbers (R2, R3, R10, S1, ...) are the ones used there.
 *
 * The cores use it through a configuration view (config-view.ts): step 3 of
 * the plan made them configuration-aware with one configuration. The change
 * path (R2 to R7) is step 4. One implementation of these rules serves the
 * CLI, the writer and the acceptor (etcd's quorum check on promotion once
 * counted differently from its raft layer: #11633).
 */
import { assert } from './assert.js';
import { quorumSize } from './quorum.js';
import type { Member, Position, Proposal, ReplicaId } from './types.js';

/** The value of a config entry: a whole configuration. */
export interface Configuration {
  /** 0: the configuration the cluster was bootstrapped with; each change adds one. */
  readonly epoch: number;
  /** Ascending ids. Only voters count in quorums. */
  readonly voters: readonly Member[];
  /** Ascending ids, disjoint from the voters: they receive the log and never vote. */
  readonly learners: readonly Member[];
  /** Above every member id ever used: ids are never reused (a removed id's old disks and messages stay foreign). */
  readonly nextId: ReplicaId;
  /** The change request that made this configuration (retries of it are recognised). */
  readonly changeId?: string;
}

/** A chosen configuration with where its entry is (-1 for epoch 0) and its ballot floor (R4, R6). */
export interface PlacedConfiguration extends Configuration {
  readonly position: Position;
  readonly floor: Proposal;
}

/** How messages name a learned configuration: two chosen configurations never share a head. */
export interface ConfigHead {
  readonly epoch: number;
  readonly position: Position;
}

/** An accepted, not learned, config entry a replica holds above its head (R5: replies report it). */
export interface PendingConfig {
  readonly position: Position;
  readonly proposal: Proposal;
  readonly config: Configuration;
}

/** The head of the bootstrap configuration: what a request without a head is taken to name. */
export const BOOTSTRAP_HEAD: ConfigHead = Object.freeze({ epoch: 0, position: -1 });

export type MembershipChange =
  /** A new member, as a learner. */
  | { readonly kind: 'add'; readonly member: Member }
  /** A learner becomes a voter. */
  | { readonly kind: 'promote'; readonly id: ReplicaId }
  /** A voter or learner leaves for good. */
  | { readonly kind: 'remove'; readonly id: ReplicaId }
  /** `replacement`, a learner already, takes `old`'s role; `old` leaves. */
  | { readonly kind: 'replace'; readonly old: ReplicaId; readonly replacement: ReplicaId }
  /** A member moves to another address. */
  | { readonly kind: 'address'; readonly id: ReplicaId; readonly address: string }
  /** The whole membership at once, among current members (new ids are added first, as learners). */
  | { readonly kind: 'set'; readonly voters: readonly ReplicaId[]; readonly learners: readonly ReplicaId[] };

export type Role = 'voter' | 'learner' | 'removed' | 'none';

export type RefusalReason =
  | 'invalid'
  | 'unknown-member'
  | 'id-used'
  | 'address-used'
  | 'not-a-learner'
  | 'no-voters'
  | 'no-change'
  | 'epoch-changed'
  | 'not-caught-up'
  | 'would-lose-quorum';

export interface Refusal {
  readonly reason: RefusalReason;
  /** One line for an operator. */
  readonly message: string;
}

export type ChangeResult = { readonly ok: true; readonly next: Configuration } | { readonly ok: false; readonly refusal: Refusal };

/** What the proposer (or the CLI) currently sees of a member, for the liveness guard. */
export interface MemberView {
  readonly reachable: boolean;
  /** Has learned (nearly) everything chosen: the guard's threshold, not R3's exact condition. */
  readonly caughtUp: boolean;
}

// ------------------------------------------------------------------ configurations

/** The configuration of a new cluster (epoch 0): every bootstrap member a voter. */
export function initialConfiguration(members: readonly Member[]): Configuration {
  const voters = sortById(members);
  const c: Configuration = { epoch: 0, voters, learners: [], nextId: Math.max(0, ...voters.map((m) => m.id)) + 1 };
  const bad = configurationProblem(c);
  assert(bad === undefined, `bootstrap members: ${bad}`);
  return c;
}

/** Why `c` is not a well-formed configuration, or undefined if it is (decoders and acceptors check this). */
export function configurationProblem(c: Configuration): string | undefined {
  if (!Number.isSafeInteger(c.epoch) || c.epoch < 0) return `epoch ${c.epoch} is not a non-negative integer`;
  if (c.voters.length === 0) return 'a configuration needs at least one voter';
  const all = [...c.voters, ...c.learners];
  for (const list of [c.voters, c.learners]) {
    for (let i = 1; i < list.length; i++) if (list[i]!.id <= list[i - 1]!.id) return 'members must be listed by ascending id, each once';
  }
  const ids = new Set<number>();
  const addresses = new Set<string>();
  for (const m of all) {
    if (!isMemberId(m.id)) return `member id ${m.id} is not a positive integer`;
    if (ids.has(m.id)) return `member ${m.id} is both a voter and a learner`;
    ids.add(m.id);
    if (!isAddress(m.address)) return `member ${m.id}'s address '${m.address}' is not HOST:PORT`;
    if (addresses.has(m.address)) return `address ${m.address} is used by two members`;
    addresses.add(m.address);
  }
  if (!Number.isSafeInteger(c.nextId) || c.nextId <= Math.max(0, ...ids)) return `nextId ${c.nextId} must be above every member id`;
  return undefined;
}

/** Votes that decide in `c`: a majority of its voters (learners never count). */
export function configQuorum(c: Configuration): number {
  return quorumSize(c.voters.length);
}

/** Voters that may fail while a quorum of `c` stays up. */
export function failuresTolerated(c: Configuration): number {
  return c.voters.length - configQuorum(c);
}

export function voterIds(c: Configuration): ReplicaId[] {
  return c.voters.map((m) => m.id);
}

/** The role of `id` in one configuration, or undefined if it is not a member. */
export function roleIn(c: Configuration, id: ReplicaId): 'voter' | 'learner' | undefined {
  if (c.voters.some((m) => m.id === id)) return 'voter';
  if (c.learners.some((m) => m.id === id)) return 'learner';
  return undefined;
}

/**
 * A replica's role from the chain it learned (oldest first): its role in the
 * latest configuration; 'removed' if an earlier one listed it; 'none' if
 * none ever did. Derived, never stored beside the chain (etcd #18347 showed a
 * role stored twice disagreeing with itself).
 */
export function roleOf(chain: readonly Configuration[], id: ReplicaId): Role {
  assert(chain.length > 0, 'a chain has at least the bootstrap configuration');
  const now = roleIn(chain[chain.length - 1]!, id);
  if (now !== undefined) return now;
  return chain.some((c) => roleIn(c, id) !== undefined) ? 'removed' : 'none';
}

/** Two configurations are the same value (the checker's one-chain invariant compares them). */
export function sameConfiguration(a: Configuration, b: Configuration): boolean {
  return configurationKey(a) === configurationKey(b);
}

/** A canonical text of a configuration. */
export function configurationKey(c: Configuration): string {
  const list = (ms: readonly Member[]): string => ms.map((m) => `${m.id}=${m.address}`).join(',');
  return `${c.epoch}|${list(c.voters)}|${list(c.learners)}|${c.nextId}|${c.changeId ?? ''}`;
}

// ------------------------------------------------------------------ changes

/**
 * The configuration a change makes from `current`, or why it is refused. The
 * structural rules only (the liveness guard is checkLiveness):
 * - R2: one change at a time: `ifEpoch`, when given, must be the current epoch;
 * - ids are never reused: a new id is at or above `nextId`;
 * - S1: a new voter must already be a learner (so it has a disk recorded by
 *   the cluster and caught up the ordinary way before it can be promoted);
 * - at least one voter; no two members at one address; a change must change something.
 */
export function applyChange(
  current: Configuration,
  change: MembershipChange,
  opts: { readonly ifEpoch?: number; readonly changeId?: string } = {},
): ChangeResult {
  if (opts.ifEpoch !== undefined && opts.ifEpoch !== current.epoch) {
    return refuse('epoch-changed', `the configuration is at epoch ${current.epoch}, not ${opts.ifEpoch}: another change came first`);
  }
  const made = draft(current, change);
  if ('refusal' in made) return { ok: false, refusal: made.refusal };
  const next: Configuration = {
    epoch: current.epoch + 1,
    voters: sortById(made.voters),
    learners: sortById(made.learners),
    nextId: Math.max(current.nextId, ...[...made.voters, ...made.learners].map((m) => m.id + 1)),
    ...(opts.changeId === undefined ? {} : { changeId: opts.changeId }),
  };
  if (next.voters.length === 0) return refuse('no-voters', 'the change would leave no voter');
  if (sameMembers(current, next)) return refuse('no-change', 'the change would not change the configuration');
  const bad = configurationProblem(next);
  if (bad !== undefined) return refuse('invalid', bad);
  return { ok: true, next };
}

type Draft = { readonly voters: Member[]; readonly learners: Member[] } | { readonly refusal: Refusal };

function draft(current: Configuration, change: MembershipChange): Draft {
  const voters = [...current.voters];
  const learners = [...current.learners];
  const member = (id: ReplicaId): Member | undefined => voters.find((m) => m.id === id) ?? learners.find((m) => m.id === id);
  const unknown = (id: ReplicaId): Draft => ({ refusal: refusal('unknown-member', `member ${id} is not in the configuration (epoch ${current.epoch})`) });
  const without = (list: Member[], id: ReplicaId): Member[] => list.filter((m) => m.id !== id);
  switch (change.kind) {
    case 'add': {
      const { id, address } = change.member;
      if (!isMemberId(id)) return { refusal: refusal('invalid', `member id ${id} is not a positive integer`) };
      if (!isAddress(address)) return { refusal: refusal('invalid', `address '${address}' is not HOST:PORT`) };
      if (member(id) !== undefined) return { refusal: refusal('id-used', `member ${id} is already in the configuration`) };
      if (id < current.nextId) return { refusal: refusal('id-used', `id ${id} was used before and ids are never reused: use ${current.nextId} or above`) };
      const holder = [...voters, ...learners].find((m) => m.address === address);
      if (holder !== undefined) return { refusal: refusal('address-used', `address ${address} is member ${holder.id}'s`) };
      return { voters, learners: [...learners, { id, address }] };
    }
    case 'promote': {
      const m = member(change.id);
      if (m === undefined) return unknown(change.id);
      if (roleIn(current, change.id) === 'voter') return { refusal: refusal('no-change', `member ${change.id} is a voter already`) };
      return { voters: [...voters, m], learners: without(learners, change.id) };
    }
    case 'remove': {
      if (member(change.id) === undefined) return unknown(change.id);
      return { voters: without(voters, change.id), learners: without(learners, change.id) };
    }
    case 'replace': {
      const old = member(change.old);
      if (old === undefined) return unknown(change.old);
      const fresh = member(change.replacement);
      if (fresh === undefined) return unknown(change.replacement);
      if (roleIn(current, change.replacement) !== 'learner') {
        return { refusal: refusal('not-a-learner', `member ${change.replacement} must be a learner to replace ${change.old} (add it first, let it catch up)`) };
      }
      const oldIsVoter = roleIn(current, change.old) === 'voter';
      const restVoters = without(voters, change.old);
      const restLearners = without(without(learners, change.old), change.replacement);
      return oldIsVoter ? { voters: [...restVoters, fresh], learners: restLearners } : { voters: restVoters, learners: [...restLearners, fresh] };
    }
    case 'address': {
      const m = member(change.id);
      if (m === undefined) return unknown(change.id);
      if (!isAddress(change.address)) return { refusal: refusal('invalid', `address '${change.address}' is not HOST:PORT`) };
      const holder = [...voters, ...learners].find((x) => x.address === change.address && x.id !== change.id);
      if (holder !== undefined) return { refusal: refusal('address-used', `address ${change.address} is member ${holder.id}'s`) };
      const moved = (list: Member[]): Member[] => list.map((x) => (x.id === change.id ? { id: x.id, address: change.address } : x));
      return { voters: moved(voters), learners: moved(learners) };
    }
    case 'set': {
      const seen = new Set<number>();
      for (const id of [...change.voters, ...change.learners]) {
        if (seen.has(id)) return { refusal: refusal('invalid', `member ${id} is listed twice`) };
        seen.add(id);
        if (member(id) === undefined) return { refusal: refusal('unknown-member', `member ${id} is not in the configuration: add it as a learner first`) };
      }
      // Every id listed is a member now, so a new voter is a learner now (S1) without another check.
      return { voters: change.voters.map((id) => member(id)!), learners: change.learners.map((id) => member(id)!) };
    }
  }
}

// ------------------------------------------------------------------ the liveness guard (R10)

/**
 * R10: refuses a change that could not complete with the members the
 * proposer sees now, and would therefore block the log at its entry. The
 * entry needs a quorum of the current voters and a quorum of the next
 * configuration's voters that have caught up (R3), so both must be
 * reachable. A promoted member that lags is named (the CLI waits for it).
 * Not a safety rule: R3 refuses the same changes by never counting them
 * chosen; this only keeps them from being proposed.
 */
export function checkLiveness(current: Configuration, next: Configuration, view: (id: ReplicaId) => MemberView): Refusal | undefined {
  const lagging = next.voters.filter((m) => roleIn(current, m.id) !== 'voter' && !view(m.id).caughtUp);
  if (lagging.length > 0) {
    return refusal('not-caught-up', `member${lagging.length > 1 ? 's' : ''} ${lagging.map((m) => m.id).join(', ')} ${lagging.length > 1 ? 'have' : 'has'} not caught up yet`);
  }
  const oldUp = current.voters.filter((m) => view(m.id).reachable).length;
  if (oldUp < configQuorum(current)) {
    return refusal('would-lose-quorum', `only ${oldUp} of the ${current.voters.length} current voters are reachable; a change needs ${configQuorum(current)} of them`);
  }
  const newUp = next.voters.filter((m) => view(m.id).reachable && view(m.id).caughtUp).length;
  if (newUp < configQuorum(next)) {
    return refusal(
      'would-lose-quorum',
      `only ${newUp} of the ${next.voters.length} voters after the change are reachable and caught up; the new configuration needs ${configQuorum(next)}`,
    );
  }
  return undefined;
}

// ------------------------------------------------------------------ the joint count (R3)

/** One acceptance of a config entry at p, as its write reply reports it. */
export interface EntryAcceptance {
  readonly id: ReplicaId;
  /** learnedThrough >= p - 1 and no lost bytes below p (R3): the acceptor holds the whole log below the entry. */
  readonly caughtUp: boolean;
}

/** R3's caught-up condition for an acceptance of the entry at `p`. */
export function heldBelow(p: Position, learnedThrough: Position, lostBelow: boolean): boolean {
  return learnedThrough >= p - 1 && !lostBelow;
}

/**
 * R3: the entry that makes `next` out of `current` counts as chosen once
 * (a) a quorum of `current`'s voters accepted it (the caller counts only the
 * disks its write named, as for any write) and (b) a quorum of `next`'s voters
 * that had caught up accepted it. A member of both counts in both.
 * Acceptances from non-voters (of either) count for nothing.
 */
export function jointAccepted(current: Configuration, next: Configuration, accepted: readonly EntryAcceptance[]): boolean {
  const ids = new Set(accepted.map((a) => a.id));
  const ready = new Set(accepted.filter((a) => a.caughtUp).map((a) => a.id));
  const old = current.voters.filter((m) => ids.has(m.id)).length;
  const fresh = next.voters.filter((m) => ready.has(m.id)).length;
  return old >= configQuorum(current) && fresh >= configQuorum(next);
}

// ------------------------------------------------------------------ the chain

export function headOf(c: PlacedConfiguration): ConfigHead {
  return { epoch: c.epoch, position: c.position };
}

/** Positive if `a` is newer than `b`, negative if older, 0 if the same (heads of one chain compare by epoch). */
export function compareHeads(a: ConfigHead, b: ConfigHead): number {
  return a.epoch - b.epoch;
}

/**
 * Why `chain` (oldest first) is not one chain, or undefined: epochs go up by
 * one, entries sit at increasing positions, each configuration is well formed,
 * ids are never reused, and each link (but the first, which may be the oldest
 * one kept after truncation) is a change a writer may propose from the one
 * before (a new voter was a learner: S1).
 */
export function chainProblem(chain: readonly PlacedConfiguration[]): string | undefined {
  if (chain.length === 0) return 'an empty chain';
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i]!;
    const bad = configurationProblem(c);
    if (bad !== undefined) return `epoch ${c.epoch}: ${bad}`;
    if (c.epoch === 0 && c.position !== -1) return 'the bootstrap configuration sits at position -1';
    if (c.epoch > 0 && c.position < 0) return `epoch ${c.epoch} has no position`;
    if (i === 0) continue;
    const prev = chain[i - 1]!;
    if (c.epoch !== prev.epoch + 1) return `epoch ${c.epoch} follows epoch ${prev.epoch}`;
    if (c.position <= prev.position) return `epoch ${c.epoch}'s entry at ${c.position} is not above epoch ${prev.epoch}'s at ${prev.position}`;
    if (c.nextId < prev.nextId) return `epoch ${c.epoch} lowers nextId`;
    for (const m of [...c.voters, ...c.learners]) {
      if (roleIn(prev, m.id) === undefined && m.id < prev.nextId) return `epoch ${c.epoch} reuses id ${m.id}`;
    }
    for (const m of c.voters) {
      if (roleIn(prev, m.id) === undefined) return `epoch ${c.epoch} makes ${m.id} a voter without it being a learner first`;
    }
  }
  return undefined;
}

/**
 * config(q): the configuration that governs position `q` (the latest whose
 * entry lies below q; an entry's own position belongs to the configuration
 * before it). Undefined if the chain no longer reaches back to q (pruned
 * after a truncation): the caller must not vote or fill there.
 */
export function governing<C extends PlacedConfiguration>(chain: readonly C[], q: Position): C | undefined {
  for (let i = chain.length - 1; i >= 0; i--) if (chain[i]!.position < q) return chain[i];
  return undefined;
}

/** The chain a replica keeps once its log begins at `begin`: from config(begin) on (R14). */
export function pruneChain<C extends PlacedConfiguration>(chain: readonly C[], begin: Position): C[] {
  let i = chain.length - 1;
  while (i > 0 && chain[i]!.position >= begin) i--;
  return chain.slice(i);
}

// ------------------------------------------------------------------ discovery (R13)

/** What one replica told a discovering replica or client (recover, config and read replies carry it). */
export interface DiscoveryAnswer {
  readonly from: ReplicaId;
  /** Its latest learned configuration. */
  readonly head: PlacedConfiguration;
  readonly learnedThrough: Position;
  /** A config entry it holds accepted and not learned above its head, if any. */
  readonly pending?: { readonly position: Position; readonly config: Configuration };
}

export type Discovery =
  /** Not done: ask these members (voters and learners of the newest configuration heard of, and of a live pending one). */
  | { readonly done: false; readonly latest: PlacedConfiguration; readonly ask: readonly ReplicaId[] }
  /**
   * Done: a quorum of `latest` answered and none knew a newer one. `pending`:
   * the live pending configurations (a rejoining disk is recorded in those
   * too, R9b).
   */
  | { readonly done: true; readonly latest: PlacedConfiguration; readonly pending: readonly Configuration[] };

/**
 * One step of R13's chained query: from what the answers so far say, either
 * the members to ask next or the latest configuration. The newest learned
 * head wins; a pending entry counts only above it, for the next epoch, and
 * while no answer has learned its position (else it is dead: another value
 * took that position, or the entry was learned and a head says so). Done once
 * a quorum of the latest configuration's voters, and of each live pending
 * one's, answered. Answers from anyone count (removed replicas answer with
 * the configuration that removed them, which points onward).
 */
export function discover(start: PlacedConfiguration, answers: readonly DiscoveryAnswer[]): Discovery {
  let latest = start;
  for (const a of answers) if (a.head.epoch > latest.epoch) latest = a.head;
  const learned = Math.max(-1, ...answers.map((a) => a.learnedThrough));
  const pending: Configuration[] = [];
  for (const a of answers) {
    const e = a.pending;
    if (e === undefined || e.position <= latest.position || e.config.epoch !== latest.epoch + 1 || learned >= e.position) continue;
    if (!pending.some((c) => sameConfiguration(c, e.config))) pending.push(e.config);
  }
  const answered = new Set(answers.map((a) => a.from));
  const heardEnough = (c: Configuration): boolean => c.voters.filter((m) => answered.has(m.id)).length >= configQuorum(c);
  if (heardEnough(latest) && pending.every(heardEnough)) return { done: true, latest, pending };
  const ask = new Set<ReplicaId>();
  for (const c of [latest, ...pending]) for (const m of [...c.voters, ...c.learners]) if (!answered.has(m.id)) ask.add(m.id);
  return { done: false, latest, ask: [...ask].sort((x, y) => x - y) };
}

// ------------------------------------------------------------------ helpers

function refusal(reason: RefusalReason, message: string): Refusal {
  return { reason, message };
}

function refuse(reason: RefusalReason, message: string): ChangeResult {
  return { ok: false, refusal: refusal(reason, message) };
}

function sortById(ms: readonly Member[]): Member[] {
  return [...ms].sort((a, b) => a.id - b.id);
}

function sameMembers(a: Configuration, b: Configuration): boolean {
  const list = (ms: readonly Member[]): string => ms.map((m) => `${m.id}=${m.address}`).join(',');
  return list(a.voters) === list(b.voters) && list(a.learners) === list(b.learners);
}

/**
 * The highest member id: one below the largest safe integer, so that a
 * configuration's nextId (above every id) is still one (the wire carries it
 * as a u64 of a safe integer and asserts that).
 */
export const MEMBER_ID_MAX = Number.MAX_SAFE_INTEGER - 1;

export function isMemberId(id: number): boolean {
  return Number.isSafeInteger(id) && id >= 1 && id <= MEMBER_ID_MAX;
}

/** HOST:PORT with a port in 1..65535 (HOST may be a bracketed IPv6 address). */
function isAddress(address: string): boolean {
  const m = /^(.+):(\d{1,5})$/.exec(address);
  if (m === null || m[1]!.length === 0) return false;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535;
}
