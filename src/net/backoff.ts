/**
 * Reconnect delays: exponential from `initialMs`, capped at `maxMs`, with
 * jitter that spreads each delay over [d/2, d] so that clients cut off
 * together do not come back in lockstep.
 */
import { assert } from '../core/assert.js';
import { wireLimits } from './limits.js';

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const defaultBackoff: BackoffOptions = {
  initialMs: wireLimits.reconnectInitialMs,
  maxMs: wireLimits.reconnectMaxMs,
};

/** The delay before attempt number `attempt` (0 = the first retry); `random` returns [0, 1). */
export function backoffDelayMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  assert(Number.isSafeInteger(attempt) && attempt >= 0, 'attempt >= 0');
  assert(opts.initialMs > 0 && opts.initialMs <= opts.maxMs, 'backoff range');
  // Cap the exponent so 2 ** attempt stays finite for long outages.
  const d = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempt, 30));
  return d / 2 + (d / 2) * random();
}
