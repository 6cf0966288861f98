/**
 * Liveness evidence for a proposer's deadlines: when each member last
 * answered anything (issue 20, item 3). A request that takes long is answered
 * late by a busy replica, and a replica that answers is alive: readers fail
 * with no-quorum only once fewer than a quorum of members answered anything
 * within timing.operationTimeoutMs, never because one round was slow.
 */
import { timing } from './constants.js';
import type { ReplicaId } from './types.js';

export class Liveness {
  private readonly heardAt = new Map<ReplicaId, number>();

  /** `quorum` distinct members must have answered within the window. */
  constructor(private readonly quorum: number) {}

  heard(from: ReplicaId, now: number): void {
    this.heardAt.set(from, now);
  }

  /** Whether a quorum of members answered within the last `withinMs` (default operationTimeoutMs). */
  quorumHeard(now: number, withinMs: number = timing.operationTimeoutMs): boolean {
    let n = 0;
    for (const at of this.heardAt.values()) if (now - at < withinMs) n++;
    return n >= this.quorum;
  }

  /**
   * How many of `ids` answered within the last `withinMs`: for an owner whose members change while it
   * runs (a reader following the configuration), judged against the members and quorum of now.
   */
  heardOf(ids: readonly ReplicaId[], now: number, withinMs: number = timing.operationTimeoutMs): number {
    return ids.filter((id) => now - (this.heardAt.get(id) ?? -Infinity) < withinMs).length;
  }
}
