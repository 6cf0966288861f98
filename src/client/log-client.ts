/**
 * LogClient: the library's entry point. It connects to the replicas and runs
 * the proposer and learner cores (WriterCore, ReaderCore) against them: the
 * cores decide, this shell moves their messages over PeerLinks, drives their
 * clocks with a timer, and turns their results into promises.
 *
 * Member identity comes from the replicas, never from the address list: each
 * replica names itself in its handshake, and a `config` request returns the
 * cluster's membership (ids and addresses), from which the quorum follows. The
 * addresses given are only places to find the cluster: any order, any subset
 * that reaches one replica works, and the client then connects to every
 * member. Replicas that disagree about the membership make the client refuse
 * to run, with a clear error.
 */
import { ClosedError, InvalidArgumentError, NoQuorumError, ReplogError, TruncatedError, WriterFencedError } from '../core/errors.js';
import { assertNat } from '../core/assert.js';
import { limits, timing } from '../core/constants.js';
import { quorumSize } from '../core/quorum.js';
import { ReaderCore, type ReaderOutbound, type ReadResult } from '../core/reader.js';
import type { ConfigReply, Entry, Member, Message, Position, ReadReply, ReplicaId } from '../core/types.js';
import { governing, type PendingConfig, type PlacedConfiguration } from '../core/membership.js';
import type { ConfigView } from '../core/config-view.js';
import { silentLogger, type Logger } from '../net/logger.js';
import { EventEmitter } from 'node:events';
import type { LogClientEvents } from './events.js';
import { encodeFrame } from '../net/codec.js';
import { CHANGE_CODES, decodeChangeMessage, encodeChangeFrame, type ChangeMessage, type ChangeOfferReply, type RelayOutcome } from '../net/change-codec.js';
import type { ChangeRequest } from '../core/writer.js';
import { PeerLink } from '../net/peer-link.js';
import { wireLimits } from '../net/limits.js';
import { ConnectionRefusedError, type ConnectionRefusal } from '../net/errors.js';
import { TlsCredentials, type TlsOptions } from '../net/tls.js';
import { ReplyGate } from './reply-gate.js';
import { Writer } from './writer.js';
import { Members } from './members.js';
import { sleep, withDeadline, type CallDefaults, type CallOptions } from './deadline.js';
import { ChosenNews } from './chosen-news.js';
import { Tail, type TailBatch, type TailOptions } from './tail.js';
import { decodeEntry, type Codec } from './codec.js';

/**
 * An appended entry: its position and its data. Raw bytes without a codec
 * (in a buffer of their own unless they fill most of the reply they came in:
 * see ownBytes in codec.ts), else what the codec decoded.
 */
export interface LogEntry<T = Uint8Array> {
  readonly position: Position;
  readonly data: T;
}

export interface LogClientOptions<T = Uint8Array> {
  /**
   * How entries are encoded and decoded (`json<Event>()`, `utf8()`, or your
   * own `Codec<T>`): the client is then a `LogClient<T>`, its writers append
   * values of type `T` and its reads and tails return `LogEntry<T>`. Default:
   * raw bytes (append takes a Uint8Array or a string, entries are Uint8Array).
   */
  readonly codec?: Codec<T>;
  /** The cluster id to require; by default learned from the first replica that answers. */
  readonly clusterId?: string;
  /** Where the client logs (a pino logger fits); default silent. */
  readonly log?: Logger;
  /** How often the cores' clocks tick, in ms. */
  readonly tickMs?: number;
  /**
   * Resolve `connect()` only once the membership is known and a quorum of
   * members is connected; reject with NoQuorumError naming each address's
   * problem (refused, another cluster, no answer) after `connectTimeoutMs`.
   * Default false: connections are made in the background.
   */
  readonly waitForQuorum?: boolean;
  /** How long `waitForQuorum` waits, in ms (default timing.operationTimeoutMs). */
  readonly connectTimeoutMs?: number;
  /**
   * The default deadline of every call, in ms (each call's own `timeoutMs`
   * wins). Default: none beyond the protocol's own: a call that finds no
   * quorum fails with NoQuorumError after 10 s.
   */
  readonly timeoutMs?: number;
  /** An operation pending this long (ms) is reported once with a `slow` event. Default 1000. */
  readonly slowOperationMs?: number;
  /**
   * Mutual TLS (docs/security.md): the cluster's CA and this client's certificate and key, PEM. Without it
   * the client speaks plaintext. A refusal by every replica fails the waiting operations at once, saying why.
   */
  readonly tls?: TlsOptions;
}

/** A cluster configuration: who votes, who learns, and its epoch (the number of changes since the cluster started). */
export interface Configuration {
  readonly epoch: number;
  readonly voters: readonly Member[];
  readonly learners: readonly Member[];
}

/** `log.members`: the voters' ids, with the membership changes (src/client/members.ts). */
export type MemberIds = readonly ReplicaId[] & Pick<Members, 'add' | 'promote' | 'remove' | 'replace' | 'update' | 'set' | 'status'>;

/** Default addresses: the local cluster of `npm start`. */
/** Relayed changes' outcomes a client remembers for late take replies (LogClient.disown): a few relays' worth. */
const RELAY_MEMORY = 4 * wireLimits.relayHeldMax;

export const DEFAULT_ADDRESSES: readonly string[] = Object.freeze(['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003']);

/** The membership, as the replicas told it. */
interface Membership {
  readonly epoch: number;
  /** Voters and learners, ascending. */
  readonly members: readonly Member[];
  /** The voters' ids: the members that count in quorums. */
  readonly ids: readonly ReplicaId[];
  /** Every member's id, learners included (their replies reach the writer: R3's joint count). */
  readonly all: readonly ReplicaId[];
  readonly voters: readonly Member[];
  readonly learners: readonly Member[];
  /** The chain the replica that told it holds, oldest first (its head is this configuration). */
  readonly chain: readonly PlacedConfiguration[];
}

