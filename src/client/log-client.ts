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
import type { ConfigReply, Entry, Member, Message, Position, ReplicaId } from '../core/types.js';
import { silentLogger, type NetLogger } from '../net/logger.js';
import { encodeFrame } from '../net/codec.js';
import { PeerLink } from '../net/peer-link.js';
import { TlsCredentials, type TlsOptions } from '../net/tls.js';
import { ReplyGate } from './reply-gate.js';
import { Writer } from './writer.js';

export interface LogEntry {
  readonly position: Position;
  readonly data: Uint8Array;
}

export interface LogClientOptions {
  /** The cluster id to require; by default learned from the first replica that answers. */
  readonly clusterId?: string;
  readonly log?: NetLogger;
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

/** Default addresses: the local cluster of `npm start`. */
export const DEFAULT_ADDRESSES = ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003'];

/** The membership, as the replicas told it. */
interface Membership {
  readonly epoch: number;
  readonly members: readonly Member[];
  readonly ids: readonly ReplicaId[];
}

export class LogClient {
  /** Every link, by the address it dials. */
  private readonly links = new Map<string, PeerLink>();
  /** The link that speaks for each member (the first whose handshake named it). */
  private readonly byId = new Map<ReplicaId, PeerLink>();
  private readonly idOf = new Map<PeerLink, ReplicaId>();
  private reader: ReaderCore | undefined;
  private readonly reads = new Map<number, { resolve: (r: ReadResult) => void }>();
  private readonly writers = new Set<Writer>();
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
  private readonly log: NetLogger;
  private readonly tls: TlsCredentials | undefined;
  /** Addresses whose last connection attempt was refused for its transport or certificate. */
  private readonly refusedBy = new Set<string>();
  /** The highest beginning reported: beginning() never goes backwards within a client. */
  private beginSeen = 0;
  /** The highest proposal any reply showed: a new writer starts above it. */
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

  private constructor(
    readonly addresses: readonly string[],
    options: LogClientOptions,
  ) {
    this.clusterId = options.clusterId ?? '';
    this.log = options.log ?? silentLogger;
    this.tls = options.tls === undefined ? undefined : new TlsCredentials(options.tls);
    for (const address of new Set(addresses)) this.addLink(address);
    this.timer = setInterval(() => this.tick(), options.tickMs ?? 20);
    this.timer.unref();
  }

