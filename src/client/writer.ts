/**
 * Writer: the application's handle on an elected WriterCore. `append` and
 * `truncate` hand operations to the core, which batches everything submitted
 * in the same turn of the event loop into few write requests; results resolve
 * in position order.
 *
 * Back-pressure: at most `limits.writerWindowMax` operations wait in the core
 * (in flight or queued); further calls wait for room, so memory stays bounded
 * however fast the application appends.
 *
 * Lifecycle (`state`): electing -> elected -> in-doubt -> (reelect) electing
 * ... -> fenced | resigned | closed. A writer never regains leadership
 * implicitly: once an operation failed with NoQuorumError (or the writer lost
 * the members it counts), another writer may have been elected meanwhile, and
 * a silent re-election would fence it without either application knowing.
 * Later operations then fail with WriterInDoubtError until the application
 * calls `reelect()`, whose result says what became of every write whose
 * outcome was unknown. In doubt its core is not ticked (it would retry what it
 * holds: a change counted chosen is installed by an election, R4), so nothing
 * leaves until `reelect()`, which goes on with the same core (an abandoned one
 * too: what the core holds is carried out by the next). `resign()` in doubt
 * fails what the core still holds, which never left: not written.
 *
 * A newer configuration (R12). An election the application asked for
 * (`log.writer()`, `reelect()`) that meets a configuration newer than the one
 * it started in (a change installed meanwhile, which this client had not heard
 * of yet: a 'stale-config' answer) starts again in it: the client asks the
 * replicas for the newer configuration, a fresh core elects there, and what
 * waited for the election goes out behind it. The election is the latest the
 * application asked for, so winning it is what it asked. An elected writer
 * that meets a newer configuration is not restarted: a configuration it did
 * not install itself was installed by a writer elected after it, which fenced
 * it (the replicas answer 'stale-config' before they compare proposals), and
 * taking the log back would let a superseded writer fence its successor.
 */
import { ChangeRefusedError, ClosedError, ConfigChangedError, InvalidArgumentError, NoQuorumError, ReplogError, TruncatedError, WriterFencedError, WriterInDoubtError } from '../core/errors.js';
import type { PlacedConfiguration } from '../core/membership.js';
import { NOP } from '../core/actions.js';
import { limits, timing } from '../core/constants.js';
import type { Action, Position, PromiseReply, ReadReply, ReplicaId, WriteReply } from '../core/types.js';
import type { ConfigHead } from '../core/membership.js';
import { WriterCore, type ChangeRequest, type OpResult, type WriterEvent, type WriterOutput } from '../core/writer.js';
import type { LogClient } from './log-client.js';
import type { Members } from './members.js';
import { withDeadline, type CallOptions } from './deadline.js';
import type { Appendable } from './codec.js';
import type { ChangeTakeReply, RelayOutcome } from '../net/change-codec.js';

interface Pending {
  readonly action: Action;
  /** The writer's own NOP (reelect() settling positions above its marker): never reported as a user write. */
  readonly own?: boolean;
  readonly resolve: (p: Position) => void;
  readonly reject: (e: Error) => void;
}

export type WriterState = 'electing' | 'elected' | 'in-doubt' | 'fenced' | 'resigned' | 'closed';

/** What a re-election settled: each write whose outcome was unknown, and whether it is in the log. */
export interface SettledWrite {
  /** The position the write took. */
  readonly position: Position;
  readonly kind: 'append' | 'truncate';
  /**
   * An append: true if the log holds these very bytes at `position`; false: something else is there
   * (a NOP or another writer's value), so the write is not in the log and may be made again. A
   * truncation: true if the log's beginning is at or past its `to` (its own record or a later
   * truncation removed those entries; making it again would change nothing). Final either way: the re-election settled
   * every position up to the highest one in doubt, so no later writer can choose another value there.
   */
  readonly written: boolean;
  /**
   * An append whose `position` is below the log's beginning now (a truncation in doubt, or a later one,
   * was chosen): the log no longer holds anything there, so `written` is false whatever was there before.
   */
  readonly truncated?: boolean;
}

export interface Reelection {
  /** The position of the new election's marker (as `writer.position`). */
  readonly position: Position;
  /** Every write that failed with outcome `unknown` since the last election, in position order. */
  readonly settled: readonly SettledWrite[];
}

