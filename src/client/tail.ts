/**
 * The iterator `tail()` returns. An async generator cannot be stopped while
 * it waits (its `return()` queues behind the pending `next()`, and an idle
 * tail waits for ever), so this wraps one: `return()`, a `break` out of
 * `for await`, or the caller's signal end the wait at once, and the inner
 * generator is told through its own signal to stop what it was doing.
 */
import { AbortedError } from '../core/errors.js';
import type { Position } from '../core/types.js';
import type { LogEntry } from './log-client.js';

/** What `tailBatches()` yields: the entries read in one go, and where the log ended then. */
export interface TailBatch<T = Uint8Array> {
  /** The appended entries read, ascending (may be empty: positions held NOPs or truncations). */
  readonly entries: readonly LogEntry<T>[];
  /** Every position up to here was read: the next batch starts at `through + 1`. */
  readonly through: Position;
  /**
   * The highest position in use when this batch was read (as `ending()`).
   * `through >= end` means caught up: every entry written before this batch
   * was read has been yielded; later batches carry new entries as they come.
   */
  readonly end: Position;
}

/** Options of `tail()` and `tailBatches()`. */
export interface TailOptions {
  /** Ends the tail: a pending or later `next()` rejects with AbortedError (`cause`: the signal's reason). */
  readonly signal?: AbortSignal;
}

export class Tail<T> implements AsyncGenerator<T, void, undefined> {
  private readonly stop = new AbortController();
  private readonly inner: AsyncGenerator<T, void, undefined>;
  private readonly stopped: Promise<void>;
  private finished = false;

  constructor(make: (signal: AbortSignal) => AsyncGenerator<T, void, undefined>, user?: AbortSignal) {
    this.stopped = new Promise((resolve) => this.stop.signal.addEventListener('abort', () => resolve(), { once: true }));
    this.inner = make(this.stop.signal);
    if (user !== undefined) {
      const onAbort = (): void => this.stop.abort(new AbortedError('the tail was aborted', { cause: user.reason }));
      if (user.aborted) onAbort();
      else {
        user.addEventListener('abort', onAbort, { once: true });
        // The listener goes once the tail ends, so a long-lived signal does not keep every old tail alive.
        void this.stopped.then(() => user.removeEventListener('abort', onAbort));
      }
    }
  }

  async next(): Promise<IteratorResult<T, void>> {
    if (this.finished) return { done: true, value: undefined };
    const pending = this.inner.next();
    const r = await Promise.race([pending, this.stopped.then(() => undefined)]);
    if (r === undefined || this.stop.signal.aborted) {
      // Stopped while waiting: the pending result is dropped (its error too).
      pending.catch(() => {});
      return this.end();
    }
    if (r.done === true) this.finished = true;
    return r;
  }

  async return(): Promise<IteratorResult<T, void>> {
    this.finished = true;
    this.stop.abort();
    void this.inner.return(undefined).catch(() => {});
    return { done: true, value: undefined };
  }

  async throw(e: unknown): Promise<IteratorResult<T, void>> {
    await this.return();
    throw e;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /** Stopped: by return() quietly, by the caller's signal with its AbortedError. */
  private end(): IteratorResult<T, void> {
    const reason: unknown = this.stop.signal.reason;
    const byUser = reason instanceof AbortedError;
    this.finished = true;
    void this.inner.return(undefined).catch(() => {});
    if (byUser) throw reason;
    return { done: true, value: undefined };
  }
}
