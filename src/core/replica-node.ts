/**
 * ReplicaNodeCore: everything a replica process decides, behind one entry
 * point. It combines the acceptor/learner (replica.ts), the recovery protocol
 * (recovery.ts: start-up statuses and rejoining after a lost disk) and the
 * catch-up (catchup.ts). Pure logic: events in (a message, a tick), effects
 * out (records to persist, a reply to release once they are durable, requests
 * to peers). The production shell (src/server/replica-host.ts) and the
 * simulator's replica both drive this same class.
 */
import { CatchUp, type CatchUpOutput } from './catchup.js';
import { timing } from './constants.js';
import { quorumSize } from './quorum.js';
import { RecoveryCore, type RecoveryEvent, type RecoveryOutput } from './recovery.js';
import { replicaStep } from './replica.js';
import { ALL_RULES_ON, type SafetyRules } from './rules.js';
import type { StoreView } from './store.js';
import type { Message, PersistRecord, ReplicaId, ReplicaOneWay, ReplicaReply, ReplicaRequest, Status } from './types.js';

export type NodeEvent =
  /** A message; `from` is set when it comes from a peer replica (its replies to our own requests). */
  | { readonly type: 'message'; readonly msg: Message; readonly from?: ReplicaId }
  | { readonly type: 'tick' };

export interface NodeOutput {
  /** To append to the store, in order. */
  readonly records: PersistRecord[];
  /** To send back to the message's sender once every record appended so far is durable. */
  reply?: ReplicaReply;
  /** Requests to peers (recovery, rejoin, catch-up reads and fills), to send now. */
  readonly send: { readonly to: ReplicaId; readonly msg: Message }[];
  /** True when no reply waits for `records` (learned values): they may ride on a later sync. */
  lazy: boolean;
  /** Set when the replica's status changed in this step. */
  status?: Status;
  /** Things an operator wants to read in the log, in order. */
  readonly notes: string[];
}

export interface ReplicaNodeConfig {
  readonly id: ReplicaId;
  readonly members: readonly ReplicaId[];
  readonly store: StoreView;
  /** Uniform in [0, 1): backoff and retry jitter. */
  readonly random: () => number;
  readonly rules?: SafetyRules;
  /** Pause between recovery rounds (default 500 ms, jittered up to twice that). */
  readonly recoveryRoundMs?: number;
}

export class ReplicaNodeCore {
  private recovery: RecoveryCore | undefined;
  private catchUp: CatchUp | undefined;
  private nextRid = 1;
  private now = 0;
  /** When corrupted positions were last asked for (a repair is retried at most every timing.repairEveryMs). */
  private repairedAt = -Infinity;
  private readonly rules: SafetyRules;
  /** Why the replica is not VOTING, for status pages; '' when VOTING. */
  waiting = '';

  constructor(private readonly config: ReplicaNodeConfig) {
    this.rules = config.rules ?? ALL_RULES_ON;
    const meta = config.store.metadata();
    if (meta.status !== 'VOTING') {
      this.recovery = new RecoveryCore({
        self: config.id,
        members: config.members,
        status: meta.status,
        generation: meta.generation ?? 0,
        random: config.random,
        rid: () => this.nextRid++,
        roundMs: config.recoveryRoundMs,
        rules: this.rules,
      });
      this.waiting = 'starting the recovery protocol';
    }
  }

  get status(): Status {
    return this.config.store.metadata().status;
  }

  /** Progress of a rejoining replica's catch-up: positions and entry bytes learned of the range. */
  progress(): { done: number; total: number; bytes: number } | null {
    const c = this.catchUp;
    return c === undefined ? null : { done: c.positionsDone, total: c.total, bytes: c.bytesDone };
  }

