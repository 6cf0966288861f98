/**
 * One watcher's queue of live batches, bounded: a watcher that falls more
 * than `maxBatches` behind is told so (`overflow`) and catches up from the
 * log instead, so a slow reader never makes the store hold unbounded memory.
 */
import type { WatchBatch } from './types.js';

export type SubscriptionItem = { readonly kind: 'batch'; readonly batch: WatchBatch } | { readonly kind: 'overflow' } | { readonly kind: 'end' } | { readonly kind: 'error'; readonly error: Error };

export class Subscription {
  private readonly queue: SubscriptionItem[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(
    /** Whether a key is watched. */
    readonly matches: (key: string) => boolean,
    private readonly maxBatches: number,
  ) {}

  /** Offers a batch (already filtered); past the bound the queue is replaced by one `overflow`. */
  push(batch: WatchBatch): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxBatches) return this.finish({ kind: 'overflow' });
    this.queue.push({ kind: 'batch', batch });
    this.notify();
  }

  /** Ends the subscription with a last item (end, error or overflow): later pushes are dropped. */
  finish(item: SubscriptionItem): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.queue.push(item);
    this.notify();
  }

  async next(): Promise<SubscriptionItem> {
    while (this.queue.length === 0) await new Promise<void>((r) => (this.wake = r));
    return this.queue.shift()!;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
