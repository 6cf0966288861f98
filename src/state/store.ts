/**
 * StateStore: a small, strongly consistent key-value store kept in the log.
 *
 * Every change is one log entry (a transaction with its compares and both
 * branches, see codec.ts); its revision is the entry's position. Conditions
 * are evaluated when an entry is applied, in position order, by every copy
 * (machine.ts), so all copies compute the same results and many operations
 * can be in flight at once. A failed condition is a result, never an error;
 * errors are the log's own: WriterFencedError (another writer was elected),
 * NoQuorumError, WriterInDoubtError, each with the write's `outcome`
 * ('not-written' or 'unknown').
 *
 * Modes. `open` elects a writer (fencing any other), replays the log up to
 * the election marker (everything below it is chosen, nothing above it is
 * another writer's), then applies its own entries as they are chosen: they
 * resolve in position order. `follow` never writes: it tails the log. A
 * writer that loses the log (fenced, or in doubt after NoQuorum) turns into a
 * follower until `reelect()`, so its reads and watches keep up.
 *
 * Reads. `local` answers from memory. `linearizable` first makes memory
 * include everything acknowledged before the read began: the writer appends a
 * barrier (one for all the reads that arrived before it) and answers once it
 * is applied, which also proves it still held the log; a follower reads the
 * log up to its end as of the start of the read.
 *
 * Snapshots (snapshot.ts) keep the log bounded: the state as of revision R is
 * written in chunks while operations keep flowing, then the log is truncated
 * behind an older snapshot (or this one), whose chunks lie above its R.
 */
import { ClosedError, InvalidArgumentError, NoQuorumError, TruncatedError, WriterFencedError, WriterInDoubtError } from '../core/errors.js';
import { encodeBarrier, encodeTxn, decodeEntry, toBytes, wireCompare, type WireOp, type WireTxn } from './codec.js';
import { CompactedError, StateReadOnlyError } from './errors.js';
import type { StateLog, StateLogWriter } from './log.js';
import { StateMachine } from './machine.js';
import { Replayer, type CompleteSnapshot } from './replay.js';
import { writeSnapshot, type SnapshotInfo } from './snapshot.js';
import { Subscription } from './subscription.js';
import type { Consistency, DeleteResult, KeyValue, TxnRequest, TxnResult, WatchBatch, WatchEvent, WriteResult } from './types.js';
import { Variable } from './variable.js';
import { watchStore, type WatchOptions } from './watch.js';

export interface StateStoreOptions {
  /**
   * Take a snapshot once this many transactions or bytes were applied since
   * the last one, or (`stateRatio`) once the bytes applied since exceed that
   * multiple of the live state's size (at least 64 KiB): the log then stays
   * within a small multiple of the state. False: only on `snapshot()`.
   */
  readonly snapshotEvery?: { readonly entries?: number; readonly bytes?: number; readonly stateRatio?: number } | false;
  /**
   * Keep the history between the previous snapshot and the latest one (true,
   * the default: watchers that fall behind by less than a snapshot interval
   * resume without CompactedError), or truncate right behind the latest.
   */
  readonly keepHistory?: boolean;
  /** Bytes of state per snapshot chunk (each chunk is one log entry). */
  readonly chunkBytes?: number;
  /** Largest encoded transaction, in bytes. */
  readonly txnBytesMax?: number;
  /** Live batches a watcher may fall behind before it catches up from the log instead. */
  readonly watchQueueMax?: number;
}

export type StoreMode = 'writer' | 'follower' | 'fenced' | 'in-doubt' | 'closed';

const DEFAULTS = {
  entries: 10_000,
  bytes: 64 * 1024 * 1024,
  chunkBytes: 1024 * 1024,
  txnBytesMax: 1024 * 1024 + 4096,
  watchQueueMax: 10_000,
};

/** Results of recently applied transactions, for an append whose result was applied by another path. */
const RESULT_MEMO_MAX = 8192;

