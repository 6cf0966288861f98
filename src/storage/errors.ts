/**
 * Errors the storage layer reports to its users. Each has a stable `code`;
 * operating errors from the file system keep their errno in `errno` and the
 * original error in `cause`.
 */
import { ReplogError } from '../core/errors.js';

/** Base of every storage error. */
export class StorageError extends ReplogError {
  override readonly code: string = 'STORAGE_ERROR';
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

/** The store was used after close(). */
export class StoreClosedError extends StorageError {
  override readonly code = 'STORE_CLOSED';
}

/** Maps a file-system error to StorageFullError or StorageIOError. */
export function toStorageError(err: unknown, what: string): StorageFullError | StorageIOError {
  if (err instanceof StorageFullError || err instanceof StorageIOError) return err;
  const errno = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    return new StorageFullError(`${what}: disk full (${errno})`, errno, { cause: err });
  }
  return new StorageIOError(`${what}: I/O error (${errno})`, errno, { cause: err });
}
