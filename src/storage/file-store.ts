/**
 * FileStore: a ReplicaStore on segmented, checksummed log files with group
 * commit. The file format, the crash cases and the error handling are
 * described in docs/storage.md; this file holds the running store, and
 * open-store.ts the start-up.
 *
 * Durability: append() applies records to the in-memory index at once and
 * queues their encoded frames; sync() writes every queued frame with one
 * write and one fdatasync per batch, and resolves only after that fdatasync
 * returned. A batch starts at the end of the event loop's current phase, so
 * every sync() of that phase shares it; calls made while a batch is on its
 * way wait for it and then share the next batch (group commit). Small batches
 * are written and synced on the main thread, large ones on the thread pool.
 */
import { assert } from '../core/assert.js';
import type { PositionIndex } from '../core/position-index.js';
import type { ReplicaStore } from '../core/store.js';
import type { Action, Metadata, PersistRecord, Position } from '../core/types.js';
import { takeRecords, type Batch, type PendingRecord } from './batch.js';
import { StorageFatalError, StoreClosedError, toFatalError, toStorageError, type StorageFullError, type StorageIOError } from './errors.js';
import { writeParts, writePartsSync, writesSynchronously, type FileLayer } from './file-layer.js';
import { encodeFrame, encodeFrameHead, separateData } from './record-codec.js';
import { RANGE_SPAN_BYTES, readAction, readActionRange } from './record-reader.js';
import { dropBelow, type CorruptRegion } from './replay.js';
import { locationOffset, locationSegment, maxPositionOf, packLocation, segmentFileName, type Segment } from './segment.js';
import { releaseLock, type DirLock } from './lock.js';
import { LocationTable } from './location-table.js';
import { loadDataDir, type FileStoreOptions } from './open-store.js';
import { IndexedView } from './indexed-view.js';
import { recoveringMetadata } from './stored-config.js';
import { join } from 'node:path';

/** What FileStore.open found; see docs/storage.md for each case. */
export interface OpenReport {
  /** True if the directory held no segment and a new one was created. */
  readonly created: boolean;
  readonly segments: number;
  /** Records replayed (segment headers not counted). */
  readonly records: number;
  /** Bytes cut from the end of the last segment: a write a crash interrupted. */
  readonly tornBytesCut: number;
  /** Damage found anywhere but the torn tail. */
  readonly corruptRegions: readonly CorruptRegion[];
  /** Positions whose entry bytes were found damaged (never served; to be repaired). */
  readonly lostPositions: readonly Position[];
  /**
   * True if damage may have destroyed metadata or a promise: the store then
   * set its metadata to status RECOVERING with promised 0 (and made that
   * durable), so the replica does not vote until autorecovery repaired it.
   */
  readonly metadataCorrupted: boolean;
}

/** The running parts that FileStore.open hands to the constructor. */
export interface FileStoreParts {
  readonly dir: string;
  readonly layer: FileLayer;
  readonly lock: DirLock;
  readonly index: PositionIndex;
  readonly locations: LocationTable;
  readonly lost: Set<Position>;
  readonly segments: Segment[];
  readonly replicaId: number;
  readonly clusterId: string;
  readonly segmentBytesMax: number;
  readonly batchBytesMax: number;
  /** Batches of at most this many bytes are written and synced on the main thread (open-store.ts). */
  readonly syncWriteBytesMax: number;
  readonly log: (message: string) => void;
  /** The directory's checksum salt (seeds every frame's checksums but the headers'). */
  readonly salt: number;
  /** The highest proposal the headers checkpointed (promises and accepts of deleted segments). */
  readonly highestProposalFloor: number;
}