export class StateStore {
  private machine: StateMachine;
  private writerNow: StateLogWriter | undefined;
  private modeNow: StoreMode;
  /** Why writes fail while not the writer. */
  private writeError: Error | undefined;
  /** Own transactions whose position is known but not yet applied (applied by the tail after a lost writer). */
  private readonly waiters = new Map<number, (r: TxnResult | undefined) => void>();
  private readonly memo = new Map<number, TxnResult>();
  private readonly subscribers = new Set<Subscription>();
  /** Complete snapshots in the log, oldest first. */
  readonly snapshots: CompleteSnapshot[];
  private snapshotting: Promise<SnapshotInfo> | undefined;
  private txnsSinceSnapshot = 0;
  private bytesSinceSnapshot = 0;
  /** Reads waiting for the next barrier (writer mode). */
  private barrierReads: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private barrierScheduled = false;
  /** Bumped to stop the running tail loop. */
  private tailGeneration = 0;
  private tailError: Error | undefined;
  readonly options: Required<Omit<StateStoreOptions, 'snapshotEvery'>> & { snapshotEvery: { entries: number; bytes: number; stateRatio: number } | false };

  private constructor(
    readonly log: StateLog,
    replay: { machine: StateMachine; snapshots: CompleteSnapshot[]; txnsSince: number },
    mode: StoreMode,
    writer: StateLogWriter | undefined,
    options: StateStoreOptions,
  ) {
    this.machine = replay.machine;
    this.snapshots = replay.snapshots;
    this.txnsSinceSnapshot = replay.txnsSince;
    this.modeNow = mode;
    this.writerNow = writer;
    const every = options.snapshotEvery;
    this.options = {
      keepHistory: options.keepHistory ?? true,
      chunkBytes: options.chunkBytes ?? DEFAULTS.chunkBytes,
      txnBytesMax: options.txnBytesMax ?? DEFAULTS.txnBytesMax,
      watchQueueMax: options.watchQueueMax ?? DEFAULTS.watchQueueMax,
      snapshotEvery: every === false ? false : { entries: every?.entries ?? DEFAULTS.entries, bytes: every?.bytes ?? DEFAULTS.bytes, stateRatio: every?.stateRatio ?? Infinity },
    };
    if (mode === 'follower') this.writeError = new StateReadOnlyError('this store follows the log (StateStore.follow): it does not write');
  }

  /**
   * Opens the store as the log's writer: elects a writer (fencing any other
   * store or writer), replays the log, and is ready. Rejects with
   * NoQuorumError if no quorum answers.
   */
  static async open(log: StateLog, options: StateStoreOptions = {}): Promise<StateStore> {
    const writer = await log.writer();
    const replay = await replayLog(log, writer.position);
    const store = new StateStore(log, replay, 'writer', writer, options);
    // A truncated log with no state in it: put the (empty) state's snapshot first, so that later
    // replays find a snapshot in front of every transaction.
    if (replay.needsBase) await store.snapshot();
    return store;
  }

  /** Opens a read-only copy that tails the log: local and linearizable reads, watches; no writes. */
  static async follow(log: StateLog, options: StateStoreOptions = {}): Promise<StateStore> {
    const replay = await replayLog(log, await log.ending());
    const store = new StateStore(log, replay, 'follower', undefined, options);
    store.startTail();
    return store;
  }

  /** The position of the last entry applied: the state is the state as of this revision. */
  get revision(): number {
    return this.machine.applied;
  }

  get mode(): StoreMode {
    return this.modeNow;
  }

  /** A digest of the whole state (equal on copies at the same revision). */
  get digest(): string {
    return this.machine.digest;
  }

  /** Keys held. */
  get size(): number {
    return this.machine.size;
  }

  // ------------------------------------------------------------------ reads

  async get(key: string, opts: { consistency?: Consistency } = {}): Promise<KeyValue | undefined> {
    await this.sync(opts.consistency);
    return this.machine.get(key);
  }

  /** Keys under `prefix` (all by default), in key order, with the revision they are read at. */
  async range(opts: { prefix?: string; limit?: number; consistency?: Consistency } = {}): Promise<{ revision: number; kvs: KeyValue[] }> {
    await this.sync(opts.consistency);
    return { revision: this.machine.applied, kvs: this.machine.range(opts.prefix ?? '', opts.limit) };
  }