export class LogClient<T = Uint8Array> extends EventEmitter<LogClientEvents> {
  /** Every link, by the address it dials. */
  private readonly links = new Map<string, PeerLink>();
  /** The link that speaks for each member (the first whose handshake named it). */
  private readonly byId = new Map<ReplicaId, PeerLink>();
  private readonly idOf = new Map<PeerLink, ReplicaId>();
  private reader: ReaderCore | undefined;
  private readonly reads = new Map<number, { resolve: (r: ReadResult) => void }>();
  private readonly writers = new Set<Writer<T>>();
  private readonly timer: NodeJS.Timeout;
  private nextRid = 1;
  private nextOp = 1;
  private closed = false;
  private closing: Promise<void> | undefined;
  private clusterId: string;
  private membership: Membership | undefined;
  /** Set when the replicas disagree about the membership: every operation fails with it. */
  private conflict: ReplogError | undefined;
  private readonly membershipWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  /** Why links failed, for error messages (address -> reason). */
  private readonly linkErrors = new Map<string, string>();
  private readonly log: Logger;
  private readonly tls: TlsCredentials | undefined;
  /** Addresses whose last connection attempt was refused for its transport or certificate, with the refusal. */
  private readonly refusedBy = new Map<string, ConnectionRefusal>();
  /** The highest beginning reported: beginning() never goes backwards within a client. */
  private beginSeen = 0;
  /** @internal The highest proposal any reply showed: a new writer starts above it. */
  highestProposalSeen = 0;
  private readonly started = performance.now();
  /** Checks every reply before the cores see it; drops replicas that send nonsense (reply-gate.ts). */
  private readonly gate = new ReplyGate({
    members: () => this.membership?.ids ?? [],
    deliver: (from, msg) => this.onReply(from, msg),
    drop: (from, why) => this.onDropped(from, why),
  });
  /** Why each dropped replica was dropped, for error messages. */
  private readonly droppedWhy = new Map<ReplicaId, string>();

  /** refreshConfiguration()'s questions waiting for their config reply, by rid. */
  private readonly configWaits = new Map<number, () => void>();
  /** Change offers (the hand-off, members.ts) waiting for their reply, by rid. */
  private readonly offerWaits = new Map<number, (reply: ChangeOfferReply) => void>();
  /**
   * The outcomes this client's writers reported of relayed changes, by request id (the latest
   * RELAY_MEMORY): what a take reply that comes late, after its writer stopped, is answered with (disown).
   */
  private readonly relayOutcomes = new Map<string, RelayOutcome>();
  /** Tails' doorbells (held reads) waiting for an answer, by rid. */
  private readonly doorbells = new Map<number, (reply: ReadReply) => void>();
  /** @internal Wakes waiting tails when this client's writers have positions chosen. */
  readonly news = new ChosenNews();
  /** @internal The default deadline of every call (LogClientOptions.timeoutMs). */
  readonly timeoutMs: number | undefined;
  /** @internal LogClientOptions.codec: undefined for raw bytes. */
  readonly codec: Codec<T> | undefined;

  /** @internal LogClientOptions.slowOperationMs. */
  readonly slowOperationMs: number;
  /** How often each request (by rid) was sent, to see retransmissions; bounded, oldest forgotten first. */
  private readonly sentCount = new Map<string, number>();

  private constructor(
    readonly addresses: readonly string[],
    options: LogClientOptions<T>,
  ) {
    super();
    this.timeoutMs = options.timeoutMs;
    this.codec = options.codec;
    this.slowOperationMs = options.slowOperationMs ?? 1000;
    this.clusterId = options.clusterId ?? '';
    this.log = options.log ?? silentLogger;
    this.tls = options.tls === undefined ? undefined : new TlsCredentials(options.tls);
    for (const address of new Set(addresses)) this.addLink(address);
    this.timer = setInterval(() => this.tick(), options.tickMs ?? 20);
    this.timer.unref();
  }

  /** Connects to the replicas at `addresses` (`host:port` each). Connections are made in the background. */
  static async connect<T = Uint8Array>(addresses: readonly string[] = DEFAULT_ADDRESSES, options: LogClientOptions<T> = {}): Promise<LogClient<T>> {
    if (addresses.length === 0) throw new InvalidArgumentError('at least one replica address is needed');
    if (options.codec !== undefined && (typeof options.codec.encode !== 'function' || typeof options.codec.decode !== 'function')) {
      throw new InvalidArgumentError('codec must have encode() and decode() functions');
    }
    const client = new LogClient<T>(addresses, options);
    if (options.waitForQuorum) {
      try {
        await client.untilQuorumConnected(options.connectTimeoutMs ?? timing.operationTimeoutMs);
      } catch (err) {
        await client.close();
        throw err;
      }
    }
    return client;
  }

