/**
 * The writer: the Multi-Paxos proposer (Mesos's coordinator), pure logic.
 *
 * Life of a writer (its role is one variant of WriterRole at a time):
 *   idle -> electing -> (backoff -> electing)* -> elected -> fenced | idle
 *
 * Election: an implicit promise for every position from a quorum, under a
 * proposal above every promise it heard of. Each promise reply reports the
 * replica's learned prefix and every accepted value above it, so the writer
 * knows every value that may have been chosen above L = max(learnedThrough).
 * It re-proposes, for each position in (L, E] (E = max end), the highest
 * accepted value, or a NOP for a hole, then a NOP at E + 1 that marks the
 * election in the log; `writer()` resolves once all of those are chosen.
 *
 * Appends then take E + 2, E + 3, ... They are batched (many positions per
 * write request), pipelined (many batches in flight) and resolved strictly in
 * position order. A reject with a higher proposal fences the writer: every
 * pending and later operation fails with a fenced outcome. An operation that
 * no quorum answers in time fails as no-quorum and sends the writer back to
 * idle: the next operation runs a new election, which settles the unknown
 * positions first.
 *
 * The core does no I/O: events in (`step`), effects out (WriterOutput).
 */
import { actionBytes, NOP } from './actions.js';
import { assert, assertNever } from './assert.js';
import { limits, timing } from './constants.js';
import { rank } from './fill.js';
import { QuorumTally, quorumSize } from './quorum.js';
import { ALL_RULES_ON, type SafetyRules } from './rules.js';
import type { Action, Named, Position, PromiseReply, Proposal, ReplicaId, Slot, WriteReply, WriteRequest } from './types.js';
import type { CommitMessage, PromiseRequest } from './types.js';

/** An operation handed to the writer by its user. */
export interface WriterOp {
  readonly id: number;
  readonly action: Action;
}

export type WriterEvent =
  /** Become the writer: run an election (resolved through `elected` / `electionFailed`). */
  | { readonly type: 'elect' }
  /** Append or truncate: queued, then batched on the next flush. */
  | { readonly type: 'submit'; readonly op: WriterOp }
  /** Form batches from the queued operations and send them. */
  | { readonly type: 'flush' }
  | { readonly type: 'reply'; readonly from: ReplicaId; readonly msg: PromiseReply | WriteReply }
  /** Time passed: retransmit, give up, end a backoff. */
  | { readonly type: 'tick' };

export type OpResult =
  | { readonly ok: true; readonly position: Position }
  | {
      readonly ok: false;
      readonly error: 'fenced' | 'no-quorum' | 'invalid';
      /** fenced: the higher proposal; */
      readonly proposal?: Proposal;
      /** invalid (a truncation past its own position): the position it would have taken. */
      readonly position?: Position;
    };

export interface Outbound {
  readonly to: ReplicaId;
  readonly msg: PromiseRequest | WriteRequest | CommitMessage;
}

export interface WriterOutput {
  readonly send: Outbound[];
  /** Operations that finished, in position order. */
  readonly done: { readonly id: number; readonly result: OpResult }[];
  /** Set when an election finished: the position of the writer's election NOP, or why it failed. */
  election?: OpResult;
}

export interface WriterConfig {
  readonly members: readonly ReplicaId[];
  /** A proposal the writer must exceed (e.g. the highest the client has seen). */
  readonly proposalFloor?: Proposal;
  /** Uniform random number in [0, 1), injected for backoff. */
  readonly random: () => number;
  readonly rules?: SafetyRules;
  /**
   * Allocates request ids. A client that runs a writer and a reader over the
   * same connections passes one allocator to both, so that a reply's rid
   * names exactly one request.
   */
  readonly rid?: () => number;
}

/** Writes in flight: contiguous positions [from, from + actions.length) under one proposal. */
interface Batch {
  readonly from: Position;
  readonly actions: Action[];
  /** The user operation of each position, or -1 for the writer's own (settle, election NOP). */
  readonly opIds: number[];
  tally: QuorumTally;
  rid: number;
  /** The members (and generations) whose acceptances count for this batch, as sent. */
  named: readonly Named[];
  /** Entry bytes the batch carries (the window is bounded in bytes too). */
  readonly bytes: number;
  /** How often it was sent again: each retransmission waits twice as long as the one before. */
  retransmits: number;
  sentAt: number;
  readonly startedAt: number;
  chosen: boolean;
}