  /** Connects to the replicas at `addresses` (`host:port` each). Connections are made in the background. */
  static async connect(addresses: readonly string[] = DEFAULT_ADDRESSES, options: LogClientOptions = {}): Promise<LogClient> {
    if (addresses.length === 0) throw new InvalidArgumentError('at least one replica address is needed');
    const client = new LogClient(addresses, options);
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

  /** The member ids, once a replica told them (empty before). */
  get members(): readonly ReplicaId[] {
    return this.membership?.ids ?? [];
  }

  /**
   * The cluster's configuration as the replicas tell it (interfaces.md,
   * "Membership"): its epoch, the voters and the learners with their
   * addresses. Until reconfiguration lands (docs/reconfiguration.md) every
   * member is a voter and the epoch is 0.
   */
  async configuration(): Promise<Configuration> {
    this.checkOpen();
    await this.knownMembers();
    const m = this.membership!;
    return { epoch: m.epoch, voters: m.members.map((x) => ({ id: x.id, address: x.address })), learners: [] };
  }

  /** Request ids unique across this client's cores, so each reply matches one request. */
  readonly rid = (): number => this.nextRid++;

  /** Milliseconds since the client started: the cores' clock. */
  now(): number {
    return performance.now() - this.started;
  }

  /** Becomes the writer (a Paxos election). Rejects with NoQuorumError if no quorum answers. */
  async writer(): Promise<Writer> {
    this.checkOpen();
    const members = await this.knownMembers();
    const w = new Writer(this, [...members]);
    this.writers.add(w);
    try {
      await w.elect();
    } catch (err) {
      this.writers.delete(w);
      throw err;
    }
    return w;
  }

  /** The appended entries in [from, to] (positions holding NOPs or truncations are skipped). */
  async read(from: Position, to: Position): Promise<LogEntry[]> {
    assertArg(from, 'from');
    assertArg(to, 'to');
    if (to < from) return [];
    const out: LogEntry[] = [];
    let cursor = from;
    // One read op covers a bounded number of positions: loop until the range is done.
    for (;;) {
      const r = await this.runRead({ type: 'read', from: cursor, to });
      for (const e of r.entries) if (e.action.kind === 'append') out.push({ position: e.position, data: e.action.data });
      if (r.through >= Math.min(to, r.end) || r.through < cursor) return out;
      cursor = r.through + 1;
    }
  }

  /** @internal Every chosen action in [from, to], NOPs and truncations included (the writer settles its unknown writes with it). */
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
  async beginning(): Promise<Position> {
    const begin = (await this.runRead({ type: 'bounds' })).begin;
    this.beginSeen = Math.max(this.beginSeen, begin);
    return this.beginSeen;
  }

  /** The highest position in use (at or above every acknowledged append); -1 for a new log. */
  async ending(): Promise<Position> {
    return (await this.runRead({ type: 'bounds' })).end;
  }

  /**
   * Every entry from `from` on, waiting for new ones; ends when the client
   * closes. A tail outlives slowness (issue 20, item 3): a read that fails
   * with NoQuorumError while this client is connected to a quorum of members
   * is asked again (after a pause), so the tail ends with NoQuorumError only
   * when a quorum of members is out of reach.
   */
  async *tail(from: Position = 0, pollMs = 50): AsyncGenerator<LogEntry> {
    assertArg(from, 'from');
    let cursor = from;
    let idleMs = 0;
    while (!this.closed) {
      let r: Extract<ReadResult, { ok: true }>;
      try {
        r = await this.runRead({ type: 'read', from: cursor, to: cursor + limits.readSlotsMax - 1 });
      } catch (err) {
        if (this.closed) return;
        if (!(err instanceof NoQuorumError) || !this.quorumConnected()) throw err;
        this.log.warn({ err: err.message, position: cursor }, 'tail: a read found no quorum although a quorum is connected: asking again');
        idleMs = Math.min(Math.max(pollMs, idleMs * 2), 1000);
        await new Promise((res) => setTimeout(res, idleMs));
        continue;
      }
      for (const e of r.entries) if (e.action.kind === 'append') yield { position: e.position, data: e.action.data };
      if (r.through >= cursor) {
        cursor = r.through + 1;
        idleMs = 0;
      } else {
        idleMs = Math.min(Math.max(pollMs, idleMs * 2), 1000);
        await new Promise((res) => setTimeout(res, idleMs));
      }
    }
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
      const link = this.byId.get(o.to);
      if (link === undefined) continue;
      if (o.msg !== last) {
        last = o.msg;
        frame = encodeFrame(o.msg);
      }
      link.sendFrame(frame!);
    }
  }

