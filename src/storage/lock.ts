/**
 * The data directory's lock: an exclusive flock(2) on the file LOCK, held by
 * the kernel for as long as this process keeps the descriptor open. The
 * kernel releases it when the descriptor is closed or the process ends in
 * any way (crash, SIGKILL, power loss), so there is no stale lock to judge,
 * and no pid is trusted: a process in another pid namespace (a second
 * container on the same volume) is refused as any other, and a replica that
 * runs as pid 1 restarts after a crash.
 *
 * The file also holds a note (pid, host, time) for the error message only;
 * the note is never read to decide anything. The file is never deleted: a
 * process that opened it just before a deletion would lock the old inode
 * while the next one locks a new file, and both would hold "the lock".
 *
 * flock is reached through the fs-ext native addon (Node has no flock).
 * flock locks on NFS are emulated with byte-range locks by Linux; a data
 * directory on a network file system is not supported anyway (fdatasync
 * semantics).
 */
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { DataDirLockedError } from './errors.js';

const require = createRequire(import.meta.url);
const { flockSync } = require('fs-ext') as { flockSync(fd: number, flags: 'exnb' | 'un'): void };

export const LOCK_FILE = 'LOCK';

/** A held lock: closing its descriptor releases it. */
export interface DirLock {
  readonly path: string;
  readonly fd: number;
}

/** Takes the lock of `dir` for this process; throws DataDirLockedError if another open descriptor holds it. */
export function acquireLock(dir: string): DirLock {
  const path = join(dir, LOCK_FILE);
  const { O_RDWR, O_CREAT, O_NOFOLLOW } = fs.constants;
  // libuv adds O_CLOEXEC: children never inherit the lock.
  const fd = fs.openSync(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600);
  try {
    flockSync(fd, 'exnb');
  } catch (e) {
    fs.closeSync(fd);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') throw new DataDirLockedError(dir, readNote(path));
    throw e;
  }
  try {
    // The note: for the message a second opener prints, nothing else.
    const note = Buffer.from(`pid ${process.pid} on ${hostname()} since ${new Date().toISOString()}\n`);
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, note, 0, note.length, 0);
  } catch {
    // A note that cannot be written leaves the lock held: it is only for messages.
  }
  return { path, fd };
}

/** Releases the lock (closing the descriptor is what releases it). */
export function releaseLock(lock: DirLock): void {
  fs.closeSync(lock.fd);
}

function readNote(path: string): string {
  try {
    const s = fs.readFileSync(path, 'utf8').trim();
    return s.length > 0 ? s.slice(0, 200) : 'an unknown process';
  } catch {
    return 'an unknown process';
  }
}