/** A writer of entries of type `T` (raw bytes without a codec: see LogClientOptions.codec). */
export class Writer<T = Uint8Array> {
  private core: WriterCore;
  private readonly pending = new Map<number, Pending>();
  /** Membership changes asked of the core (`change`), by request id. */
  private readonly changes = new Map<string, { resolve: (c: PlacedConfiguration) => void; reject: (e: Error) => void }>();
  /**
   * Changes handed to this writer by the replicas' change relay (R12), by request id: the replicas that
   * handed each (its outcome is reported to them, and only their connection's report counts there), and
   * the outcome once known. Bounded: the oldest settled ones are forgotten.
   */
  private readonly relayed = new Map<string, { readonly from: Set<ReplicaId>; outcome?: RelayOutcome }>();
  /** When this writer last asked the replicas for held changes, under which proposal, and the rids it asked with lately. */
  private takenAt = -Infinity;
  private takenWith = 0;
  private readonly takeRids = new Set<number>();
  private election?: { resolve(p: Position): void; reject(e: Error): void };
  private flushScheduled = false;
  private nextOp = 1;
  private roomWaiters: (() => void)[] = [];
  /** Set once the writer can never write again (fenced, resigned, client closed). */
  private failure: ReplogError | undefined;
  /** Writes that left and failed with an unknown outcome, waiting for `reelect()` to settle them. */
  private unknown: { position: Position; action: Action }[] = [];
  private stateNow: WriterState = 'electing';
  private resigning = false;
  private resignation: Promise<void> | undefined;
  /** reelect() is electing and settling: new writes wait for its verdicts (they could land on the positions in doubt). */
  private reelecting = false;
  /** Called once no operation is pending (resign() waits for it). */
  private readonly drained: (() => void)[] = [];
  private readonly stopped = new AbortController();
  /**
   * R12: the application's election met a newer configuration and this writer is starting again in it
   * (see the file header). The operations waiting to go out with it, by id (submission order).
   */
  private restarting: number[] | undefined;
  /** Restarts in a newer configuration since the last election that succeeded: bounded (CONFIG_RESTARTS_MAX). */
  private configRestarts = 0;
  /**
   * Whether the core, just before the event being applied, had won an election (its marker maybe not
   * chosen yet) or held a change (R4). Read by configMoved: the core's state after the event cannot
   * tell, as a newer configuration fences it and drops every change it held.
   */
  private heldBefore = false;
  /** Resolves with the reason once this writer can never write again: fenced, resigned, or its client closed. */
  readonly fenced: Promise<ReplogError>;
  private markFenced!: (e: ReplogError) => void;

  /** @internal Made by LogClient.writer(). */
  static create<T>(client: LogClient<T>, members: ReplicaId[]): Writer<T> {
    return new Writer<T>(client, members);
  }

  private constructor(
    private readonly client: LogClient<T>,
    private readonly memberIds: ReplicaId[],
  ) {
    this.core = this.newCore();
    this.fenced = new Promise((resolve) => (this.markFenced = resolve));
  }

  private newCore(): WriterCore {
    // (A stand-in client without configurations, as the tests' fake cluster, gives the ids only.)
    const view = typeof this.client.configView === 'function' ? this.client.configView() : undefined;
    return new WriterCore({
      // The configuration chain the replicas reported (with addresses: a change needs them); before any reply, the ids.
      ...(view === undefined ? { members: this.memberIds } : { view }),
      // Above every proposal seen, this writer's abandoned election included.
      proposalFloor: Math.max(this.client.highestProposalSeen, this.core?.highestProposalSeen ?? 0),
      random: Math.random,
      rid: this.client.rid,
      electionGraceMs: timing.electionGraceMs,
    });
  }

  /** The position of this writer's latest election marker, once elected. */
  position = -1;

  /** Where this writer is in its lifecycle (see the file header). */
  get state(): WriterState {
    return this.stateNow;
  }

  /** Aborted, with the same reason as `fenced`, once this writer can never write again. */
  get signal(): AbortSignal {
    return this.stopped.signal;
  }

  /** @internal */
  elect(): Promise<Position> {
    return new Promise((resolve, reject) => {
      this.election = { resolve, reject };
      // Each election the application asks for may start again in a newer configuration CONFIG_RESTARTS_MAX times.
      this.configRestarts = 0;
      // Starting again in a newer configuration (a reelect() abandoned meanwhile, asked again): the old
      // core is fenced; the fresh one elects for this election once the configuration is known (restartIn).
      if (this.restarting !== undefined) return;
      this.apply(this.step({ type: 'elect' }, this.client.now()));
    });
  }

