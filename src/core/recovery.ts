/**
 * The recovery protocol's start-up part: how a replica that is not VOTING
 * finds out what to become, by asking every member for its status.
 *
 * A new cluster initialises itself in two phases (as Mesos does), with no
 * `initialize` command:
 *   EMPTY    -> STARTING  once every member is EMPTY or STARTING;
 *   STARTING -> VOTING    once every member is STARTING or VOTING.
 * Two phases, because with one a replica could become VOTING before the others
 * asked, and they would then wait for a quorum that never forms.
 *
 * A cluster that already holds data is never re-initialised: an EMPTY replica
 * that sees a VOTING member stays EMPTY (it needs every member EMPTY or
 * STARTING to start). Rejoining an existing cluster after a disk loss is the
 * autorecovery protocol's job; until it runs, such a replica waits, does not
 * vote, and says why (`waiting`).
 */
import { assertNever } from './assert.js';
import { quorumSize } from './quorum.js';
import type { RecoverReply, RecoverRequest, ReplicaId, Status } from './types.js';

export type RecoveryEvent =
  | { readonly type: 'reply'; readonly from: ReplicaId; readonly msg: RecoverReply }
  | { readonly type: 'tick' }
  /** The local status changed (persisted by the shell). */
  | { readonly type: 'status'; readonly status: Status };

export interface RecoveryOutput {
  readonly send: { readonly to: ReplicaId; readonly msg: RecoverRequest }[];
  /** A status to persist (the shell writes it durably, then reports it back with a 'status' event). */
  become?: Status;
  /** Why the replica is not VOTING yet, when that changed. */
  waiting?: string;
}

export interface RecoveryConfig {
  readonly self: ReplicaId;
  readonly members: readonly ReplicaId[];
  readonly status: Status;
  readonly random: () => number;
  readonly rid: () => number;
  /** Wait between rounds: uniform in [roundMs, 2 * roundMs). */
  readonly roundMs?: number;
}

export class RecoveryCore {
  private status: Status;
  private round?: { rid: number; replies: Map<ReplicaId, Status>; nextAt: number };
  private lastWaiting = '';
  private now = 0;

  constructor(private readonly config: RecoveryConfig) {
    this.status = config.status;
  }

  get done(): boolean {
    return this.status === 'VOTING';
  }

  step(event: RecoveryEvent, now: number): RecoveryOutput {
    this.now = now;
    const out: RecoveryOutput = { send: [] };
    switch (event.type) {
      case 'status':
        this.status = event.status;
        this.round = undefined;
        if (!this.done) this.startRound(out);
        break;
      case 'tick':
        if (this.done) break;
        if (this.round === undefined || now >= this.round.nextAt) this.startRound(out);
        break;
      case 'reply':
        if (this.round === undefined || event.msg.rid !== this.round.rid) break;
        this.round.replies.set(event.from, event.msg.status);
        this.decide(out);
        break;
      default:
        assertNever(event, 'recovery event');
    }
    return out;
  }

  private startRound(out: RecoveryOutput): void {
    const rid = this.config.rid();
    const roundMs = this.config.roundMs ?? 500;
    this.round = { rid, replies: new Map([[this.config.self, this.status]]), nextAt: this.now + roundMs * (1 + this.config.random()) };
    for (const to of this.config.members) if (to !== this.config.self) out.send.push({ to, msg: { type: 'recover', rid } });
    this.decide(out);
  }

  private decide(out: RecoveryOutput): void {
    const round = this.round!;
    const n = this.config.members.length;
    const count = (s: Status) => [...round.replies.values()].filter((x) => x === s).length;
    const voting = count('VOTING');
    if (this.status === 'EMPTY' && count('EMPTY') + count('STARTING') >= n) {
      out.become = 'STARTING';
    } else if (this.status === 'STARTING' && count('STARTING') + voting >= n) {
      out.become = 'VOTING';
    } else if (voting >= quorumSize(n)) {
      this.say(out, `the cluster already holds data (${voting} VOTING replicas): this replica lost its state and waits for autorecovery; it does not vote`);
    } else {
      const heard = round.replies.size;
      this.say(out, `waiting for the other replicas: heard from ${heard} of ${n} (${voting} VOTING); a new cluster starts once every member answers`);
    }
    if (out.become !== undefined) this.round = undefined;
  }

  private say(out: RecoveryOutput, why: string): void {
    if (why === this.lastWaiting) return;
    this.lastWaiting = why;
    out.waiting = why;
  }
}
