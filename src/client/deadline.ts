/**
 * Deadlines and cancellation for every client call: `{ timeoutMs, signal }`.
 * The call's promise settles as soon as either fires, with an error that says
 * what became of a write; the work it started is told through an internal
 * signal (so a tail stops waiting, a queued append does not go out later).
 */
import { AbortedError, InvalidArgumentError, TimeoutError, type WriteErrorOptions } from '../core/errors.js';
import type { SlowOperationEvent } from './events.js';

/** Options every call takes. */
export interface CallOptions {
  /**
   * Give up after this many milliseconds: the call rejects with TimeoutError.
   * Default: the client's `timeoutMs` (LogClient.connect options). Without
   * either, a call without a quorum still fails with NoQuorumError once the
   * protocol gives up (10 s).
   */
  readonly timeoutMs?: number;
  /** Aborting it makes the call reject at once with AbortedError (`cause`: the signal's reason). */
  readonly signal?: AbortSignal;
}

/** What a client gives every call: its default deadline, and where to report a slow one. */
export interface CallDefaults {
  readonly timeoutMs: number | undefined;
  readonly slowMs: number;
  /** Reports an operation still pending after `slowMs` (undefined: nobody listens, no timer is set). */
  readonly onSlow: ((event: SlowOperationEvent) => void) | undefined;
}

/** A signal that never aborts, for calls without a deadline. */
const NEVER = new AbortController().signal;

/**
 * Runs `work` under the call's deadline and signal. `outcome` tells, at the
 * moment the call gives up, what became of its write (undefined for reads).
 */
export function withDeadline<T>(
  what: string,
  options: CallOptions | undefined,
  defaults: CallDefaults,
  work: (signal: AbortSignal) => Promise<T>,
  outcome?: () => WriteErrorOptions,
): Promise<T> {
  const timeoutMs = options?.timeoutMs ?? defaults.timeoutMs;
  const onSlow = defaults.onSlow;
  const user = options?.signal;
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
    return Promise.reject(new InvalidArgumentError(`timeoutMs must be a non-negative number, got ${String(timeoutMs)}`));
  }
  if (user === undefined && timeoutMs === undefined && onSlow === undefined) return work(NEVER);
  const inner = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let slow: NodeJS.Timeout | undefined;
    if (onSlow !== undefined) {
      slow = setTimeout(() => onSlow({ operation: what, elapsedMs: defaults.slowMs }), defaults.slowMs);
      slow.unref();
    }
    const cleanup = (): void => {
      clearTimeout(timer);
      clearTimeout(slow);
      user?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      cleanup();
      inner.abort(err);
      reject(err);
    };
    const onAbort = (): void => fail(new AbortedError(`${what} was aborted`, { cause: user?.reason, ...outcome?.() }));
    if (user?.aborted === true) return onAbort();
    user?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) timer = setTimeout(() => fail(new TimeoutError(`${what} did not finish within ${timeoutMs} ms`, outcome?.())), timeoutMs);
    work(inner.signal).then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (e: unknown) => {
        cleanup();
        reject(e);
      },
    );
  });
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects: the caller checks the signal). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
