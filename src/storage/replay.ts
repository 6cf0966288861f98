/**
 * Start-up: reads every segment of a data directory in order, checks the
 * chain of segments, rebuilds the PositionIndex and the map from position to
 * record location, cuts the torn tail of the last segment, and finds damage
 * everywhere else. docs/storage.md ("Start-up") states each rule and what
 * follows from it; in short:
 * - The last segment's tail is cut only if it is an incomplete last write
 *   (frame-scan.ts, isTornTail); a complete frame that fails its checksums is
 *   corruption, kept and reported.
 * - A frame whose key holds but whose entry bytes do not: its Paxos facts are
 *   applied and its position is marked lost (repaired from the others).
 * - Anything else that may have held a record (a gap of unreadable bytes, a
 *   segment missing, cut, without a valid header, a last segment that is
 *   sealed) "poisons" the metadata: the replica must not vote until it has
 *   rejoined. Only a trusted record lowers that alarm: a segment header at
 *   offset 0, or a metadata record reached from one without a gap, whose
 *   status is not VOTING (the replica already went through a non-voting
 *   phase after the damaged bytes were written). Records found by
 *   resynchronising after a gap are applied but never lower it.
 */
import { PositionIndex } from '../core/position-index.js';
import { isTornTail, scanFrames, type ScanItem } from './frame-scan.js';
import { readFullySync, type FileLayer } from './file-layer.js';
import { checkFrame, type DiskRecord, type SegmentHeader } from './record-codec.js';
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
  /** What was found, for the log. */
  readonly why: string;
}

export interface ReplayResult {
  readonly index: PositionIndex;
  /** Position -> packed location of the frame holding its action. */
  readonly locations: LocationTable;
  readonly lost: Set<number>;
  /** Live segments, ascending (ids may skip where damage removed some). */
  readonly segments: Segment[];
  readonly records: number;
  readonly tornBytesCut: number;
  readonly corruptRegions: CorruptRegion[];
  /** True if damage may have destroyed a promise or metadata: the replica must not vote. */
  readonly poisoned: boolean;
  /** The highest proposal the segment headers checkpointed (promises and accepts of deleted segments). */
  readonly highestProposalFloor: number;
  /** The directory's checksum salt, from the first readable header; undefined if none could be read. */
  readonly salt: number | undefined;
  readonly replicaId: number | undefined;
  readonly clusterId: string | undefined;
}

/** One segment file, read whole. */
interface SegmentFile {
  readonly id: number;
  readonly path: string;
  readonly fd: number;
  readonly buf: Buffer;
  readonly size: number;
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
  /** A trusted non-VOTING metadata was seen anywhere (lowers the alarm of segments missing before the first). */
  sawTrustedNonVoting = false;
  highestFloor = 0;
  replicaId: number | undefined;
  clusterId: string | undefined;
  /** Records below the first segment's checkpointed beginning were ignored when written. */
  private floor = 0;
  /** The previous segment as replayed: its end and last checksum, for the next header's link. */
  private prev: { id: number; sealAt: number | undefined; size: number; lastCrc: number } | undefined;

  constructor(
    private readonly layer: FileLayer,
    readonly salt: number,
  ) {}

