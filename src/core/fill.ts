/**
 * Fill: one full Paxos round (explicit promise, then write) for the positions
 * [from, to], run by readers and catch-up to learn what is chosen there.
 *
 * Phase 1 asks a quorum for an explicit promise on the range and learns every
 * value accepted there; phase 2 writes, for each position, the value Paxos
 * requires (a learned value as is, else the highest accepted one, else a NOP);
 * once a quorum accepted, the values are chosen, and a commit tells every
 * replica that accepted them (the others copy them from their peers).
 * A reject means a higher proposal is about: the fill backs off a random while
 * and retries above it. Pure logic, like the writer: events in, effects out.
 *
 * Configurations (docs/reconfiguration.md, R1): a fill runs in config(from),
 * asks and counts that configuration's voters only, carries its head, and
 * never spans two configurations (its range is cut at the next entry). A
 * 'stale-config' answer (a replica learned a newer configuration) ends the
 * fill with that head, for its owner to follow; 'unknown-config' counts as
 * no vote, and the replica is sent the links of the chain it lacks (R6): a
 * fill in a configuration its voters never installed (a change whose install
 * election never ran) would otherwise wait for votes that never come.
 *
 * R5 (switch followPending): a config entry of the next epoch found in phase 1
 * is a stop sign. Positions before it are settled first (the range is cut
 * just below it: the owner goes on from there); a fill starting at the entry
 * settles it alone with R3's joint count (a quorum of the named voters and a
 * caught-up quorum of the next configuration's voters, which are written to
 * too), and never writes above it. Owners promise from their learned prefix
 * + 1 (reader.ts) so that a stop sign below the position they want is seen.
 */
import { NOP } from './actions.js';
import { assert } from './assert.js';
import { timing } from './constants.js';
import { Liveness } from './liveness.js';
import { chainOfView, cutAtConfig, linksAbove, oneLinkView, type ConfigView } from './config-view.js';
import { compareHeads, configQuorum, headOf, heldBelow, voterIds, type ConfigHead, type Configuration, type PlacedConfiguration } from './membership.js';
import { ALL_RULES_ON, type SafetyRules } from './rules.js';
import { QuorumTally } from './quorum.js';
import type { Action, Entry, Named, Position, PromiseReply, Proposal, ReplicaId, Slot, WriteReply } from './types.js';
import type { CommitMessage, PromiseRequest, WriteRequest } from './types.js';

export interface FillOutbound {
  readonly to: ReplicaId;
  readonly msg: PromiseRequest | WriteRequest | CommitMessage;
}

export type FillResult =
  /**
   * `floor`: the proposal under which this fill counted the entries chosen (its own write), absent when
   * every position was learned already. The floor of a config entry among them (R4, R6; R9f: a rejoin's
   * catch-up passes it on, so that the entry can be chained where it is learned).
   */
  | { readonly ok: true; readonly entries: readonly Entry[]; readonly floor?: Proposal }
  | { readonly ok: false; readonly error: 'no-quorum' }
  /** Some replica of the quorum already truncated the range: its values are gone, not NOPs. */
  | { readonly ok: false; readonly error: 'truncated'; readonly begin: Position }
  /** A replica learned a newer configuration than the fill's (R5): the owner moves there. */
  | { readonly ok: false; readonly error: 'stale-config'; readonly config: ConfigHead };

type Phase =
  | {
      readonly kind: 'promising';
      readonly rid: number;
      readonly tally: QuorumTally;
      readonly replies: { from: ReplicaId; reply: PromiseReply }[];
    }
  | {
      readonly kind: 'writing';
      readonly rid: number;
      readonly tally: QuorumTally;
      /** The values for [from, from + actions.length - 1]. */
      readonly actions: Action[];
      /** The members that promised (phase 1), with their disks: only their acceptances count. */
      readonly named: readonly Named[];
      /** R3: the range is one config entry; `ready` are the next configuration's voters that accepted it holding the log below. */
      readonly joint?: { readonly next: Configuration; readonly ready: Set<ReplicaId> };
    }
  | { readonly kind: 'backoff'; readonly until: number }
  | { readonly kind: 'done' };