type WriterRole =
  | { readonly kind: 'idle' }
  | {
      readonly kind: 'electing';
      readonly proposal: Proposal;
      readonly rid: number;
      readonly tally: QuorumTally;
      readonly replies: Map<ReplicaId, PromiseReply>;
      sentAt: number;
      readonly startedAt: number;
    }
  | { readonly kind: 'backoff'; readonly until: number; readonly startedAt: number }
  | {
      readonly kind: 'elected';
      readonly proposal: Proposal;
      /** The election's request id: late promise replies to it still name members. */
      readonly electionRid: number;
      /** L: the highest learned prefix among the election quorum; the writer settled everything above it. */
      readonly electionLearnedThrough: Position;
      /**
       * Members that promised this proposal, with their disk generation: only
       * their acceptances count. Invariant: a quorum, or the writer gives up.
       */
      readonly named: Map<ReplicaId, number>;
      /** When members missing from `named` were last asked to promise. */
      repromisedAt: number;
      /** The next position to assign. */
      next: Position;
      /** Batches in flight, ascending by position. */
      readonly inflight: Batch[];
      /** Position of the election NOP; the election resolves once it is chosen. */
      readonly electionPosition: Position;
      /** Positions [first, through] chosen in this term (first = -1 until one is). */
      committed: { first: Position; through: Position };
      /** When the commit of the term was last sent again (commits are one-way and may be lost). */
      recommittedAt: number;
      electionReported: boolean;
    }
  | { readonly kind: 'fenced'; readonly by: Proposal };

export class WriterCore {
  private role: WriterRole = { kind: 'idle' };
  /** The highest proposal seen anywhere: a new election must go above it. */
  private highestSeen: Proposal;
  private readonly queue: WriterOp[] = [];
  private now = 0;
  private electionWanted = false;
  private readonly rules: SafetyRules;
  private readonly newRid: () => number;

  constructor(private readonly config: WriterConfig) {
    assert(config.members.length >= 1, 'a writer needs members');
    this.highestSeen = config.proposalFloor ?? 0;
    this.rules = config.rules ?? ALL_RULES_ON;
    let next = 1;
    this.newRid = config.rid ?? (() => next++);
  }

  /** The proposal the writer holds, if elected. */
  get proposal(): Proposal | undefined {
    return this.role.kind === 'elected' ? this.role.proposal : undefined;
  }
  get roleKind(): WriterRole['kind'] {
    return this.role.kind;
  }
  get highestProposalSeen(): Proposal {
    return this.highestSeen;
  }
  /** Positions assigned and not yet resolved (the in-flight window). */
  get inflightPositions(): number {
    if (this.role.kind !== 'elected') return 0;
    return this.role.inflight.reduce((n, b) => n + b.actions.length, 0);
  }
  get queued(): number {
    return this.queue.length;
  }
  /** Entry bytes assigned a position and not yet resolved. */
  get inflightBytes(): number {
    if (this.role.kind !== 'elected') return 0;
    return this.role.inflight.reduce((n, b) => n + b.bytes, 0);
  }

  /** The single entry point: one event at time `now` (ms, injected clock). */
  step(event: WriterEvent, now: number): WriterOutput {
    assert(now >= this.now, 'time never goes back');
    this.now = now;
    const out: WriterOutput = { send: [], done: [] };
    switch (event.type) {
      case 'elect':
        this.electionWanted = true;
        if (this.role.kind === 'idle') this.startElection(out);
        else if (this.role.kind === 'fenced') out.election = { ok: false, error: 'fenced', proposal: this.role.by };
        break;
      case 'submit':
        this.submit(event.op, out);
        break;
      case 'flush':
        this.flush(out);
        break;
      case 'reply':
        if (event.msg.type === 'promiseReply') this.onPromiseReply(event.from, event.msg, out);
        else this.onWriteReply(event.from, event.msg, out);
        break;
      case 'tick':
        this.onTick(out);
        break;
      default:
        assertNever(event, 'writer event');
    }
    return out;
  }

  private submit(op: WriterOp, out: WriterOutput): void {
    if (this.role.kind === 'fenced') {
      out.done.push({ id: op.id, result: { ok: false, error: 'fenced', proposal: this.role.by } });
      return;
    }
    this.queue.push(op);
    if (this.role.kind === 'idle') this.startElection(out);
  }

  // ------------------------------------------------------------------ election

  private startElection(out: WriterOutput): void {
    const proposal = this.highestSeen + 1;
    this.highestSeen = proposal;
    const rid = this.newRid();
    const startedAt = this.role.kind === 'backoff' ? this.role.startedAt : this.now;
    this.role = {
      kind: 'electing',
      proposal,
      rid,
      tally: new QuorumTally(this.config.members.length),
      replies: new Map(),
      sentAt: this.now,
      startedAt,
    };
    for (const to of this.config.members) out.send.push({ to, msg: { type: 'promise', rid, proposal } });
  }

