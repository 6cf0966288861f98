/**
 * Errors that users see: one base class, a stable `code` string each, the
 * cause chained. They are exported from the package.
 */

export class ReplogError extends Error {
  readonly code: string = 'REPLOG_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Another writer was elected: this writer's pending and later operations fail. */
export class WriterFencedError extends ReplogError {
  override readonly code = 'WRITER_FENCED';
}

/** No quorum of replicas answered in time. */
export class NoQuorumError extends ReplogError {
  override readonly code = 'NO_QUORUM';
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
