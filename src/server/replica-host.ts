/**
 * ReplicaHost: the shell around the pure replica node core
 * (src/core/replica-node.ts). It feeds each incoming message and a periodic
 * tick to the core, appends the records the core returns to the store, sends
 * the core's requests to peers, and releases whatever reveals the replica's
 * state (replies, status announcements) only once a sync made every record
 * appended up to that step durable: the rule lives in src/core/durable-queue.ts,
 * which the simulator's shell uses too (group commit: one sync covers every
 * record appended while the previous one ran).
 *
 * Storage failures (docs/storage.md, "Errors"):
 * - A failed write (ENOSPC, EIO on write): the store keeps every appended
 *   record and writes the same bytes again on the next sync. The host never
 *   drops a step's records (the core already counted them: a catch-up's
 *   learned values, a status change) and never releases anything that waits
 *   on them; it pauses instead: while the store is failed it steps the core
 *   no more (messages are dropped, as a network would lose them; peers retry)
 *   and retries the sync at every tick. Once a sync succeeds it goes on where
 *   it stopped.
 * - A failed fdatasync or directory fsync is fatal (fsyncgate): the host stops
 *   for good (nothing waiting is ever released) and calls `onFatal`, by
 *   default logging and exiting the process; a restart replays the disk.
 */
import { DurableQueue, syncNeed } from '../core/durable-queue.js';
import { ReplicaNodeCore, type NodeOutput } from '../core/replica-node.js';
import type { PlacedConfiguration } from '../core/membership.js';
import type { ReplicaStore } from '../core/store.js';
import type { Message, ReplicaId, Status } from '../core/types.js';
import { StorageFatalError } from '../storage/errors.js';

export interface HostLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Where a reply goes: a connection handle, or anything with send(). */
export interface ReplyTarget {
  send(msg: Message): boolean;
}

export interface HostMetrics {
  onSync?(latencyMs: number, records: number): void;
  onMessage?(type: Message['type']): void;
  onStatus?(status: Status): void;
}

export interface ReplicaHostOptions {
  readonly id: ReplicaId;
  readonly members: readonly ReplicaId[];
  readonly store: ReplicaStore;
  /** Sends a request to another member (recovery, rejoin, catch-up reads and fills). */
  readonly sendToPeer: (to: ReplicaId, msg: Message) => void;
  readonly log: HostLogger;
  readonly metrics?: HostMetrics;
  readonly now?: () => number;
  /**
   * Called once when storage failed for good (a failed fsync: the page cache
   * may have dropped acknowledged writes). Default: log and exit the process
   * with status 70, so that a supervisor restarts it and it replays its disk.
   */
  readonly onFatal?: (err: Error) => void;
  /** Told when storage fails (paused: a write failed, retried; fatal: stopped for good) and when it works again. */
  readonly onStorage?: (event: StorageEvent) => void;
  /** Off only where no peers can answer the restart check (bench/replica-path.ts); default on (ReplicaNodeConfig.restartCheck). */
  readonly restartCheck?: boolean;
  /** The bootstrap configuration with addresses (epoch 0, R11): the base of the chain while the store holds none (ReplicaNodeConfig.bootstrap). */
  readonly bootstrap?: PlacedConfiguration;
  /** False for a replica started with --join: it never starts a cluster of its own (R11, ReplicaNodeConfig.mayStart). */
  readonly mayStart?: boolean;
}

/** A change in the replica's storage health (embedded replicas report it as a `storage` event). */
export interface StorageEvent {
  /** paused: a write failed; the replica answers nothing and retries. resumed: writes work again. fatal: a sync failed; stopped for good. */
  readonly state: 'paused' | 'resumed' | 'fatal';
  /** The failure (absent when resumed). */
  readonly error?: Error;
}

/**
 * Records that no reply waits for (commits, learned values) are made durable
 * with the next sync something else requests, or at the first tick (50 ms
 * apart in the server) at least this many ms after the first of them: the
 * periodic tick serves, not a timer per commit (one append in flight sets
 * and clears one per append otherwise; issue 21). A reply queued behind them
 * syncs at once.
 */