  private onPromiseReply(from: ReplicaId, msg: PromiseReply, out: WriterOutput): void {
    this.highestSeen = Math.max(this.highestSeen, msg.proposal);
    const role = this.role;
    if (role.kind === 'elected') return this.onLatePromise(from, msg);
    if (role.kind !== 'electing' || msg.rid !== role.rid || role.tally.has(from)) return;
    // An answer to another request that happens to share the id (defence in depth: ids are per client).
    if (msg.outcome !== 'reject' && msg.proposal !== role.proposal) return;
    role.tally.record(from, msg.outcome);
    if (msg.outcome === 'accept') role.replies.set(from, msg);
    if (role.tally.rejectCount > 0 && role.tally.acceptCount + role.tally.rejectCount >= role.tally.quorum) {
      // Someone holds a higher promise: wait a random while, then try above it.
      this.enterBackoff(role.startedAt);
      return;
    }
    if (role.tally.unreachable) {
      this.enterBackoff(role.startedAt);
      return;
    }
    if (role.tally.won) this.becomeElected(role.proposal, role.rid, role.replies, out);
  }

  /** A promise reply after the election: a member that promised (late, or re-asked) joins `named`. */
  /**
   * A member that promises after the election joins `named` only if, above the
   * election's learned prefix, it holds nothing accepted under another
   * proposal. Otherwise it may have accepted a lower proposal's value after
   * the election (possible only if an election quorum member has since lost
   * its disk and promised that lower proposal anew): counting it could choose
   * a second value there (the forgotten promise, reached through a late
   * promise). A repeated promise (a reject naming our own number) shows no
   * slots, so it never adds a member.
   */
  private onLatePromise(from: ReplicaId, msg: PromiseReply): void {
    const role = this.role;
    if (role.kind !== 'elected' || msg.rid !== role.electionRid || msg.status !== 'VOTING') return;
    if (msg.outcome !== 'accept' || msg.proposal !== role.proposal) return;
    const clean = msg.slots.every((s) => s.position <= role.electionLearnedThrough || s.accepted === role.proposal);
    if (clean) {
      role.named.set(from, msg.generation);
    }
  }

  private enterBackoff(startedAt: number): void {
    const delay = timing.backoffMinMs * (1 + this.config.random());
    this.role = { kind: 'backoff', until: this.now + delay, startedAt };
  }

  /**
   * Settles every position above the quorum's learned prefix with the value
   * Paxos requires (the highest accepted one, else NOP), then writes the
   * election NOP. Sent as the first batches of the new term.
   */
  private becomeElected(proposal: Proposal, rid: number, promised: Map<ReplicaId, PromiseReply>, out: WriterOutput): void {
    const replies = [...promised.values()];
    const learnedThrough = Math.max(...replies.map((r) => r.learnedThrough));
    // E: the highest position where a quorum member holds a value. Promise-only slots
    // above it hold nothing to preserve (a stray explicit promise must not cost NOPs).
    const end = Math.max(learnedThrough, ...replies.flatMap((r) => r.slots.map((s) => s.position)));
    const best = new Map<Position, Slot>();
    for (const r of replies) {
      for (const s of r.slots) {
        if (s.position <= learnedThrough || s.action === undefined) continue;
        const cur = best.get(s.position);
        if (cur === undefined || rank(s) > rank(cur)) best.set(s.position, s);
      }
    }
    const settle: Action[] = [];
    for (let p = learnedThrough + 1; p <= end; p++) {
      const s = best.get(p);
      settle.push(s !== undefined && this.rules.reproposeAccepted ? s.action! : NOP);
    }
    const electionPosition = end + 1;
    const named = new Map([...promised].map(([id, r]) => [id, r.generation]));
    this.role = {
      kind: 'elected',
      proposal,
      electionRid: rid,
      electionLearnedThrough: learnedThrough,
      named,
      repromisedAt: this.now,
      next: learnedThrough + 1,
      inflight: [],
      electionPosition,
      electionReported: false,
      committed: { first: -1, through: -1 },
      recommittedAt: this.now,
    };
    // Settled positions go first, through the queue, so the in-flight window bounds them too.
    this.queue.unshift(...settle.concat([NOP]).map((action) => ({ id: -1, action })));
    this.flush(out);
  }

  // ------------------------------------------------------------------ writes

