/**
 * FileLayer: the few file-system calls the file store makes, behind an
 * interface so that tests can inject torn writes, bit flips, ENOSPC and failed
 * fsyncs (see test/storage/faulty-layer.ts). Files are plain numeric fds.
 *
 * Reads are synchronous because StoreView.action() is. Writes and syncs have
 * an asynchronous form, run on libuv's thread pool (large batches: the event
 * loop goes on meanwhile), and an optional synchronous twin on the main
 * thread (small batches: a page-cache copy of a few KiB takes about 15 µs,
 * while a round trip through the thread pool costs 160-180 µs; issue 21).
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { DataDirUnsafeError } from './errors.js';

export interface FileLayer {
  /**
   * Opens a file for reading and writing, never through a symlink: 'r+' an
   * existing one, which must be a regular file owned by this process's user
   * (else DataDirUnsafeError); 'wx+' a new one, mode 0600 (fails if it exists).
   */
  openSync(path: string, flags: 'r+' | 'wx+'): number;
  closeSync(fd: number): void;
  /** The file's size in bytes. */
  sizeSync(fd: number): number;
  /** Reads up to `length` bytes at `position`; returns how many were read. */
  readSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes `length` bytes of `buf` at `position`; may write fewer (returns the count). */
  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /**
   * Optional: writes `bufs` one after the other at `position` with one call
   * (pwritev); may write fewer bytes (returns the count). Without it, batches
   * are concatenated and written with write().
   */
  writev?(fd: number, bufs: readonly Uint8Array[], position: number): Promise<number>;
  /** fdatasync: the file's data (and its size) are on disk when this resolves. */
  datasync(fd: number): Promise<void>;
  /**
   * Optional synchronous twins of write(), writev() and datasync(), failing
   * the same way (they throw what the promises reject with). The store writes
   * a small batch with them only if the layer has writeSync and datasyncSync.
   */
  writeSync?(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  writevSync?(fd: number, bufs: readonly Uint8Array[], position: number): number;
  datasyncSync?(fd: number): void;
  /** Cuts the file to `length` bytes. */
  truncate(fd: number, length: number): Promise<void>;
  /** fsync of a directory, so that created and deleted names survive a crash. */
  syncDir(dir: string): Promise<void>;
  readdirSync(dir: string): string[];
  unlink(path: string): Promise<void>;
  /** Creates `dir` (and missing parents) mode 0700 if missing, durably: the parent of each created directory is fsynced. */
  mkdirSync(dir: string): void;
}

function writeP(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, buf, offset, length, position, (err, written) => (err === null ? resolve(written) : reject(err)));
  });
}
function writevP(fd: number, bufs: readonly Uint8Array[], position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.writev(fd, bufs as Uint8Array[], position, (err, written) => (err === null ? resolve(written) : reject(err)));
  });
}
const fdatasyncP = promisify(fs.fdatasync);
const fsyncP = promisify(fs.fsync);
const ftruncateP = promisify(fs.ftruncate);
const openP = promisify(fs.open);
const closeP = promisify(fs.close);

/** This process's user id; undefined where there is none (not POSIX). */
const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;

/**
 * Opens an existing segment: refuses anything but a regular file owned by
 * this user (checked before opening, so a FIFO or a device is never opened),
 * opens it without following a symlink, and checks that the file opened is
 * the one checked (no swap in between).
 */
function openExisting(path: string): number {
  const unsafe = (why: string): never => {
    throw new DataDirUnsafeError(`${path}: ${why}; refusing to start (move it out of the data directory)`);
  };
  const before = fs.lstatSync(path);
  if (before.isSymbolicLink()) unsafe('a symbolic link, not a segment file');
  if (!before.isFile()) unsafe('not a regular file');
  if (uid !== undefined && before.uid !== uid) unsafe(`owned by user ${before.uid}, not by this replica's user ${uid}`);
  const { O_RDWR, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') unsafe('a symbolic link, not a segment file');
    throw e;
  }
  const after = fs.fstatSync(fd);
  if (after.ino !== before.ino || after.dev !== before.dev || !after.isFile()) {
    fs.closeSync(fd);
    unsafe('replaced while being opened');
  }
  return fd;
}