  /** @internal */
  forgetWriter(w: Writer): void {
    this.writers.delete(w);
  }

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
      onRefused: (_reason, message) => this.onRefused(address, message),
      onMessage: (msg) => this.onMessage(link, msg),
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
        const config: Message = { type: 'config', rid: this.rid() };
        this.gate.noteSent(peer.replicaId, config);
        link.send(config);
      },
      onDisconnect: (reason) => {
        this.linkErrors.set(address, reason);
        // Bytes that do not decode (a field beyond its sanity bound, 200,000 slots) or that broke the
        // client's handling: the replica is not to be trusted again.
        const id = this.idOf.get(link);
        if (id !== undefined && /^(bad input|internal error)/.test(reason)) this.gate.dropMember(id, `sent a message that breaks the protocol (${reason.split('\n')[0]})`);
      },
    });
    this.links.set(address, link);
  }

  /** A connection was refused for its transport or certificate: once every address refused, waiting for members is hopeless. */
  private onRefused(address: string, message: string): void {
    this.linkErrors.set(address, message);
    this.refusedBy.add(address);
    if (this.membership !== undefined || [...this.links.keys()].some((a) => !this.refusedBy.has(a))) return;
    const err = new ReplogError(this.describeRefusals());
    for (const w of this.membershipWaiters.splice(0)) w.reject(err);
  }

  /** One line for refusals by every address: the reason once if they all gave the same. */
  private describeRefusals(): string {
    const reasons = new Set([...this.refusedBy].map((a) => this.linkErrors.get(a)));
    if (reasons.size === 1) return `every replica (${[...this.refusedBy].join(', ')}) refused the connection: ${[...reasons][0]}`;
    return `every replica refused the connection: ${this.unreachable()}`;
  }

  /** A handshake named this link's replica. */
  private identify(link: PeerLink, id: ReplicaId): void {
    this.idOf.set(link, id);
    const current = this.byId.get(id);
    if (current === undefined || !current.connected) this.byId.set(id, link);
  }

  private onConfig(from: ReplicaId, reply: ConfigReply): void {
    const ids = reply.members.map((m) => m.id).sort((a, b) => a - b);
    if (!ids.includes(from)) {
      this.log.error({ replica: from }, 'a replica sent a membership that does not include itself: ignoring it');
      return;
    }
    const cur = this.membership;
    if (cur !== undefined) {
      if (reply.epoch < cur.epoch) return;
      if (reply.epoch === cur.epoch) {
        if (!sameMembers(cur.members, reply.members)) {
          this.fail(
            new ReplogError(
              `the replicas disagree about the membership: ${describe(cur.members)} against ${describe(reply.members)} (replica ${from}); ` +
                'check their --members flags',
            ),
          );
        }
        return;
      }
    }
    this.membership = { epoch: reply.epoch, members: reply.members, ids };
    // Connect to every member (the seeds may have been only some of them).
    for (const m of reply.members) if (!this.byId.has(m.id)) this.addLink(m.address);
    this.reader = new ReaderCore({ members: ids, random: Math.random, rid: this.rid, proposalFloor: () => this.highestProposalSeen });
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

  /** Fails every operation, now and later, once the dropped replicas leave no quorum. */
  private checkSaneQuorum(): void {
    const ids = this.membership?.ids;
    if (ids === undefined || this.droppedWhy.size === 0) return;
    if (ids.length - this.gate.droppedCount >= quorumSize(ids.length)) return;
    this.fail(new NoQuorumError(`no quorum of sane replicas remains: ${[...this.droppedWhy.values()].join('; ')}`));
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
    if (this.refusedBy.size === this.links.size) throw new ReplogError(this.describeRefusals());
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
    this.checkOpen();
    await this.knownMembers();
    const id = this.nextOp++;
    return new Promise((resolve, reject) => {
      this.reads.set(id, {
        resolve: (r) => {
          if (r.ok) resolve(r);
          else if (this.closed) reject(new ClosedError('the client was closed'));
          else if (this.conflict !== undefined) reject(this.conflict);
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
    if (this.byId.get(from) !== link || this.membership?.ids.includes(from) !== true) return;
    this.gate.receive(from, msg);
  }

  /** A reply the gate found sane. */
  private onReply(from: ReplicaId, msg: Message): void {
    if (this.closed) return;
    if (msg.type === 'promiseReply' || msg.type === 'writeReply') {
      this.highestProposalSeen = Math.max(this.highestProposalSeen, msg.proposal);
    }
    if (msg.type === 'promiseReply' || msg.type === 'writeReply' || msg.type === 'readReply') {
      for (const w of this.writers) w.onReply(from, msg);
      if (this.reader !== undefined && this.reader.pending > 0) this.applyReader(this.reader.step({ type: 'reply', from, msg }, this.now()));
    }
  }

  private tick(): void {
    const now = this.now();
    // A member whose link was lost is spoken for by another link that reaches it, if there is one.
    for (const [link, id] of this.idOf) if (link.connected && this.byId.get(id)?.connected !== true) this.byId.set(id, link);
    for (const w of this.writers) w.tick(now);
    if (this.reader !== undefined && this.reader.pending > 0) this.applyReader(this.reader.step({ type: 'tick' }, now));
  }
}

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