  private flush(out: WriterOutput): void {
    if (this.role.kind !== 'elected' || this.queue.length === 0) return;
    const room = limits.writerWindowMax - this.inflightPositions;
    let bytesRoom = limits.writerWindowBytesMax - this.inflightBytes;
    let n = 0;
    // Bounded in positions and in bytes; one operation always goes if nothing else is in flight.
    while (n < room && n < this.queue.length) {
      const b = actionBytes(this.queue[n]!.action);
      if (b > bytesRoom && !(n === 0 && this.inflightPositions === 0)) break;
      bytesRoom -= b;
      n++;
    }
    if (n === 0) return;
    this.sendBatches(this.queue.splice(0, n), out);
  }

  /** Cuts ops into batches within the bounds and sends each to every member. */
  private sendBatches(ops: WriterOp[], out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'only an elected writer writes');
    let i = 0;
    while (i < ops.length) {
      const from = role.next;
      const actions: Action[] = [];
      const opIds: number[] = [];
      let bytes = 0;
      while (i < ops.length && actions.length < limits.writeBatchPositionsMax) {
        const op = ops[i]!;
        if (op.action.kind === 'truncate' && op.action.to > from + actions.length) {
          // A truncation may remove only positions before its own: beyond, it would remove future appends.
          out.done.push({ id: op.id, result: { ok: false, error: 'invalid', position: from + actions.length } });
          i++;
          continue;
        }
        if (actions.length > 0 && bytes + actionBytes(op.action) > limits.writeBatchBytesMax) break;
        actions.push(op.action);
        opIds.push(op.id);
        bytes += actionBytes(op.action);
        i++;
      }
      const batch: Batch = {
        from,
        actions,
        opIds,
        tally: new QuorumTally(this.config.members.length),
        rid: this.newRid(),
        named: namedList(role.named),
        bytes,
        retransmits: 0,
        sentAt: this.now,
        startedAt: this.now,
        chosen: false,
      };
      role.inflight.push(batch);
      role.next = from + actions.length;
      this.sendBatch(batch, this.config.members, role.proposal, out);
    }
  }

  private sendBatch(batch: Batch, to: readonly ReplicaId[], proposal: Proposal, out: WriterOutput): void {
    const msg: WriteRequest = { type: 'write', rid: batch.rid, proposal, from: batch.from, actions: batch.actions, named: batch.named };
    for (const id of to) out.send.push({ to: id, msg });
    batch.sentAt = this.now;
  }

  private onWriteReply(from: ReplicaId, msg: WriteReply, out: WriterOutput): void {
    const role = this.role;
    if (msg.outcome === 'reject') this.highestSeen = Math.max(this.highestSeen, msg.proposal);
    if (role.kind !== 'elected') return;
    const batch = role.inflight.find((b) => b.rid === msg.rid);
    if (batch === undefined || batch.tally.has(from)) return;
    if (msg.outcome !== 'reject' && msg.proposal !== role.proposal) return;
    if (msg.outcome === 'reject') {
      // Only a higher proposal is evidence of another proposer; anything else is a replica's
      // refusal to vote there (e.g. a value it learned differently), which counts as no vote.
      if (msg.proposal > role.proposal) return this.fence(msg.proposal, out);
      batch.tally.record(from, 'ignored');
      return;
    }
    if (msg.outcome === 'stale') return this.onStale(msg, out);
    // Only a named member's acceptance, by the disk generation that promised, counts.
    const counts = msg.outcome === 'accept' && batch.named.some((n) => n.id === from && n.generation === msg.generation);
    batch.tally.record(from, counts ? 'accept' : 'ignored');
    if (batch.tally.won) batch.chosen = true;
    this.resolveChosen(out);
  }

  /**
   * A member's disk was replaced: stop counting the old disk. Batches not yet
   * chosen are sent again naming only current members. With fewer than a
   * quorum left, the election no longer guards against the lost promises:
   * give up, and the next operation elects again.
   */
  private onStale(msg: WriteReply, out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'stale replies matter only to an elected writer');
    for (const r of msg.retired) {
      const g = role.named.get(r.id);
      if (g !== undefined && g < r.generation) role.named.delete(r.id);
    }
    if (role.named.size < quorumSize(this.config.members.length)) return this.giveUp(out);
    const named = namedList(role.named);
    for (const b of role.inflight) {
      if (b.chosen || b.named.every((n) => role.named.get(n.id) === n.generation)) continue;
      b.named = named;
      b.retransmits = 0;
      b.rid = this.newRid();
      b.tally = new QuorumTally(this.config.members.length);
      this.sendBatch(b, this.config.members, role.proposal, out);
    }
  }

  /** Resolves chosen batches in position order and tells every member they are chosen. */
  private resolveChosen(out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'resolve needs an elected writer');
    let commitFrom: Position | undefined;
    let commitTo: Position = -1;
    while (role.inflight.length > 0 && role.inflight[0]!.chosen) {
      const b = role.inflight.shift()!;
      commitFrom ??= b.from;
      commitTo = b.from + b.actions.length - 1;
      b.opIds.forEach((id, k) => {
        if (id >= 0) out.done.push({ id, result: { ok: true, position: b.from + k } });
      });
    }
    if (commitFrom === undefined) return;
    if (role.committed.first < 0) role.committed.first = commitFrom;
    role.committed.through = commitTo;
    const commit: CommitMessage = { type: 'commit', proposal: role.proposal, from: commitFrom, to: commitTo };
    for (const to of this.config.members) out.send.push({ to, msg: commit });
    if (!role.electionReported && commitTo >= role.electionPosition) {
      role.electionReported = true;
      out.election = { ok: true, position: role.electionPosition };
    }
    this.flush(out);
  }

  private fence(by: Proposal, out: WriterOutput): void {
    this.failAll({ ok: false, error: 'fenced', proposal: by }, out);
    this.role = { kind: 'fenced', by };
  }

  /** Fails every pending and queued operation, and a pending election. */
  private failAll(result: OpResult, out: WriterOutput): void {
    if (this.role.kind === 'elected') {
      for (const b of this.role.inflight) for (const id of b.opIds) if (id >= 0) out.done.push({ id, result });
      if (!this.role.electionReported) out.election = result;
    } else if (this.role.kind === 'electing' || this.role.kind === 'backoff') {
      if (this.electionWanted) out.election = result;
    }
    for (const op of this.queue.splice(0)) if (op.id >= 0) out.done.push({ id: op.id, result });
    this.electionWanted = false;
  }

  // ------------------------------------------------------------------ time

  private onTick(out: WriterOutput): void {
    const role = this.role;
    switch (role.kind) {
      case 'idle':
      case 'fenced':
        return;
      case 'backoff':
        if (this.now - role.startedAt >= timing.operationTimeoutMs) return this.giveUp(out);
        if (this.now >= role.until) this.startElection(out);
        return;
      case 'electing':
        if (this.now - role.startedAt >= timing.operationTimeoutMs) return this.giveUp(out);
        if (this.now - role.sentAt >= timing.retransmitMs) {
          role.sentAt = this.now;
          const msg: PromiseRequest = { type: 'promise', rid: role.rid, proposal: role.proposal };
          for (const to of role.tally.pending(this.config.members)) out.send.push({ to, msg });
        }
        return;
      case 'elected':
        if (role.named.size < this.config.members.length && this.now - role.repromisedAt >= timing.repromiseMs) {
          // Members that did not promise (down, or recovering at the election) may have come back.
          role.repromisedAt = this.now;
          const msg: PromiseRequest = { type: 'promise', rid: role.electionRid, proposal: role.proposal };
          for (const to of this.config.members) if (!role.named.has(to)) out.send.push({ to, msg });
        }
        if (role.committed.first >= 0 && this.now - role.recommittedAt >= timing.recommitMs) {
          // A replica that lost a commit holds its values unlearned: say it again, for the whole term
          // (replicas skip what they learned already, so this costs little).
          role.recommittedAt = this.now;
          const msg: CommitMessage = { type: 'commit', proposal: role.proposal, from: role.committed.first, to: role.committed.through };
          for (const to of this.config.members) out.send.push({ to, msg });
        }
        for (const b of role.inflight) {
          if (b.chosen) continue;
          if (this.now - b.startedAt >= timing.operationTimeoutMs) return this.giveUp(out);
          // On a live connection nothing is lost: back off so a slow quorum is not buried in copies.
          if (this.now - b.sentAt >= timing.retransmitMs * 2 ** Math.min(b.retransmits, 5)) {
            b.retransmits++;
            this.sendBatch(b, b.tally.pending(this.config.members), role.proposal, out);
          }
        }
        return;
      default:
        assertNever(role, 'writer role');
    }
  }

  /** No quorum in time: fail what is pending; the next operation elects again. */
  private giveUp(out: WriterOutput): void {
    this.failAll({ ok: false, error: 'no-quorum' }, out);
    this.role = { kind: 'idle' };
  }
}

function namedList(named: Map<ReplicaId, number>): Named[] {
  return [...named].map(([id, generation]) => ({ id, generation }));
}