export class FileStore extends IndexedView implements ReplicaStore {
  /** Set by FileStore.open (open-store.ts) once start-up finished. */
  openReport!: OpenReport;
  readonly dir: string;
  /** The replica's id recorded in the data directory; 0 if never given. */
  readonly replicaId: number;
  /** The cluster's id recorded in the data directory; '' if never given. */
  readonly clusterId: string;
  private readonly layer: FileLayer;
  protected readonly index: PositionIndex;
  /** Position -> packed location (segment, offset) of the durable frame holding its action. */
  private readonly locations: LocationTable;
  /** Actions appended but not yet durable, served from memory until they are. */
  private readonly unwritten = new Map<Position, Action>();
  protected readonly lost: Set<Position>;
  /** Live segments, ascending and consecutive; the last one takes new batches. */
  private readonly segments: Segment[];
  private pending: PendingRecord[] = [];
  /** The batch being written; kept after a failure to be written again. */
  private inflight: Batch | null = null;
  private seq = 0;
  private durable = 0;
  /** Metadata and beginning as of the last record handed to a batch (for new segment headers). */
  private writtenMeta: Metadata;
  private writtenBegin: Position;
  /** Highest proposal of the promise and accept records handed to a batch (for new segment headers). */
  private writtenHighest: number;
  /** Set while the last write failed: the next sync writes the same batch again; append() still queues. */
  private failure: StorageFullError | StorageIOError | null = null;
  /** Set once an fsync failed: the store refuses everything from then on (docs/storage.md, "fsyncgate"). */
  private fatal: StorageFatalError | null = null;
  /** The next batch opens a new segment whatever the active one holds (damage found at start-up is sealed off). */
  private rollNext = false;
  private readonly salt: number;
  private running: Promise<number> | null = null;
  private waiting: Promise<number> | null = null;
  /** A beginning whose segments may be deleted once the record that moved it (`seq`) is durable. */
  private truncation: { below: Position; seq: number } | null = null;
  private reclaiming: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly lock: DirLock;
  private readonly segmentBytesMax: number;
  private readonly batchBytesMax: number;
  /** 0 when the layer has no synchronous calls. */
  private readonly syncWriteBytesMax: number;
  private readonly log: (message: string) => void;

  /**
   * Opens (or creates) the data directory `dir`: takes its lock, replays its
   * segments, cuts a torn tail; see OpenReport for what it found. Throws
   * DataDirLockedError if another open store (in any process) holds the directory.
   */
  static async open(dir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const loaded = await loadDataDir(dir, options);
    const store = new FileStore(loaded.parts);
    try {
      if (loaded.poisoned) {
        // Damage may have destroyed a promise: do not vote until repaired, and
        // make that durable so it survives the damaged segment's deletion. It
        // goes into a new segment, after a header: a trusted place, which the
        // next start-up reads as "went non-voting after the damage".
        // The chain and the cluster id still readable are kept (stored-config.ts, recoveringMetadata): without
        // them the replica would rejoin the flags' members, which after a change may be no cluster at all.
        store.rollNext = true;
        store.append([{ type: 'metadata', metadata: recoveringMetadata(store.metadata()) }]);
        await store.sync();
        loaded.parts.log(`replog storage: ${dir} may have lost a promise or its metadata; starting RECOVERING (not voting)`);
      }
    } catch (e) {
      await store.close().catch(() => undefined);
      throw e;
    }
    store.openReport = { ...loaded.report, lostPositions: store.lostPositions(), metadataCorrupted: loaded.poisoned };
    return store;
  }

  /** Use FileStore.open. */
  constructor(parts: FileStoreParts) {
    super();
    assert(parts.segments.length > 0, 'a store has a segment');
    assert(parts.batchBytesMax > 0 && parts.segmentBytesMax > 0, 'positive bounds');
    this.dir = parts.dir;
    this.layer = parts.layer;
    this.lock = parts.lock;
    this.index = parts.index;
    this.locations = parts.locations;
    this.lost = parts.lost;
    this.segments = parts.segments;
    this.replicaId = parts.replicaId;
    this.clusterId = parts.clusterId;
    this.segmentBytesMax = parts.segmentBytesMax;
    this.batchBytesMax = parts.batchBytesMax;
    this.syncWriteBytesMax = writesSynchronously(parts.layer) ? parts.syncWriteBytesMax : 0;
    this.log = parts.log;
    this.salt = parts.salt;
    this.highestFloor = parts.highestProposalFloor;
    this.writtenMeta = parts.index.metadata();
    this.writtenBegin = parts.index.begin();
    this.writtenHighest = this.highestProposal();
  }

