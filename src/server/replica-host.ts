/**
 * ReplicaHost: the shell around the pure replica core. It feeds each incoming
 * message to replicaStep, appends the returned records to the store, and
 * sends the reply only once a sync made those records durable (group commit:
 * one sync covers every record appended while the previous one ran). It also
 * runs the start-up recovery protocol until the replica is VOTING.
 *
 * Replies leave in the order their messages arrived, each after the sync that
 * covers every record appended up to its own step: a reply never reveals a
 * state that a crash could take back.
 */
import { randomUUID } from 'node:crypto';
import { RecoveryCore } from '../core/recovery.js';
import { replicaStep } from '../core/replica.js';
import type { ReplicaStore } from '../core/store.js';
import type { Message, RecoverRequest, ReplicaId, ReplicaOneWay, ReplicaRequest, Status } from '../core/types.js';

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
  /** Sends a recovery request to another member. */
  readonly sendToPeer: (to: ReplicaId, msg: RecoverRequest) => void;
  readonly log: HostLogger;
  readonly metrics?: HostMetrics;
  readonly now?: () => number;
}

/** Records that no reply waits for (commits, learned values) are made durable within this many ms, or sooner with the next sync. */
const LAZY_SYNC_MS = 10;

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
  private recovery: RecoveryCore | undefined;
  private statusWriteInFlight = false;
  private nextRid = 1;
  /** Why the replica is not VOTING, for status pages. */
  waiting = '';
  private readonly now: () => number;

  constructor(private readonly opts: ReplicaHostOptions) {
    this.now = opts.now ?? (() => performance.now());
    if (opts.store.metadata().incarnation === '') {
      // A new data directory: give this disk its identity before anything else.
      opts.store.append([{ type: 'metadata', metadata: { ...opts.store.metadata(), incarnation: randomUUID() } }]);
      this.requestSync();
    }
    const status = opts.store.metadata().status;
    if (status !== 'VOTING') {
      this.recovery = new RecoveryCore({
        self: opts.id,
        members: opts.members,
        status,
        random: Math.random,
        rid: () => this.nextRid++,
      });
      this.waiting = 'starting the recovery protocol';
    }
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

  /** One message from a client or a peer; `target` receives the reply. */
  handle(msg: Message, target: ReplyTarget, from?: ReplicaId): void {
    this.opts.metrics?.onMessage?.(msg.type);
    if (msg.type === 'recoverReply') {
      if (from !== undefined) this.driveRecovery({ type: 'reply', from, msg });
      return;
    }
    if (msg.type.endsWith('Reply')) return; // replies to requests this replica never makes
    if (this.failed !== undefined && (msg.type === 'promise' || msg.type === 'write')) {
      // Storage is failing: answer nothing that would need a durable record (the proposer retries elsewhere).
      return;
    }
    const step = replicaStep(this.opts.store, msg as ReplicaRequest | ReplicaOneWay);
    let seq = this.opts.store.durableSeq();
    if (step.records.length > 0) {
      try {
        seq = this.opts.store.append(step.records);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      // A step with a reply (promise, write) needs its records durable before
      // the reply leaves: sync now. A step without one (commit, learned: values
      // already chosen, so losing the record in a crash only forgets what can be
      // learned again) rides on the next sync instead of costing one of its own,
      // which would also delay the next write's sync behind it.
      if (step.reply !== undefined) this.requestSync();
      else this.requestLazySync();
    } else if (this.pending.length > 0) {
      // Keep replies in arrival order: wait behind the ones already waiting.
      seq = this.pending[this.pending.length - 1]!.seq;
    }
    const reply = step.reply;
    if (reply === undefined) return;
    if (seq <= this.opts.store.durableSeq() && this.pending.length === 0) target.send(reply);
    else this.pending.push({ seq, run: () => target.send(reply) });
  }

  /** Periodic: drives the recovery protocol's retries. */
  tick(): void {
    if (this.recovery !== undefined) this.driveRecovery({ type: 'tick' });
    if (this.failed !== undefined) this.requestSync();
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
    }, LAZY_SYNC_MS);
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

  private driveRecovery(event: Parameters<RecoveryCore['step']>[0]): void {
    const core = this.recovery;
    if (core === undefined) return;
    const out = core.step(event, this.now());
    for (const s of out.send) this.opts.sendToPeer(s.to, s.msg);
    if (out.waiting !== undefined && out.waiting !== this.waiting) {
      this.waiting = out.waiting;
      this.opts.log.info({ status: this.status }, out.waiting);
    }
    if (out.become !== undefined && !this.statusWriteInFlight) this.becomeStatus(out.become);
  }

  private becomeStatus(status: Status): void {
    this.statusWriteInFlight = true;
    const store = this.opts.store;
    store.append([{ type: 'metadata', metadata: { ...store.metadata(), status } }]);
    this.requestSync();
    const announce = () => {
      this.statusWriteInFlight = false;
      this.opts.log.info({ status }, `replica is now ${status}`);
      this.opts.metrics?.onStatus?.(status);
      if (status === 'VOTING') {
        this.recovery = undefined;
        this.waiting = '';
      } else this.driveRecovery({ type: 'status', status });
    };
    this.pending.push({ seq: store.append([]), run: announce });
  }
}
