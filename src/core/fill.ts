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
 */
import { NOP } from './actions.js';
import { assert } from './assert.js';
import { timing } from './constants.js';
import { Liveness } from './liveness.js';
import { QuorumTally, quorumSize } from './quorum.js';
import type { Action, Entry, Named, Position, PromiseReply, Proposal, ReplicaId, Slot, WriteReply } from './types.js';
import type { CommitMessage, PromiseRequest, WriteRequest } from './types.js';

export interface FillOutbound {
  readonly to: ReplicaId;
  readonly msg: PromiseRequest | WriteRequest | CommitMessage;
}

export type FillResult =
  | { readonly ok: true; readonly entries: readonly Entry[] }
  | { readonly ok: false; readonly error: 'no-quorum' }
  /** Some replica of the quorum already truncated the range: its values are gone, not NOPs. */
  | { readonly ok: false; readonly error: 'truncated'; readonly begin: Position };

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
    }
  | { readonly kind: 'backoff'; readonly until: number }
  | { readonly kind: 'done' };

export interface FillContext {
  readonly members: readonly ReplicaId[];
  readonly random: () => number;
  /** Allocates request ids unique for the owner's connection. */
  readonly rid: () => number;
  /** Answers needed (default: a majority of `members`; a rejoining replica asks its peers for a majority of all). */
  readonly quorum?: number;
  /**
   * When the fill gives up with no-quorum: by default operationTimeoutMs
   * after it started; if set, only once fewer than a quorum of VOTING members
   * answered it (any of its messages, rejects included) within
   * operationTimeoutMs. Readers set it: a fill that busy replicas answer late
   * is slow, not short of a quorum (issue 20, item 3).
   */
  readonly patientWhileAnswered?: boolean;
}

export class Fill {
  private phase: Phase = { kind: 'done' };
  private proposal: Proposal;
  private sentAt = 0;
  private readonly startedAt: number;
  private readonly liveness: Liveness;

  constructor(
    readonly from: Position,
    readonly to: Position,
    proposalFloor: Proposal,
    private readonly ctx: FillContext,
    now: number,
    send: FillOutbound[],
  ) {
    assert(from <= to, `fill range [${from}, ${to}]`);
    this.proposal = proposalFloor;
    this.startedAt = now;
    this.liveness = new Liveness(ctx.quorum ?? quorumSize(ctx.members.length));
    this.startPromise(now, send);
  }

  /** The highest proposal this fill saw (its owner's next floor). */
  get highestSeen(): Proposal {
    return this.proposal;
  }

  onPromiseReply(from: ReplicaId, msg: PromiseReply, now: number, send: FillOutbound[]): FillResult | undefined {
    if (msg.outcome !== 'ignored') this.liveness.heard(from, now);
    const ph = this.phase;
    if (ph.kind !== 'promising' || msg.rid !== ph.rid || ph.tally.has(from)) return undefined;
    ph.tally.record(from, msg.outcome);
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
    if (ph.kind !== 'writing' || msg.rid !== ph.rid || ph.tally.has(from)) return undefined;
    if (msg.outcome === 'reject' || msg.outcome === 'stale') {
      // A higher proposal, or a member's disk was replaced since phase 1: start over above it.
      this.proposal = Math.max(this.proposal, msg.proposal);
      this.enterBackoff(now);
      return undefined;
    }
    const counts = msg.outcome === 'accept' && ph.named.some((n) => n.id === from && n.generation === msg.generation && n.disk === msg.disk);
    ph.tally.record(from, counts ? 'accept' : 'ignored');
    if (ph.tally.unreachable) this.enterBackoff(now);
    else if (ph.tally.won) return this.finish(ph.actions, send, this.proposal, ph.named.map((n) => n.id));
    return undefined;
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
    const pending = ph.tally.pending(this.ctx.members);
    for (const to of pending) send.push({ to, msg: this.request(ph) });
    return undefined;
  }

  private request(ph: Phase & { kind: 'promising' | 'writing' }): PromiseRequest | WriteRequest {
    return ph.kind === 'promising'
      ? { type: 'promise', rid: ph.rid, proposal: this.proposal, from: this.from, to: this.to }
      : { type: 'write', rid: ph.rid, proposal: this.proposal, from: this.from, actions: ph.actions, named: ph.named };
  }

  private startPromise(now: number, send: FillOutbound[]): void {
    this.proposal += 1;
    const ph: Phase = { kind: 'promising', rid: this.ctx.rid(), tally: new QuorumTally(this.ctx.members.length, this.ctx.quorum), replies: [] };
    this.phase = ph;
    this.sentAt = now;
    for (const to of this.ctx.members) send.push({ to, msg: this.request(ph) });
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
    const to = Math.min(this.to, ...replies.map((r) => r.reply.coveredThrough));
    const best = new Map<Position, Slot>();
    for (const { reply: r } of replies) {
      for (const s of r.slots) {
        if (s.position < this.from || s.position > to || s.action === undefined) continue;
        const cur = best.get(s.position);
        if (cur === undefined || rank(s) > rank(cur)) best.set(s.position, s);
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
    const ph: Phase = { kind: 'writing', rid: this.ctx.rid(), tally: new QuorumTally(this.ctx.members.length, this.ctx.quorum), actions, named };
    this.phase = ph;
    this.sentAt = now;
    for (const to of this.ctx.members) send.push({ to, msg: this.request(ph) });
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
    return { ok: true, entries };
  }

  private enterBackoff(now: number): void {
    this.phase = { kind: 'backoff', until: now + timing.backoffMinMs * (1 + this.ctx.random()) };
  }
}

/** A learned value wins; otherwise the highest accepted proposal. */
export function rank(s: Slot): number {
  return s.learned ? Number.MAX_SAFE_INTEGER : s.accepted;
}
