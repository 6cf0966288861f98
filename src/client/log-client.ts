/**
 * LogClient: the library's entry point. It connects to the replicas and runs
 * the proposer and learner cores (WriterCore, ReaderCore) against them: the
 * cores decide, this shell moves their messages over PeerLinks, drives their
 * clocks with a timer, and turns their results into promises.
 *
 * Replica ids inside the client are the 1-based indexes of the addresses it
 * was given; the cores only need distinct tags per member.
 */
import { ClosedError, InvalidArgumentError, NoQuorumError, ReplogError, TruncatedError, WriterFencedError } from '../core/errors.js';
import { assertNat } from '../core/assert.js';
import { limits } from '../core/constants.js';
import { ReaderCore, type ReaderOutbound, type ReadResult } from '../core/reader.js';
import type { Message, Position, ReplicaId } from '../core/types.js';
import { silentLogger, type NetLogger } from '../net/logger.js';
import { encodeFrame } from '../net/codec.js';
import { PeerLink } from '../net/peer-link.js';
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
}

/** Default addresses: the local cluster of `npm start`. */
export const DEFAULT_ADDRESSES = ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003'];

export class LogClient {
  private readonly links = new Map<ReplicaId, PeerLink>();
  private readonly reader: ReaderCore;
  private readonly reads = new Map<number, { resolve: (r: ReadResult) => void }>();
  private readonly writers = new Set<Writer>();
  private readonly timer: NodeJS.Timeout;
  private nextRid = 1;
  private nextOp = 1;
  private closed = false;
  private clusterId: string;
  /** The highest proposal any reply showed: a new writer starts above it. */
  highestProposalSeen = 0;
  readonly members: ReplicaId[];
  private readonly started = performance.now();

  private constructor(
    readonly addresses: readonly string[],
    options: LogClientOptions,
  ) {
    this.clusterId = options.clusterId ?? '';
    this.members = addresses.map((_, i) => i + 1);
    this.reader = new ReaderCore({ members: this.members, random: Math.random, rid: this.rid, proposalFloor: () => this.highestProposalSeen });
    addresses.forEach((address, i) => {
      const id = i + 1;
      const link = new PeerLink({
        address,
        clusterId: this.clusterId,
        log: options.log ?? silentLogger,
        onMessage: (msg) => this.onMessage(id, msg),
        onConnect: (peer) => {
          if (this.clusterId === '') this.clusterId = peer.clusterId;
          else if (peer.clusterId !== this.clusterId) {
            (options.log ?? silentLogger).error({ address, cluster: peer.clusterId, expected: this.clusterId }, 'replica belongs to another cluster: ignoring it');
            void link.close();
          }
        },
      });
      this.links.set(id, link);
    });
    this.timer = setInterval(() => this.tick(), options.tickMs ?? 20);
    this.timer.unref();
  }

  /** Connects to the replicas at `addresses` (`host:port` each). Connections are made in the background. */
  static async connect(addresses: readonly string[] = DEFAULT_ADDRESSES, options: LogClientOptions = {}): Promise<LogClient> {
    if (addresses.length === 0) throw new InvalidArgumentError('at least one replica address is needed');
    return new LogClient(addresses, options);
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
    const w = new Writer(this, this.members);
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

  /** The first position that is not truncated. */
  async beginning(): Promise<Position> {
    return (await this.runRead({ type: 'bounds' })).begin;
  }

  /** The highest position in use (at or above every acknowledged append); -1 for a new log. */
  async ending(): Promise<Position> {
    return (await this.runRead({ type: 'bounds' })).end;
  }

  /** Every entry from `from` on, waiting for new ones; ends when the client closes. */
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
        throw err;
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
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const w of this.writers) w.failAll(new ClosedError('the client was closed'));
    for (const { resolve } of this.reads.values()) resolve({ ok: false, error: 'no-quorum' });
    this.reads.clear();
    await Promise.all([...this.links.values()].map((l) => l.close()));
  }

  // ------------------------------------------------------------------ plumbing for Writer

  /** @internal Sends core messages to members. */
  send(out: readonly { to: ReplicaId; msg: Message }[]): void {
    // The cores send one message object to several members in a row: encode it once.
    let last: Message | undefined;
    let frame: Buffer | undefined;
    for (const o of out) {
      const link = this.links.get(o.to);
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
  }

  // ------------------------------------------------------------------ internals

  private runRead(req: { type: 'read'; from: Position; to: Position } | { type: 'bounds' }): Promise<Extract<ReadResult, { ok: true }>> {
    this.checkOpen();
    const id = this.nextOp++;
    return new Promise((resolve, reject) => {
      this.reads.set(id, {
        resolve: (r) => {
          if (r.ok) resolve(r);
          else if (this.closed) reject(new ClosedError('the client was closed'));
          else if (r.error === 'truncated') reject(new TruncatedError(`position ${req.type === 'read' ? req.from : 0} is below the log's beginning ${r.begin}: it was truncated`));
          else reject(new NoQuorumError(`no quorum of VOTING replicas answered (replicas: ${this.addresses.join(', ')})`));
        },
      });
      const event = req.type === 'read' ? { type: 'read' as const, id, from: req.from, to: req.to } : { type: 'bounds' as const, id };
      this.applyReader(this.reader.step(event, this.now()));
    });
  }

  private applyReader(out: { send: ReaderOutbound[]; done: { id: number; result: ReadResult }[] }): void {
    this.send(out.send);
    for (const d of out.done) {
      const p = this.reads.get(d.id);
      this.reads.delete(d.id);
      p?.resolve(d.result);
    }
  }

  private onMessage(from: ReplicaId, msg: Message): void {
    if (this.closed) return;
    if (msg.type === 'promiseReply' || msg.type === 'writeReply') {
      this.highestProposalSeen = Math.max(this.highestProposalSeen, msg.proposal);
      for (const w of this.writers) w.onReply(from, msg);
    }
    if (msg.type === 'readReply' || msg.type === 'promiseReply' || msg.type === 'writeReply') {
      if (this.reader.pending > 0) this.applyReader(this.reader.step({ type: 'reply', from, msg }, this.now()));
    }
  }

  private tick(): void {
    const now = this.now();
    for (const w of this.writers) w.tick(now);
    if (this.reader.pending > 0) this.applyReader(this.reader.step({ type: 'tick' }, now));
  }
}

function assertArg(n: unknown, what: string): asserts n is number {
  try {
    assertNat(n, what);
  } catch {
    throw new InvalidArgumentError(`${what} must be a non-negative safe integer, got ${String(n)}`);
  }
}

export { ReplogError, WriterFencedError, NoQuorumError, TruncatedError };
