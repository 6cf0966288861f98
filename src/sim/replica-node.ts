/**
 * A replica's shell in the simulator: it drives the real replica node core
 * (ReplicaNodeCore: acceptor + recovery + catch-up, the class the production
 * shell drives) with every message and a periodic tick, appends the records
 * it returns to its SimDisk, and keeps the production durability order:
 * - a reply waits until an fsync covering every record appended up to its
 *   step (not only its own) has completed, so replies leave in order and never
 *   promise what a crash can take back;
 * - requests to peers (`send`: recovery, rejoin, catch-up reads and fills)
 *   leave at once;
 * - records no reply waits for (`lazy`: commits, learned values) may ride on
 *   the next fsync, but one starts within LAZY_SYNC_MS at the latest.
 * One fsync is in flight at a time; records appended meanwhile wait for the
 * next one (group commit). A restart rebuilds the core from the durable disk.
 * The release rule is production's own (src/core/durable-queue.ts), and so is
 * the storage failure policy (src/server/replica-host.ts): a failed write
 * pauses the replica (it steps nothing, drops what arrives, keeps every
 * appended record and retries the sync after RETRY_SYNC_MS); a failed fsync
 * stops the process (a crash: it replays its durable disk when restarted,
 * after FATAL_RESTART_MS).
 */
import { DurableQueue, syncNeed } from '../core/durable-queue.js';
import { StepInvariants } from '../core/invariants.js';
import { ReplicaNodeCore, type NodeOutput } from '../core/replica-node.js';
import type { ConfigHead, PlacedConfiguration } from '../core/membership.js';
import type { SafetyRules } from '../core/rules.js';
import type { Message, Metadata, Named, PersistRecord, Position, ReplicaId, Status } from '../core/types.js';
import type { Checker } from './checker.js';
import type { Addr, Envelope } from './network.js';
import type { SimDisk } from './sim-store.js';

/** As the production shell: records nothing waits for are durable within this many ms. */
export const LAZY_SYNC_MS = 10;
/** A paused replica (failed write) retries its sync this often, as the server does at every tick. */
export const RETRY_SYNC_MS = 100;
/** A replica stopped by a failed fsync is restarted this long after (as a supervisor would). */
export const FATAL_RESTART_MS = 500;

/** What a replica needs from the simulation around it. */
export interface ReplicaHost {
  readonly rules: SafetyRules;
  readonly checker: Checker;
  readonly members: readonly ReplicaId[];
  now(): number;
  send(env: Envelope): void;
  /** Schedules syncDone(epoch, upTo) on the node after a random fsync latency. */
  scheduleSync(node: ReplicaNode, epoch: number, upTo: number): void;
  /** Schedules lazySyncDue(epoch) on the node after `delayMs`. */
  scheduleLazySync(node: ReplicaNode, epoch: number, delayMs: number): void;
  /** Uniform in [0, 1): the cores' jitter, from the run's PRNG. */
  random(): number;
  trace(text: string): void;
  /** A replica's status changed (the record is appended, maybe not yet durable). */
  statusChanged?(node: ReplicaNode, status: Status): void;
  /** A reply or announcement of a step that appended through record `seq`: it may leave only once they are durable. */
  heldUntilDurable?(node: ReplicaNode, env: Envelope, seq: number): void;
}

const REPLY_TYPES = new Set<Message['type']>(['promiseReply', 'writeReply', 'readReply', 'recoverReply', 'rejoinReply']);

/** `r3` -> 3; undefined for a client address. */
export function replicaIdOf(addr: Addr): ReplicaId | undefined {
  return /^r\d+$/.test(addr) ? Number(addr.slice(1)) : undefined;
}

