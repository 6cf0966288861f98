/**
 * Start-up of a FileStore: lock the directory, replay or create the
 * segments, check that the directory belongs to this replica and cluster.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { PositionIndex } from '../core/position-index.js';
import type { Metadata } from '../core/types.js';
import { InvalidArgumentError } from '../core/errors.js';
import { DataDirMismatchError, toFatalError } from './errors.js';
import { nodeFileLayer, writeFully, type FileLayer } from './file-layer.js';
import type { FileStoreParts, OpenReport } from './file-store.js';
import { acquireLock, releaseLock } from './lock.js';
import { encodeFrame, STRING_BYTES_MAX } from './record-codec.js';
import { replaySegments, type ReplayResult } from './replay.js';
import { parseSegmentFileName, segmentFileName, type Segment } from './segment.js';
import { join } from 'node:path';
import { LocationTable } from './location-table.js';

export interface FileStoreOptions {
  /** This replica's id; recorded in a new directory, checked against an existing one. */
  readonly replicaId?: number;
  /** The cluster's id; recorded in a new directory, checked against an existing one. */
  readonly clusterId?: string;
  /** A segment is closed and a new one started once a batch would take it past this size. Default 64 MiB. */
  readonly segmentBytesMax?: number;
  /** Most bytes one write carries (more pending records go in the next batch). Default 8 MiB. */
  readonly batchBytesMax?: number;
  /**
   * Batches of at most this many bytes (into the active segment) are written
   * and fdatasynced on the main thread, larger ones on libuv's thread pool so
   * they do not hold up the event loop. 0: always the thread pool. Default 16 KiB.
   */
  readonly syncWriteBytesMax?: number;
  /** The metadata of a new directory. Default: EMPTY, promised 0, a random incarnation. */
  readonly initialMetadata?: Metadata;
  /** The file system; tests inject faults through it. */
  readonly fileLayer?: FileLayer;
  /** Where corruption and I/O failures are reported (one line each). Default: dropped. */
  readonly log?: (message: string) => void;
}

export const SEGMENT_BYTES_DEFAULT = 64 * 1024 * 1024;
export const BATCH_BYTES_DEFAULT = 8 * 1024 * 1024;
/**
 * Batches up to this size are written and synced on the main thread. Small:
 * a blocking fdatasync stops the loop from reading the next requests, and a
 * replica reads at most 64 KiB per socket read, so at 64 KiB every read of a
 * busy writer's stream got its own blocking sync (16 KiB entries at 256 in
 * flight fell from 72 to 42 MB/s in one run); 16 KiB covers the sequential
 * and lightly loaded cases (256 B entries at up to about 50 in flight), and
 * larger batches, which come only under load, keep the thread pool's overlap.
 */
export const SYNC_WRITE_BYTES_DEFAULT = 16 * 1024;

type Report = Omit<OpenReport, 'lostPositions' | 'metadataCorrupted'>;

/** A new directory's checksum salt (see record-codec.ts). */
function newSalt(): number {
  return randomBytes(4).readUInt32LE(0);
}

/** Everything FileStore.open needs to build the store. */
export async function loadDataDir(
  dir: string,
  options: FileStoreOptions,
): Promise<{ parts: FileStoreParts; report: Report; poisoned: boolean }> {
  validateOptions(options);
  const layer = options.fileLayer ?? nodeFileLayer;
  layer.mkdirSync(dir);
  const lock = acquireLock(dir);
  try {
    const ids = layer
      .readdirSync(dir)
      .map(parseSegmentFileName)
      .filter((id): id is number => id !== undefined)
      .sort((a, b) => a - b);
    const replay = ids.length > 0 ? await replaySegments(layer, dir, ids) : undefined;
    const replicaId = checkId('replica id', dir, replay?.replicaId, options.replicaId, 0);
    const clusterId = checkId('cluster id', dir, replay?.clusterId, options.clusterId, '');
    let state: Pick<ReplayResult, 'index' | 'locations' | 'lost' | 'segments' | 'highestProposalFloor'> & { salt: number };
    const created = replay === undefined;
    if (created) {
      const metadata = options.initialMetadata ?? { status: 'EMPTY', promised: 0, incarnation: randomUUID() };
      const index = new PositionIndex(metadata);
      const salt = newSalt();
      const first = await createFirstSegment(layer, dir, replicaId, clusterId, metadata, salt);
      state = { index, locations: new LocationTable(), lost: new Set(), segments: [first], highestProposalFloor: 0, salt };
    } else {
      // Without any readable header the salt is lost: new segments take a new one (the old frames are damage anyway).
      state = { ...replay, salt: replay.salt ?? newSalt() };
    }
    const parts: FileStoreParts = {
      dir,
      layer,
      lock,
      ...state,
      replicaId,
      clusterId,
      segmentBytesMax: options.segmentBytesMax ?? SEGMENT_BYTES_DEFAULT,
      batchBytesMax: options.batchBytesMax ?? BATCH_BYTES_DEFAULT,
      syncWriteBytesMax: options.syncWriteBytesMax ?? SYNC_WRITE_BYTES_DEFAULT,
      log: options.log ?? (() => undefined),
    };
    const report: Report = {
      created,
      segments: state.segments.length,
      records: replay?.records ?? 0,
      tornBytesCut: replay?.tornBytesCut ?? 0,
      corruptRegions: replay?.corruptRegions ?? [],
    };
    for (const c of report.corruptRegions) {
      parts.log(`replog storage: ${dir}: damage in segment ${c.segmentId} at byte ${c.offset} (${c.bytes} bytes): ${c.why}` + (c.position === undefined ? '' : `, position ${c.position} lost`));
    }
    return { parts, report, poisoned: !created && replay.poisoned };
  } catch (e) {
    releaseLock(lock);
    throw e;
  }
}