  /** Replays one segment; `isLast` decides whether trailing damage may be a torn tail. */
  async segment(f: SegmentFile, isLast: boolean): Promise<void> {
    const items = scanFrames(f.buf, f.size, this.salt);
    const first = items[0];
    const header = first?.kind === 'frame' && first.offset === 0 && first.record.type === 'header' && first.record.segmentId === f.id ? first.record : undefined;
    this.link(f, header);
    // Items after a gap were found by resynchronising: applied, never trusted to lower the alarm.
    let trusted = header !== undefined;
    const seg: Segment = { id: f.id, path: f.path, fd: f.fd, size: f.size, maxPosition: -1, records: 0, lastCrc: 0, sealed: false };
    let sealAt: number | undefined;
    if (header !== undefined) this.header(header, this.segments.length === 0);
    else this.corrupt(f.id, 0, 0, undefined, f.size === 0 ? 'segment file is empty' : 'segment header missing or damaged', true);
    for (let i = header === undefined ? 0 : 1; i < items.length; i++) {
      const item = items[i]!;
      if (sealAt !== undefined) {
        this.corrupt(f.id, item.offset, item.end - item.offset, undefined, 'bytes after the seal', true);
        continue;
      }
      if (item.kind === 'gap') {
        // A file without a valid header is never cut: it is not known to be ours.
        if (isLast && header !== undefined && i === items.length - 1 && isTornTail(f.buf, item.offset, f.size)) {
          seg.size = item.offset;
          break;
        }
        this.corrupt(f.id, item.offset, item.end - item.offset, undefined, 'unreadable bytes', true);
        trusted = false;
        continue;
      }
      const rec = item.record;
      if (rec.type === 'seal') {
        const prevCrc = seg.lastCrc;
        if (rec.nextSegmentId !== f.id + 1 || rec.bytesBefore !== item.offset || rec.lastFrameCrc !== prevCrc) this.corrupt(f.id, item.offset, item.end - item.offset, undefined, 'seal does not match its segment', true);
        sealAt = item.offset;
        seg.sealed = true;
        continue;
      }
      if (rec.type === 'header') continue; // scanFrames keeps headers at offset 0 only
      seg.lastCrc = f.buf.readUInt32LE(item.offset + 4);
      this.record(seg, item, rec, trusted);
    }
    if (seg.size < f.size) {
      this.tornBytesCut += f.size - seg.size;
      await this.layer.truncate(f.fd, seg.size);
      await this.layer.datasync(f.fd);
    }
    if (isLast && seg.sealed) this.corrupt(f.id + 1, 0, 0, undefined, `segment ${f.id} is sealed but segment ${f.id + 1} is missing`, true);
    this.prev = { id: f.id, sealAt, size: seg.size, lastCrc: seg.lastCrc };
    this.segments.push(seg);
  }

  /** Checks that the segment follows the previous one as its header says. */
  private link(f: SegmentFile, h: SegmentHeader | undefined): void {
    const p = this.prev;
    if (p === undefined) return;
    if (p.id !== f.id - 1) {
      this.corrupt(p.id + 1, 0, 0, undefined, `segments ${p.id + 1} to ${f.id - 1} missing`, true);
      return;
    }
    if (h === undefined) return; // reported as a missing header
    // The seal goes where the previous segment ended; without it (a crash
    // between creating this segment and sealing that one) that segment must end there.
    const end = p.sealAt ?? p.size;
    if (end !== h.prevBytes || p.lastCrc !== h.prevLastCrc) {
      this.corrupt(p.id, end, 0, undefined, `segment ${p.id} ends at byte ${end}, but segment ${f.id} says ${h.prevBytes}: it was cut or replaced`, true);
    }
  }

  private record(seg: Segment, item: Extract<ScanItem, { kind: 'frame' }>, rec: Exclude<DiskRecord, { type: 'header' | 'seal' }>, trusted: boolean): void {
    this.records++;
    seg.records++;
    const pos = maxPositionOf(rec);
    seg.maxPosition = Math.max(seg.maxPosition, pos);
    if (rec.type !== 'commit' && rec.type !== 'metadata' && pos < this.floor) return;
    if (rec.type === 'metadata' && rec.metadata.status !== 'VOTING' && trusted) this.lowerAlarm();
    const applied = this.index.apply(rec);
    // A repair record (a lost value learned again) replaces the damaged one on replay too.
    // A frame whose length field rotted is known by its key, but read back by its length: its bytes count as lost too.
    const bytesLost = item.dataLost || item.lengthDamaged;
    const effect = applied.repairAt !== undefined && this.lost.has(applied.repairAt) && !bytesLost ? { ...applied, actionAt: applied.repairAt } : applied;
    if (effect.actionAt !== undefined) {
      if (bytesLost) {
        this.lost.add(effect.actionAt);
        this.locations.delete(effect.actionAt);
      } else {
        this.lost.delete(effect.actionAt);
        this.locations.set(effect.actionAt, packLocation(seg.id, item.offset));
      }
    }
    if (item.dataLost) this.corrupt(seg.id, item.offset, item.end - item.offset, pos, 'entry bytes damaged', false);
    else if (item.lengthDamaged) this.corrupt(seg.id, item.offset, item.end - item.offset, effect.actionAt, 'length field damaged (its key checksum gave the true length)', false);
    if (effect.truncatedBelow !== undefined) dropBelow(effect.truncatedBelow, this.locations, this.lost);
  }

  private header(h: SegmentHeader, firstSegment: boolean): void {
    if (h.replicaId !== 0) this.replicaId ??= h.replicaId;
    if (h.clusterId !== '') this.clusterId ??= h.clusterId;
    if (firstSegment) this.floor = h.begin;
    this.highestFloor = Math.max(this.highestFloor, h.highestProposal);
    // The checkpoint restores the metadata of records in deleted segments; in
    // later segments it repeats what the replay already holds (or restores
    // what a damaged record took away).
    this.index.apply({ type: 'metadata', metadata: h.metadata });
    if (h.metadata.status !== 'VOTING') this.lowerAlarm();
  }

