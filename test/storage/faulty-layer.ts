/**
 * A FileLayer over the real file system that fails on demand: the next write
 * or fdatasync throws an errno error (ENOSPC, EIO), or a write stores only
 * its first bytes and then fails (a torn write). It logs every write so that
 * tests can check what was written again after a failure. The same faults
 * hit the synchronous calls (writeSync, datasyncSync) the store uses for
 * small batches; `new FaultyLayer({ synchronous: false })` has none, so every
 * batch takes the thread-pool path.
 */
import { nodeFileLayer, type FileLayer } from '../../src/storage/file-layer.js';

export function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

export class FaultyLayer implements FileLayer {
  /** Errors the next writes throw, in order. */
  readonly writeFaults: string[] = [];
  /** Errors the next fdatasyncs throw, in order. */
  readonly syncFaults: string[] = [];
  /** Errors the next directory fsyncs throw, in order. */
  readonly dirSyncFaults: string[] = [];
  /** If set, the next write stores only this many bytes, then throws EIO. */
  tornWriteBytes: number | undefined;
  readonly writes: { fd: number; position: number; length: number }[] = [];
  datasyncs = 0;
  /** Which path each write and fdatasync took, in order ('sync' on the main thread, 'async' on the thread pool). */
  readonly paths: ('sync' | 'async')[] = [];
  writeSync?: (fd: number, buf: Uint8Array, offset: number, length: number, position: number) => number;
  datasyncSync?: (fd: number) => void;

  constructor(options: { synchronous?: boolean } = {}) {
    if (options.synchronous === false) return;
    this.writeSync = (fd, buf, offset, length, position) => {
      this.paths.push('sync');
      this.writes.push({ fd, position, length });
      const fault = this.writeFaults.shift();
      if (fault !== undefined) throw errnoError(fault);
      if (this.tornWriteBytes !== undefined) {
        const n = Math.min(this.tornWriteBytes, length);
        this.tornWriteBytes = undefined;
        nodeFileLayer.writeSync!(fd, buf, offset, n, position);
        throw errnoError('EIO');
      }
      return nodeFileLayer.writeSync!(fd, buf, offset, length, position);
    };
    this.datasyncSync = (fd) => {
      this.paths.push('sync');
      this.datasyncs++;
      const fault = this.syncFaults.shift();
      if (fault !== undefined) throw errnoError(fault);
      nodeFileLayer.datasyncSync!(fd);
    };
  }

  openSync = nodeFileLayer.openSync;
  closeSync = nodeFileLayer.closeSync;
  sizeSync = nodeFileLayer.sizeSync;
  readSync = nodeFileLayer.readSync;
  truncate = nodeFileLayer.truncate;
  readdirSync = nodeFileLayer.readdirSync;
  unlink = nodeFileLayer.unlink;
  mkdirSync = nodeFileLayer.mkdirSync;

  async write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    this.paths.push('async');
    this.writes.push({ fd, position, length });
    const fault = this.writeFaults.shift();
    if (fault !== undefined) throw errnoError(fault);
    if (this.tornWriteBytes !== undefined) {
      const n = Math.min(this.tornWriteBytes, length);
      this.tornWriteBytes = undefined;
      await nodeFileLayer.write(fd, buf, offset, n, position);
      throw errnoError('EIO');
    }
    return nodeFileLayer.write(fd, buf, offset, length, position);
  }

  async syncDir(dir: string): Promise<void> {
    const fault = this.dirSyncFaults.shift();
    if (fault !== undefined) throw errnoError(fault);
    return nodeFileLayer.syncDir(dir);
  }

  async datasync(fd: number): Promise<void> {
    this.paths.push('async');
    this.datasyncs++;
    const fault = this.syncFaults.shift();
    if (fault !== undefined) throw errnoError(fault);
    return nodeFileLayer.datasync(fd);
  }
}
