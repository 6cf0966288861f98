/**
 * The simulator's disk: MemoryStore semantics with a durable prefix.
 *
 * `live` is what the replica sees (every appended record, as a page cache
 * would show it). Only the first `durable` records of `live.records` are on
 * the platter: they become durable when a simulated fsync that started after
 * they were appended completes. Crash cases:
 * - crash: records past the durable prefix are gone; restart replays the
 *   durable prefix (MemoryStore.replay), so the replica comes back exactly as
 *   its disk says.
 * - wipe (while down): the disk is replaced by an empty one: status EMPTY and
 *   a new incarnation. The replica rejoins (autorecovery) when it restarts.
 * - corrupt metadata (while down): what FileStore does when damage may have
 *   destroyed a promise or the metadata: a durable metadata record with status
 *   RECOVERING, promised 0, no generation and no member generations, the chain
 *   and cluster id still readable kept (recoveringMetadata); the log is kept.
 *   The replica rejoins when it restarts.
 * - corrupt (hook for torn writes / bit rot): the record of one position is
 *   found unreadable on restart (MemoryStore.markLost) until a later record
 *   rewrites that position.
 * - corrupt the tail (while down): the last durable record, a complete frame,
 *   fails its checksum; FileStore takes it for corruption, not a torn write
 *   (docs/storage.md). If its key still holds and it carries entry bytes (an
 *   accept or learn of an append), its facts stay and its position is lost;
 *   otherwise (any other record, metadata included, or a damaged key) the
 *   record is unknown: it is gone and the replica is forced RECOVERING.
 * - failed syncs (while up): the next syncs fail as a full disk or a failed
 *   write does (ENOSPC, EIO: nothing of them is durable, the records stay
 *   queued and the shell writes them again later), or as a failed fsync
 *   ('fsync': fatal, the shell stops the process, which replays on restart).
 */
import type { Metadata, PersistRecord, Position } from '../core/types.js';
import { MemoryStore } from '../storage/memory-store.js';
import { recoveringMetadata } from '../storage/stored-config.js';

interface Corruption {
  readonly position: Position;
  /** Records at indexes >= this one that rewrite the position repair it. */
  readonly afterIndex: number;
}

/** A copy of a disk's durable state (a backup), to restore later. */
export interface DiskSnapshot {
  readonly records: readonly PersistRecord[];
  readonly corruptions: readonly Corruption[];
  /** When it was taken (trace only). */
  readonly at: number;
}

/** How a simulated sync fails: a write that failed (retried later), or an fsync (fatal). */
export type SyncFault = 'ENOSPC' | 'EIO' | 'fsync';

export class SimDisk {
  live: MemoryStore;
  /** How many records of live.records are durable. */
  durable: number;
  private readonly corruptions: Corruption[] = [];
  /** Faults the next syncs meet, in order. */
  private readonly syncFaults: SyncFault[] = [];

  constructor(metadata: Metadata) {
    this.live = SimDisk.fresh(metadata);
    this.durable = this.live.records.length;
  }

  /** A new disk whose only record is its metadata, durable at once. */
  private static fresh(metadata: Metadata): MemoryStore {
    const s = new MemoryStore();
    s.append([{ type: 'metadata', metadata }]);
    return s;
  }

  /** Records appended so far (durable or not). */
  get appended(): number {
    return this.live.records.length;
  }

  append(records: readonly PersistRecord[]): number {
    if (records.length > 0) this.live.append(records);
    return this.appended;
  }

  /** An fsync that started when `appended` was `upTo` completed. */
  synced(upTo: number): void {
    if (upTo > this.durable) this.durable = Math.min(upTo, this.appended);
  }

  /** Crash: loses the non-durable tail (what a restart will replay); returns how many records were lost. */
  crash(): number {
    const lost = this.appended - this.durable;
    const kept = this.live.records.slice(0, this.durable);
    this.live = MemoryStore.replay(kept);
    this.applyCorruptions();
    return lost;
  }

  /** Replaces the disk with an empty one (the replica must be down). */
  /**
   * What the shell writes on a new disk before it starts (a run that changes
   * its members: the chain a `--join` start learns from the replicas, R11),
   * asked at each wipe.
   */
  base: () => Partial<Metadata> = () => ({});

