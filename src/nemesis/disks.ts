/**
 * Small disks for the bed: each replica's data directory on a tmpfs of its
 * own (64 MiB), so that the disk-full fault can fill one disk without
 * touching the machine's. Filling is a ballast file written until ENOSPC
 * (the replica's next write fails; it must pause and retry), emptying is
 * deleting it. Mounting needs root: without it the runner skips disk-full and
 * says so. unmountAll() copies each disk's files back into the directory the
 * tmpfs covered, so a run's data survives for the reader; dropAll() (an
 * interrupted run) just lets go. Both are safe to call twice.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const DISK_MIB = 64;
/** In the data directory: storage ignores files that are not segments (open-store.ts). */
export const BALLAST = 'nemesis-ballast';

/** Why small disks cannot be made here, if they cannot. */
export function disksUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (mounting a tmpfs needs CAP_SYS_ADMIN)';
  const probe = mkdtempSync(join(tmpdir(), 'replog-disk-probe-'));
  try {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { encoding: 'utf8' });
    if (r.status !== 0) return `\`mount -t tmpfs\` fails: ${(r.stderr || String(r.error ?? '')).trim()}`;
    spawnSync('umount', [probe]);
    return undefined;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

export class Disks {
  private readonly mounted: string[] = [];

  /** Mounts a fresh tmpfs on `dir` (made if missing; it must be empty). */
  mount(dir: string): void {
    const d = resolve(dir);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_MIB}m,mode=0700`, 'tmpfs', d], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.mounted.push(d);
  }

  /** Bytes free on the disk of `dir`. */
  static freeBytes(dir: string): number {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  }

  /** Fills the disk of `dir` with ballast until a write fails with ENOSPC; returns the ballast's size. */
  fill(dir: string): number {
    const fd = openSync(join(dir, BALLAST), 'a');
    let total = 0;
    try {
      for (const chunk of [1 << 20, 1 << 12, 1]) {
        const buf = Buffer.alloc(chunk, 0x42);
        for (;;) {
          try {
            total += writeSync(fd, buf);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw e;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    return total;
  }

  /** Deletes the ballast: the disk has room again. */
  empty(dir: string): void {
    rmSync(join(dir, BALLAST), { force: true });
  }

  /** Unmounts every disk, keeping its files: copied out, unmounted, copied back into the directory. */
  unmountAll(): void {
    for (const d of this.mounted.splice(0)) {
      const keep = mkdtempSync(join(tmpdir(), 'replog-disk-'));
      let copied = false;
      try {
        try {
          this.empty(d);
          for (const name of readdirSync(d)) cpSync(join(d, name), join(keep, name), { recursive: true });
          copied = true;
        } finally {
          umount(d);
        }
        if (copied) for (const name of readdirSync(keep)) cpSync(join(keep, name), join(d, name), { recursive: true });
      } finally {
        rmSync(keep, { recursive: true, force: true });
      }
    }
  }

  /** Lets every disk go at once (an interrupted run): lazy unmounts, the files are lost. */
  dropAll(): void {
    for (const d of this.mounted.splice(0)) spawnSync('umount', ['-l', d]);
  }
}

function umount(dir: string): void {
  // A replica that has not quite exited may still hold a file open: detach lazily then.
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
}
