/**
 * Errors of the state store, under the package's ReplogError with a stable
 * `code` each. A failed condition is not among them: it is a result
 * (`{ ok: false, current }`), never an error.
 */
import { ReplogError } from '../core/errors.js';

/**
 * A watch (or a history read) asked for revisions that were truncated away
 * behind a snapshot. `oldestRevision` is the first revision still available:
 * read the state (`range()`), then watch from `range().revision + 1`.
 */
export class CompactedError extends ReplogError {
  override readonly code = 'STATE_COMPACTED';
  constructor(
    readonly requestedRevision: number,
    readonly oldestRevision: number,
  ) {
    super(`revision ${requestedRevision} was compacted: the oldest revision still available is ${oldestRevision}`);
  }
}

/**
 * The log holds state entries that no snapshot in it explains: the log was
 * truncated by something other than the store, so the state before the
 * truncation is lost. The store refuses to guess.
 */
export class StateLostError extends ReplogError {
  override readonly code = 'STATE_LOST';
}

/** A state entry (magic prefix present) that this version cannot read: a newer format, or corrupt bytes. */
export class StateFormatError extends ReplogError {
  override readonly code = 'STATE_FORMAT';
}

/** A write on a store that does not hold the writer (opened with `follow`). */
export class StateReadOnlyError extends ReplogError {
  override readonly code = 'STATE_READ_ONLY';
}