  wipe(incarnation: string): void {
    this.live = SimDisk.fresh({ ...this.base(), status: 'EMPTY', promised: 0, incarnation });
    this.durable = this.live.records.length;
    this.corruptions.length = 0;
    this.syncFaults.length = 0;
  }

  /** Metadata damage (the replica must be down): FileStore's answer, a durable RECOVERING record. */
  corruptMetadata(): void {
    this.live.append([{ type: 'metadata', metadata: recoveringMetadata(this.live.metadata()) }]);
    this.durable = this.live.records.length;
  }

  /** Positions whose durable record holds an action (candidates for corruption). */
  actionPositions(): Position[] {
    const out = new Set<Position>();
    for (let i = 0; i < this.durable; i++) {
      const r = this.live.records[i]!;
      if (r.type === 'accept' || r.type === 'learn') out.add(r.position);
    }
    return [...out].sort((a, b) => a - b);
  }

  /**
   * A backup: the durable records as they are now (and the corruptions they
   * hold). Records are immutable once appended, so a shallow copy is a copy.
   */
  snapshot(at: number): DiskSnapshot {
    return { records: this.live.records.slice(0, this.durable), corruptions: [...this.corruptions], at };
  }

  /** Replaces the disk with a backup (the replica must be down): what was written since is gone. */
  restore(snap: DiskSnapshot): void {
    this.live = MemoryStore.replay(snap.records);
    this.durable = this.live.records.length;
    this.corruptions.length = 0;
    this.corruptions.push(...snap.corruptions);
    this.syncFaults.length = 0;
  }

  /** The metadata the durable disk holds (what a restart would find). */
  durableMetadata(): Metadata {
    for (let i = this.durable - 1; i >= 0; i--) {
      const r = this.live.records[i]!;
      if (r.type === 'metadata') return r.metadata;
    }
    return this.live.metadata();
  }

  /** The status the durable disk holds. */
  durableStatus(): Metadata['status'] {
    return this.durableMetadata().status;
  }

  /** Injected sync faults not yet met. */
  get syncFaultsLeft(): number {
    return this.syncFaults.length;
  }

  /** The next `count` syncs fail with `fault` (see SyncFault). */
  failSyncs(fault: SyncFault, count = 1): void {
    for (let i = 0; i < count; i++) this.syncFaults.push(fault);
  }

  /** The fault the sync completing now meets, if any (the shell asks once per sync). */
  takeSyncFault(): SyncFault | undefined {
    return this.syncFaults.shift();
  }

  /**
   * Damages the last durable record (the replica must be down), as bit rot of
   * a complete frame at the tail: 'lost' if its key held (an accept or learn
   * with entry bytes: the position is lost until rewritten), 'unknown'
   * otherwise (the record is gone and a durable RECOVERING record follows,
   * as FileStore writes). Returns undefined if the disk holds only its first
   * record (nothing to damage but the start of the disk).
   */
  corruptTail(keyHolds: boolean): 'lost' | 'unknown' | undefined {
    const recs = this.live.records;
    if (this.durable <= 1) return undefined;
    const last = recs[this.durable - 1]!;
    if (keyHolds && (last.type === 'accept' || last.type === 'learn') && last.action.kind === 'append') {
      this.corruptions.push({ position: last.position, afterIndex: this.durable });
      return 'lost';
    }
    const kept = recs.slice(0, this.durable - 1);
    kept.push({ type: 'metadata', metadata: recoveringMetadata(MemoryStore.replay(kept).metadata()) });
    // Corruptions are by record index: those at or past the removed record keep their effect.
    this.live = MemoryStore.replay(kept);
    this.durable = kept.length;
    return 'unknown';
  }

  /** Restart: the corruptions found while reading the disk take effect. */
  restart(): void {
    this.applyCorruptions();
  }

  /** Marks a position's record corrupted from now on (applied at the next restart). */
  corrupt(position: Position): void {
    this.corruptions.push({ position, afterIndex: this.durable });
  }

  private applyCorruptions(): void {
    const recs = this.live.records;
    for (const c of this.corruptions) {
      let repaired = false;
      for (let i = c.afterIndex; i < recs.length && !repaired; i++) {
        const r = recs[i]!;
        repaired = (r.type === 'accept' || r.type === 'learn') && r.position === c.position;
      }
      if (!repaired) this.live.markLost(c.position);
    }
  }
}