  private lowerAlarm(): void {
    this.poisoned = false;
    this.sawTrustedNonVoting = true;
  }

  /** Records damage; `poisons` when the damaged bytes could have held any record (a promise, metadata). */
  corrupt(segmentId: number, offset: number, bytes: number, position: number | undefined, why: string, poisons: boolean): void {
    this.corruptRegions.push(position === undefined ? { segmentId, offset, bytes, why } : { segmentId, offset, bytes, position, why });
    if (poisons) this.poisoned = true;
  }
}

/** Forgets locations and lost marks below a new beginning. */
export function dropBelow(begin: number, locations: LocationTable, lost: Set<number>): void {
  locations.dropBelow(begin);
  for (const p of lost) if (p < begin) lost.delete(p);
}

function readSegment(layer: FileLayer, dir: string, id: number): SegmentFile {
  const path = join(dir, segmentFileName(id));
  const fd = layer.openSync(path, 'r+');
  const fileBytes = layer.sizeSync(fd);
  const buf = Buffer.allocUnsafe(fileBytes);
  const size = readFullySync(layer, fd, buf, fileBytes, 0);
  return { id, path, fd, buf, size };
}

/** The header at offset 0 of a segment file, if it is intact and names the file. */
function headerOf(f: SegmentFile): SegmentHeader | undefined {
  const c = checkFrame(f.buf, 0, f.size, 0);
  return c.status === 'ok' && c.record.type === 'header' && c.record.segmentId === f.id ? c.record : undefined;
}

/** True if the last segment is what a crash while creating it leaves: nothing intact in it, and nothing of it acknowledged. */
function isCreationDebris(files: readonly SegmentFile[], salt: number | undefined): boolean {
  const last = files[files.length - 1]!;
  const prev = files[files.length - 2];
  if (scanFrames(last.buf, last.size, salt ?? 0).some((i) => i.kind === 'frame')) return false;
  // The first segment of a new directory, or a roll-over whose predecessor was never sealed (a batch in a new segment is acknowledged only after the seal).
  if (prev === undefined) return last.id === 1;
  if (prev.id !== last.id - 1) return false;
  const items = scanFrames(prev.buf, prev.size, salt ?? 0);
  return !items.some((i) => i.kind === 'frame' && i.record.type === 'seal');
}

/**
 * Replays the segments `ids` (ascending) of `dir`. A last segment that a
 * crash left while creating it (nothing intact in it) is deleted; no other
 * file is ever deleted or cut, except the torn tail of the last segment.
 */
export async function replaySegments(layer: FileLayer, dir: string, ids: readonly number[]): Promise<ReplayResult | undefined> {
  const files: SegmentFile[] = [];
  try {
    for (const id of ids) files.push(readSegment(layer, dir, id));
  } catch (e) {
    for (const f of files) layer.closeSync(f.fd);
    throw e;
  }
  let salt: number | undefined;
  for (const f of files) {
    salt = headerOf(f)?.salt;
    if (salt !== undefined) break;
  }
  while (files.length > 0 && isCreationDebris(files, salt)) {
    const debris = files.pop()!;
    layer.closeSync(debris.fd);
    await layer.unlink(debris.path);
    await layer.syncDir(dir);
  }
  if (files.length === 0) return undefined;
  const r = new Replayer(layer, salt ?? 0);
  if (salt === undefined) r.corrupt(files[0]!.id, 0, 0, undefined, 'no readable segment header: the checksum salt is unknown', true);
  for (let i = 0; i < files.length; i++) await r.segment(files[i]!, i === files.length - 1);
  // Segments before the first were deleted legitimately only if the log's beginning passed every position they held.
  const first = files[0]!;
  const h = headerOf(first);
  if (first.id > 1 && h !== undefined && h.prevMaxPosition >= r.index.begin() && !r.sawTrustedNonVoting) {
    r.corrupt(first.id - 1, 0, 0, undefined, `segment ${first.id - 1} is missing but held positions up to ${h.prevMaxPosition}, at or above the beginning ${r.index.begin()}`, true);
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
    highestProposalFloor: r.highestFloor,
    salt,
    replicaId: r.replicaId,
    clusterId: r.clusterId,
  };
}