  /**
   * Becomes the writer again after it fell in doubt (an operation failed with
   * NoQuorumError): a new election, which fences any writer elected meanwhile,
   * then NOPs through the highest position a write in doubt took (if above
   * the election's marker), then a read of those positions. Every verdict is
   * final: no position at or below the highest one in doubt is left open for
   * a later writer to fill with a value a minority accepted. Writes made
   * while it runs fail with WriterInDoubtError. Rejects with NoQuorumError if
   * no quorum answers (the writer stays in doubt, its writes still unknown).
   */
  async reelect(options?: CallOptions): Promise<Reelection> {
    this.client.checkOpen();
    if (this.failure !== undefined) throw this.failure;
    if (this.stateNow !== 'in-doubt') throw new InvalidArgumentError(`reelect() is for a writer in doubt; this one is ${this.stateNow}`);
    return withDeadline('reelect()', options, this.client.callDefaults, (signal) => {
      signal.addEventListener('abort', () => this.abandonElection(signal.reason), { once: true });
      return this.reelectNow();
    });
  }

  /**
   * reelect() aborted or timed out: the election and its settling are dropped
   * (a fresh core ignores their replies) and the writer is in doubt again,
   * with the same writes unknown; a later reelect() settles them.
   */
  private abandonElection(reason: unknown): void {
    if (!this.reelecting || this.failure !== undefined) return;
    const err = reason instanceof Error ? reason : new ClosedError('reelect() was abandoned');
    this.election?.reject(err);
    this.election = undefined;
    for (const [id, p] of this.pending) {
      if (p.own !== true) continue;
      this.pending.delete(id);
      p.reject(err);
    }
    // The same core gives up (not a fresh one): what it holds beyond the election, a change counted chosen
    // whose install is pending (R4) and the appends queued behind it, is carried out by the next reelect().
    this.apply(this.step({ type: 'abandon' }, this.client.now()));
    if (this.failure === undefined) this.stateNow = 'in-doubt';
  }

  private async reelectNow(): Promise<Reelection> {
    this.stateNow = 'electing';
    this.reelecting = true;
    const unknown = this.unknown.sort((a, b) => a.position - b.position);
    this.unknown = [];
    try {
      const position = await this.elect();
      const highest = unknown.length > 0 ? unknown[unknown.length - 1]!.position : -1;
      // The election chose every position through its marker. A write in doubt above the marker sits on
      // a position no one chose yet: a minority may hold it, and a later election that meets that
      // minority would choose it. Fill those positions now, so "not written" stays true.
      if (highest > position) await this.settleAbove(position, highest);
      return { position, settled: await this.verdicts(unknown) };
    } catch (err) {
      // Still in doubt: the same writes are still unknown for the next reelect(). That holds when the
      // election won and only the read of their positions failed, too: the writer says so (in doubt), or
      // reelect(), which is for a writer in doubt, could never settle them.
      this.unknown = [...unknown, ...this.unknown];
      // The election won and only the verdicts' read failed: the core gives its leadership up, so the next
      // reelect() is a real election again (it fences a writer elected meanwhile, and settles from its own
      // marker) rather than reusing a core that may have been fenced since.
      if (this.failure === undefined && this.core.roleKind === 'elected') this.apply(this.step({ type: 'abandon' }, this.client.now()));
      if (this.failure === undefined) this.stateNow = 'in-doubt';
      throw err;
    } finally {
      this.reelecting = false;
    }
  }

  /** NOPs through `through`, right after the marker at `marker` (nothing else is submitted meanwhile). */
  private settleAbove(marker: Position, through: Position): Promise<Position[]> {
    const nops: Promise<Position>[] = [];
    for (let p = marker + 1; p <= through; p++) nops.push(this.enqueue(NOP, true));
    this.scheduleFlush();
    return Promise.all(nops);
  }

  /** What the log holds at each position in doubt, all of them chosen now. */
  private async verdicts(unknown: readonly { position: Position; action: Action }[]): Promise<SettledWrite[]> {
    if (unknown.length === 0) return [];
    const first = unknown[0]!.position;
    const last = unknown[unknown.length - 1]!.position;
    const chosen = new Map<Position, Action>();
    let begin = 0;
    for (let attempt = 1; ; attempt++) {
      // A truncation in doubt may have been chosen: what lies below it cannot be read any more.
      begin = await this.client.beginning();
      try {
        if (Math.max(first, begin) <= last) for (const e of await this.client.readActions(Math.max(first, begin), last)) chosen.set(e.position, e.action);
        break;
      } catch (err) {
        // Truncated between the two reads (another writer): read again from the new beginning.
        if (!(err instanceof TruncatedError) || attempt >= 3) throw err;
      }
    }
    return unknown.map((u): SettledWrite => {
      // Reads return appends only. A truncation is judged by its effect: the log's beginning is at or past
      // its `to` (its own record or a later truncation did it), else it is not in the log, and its position
      // is chosen now (NOP or another value), so it never will be.
      if (u.action.kind === 'truncate') return { position: u.position, kind: 'truncate', written: begin >= u.action.to };
      if (u.position < begin) return { position: u.position, kind: 'append', written: false, truncated: true };
      const got = chosen.get(u.position);
      return { position: u.position, kind: 'append', written: got !== undefined && sameAction(got, u.action) };
    });
  }