  durableSeq(): number {
    return this.durable;
  }
  /** The number of segment files in use. */
  segmentCount(): number {
    return this.segments.length;
  }
  /** The error that put the store in its failed (or, for an fsync, fatal) state, or null. */
  failedWith(): StorageFullError | StorageIOError | StorageFatalError | null {
    return this.fatal ?? this.failure;
  }

  /** Reads a position's action from its segment, re-checking the checksums; damage marks it lost. */
  action(position: Position): Action | 'lost' | undefined {
    const s = this.index.slot(position);
    if (s === undefined || s.kind === undefined) return undefined;
    if (this.lost.has(position)) return 'lost';
    const mem = this.unwritten.get(position);
    if (mem !== undefined) return mem;
    const loc = this.locations.get(position);
    return this.checked(position, loc === undefined ? 'no location' : readAction(this.layer, this.segments, position, loc, this.salt));
  }

  /**
   * action() for many positions: the durable frames of neighbouring positions
   * (same segment, ascending offsets within RANGE_SPAN_BYTES) are read with one
   * read each run, and every frame is checked as action() checks it.
   */
  readActions(positions: readonly Position[]): (Action | 'lost' | undefined)[] {
    const out = new Array<Action | 'lost' | undefined>(positions.length);
    // The run being gathered: indexes into `positions`, and their locations.
    let runAt: number[] = [];
    let runLocs: number[] = [];
    const flush = (): void => {
      if (runAt.length === 0) return;
      const read = runAt.length === 1 ? [readAction(this.layer, this.segments, positions[runAt[0]!]!, runLocs[0]!, this.salt)] : readActionRange(this.layer, this.segments, runAt.map((i) => positions[i]!), runLocs, this.salt);
      for (let k = 0; k < runAt.length; k++) out[runAt[k]!] = this.checked(positions[runAt[k]!]!, read[k]!);
      runAt = [];
      runLocs = [];
    };
    for (let i = 0; i < positions.length; i++) {
      const position = positions[i]!;
      const s = this.index.slot(position);
      const loc = s === undefined || s.kind === undefined || this.lost.has(position) || this.unwritten.has(position) ? undefined : this.locations.get(position);
      if (loc === undefined) {
        out[i] = this.action(position);
        continue;
      }
      if (runLocs.length > 0) {
        const first = runLocs[0]!;
        const prev = runLocs[runLocs.length - 1]!;
        const joins = locationSegment(loc) === locationSegment(first) && loc > prev && locationOffset(loc) - locationOffset(first) <= RANGE_SPAN_BYTES;
        if (!joins) flush();
      }
      runAt.push(i);
      runLocs.push(loc);
    }
    flush();
    return out;
  }

  /** A frame read's result: the action, or 'lost' (recorded and logged) when it could not be read intact. */
  private checked(position: Position, read: Action | string): Action | 'lost' {
    if (typeof read !== 'string') return read;
    this.lost.add(position);
    this.log(`replog storage: position ${position} is lost (${read}); it will not be served`);
    return 'lost';
  }