  /** The keys under `prefix` (Mesos's `names()`). */
  async names(prefix = '', opts: { consistency?: Consistency } = {}): Promise<string[]> {
    return (await this.range({ prefix, ...opts })).kvs.map((kv) => kv.key);
  }

  /** Makes the state include everything acknowledged before this call (for `linearizable`, the default). */
  async sync(consistency: Consistency = 'linearizable'): Promise<void> {
    this.checkOpen();
    if (consistency === 'local') return;
    if (consistency !== 'linearizable') throw new InvalidArgumentError(`consistency must be 'local' or 'linearizable', got '${String(consistency)}'`);
    if (this.modeNow === 'writer') return this.barrier();
    const end = await this.log.ending();
    if (end > this.machine.applied) await this.catchUp(end);
  }

  /** The Mesos-style facade: the variable `name` as of now (an absent one has an empty value and revision 0). */
  async variable(name: string): Promise<Variable> {
    const kv = await this.get(name);
    return new Variable(this, name, kv?.value ?? new Uint8Array(0), kv?.modRevision ?? 0);
  }

  // ------------------------------------------------------------------ writes

  /** Sets `key`; with `ifModRevision`, only if the key's last modification revision is that (0: it must not exist). */
  async put(key: string, value: Uint8Array | string, opts: { ifModRevision?: number } = {}): Promise<WriteResult> {
    const compare = opts.ifModRevision === undefined ? [] : [{ key, modRevision: opts.ifModRevision }];
    const r = await this.txn({ compare, success: [{ put: { key, value } }], failure: [{ get: { key } }] });
    if (r.succeeded) return { ok: true, revision: r.revision };
    return { ok: false, revision: r.revision, current: kvOf(r) };
  }

  /** Deletes `key` (`deleted: false` if it did not exist); with `ifModRevision`, only if its last modification revision is that. */
  async delete(key: string, opts: { ifModRevision?: number } = {}): Promise<DeleteResult> {
    const compare = opts.ifModRevision === undefined ? [] : [{ key, modRevision: opts.ifModRevision }];
    const r = await this.txn({ compare, success: [{ delete: { key } }], failure: [{ get: { key } }] });
    if (!r.succeeded) return { ok: false, revision: r.revision, current: kvOf(r) };
    const d = r.responses[0]!;
    if (d.type !== 'delete') throw new Error('unreachable: a delete answered with another response');
    return d.prev === undefined ? { ok: true, revision: r.revision, deleted: d.deleted } : { ok: true, revision: r.revision, deleted: d.deleted, prev: d.prev };
  }

  /** Runs `success` if every compare holds, else `failure`, atomically at one revision. */
  async txn(req: TxnRequest): Promise<TxnResult> {
    const txn = toWireTxn(req);
    const bytes = encodeTxn(txn);
    if (bytes.byteLength > this.options.txnBytesMax) {
      throw new InvalidArgumentError(`a transaction of ${bytes.byteLength} bytes is larger than the store's limit of ${this.options.txnBytesMax}`);
    }
    const r = await this.appendOwn(bytes);
    if (r === undefined) throw new Error('unreachable: a transaction entry applied without a result');
    return r;
  }

  /**
   * Writes a snapshot of the state into the log (in chunks), then truncates
   * the log behind it (see `keepHistory`). A snapshot already being written is
   * shared.
   */
  snapshot(): Promise<SnapshotInfo> {
    this.checkWritable();
    if (this.snapshotting !== undefined) return this.snapshotting;
    const done = writeSnapshot(this.snapshotHost(), this.machine, this.options.chunkBytes, this.options.keepHistory);
    this.txnsSinceSnapshot = 0;
    this.bytesSinceSnapshot = 0;
    this.snapshotting = done.finally(() => (this.snapshotting = undefined));
    return this.snapshotting;
  }

  /** After the writer was lost (fenced, or in doubt): elects a new writer and catches up. */
  async reelect(): Promise<void> {
    this.checkOpen();
    if (this.modeNow === 'writer') return;
    if (this.modeNow === 'follower') throw new StateReadOnlyError('a store opened with follow() does not write');
    const writer = await this.log.writer();
    this.tailGeneration++;
    this.stopTail();
    await this.catchUp(writer.position);
    this.writerNow = writer;
    this.writeError = undefined;
    this.modeNow = 'writer';
  }

