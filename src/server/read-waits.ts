/**
 * Held reads (a tail's doorbell, docs/wire.md): a read that carries waitMs is
 * kept until this replica has learned its `from` position, or until waitMs
 * passes, and then handed to the read queue like any other read. A tailing
 * client then hears of a new entry when a replica learns it, instead of at its
 * next poll.
 *
 * Bounded: a connection holds at most `perConnectionMax` reads (a tail keeps
 * one per member); past that, or past `totalMax` over all connections, a read
 * is served at once, which is what a replica before held reads did.
 */
import type { Position, ReadRequest } from '../core/types.js';
import type { ReadSource } from './read-queue.js';

export interface ReadWaitsOptions<C extends ReadSource> {
  /** Whether `position` is learned here (or below the learned prefix). */
  readonly learned: (position: Position) => boolean;
  /** Serves a read now (the read queue). */
  readonly serve: (msg: ReadRequest, conn: C) => void;
  readonly now?: () => number;
  readonly perConnectionMax?: number;
  readonly totalMax?: number;
}

interface Held<C> {
  readonly msg: ReadRequest;
  readonly conn: C;
  readonly until: number;
}

export class ReadWaits<C extends ReadSource> {
  private held: Held<C>[] = [];
  private readonly now: () => number;

  constructor(private readonly opts: ReadWaitsOptions<C>) {
    this.now = opts.now ?? (() => performance.now());
  }

  get size(): number {
    return this.held.length;
  }

  /** A read with waitMs: held if there is nothing to tell yet, else served at once. */
  push(msg: ReadRequest, conn: C): void {
    const { waitMs, ...read } = msg;
    if (waitMs === undefined || this.opts.learned(msg.from)) return this.opts.serve(read, conn);
    if (this.held.length >= (this.opts.totalMax ?? 10_000)) return this.opts.serve(read, conn);
    let mine = 0;
    for (const h of this.held) if (h.conn.id === conn.id) mine++;
    if (mine >= (this.opts.perConnectionMax ?? 16)) return this.opts.serve(read, conn);
    this.held.push({ msg: read, conn, until: this.now() + waitMs });
  }

  /** Serves the reads whose position was learned or whose wait is over; drops those of closed connections. Cheap when none is held. */
  poke(): void {
    if (this.held.length === 0) return;
    const now = this.now();
    const keep: Held<C>[] = [];
    for (const h of this.held) {
      if (h.conn.closed) continue;
      if (now >= h.until || this.opts.learned(h.msg.from)) this.opts.serve(h.msg, h.conn);
      else keep.push(h);
    }
    this.held = keep;
  }
}
