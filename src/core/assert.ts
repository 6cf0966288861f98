/**
 * Assertions that stay on in production. A failed assertion is a programmer
 * error: the process must stop loudly rather than go on with broken state.
 * Operating errors (a full disk, a peer gone) are values, never assertions.
 */

export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** For exhaustive switches over discriminated unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** A position or proposal: a non-negative safe integer. */
export function isNat(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export function assertNat(n: unknown, what: string): asserts n is number {
  assert(isNat(n), `${what} must be a non-negative safe integer, got ${String(n)}`);
}