export interface FillContext {
  /** config(q) as the owner knows it: the fill runs in config(from). */
  readonly view?: ConfigView;
  /** Shorthand for a one-link view of these members, all voters (exactly one of `view` and `members`). */
  readonly members?: readonly ReplicaId[];
  /** A replica filling for its own catch-up: it asks the other voters only (a quorum still counts the whole configuration). */
  readonly self?: ReplicaId;
  readonly random: () => number;
  /** Allocates request ids unique for the owner's connection. */
  readonly rid: () => number;
  /** Answers needed (default: a quorum of the configuration; a rejoining replica asks its peers for a majority of all). */
  readonly quorum?: number;
  /**
   * When the fill gives up with no-quorum: by default operationTimeoutMs
   * after it started; if set, only once fewer than a quorum of VOTING members
   * answered it (any of its messages, rejects included) within
   * operationTimeoutMs. Readers set it: a fill that busy replicas answer late
   * is slow, not short of a quorum (issue 20, item 3).
   */
  readonly patientWhileAnswered?: boolean;
  readonly rules?: SafetyRules;
}

export class Fill {
  private phase: Phase = { kind: 'done' };
  private proposal: Proposal;
  private sentAt = 0;
  private readonly startedAt: number;
  private readonly liveness: Liveness;
  /** config(from): the configuration this fill's ballots are in. */
  private readonly cfg: PlacedConfiguration;
  /** The members asked: the configuration's voters (but the filler itself). */
  private readonly members: readonly ReplicaId[];
  private readonly quorum: number;
  /** The last position of the range: `to`, cut at the next configuration's entry (R1). */
  readonly to: Position;
  private readonly view: ConfigView;
  private readonly rules: SafetyRules;

  constructor(
    readonly from: Position,
    to: Position,
    proposalFloor: Proposal,
    private readonly ctx: FillContext,
    now: number,
    send: FillOutbound[],
  ) {
    assert(from <= to, `fill range [${from}, ${to}]`);
    assert((ctx.view === undefined) !== (ctx.members === undefined), 'a fill takes a view or a member list');
    const view = ctx.view ?? oneLinkView(ctx.members!);
    this.view = view;
    this.rules = ctx.rules ?? ALL_RULES_ON;
    this.cfg = view(from);
    this.to = cutAtConfig(view, from, to);
    this.members = ctx.members ?? voterIds(this.cfg).filter((id) => id !== ctx.self);
    this.quorum = ctx.quorum ?? configQuorum(this.cfg);
    this.proposal = proposalFloor;
    this.startedAt = now;
    this.liveness = new Liveness(this.quorum);
    this.startPromise(now, send);
  }

  /** The head every request of this fill carries. */
  private get head(): ConfigHead {
    return headOf(this.cfg);
  }

  /** A replica reports a newer configuration: the fill ends, for its owner to move there. */
  private staleConfig(head: ConfigHead | undefined): FillResult | undefined {
    if (head === undefined || compareHeads(head, this.head) <= 0) return undefined;
    this.phase = { kind: 'done' };
    return { ok: false, error: 'stale-config', config: head };
  }

  /** The highest proposal this fill saw (its owner's next floor). */
  get highestSeen(): Proposal {
    return this.proposal;
  }

  onPromiseReply(from: ReplicaId, msg: PromiseReply, now: number, send: FillOutbound[]): FillResult | undefined {
    // Only the members asked count, as in phase 2: a non-member's answer (forged, or from a member removed
    // since) neither makes up the quorum nor offers the accepted value the fill re-proposes.
    if (msg.outcome !== 'ignored') this.liveness.heard(from, now);
    const ph = this.phase;
    if (ph.kind !== 'promising' || msg.rid !== ph.rid || ph.tally.has(from) || !this.members.includes(from)) return undefined;
    if (msg.outcome === 'stale-config') {
      const r = this.staleConfig(msg.config);
      if (r !== undefined) return r;
    }
    if (msg.outcome === 'unknown-config') {
      // R6: it lacks the fill's configuration: the links it lacks, and it answers again.
      const links = linksAbove(chainOfView(this.view), msg.config?.epoch ?? 0).filter((c) => c.epoch <= this.cfg.epoch);
      if (links.length > 0 && links[0]!.epoch === (msg.config?.epoch ?? 0) + 1) {
        send.push({ to: from, msg: { ...(this.request(ph) as PromiseRequest), links } });
        return undefined;
      }
    }
    ph.tally.record(from, msg.outcome === 'accept' || msg.outcome === 'reject' ? msg.outcome : 'ignored');
    if (msg.outcome === 'reject') {
      this.proposal = Math.max(this.proposal, msg.proposal);
      this.enterBackoff(now);
      return undefined;
    }
    if (msg.outcome === 'accept') ph.replies.push({ from, reply: msg });
    if (ph.tally.unreachable) this.enterBackoff(now);
    else if (ph.tally.won) return this.startWrite(ph.replies, now, send);
    return undefined;
  }