  /**
   * Applies and queues records. A failed write does not make it throw: the
   * records wait in memory and go to disk with the batch written again
   * (nothing is lost that the caller was told was taken); only a closed or
   * fatally failed store refuses. The entry bytes of append records are
   * written from the caller's arrays, not copied: they must not change until
   * the records are durable (the replica's come from decoded requests, which
   * nothing writes to).
   */
  append(records: readonly PersistRecord[]): number {
    if (this.closed) throw new StoreClosedError(`store ${this.dir} is closed`);
    if (this.fatal !== null) throw this.fatal;
    for (const r of records) {
      // An entry's bytes are written from where they are, not copied into the frame (record-codec.ts).
      const data = separateData(r);
      const frame = data === undefined ? encodeFrame(r, this.salt) : encodeFrameHead(r, this.salt);
      const applied = this.index.apply(r);
      // A repair (a learned value learned again) counts only where our bytes were lost.
      const effect = applied.repairAt !== undefined && this.lost.has(applied.repairAt) ? { ...applied, actionAt: applied.repairAt } : applied;
      this.seq++;
      let action: Action | undefined;
      if (effect.actionAt !== undefined) {
        assert(r.type === 'accept' || r.type === 'learn', 'only accept and learn set an action');
        action = r.action;
        this.unwritten.set(effect.actionAt, action);
        this.lost.delete(effect.actionAt);
      }
      if (effect.truncatedBelow !== undefined) {
        dropBelow(effect.truncatedBelow, this.locations, this.lost);
        for (const p of this.unwritten.keys()) if (p < effect.truncatedBelow) this.unwritten.delete(p);
        this.truncation = { below: effect.truncatedBelow, seq: this.seq };
      }
      // One object shape for every record (no spreads): the hot path allocates one object per record.
      this.pending.push({
        frame,
        data,
        bytes: data === undefined ? frame.length : frame.length + data.length,
        seq: this.seq,
        maxPosition: maxPositionOf(r),
        actionAt: effect.actionAt,
        action,
        truncatedBelow: effect.truncatedBelow,
        metadata: r.type === 'metadata' ? r.metadata : undefined,
        proposal: r.type === 'promise' ? r.promised : r.type === 'accept' ? r.proposal : 0,
      });
    }
    return this.seq;
  }

