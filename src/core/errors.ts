/**
 * Errors that users see: one base class, a stable `code` string each, the
 * cause chained. They are exported from the package.
 */

/**
 * Every `code` a replog error can carry, so that `switch (err.code)` can be
 * exhaustive. Kept in one place: a new error class adds its code here.
 */
export type ErrorCode =
  | 'REPLOG_ERROR'
  | 'WRITER_FENCED'
  | 'NO_QUORUM'
  | 'WRITER_IN_DOUBT'
  | 'TRUNCATED'
  | 'CLOSED'
  | 'INVALID_ARGUMENT'
  | 'ABORTED'
  | 'TIMEOUT'
  | 'CHANGE_REFUSED'
  | 'CONFIG_CHANGED'
  | 'WIRE_ERROR'
  | 'STORAGE_ERROR'
  | 'STORAGE_FULL'
  | 'STORAGE_IO'
  | 'STORAGE_FATAL'
  | 'STORE_CLOSED'
  | 'DATA_DIR_LOCKED'
  | 'DATA_DIR_MISMATCH'
  | 'DATA_DIR_UNSAFE'
  | 'STATE_COMPACTED'
  | 'STATE_CONDITION_FAILED'
  | 'STATE_FORMAT'
  | 'STATE_LOST'
  | 'STATE_NO_KEY'
  | 'STATE_READ_ONLY';

/** Codes whose operation may succeed if simply made again once the cause passes (a quorum comes back, the disk has room). */
const RETRIABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['NO_QUORUM', 'STORAGE_FULL', 'TIMEOUT']);

export class ReplogError extends Error {
  readonly code: ErrorCode = 'REPLOG_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /**
   * True if the same call may succeed when made again later, as is: no
   * quorum answered, the disk was full. False when something must change
   * first: a fenced writer needs a new writer, a writer in doubt needs
   * `reelect()`, a bad argument needs another argument. A retried write
   * whose outcome was `unknown` may be written twice: settle it first.
   */
  get retriable(): boolean {
    return RETRIABLE.has(this.code);
  }
}

/**
 * What became of a failed write: `not-written` (it never left the client:
 * nothing was written) or `unknown` (it left, at `position`, and may have been
 * chosen there; `writer.reelect()` or a read settles it).
 */
export type WriteOutcome = 'not-written' | 'unknown';

/** Options of the errors that a write can fail with. */
export interface WriteErrorOptions {
  readonly cause?: unknown;
  readonly outcome?: WriteOutcome;
  /** With outcome `unknown`: the position the write took. */
  readonly position?: number;
}

/** An error a write can fail with: it says whether the write may have been made (absent for elections and reads). */
export class WriteFailureError extends ReplogError {
  readonly outcome?: WriteOutcome;
  readonly position?: number;
  constructor(message: string, options: WriteErrorOptions = {}) {
    super(message, options);
    if (options.outcome !== undefined) this.outcome = options.outcome;
    if (options.position !== undefined) this.position = options.position;
  }
}

/** Another writer was elected: this writer's pending and later operations fail. */
export class WriterFencedError extends WriteFailureError {
  override readonly code = 'WRITER_FENCED';
}

/** No quorum of replicas answered in time. */
export class NoQuorumError extends WriteFailureError {
  override readonly code = 'NO_QUORUM';
}

/**
 * This writer lost its quorum (an operation failed with NoQuorumError), so
 * another writer may have been elected since: it does not write again until
 * the application calls `writer.reelect()`, which settles the writes whose
 * outcome was unknown. Nothing was written.
 */
export class WriterInDoubtError extends ReplogError {
  override readonly code = 'WRITER_IN_DOUBT';
}

/** A read below the log's beginning: those positions were truncated. */
export class TruncatedError extends ReplogError {
  override readonly code = 'TRUNCATED';
}

/** An operation on a closed client or writer. */
export class ClosedError extends ReplogError {
  override readonly code = 'CLOSED';
}

/** Bad arguments from the caller (a negative position, an oversized entry, ...). */
export class InvalidArgumentError extends ReplogError {
  override readonly code = 'INVALID_ARGUMENT';
}

/**
 * The caller's `signal` aborted the call (`name` is 'AbortError', as for
 * fetch; `cause` is the signal's reason). A write says what became of it:
 * `not-written` if it never reached the writer's queue, else `unknown` (it
 * may still be chosen; `position` is set if it had taken one).
 */
export class AbortedError extends WriteFailureError {
  override readonly code = 'ABORTED';
  constructor(message: string, options: WriteErrorOptions = {}) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/** The call's `timeoutMs` (or the client's default) went by first. A write says what became of it, as AbortedError. */
export class TimeoutError extends WriteFailureError {
  override readonly code = 'TIMEOUT';
}

/**
 * A membership change refused before anything was written (docs/reconfiguration.md, section 6):
 * `reason` is membership.ts's code (`unknown-member`, `id-used`, `address-used`, `not-a-learner`,
 * `not-caught-up`, `would-lose-quorum`, `no-voters`, `no-change`, ...). The CLI exits 1.
 */
export class ChangeRefusedError extends ReplogError {
  override readonly code = 'CHANGE_REFUSED';
  constructor(
    message: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The configuration's epoch moved (its `ifEpoch` passed, or a concurrent change came first): nothing was written. The CLI exits 4. */
export class ConfigChangedError extends ReplogError {
  override readonly code = 'CONFIG_CHANGED';
}