/** Options come from users (CLI flags, config): refuse bad ones with a clear error, not an assertion. */
function validateOptions(o: FileStoreOptions): void {
  const bad = (what: string): never => {
    throw new InvalidArgumentError(`FileStore option ${what}`);
  };
  if (o.replicaId !== undefined && !(Number.isSafeInteger(o.replicaId) && o.replicaId > 0)) bad(`replicaId must be a positive integer, got ${o.replicaId}`);
  if (o.clusterId !== undefined && Buffer.byteLength(o.clusterId) > STRING_BYTES_MAX) bad(`clusterId must be at most ${STRING_BYTES_MAX} bytes`);
  for (const k of ['segmentBytesMax', 'batchBytesMax'] as const) {
    const v = o[k];
    // Both at most 1 GiB: a segment (at most one segment plus one batch plus one
    // record) then stays below 4 GiB, as packed locations need.
    if (v !== undefined && !(Number.isSafeInteger(v) && v > 0 && v <= 2 ** 30)) bad(`${k} must be a positive integer of at most 1 GiB, got ${v}`);
  }
  const sw = o.syncWriteBytesMax;
  if (sw !== undefined && !(Number.isSafeInteger(sw) && sw >= 0 && sw <= 2 ** 30)) bad(`syncWriteBytesMax must be an integer from 0 to 1 GiB, got ${sw}`);
  const inc = o.initialMetadata?.incarnation;
  if (inc !== undefined && Buffer.byteLength(inc) > STRING_BYTES_MAX) bad(`initialMetadata.incarnation must be at most ${STRING_BYTES_MAX} bytes`);
}

function checkId<T extends number | string>(what: string, dir: string, stored: T | undefined, given: T | undefined, none: T): T {
  if (stored !== undefined && given !== undefined && stored !== given) {
    throw new DataDirMismatchError(`data directory ${dir} belongs to ${what} ${String(stored)}, not ${String(given)}`);
  }
  return stored ?? given ?? none;
}

/**
 * Creates segment 1 holding only its header, durably (file and directory
 * entry). A crash on the way leaves a file with nothing intact in it, which
 * the next start-up deletes (replay.ts, creation debris).
 */
async function createFirstSegment(layer: FileLayer, dir: string, replicaId: number, clusterId: string, metadata: Metadata, salt: number): Promise<Segment> {
  const path = join(dir, segmentFileName(1));
  const fd = layer.openSync(path, 'wx+');
  const header = encodeFrame({ type: 'header', segmentId: 1, replicaId, clusterId, begin: 0, metadata, highestProposal: 0, prevBytes: 0, prevLastCrc: 0, prevMaxPosition: -1, salt });
  try {
    await writeFully(layer, fd, header, 0);
    await layer.datasync(fd);
    await layer.syncDir(dir);
  } catch (e) {
    layer.closeSync(fd);
    throw toFatalError(e, `storage ${dir}: creating ${path}`);
  }
  return { id: 1, path, fd, size: header.length, maxPosition: -1, records: 0, lastCrc: 0, sealed: false };
}
