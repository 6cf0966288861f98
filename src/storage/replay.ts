/**
 * Start-up: reads every segment of a data directory in order, rebuilds the
 * PositionIndex and the map from position to record location, cuts the torn
 * tail of the last segment, and finds corruption everywhere else.
 *
 * How damage is judged (docs/storage.md, "Start-up"):
 * - In the last segment, everything after the last intact frame is a torn
 *   tail (a write that a crash interrupted): it is cut and counted.
 * - Anywhere else, a frame whose key checksum holds but whose entry bytes do
 *   not is applied to the index (the Paxos facts are intact) and its position
 *   is marked lost. A gap of unreadable bytes could have been any record, a
 *   promise or a metadata change included: it "poisons" the metadata, and the
 *   replica opens non-voting, unless a later metadata record says the replica
 *   already went through a non-voting status after the damage was written.
 */
import { assert } from '../core/assert.js';
import { PositionIndex } from '../core/position-index.js';
import { endOfLastIntactFrame, scanFrames, type ScanItem } from './frame-scan.js';
import { readFullySync, type FileLayer } from './file-layer.js';
import type { DiskRecord } from './record-codec.js';
import { maxPositionOf, packLocation, segmentFileName, type Segment } from './segment.js';
import { join } from 'node:path';
import { LocationTable } from './location-table.js';

/** A damaged stretch of a segment found at start-up. */
export interface CorruptRegion {
  readonly segmentId: number;
  /** Byte offset of the damage in the segment file. */
  readonly offset: number;
  readonly bytes: number;
  /** The position whose entry bytes were damaged, when the record's key was still readable. */
  readonly position?: number;
}

export interface ReplayResult {
  readonly index: PositionIndex;
  /** Position -> packed location of the frame holding its action. */
  readonly locations: LocationTable;
  readonly lost: Set<number>;
  readonly segments: Segment[];
  readonly records: number;
  readonly tornBytesCut: number;
  readonly corruptRegions: CorruptRegion[];
  /** True if damage may have destroyed a promise or metadata: the replica must not vote. */
  readonly poisoned: boolean;
  readonly replicaId: number | undefined;
  readonly clusterId: string | undefined;
}

class Replayer {
  readonly index = new PositionIndex();
  readonly locations = new LocationTable();
  readonly lost = new Set<number>();
  readonly segments: Segment[] = [];
  readonly corruptRegions: CorruptRegion[] = [];
  records = 0;
  tornBytesCut = 0;
  poisoned = false;
  replicaId: number | undefined;
  clusterId: string | undefined;
  /** Records below the first segment's checkpointed beginning were ignored when written. */
  private floor = 0;

  constructor(
    private readonly layer: FileLayer,
    private readonly dir: string,
  ) {}

  /** Replays one segment; `isLast` decides whether trailing damage is a torn tail or corruption. */
  async segment(id: number, isLast: boolean): Promise<void> {
    const path = join(this.dir, segmentFileName(id));
    const fd = this.layer.openSync(path, 'r+');
    const fileBytes = this.layer.sizeSync(fd);
    const buf = Buffer.allocUnsafe(fileBytes);
    const size = readFullySync(this.layer, fd, buf, fileBytes, 0);
    const items = scanFrames(buf, size);
    const keepBytes = isLast ? endOfLastIntactFrame(items) : size;
    const seg: Segment = { id, path, fd, size: keepBytes, maxPosition: -1, records: 0 };
    const first = this.segments.length === 0;
    if (items[0]?.kind !== 'frame' || items[0].record.type !== 'header') {
      if (keepBytes > 0) this.corrupt(id, 0, 0, undefined, 'segment header missing');
    }
    for (const item of items) {
      if (item.offset >= keepBytes) break;
      this.item(seg, item, first);
    }
    if (keepBytes < fileBytes) {
      this.tornBytesCut += fileBytes - keepBytes;
      await this.layer.truncate(fd, keepBytes);
      await this.layer.datasync(fd);
    }
    this.segments.push(seg);
  }

