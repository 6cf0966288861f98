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

  /**
   * Members the owner counts from now on (a reader's view moved to a configuration with new voters): one
   * never heard counts as heard when first expected, so that it has a full window to answer before its
   * silence counts (unknown is not dead yet; without it, a read stalled under the old voters failed the
   * moment the view grew, before the new voters were even asked).
   */
  expect(ids: readonly ReplicaId[], now: number): void {
    for (const id of ids) if (!this.heardAt.has(id)) this.heardAt.set(id, now);
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
