/**
 * A small helper for request/reply correlation: rid -> pending request with a
 * timeout. The protocol layer owns retransmission; this only remembers who
 * waits for what and fires exactly one of onReply or onTimeout per request
 * (or neither, once cancelled). Timers are injected so tests and the
 * simulator can drive time.
 */
import { assert } from '../core/assert.js';

export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: TimerApi = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface Pending<R> {
  readonly onReply: (reply: R) => void;
  readonly timer: unknown;
}

export class RequestTracker<R> {
  private readonly pending = new Map<number, Pending<R>>();
  private lastRid = 0;

  constructor(private readonly timers: TimerApi = realTimers) {}

  /** A fresh rid: 1, 2, 3, ... (safe integers; never reused by this tracker). */
  nextRid(): number {
    assert(this.lastRid < Number.MAX_SAFE_INTEGER, 'rid space exhausted');
    return ++this.lastRid;
  }

  /** Requests waiting for a reply. */
  get size(): number {
    return this.pending.size;
  }

  /** Waits for the reply to `rid`; after `timeoutMs` without one, forgets it and calls onTimeout. */
  track(rid: number, timeoutMs: number, onReply: (reply: R) => void, onTimeout: () => void): void {
    assert(!this.pending.has(rid), `rid ${rid} is already pending`);
    assert(timeoutMs >= 0, 'timeout >= 0');
    const timer = this.timers.setTimeout(() => {
      if (this.pending.delete(rid)) onTimeout();
    }, timeoutMs);
    this.pending.set(rid, { onReply, timer });
  }

  /** Delivers a reply; false if nobody waits for `rid` (late, duplicate or unknown: the caller ignores it). */
  settle(rid: number, reply: R): boolean {
    const p = this.pending.get(rid);
    if (p === undefined) return false;
    this.pending.delete(rid);
    this.timers.clearTimeout(p.timer);
    p.onReply(reply);
    return true;
  }

  /** Forgets a request without calling back; false if it was not pending. */
  cancel(rid: number): boolean {
    const p = this.pending.get(rid);
    if (p === undefined) return false;
    this.pending.delete(rid);
    this.timers.clearTimeout(p.timer);
    return true;
  }

  /** Forgets every request (on close) without calling back; returns how many there were. */
  cancelAll(): number {
    const n = this.pending.size;
    for (const p of this.pending.values()) this.timers.clearTimeout(p.timer);
    this.pending.clear();
    return n;
  }
}