  onWriteReply(from: ReplicaId, msg: WriteReply, now: number, send: FillOutbound[]): FillResult | undefined {
    if (msg.outcome !== 'ignored') this.liveness.heard(from, now);
    const ph = this.phase;
    if (ph.kind !== 'writing' || msg.rid !== ph.rid) return undefined;
    if (ph.joint !== undefined && msg.outcome === 'accept' && ph.joint.next.voters.some((m) => m.id === from)) {
      if (heldBelow(this.from, msg.learnedThrough ?? -1, msg.lostBelow ?? true) || !this.rules.caughtUpToAccept) ph.joint.ready.add(from);
      if (!this.members.includes(from) || ph.tally.has(from)) return this.wonWrite(ph, send);
    }
    if (msg.outcome === 'reject' || msg.outcome === 'stale') {
      // A higher proposal, or a member's disk was replaced since phase 1: start over above it. From any
      // replica this round wrote to, the next voters of a config entry and members already counted
      // included: their retransmitted writes are refused for good, so waiting on them would spin
      // forever while the replicas answer (attack5-fill-joint-stuck).
      this.proposal = Math.max(this.proposal, msg.proposal);
      this.enterBackoff(now);
      return undefined;
    }
    if (ph.tally.has(from) || !this.members.includes(from)) return undefined;
    if (msg.outcome === 'stale-config') {
      const r = this.staleConfig(msg.config);
      if (r !== undefined) return r;
    }
    // Neither a vote nor a refusal (R3, step 4): the retransmission asks again.
    if (msg.outcome === 'not-ready') return undefined;
    const counts = msg.outcome === 'accept' && ph.named.some((n) => n.id === from && n.generation === msg.generation && n.disk === msg.disk);
    ph.tally.record(from, counts ? 'accept' : 'ignored');
    if (ph.tally.unreachable) this.enterBackoff(now);
    else return this.wonWrite(ph, send);
    return undefined;
  }

  /** Chosen: a quorum of the named voters accepted, and for a config entry a caught-up quorum of the next voters (R3). */
  private wonWrite(ph: Phase & { kind: 'writing' }, send: FillOutbound[]): FillResult | undefined {
    if (!ph.tally.won) return undefined;
    const j = ph.joint;
    if (j !== undefined && this.rules.jointAcceptance && j.next.voters.filter((m) => j.ready.has(m.id)).length < configQuorum(j.next)) return undefined;
    return this.finish(ph.actions, send, this.proposal, ph.named.map((n) => n.id));
  }

  onTick(now: number, send: FillOutbound[]): FillResult | undefined {
    const ph = this.phase;
    if (ph.kind === 'done') return undefined;
    const answered = this.ctx.patientWhileAnswered === true && this.liveness.quorumHeard(now);
    if (now - this.startedAt >= timing.operationTimeoutMs && !answered) {
      this.phase = { kind: 'done' };
      return { ok: false, error: 'no-quorum' };
    }
    if (ph.kind === 'backoff') {
      if (now >= ph.until) this.startPromise(now, send);
      return undefined;
    }
    if (now - this.sentAt < timing.retransmitMs) return undefined;
    this.sentAt = now;
    const pending = ph.tally.pending(this.members);
    for (const to of pending) send.push({ to, msg: this.request(ph) });
    if (ph.kind === 'writing') this.sendJoint(ph, send);
    return undefined;
  }

  /** R3: the config entry's write goes to the next voters that have not accepted it caught up, as the writer's does. */
  private sendJoint(ph: Phase & { kind: 'writing' }, send: FillOutbound[]): void {
    const j = ph.joint;
    if (j === undefined) return;
    for (const m of j.next.voters) if (!j.ready.has(m.id) && !(this.members.includes(m.id) && !ph.tally.has(m.id))) send.push({ to: m.id, msg: this.request(ph) });
  }

