/**
 * A replica's shell in the simulator: it runs the real core (replicaStep) on
 * each message, appends the returned records to its SimDisk, and releases a
 * reply only once an fsync covering every record appended up to that step has
 * completed: exactly the durability order the production shell must keep.
 * One fsync is in flight at a time; records appended meanwhile wait for the
 * next one (group commit).
 */
import type { PersistRecord, Position, ReplicaId } from '../core/types.js';
import { replicaStep } from '../core/replica.js';
import type { SafetyRules } from '../core/rules.js';
import type { Checker } from './checker.js';
import type { Addr, Envelope } from './network.js';
import type { SimDisk } from './sim-store.js';

/** What a replica needs from the simulation around it. */
export interface ReplicaHost {
  readonly rules: SafetyRules;
  readonly checker: Checker;
  send(env: Envelope): void;
  /** Schedules syncDone(epoch, upTo) on the node after a random fsync latency. */
  scheduleSync(node: ReplicaNode, epoch: number, upTo: number): void;
  trace(text: string): void;
}

export class ReplicaNode {
  readonly addr: Addr;
  up = true;
  /** Bumped by every crash: an fsync that completes for an older epoch is void. */
  epoch = 0;
  /** Wiped or corrupted at some point (may not count toward a voting quorum). */
  damaged = false;
  private pending: { seq: number; env: Envelope }[] = [];
  private syncing = false;

  constructor(
    readonly id: ReplicaId,
    readonly disk: SimDisk,
    private readonly host: ReplicaHost,
  ) {
    this.addr = `r${id}`;
  }

  /** Handles one request or one-way message (replies addressed to replicas are not expected). */
  receive(env: Envelope): void {
    if (!this.up) return;
    const msg = env.msg;
    if (msg.type === 'promiseReply' || msg.type === 'writeReply' || msg.type === 'readReply' || msg.type === 'recoverReply' || msg.type === 'rejoinReply') return;
    const store = this.disk.live;
    const step = replicaStep(store, msg, this.host.rules);
    const committing = this.commitTargets(step.records);
    const seq = this.disk.append(step.records);
    this.noteLearned(step.records, committing);
    if (step.records.length > 0) this.host.trace(`r${this.id} +${step.records.length} records (${this.disk.appended - this.disk.durable} unsynced)`);
    if (step.reply !== undefined) this.pending.push({ seq, env: { from: this.addr, to: env.from, msg: step.reply } });
    this.release();
    this.startSync();
    store.checkInvariants();
  }

  /** An fsync started at `upTo` records completed. */
  syncDone(epoch: number, upTo: number): void {
    if (epoch !== this.epoch || !this.up) return;
    this.syncing = false;
    const from = this.disk.durable;
    const recs = this.disk.live.records;
    for (let i = from; i < upTo; i++) {
      const r = recs[i]!;
      if (r.type === 'accept') this.host.checker.noteDurableAccept(this.id, r.position, r.proposal, r.action);
    }
    this.disk.synced(upTo);
    this.release();
    this.startSync();
  }

  /** Stops the process: replies not sent and records not durable are gone. Returns records lost. */
  crash(): number {
    this.up = false;
    this.epoch++;
    this.pending = [];
    this.syncing = false;
    return this.disk.crash();
  }

  restart(): void {
    this.disk.restart();
    this.up = true;
  }

  private startSync(): void {
    if (this.syncing || this.disk.durable >= this.disk.appended) return;
    this.syncing = true;
    this.host.scheduleSync(this, this.epoch, this.disk.appended);
  }

  private release(): void {
    let k = 0;
    while (k < this.pending.length && this.pending[k]!.seq <= this.disk.durable) this.host.send(this.pending[k++]!.env);
    if (k > 0) this.pending.splice(0, k);
  }

  /** Positions a commit record is about to mark learned (accepted under its proposal, not yet learned). */
  private commitTargets(records: readonly PersistRecord[]): Position[] {
    const out: Position[] = [];
    const store = this.disk.live;
    for (const r of records) {
      if (r.type !== 'commit') continue;
      for (const p of store.positions(r.from, r.to)) {
        const s = store.slot(p);
        if (s !== undefined && !s.learned && s.accepted === r.proposal) out.push(p);
      }
    }
    return out;
  }

  private noteLearned(records: readonly PersistRecord[], committed: readonly Position[]): void {
    const store = this.disk.live;
    const learned = committed.concat(records.filter((r) => r.type === 'learn').map((r) => (r as { position: Position }).position));
    for (const p of learned) {
      if (!store.slot(p)?.learned) continue;
      const a = store.action(p);
      if (a !== undefined && a !== 'lost') this.host.checker.noteLearned(this.id, p, a);
    }
  }
}
