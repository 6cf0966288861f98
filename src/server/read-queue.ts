/**
 * ReadQueue: how a replica serves read requests, fairly against everything
 * else it does (issue 20, item 3).
 *
 * A read costs up to limits.readSlotsMax slots of disk reads and an encode of
 * up to limits.replyBytesMax bytes; a write or a commit costs far less and
 * holds up the writer's acknowledgements. Handled as they were decoded, the
 * reads that one socket chunk carried (full reads, tails, their
 * retransmissions) ran back to back inside one event-loop callback, while the
 * writer's writes and commits, peers' gossip and new connections' hellos
 * waited behind them: appends stalled, and readers' rounds went unanswered
 * long enough to be taken for a dead quorum.
 *
 * Reads are queued per connection instead and served round-robin, one read
 * per connection in turn, within a time budget per turn of the event loop
 * (setImmediate), so that the I/O that arrived meanwhile is handled between
 * two batches. Serving a read later is safe: a read reports the replica's
 * state when it is served, never older than when it arrived.
 *
 * Retransmissions do not multiply the work: a read whose request id is
 * already queued for the same connection is not queued again. A connection
 * keeps at most `perConnectionMax` reads queued; past that its oldest is
 * dropped (a round already answered by the others, most likely): its sender
 * asks again if it still needs it. A closed connection's reads are dropped.
 */
import type { ReadRequest } from '../core/types.js';

/** The connection a read came on: what the queue needs of it. */
export interface ReadSource {
  readonly id: number;
  readonly closed: boolean;
}

export interface ReadQueueOptions<C extends ReadSource> {
  /** Serves one read (hands it to the replica's core, which replies on `conn`). */
  readonly serve: (msg: ReadRequest, conn: C) => void;
  /** Time spent serving reads per turn of the event loop before yielding to I/O (at least one read is served). */
  readonly budgetMs?: number;
  /** Most reads queued per connection. */
  readonly perConnectionMax?: number;
  readonly now?: () => number;
  /** Defers a turn (default setImmediate: after the I/O callbacks that are ready). */
  readonly defer?: (run: () => void) => void;
}

/** Default time budget per turn: long enough to serve a few full reads, short against a write's latency. */
export const READ_BUDGET_MS = 4;
/** Default reads queued per connection (a client has one round per read in progress). */
export const READS_PER_CONNECTION_MAX = 64;

export class ReadQueue<C extends ReadSource> {
  /** Connections with queued reads, in the order they are served next (Map keeps insertion order). */
  private readonly queues = new Map<number, { conn: C; reads: ReadRequest[] }>();
  private scheduled = false;
  private readonly budgetMs: number;
  private readonly perConnectionMax: number;
  private readonly now: () => number;
  private readonly defer: (run: () => void) => void;

  constructor(private readonly opts: ReadQueueOptions<C>) {
    this.budgetMs = opts.budgetMs ?? READ_BUDGET_MS;
    this.perConnectionMax = Math.max(1, opts.perConnectionMax ?? READS_PER_CONNECTION_MAX);
    this.now = opts.now ?? (() => performance.now());
    this.defer = opts.defer ?? ((run) => void setImmediate(run));
  }

  /** Reads waiting, over every connection. */
  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.reads.length;
    return n;
  }

  push(msg: ReadRequest, conn: C): void {
    let q = this.queues.get(conn.id);
    if (q === undefined) {
      q = { conn, reads: [] };
      this.queues.set(conn.id, q);
    }
    if (q.reads.some((r) => r.rid === msg.rid)) return;
    q.reads.push(msg);
    if (q.reads.length > this.perConnectionMax) q.reads.shift();
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.runTurn();
    });
  }

  /** Serves reads round-robin until the budget is spent, then yields (and comes back if any are left). */
  private runTurn(): void {
    const started = this.now();
    while (this.queues.size > 0) {
      const [id, q] = this.queues.entries().next().value as [number, { conn: C; reads: ReadRequest[] }];
      // Served last: the connection goes to the back of the line.
      this.queues.delete(id);
      if (q.conn.closed) continue;
      const msg = q.reads.shift()!;
      if (q.reads.length > 0) this.queues.set(id, q);
      this.opts.serve(msg, q.conn);
      if (this.now() - started >= this.budgetMs) break;
    }
    if (this.queues.size > 0) this.schedule();
  }
}