export class ReplicaNode {
  readonly addr: Addr;
  up = true;
  /** Bumped by every crash: an fsync that completes for an older epoch is void. */
  epoch = 0;
  /**
   * Wiped or corrupted and not yet healthy again: does not count toward the
   * fault budget's voting quorum. Cleared once the replica is VOTING durably
   * with no lost positions (after its rejoin, or once its lost records were rewritten).
   */
  damaged = false;
  /** Why it is damaged (trace only). */
  damage = '';
  /** Set while a rejoin is in progress: the checker's ack sequence when it began. */
  rejoinFromAck: number | undefined;
  /** Rejoins completed (VOTING again after a non-VOTING start). */
  rejoins = 0;
  private core: ReplicaNodeCore;
  /** The acceptor's delta checker, around every step that appends records (src/core/invariants.ts). */
  private readonly invariants: StepInvariants;
  /** Replies waiting for durability (production's rule). */
  private readonly queue = new DurableQueue<Envelope>();
  /** A write failed: the replica steps nothing until a retried sync succeeds. */
  private paused = false;
  /** Stopped by a failed fsync: restarts itself after FATAL_RESTART_MS. */
  private stoppedByFsync = false;
  /** For accept records not yet durable: the members (and generations) the write named. */
  private namedAt = new Map<number, { readonly named: readonly Named[]; readonly config?: ConfigHead }>();
  private syncing = false;
  private lazyDue = false;
  /** The VOTING record of a rejoin: the replica is healthy once it is durable. */
  private votingSeq: number | undefined;

  /** The member list this replica is configured with (any order; the host's by default). */
  readonly members: readonly ReplicaId[];
  /** Stopped for good (a removed member its operator shut down): never restarted, no liveness asked of it. */
  retired = false;

  constructor(
    readonly id: ReplicaId,
    readonly disk: SimDisk,
    private readonly host: ReplicaHost,
    members?: readonly ReplicaId[],
    /** A run that changes its members: its first configuration (bootstrap), or a joiner that never starts a cluster (mayStart false). */
    private readonly start: { readonly bootstrap?: PlacedConfiguration; readonly mayStart?: boolean } = {},
  ) {
    this.addr = `r${id}`;
    this.members = members ?? host.members;
    this.invariants = new StepInvariants(this.addr);
    // The first process on a disk built VOTING in memory has nothing to check; restarts do.
    this.core = this.newCore(false);
  }

  get status(): Status {
    return this.disk.live.metadata().status;
  }

  /** True while a restarted VOTING replica checks with its peers before it votes (the restart check). */
  get holdsVotes(): boolean {
    return this.up && this.core.holdsVotes;
  }

  /** Why the replica is not VOTING ('' when it is). */
  get waiting(): string {
    return this.core.waiting;
  }

  /** One message. A reply addressed to a replica answers its own requests: it goes to the core with `from`. */
  receive(env: Envelope): void {
    if (!this.up || this.paused) return;
    const msg = env.msg;
    if (REPLY_TYPES.has(msg.type)) {
      const from = replicaIdOf(env.from);
      if (from === undefined) return;
      this.apply(this.core.step({ type: 'message', msg, from }, this.host.now()));
      return;
    }
    const first = this.disk.appended;
    this.apply(this.core.step({ type: 'message', msg, from: replicaIdOf(env.from) }, this.host.now()), env.from);
    if (msg.type === 'write') for (let i = first; i < this.disk.appended; i++) this.namedAt.set(i, { named: msg.named, config: msg.config });
  }

  /** The periodic tick: recovery rounds, catch-up retries and timeouts. */
  tick(): void {
    if (!this.up || this.paused) return;
    this.apply(this.core.step({ type: 'tick' }, this.host.now()));
  }