  step(event: NodeEvent, now: number): NodeOutput {
    this.now = Math.max(this.now, now);
    const out: NodeOutput = { records: [], send: [], lazy: false, notes: [] };
    if (event.type === 'tick') {
      this.drive({ type: 'tick' }, out);
      this.repairLost(out);
      if (this.catchUp !== undefined) this.applyCatchUp(this.catchUp.tick(this.now), out);
      return out;
    }
    const { msg, from } = event;
    switch (msg.type) {
      case 'recoverReply':
      case 'rejoinReply':
        if (from !== undefined) this.drive({ type: 'reply', from, msg }, out);
        return out;
      case 'readReply':
      case 'promiseReply':
      case 'writeReply':
        // Answers to this replica's own catch-up reads and fills.
        if (from !== undefined && this.catchUp !== undefined) this.applyCatchUp(this.catchUp.onReply(from, msg, this.now), out);
        return out;
      default: {
        const step = replicaStep(this.config.store, msg as ReplicaRequest | ReplicaOneWay, this.rules);
        out.records.push(...step.records);
        const progress = this.progress();
        if (step.reply?.type === 'recoverReply' && progress !== null) {
          out.reply = { ...step.reply, progress: { done: progress.done, total: progress.total } };
        } else if (step.reply !== undefined) out.reply = step.reply;
        else out.lazy = step.records.length > 0;
        return out;
      }
    }
  }

  private drive(event: RecoveryEvent, out: NodeOutput): void {
    const core = this.recovery;
    if (core === undefined) return;
    const r: RecoveryOutput = core.step(event, this.now);
    out.send.push(...r.send);
    if (r.waiting !== undefined && r.waiting !== this.waiting) {
      this.waiting = r.waiting;
      out.notes.push(r.waiting);
    }
    if (r.catchUp !== undefined) {
      out.notes.push(`catching up positions [${r.catchUp.from}, ${r.catchUp.to}] from the other replicas`);
      this.startCatchUp(r.catchUp.from, r.catchUp.to, out);
    }
    if (r.become !== undefined) {
      const { status, generation } = r.become;
      const meta = this.config.store.metadata();
      out.records.push({ type: 'metadata', metadata: { ...meta, status, generation } });
      out.status = status;
      out.notes.push(`replica is now ${status} (generation ${generation})`);
      if (status === 'VOTING') {
        this.recovery = undefined;
        this.waiting = '';
      } else {
        // The store shows the new status once the shell appended the record; the core goes on at once.
        this.drive({ type: 'status', status, generation }, out);
      }
    }
  }

  /**
   * A VOTING replica whose storage found corrupted records fetches those
   * positions again from the others (the same catch-up as a rejoin). Until
   * then it does not vote on them (replica.ts) and never serves them.
   */
  private repairLost(out: NodeOutput): void {
    if (this.recovery !== undefined || this.catchUp !== undefined) return;
    if (this.now - this.repairedAt < timing.repairEveryMs) return;
    const lost = this.config.store.lostPositions();
    if (lost.length === 0 || this.config.members.length < 2) return;
    this.repairedAt = this.now;
    const from = lost[0]!;
    const to = Math.min(lost[lost.length - 1]!, from + 4 * 4096);
    out.notes.push(`repairing ${lost.length} corrupted position(s) in [${from}, ${to}] from the other replicas`);
    this.startCatchUp(from, to, out, false);
  }

  private startCatchUp(from: number, to: number, out: NodeOutput, fillGaps = true): void {
    this.catchUp = new CatchUp(from, to, {
      fillGaps,
      peers: this.config.members.filter((m) => m !== this.config.id),
      quorum: quorumSize(this.config.members.length),
      random: this.config.random,
      rid: () => this.nextRid++,
    });
    this.applyCatchUp(this.catchUp.start(this.now), out);
  }

  private applyCatchUp(c: CatchUpOutput, out: NodeOutput): void {
    out.send.push(...c.send);
    if (c.learned.length > 0) {
      // Chosen values: stored as learned. They are durable before VOTING is, by record order.
      const step = replicaStep(this.config.store, { type: 'learned', entries: c.learned }, this.rules);
      out.records.push(...step.records);
      out.lazy = out.reply === undefined;
    }
    if (c.done !== undefined) {
      const done = this.catchUp!;
      this.catchUp = undefined;
      out.notes.push(`catch-up ${c.done === 'ok' ? 'finished' : 'failed (no quorum)'}: ${done.positionsDone} positions, ${done.bytesDone} bytes`);
      // A repair (no recovery running) simply starts again at the next tick if anything is still lost.
      if (this.recovery !== undefined) this.drive({ type: c.done === 'ok' ? 'caughtUp' : 'catchUpFailed' }, out);
    }
  }
}
