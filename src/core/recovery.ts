/**
 * The recovery protocol: how a replica that is not VOTING finds out what to
 * become, and, if it lost its disk, how it rejoins safely.
 *
 * A new cluster initialises itself in two phases (as Mesos does), with no
 * `initialize` command:
 *   EMPTY    -> STARTING  once every member is EMPTY or STARTING;
 *   STARTING -> VOTING    once every member is STARTING or VOTING.
 * Two phases, because with one a replica could become VOTING before the others
 * asked, and they would then wait for a quorum that never forms. A cluster
 * that holds data is never re-initialised: that needs every member EMPTY or
 * STARTING, and a member that ever voted is VOTING or RECOVERING.
 *
 * Rejoining (autorecovery). A replica that is not VOTING and sees a quorum of
 * VOTING peers lost its state (a wiped, replaced or corrupted disk). Its old
 * disk may have promised proposals and accepted values that the others never
 * saw; voting as if it had not could choose two values at one position (the
 * forgotten promise and the forgotten acceptance). It rejoins as a new
 * acceptor:
 *   1. query: ask a quorum for the generation they recorded for this member;
 *      take one above all of them (and above its own) and persist it with
 *      status RECOVERING (a crash from here on resumes the rejoin);
 *   2. rejoin: ask every peer to record the new generation durably. From then
 *      on each of them refuses writes that count an older generation of this
 *      member (replica.ts), and only then reports its [begin, end];
 *   3. catch up [max begin, max end] over a quorum of such reports (catchup.ts);
 *   4. persist VOTING. Writers count this replica again once it promises them.
 * docs/protocol.md has the argument for why this is enough.
 */
import { assertNever } from './assert.js';
import { quorumSize } from './quorum.js';
import { ALL_RULES_ON, type SafetyRules } from './rules.js';
import type { Position, RecoverReply, RecoverRequest, RejoinReply, RejoinRequest, ReplicaId, Status } from './types.js';

export type RecoveryEvent =
  | { readonly type: 'reply'; readonly from: ReplicaId; readonly msg: RecoverReply | RejoinReply }
  | { readonly type: 'tick' }
  /** The status (and generation) the shell persisted after a `become`. */
  | { readonly type: 'status'; readonly status: Status; readonly generation: number }
  /** The catch-up asked for finished: every position of the range is learned and durable. */
  | { readonly type: 'caughtUp' }
  /** The catch-up failed (no quorum in time): start the rejoin over. */
  | { readonly type: 'catchUpFailed' };

export interface RecoveryOutput {
  readonly send: { readonly to: ReplicaId; readonly msg: RecoverRequest | RejoinRequest }[];
  /** A status (and generation) to persist durably; the shell then reports it with a 'status' event. */
  become?: { readonly status: Status; readonly generation: number };
  /** Learn every position of [from, to] from the peers, then report 'caughtUp'. */
  catchUp?: { readonly from: Position; readonly to: Position };
  /** Why the replica is not VOTING yet, when that changed. */
  waiting?: string;
}

export interface RecoveryConfig {
  readonly self: ReplicaId;
  readonly members: readonly ReplicaId[];
  readonly status: Status;
  readonly generation: number;
  readonly random: () => number;
  readonly rid: () => number;
  /** Wait between rounds: uniform in [roundMs, 2 * roundMs). */
  readonly roundMs?: number;
  readonly rules?: SafetyRules;
}

type Phase =
  | { readonly kind: 'init' }
  | { readonly kind: 'query' }
  | { readonly kind: 'rejoin'; readonly generation: number; readonly queriedEnd: Position }
  | { readonly kind: 'catchingUp' }
  | { readonly kind: 'done' };

interface Round {
  readonly rid: number;
  readonly replies: Map<ReplicaId, RecoverReply | RejoinReply>;
  readonly nextAt: number;
}

export class RecoveryCore {
  private status: Status;
  private generation: number;
  private phase: Phase;
  private round?: Round;
  private lastWaiting = '';
  private now = 0;
  private becoming = false;
  private readonly peers: ReplicaId[];
  private readonly quorum: number;
  private readonly rules: SafetyRules;

  constructor(private readonly config: RecoveryConfig) {
    this.status = config.status;
    this.generation = config.generation;
    this.peers = config.members.filter((m) => m !== config.self);
    this.quorum = quorumSize(config.members.length);
    this.rules = config.rules ?? ALL_RULES_ON;
    this.phase = this.status === 'VOTING' ? { kind: 'done' } : this.status === 'RECOVERING' ? { kind: 'query' } : { kind: 'init' };
  }

  get done(): boolean {
    return this.phase.kind === 'done';
  }
  get phaseKind(): Phase['kind'] {
    return this.phase.kind;
  }