  /** Changes from a revision on, per revision; see watch.ts. */
  watch(opts: WatchOptions = {}): AsyncIterable<WatchBatch> {
    this.checkOpen();
    return watchStore(this.watchHost(), opts);
  }

  /** Stops the store (the writer resigns after its operations in flight; watches end). Leaves the log open. */
  async close(): Promise<void> {
    if (this.modeNow === 'closed') return;
    const writer = this.modeNow === 'writer' ? this.writerNow : undefined;
    this.modeNow = 'closed';
    this.writeError = new ClosedError('the state store was closed');
    this.tailGeneration++;
    this.stopTail();
    for (const s of this.subscribers) s.finish({ kind: 'end' });
    this.subscribers.clear();
    for (const r of this.barrierReads.splice(0)) r.reject(new ClosedError('the state store was closed'));
    await writer?.resign?.().catch(() => {});
  }

  // ------------------------------------------------------------------ applying

  /** Appends one of the store's entries as the writer; resolves with its result once applied. */
  private async appendOwn(bytes: Uint8Array): Promise<TxnResult | undefined> {
    this.checkWritable();
    const writer = this.writerNow!;
    let position: number;
    try {
      position = await writer.append(bytes);
    } catch (err) {
      this.onWriteError(writer, err as Error);
      throw err;
    }
    // Appends resolve in position order and nothing else writes while this store holds the writer.
    if (position > this.machine.applied && this.modeNow === 'writer' && this.writerNow === writer) return this.applyEntry(position, bytes);
    const known = this.memo.get(position);
    if (known !== undefined || position <= this.machine.applied) return known;
    return new Promise((resolve) => this.waiters.set(position, resolve));
  }

  /** Applies one log entry (any entry: not the store's ones change nothing) at `position`; its result if it was a transaction. */
  private applyEntry(position: number, data: Uint8Array): TxnResult | undefined {
    if (position <= this.machine.applied) return undefined;
    const entry = decodeEntry(data);
    let result: TxnResult | undefined;
    if (entry?.kind === 'txn') {
      const applied = this.machine.applyTxn(position, entry.txn);
      result = applied.result;
      this.publish(position, applied.events);
      this.remember(position, result);
      this.txnsSinceSnapshot++;
      this.bytesSinceSnapshot += data.byteLength;
      this.maybeSnapshot();
    } else {
      this.machine.skip(position);
      if (entry?.kind === 'chunk') this.noteChunk(position, entry.chunk);
    }
    const waiter = this.waiters.get(position);
    if (waiter !== undefined) {
      this.waiters.delete(position);
      waiter(result);
    }
    return result;
  }

  private remember(position: number, result: TxnResult): void {
    this.memo.set(position, result);
    if (this.memo.size > RESULT_MEMO_MAX) this.memo.delete(this.memo.keys().next().value!);
  }

  /** Partial snapshots met while following (their completion moves the truncation point). */
  private readonly followedChunks = new Map<string, { revision: number; total: number; received: number }>();

  private noteChunk(position: number, c: { id: string; revision: number; total: number }): void {
    const p = this.followedChunks.get(c.id) ?? { revision: c.revision, total: c.total, received: 0 };
    p.received++;
    if (p.received < p.total) {
      this.followedChunks.set(c.id, p);
      return;
    }
    this.followedChunks.delete(c.id);
    if (!this.snapshots.some((s) => s.id === c.id)) this.snapshots.push({ id: c.id, revision: c.revision, position });
  }

  private publish(revision: number, events: readonly WatchEvent[]): void {
    if (events.length === 0 || this.subscribers.size === 0) return;
    for (const s of this.subscribers) {
      const mine = events.filter((e) => s.matches(e.type === 'put' ? e.kv.key : e.key));
      if (mine.length > 0) s.push({ revision, events: mine });
    }
  }