  /**
   * Stops being the writer: waits for the operations in flight to finish, then
   * releases the writer (later operations fail with ClosedError). Another
   * writer may be elected at once without fencing anything of this one's.
   */
  resign(): Promise<void> {
    // Every call returns the same promise: a second resign() (or `await using`) waits for the first.
    this.resignation ??= this.resignOnce();
    return this.resignation;
  }

  private async resignOnce(): Promise<void> {
    this.resigning = true;
    // In doubt nothing is in flight and nothing goes out until reelect(): what is still pending never left.
    if (this.stateNow === 'in-doubt' && this.failure === undefined) this.dropHeld();
    if (this.pending.size > 0 && this.failure === undefined) await new Promise<void>((r) => this.drained.push(r));
    this.stop('resigned', new ClosedError('this writer resigned'));
  }

  /**
   * resign() in doubt: the operations the core still holds (queued behind a change, never sent) fail as not
   * written, and a change it holds (counted chosen, its install not run: R4) as of unknown outcome: its entry
   * may be chosen, and a later writer finishes it.
   */
  private dropHeld(): void {
    for (const p of this.pending.values()) p.reject(new ClosedError('this writer resigned while in doubt: this write never left it, it was not written'));
    this.pending.clear();
    for (const c of this.changes.values()) {
      c.reject(changeError({ reason: 'unknown', message: 'the writer resigned in doubt after its change entry was counted chosen, before installing it (R4): a later writer finishes it' }));
    }
    this.changes.clear();
  }

