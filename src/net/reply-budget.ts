/**
 * ReplyBudget: the reply bytes queued over every client connection of one
 * listener (our queues plus Node's socket buffers), and which connections it
 * stopped reading from. A per-connection bound alone lets a thousand clients
 * that send reads and never read the replies hold a thousand queues; the
 * budget bounds their sum.
 *
 * Above `bytes`, each client connection holding more than `shareBytes` is no
 * longer read (FramedConnection.useBudget): it is the one filling memory, and
 * a connection that reads its replies (a writer, whose replies are small)
 * goes on. A paused connection is read again once its own queue is back under
 * its share, or once the total falls to `bytesLow`. Above `bytesMax` a reply
 * is dropped and the client retransmits: a hard bound, however many
 * connections send at once.
 */
import { assert } from '../core/assert.js';
import { wireLimits } from './limits.js';

export interface ReplyBudgetBounds {
  /** Above this many queued bytes, connections holding more than shareBytes stop being read. */
  readonly bytes: number;
  /** At or below this, every connection the budget paused is read again. */
  readonly bytesLow: number;
  /** A reply that would take the total above this is dropped. */
  readonly bytesMax: number;
  /** A connection holding at most this much is never paused by the budget. */
  readonly shareBytes: number;
}

export const defaultReplyBudget: ReplyBudgetBounds = {
  bytes: wireLimits.replyBudgetBytes,
  bytesLow: wireLimits.replyBudgetBytesLow,
  bytesMax: wireLimits.replyBudgetBytesMax,
  shareBytes: wireLimits.replyShareBytes,
};

/** What the budget needs of a connection it paused: a way to read it again. */
export interface BudgetedConnection {
  resumeByBudget(): void;
}

export class ReplyBudget {
  private total = 0;
  private readonly paused = new Set<BudgetedConnection>();

  constructor(readonly bounds: ReplyBudgetBounds = defaultReplyBudget) {
    assert(bounds.bytesLow < bounds.bytes && bounds.bytes <= bounds.bytesMax, 'reply budget marks in order');
    assert(bounds.shareBytes >= 0, 'a share is not negative');
  }

  /** Reply bytes queued now, over every budgeted connection. */
  get queuedBytes(): number {
    return this.total;
  }

  /** Connections not read because of the budget. */
  get pausedCount(): number {
    return this.paused.size;
  }

  /** True if `bytes` more still fit under the hard bound. */
  hasRoom(bytes: number): boolean {
    return this.total + bytes <= this.bounds.bytesMax;
  }

  /** True if a connection holding `held` bytes should stop being read. */
  shouldPause(held: number): boolean {
    return this.total > this.bounds.bytes && held > this.bounds.shareBytes;
  }

  /** A connection's queued bytes changed by `delta`. */
  change(delta: number): void {
    this.total += delta;
    assert(this.total >= -1e-9, 'queued bytes never go negative');
    if (this.total <= this.bounds.bytesLow && this.paused.size > 0) {
      const all = [...this.paused];
      this.paused.clear();
      for (const c of all) c.resumeByBudget();
    }
  }

  pause(c: BudgetedConnection): void {
    this.paused.add(c);
  }

  forget(c: BudgetedConnection): void {
    this.paused.delete(c);
  }
}