  step(event: RecoveryEvent, now: number): RecoveryOutput {
    this.now = now;
    const out: RecoveryOutput = { send: [] };
    switch (event.type) {
      case 'status':
        this.becoming = false;
        this.status = event.status;
        this.generation = event.generation;
        this.round = undefined;
        if (event.status === 'VOTING') this.phase = { kind: 'done' };
        else if (this.phase.kind === 'rejoin') this.startRound(out);
        else this.startRound(out);
        break;
      case 'tick':
        if (this.phase.kind === 'done' || this.phase.kind === 'catchingUp' || this.becoming) break;
        if (this.round === undefined || now >= this.round.nextAt) this.startRound(out);
        break;
      case 'reply':
        if (this.round === undefined || event.msg.rid !== this.round.rid) break;
        this.round.replies.set(event.from, event.msg);
        this.decide(out);
        break;
      case 'caughtUp':
        if (this.phase.kind !== 'catchingUp') break;
        this.become(out, 'VOTING', this.generation);
        break;
      case 'catchUpFailed':
        if (this.phase.kind !== 'catchingUp') break;
        this.phase = { kind: 'query' };
        this.startRound(out);
        break;
      default:
        assertNever(event, 'recovery event');
    }
    return out;
  }

  private startRound(out: RecoveryOutput): void {
    if (this.becoming) return;
    const rid = this.config.rid();
    const roundMs = this.config.roundMs ?? 500;
    this.round = { rid, replies: new Map(), nextAt: this.now + roundMs * (1 + this.config.random()) };
    const self = this.config.self;
    const phase = this.phase;
    const msg: RecoverRequest | RejoinRequest =
      phase.kind === 'rejoin' ? { type: 'rejoin', rid, member: self, generation: phase.generation } : { type: 'recover', rid, member: self };
    for (const to of this.peers) out.send.push({ to, msg });
    this.decide(out);
  }

  private decide(out: RecoveryOutput): void {
    if (this.becoming) return;
    switch (this.phase.kind) {
      case 'init':
        return this.decideInit(out);
      case 'query':
        return this.decideQuery(out);
      case 'rejoin':
        return this.decideRejoin(out);
      case 'catchingUp':
      case 'done':
        return;
      default:
        assertNever(this.phase, 'recovery phase');
    }
  }

  private recoverReplies(): RecoverReply[] {
    return [...this.round!.replies.values()].filter((r): r is RecoverReply => r.type === 'recoverReply');
  }

  private decideInit(out: RecoveryOutput): void {
    const statuses = [this.status, ...this.recoverReplies().map((r) => r.status)];
    const count = (s: Status) => statuses.filter((x) => x === s).length;
    const n = this.config.members.length;
    const voting = count('VOTING');
    if (this.status === 'EMPTY' && count('EMPTY') + count('STARTING') >= n) return this.become(out, 'STARTING', this.generation);
    if (this.status === 'STARTING' && count('STARTING') + voting >= n) return this.become(out, 'VOTING', this.generation);
    if (voting >= this.quorum) {
      this.phase = { kind: 'query' };
      this.say(out, `the cluster already holds data (${voting} VOTING replicas): this replica lost its state and rejoins`);
      return this.startRound(out);
    }
    this.say(out, `waiting for the other replicas: heard from ${statuses.length} of ${n} (${voting} VOTING); a new cluster starts once every member answers`);
  }

  /** Step 1: a generation above every one a quorum recorded for this member. */
  private decideQuery(out: RecoveryOutput): void {
    const voting = this.recoverReplies().filter((r) => r.status === 'VOTING');
    if (voting.length < this.quorum) {
      this.say(out, `rejoining: waiting for a quorum of VOTING peers (${voting.length} of ${this.quorum} answered); not voting meanwhile`);
      return;
    }
    const recorded = Math.max(this.generation, ...voting.map((r) => r.memberGeneration));
    const generation = recorded + 1;
    const queriedEnd = Math.max(...voting.map((r) => r.end));
    this.phase = { kind: 'rejoin', generation, queriedEnd };
    this.become(out, 'RECOVERING', generation);
  }

  /** Step 2: a quorum recorded the new generation; the range they report after recording is the one to catch up. */
  private decideRejoin(out: RecoveryOutput): void {
    const phase = this.phase;
    if (phase.kind !== 'rejoin') return;
    const replies = [...this.round!.replies.values()].filter((r): r is RejoinReply => r.type === 'rejoinReply');
    if (replies.some((r) => r.outcome === 'reject')) {
      // Someone recorded a newer generation for this member: query again.
      this.phase = { kind: 'query' };
      this.round = undefined;
      return this.startRound(out);
    }
    const accepted = replies.filter((r) => r.outcome === 'accept');
    if (accepted.length < this.quorum) {
      this.say(out, `rejoining with generation ${phase.generation}: ${accepted.length} of ${this.quorum} peers recorded it`);
      return;
    }
    const begin = Math.max(...accepted.map((r) => r.begin));
    const end = this.rules.catchUpAfterRecording ? Math.max(...accepted.map((r) => r.end)) : phase.queriedEnd;
    this.phase = { kind: 'catchingUp' };
    this.round = undefined;
    this.say(out, `rejoining with generation ${phase.generation}: catching up positions [${begin}, ${end}]`);
    out.catchUp = { from: begin, to: end };
  }

  private become(out: RecoveryOutput, status: Status, generation: number): void {
    this.becoming = true;
    this.round = undefined;
    out.become = { status, generation };
  }

  private say(out: RecoveryOutput, why: string): void {
    if (why === this.lastWaiting) return;
    this.lastWaiting = why;
    out.waiting = why;
  }
}
