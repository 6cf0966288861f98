/**
 * Errors `startReplica` throws for its addresses, so that an application can
 * tell "that port is taken" (pick another, or another replica runs there)
 * from a mistake in its options with `instanceof`.
 */
import { InvalidArgumentError } from '../core/errors.js';

/**
 * The replica port or the admin address is in use by another socket
 * (EADDRINUSE). An InvalidArgumentError, as every listen failure was before
 * it had a class of its own; `cause` is Node's error.
 */
export class AddressInUseError extends InvalidArgumentError {
  /** Node's errno string: always 'EADDRINUSE'. */
  readonly errno = 'EADDRINUSE';
  constructor(
    message: string,
    /** The address asked for (`listen` or `admin`). */
    readonly address: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The error for a failed listen on `address`: AddressInUseError for EADDRINUSE, else InvalidArgumentError. */
export function listenError(what: string, address: string, err: unknown): InvalidArgumentError {
  const message = `${what} ${address}: ${(err as Error)?.message ?? String(err)}`;
  if ((err as { code?: unknown })?.code === 'EADDRINUSE') return new AddressInUseError(message, address, { cause: err });
  return new InvalidArgumentError(message, { cause: err });
}
