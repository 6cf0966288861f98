/**
 * MemoryStore: a ReplicaStore that keeps everything in memory. "Durable" here
 * means "survives as long as the object": for core tests and embedded
 * experiments, never for data anyone needs. The simulator's store builds on it
 * to model crashes (records appended since the last sync are lost).
 */
import { PositionIndex } from '../core/position-index.js';
import type { ReplicaStore } from '../core/store.js';
import type { Action, Metadata, PersistRecord, Position } from '../core/types.js';
import { IndexedView } from './indexed-view.js';

export class MemoryStore extends IndexedView implements ReplicaStore {
  protected readonly index: PositionIndex;
  protected readonly actions = new Map<Position, Action>();
  protected readonly lost = new Set<Position>();
  /** Every record ever appended, in order (the "disk"). */
  readonly records: PersistRecord[] = [];
  private seq = 0;
  private durable = 0;

  constructor(metadata?: Metadata) {
    super();
    this.index = new PositionIndex(metadata);
  }

  /** Rebuilds a store by replaying records (what a restart does). */
  static replay(records: readonly PersistRecord[]): MemoryStore {
    const s = new MemoryStore();
    s.append(records);
    s.durable = s.seq;
    return s;
  }

  action(position: Position): Action | 'lost' | undefined {
    if (this.index.slot(position) === undefined) return undefined;
    if (this.lost.has(position)) return 'lost';
    return this.actions.get(position);
  }

  append(records: readonly PersistRecord[]): number {
    for (const r of records) {
      this.records.push(r);
      const effect = this.index.apply(r);
      const repaired = effect.repairAt !== undefined && this.lost.has(effect.repairAt);
      if ((r.type === 'accept' || r.type === 'learn') && (effect.actionAt !== undefined || repaired)) {
        this.actions.set(r.position, r.action);
        this.lost.delete(r.position);
      }
      if (effect.truncatedBelow !== undefined) {
        for (const p of this.actions.keys()) if (p < effect.truncatedBelow) this.actions.delete(p);
      }
      this.seq++;
    }
    return this.seq;
  }

  async sync(): Promise<number> {
    this.durable = this.seq;
    return this.durable;
  }

  /** Marks everything appended so far durable at once (for synchronous tests). */
  syncNow(): number {
    this.durable = this.seq;
    return this.durable;
  }

  durableSeq(): number {
    return this.durable;
  }

  async close(): Promise<void> {}

  /** For tests: the index's invariant check. */
  checkInvariants(): void {
    this.index.checkInvariants();
  }

  /** For tests and the simulator: pretend the record of a position was found corrupted. */
  markLost(position: Position): void {
    if (this.index.slot(position) !== undefined) this.lost.add(position);
  }
}
