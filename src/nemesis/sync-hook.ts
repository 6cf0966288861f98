/**
 * Preload for the replica processes of a nemesis run with power-loss faults
 * (`node --import sync-hook.js replog.js replica --dir DIR ...`; the runner
 * loads it, nothing else does). It plants nothing: it watches the fsync
 * family and appends to a journal beside the data directory
 * (`DIR.durable.jsonl`, in DIR's parent, so a full data disk cannot stop it)
 * what each call made durable, for power-loss.ts to cut the files back to
 * after a SIGKILL:
 *
 * - `{"f": name, "n": bytes}`: fdatasync/fsync of a file in DIR succeeded;
 *   its first `bytes` bytes (its size when the call began) are on disk.
 * - `{"f": name, "t": bytes}`: the file was cut to `bytes` (ftruncate): less
 *   may be durable now, never more.
 * - `{"d": [names]}`: fsync of DIR itself succeeded: the names it held when
 *   the call began survive a power loss.
 *
 * Wrapped: fs.fdatasync, fs.fsync (callback forms: the storage layer
 * promisifies them when it loads, which is after this preload),
 * fs.fdatasyncSync, fs.fsyncSync, fs.ftruncate, fs.ftruncateSync (src/storage
 * uses exactly these). A line is written before the call's completion is
 * passed on, so a SIGKILL can only leave the journal short of the truth (it
 * then cuts what no one was told was durable), never ahead of it.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { journalPath } from './power-loss.js';

const at = process.argv.indexOf('--dir');
const dataDir = at >= 0 && process.argv[at + 1] !== undefined ? resolve(process.argv[at + 1]!) : undefined;

if (dataDir !== undefined) install(dataDir);

function install(given: string): void {
  fs.mkdirSync(dirname(journalPath(given)), { recursive: true });
  const journal = fs.openSync(journalPath(given), 'a');
  // /proc names the real path: compare with DIR's real path (it may not exist yet when this loads).
  let real: string | undefined;
  const realDir = (): string | undefined => {
    if (real === undefined) {
      try {
        real = fs.realpathSync(given);
      } catch {
        return undefined;
      }
    }
    return real;
  };
  const note = (line: object): void => {
    try {
      fs.writeSync(journal, JSON.stringify(line) + '\n');
    } catch {
      // The journal's disk is full or gone: the journal falls short of the truth (it cuts more), never ahead.
    }
  };
  /** What `fd` is, if it is DIR or a file directly in it: reading /proc costs a syscall, and fds are reused. */
  const what = (fd: number): { kind: 'dir' } | { kind: 'file'; name: string; size: number } | undefined => {
    let path: string;
    try {
      path = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return undefined;
    }
    const dir = realDir();
    if (path === dir) return { kind: 'dir' };
    if (dir === undefined || dirname(path) !== dir) return undefined;
    try {
      return { kind: 'file', name: basename(path), size: fs.fstatSync(fd).size };
    } catch {
      return undefined;
    }
  };
  /** Before a sync: what it will make durable if it succeeds. */
  const before = (fd: number): object | undefined => {
    const w = what(fd);
    if (w === undefined) return undefined;
    if (w.kind === 'file') return { f: w.name, n: w.size };
    try {
      return { d: fs.readdirSync(given).sort() };
    } catch {
      return undefined;
    }
  };

  type Cb = (err: NodeJS.ErrnoException | null) => void;
  const wrapAsync = (real: (fd: number, cb: Cb) => void) =>
    function (fd: number, cb: Cb): void {
      const line = before(fd);
      real(fd, (err) => {
        if (err === null && line !== undefined) note(line);
        cb(err);
      });
    };
  const wrapSync = (real: (fd: number) => void) =>
    function (fd: number): void {
      const line = before(fd);
      real(fd);
      if (line !== undefined) note(line);
    };
  const realFtruncate = fs.ftruncate as (fd: number, len: number | Cb, cb?: Cb) => void;
  const realFtruncateSync = fs.ftruncateSync;

  const m = fs as unknown as Record<string, unknown>;
  m.fdatasync = wrapAsync(fs.fdatasync);
  m.fsync = wrapAsync(fs.fsync);
  m.fdatasyncSync = wrapSync(fs.fdatasyncSync);
  m.fsyncSync = wrapSync(fs.fsyncSync);
  m.ftruncate = function (fd: number, len: number | Cb, cb?: Cb): void {
    const n = typeof len === 'number' ? len : 0;
    const done = (typeof len === 'function' ? len : cb)!;
    const w = what(fd);
    // Noted before the cut: from the call on, the file may be that short.
    if (w?.kind === 'file') note({ f: w.name, t: n });
    realFtruncate(fd, n, done);
  };
  m.ftruncateSync = function (fd: number, len?: number): void {
    const w = what(fd);
    if (w?.kind === 'file') note({ f: w.name, t: len ?? 0 });
    realFtruncateSync(fd, len);
  };
  // `import * as fs from 'node:fs'` in the storage layer sees the wrapped functions too.
  syncBuiltinESMExports();
}