  /**
   * Resolves once every record appended before the call is durable. While a
   * batch is in flight, callers wait and share the next batch. After a
   * failure, a call writes the failed batch again; success clears the failure.
   */
  sync(): Promise<number> {
    if (this.closed) return Promise.reject(new StoreClosedError(`store ${this.dir} is closed`));
    if (this.fatal !== null) return Promise.reject(this.fatal);
    // A call made after the batch in flight was formed must wait for the next
    // one; all such calls share it. Never two runs at once: batches go to disk
    // strictly in order.
    if (this.waiting !== null) return this.waiting;
    if (this.running !== null) {
      this.waiting = this.running.then(
        () => this.startRun(),
        () => this.startRun(),
      );
      return this.waiting;
    }
    if (this.durable === this.seq) return Promise.resolve(this.durable);
    // Nothing on its way: the run starts once the current phase of the event
    // loop is over (setImmediate), so the records of every message read in
    // this phase share one write and one fdatasync, even when a small batch
    // is then written on the main thread and would otherwise be done before
    // the next message is read.
    this.waiting = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.startRun());
    return this.waiting;
  }

  /** Retries the failed batch (the same as sync(), named for operators' tools). */
  retry(): Promise<number> {
    return this.sync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    let err: unknown;
    try {
      if (this.failure === null && this.fatal === null && (this.pending.length > 0 || this.inflight !== null)) await this.sync();
      else if (this.running !== null) await this.running.catch(() => undefined);
    } catch (e) {
      err = e;
    }
    // Deletions under way finish first: their file descriptors close below.
    await this.reclaiming;
    this.closed = true;
    for (const s of this.segments) this.layer.closeSync(s.fd);
    if (this.inflight?.newSegment === true && this.inflight.fd !== undefined) this.layer.closeSync(this.inflight.fd);
    // Closing the descriptor releases the kernel's lock.
    releaseLock(this.lock);
    if (err !== undefined) throw err;
  }

  private startRun(): Promise<number> {
    this.waiting = null;
    assert(this.running === null, 'one run at a time');
    if (this.durable < this.seq && this.closed) return Promise.reject(new StoreClosedError(`store ${this.dir} is closed`));
    if (this.durable < this.seq && this.fatal !== null) return Promise.reject(this.fatal);
    const run = this.flushThrough(this.seq);
    this.running = run;
    const clear = (): void => {
      if (this.running === run) this.running = null;
    };
    run.then(clear, clear);
    return run;
  }

  private async flushThrough(target: number): Promise<number> {
    while (this.durable < target) {
      const batch = this.inflight ?? (this.inflight = this.formBatch());
      try {
        await this.writeBatch(batch);
      } catch (e) {
        if (e instanceof StorageFatalError) {
          this.fatal = e;
          this.log(`replog storage: ${e.message}`);
          throw e;
        }
        this.failure = toStorageError(e, `storage ${this.dir}: writing ${batch.records.length} records to ${batch.segmentPath}`);
        this.log(`replog storage: ${this.failure.message}; the batch is written again at the next sync`);
        throw this.failure;
      }
      this.inflight = null;
      if (this.failure !== null) this.log(`replog storage: ${this.dir} writes again after ${this.failure.errno}`);
      this.failure = null;
      this.completeBatch(batch);
    }
    assert(this.durable >= target, 'sync resolved before its records were durable');
    return this.durable;
  }

  /** Moves the first pending records into a batch, opening a new segment if the active one is full. */
  private formBatch(): Batch {
    assert(this.pending.length > 0, 'a batch needs records');
    const records = takeRecords(this.pending, this.batchBytesMax);
    const recordBytes = records.reduce((n, r) => n + r.bytes, 0);
    const active = this.segments[this.segments.length - 1]!;
    const roll = this.rollNext || (active.records > 0 && active.size + recordBytes > this.segmentBytesMax);
    this.rollNext = false;
    const parts: Uint8Array[] = [];
    const segmentId = roll ? active.id + 1 : active.id;
    let seal: Buffer | undefined;
    if (roll) {
      parts.push(
        encodeFrame({
          type: 'header',
          segmentId,
          replicaId: this.replicaId,
          clusterId: this.clusterId,
          begin: this.writtenBegin,
          metadata: this.writtenMeta,
          highestProposal: this.writtenHighest,
          prevBytes: active.size,
          prevLastCrc: active.lastCrc,
          prevMaxPosition: active.maxPosition,
          salt: this.salt,
        }),
      );
      // A segment already sealed (its successor was lost, found at start-up) names this id already.
      if (!active.sealed) seal = encodeFrame({ type: 'seal', nextSegmentId: segmentId, bytesBefore: active.size, lastFrameCrc: active.lastCrc }, this.salt);
    }
    const offset = roll ? 0 : active.size;
    let at = offset + (parts[0]?.length ?? 0);
    const frameOffsets: number[] = [];
    for (const r of records) {
      frameOffsets.push(at);
      at += r.bytes;
      parts.push(r.frame);
      if (r.data !== undefined) parts.push(r.data);
      if (r.metadata !== undefined) this.writtenMeta = r.metadata;
      if (r.truncatedBelow !== undefined) this.writtenBegin = Math.max(this.writtenBegin, r.truncatedBelow);
      this.writtenHighest = Math.max(this.writtenHighest, r.proposal);
    }
    const segmentPath = roll ? join(this.dir, segmentFileName(segmentId)) : active.path;
    const lastSeq = records[records.length - 1]!.seq;
    const last = records[records.length - 1]!.frame;
    return {
      records,
      parts,
      byteLength: at - offset,
      frameOffsets,
      segmentId,
      segmentPath,
      offset,
      newSegment: roll,
      fd: roll ? undefined : active.fd,
      lastSeq,
      lastCrc: last.readUInt32LE(4),
      seal,
      sealFd: active.fd,
      sealOffset: active.size,
    };
  }

  /**
   * One attempt: (create the segment,) write the bytes at their offset,
   * fdatasync, (fsync the directory, then seal the previous segment and
   * fdatasync it: a sealed segment proves its successor was durable, so a
   * batch in a new segment is acknowledged only after the seal). A failed
   * write leaves the batch to be written again; a failed fsync is fatal.
   */
  private async writeBatch(b: Batch): Promise<void> {
    if (!b.newSegment && b.byteLength <= this.syncWriteBytesMax) return this.writeBatchSync(b);
    if (b.fd === undefined) b.fd = this.layer.openSync(b.segmentPath, 'wx+');
    await writeParts(this.layer, b.fd, b.parts, b.byteLength, b.offset);
    await this.fsync(this.layer.datasync(b.fd), `fdatasync of ${b.segmentPath}`);
    if (!b.newSegment) return;
    await this.fsync(this.layer.syncDir(this.dir), `fsync of directory ${this.dir}`);
    if (b.seal === undefined) return;
    await writeParts(this.layer, b.sealFd, [b.seal], b.seal.length, b.sealOffset);
    await this.fsync(this.layer.datasync(b.sealFd), `fdatasync of segment ${b.segmentId - 1}`);
  }

  /**
   * writeBatch for a small batch into the active segment, on the main thread:
   * the same write and fdatasync with the same failures (a failed write leaves
   * the batch to be written again, a failed fdatasync is fatal), without two
   * round trips through the thread pool.
   */
  private writeBatchSync(b: Batch): void {
    assert(b.fd !== undefined, 'a batch into the active segment has its file');
    writePartsSync(this.layer, b.fd, b.parts, b.byteLength, b.offset);
    try {
      this.layer.datasyncSync!(b.fd);
    } catch (e) {
      throw toFatalError(e, `storage ${this.dir}: fdatasync of ${b.segmentPath}`);
    }
  }

  /** Awaits an fsync; its failure is fatal (StorageFatalError). */
  private async fsync(done: Promise<void>, what: string): Promise<void> {
    try {
      await done;
    } catch (e) {
      throw toFatalError(e, `storage ${this.dir}: ${what}`);
    }
  }

  /** The batch is durable: record where its actions live and release its sequence numbers. */
  private completeBatch(b: Batch): void {
    assert(b.fd !== undefined, 'a written batch has a file');
    let seg = this.segments[this.segments.length - 1]!;
    if (b.newSegment) {
      if (b.seal !== undefined) seg.size += b.seal.length;
      seg.sealed = true;
      seg = { id: b.segmentId, path: b.segmentPath, fd: b.fd, size: 0, maxPosition: -1, records: 0, lastCrc: 0, sealed: false };
      this.segments.push(seg);
    }
    assert(seg.id === b.segmentId && seg.size === b.offset, 'batches are written in order');
    seg.size = b.offset + b.byteLength;
    seg.records += b.records.length;
    seg.lastCrc = b.lastCrc;
    const begin = this.index.begin();
    for (let i = 0; i < b.records.length; i++) {
      const r = b.records[i]!;
      seg.maxPosition = Math.max(seg.maxPosition, r.maxPosition);
      if (r.actionAt === undefined || r.actionAt < begin) continue;
      this.locations.set(r.actionAt, packLocation(seg.id, b.frameOffsets[i]!));
      if (this.unwritten.get(r.actionAt) === r.action) this.unwritten.delete(r.actionAt);
    }
    this.durable = b.lastSeq;
    const t = this.truncation;
    if (t !== null && t.seq <= this.durable) {
      this.truncation = null;
      this.reclaiming = this.reclaiming.then(() => this.reclaim(t.below));
    }
  }

  /**
   * Deletes the oldest segments whose every record is below `below` (never
   * the active one), one by one. A failed unlink is logged (space comes back
   * at the next truncation); a failed directory fsync is fatal like any fsync.
   */
  private async reclaim(below: Position): Promise<void> {
    while (this.segments.length > 1 && this.segments[0]!.maxPosition < below && !this.closed && this.fatal === null) {
      const s = this.segments[0]!;
      try {
        await this.layer.unlink(s.path);
      } catch (e) {
        this.log(`replog storage: could not delete truncated segment ${s.path}: ${String(e)}`);
        return;
      }
      this.segments.shift();
      this.layer.closeSync(s.fd);
      try {
        // One directory fsync per file: deletions become durable in order, so
        // a crash leaves a suffix of segments, never a hole.
        await this.fsync(this.layer.syncDir(this.dir), `fsync of directory ${this.dir} after deleting ${s.path}`);
      } catch (e) {
        this.fatal = e as StorageFatalError;
        this.log(`replog storage: ${this.fatal.message}`);
        return;
      }
    }
  }
}