const LAZY_SYNC_MS = 0;
/**
 * The same while a catch-up copies learned entries: nothing waits on them
 * until the status change (which syncs at once, after them in record order),
 * so they are synced in larger groups, with fewer fdatasyncs competing with
 * the writer's on a shared disk.
 */
const CATCH_UP_SYNC_MS = 100;

export class ReplicaHost {
  /** What waits for durability: replies, status announcements (src/core/durable-queue.ts). */
  private readonly queue = new DurableQueue<() => void>();
  /** The sequence number of the last record appended to the store (durable or not). */
  private appendedSeq: number;
  private syncing = false;
  private syncAgain = false;
  /** When the first record nothing waits on was appended, if no sync has covered it yet (see requestLazySync). */
  private lazySince: number | undefined;
  /** A write failed: the host pauses (steps nothing) until a sync succeeds. */
  private failed: Error | undefined;
  /** Storage failed for good: the host never steps or releases anything again. */
  private fatal: Error | undefined;
  private readonly now: () => number;
  private readonly node: ReplicaNodeCore;

  constructor(private readonly opts: ReplicaHostOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.appendedSeq = opts.store.durableSeq();
    this.node = new ReplicaNodeCore({
      id: opts.id,
      members: opts.members,
      store: opts.store,
      random: Math.random,
      now: this.now(),
      restartCheck: opts.restartCheck ?? true,
      ...(opts.bootstrap === undefined ? {} : { bootstrap: opts.bootstrap }),
      ...(opts.mayStart === undefined ? {} : { mayStart: opts.mayStart }),
    });
    if (this.node.waiting !== '') opts.log.info({ status: this.status }, this.node.waiting);
  }

  /** Why the replica is not VOTING, for status pages ('' when VOTING). */
  get waiting(): string {
    return this.node.waiting;
  }

  get status(): Status {
    return this.opts.store.metadata().status;
  }

  get store(): ReplicaStore {
    return this.opts.store;
  }

  /** The storage failure that paused (or, if fatal, stopped) the replica; undefined while storage works. */
  get storageError(): Error | undefined {
    return this.fatal ?? this.failed;
  }

  /** One message from a client or a peer; `target` receives the reply. `from` is set for peers' replies. */
  handle(msg: Message, target: ReplyTarget, from?: ReplicaId): void {
    this.opts.metrics?.onMessage?.(msg.type);
    // Paused or stopped by storage: the message is lost, as on a network; its sender retries.
    if (this.failed !== undefined || this.fatal !== undefined) return;
    this.apply(this.node.step({ type: 'message', msg, from }, this.now()), target);
  }

  /**
   * Periodic: drives recovery retries, catch-up and timeouts, and syncs the
   * lazy records that are due; while paused by a failed write, retries the
   * sync instead.
   */
  tick(): void {
    if (this.fatal !== undefined) return;
    if (this.failed !== undefined) {
      this.requestSync();
      return;
    }
    this.apply(this.node.step({ type: 'tick' }, this.now()));
    const since = this.lazySince;
    if (since !== undefined && this.now() - since >= (this.node.progress() !== null ? CATCH_UP_SYNC_MS : LAZY_SYNC_MS)) this.requestSync();
  }

  /** What this replica last heard from each peer (state gossip). */
  peerStates() {
    return this.node.peerStates();
  }

  /** The host's clock in ms: the one peerStates().at is measured on (status pages compute ages with it). */
  clockMs(): number {
    return this.now();
  }

  /** True while a restarted replica checks with its peers before it votes. */
  get holdsVotes(): boolean {
    return this.node.holdsVotes;
  }

  /** The writer as this replica sees it (ReplicaNodeCore.writerView), or null. */
  writerView() {
    return this.node.writerView();
  }

  /** Progress of a rejoining replica's catch-up, or null. */
  recoveryProgress(): { done: number; total: number; bytes: number } | null {
    return this.node.progress();
  }