  private item(seg: Segment, item: ScanItem, firstSegment: boolean): void {
    if (item.kind === 'gap') {
      this.corrupt(seg.id, item.offset, item.end - item.offset, undefined, 'unreadable bytes');
      return;
    }
    const rec = item.record;
    if (rec.type === 'header') {
      this.header(seg, rec, firstSegment);
      return;
    }
    this.records++;
    seg.records++;
    const pos = maxPositionOf(rec);
    seg.maxPosition = Math.max(seg.maxPosition, pos);
    if (rec.type !== 'commit' && rec.type !== 'metadata' && pos < this.floor) return;
    if (rec.type === 'metadata' && rec.metadata.status !== 'VOTING') this.poisoned = false;
    const applied = this.index.apply(rec);
    // A repair record (a lost value learned again) replaces the damaged one on replay too.
    const effect = applied.repairAt !== undefined && this.lost.has(applied.repairAt) && !item.dataLost ? { ...applied, actionAt: applied.repairAt } : applied;
    if (effect.actionAt !== undefined) {
      if (item.dataLost) {
        this.lost.add(effect.actionAt);
        this.locations.delete(effect.actionAt);
      } else {
        this.lost.delete(effect.actionAt);
        this.locations.set(effect.actionAt, packLocation(seg.id, item.offset));
      }
    }
    if (item.dataLost) this.corrupt(seg.id, item.offset, item.end - item.offset, pos, undefined);
    if (effect.truncatedBelow !== undefined) dropBelow(effect.truncatedBelow, this.locations, this.lost);
  }

  private header(seg: Segment, h: Extract<DiskRecord, { type: 'header' }>, firstSegment: boolean): void {
    if (h.segmentId !== seg.id) this.corrupt(seg.id, 0, 0, undefined, `header names segment ${h.segmentId}`);
    if (h.replicaId !== 0) this.replicaId ??= h.replicaId;
    if (h.clusterId !== '') this.clusterId ??= h.clusterId;
    if (firstSegment) this.floor = h.begin;
    // The checkpoint restores the metadata of records in deleted segments; in
    // later segments it repeats what the replay already holds (or restores
    // what a damaged record took away).
    this.index.apply({ type: 'metadata', metadata: h.metadata });
    if (h.metadata.status !== 'VOTING') this.poisoned = false;
  }

  /** Records damage; damage whose record is unknown poisons the metadata. */
  corrupt(segmentId: number, offset: number, bytes: number, position: number | undefined, why: string | undefined): void {
    this.corruptRegions.push(position === undefined ? { segmentId, offset, bytes } : { segmentId, offset, bytes, position });
    if (why !== undefined) this.poisoned = true;
  }
}

/** Forgets locations and lost marks below a new beginning. */
export function dropBelow(begin: number, locations: LocationTable, lost: Set<number>): void {
  locations.dropBelow(begin);
  for (const p of lost) if (p < begin) lost.delete(p);
}

/**
 * Replays the segments `ids` (ascending) of `dir`. Segments that are empty
 * after cutting the torn tail (a crash while creating them) are deleted.
 */
export async function replaySegments(layer: FileLayer, dir: string, ids: readonly number[]): Promise<ReplayResult> {
  assert(ids.length > 0, 'replay needs a segment');
  const r = new Replayer(layer, dir);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (i > 0 && id !== ids[i - 1]! + 1) r.corrupt(id, 0, 0, undefined, `segment ${ids[i - 1]! + 1} to ${id - 1} missing`);
    await r.segment(id, i === ids.length - 1);
  }
  const last = r.segments[r.segments.length - 1]!;
  if (last.size === 0) {
    // Created but never written (or written only in part): as if never created.
    r.segments.pop();
    layer.closeSync(last.fd);
    await layer.unlink(last.path);
    await layer.syncDir(dir);
  }
  return {
    index: r.index,
    locations: r.locations,
    lost: r.lost,
    segments: r.segments,
    records: r.records,
    tornBytesCut: r.tornBytesCut,
    corruptRegions: r.corruptRegions,
    poisoned: r.poisoned,
    replicaId: r.replicaId,
    clusterId: r.clusterId,
  };
}