  private maybeSnapshot(): void {
    const every = this.options.snapshotEvery;
    if (every === false || this.modeNow !== 'writer' || this.snapshotting !== undefined) return;
    const byRatio = this.bytesSinceSnapshot >= Math.max(64 * 1024, every.stateRatio * this.machine.liveBytes);
    if (this.txnsSinceSnapshot < every.entries && this.bytesSinceSnapshot < every.bytes && !byRatio) return;
    // Failures show on the operations themselves (the writer is lost for all of them).
    queueMicrotask(() => {
      if (this.modeNow === 'writer' && this.snapshotting === undefined) this.snapshot().catch(() => {});
    });
  }

  /** Reads and applies the log from the next position through `to`. */
  private async catchUp(to: number): Promise<void> {
    for (;;) {
      const from = this.machine.applied + 1;
      if (from > to) return;
      let entries;
      try {
        entries = await this.log.read(from, to);
      } catch (err) {
        if (!(err instanceof TruncatedError)) throw err;
        await this.resync(to);
        continue;
      }
      for (const e of entries) this.applyEntry(e.position, e.data);
      return;
    }
  }

  /**
   * The log was truncated past this copy's state (it followed too slowly):
   * replays it afresh from the snapshot at its beginning. Watchers cannot get
   * the changes in between: they fail with CompactedError.
   */
  private async resync(to: number): Promise<void> {
    const replay = await replayLog(this.log, Math.max(to, await this.log.ending()));
    const from = this.machine.applied + 1;
    if (replay.machine.applied <= this.machine.applied) return;
    this.machine = replay.machine;
    this.snapshots.splice(0, this.snapshots.length, ...replay.snapshots);
    const oldest = (replay.loadedFrom?.revision ?? -1) + 1;
    for (const s of this.subscribers) s.finish({ kind: 'error', error: new CompactedError(from, oldest) });
    this.subscribers.clear();
    for (const [position, w] of this.waiters) if (position <= this.machine.applied) (this.waiters.delete(position), w(this.memo.get(position)));
  }

  private stopTail: () => void = () => {};

  /** Follows the log from the next position (a follower, or a writer that lost the log). */
  private startTail(): void {
    const generation = ++this.tailGeneration;
    void (async () => {
      while (generation === this.tailGeneration) {
        const entries = this.log.tail(this.machine.applied + 1)[Symbol.asyncIterator]();
        // Stopping (close, reelect) ends the log's tail too, at its next poll, instead of leaving it polling.
        this.stopTail = () => void entries.return?.().catch(() => {});
        try {
          for (;;) {
            const next = await entries.next();
            if (next.done === true || generation !== this.tailGeneration) return;
            this.applyEntry(next.value.position, next.value.data);
          }
        } catch (err) {
          if (generation !== this.tailGeneration) return;
          if (err instanceof TruncatedError) await this.resync(this.machine.applied).catch((e: Error) => (this.tailError = e));
          else if (err instanceof ClosedError) return;
          else {
            this.tailError = err as Error;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      }
    })();
  }

  /** The writer was lost: later writes fail, and the store follows the log. */
  private onWriteError(writer: StateLogWriter, err: Error): void {
    if (this.writerNow !== writer || this.modeNow !== 'writer') return;
    if (err instanceof WriterFencedError) {
      this.modeNow = 'fenced';
      this.writeError = new WriterFencedError(`this state store's writer was fenced by another writer: nothing was written; call reelect() to write again (${err.message})`, { outcome: 'not-written' });
    } else if (err instanceof NoQuorumError || err instanceof WriterInDoubtError) {
      this.modeNow = 'in-doubt';
      this.writeError = new WriterInDoubtError(`this state store's writer lost its quorum, so another writer may have been elected: nothing was written; call reelect() to write again (${err.message})`);
    } else if (err instanceof ClosedError) {
      this.modeNow = 'closed';
      this.writeError = err;
      return;
    } else return;
    for (const r of this.barrierReads.splice(0)) r.reject(this.writeError);
    this.startTail();
  }

  // ------------------------------------------------------------------ linearizable reads as the writer

  private barrier(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.barrierReads.push({ resolve, reject });
      if (this.barrierScheduled) return;
      this.barrierScheduled = true;
      // Every read that arrived before the barrier is appended shares it.
      setImmediate(() => {
        this.barrierScheduled = false;
        const reads = this.barrierReads.splice(0);
        if (reads.length === 0) return;
        this.appendOwn(encodeBarrier()).then(
          () => reads.forEach((r) => r.resolve()),
          (err: Error) => reads.forEach((r) => r.reject(err)),
        );
      });
    });
  }