  /** `await using w = await log.writer()` resigns at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.resign();
  }

  /**
   * Appends one entry; resolves with its position once it is chosen (durable
   * on a quorum). `data` is a value for the client's codec, or without one
   * bytes or a string (UTF-8). Aborted or timed out (`options`), it rejects with
   * AbortedError or TimeoutError whose `outcome` is `not-written` if the entry
   * was still waiting for room in the window, else `unknown` (it went to the
   * writer's queue and may still be chosen).
   */
  append(data: Appendable<T>, options?: CallOptions): Promise<Position> {
    // Not an async function: one promise per append, not three (the caller's, submit's work, enqueue's);
    // every throw below still reaches the caller as a rejection.
    try {
      const bytes = this.encode(data);
      if (bytes.byteLength > limits.entryBytesMax) {
        throw new InvalidArgumentError(`entry of ${bytes.byteLength} bytes is larger than the limit of ${limits.entryBytesMax}`);
      }
      return this.submit({ kind: 'append', data: bytes }, 'append()', options);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** The entry's bytes: the codec's, or (raw) the bytes or the string's UTF-8. */
  private encode(data: unknown): Uint8Array {
    const codec = this.client.codec;
    if (codec === undefined) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('data must be a Uint8Array or a string');
      return bytes;
    }
    let bytes: unknown;
    try {
      bytes = codec.encode(data as T);
    } catch (err) {
      throw new InvalidArgumentError(`the codec could not encode the entry (nothing was written): ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError(`the codec's encode() returned a ${typeof bytes}, not a Uint8Array (nothing was written)`);
    return bytes;
  }

  /** Removes every entry before `to`; resolves with the position of the truncation itself. `options` as for append(). */
  async truncate(to: Position, options?: CallOptions): Promise<Position> {
    if (!Number.isSafeInteger(to) || to < 0) throw new InvalidArgumentError(`truncate position must be a non-negative safe integer, got ${to}`);
    return this.submit({ kind: 'truncate', to }, 'truncate()', options);
  }

  /**
   * Membership changes made by this writer (docs/reconfiguration.md section 5): `add`, `promote`,
   * `remove`, `replace`, `update`, `set`, as `log.members` has them, but always carried out here, between this writer's
   * appends (which pause for the change and resolve afterwards in order), so it is never fenced by them.
   */
  get members(): Pick<Members, 'add' | 'promote' | 'remove' | 'replace' | 'update' | 'set'> {
    this.membersApi ??= this.client.membersFor(this);
    return this.membersApi;
  }
  private membersApi: Members | undefined;

  /** Operations waiting for a result. */
  get inflight(): number {
    return this.pending.size;
  }

  private submit(action: Action, what: string, options: CallOptions | undefined): Promise<Position> {
    this.client.checkOpen();
    let queued = false;
    return withDeadline(
      what,
      options,
      this.client.callDefaults,
      (signal) => {
        try {
          this.checkWritable();
          // Room in the window (the common case): queued now, without waiting on a promise for room.
          if (this.pending.size >= limits.writerWindowMax) return this.submitWhenRoom(action, signal, () => (queued = true));
          queued = true;
          const p = this.enqueue(action, false);
          this.scheduleFlush();
          return p;
        } catch (err) {
          return Promise.reject(err as Error);
        }
      },
      () => (queued ? { outcome: 'unknown' } : { outcome: 'not-written' }),
    );
  }

  /** submit() when the window is full: waits for room, then queues (`onQueued` first). */
  private async submitWhenRoom(action: Action, signal: AbortSignal, onQueued: () => void): Promise<Position> {
    for (;;) {
      this.checkWritable();
      if (this.pending.size < limits.writerWindowMax) break;
      await new Promise<void>((r) => this.roomWaiters.push(r));
      // Given up while waiting for room: it must not go out later.
      if (signal.aborted) throw signal.reason;
    }
    onQueued();
    const p = this.enqueue(action, false);
    this.scheduleFlush();
    return p;
  }

  private enqueue(action: Action, own: boolean): Promise<Position> {
    const id = this.nextOp++;
    return new Promise<Position>((resolve, reject) => {
      this.pending.set(id, { action, own, resolve, reject });
      // Starting again in a newer configuration: it goes out with the others, in order, from the new core.
      if (this.restarting !== undefined) this.restarting.push(id);
      else this.apply(this.step({ type: 'submit', op: { id, action } }, this.client.now()));
    });
  }

  private checkWritable(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.resigning) throw new ClosedError('this writer is resigning');
    if (this.stateNow === 'in-doubt' || this.reelecting) {
      throw new WriterInDoubtError(
        'this writer lost its quorum, so another writer may have been elected since: it writes nothing until writer.reelect() (which settles the writes whose outcome was unknown)',
      );
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // A microtask, not setImmediate: everything submitted by the code running now (and the promise
    // continuations it wakes) goes out in as few write requests as possible, and before the
    // connection's own flush at the end of this I/O phase, so a commit and the next write leave in
    // one packet (one wake-up of each replica per append instead of two; issue 21).
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.apply(this.step({ type: 'flush' }, this.client.now()));
    });
  }

  /** @internal */
  onReply(from: ReplicaId, msg: PromiseReply | WriteReply | ReadReply): void {
    this.apply(this.step({ type: 'reply', from, msg }, this.client.now()));
  }

  /** @internal The client's link to member `id` came up: the writer asks it now what it asked before (lost). */
  onReachable(id: ReplicaId): void {
    this.apply(this.step({ type: 'reachable', id }, this.client.now()));
  }

  /** @internal */
  tick(now: number): void {
    // In doubt the core is idle until reelect(): a tick would retry what it holds (an install election, R4),
    // electing behind the application's back (see the file header).
    if (this.stateNow === 'in-doubt') return;
    this.apply(this.step({ type: 'tick' }, now));
    this.askForChanges(now);
  }

  /**
   * R12's hand-off, the writer's side: while elected (idle too: it recommits every recommitMs anyway),
   * every timing.recommitMs it asks its members for the changes they hold for the holder of their
   * promise (`changeTake` with its proposal); a replica hands them only to that holder.
   */
  private askForChanges(now: number): void {
    const proposal = this.core.proposal;
    if (this.failure !== undefined || this.stateNow !== 'elected' || this.resigning || proposal === undefined) return;
    // A new proposal (an election after a change, R4) asks at once: the replicas' relays know this
    // writer by the proposal of their promise.
    if (now - this.takenAt < timing.recommitMs && proposal === this.takenWith) return;
    this.takenAt = now;
    this.takenWith = proposal;
    for (const to of this.client.connectedMembers?.() ?? []) {
      const rid = this.client.rid();
      this.takeRids.add(rid);
      // A reply rounds late still counts (the replica marked its changes taken by this connection): the last TAKE_RIDS_KEPT rids.
      if (this.takeRids.size > TAKE_RIDS_KEPT) this.takeRids.delete(this.takeRids.values().next().value!);
      this.client.sendRelay(to, { type: 'changeTake', rid, proposal });
    }
  }

  /** @internal Whether this writer took relayed change `id` (from any replica). */
  tookRelayed(id: string): boolean {
    return this.relayed.has(id);
  }

  /**
   * @internal A replica handed over held changes: each new one goes to the core as a `change` event (as
   * `log.members` would give it); one seen before (from another replica, or again after a reconnection)
   * only adds its replica to those told the outcome, at once if it is known.
   */
  onTakeReply(from: ReplicaId, msg: ChangeTakeReply): boolean {
    // A writer in doubt (or stopped) takes nothing: a change event would make its core elect again, and a
    // writer never regains leadership implicitly (see the file header). Its client disowns them.
    if (!this.takeRids.has(msg.rid) || this.failure !== undefined || this.stateNow !== 'elected' || this.resigning) return false;
    for (const request of msg.requests) {
      const known = this.relayed.get(request.id);
      if (known !== undefined) {
        known.from.add(from);
        if (known.outcome !== undefined) this.client.sendRelay(from, { type: 'changeReport', id: request.id, outcome: known.outcome });
        continue;
      }
      this.relayed.set(request.id, { from: new Set([from]) });
      this.forgetSettledRelayed();
      this.client.emit('change', { id: request.id, change: request.change, ifEpoch: request.ifEpoch });
      this.apply(this.step({ type: 'change', request }, this.client.now()));
    }
    return true;
  }

  /** Tells the replicas that handed over change `id` its outcome (once). */
  private reportRelayed(id: string, outcome: RelayOutcome): void {
    const r = this.relayed.get(id);
    if (r === undefined || r.outcome !== undefined) return;
    r.outcome = outcome;
    for (const to of r.from) this.client.sendRelay(to, { type: 'changeReport', id, outcome });
  }

  /** At most RELAYED_KEPT remembered: the oldest settled ones go first. */
  private forgetSettledRelayed(): void {
    if (this.relayed.size <= RELAYED_KEPT) return;
    for (const [id, r] of this.relayed) {
      if (r.outcome === undefined) continue;
      this.relayed.delete(id);
      if (this.relayed.size <= RELAYED_KEPT) return;
    }
  }

  /**
   * @internal A membership change (docs/reconfiguration.md, R2 to R4), carried out by this writer:
   * resolves with the configuration it made once it is chosen and installed; rejects with
   * ChangeRefusedError (nothing written), ConfigChangedError (the epoch moved, nothing written),
   * NoQuorumError or WriterFencedError (the writer stopped: `unknown` in the message when the entry
   * had left and a later writer may still finish it).
   */
  change(request: ChangeRequest): Promise<PlacedConfiguration> {
    this.client.checkOpen();
    if (this.failure !== undefined) return Promise.reject(this.failure);
    // In doubt, the core is idle and a change would elect again: never implicitly (see the file header).
    if (this.stateNow === 'in-doubt' || this.reelecting) {
      return Promise.reject(new WriterInDoubtError('this writer lost its quorum, so another writer may have been elected since: it changes nothing until writer.reelect()'));
    }
    return new Promise((resolve, reject) => {
      this.changes.set(request.id, { resolve, reject });
      this.apply(this.step({ type: 'change', request }, this.client.now()));
    });
  }

  /** @internal Fails everything (client closed). */
  failAll(err: ReplogError): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const c of this.changes.values()) c.reject(err);
    this.changes.clear();
    this.election?.reject(err);
    this.election = undefined;
    this.stop('closed', err);
  }

  private stop(state: 'fenced' | 'resigned' | 'closed', err: ReplogError): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.stateNow = state;
    // An election still asked for (resign() during reelect()) ends with the writer: nothing will answer it.
    const election = this.election;
    this.election = undefined;
    election?.reject(err);
    // A stopped writer can do nothing more: stop routing replies and ticks to it.
    this.client.forgetWriter(this);
    this.stopped.abort(err);
    this.markFenced(err);
    if (state === 'fenced') this.client.emit('fenced', { error: err });
    for (const c of this.changes.values()) c.reject(err);
    this.changes.clear();
    // Relayed changes the core never reported: the replicas' askers must not wait for nobody. Whether the
    // entry left is not known here (a later writer may still finish it): their askers read the log's
    // configuration to know (members.ts).
    for (const [id, r] of this.relayed) {
      if (r.outcome === undefined) this.reportRelayed(id, { ok: false, reason: 'unknown', message: `the writer that took the change stopped (${state}) before it knew the outcome` });
    }
    // The replicas stop counting it as a writer that takes changes: an offer then finds no-writer at once.
    if (this.takenWith > 0) for (const to of this.client.connectedMembers?.() ?? []) this.client.sendRelay(to, { type: 'changeTake', rid: this.client.rid(), proposal: this.takenWith, done: true });
    this.wakeRoom();
    for (const f of this.drained.splice(0)) f();
  }

  /** Steps the core, noting what it held before (heldBefore). */
  private step(event: WriterEvent, now: number): WriterOutput {
    this.heldBefore = this.core.roleKind === 'elected' || this.core.changing;
    return this.core.step(event, now);
  }

  private apply(out: WriterOutput): void {
    // (Before anything it calls out to can step the core again.)
    const moved = this.configMoved(out);
    this.client.send(out.send);
    // Changes first: a fenced operation below stops the writer (rejecting the changes it still waits for
    // with a generic fenced error), and a change that was in flight has its own outcome (unknown: its entry
    // may be chosen), which the core reports in this same output.
    for (const c of out.changes ?? []) {
      if (this.relayed.has(c.id)) {
        if (c.result.ok) this.client.noteConfiguration?.(c.result.config);
        this.reportRelayed(c.id, c.result.ok ? { ok: true, config: c.result.config } : { ok: false, reason: c.result.reason, message: c.result.message });
      }
      const waiter = this.changes.get(c.id);
      if (waiter === undefined) continue;
      this.changes.delete(c.id);
      if (c.result.ok) {
        this.client.noteConfiguration?.(c.result.config);
        waiter.resolve(c.result.config);
      } else waiter.reject(changeError(c.result));
    }
    let chosen = -1;
    for (const d of out.done) {
      if (d.result.ok) chosen = Math.max(chosen, d.result.position);
      const p = this.pending.get(d.id);
      if (p === undefined) continue;
      // Never sent (configMoved checked): it goes out again from the core that elects in the newer configuration.
      if (moved !== undefined) continue;
      this.pending.delete(d.id);
      if (d.result.ok) p.resolve(d.result.position);
      else {
        if (d.result.unknownAt !== undefined && d.result.error !== 'invalid' && p.own !== true) this.unknown.push({ position: d.result.unknownAt, action: p.action });
        p.reject(this.errorFor(d.result));
      }
    }
    if (moved !== undefined) {
      this.restartIn(moved, out);
    } else if (out.election !== undefined && this.election !== undefined) {
      const e = this.election;
      this.election = undefined;
      if (out.election.ok) {
        this.position = out.election.position;
        this.configRestarts = 0;
        if (this.failure === undefined) this.stateNow = 'elected';
        // A new holder asks for held changes at its next tick, not a recommit period later (change-relay.ts).
        this.takenAt = -Infinity;
        this.client.emit('election', { position: out.election.position, reelected: this.reelecting });
        e.resolve(out.election.position);
      } else e.reject(this.errorFor(out.election));
    }
    // (While starting again in a newer configuration the old core is fenced and about to be replaced.)
    if (this.failure === undefined && this.election === undefined && this.restarting === undefined) {
      // The core gave up its quorum (a failed operation or election, too few counted members): in doubt until reelect().
      if (this.core.roleKind === 'idle') this.stateNow = 'in-doubt';
      else if (this.core.roleKind === 'fenced') this.stop('fenced', new WriterFencedError('this writer was fenced by a writer with a higher proposal: create a new writer to write again'));
    }
    if (chosen >= 0) this.client.news.chosen(chosen);
    if (out.done.length > 0) this.wakeRoom();
    if (this.pending.size === 0) for (const f of this.drained.splice(0)) f();
  }

  /**
   * The head of a newer configuration the core stopped on, if this writer starts again in it (see the file
   * header): the application waits for this election (elect(), reelect()), the core met a configuration
   * newer than its ballot's during it (its failed election names one), nothing the core failed had left
   * (no outcome in doubt: each goes out again as it was), and the core held no change (a change counted
   * chosen is installed by this very core, R4, or not at all) and had not won the election yet. A core
   * that won it (its marker not chosen yet) met a configuration installed by a writer whose promises
   * came after its own quorum's (an entry chosen before them would be in its settle range, R5): restarting
   * would fence that writer, as a rejected marker would not. Both are judged before the event (heldBefore):
   * the stop itself drops the change and leaves the core fenced. Bounded: a configuration that keeps
   * moving ends the election as before.
   */
  private configMoved(out: WriterOutput): ConfigHead | undefined {
    const e = out.election;
    if (e === undefined || e.ok || e.error !== 'fenced' || e.config === undefined) return undefined;
    if (this.election === undefined || this.failure !== undefined || this.heldBefore) return undefined;
    if (this.configRestarts >= CONFIG_RESTARTS_MAX) return undefined;
    if (out.done.some((d) => !d.result.ok && d.result.unknownAt !== undefined)) return undefined;
    return e.config;
  }

  /**
   * Starts again in the newer configuration `head` (configMoved): asks the replicas for it, then a fresh
   * core takes the operations the old one failed unsent, and those submitted meanwhile, in the order they
   * were submitted, and elects. The application's election promise waits on.
   */
  private restartIn(head: ConfigHead, out: WriterOutput): void {
    this.configRestarts++;
    this.restarting = out.done.filter((d) => this.pending.has(d.id)).map((d) => d.id);
    void this.learn(head).then(() => {
      const ids = (this.restarting ?? []).sort((a, b) => a - b);
      this.restarting = undefined;
      // Closed meanwhile: failAll rejected everything pending, the election too.
      if (this.failure !== undefined) return;
      this.core = this.newCore();
      for (const id of ids) {
        const p = this.pending.get(id);
        if (p !== undefined) this.apply(this.step({ type: 'submit', op: { id, action: p.action } }, this.client.now()));
      }
      // Abandoned meanwhile (reelect()'s deadline): the fresh core waits, with what it holds, for the next reelect().
      if (this.election !== undefined) this.apply(this.step({ type: 'elect' }, this.client.now()));
    });
  }

  /** Asks the replicas for their configuration until the client's chain reaches `head` (a few rounds; never rejects). */
  private async learn(head: ConfigHead): Promise<void> {
    for (let round = 0; round < 3; round++) {
      const epoch = this.client.chain?.at(-1)?.epoch;
      // (A stand-in client without configurations has no chain.)
      if (epoch === undefined || epoch >= head.epoch || typeof this.client.refreshConfiguration !== 'function') return;
      await this.client.refreshConfiguration().catch(() => undefined);
    }
  }

  private errorFor(r: Extract<OpResult, { ok: false }>): ReplogError {
    const outcome = r.unknownAt !== undefined ? ({ outcome: 'unknown', position: r.unknownAt } as const) : ({ outcome: 'not-written' } as const);
    if (r.error === 'fenced') {
      const what = outcome.outcome === 'unknown' ? `this write (at ${outcome.position}) may or may not have been written: read the log to know` : 'this write was not written';
      const err = new WriterFencedError(
        `another writer was elected (proposal ${r.proposal ?? '?'}), or a reader settled a position this writer had pending: this writer is fenced; ${what}; create a new writer to write again`,
        outcome,
      );
      this.client.highestProposalSeen = Math.max(this.client.highestProposalSeen, r.proposal ?? 0);
      this.stop('fenced', new WriterFencedError(`this writer was fenced by a writer with proposal ${r.proposal ?? '?'}: create a new writer to write again`));
      return err;
    }
    if (r.error === 'insane') {
      return new NoQuorumError(
        `the replicas that promised report unsettled positions up to ${r.position ?? '?'}, far more than an honest quorum can hold (limits.electionSettleMax): the election is refused; a replica may be broken or hostile`,
        { outcome: 'not-written' },
      );
    }
    if (r.error === 'no-quorum') {
      const what = outcome.outcome === 'unknown' ? `it may or may not have been written at ${outcome.position}` : 'it was not written';
      return new NoQuorumError(`no quorum of replicas accepted in time (${what}); this writer is in doubt until writer.reelect()`, outcome);
    }
    return new InvalidArgumentError(`a truncation may only remove positions before its own (${r.position ?? '?'}): nothing was written`);
  }

  private wakeRoom(): void {
    const w = this.roomWaiters;
    this.roomWaiters = [];
    for (const f of w) f();
  }
}