/** mkdir -p with mode 0700, fsyncing the parent of every directory it created (so a power loss cannot take them back). */
function makeDirDurably(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !fs.existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const fd = fs.openSync(dirname(d), 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** The real file system. */
export const nodeFileLayer: FileLayer = {
  openSync: (path, flags) => {
    if (flags === 'r+') return openExisting(path);
    const { O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
    return fs.openSync(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  },
  closeSync: (fd) => fs.closeSync(fd),
  sizeSync: (fd) => fs.fstatSync(fd).size,
  readSync: (fd, buf, offset, length, position) => fs.readSync(fd, buf, offset, length, position),
  write: (fd, buf, offset, length, position) => writeP(fd, buf, offset, length, position),
  writev: (fd, bufs, position) => writevP(fd, bufs, position),
  datasync: (fd) => fdatasyncP(fd),
  writeSync: (fd, buf, offset, length, position) => fs.writeSync(fd, buf, offset, length, position),
  writevSync: (fd, bufs, position) => fs.writevSync(fd, bufs as Uint8Array[], position),
  datasyncSync: (fd) => fs.fdatasyncSync(fd),
  truncate: (fd, length) => ftruncateP(fd, length),
  async syncDir(dir) {
    const fd = await openP(dir, 'r');
    try {
      await fsyncP(fd);
    } finally {
      await closeP(fd);
    }
  },
  readdirSync: (dir) => fs.readdirSync(dir),
  unlink: (path) => fs.promises.unlink(path),
  mkdirSync: (dir) => makeDirDurably(dir),
};

/** Writes all of `buf` at `position`, looping over short writes. */
export async function writeFully(layer: FileLayer, fd: number, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const n = await layer.write(fd, buf, done, buf.length - done, position + done);
    if (n <= 0) throw Object.assign(new Error(`write returned ${n}`), { code: 'EIO' });
    done += n;
  }
}

/** writeFully on the main thread (the layer's writeSync). */
export function writeFullySync(layer: FileLayer, fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = layer.writeSync!(fd, buf, done, buf.length - done, position + done);
    if (n <= 0) throw Object.assign(new Error(`write returned ${n}`), { code: 'EIO' });
    done += n;
  }
}

/** True if the layer can write and sync on the main thread. */
export function writesSynchronously(layer: FileLayer): boolean {
  return layer.writeSync !== undefined && layer.datasyncSync !== undefined;
}

/** Reads exactly `length` bytes at `position`; returns fewer only at end of file. */
export function readFullySync(layer: FileLayer, fd: number, buf: Uint8Array, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = layer.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Most buffers one pwritev takes (IOV_MAX on Linux); libuv would cut longer lists short. */
const IOV_MAX = 1024;

/**
 * Writes all of `parts` (`byteLength` bytes in total) one after the other at
 * `position`: with writev when the layer has it (no copy into one buffer),
 * in groups of at most IOV_MAX, looping over short writes; else concatenated
 * and written with writeFully.
 */
export async function writeParts(layer: FileLayer, fd: number, parts: readonly Uint8Array[], byteLength: number, position: number): Promise<void> {
  if (parts.length === 1 || layer.writev === undefined) {
    await writeFully(layer, fd, parts.length === 1 ? parts[0]! : Buffer.concat(parts, byteLength), position);
    return;
  }
  let i = 0;
  let skip = 0; // bytes of parts[i] already written
  let at = position;
  while (i < parts.length) {
    const group: Uint8Array[] = [];
    for (let j = i; j < parts.length && group.length < IOV_MAX; j++) group.push(j === i && skip > 0 ? parts[j]!.subarray(skip) : parts[j]!);
    const n = await layer.writev(fd, group, at);
    if (n <= 0) throw Object.assign(new Error(`writev returned ${n}`), { code: 'EIO' });
    at += n;
    let left = n;
    while (i < parts.length && left >= parts[i]!.length - skip) {
      left -= parts[i]!.length - skip;
      i++;
      skip = 0;
    }
    skip += left;
  }
  if (at - position !== byteLength) throw Object.assign(new Error(`wrote ${at - position} bytes of ${byteLength}`), { code: 'EIO' });
}

/**
 * writeParts on the main thread, for small batches: one pwritev when the
 * layer has writevSync and the parts fit in one call, else (or for what a
 * short pwritev left) the bytes concatenated and written with writeSync.
 */
export function writePartsSync(layer: FileLayer, fd: number, parts: readonly Uint8Array[], byteLength: number, position: number): void {
  if (parts.length === 1) return writeFullySync(layer, fd, parts[0]!, position);
  let done = 0;
  if (layer.writevSync !== undefined && parts.length <= IOV_MAX) {
    done = layer.writevSync(fd, parts, position);
    if (done <= 0) throw Object.assign(new Error(`writev returned ${done}`), { code: 'EIO' });
    if (done === byteLength) return;
  }
  writeFullySync(layer, fd, Buffer.concat(parts, byteLength).subarray(done), position + done);
}