  // ------------------------------------------------------------------ checks and hosts

  private checkOpen(): void {
    if (this.modeNow === 'closed') throw this.writeError ?? new ClosedError('the state store was closed');
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.modeNow !== 'writer') throw this.writeError!;
  }

  /** The last error of the follower loop, if it is failing (for diagnostics). */
  get followError(): Error | undefined {
    return this.tailError;
  }

  private snapshotHost() {
    return {
      append: (bytes: Uint8Array) => this.appendOwn(bytes).then(() => undefined),
      lastApplied: () => this.machine.applied,
      truncate: async (to: number) => {
        const writer = this.writerNow!;
        this.checkWritable();
        try {
          await writer.truncate(to);
        } catch (err) {
          this.onWriteError(writer, err as Error);
          throw err;
        }
      },
      snapshots: this.snapshots,
    };
  }

  private watchHost() {
    return {
      log: this.log,
      applied: () => this.machine.applied,
      closed: () => this.modeNow === 'closed',
      subscribe: (matches: (key: string) => boolean) => {
        const s = new Subscription(matches, this.options.watchQueueMax);
        this.subscribers.add(s);
        return s;
      },
      unsubscribe: (s: Subscription) => this.subscribers.delete(s),
    };
  }
}

export type WatchHost = ReturnType<StateStore['watchHost']>;
export type SnapshotHost = ReturnType<StateStore['snapshotHost']>;

/** Replays the log from its beginning through `to`. */
async function replayLog(log: StateLog, to: number): Promise<{ machine: StateMachine; snapshots: CompleteSnapshot[]; txnsSince: number; needsBase: boolean; loadedFrom: CompleteSnapshot | undefined }> {
  for (let attempt = 0; ; attempt++) {
    const begin = await log.beginning();
    let txns = 0;
    const replayer = new Replayer(begin, () => txns++);
    try {
      if (to >= begin) for (const e of await log.read(begin, to)) replayer.feed(e.position, e.data);
    } catch (err) {
      // Truncated meanwhile (a snapshot completed): start again from the new beginning.
      if (err instanceof TruncatedError && attempt < 5) continue;
      throw err;
    }
    const { machine, needsBase } = replayer.finish();
    if (to > machine.applied) machine.skip(to);
    return { machine, snapshots: replayer.snapshots, txnsSince: txns, needsBase, loadedFrom: replayer.loadedFrom };
  }
}

function kvOf(r: TxnResult): KeyValue | undefined {
  const g = r.responses[0];
  return g?.type === 'get' ? g.kv : undefined;
}

function toWireTxn(req: TxnRequest): WireTxn {
  const ops = (list: TxnRequest['success']): WireOp[] => {
    const out: WireOp[] = [];
    const written = new Set<string>();
    for (const op of list ?? []) {
      let w: WireOp;
      if ('put' in op) w = { kind: 'put', key: checkKey(op.put.key), value: toBytes(op.put.value) };
      else if ('delete' in op) w = { kind: 'delete', key: checkKey(op.delete.key) };
      else if ('get' in op) w = { kind: 'get', key: checkKey(op.get.key) };
      else throw new InvalidArgumentError('a transaction operation must be one of put, delete, get');
      if (w.kind !== 'get') {
        if (written.has(w.key)) throw new InvalidArgumentError(`a transaction may change key '${w.key}' only once`);
        written.add(w.key);
      }
      out.push(w);
    }
    return out;
  };
  const compare = (req.compare ?? []).map((c) => {
    checkKey(c.key);
    try {
      const w = wireCompare(c);
      if (w.target !== 'value' && (!Number.isSafeInteger(w.number) || w.number < 0)) throw new TypeError(`compare on '${c.key}': a revision or version must be a non-negative integer`);
      return w;
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  });
  return { compare, success: ops(req.success), failure: ops(req.failure) };
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidArgumentError(`a key must be a non-empty string, got ${JSON.stringify(key)}`);
  return key;
}