/** Elections started again in a newer configuration (R12) before one succeeds; past it the election fails as fenced. */
const CONFIG_RESTARTS_MAX = 8;
/** Relayed changes a writer remembers (their ids and outcomes), for replicas that hand one over again. */
const RELAYED_KEPT = 256;
/** The changeTake rids a writer still takes replies to: a few rounds' worth. */
const TAKE_RIDS_KEPT = 256;

/** The error for a change that was not made (the writer's outcome, here or relayed through the replicas). */
export function changeError(r: { readonly reason: string; readonly message: string }): ReplogError {
  switch (r.reason) {
    case 'epoch-changed':
      return new ConfigChangedError(r.message);
    case 'no-quorum':
      return new NoQuorumError(r.message, { outcome: 'not-written' });
    case 'fenced':
      return new WriterFencedError(r.message, { outcome: 'not-written' });
    case 'unknown':
      return new ReplogError(`the change's outcome is unknown: ${r.message}`);
    case 'invalid':
      return new InvalidArgumentError(r.message);
    default:
      return new ChangeRefusedError(r.message, r.reason);
  }
}

function sameAction(a: Action, b: Action): boolean {
  if (a.kind === 'append' && b.kind === 'append') return Buffer.from(a.data).equals(Buffer.from(b.data));
  if (a.kind === 'truncate' && b.kind === 'truncate') return a.to === b.to;
  return false;
}
