/**
 * Errors the storage layer reports to its users. Each has a stable `code`;
 * operating errors from the file system keep their errno in `errno` and the
 * original error in `cause`.
 */
import { ReplogError, type ErrorCode } from '../core/errors.js';

/** Base of every storage error. */
export class StorageError extends ReplogError {
  override readonly code: ErrorCode = 'STORAGE_ERROR';
}

/** The disk is full (ENOSPC, EDQUOT): nothing past the last durable record was stored. */
export class StorageFullError extends StorageError {
  override readonly code = 'STORAGE_FULL';
  constructor(
    message: string,
    /** The errno string of the failed call (ENOSPC or EDQUOT). */
    readonly errno: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A write or fsync failed (EIO and friends): the records it carried are not durable. */
export class StorageIOError extends StorageError {
  override readonly code = 'STORAGE_IO';
  constructor(
    message: string,
    /** The errno string of the failed call (EIO, EROFS, ...), or 'UNKNOWN'. */
    readonly errno: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An fdatasync or a directory fsync failed. Fatal for the process
 * ("fsyncgate"): Linux reports a writeback error once and may already have
 * dropped the dirty pages of records acknowledged earlier, so nothing the
 * page cache holds can be trusted; the store refuses everything from then on,
 * and the replica must stop and replay its files on restart.
 */
export class StorageFatalError extends StorageError {
  override readonly code = 'STORAGE_FATAL';
  constructor(
    message: string,
    /** The errno string of the failed call (EIO, ENOSPC, ...), or 'UNKNOWN'. */
    readonly errno: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another open descriptor (another process, or another store in this one) holds the data directory's lock. */
export class DataDirLockedError extends StorageError {
  override readonly code = 'DATA_DIR_LOCKED';
  constructor(
    readonly dir: string,
    /** The holder's note from the lock file (pid, host, since when): for people, not for decisions. */
    readonly owner: string,
  ) {
    super(`data directory ${dir} is in use (lock file ${dir}/LOCK held by ${owner})`);
  }
}

/** The data directory belongs to another replica or cluster than the one opening it. */
export class DataDirMismatchError extends StorageError {
  override readonly code = 'DATA_DIR_MISMATCH';
}

/** A file in the data directory is not what a segment must be (a symlink, not a regular file, another user's): the store refuses to start. */
export class DataDirUnsafeError extends StorageError {
  override readonly code = 'DATA_DIR_UNSAFE';
}

/** The store was used after close(). */
export class StoreClosedError extends StorageError {
  override readonly code = 'STORE_CLOSED';
}

function errnoOf(err: unknown): string {
  return typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
}

/** Maps a failed fsync to StorageFatalError. */
export function toFatalError(err: unknown, what: string): StorageFatalError {
  if (err instanceof StorageFatalError) return err;
  const errno = errnoOf(err);
  return new StorageFatalError(`${what}: fsync failed (${errno}); stopping: nothing in the page cache can be trusted`, errno, { cause: err });
}

/** Maps a file-system error to StorageFullError or StorageIOError. */
export function toStorageError(err: unknown, what: string): StorageFullError | StorageIOError {
  if (err instanceof StorageFullError || err instanceof StorageIOError) return err;
  const errno = errnoOf(err);
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    return new StorageFullError(`${what}: disk full (${errno})`, errno, { cause: err });
  }
  return new StorageIOError(`${what}: I/O error (${errno})`, errno, { cause: err });
}