  private request(ph: Phase & { kind: 'promising' | 'writing' }): PromiseRequest | WriteRequest {
    return ph.kind === 'promising'
      ? { type: 'promise', rid: ph.rid, proposal: this.proposal, from: this.from, to: this.to, config: this.head }
      : { type: 'write', rid: ph.rid, proposal: this.proposal, from: this.from, actions: ph.actions, named: ph.named, config: this.head };
  }

  private startPromise(now: number, send: FillOutbound[]): void {
    this.proposal += 1;
    const ph: Phase = { kind: 'promising', rid: this.ctx.rid(), tally: new QuorumTally(this.members.length, this.quorum), replies: [] };
    this.phase = ph;
    this.sentAt = now;
    for (const to of this.members) send.push({ to, msg: this.request(ph) });
  }

  private startWrite(replies: { from: ReplicaId; reply: PromiseReply }[], now: number, send: FillOutbound[]): FillResult | undefined {
    const named = replies.map((r) => ({ id: r.from, generation: r.reply.generation, disk: r.reply.disk }));
    // A tombstone is not a value: positions below a replica's beginning were truncated
    // there, and whatever was chosen at them is gone. Never write or teach a NOP for them.
    const begin = Math.max(...replies.map((r) => r.reply.begin));
    if (this.from < begin) {
      this.phase = { kind: 'done' };
      return { ok: false, error: 'truncated', begin };
    }
    // A reply cut at its byte bound covers a prefix of the range: settle that prefix only (the owner goes on after it).
    let to = Math.min(this.to, ...replies.map((r) => r.reply.coveredThrough));
    const best = new Map<Position, Slot>();
    for (const { reply: r } of replies) {
      for (const s of r.slots) {
        if (s.position < this.from || s.position > to || s.action === undefined) continue;
        const cur = best.get(s.position);
        if (cur === undefined || rank(s) > rank(cur)) best.set(s.position, s);
      }
    }
    // R5: a config entry of the next epoch is a stop sign. Settle below it first; settle it alone, jointly (R3).
    let joint: { next: Configuration; ready: Set<ReplicaId> } | undefined;
    if (this.rules.followPending) {
      for (let p = this.from; p <= to; p++) {
        const a = best.get(p)?.action;
        if (a?.kind !== 'config' || a.config.epoch !== this.cfg.epoch + 1) continue;
        if (p > this.from) to = p - 1;
        else {
          to = p;
          joint = { next: a.config, ready: new Set() };
        }
        break;
      }
    }
    const actions: Action[] = [];
    let allLearned = true;
    for (let p = this.from; p <= to; p++) {
      const s = best.get(p);
      actions.push(s?.action ?? NOP);
      if (!s?.learned) allLearned = false;
    }
    // Every position already chosen: nothing to write (replicas that lack them copy them from their peers).
    if (allLearned) return this.finish(actions, send, undefined);
    const ph: Phase & { kind: 'writing' } = {
      kind: 'writing',
      rid: this.ctx.rid(),
      tally: new QuorumTally(this.members.length, this.quorum),
      actions,
      named,
      ...(joint === undefined ? {} : { joint }),
    };
    this.phase = ph;
    this.sentAt = now;
    for (const to of this.members) send.push({ to, msg: this.request(ph) });
    this.sendJoint(ph, send);
    return undefined;
  }

  /** The values are chosen; a commit under the fill's proposal tells the replicas that accepted them. */
  private finish(actions: Action[], send: FillOutbound[], proposal: Proposal | undefined, promised: readonly ReplicaId[] = []): FillResult {
    this.phase = { kind: 'done' };
    const entries = actions.map((action, k) => ({ position: this.from + k, action }));
    if (proposal !== undefined && actions.length > 0) {
      const commit: CommitMessage = { type: 'commit', proposal, from: this.from, to: this.from + actions.length - 1 };
      // Only to the members that promised this fill: after a disk loss another member may hold a value
      // under the same number from another proposer, and a commit names only the number (as the writer's).
      for (const to of promised) send.push({ to, msg: commit });
    }
    return { ok: true, entries, ...(proposal !== undefined && actions.length > 0 ? { floor: proposal } : {}) };
  }

  private enterBackoff(now: number): void {
    this.phase = { kind: 'backoff', until: now + timing.backoffMinMs * (1 + this.ctx.random()) };
  }
}

/** A learned value wins; otherwise the highest accepted proposal. */
export function rank(s: Slot): number {
  return s.learned ? Number.MAX_SAFE_INTEGER : s.accepted;
}
