/**
 * The data directory's lock: a file LOCK holding the owner's pid, created
 * with O_EXCL. A lock whose pid is no longer running (the owner crashed) is
 * stale and taken over. Two processes taking over the same stale lock at the
 * same instant could both succeed; replicas are started by an operator or a
 * supervisor, one at a time, so this window is accepted (documented in
 * docs/storage.md).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { DataDirLockedError } from './errors.js';

export const LOCK_FILE = 'LOCK';

/** Takes the lock of `dir` for this process; throws DataDirLockedError if a live process holds it. */
export function acquireLock(dir: string): string {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(path, 'wx');
      try {
        fs.writeSync(fd, `${process.pid}\n`);
      } finally {
        fs.closeSync(fd);
      }
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = readOwner(path);
    if (owner !== undefined && isAlive(owner)) throw new DataDirLockedError(dir, owner);
    // Stale (or unreadable, half-written by a crashed owner): remove and retry.
    try {
      fs.unlinkSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  const owner = readOwner(path);
  throw new DataDirLockedError(dir, owner ?? -1);
}

/** Releases the lock if this process still holds it. */
export function releaseLock(path: string): void {
  if (readOwner(path) !== process.pid) return;
  try {
    fs.unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function readOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
