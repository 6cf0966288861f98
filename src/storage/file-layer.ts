/**
 * FileLayer: the few file-system calls the file store makes, behind an
 * interface so that tests can inject torn writes, bit flips, ENOSPC and failed
 * fsyncs (see test/storage/faulty-layer.ts). Files are plain numeric fds.
 *
 * Reads are synchronous because StoreView.action() is; writes and syncs are
 * asynchronous so that they run on libuv's thread pool.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';

export interface FileLayer {
  /** Opens a file: 'r+' an existing one, 'wx+' a new one (fails if it exists). */
  openSync(path: string, flags: 'r+' | 'wx+'): number;
  closeSync(fd: number): void;
  /** The file's size in bytes. */
  sizeSync(fd: number): number;
  /** Reads up to `length` bytes at `position`; returns how many were read. */
  readSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes `length` bytes of `buf` at `position`; may write fewer (returns the count). */
  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** fdatasync: the file's data (and its size) are on disk when this resolves. */
  datasync(fd: number): Promise<void>;
  /** Cuts the file to `length` bytes. */
  truncate(fd: number, length: number): Promise<void>;
  /** fsync of a directory, so that created and deleted names survive a crash. */
  syncDir(dir: string): Promise<void>;
  readdirSync(dir: string): string[];
  unlink(path: string): Promise<void>;
  mkdirSync(dir: string): void;
}

function writeP(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, buf, offset, length, position, (err, written) => (err === null ? resolve(written) : reject(err)));
  });
}
const fdatasyncP = promisify(fs.fdatasync);
const fsyncP = promisify(fs.fsync);
const ftruncateP = promisify(fs.ftruncate);
const openP = promisify(fs.open);
const closeP = promisify(fs.close);

/** The real file system. */
export const nodeFileLayer: FileLayer = {
  openSync: (path, flags) => fs.openSync(path, flags),
  closeSync: (fd) => fs.closeSync(fd),
  sizeSync: (fd) => fs.fstatSync(fd).size,
  readSync: (fd, buf, offset, length, position) => fs.readSync(fd, buf, offset, length, position),
  write: (fd, buf, offset, length, position) => writeP(fd, buf, offset, length, position),
  datasync: (fd) => fdatasyncP(fd),
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
  mkdirSync: (dir) => void fs.mkdirSync(dir, { recursive: true }),
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