  private apply(out: NodeOutput, target?: ReplyTarget): void {
    for (const s of out.send) this.opts.sendToPeer(s.to, s.msg);
    for (const note of out.notes) this.opts.log.info({ status: this.status }, note);
    if (out.records.length > 0) {
      try {
        // Never refused for a failed write (the store keeps the records and writes them again): only when fatal.
        this.appendedSeq = this.opts.store.append(out.records);
      } catch (err) {
        this.die(err as Error);
        return;
      }
    }
    // Everything below reveals state: it waits for every record appended so far, not only this step's.
    let queued = false;
    const status = out.status;
    if (status !== undefined) {
      this.queue.push(this.appendedSeq, () => this.opts.metrics?.onStatus?.(status));
      queued = true;
    }
    // Announcements to peers reveal this replica's state: like replies, they wait for durability.
    for (const a of out.announce) {
      this.queue.push(this.appendedSeq, () => this.opts.sendToPeer(a.to, a.msg));
      queued = true;
    }
    const reply = out.reply;
    if (reply !== undefined && target !== undefined) {
      this.queue.push(this.appendedSeq, () => target.send(reply));
      queued = true;
    }
    const need = syncNeed(out, queued);
    // A reply without records of its own behind lazy records (a read after a commit) must not wait for the tick.
    if (need === 'now' || (queued && this.lazySince !== undefined)) this.requestSync();
    else if (need === 'lazy') this.requestLazySync();
    this.release(this.opts.store.durableSeq());
  }

  /** Waits for the sync in progress and the pending replies (clean shutdown). */
  async drain(): Promise<void> {
    if (this.lazySince !== undefined) this.requestSync();
    while ((this.syncing || this.syncAgain) && this.fatal === undefined) await new Promise((r) => setTimeout(r, 1));
  }

  /** Makes what was appended durable soon: with the next requested sync, or at a tick (see LAZY_SYNC_MS). */
  private requestLazySync(): void {
    if (this.lazySince !== undefined || this.syncAgain) return;
    this.lazySince = this.now();
  }

  private requestSync(): void {
    if (this.fatal !== undefined) return;
    // The sync started now (or the one after the sync in progress) covers every record appended so far.
    this.lazySince = undefined;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    const started = this.now();
    const records = this.opts.store;
    records
      .sync()
      .then((durable) => {
        if (this.failed !== undefined) {
          this.opts.log.info({}, 'storage writes again: resuming');
          this.opts.onStorage?.({ state: 'resumed' });
        }
        this.failed = undefined;
        this.opts.metrics?.onSync?.(this.now() - started, 0);
        this.release(durable);
      })
      .catch((err: Error) => this.fail(err))
      .finally(() => {
        this.syncing = false;
        if (this.syncAgain) {
          this.syncAgain = false;
          this.requestSync();
        }
      });
  }

  private release(durable: number): void {
    if (this.fatal !== undefined) return;
    for (const run of this.queue.release(durable)) {
      try {
        run();
      } catch (err) {
        // A reply or announcement that cannot be sent is dropped (its asker retransmits): it must not
        // hold back what is queued behind it, and a send is never a storage failure (issue 19, item 4).
        this.opts.log.error({ err: err instanceof Error ? err.message : String(err) }, 'a reply could not be sent: dropped');
      }
    }
  }

  /** A sync failed: a failed write pauses the replica until a retry succeeds; a failed fsync stops it for good. */
  private fail(err: Error): void {
    if (err instanceof StorageFatalError) return this.die(err);
    if (this.failed === undefined) {
      this.opts.log.error({ err: err.message, code: (err as { code?: string }).code }, 'storage failed: paused (answering nothing) until a write succeeds again');
      this.opts.onStorage?.({ state: 'paused', error: err });
    }
    // The store keeps the records it could not write and writes them again on the next sync;
    // what waits for them (replies, a status change) waits on.
    this.failed = err;
  }

  private die(err: Error): void {
    if (this.fatal !== undefined) return;
    this.fatal = err;
    const dropped = this.queue.clear().length;
    this.lazySince = undefined;
    this.opts.log.error({ err: err.message, code: (err as { code?: string }).code, dropped }, 'storage failed for good (fsync): stopping; a restart replays the disk');
    this.opts.onStorage?.({ state: 'fatal', error: err });
    const onFatal =
      this.opts.onFatal ??
      (() => {
        process.exit(70);
      });
    onFatal(err);
  }
}
