/**
 * ReplicaHost: the shell around the pure replica node core
 * (src/core/replica-node.ts). It feeds each incoming message and a periodic
 * tick to the core, appends the records the core returns to the store, sends
 * the core's requests to peers, and sends each reply only once a sync made
 * the records before it durable (group commit: one sync covers every record
 * appended while the previous one ran).
 *
 * Replies leave in the order their messages arrived, each after the sync that
 * covers every record appended up to its own step: a reply never reveals a
 * state that a crash could take back.
 */
import { ReplicaNodeCore, type NodeOutput } from '../core/replica-node.js';
import type { ReplicaStore } from '../core/store.js';
import type { Message, ReplicaId, Status } from '../core/types.js';

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
}

/** Records that no reply waits for (commits, learned values) are made durable within this many ms, or sooner with the next sync. */
const LAZY_SYNC_MS = 10;
/**
 * The same while a catch-up copies learned entries: nothing waits on them
 * until the status change (which syncs at once, after them in record order),
 * so they are synced in larger groups, with fewer fdatasyncs competing with
 * the writer's on a shared disk.
 */
const CATCH_UP_SYNC_MS = 100;

/** Something to do once every record up to `seq` is durable (send a reply, announce a status). */
interface AfterDurable {
  readonly seq: number;
  readonly run: () => void;
}

export class ReplicaHost {
  private readonly pending: AfterDurable[] = [];
  private syncing = false;
  private syncAgain = false;
  /** A sync due for records nothing waits on (see requestLazySync). */
  private lazySync: NodeJS.Timeout | undefined;
  private failed: Error | undefined;
  private readonly now: () => number;
  private readonly node: ReplicaNodeCore;

  constructor(private readonly opts: ReplicaHostOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.node = new ReplicaNodeCore({ id: opts.id, members: opts.members, store: opts.store, random: Math.random, now: this.now() });
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

  /** The last storage failure, if the replica stopped accepting writes because of it. */
  get storageError(): Error | undefined {
    return this.failed;
  }

  /** One message from a client or a peer; `target` receives the reply. `from` is set for peers' replies. */
  handle(msg: Message, target: ReplyTarget, from?: ReplicaId): void {
    this.opts.metrics?.onMessage?.(msg.type);
    if (this.failed !== undefined && (msg.type === 'promise' || msg.type === 'write' || msg.type === 'rejoin')) {
      // Storage is failing: answer nothing that would need a durable record (the proposer retries elsewhere).
      return;
    }
    this.apply(this.node.step({ type: 'message', msg, from }, this.now()), target);
  }

  /** Periodic: drives recovery retries, catch-up and timeouts. */
  tick(): void {
    this.apply(this.node.step({ type: 'tick' }, this.now()));
    if (this.failed !== undefined) this.requestSync();
  }

  /** What this replica last heard from each peer (state gossip). */
  peerStates() {
    return this.node.peerStates();
  }

  /** True while a restarted replica checks with its peers before it votes. */
  get holdsVotes(): boolean {
    return this.node.holdsVotes;
  }

  /** Progress of a rejoining replica's catch-up, or null. */
  recoveryProgress(): { done: number; total: number; bytes: number } | null {
    return this.node.progress();
  }

  private apply(out: NodeOutput, target?: ReplyTarget): void {
    for (const s of out.send) this.opts.sendToPeer(s.to, s.msg);
    for (const note of out.notes) this.opts.log.info({ status: this.status }, note);
    if (out.status !== undefined) this.opts.metrics?.onStatus?.(out.status);
    let seq = this.opts.store.durableSeq();
    if (out.records.length > 0) {
      try {
        seq = this.opts.store.append(out.records);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      // A step with a reply (promise, write, rejoin) or a status change needs its
      // records durable promptly. A step without one (commit, learned: values
      // already chosen, so losing the record in a crash only forgets what can be
      // learned again) rides on the next sync instead of costing one of its own.
      if (out.lazy && out.status === undefined) this.requestLazySync();
      else this.requestSync();
    } else if (this.pending.length > 0) {
      // Keep replies in arrival order: wait behind the ones already waiting.
      seq = this.pending[this.pending.length - 1]!.seq;
    }
    // Announcements to peers reveal this replica's state: like replies, they wait for durability.
    for (const a of out.announce) this.afterDurable(seq, () => this.opts.sendToPeer(a.to, a.msg));
    const reply = out.reply;
    if (reply === undefined || target === undefined) return;
    this.afterDurable(seq, () => target.send(reply));
  }

  private afterDurable(seq: number, run: () => void): void {
    if (seq <= this.opts.store.durableSeq() && this.pending.length === 0) run();
    else this.pending.push({ seq, run });
  }

  /** Waits for the sync in progress and the pending replies (clean shutdown). */
  async drain(): Promise<void> {
    if (this.lazySync !== undefined) this.requestSync();
    while (this.syncing || this.syncAgain) await new Promise((r) => setTimeout(r, 1));
  }

  /** Makes what was appended durable soon: with the next requested sync, or after lazySyncMs at the latest. */
  private requestLazySync(): void {
    if (this.lazySync !== undefined || this.syncAgain) return;
    this.lazySync = setTimeout(() => {
      this.lazySync = undefined;
      this.requestSync();
    }, this.node.progress() !== null ? CATCH_UP_SYNC_MS : LAZY_SYNC_MS);
  }

  private requestSync(): void {
    if (this.lazySync !== undefined) {
      clearTimeout(this.lazySync);
      this.lazySync = undefined;
    }
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
    let i = 0;
    while (i < this.pending.length && this.pending[i]!.seq <= durable) {
      this.pending[i++]!.run();
    }
    if (i > 0) this.pending.splice(0, i);
  }

  private fail(err: Error): void {
    if (this.failed === undefined) this.opts.log.error({ err: err.message, code: (err as { code?: string }).code }, 'storage failed: not accepting writes until it recovers');
    // The store keeps the records it could not write and writes them again on the next sync;
    // what waits for them (replies, a status change) waits on.
    this.failed = err;
  }
}