  private apply(out: NodeOutput, replyTo?: Addr): void {
    const store = this.disk.live;
    for (const s of out.send) this.host.send({ from: this.addr, to: `r${s.to}`, msg: s.msg });
    const committing = this.commitTargets(out.records);
    let seq = this.disk.appended;
    this.invariants.around(store, out.records, () => (seq = this.disk.append(out.records)));
    this.noteLearned(out.records, committing);
    this.noteChain(out.records);
    if (out.records.length > 0) this.host.trace(`r${this.id} +${out.records.length} records (${this.disk.appended - this.disk.durable} unsynced)${out.lazy ? ' lazy' : ''}`);
    for (const note of out.notes) this.host.trace(`r${this.id} ${note}`);
    if (out.status !== undefined) this.onStatus(out.status, seq);
    const held: Envelope[] = out.announce.map((a) => ({ from: this.addr, to: `r${a.to}`, msg: a.msg }));
    if (out.reply !== undefined && replyTo !== undefined) held.push({ from: this.addr, to: replyTo, msg: out.reply });
    const queued = held.length > 0;
    for (const env of held) {
      // Told to the checker before the shell decides when it leaves: it must not leave before `seq` is durable.
      this.host.heldUntilDurable?.(this, env, seq);
      this.queue.push(seq, env);
    }
    this.release();
    if (syncNeed(out, queued || out.reply !== undefined) === 'lazy') this.requestLazySync();
    else this.startSync();
    if (out.records.length > 0) store.checkInvariants();
    if (this.damaged) this.updateHealth();
  }

  private onStatus(status: Status, seq: number): void {
    this.host.statusChanged?.(this, status);
    // A rejoin (RECOVERING: a lost, damaged or restored disk) must catch up what was acknowledged before it.
    if (status === 'RECOVERING') this.rejoinFromAck ??= this.host.checker.ackCount;
    if (status !== 'VOTING') return;
    this.rejoins++;
    this.votingSeq = seq;
    if (this.rejoinFromAck !== undefined) {
      this.host.checker.noteRejoined(this.id, this.disk.live, this.rejoinFromAck);
      this.rejoinFromAck = undefined;
    }
  }

  /** An fsync started at `upTo` records completed. */
  syncDone(epoch: number, upTo: number): void {
    if (epoch !== this.epoch || !this.up) return;
    this.syncing = false;
    const fault = this.disk.takeSyncFault();
    if (fault === 'fsync') return this.stopByFsync();
    if (fault !== undefined) {
      // Nothing of it is durable; the records stay queued and are written again.
      if (!this.paused) this.host.trace(`r${this.id} storage ${fault}: paused until a write succeeds`);
      this.paused = true;
      this.lazyDue = true;
      this.host.scheduleLazySync(this, this.epoch, RETRY_SYNC_MS);
      return;
    }
    if (this.paused) this.host.trace(`r${this.id} storage writes again: resuming`);
    this.paused = false;
    const from = this.disk.durable;
    const recs = this.disk.live.records;
    // The chain the replica held when it accepted (I7): the last metadata record before the accept in this
    // batch, or, if none lies before it or after it, the current one.
    let metaAt: Metadata | undefined;
    let lastMeta = -1;
    for (let i = from; i < upTo; i++) if (recs[i]!.type === 'metadata') lastMeta = i;
    for (let i = from; i < upTo; i++) {
      const r = recs[i]!;
      if (r.type === 'metadata') metaAt = r.metadata;
      if (r.type === 'learn') this.host.checker.noteDurableHold(this.id, r.position);
      if (r.type !== 'accept') continue;
      const meta = this.disk.live.metadata();
      const chain = (metaAt ?? (lastMeta < i ? meta : undefined))?.configs;
      const by = this.namedAt.get(i);
      this.host.checker.noteDurableAccept(this.id, r.position, r.proposal, r.action, {
        disk: `${meta.incarnation}/${meta.generation ?? 0}/${meta.disk ?? 0}`,
        named: by?.named ?? [],
        ...(by?.config === undefined ? {} : { config: by.config }),
        ...(chain === undefined ? {} : { chain }),
      });
      this.namedAt.delete(i);
    }
    this.disk.synced(upTo);
    this.updateHealth();
    this.release();
    this.startSync();
  }

  /** The lazy-sync timer fired (or, for a replica stopped by a failed fsync, its restart is due). */
  lazySyncDue(epoch: number): void {
    if (epoch === this.epoch && !this.up && this.stoppedByFsync) {
      this.stoppedByFsync = false;
      this.host.trace(`r${this.id} restarts after the failed fsync`);
      this.restart();
      return;
    }
    if (epoch !== this.epoch || !this.up) return;
    this.lazyDue = false;
    this.startSync();
  }