  /** Waits until the membership is known and a quorum of members is connected. */
  private async untilQuorumConnected(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.quorumConnected()) {
      this.checkOpen();
      if (performance.now() >= deadline) {
        const known = this.membership === undefined ? this.unreachable() : this.describeMembers();
        throw new NoQuorumError(`no quorum of replicas connected within ${timeoutMs} ms: ${known}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * The voters' ids, once a replica told them (empty before), which also
   * carry the membership changes of interfaces.md: `log.members.add(id,
   * address, { voter })`, `.promote(id)`, `.remove(id, { force })`,
   * `.replace(old, replacement, address)`, `.update(id, address)`, `.set(voters,
   * learners, { ifEpoch })` and `.status()` (src/client/members.ts).
   */
  get members(): MemberIds {
    const ids = [...(this.membership?.ids ?? [])];
    const api = (this.membersApi ??= new Members(this as LogClient<unknown>, () => this.tls));
    const methods: PropertyDescriptorMap = {};
    for (const name of ['add', 'promote', 'remove', 'replace', 'update', 'set', 'status'] as const) {
      methods[name] = { value: (api[name] as (...args: unknown[]) => unknown).bind(api), enumerable: false };
    }
    return Object.defineProperties(ids, methods) as unknown as MemberIds;
  }
  private membersApi: Members | undefined;

  /**
   * The cluster's configuration as the replicas tell it (interfaces.md,
   * "Membership"): its epoch, the voters and the learners with their
   * addresses. Asked afresh of every replica this client reaches (the newest
   * epoch among their answers wins), so a change made by another process
   * shows at once.
   */
  async configuration(options?: CallOptions): Promise<Configuration> {
    this.checkOpen();
    await withDeadline('configuration()', options, this.callDefaults, async () => {
      await this.knownMembers();
      await this.refreshConfiguration();
    });
    const m = this.membership!;
    return { epoch: m.epoch, voters: m.voters.map((x) => ({ id: x.id, address: x.address })), learners: m.learners.map((x) => ({ id: x.id, address: x.address })) };
  }

  /** When this client last asked every replica it reaches for the configuration (tick's refresh). */
  private configAskedAt = 0;

  /** The newest epoch a removed replica's answer named (onConfig): refreshConfiguration waits for its members to tell it. */
  private onward = -1;

  /** Each replica's change in progress, from its latest config reply (config show's `pending`). */
  private readonly pendingBy = new Map<ReplicaId, PendingConfig | undefined>();

  /**
   * @internal The change in progress (`replog config show`'s pending): a configuration of the next epoch
   * that a replica holds accepted above the latest one, from the replies of the last configuration() call;
   * null if none does. Kept out of configuration()'s result, whose shape interfaces.md fixes.
   */
  pendingChange(): (Configuration & { readonly position: Position }) | null {
    const epoch = this.membership?.epoch;
    const seen = [...this.pendingBy.values()].filter((p): p is PendingConfig => p !== undefined && p.config.epoch === (epoch ?? -2) + 1);
    const p = seen.sort((a, b) => b.position - a.position)[0];
    if (p === undefined) return null;
    const list = (ms: readonly Member[]) => ms.map((m) => ({ id: m.id, address: m.address }));
    return { epoch: p.config.epoch, position: p.position, voters: list(p.config.voters), learners: list(p.config.learners) };
  }

  /** @internal The chain the replicas reported, oldest first (its head is the latest configuration). */
  get chain(): readonly PlacedConfiguration[] {
    return this.membership?.chain ?? [];
  }

  /**
   * @internal config(q) from the newest chain the replicas reported, read at each call (a writer's
   * next election is in the newest configuration known then); undefined before any reply.
   */
  configView(): ConfigView | undefined {
    if (this.membership === undefined) return undefined;
    return (q) => {
      const chain = this.membership!.chain;
      return governing(chain, q) ?? chain[0]!;
    };
  }

  /**
   * @internal A configuration this client's own writer installed (R4): taken at once, before any
   * replica reports it, so that reads and the next election count its voters.
   */
  noteConfiguration(c: PlacedConfiguration): void {
    const cur = this.membership;
    if (cur === undefined || c.epoch !== cur.epoch + 1) return;
    this.adopt([...cur.chain, c]);
  }

  /**
   * @internal Asks every connected replica for its configuration again, and waits (at most
   * `timeoutMs`) until each answered: the newest epoch among the answers is adopted.
   */
  async refreshConfiguration(timeoutMs = 2_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const asked: Promise<void>[] = [];
    for (const [link, id] of this.idOf) {
      if (!link.connected) continue;
      const rid = this.rid();
      const config: Message = { type: 'config', rid };
      asked.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.configWaits.delete(rid);
            resolve();
          }, timeoutMs);
          this.configWaits.set(rid, () => {
            clearTimeout(timer);
            this.configWaits.delete(rid);
            resolve();
          });
        }),
      );
      this.gate.noteSent(id, config);
      link.send(config);
    }
    await Promise.all(asked);
    // A removed replica named a newer configuration (onConfig): its members, linked to just now, answer the
    // `config` each link sends once it connects. Waited for (within `timeoutMs`), so that the read or
    // configuration() that asked goes on in the configuration they tell.
    while (!this.closed && (this.membership?.epoch ?? -1) < this.onward && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** @internal Request ids unique across this client's cores, so each reply matches one request. */
  readonly rid = (): number => this.nextRid++;

  /** @internal Milliseconds since the client started: the cores' clock. */
  now(): number {
    return performance.now() - this.started;
  }

  /**
   * Becomes the writer (a Paxos election). Rejects with NoQuorumError if no
   * quorum answers; aborted or timed out, the election is abandoned (the
   * writer it was making is released).
   */
  async writer(options?: CallOptions): Promise<Writer<T>> {
    this.checkOpen();
    return withDeadline('writer()', options, this.callDefaults, async (signal) => {
      const members = await this.knownMembers();
      if (signal.aborted) throw signal.reason;
      const w = Writer.create<T>(this, [...members]);
      this.writers.add(w);
      const abandon = (): void => w.failAll(new ClosedError('the election was abandoned (aborted or timed out)'));
      signal.addEventListener('abort', abandon, { once: true });
      try {
        await w.elect();
      } catch (err) {
        this.writers.delete(w);
        throw err;
      } finally {
        signal.removeEventListener('abort', abandon);
      }
      return w;
    });
  }

  /** The appended entries in [from, to] (positions holding NOPs or truncations are skipped). */
  async read(from: Position, to: Position, options?: CallOptions): Promise<LogEntry<T>[]> {
    return (await this.readThrough(from, to, options)).entries;
  }

  /**
   * @internal read(), with the last position it resolved: below `to` when the log holds nothing
   * acknowledged past it. `replog read` stops there: the end it read to is only an upper bound (the
   * highest any member of a quorum claimed), which may lie far above what the log holds.
   */
  async readThrough(from: Position, to: Position, options?: CallOptions): Promise<{ entries: LogEntry<T>[]; through: Position }> {
    assertArg(from, 'from');
    assertArg(to, 'to');
    if (to < from) return { entries: [], through: to };
    return withDeadline('read()', options, this.callDefaults, async (signal) => {
      const out: LogEntry<T>[] = [];
      let cursor = from;
      let through = from - 1;
      // One read op covers a bounded number of positions: loop until the range is done.
      while (!signal.aborted) {
        const r = await this.runRead({ type: 'read', from: cursor, to });
        // Not push(...entries): one read op may return hundreds of thousands, past the call stack's limit.
        for (const e of this.entriesOf(r.entries)) out.push(e);
        through = Math.max(through, r.through);
        if (r.through >= Math.min(to, r.end) || r.through < cursor) break;
        cursor = r.through + 1;
      }
      return { entries: out, through };
    });
  }

  /** The appends among chosen entries, as the application sees them (ownBytes, then the codec). */
  private entriesOf(chosen: readonly Entry[]): LogEntry<T>[] {
    const out: LogEntry<T>[] = [];
    for (const e of chosen) if (e.action.kind === 'append') out.push({ position: e.position, data: decodeEntry(this.codec, e.position, e.action.data) });
    return out;
  }

  /** @internal The chosen appends in [from, to] as actions (the writer settles its unknown writes with it). */
  async readActions(from: Position, to: Position): Promise<Entry[]> {
    const out: Entry[] = [];
    let cursor = from;
    for (;;) {
      const r = await this.runRead({ type: 'read', from: cursor, to });
      for (const e of r.entries) out.push(e);
      if (r.through >= Math.min(to, r.end) || r.through < cursor) return out;
      cursor = r.through + 1;
    }
  }

  /** The first position that is not truncated (never less than one this client reported before). */
  async beginning(options?: CallOptions): Promise<Position> {
    const begin = (await withDeadline('beginning()', options, this.callDefaults, () => this.runRead({ type: 'bounds' }))).begin;
    this.beginSeen = Math.max(this.beginSeen, begin);
    return this.beginSeen;
  }

  /** The highest position in use (at or above every acknowledged append); -1 for a new log. */
  async ending(options?: CallOptions): Promise<Position> {
    return (await withDeadline('ending()', options, this.callDefaults, () => this.runRead({ type: 'bounds' }))).end;
  }

  /**
   * Every entry from `from` on, waiting for new ones; ends when the client
   * closes, on `return()` (a `break` out of `for await`) even while waiting,
   * and on `options.signal` (rejecting with AbortedError). A tail outlives
   * slowness (issue 20, item 3): a read that fails with NoQuorumError while
   * this client is connected to a quorum of members is asked again (after a
   * pause), so the tail ends with NoQuorumError only when a quorum of members
   * is out of reach. (A number as second argument is the old `pollMs`.)
   */
  tail(from: Position = 0, options: TailOptions | number = {}): AsyncGenerator<LogEntry<T>, void, undefined> {
    assertArg(from, 'from');
    const opts: TailOptions & { pollMs?: number } = typeof options === 'number' ? { pollMs: options } : options;
    return new Tail((signal) => this.entriesFrom(from, opts, signal), opts.signal);
  }

  /**
   * As `tail()`, a batch at a time with where the log ended when it was read:
   * an event-sourced application replays batches until `through >= end`
   * (caught up), then goes on live. The first batch comes even if the log
   * holds nothing from `from` on, so an empty log is caught up at once.
   */
  tailBatches(from: Position = 0, options: TailOptions = {}): AsyncGenerator<TailBatch<T>, void, undefined> {
    assertArg(from, 'from');
    return new Tail((signal) => this.batchesFrom(from, options, signal), options.signal);
  }

  private async *entriesFrom(from: Position, options: TailOptions & { pollMs?: number }, signal: AbortSignal): AsyncGenerator<LogEntry<T>, void, undefined> {
    for await (const b of this.batchesFrom(from, options, signal)) yield* b.entries;
  }

  private async *batchesFrom(from: Position, options: TailOptions & { pollMs?: number }, signal: AbortSignal): AsyncGenerator<TailBatch<T>, void, undefined> {
    const pollMs = options.pollMs ?? 50;
    let cursor = from;
    let idleMs = 0;
    let caughtUpSaid = false;
    while (!this.closed && !signal.aborted) {
      let r: Extract<ReadResult, { ok: true }>;
      const mark = this.news.mark;
      try {
        r = await this.runRead({ type: 'read', from: cursor, to: cursor + limits.readSlotsMax - 1 });
      } catch (err) {
        if (this.closed || signal.aborted) return;
        if (!(err instanceof NoQuorumError) || !this.quorumConnected()) throw err;
        this.log.warn({ err: err.message, position: cursor }, 'tail: a read found no quorum although a quorum is connected: asking again');
        idleMs = Math.min(Math.max(pollMs, idleMs * 2), 1000);
        await sleep(idleMs, signal);
        continue;
      }
      if (signal.aborted) return;
      if (r.through >= cursor) {
        const entries = this.entriesOf(r.entries);
        cursor = r.through + 1;
        idleMs = 0;
        caughtUpSaid = r.through >= r.end;
        yield { entries, through: r.through, end: r.end };
        continue;
      }
      if (!caughtUpSaid && cursor - 1 >= r.end) {
        // Nothing from `from` on yet: say once that this is the end, so the application knows it caught up.
        caughtUpSaid = true;
        yield { entries: [], through: cursor - 1, end: r.end };
      }
      idleMs = Math.min(Math.max(pollMs, idleMs * 2), 1000);
      await this.waitForNews(cursor, mark, idleMs, signal);
    }
  }

  /**
   * Waits until the next poll, unless news comes first: this client's writer
   * had `cursor` chosen, or a replica that holds reads (docs/wire.md) rings
   * the doorbell once it has learned `cursor`. A replica that does not hold
   * reads answers at once with nothing new, and the poll timer decides.
   */
  private async waitForNews(cursor: Position, mark: Position, ms: number, signal: AbortSignal): Promise<void> {
    const done = new AbortController();
    const stop = (): void => done.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      await Promise.race([this.news.wait(cursor, mark, ms, done.signal), this.doorbell(cursor, ms, done.signal)]);
    } finally {
      signal.removeEventListener('abort', stop);
      done.abort();
    }
  }

  /** Resolves when a member tells it has learned `from` (a held read answered); never otherwise (until `signal`). */
  private doorbell(from: Position, waitMs: number, signal: AbortSignal): Promise<void> {
    const ids = this.membership?.ids ?? [];
    return new Promise((resolve) => {
      const rid = this.rid();
      const cleanup = (): void => {
        this.doorbells.delete(rid);
        signal.removeEventListener('abort', cleanup);
      };
      this.doorbells.set(rid, (reply) => {
        if (reply.learnedThrough >= from || reply.slots.some((s) => s.position === from && s.learned)) {
          cleanup();
          resolve();
        }
      });
      signal.addEventListener('abort', cleanup, { once: true });
      const msg: Message = { type: 'read', rid, from, to: from, limit: 1, waitMs: Math.max(1, Math.min(0xffff, Math.round(waitMs))) };
      this.send(ids.filter((id) => this.byId.get(id)?.connected === true).map((to) => ({ to, msg })));
    });
  }

  /** Closes every connection; pending operations fail with ClosedError. */
  close(): Promise<void> {
    // Every call returns the same promise: a second close() waits for the first to finish.
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  /** `await using log = await LogClient.connect(...)` closes the client at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async closeOnce(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const w of this.writers) w.failAll(new ClosedError('the client was closed'));
    for (const { resolve } of this.reads.values()) resolve({ ok: false, error: 'no-quorum' });
    this.reads.clear();
    for (const w of this.membershipWaiters.splice(0)) w.reject(new ClosedError('the client was closed'));
    await Promise.all([...this.links.values()].map((l) => l.close()));
  }

  // ------------------------------------------------------------------ plumbing for Writer

  /** @internal Sends core messages to members. */
  send(out: readonly { to: ReplicaId; msg: Message }[]): void {
    // The cores send one message object to several members in a row: encode it once.
    let last: Message | undefined;
    let frame: Buffer | undefined;
    for (const o of out) {
      this.gate.noteSent(o.to, o.msg);
      if ('rid' in o.msg) this.noteSent(o.to, o.msg.type, o.msg.rid);
      const link = this.byId.get(o.to);
      if (link === undefined) continue;
      if (o.msg !== last) {
        last = o.msg;
        frame = encodeFrame(o.msg);
      }
      link.sendFrame(frame!);
    }
  }

  /** @internal What every call of this client and its writers starts from (deadline.ts). */
  get callDefaults(): CallDefaults {
    return {
      timeoutMs: this.timeoutMs,
      slowMs: this.slowOperationMs,
      onSlow: this.listenerCount('slow') > 0 ? (e) => this.emit('slow', e) : undefined,
    };
  }

  /** A request sent again to the same member is a retransmission: reported as an event. */
  private noteSent(to: ReplicaId, type: string, rid: number): void {
    const key = `${to}:${rid}`;
    const n = (this.sentCount.get(key) ?? 0) + 1;
    this.sentCount.set(key, n);
    if (this.sentCount.size > 4096) this.sentCount.delete(this.sentCount.keys().next().value!);
    if (n > 1 && this.listenerCount('retransmit') > 0) this.emit('retransmit', { type, replica: to, count: n - 1 });
  }

  // ------------------------------------------------------------------ plumbing for the change relay (R12)

  /** @internal The members (voters and learners) this client is connected to: where changes are offered and taken. */
  connectedMembers(): ReplicaId[] {
    return (this.membership?.all ?? []).filter((id) => this.byId.get(id)?.connected === true);
  }

  /** @internal Sends a change relay message to member `to`; false if it is not connected. */
  sendRelay(to: ReplicaId, msg: ChangeMessage): boolean {
    if (msg.type === 'changeReport') {
      this.relayOutcomes.delete(msg.id);
      this.relayOutcomes.set(msg.id, msg.outcome);
      if (this.relayOutcomes.size > RELAY_MEMORY) this.relayOutcomes.delete(this.relayOutcomes.keys().next().value!);
    }
    const link = this.byId.get(to);
    return link !== undefined && link.connected && link.sendFrame(encodeChangeFrame(msg));
  }

  /**
   * @internal Offers a change to member `to` (or polls it: the same id again; or withdraws it); resolves
   * with what that replica holds of it, or undefined if it did not answer within `timeoutMs`.
   */
  offerChange(to: ReplicaId, request: ChangeRequest, withdraw: boolean, timeoutMs: number): Promise<ChangeOfferReply | undefined> {
    const rid = this.rid();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.offerWaits.delete(rid);
        resolve(undefined);
      }, timeoutMs);
      this.offerWaits.set(rid, (reply) => {
        clearTimeout(timer);
        this.offerWaits.delete(rid);
        resolve(reply);
      });
      if (!this.sendRelay(to, { type: 'changeOffer', rid, request, ...(withdraw ? { withdraw: true as const } : {}) })) {
        clearTimeout(timer);
        this.offerWaits.delete(rid);
        resolve(undefined);
      }
    });
  }

  /** @internal `writer.members`: the membership changes, made by `writer` only. */
  membersFor(writer: Writer<T>): Members {
    return new Members(this as LogClient<unknown>, () => this.tls, writer as Writer<unknown>);
  }

  /** @internal An elected writer of this client, if it holds one: `log.members` gives it changes directly (no fence). */
  heldWriter(): Writer<T> | undefined {
    for (const w of this.writers) if (w.state === 'elected') return w;
    return undefined;
  }

  /** A change relay frame from a replica: offer replies to their askers, take replies to the writers. */
  private onRelayFrame(link: PeerLink, payload: Buffer): void {
    const msg = decodeChangeMessage(payload);
    if (this.closed) return;
    const from = this.idOf.get(link);
    if (from === undefined || this.byId.get(from) !== link || this.membership?.all.includes(from) !== true) {
      // A link that no longer speaks for a member (replaced, or the member removed): no writer takes
      // from it, but the replica marked what it handed over taken by this connection.
      if (msg.type === 'changeTakeReply') this.disown(link, msg.requests);
      return;
    }
    if (msg.type === 'changeOfferReply') this.offerWaits.get(msg.rid)?.(msg);
    else if (msg.type === 'changeTakeReply') {
      let claimed = false;
      for (const w of this.writers) claimed = w.onTakeReply(from, msg) || claimed;
      if (!claimed) this.disown(link, msg.requests);
    }
    // A replica sends clients nothing else of the relay's: anything else is ignored.
  }

  /**
   * Changes handed over in a take reply no writer of this client claims (its writer stopped, or is in
   * doubt, before the reply came): the replica marked them taken by this connection, so it is told, on
   * that connection, what became of each, and their asker goes on. A change a live writer of this client
   * took (from another replica) is left to it. One a writer of this client reported: that outcome (a
   * writer that stops reports `unknown` for each it took and did not settle). Else no core saw it: not
   * made (`fenced`: the asker makes it itself).
   */
  private disown(link: PeerLink, requests: readonly ChangeRequest[]): void {
    for (const r of requests) {
      if ([...this.writers].some((w) => w.tookRelayed(r.id))) continue;
      const outcome: RelayOutcome = this.relayOutcomes.get(r.id) ?? {
        ok: false,
        reason: 'fenced',
        message: 'the writer that asked for the change stopped before it took it: nothing was written',
      };
      link.sendFrame(encodeChangeFrame({ type: 'changeReport', id: r.id, outcome }));
    }
  }

  /** @internal */
  forgetWriter(w: Writer<T>): void {
    this.writers.delete(w);
  }

  /** @internal */
  checkOpen(): void {
    if (this.closed) throw new ClosedError('the client was closed');
    if (this.conflict !== undefined) throw this.conflict;
  }

  // ------------------------------------------------------------------ membership

  private addLink(address: string): void {
    if (this.links.has(address)) return;
    const link: PeerLink = new PeerLink({
      address,
      clusterId: this.clusterId,
      log: this.log,
      tls: this.tls,
      onRefused: (reason, message) => this.onRefused({ address, reason, message }),
      onMessage: (msg) => this.onMessage(link, msg),
      // The change relay's replies (wire version 5, docs/reconfiguration.md R12): outside the core's messages.
      extension: { codes: CHANGE_CODES, onFrame: (payload) => this.onRelayFrame(link, payload) },
      onConnect: (peer) => {
        this.linkErrors.delete(address);
        this.refusedBy.delete(address);
        if (this.clusterId === '') this.clusterId = peer.clusterId;
        else if (peer.clusterId !== this.clusterId) {
          this.linkErrors.set(address, `belongs to cluster ${peer.clusterId}, not ${this.clusterId}`);
          this.log.error({ address, cluster: peer.clusterId, expected: this.clusterId }, 'replica belongs to another cluster: ignoring it');
          void link.close();
          return;
        }
        if (peer.role !== 'replica' || peer.replicaId === undefined) {
          this.linkErrors.set(address, 'is not a replica');
          void link.close();
          return;
        }
        if (this.gate.isDropped(peer.replicaId)) {
          void link.close();
          return;
        }
        this.identify(link, peer.replicaId);
        this.emit('connect', { replica: peer.replicaId, address });
        const config: Message = { type: 'config', rid: this.rid() };
        this.gate.noteSent(peer.replicaId, config);
        link.send(config);
        // What the writers sent this member before its link was up was not sent (`send` skips it).
        for (const w of this.writers) w.onReachable(peer.replicaId);
      },
      onDisconnect: (reason) => {
        this.linkErrors.set(address, reason);
        if (!this.closed) this.emit('disconnect', { replica: this.idOf.get(link), address, reason });
        // Bytes that do not decode (a field beyond its sanity bound, 200,000 slots) or that broke the
        // client's handling: the replica is not to be trusted again.
        const id = this.idOf.get(link);
        if (id !== undefined && /^(bad input|internal error)/.test(reason)) this.gate.dropMember(id, `sent a message that breaks the protocol (${reason.split('\n')[0]})`);
      },
    });
    this.links.set(address, link);
  }

  /** A connection was refused for its transport or certificate: once every address refused, waiting for members is hopeless. */
  private onRefused(refusal: ConnectionRefusal): void {
    this.linkErrors.set(refusal.address, refusal.message);
    this.refusedBy.set(refusal.address, refusal);
    if (this.membership !== undefined || [...this.links.keys()].some((a) => !this.refusedBy.has(a))) return;
    const err = this.refusedError();
    for (const w of this.membershipWaiters.splice(0)) w.reject(err);
  }

  /** Every address refused: the error says why in one line, its cause lists each refusal (ConnectionRefusedError). */
  private refusedError(): ReplogError {
    return new ReplogError(this.describeRefusals(), { cause: new ConnectionRefusedError([...this.refusedBy.values()]) });
  }

  /** One line for refusals by every address: the reason once if they all gave the same. */
  private describeRefusals(): string {
    const reasons = new Set([...this.refusedBy.keys()].map((a) => this.linkErrors.get(a)));
    if (reasons.size === 1) return `every replica (${[...this.refusedBy.keys()].join(', ')}) refused the connection: ${[...reasons][0]}`;
    return `every replica refused the connection: ${this.unreachable()}`;
  }

  /**
   * A handshake named this link's replica. A link reconnects to its address, and the replica there may be
   * another one now (its member moved away with `member update`, a new member took the address): the link
   * no longer speaks for the member it reached before. Left speaking for it, that member's requests went to
   * the new replica (dropped as hostile for answering them) and, the link being connected, the member's
   * new address was never linked.
   */
  private identify(link: PeerLink, id: ReplicaId): void {
    const before = this.idOf.get(link);
    if (before !== undefined && before !== id && this.byId.get(before) === link) {
      this.byId.delete(before);
      // Another link that reaches it speaks for it, else one to its address in the configuration (tick).
      for (const [other, i] of this.idOf) if (i === before && other !== link && other.connected) this.byId.set(before, other);
      const m = this.membership?.members.find((x) => x.id === before);
      if (m !== undefined && !this.byId.has(before)) this.addLink(m.address);
    }
    this.idOf.set(link, id);
    const current = this.byId.get(id);
    if (current === undefined || !current.connected) this.byId.set(id, link);
  }

  private onConfig(from: ReplicaId, reply: ConfigReply): void {
    this.pendingBy.set(from, reply.pending);
    this.configWaits.get(reply.rid)?.();
    const voters = reply.voters ?? reply.members;
    const learners = reply.learners ?? [];
    const all = [...voters, ...learners];
    const cur = this.membership;
    if (!all.some((m) => m.id === from)) {
      // A removed replica answers with the configuration that removed it (R7): it no longer speaks for the
      // log, but that configuration points onward (R13): its members are linked to, and their own answers
      // (each naming itself) are what is adopted. Ignored outright, a client whose every known member was
      // replaced while it was away never found the cluster again.
      this.log.info({ replica: from, epoch: reply.epoch }, 'a replica sent a configuration that does not include it (removed?): asking its members');
      if (cur === undefined || reply.epoch > cur.epoch) {
        this.onward = Math.max(this.onward, reply.epoch);
        for (const m of all) if (!this.byId.has(m.id)) this.addLink(m.address);
      }
      return;
    }
    if (cur !== undefined) {
      if (reply.epoch < cur.epoch) return;
      if (reply.epoch === cur.epoch) {
        if (!sameMembers(cur.members, all)) {
          this.fail(
            new ReplogError(
              `the replicas disagree about the membership: ${describe(cur.members)} against ${describe(all)} (replica ${from}); ` +
                'check their --members flags',
            ),
          );
        }
        return;
      }
    }
    // The chain's own head keeps the request id that made it (members.ts reads it after a hand-off race).
    const changeId = reply.chain?.at(-1)?.epoch === reply.epoch ? reply.chain.at(-1)!.changeId : undefined;
    const head: PlacedConfiguration = {
      epoch: reply.epoch,
      voters,
      learners,
      nextId: reply.nextId ?? Math.max(0, ...all.map((m) => m.id)) + 1,
      position: reply.position ?? -1,
      floor: 0,
      ...(changeId === undefined ? {} : { changeId }),
    };
    const chain = reply.chain !== undefined && reply.chain.length > 0 && reply.chain[reply.chain.length - 1]!.epoch === reply.epoch ? [...reply.chain.slice(0, -1), head] : [head];
    this.adopt(chain);
  }

  /** Takes `chain` (oldest first) as the membership: its head's voters count, every member is connected to. */
  private adopt(chain: readonly PlacedConfiguration[]): void {
    const head = chain[chain.length - 1]!;
    const members = [...head.voters, ...head.learners].sort((a, b) => a.id - b.id);
    const ids = head.voters.map((m) => m.id).sort((a, b) => a - b);
    this.membership = { epoch: head.epoch, members, ids, all: members.map((m) => m.id), voters: head.voters, learners: head.learners, chain };
    // Connect to every member (the seeds may have been only some of them).
    for (const m of members) if (!this.byId.has(m.id)) this.addLink(m.address);
    this.reader ??= new ReaderCore({ view: this.configView()!, random: Math.random, rid: this.rid, proposalFloor: () => this.highestProposalSeen });
    for (const w of this.membershipWaiters.splice(0)) w.resolve();
    this.checkSaneQuorum();
  }

  /** A replica sent nonsense (ReplyGate): it is ignored from now on, and without a quorum of the others nothing can succeed. */
  private onDropped(id: ReplicaId, why: string): void {
    const address = [...this.idOf].find(([, i]) => i === id)?.[0].address ?? '?';
    this.droppedWhy.set(id, `replica ${id} (${address}) ${why}`);
    this.log.error({ replica: id, address, why }, `replica ${id} at ${address} ${why}: dropping it`);
    for (const [link, i] of this.idOf) if (i === id) void link.close();
    this.checkSaneQuorum();
  }

  /**
   * Fails every operation, now and later, once the dropped replicas leave no quorum. Only the voters of the
   * configuration now count: a dropped replica that was removed since is no voter that fails to answer
   * (counted, removing a liar from three voters left "no quorum" of the two sane ones, for good).
   */
  private checkSaneQuorum(): void {
    const ids = this.membership?.ids;
    if (ids === undefined || this.droppedWhy.size === 0) return;
    const dropped = ids.filter((id) => this.gate.isDropped(id));
    if (ids.length - dropped.length >= quorumSize(ids.length)) return;
    this.fail(new NoQuorumError(`no quorum of sane replicas remains: ${dropped.map((id) => this.droppedWhy.get(id)).join('; ')}`));
  }

  private fail(err: ReplogError): void {
    if (this.conflict !== undefined) return;
    this.conflict = err;
    this.log.error({ err: err.message }, 'refusing to run');
    for (const w of this.writers) w.failAll(err);
    for (const { resolve } of this.reads.values()) resolve({ ok: false, error: 'no-quorum' });
    this.reads.clear();
    for (const w of this.membershipWaiters.splice(0)) w.reject(err);
  }

  /** The member ids, waiting (up to the operation timeout) for a replica to tell them. */
  private async knownMembers(): Promise<readonly ReplicaId[]> {
    if (this.membership !== undefined) return this.membership.ids;
    if (this.refusedBy.size === this.links.size) throw this.refusedError();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.membershipWaiters.findIndex((w) => w.resolve === done);
        if (i >= 0) this.membershipWaiters.splice(i, 1);
        reject(new NoQuorumError(`no replica answered: ${this.unreachable()}`));
      }, timing.operationTimeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.membershipWaiters.push({
        resolve: done,
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
    this.checkOpen();
    return this.membership!.ids;
  }

  private unreachable(): string {
    const why = [...this.links.keys()].map((a) => `${a} ${this.linkErrors.get(a) ?? 'did not answer'}`);
    return why.join('; ');
  }

  // ------------------------------------------------------------------ internals

  private async runRead(req: { type: 'read'; from: Position; to: Position } | { type: 'bounds' }): Promise<Extract<ReadResult, { ok: true }>> {
    // A read that meets a newer configuration than this client knows (a change made meanwhile) asks the
    // replicas for it and reads again in it (R12); a few times at most.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.runReadOnce(req, attempt < 3);
      } catch (err) {
        if (!(err instanceof StaleConfig)) throw err;
        await this.refreshConfiguration();
      }
    }
  }

  private async runReadOnce(req: { type: 'read'; from: Position; to: Position } | { type: 'bounds' }, retryStale: boolean): Promise<Extract<ReadResult, { ok: true }>> {
    this.checkOpen();
    await this.knownMembers();
    const id = this.nextOp++;
    return new Promise((resolve, reject) => {
      this.reads.set(id, {
        resolve: (r) => {
          if (r.ok) resolve(r);
          else if (this.closed) reject(new ClosedError('the client was closed'));
          else if (this.conflict !== undefined) reject(this.conflict);
          else if (r.error === 'stale-config' && retryStale) reject(new StaleConfig());
          else if (r.error === 'truncated') reject(new TruncatedError(`position ${req.type === 'read' ? req.from : 0} is below the log's beginning ${r.begin}: it was truncated`));
          else reject(new NoQuorumError(`no quorum of VOTING replicas answered (members: ${this.describeMembers()})`));
        },
      });
      const event = req.type === 'read' ? { type: 'read' as const, id, from: req.from, to: req.to } : { type: 'bounds' as const, id };
      this.applyReader(this.reader!.step(event, this.now()));
    });
  }

  /** Whether this client's links reach a quorum of the members (handshaken and open). */
  private quorumConnected(): boolean {
    const ids = this.membership?.ids ?? [];
    const connected = ids.filter((id) => this.byId.get(id)?.connected === true).length;
    return ids.length > 0 && connected >= quorumSize(ids.length);
  }

  private describeMembers(): string {
    return (this.membership?.members ?? []).map((m) => `${m.id}=${m.address}${this.byId.get(m.id)?.connected ? '' : ' (unreachable)'}`).join(', ');
  }

  private applyReader(out: { send: ReaderOutbound[]; done: { id: number; result: ReadResult }[] }): void {
    this.send(out.send);
    for (const d of out.done) {
      const p = this.reads.get(d.id);
      this.reads.delete(d.id);
      p?.resolve(d.result);
    }
  }

  private onMessage(link: PeerLink, msg: Message): void {
    if (this.closed) return;
    const from = this.idOf.get(link);
    if (from === undefined || this.gate.isDropped(from)) return;
    if (msg.type === 'configReply') return this.onConfig(from, msg);
    // Only members speak for the log, and only through the link chosen for them.
    if (this.byId.get(from) !== link || this.membership?.all.includes(from) !== true) return;
    this.gate.receive(from, msg);
  }

  /** A reply the gate found sane. */
  private onReply(from: ReplicaId, msg: Message): void {
    if (this.closed) return;
    if (msg.type === 'promiseReply' || msg.type === 'writeReply') {
      this.highestProposalSeen = Math.max(this.highestProposalSeen, msg.proposal);
    }
    if (msg.type === 'readReply' && this.doorbells.has(msg.rid)) return this.doorbells.get(msg.rid)!(msg);
    if (msg.type === 'promiseReply' || msg.type === 'writeReply' || msg.type === 'readReply') {
      for (const w of this.writers) w.onReply(from, msg);
      if (this.reader !== undefined && this.reader.pending > 0) this.applyReader(this.reader.step({ type: 'reply', from, msg }, this.now()));
    }
  }

  private tick(): void {
    const now = this.now();
    const m = this.membership;
    if (m !== undefined && now - this.configAskedAt >= timing.configRefreshMs) {
      // R12: follow changes while idle; the replies adopt a newer configuration and link to its members.
      this.configAskedAt = now;
      void this.refreshConfiguration();
      // A member this client cannot reach where it first found it, at another address in the configuration
      // (moved by `member update`): linked there too.
      for (const x of m.members) if (this.byId.get(x.id)?.connected !== true && !this.links.has(x.address)) this.addLink(x.address);
    }
    // A member whose link was lost is spoken for by another link that reaches it, if there is one.
    for (const [link, id] of this.idOf) if (link.connected && this.byId.get(id)?.connected !== true) this.byId.set(id, link);
    for (const w of this.writers) w.tick(now);
    if (this.reader !== undefined && this.reader.pending > 0) this.applyReader(this.reader.step({ type: 'tick' }, now));
  }
}

/** A read ended at a configuration newer than the client's: refreshed and read again (runRead). */
class StaleConfig extends Error {}

function sameMembers(a: readonly Member[], b: readonly Member[]): boolean {
  if (a.length !== b.length) return false;
  const ids = new Set(a.map((m) => m.id));
  return b.every((m) => ids.has(m.id));
}

function describe(members: readonly Member[]): string {
  return `{${members.map((m) => m.id).sort((x, y) => x - y).join(', ')}}`;
}

function assertArg(n: unknown, what: string): asserts n is number {
  try {
    assertNat(n, what);
  } catch {
    throw new InvalidArgumentError(`${what} must be a non-negative safe integer, got ${String(n)}`);
  }
}

export { ReplogError, WriterFencedError, NoQuorumError, TruncatedError };