  /** Stops the process: replies not sent and records not durable are gone. Returns records lost. */
  crash(): number {
    this.up = false;
    this.epoch++;
    this.queue.clear();
    this.syncing = false;
    this.paused = false;
    this.stoppedByFsync = false;
    this.lazyDue = false;
    this.votingSeq = undefined;
    this.namedAt.clear();
    return this.disk.crash();
  }

  /** Restarts from the durable disk: a new core reads its state (and resumes a rejoin if not VOTING). */
  restart(): void {
    this.disk.restart();
    this.up = true;
    this.core = this.newCore();
    // A disk that lost data rejoins; a STARTING or EMPTY disk of a new cluster never voted and has nothing to catch up.
    if (this.status === 'RECOVERING' || (this.status === 'EMPTY' && this.damaged)) this.rejoinFromAck ??= this.host.checker.ackCount;
    this.updateHealth();
  }

  private newCore(restartCheck = true): ReplicaNodeCore {
    this.invariants.reset();
    return new ReplicaNodeCore({ id: this.id, members: this.members, store: this.disk.live, random: () => this.host.random(), rules: this.host.rules, now: this.host.now(), restartCheck, ...this.start });
  }

  /**
   * A damaged replica is healthy again once it is up and durably VOTING, done
   * with its restart check (a restored disk), holds no lost record and meets
   * no more injected sync faults.
   */
  private updateHealth(): void {
    if (!this.damaged || !this.up || this.status !== 'VOTING' || this.core.holdsVotes) return;
    if (this.disk.live.lostPositions().length > 0 || this.disk.syncFaultsLeft > 0) return;
    if (this.votingSeq !== undefined && this.disk.durable < this.votingSeq) return;
    this.damaged = false;
    this.votingSeq = undefined;
    this.host.trace(`r${this.id} healthy again after ${this.damage} (VOTING, nothing lost)`);
    this.damage = '';
  }

  private requestLazySync(): void {
    if (this.syncing || this.lazyDue) return;
    this.lazyDue = true;
    this.host.scheduleLazySync(this, this.epoch, LAZY_SYNC_MS);
  }

  private startSync(): void {
    if (this.syncing || this.disk.durable >= this.disk.appended) return;
    this.syncing = true;
    this.host.scheduleSync(this, this.epoch, this.disk.appended);
  }

  private release(): void {
    for (const env of this.queue.release(this.disk.durable)) this.host.send(env);
  }

  /** A failed fsync: the process stops (nothing waiting leaves) and restarts later from its durable disk. */
  private stopByFsync(): void {
    const lost = this.crash();
    this.host.trace(`r${this.id} storage fsync failed: process stopped (${lost} unsynced records lost)`);
    this.stoppedByFsync = true;
    this.host.scheduleLazySync(this, this.epoch, FATAL_RESTART_MS);
  }

  /**
   * Positions a commit record may mark learned: every unlearned slot of its
   * range (noteLearned keeps those learned once it is appended). Not only
   * those accepted under its proposal: the checker sees what the store
   * learned, not what the store is supposed to learn.
   */
  private commitTargets(records: readonly PersistRecord[]): Position[] {
    const out: Position[] = [];
    const store = this.disk.live;
    for (const r of records) {
      if (r.type !== 'commit') continue;
      for (const p of store.positions(r.from, r.to)) {
        const s = store.slot(p);
        if (s !== undefined && !s.learned) out.push(p);
      }
    }
    return out;
  }

  /** I3, I8: a new chain is one chain with every other replica's and the truth's, and holds every config entry learned. */
  private noteChain(records: readonly PersistRecord[]): void {
    const configs = records.some((r) => r.type === 'metadata') ? this.disk.live.metadata().configs : undefined;
    if (configs !== undefined && configs.length > 0) this.host.checker.noteChains(new Map([[this.id, configs]]));
    if (records.some((r) => r.type === 'learn' || r.type === 'commit' || r.type === 'metadata')) this.host.checker.checkChainComplete(this.id, this.disk.live);
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
