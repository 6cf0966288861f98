/**
 * Quorum arithmetic. A quorum is a strict majority of the members, so any two
 * quorums share at least one member: the fact every safety argument rests on.
 */
import { assert } from './assert.js';

/** The smallest number of members that forms a quorum of `members`. */
export function quorumSize(members: number): number {
  assert(Number.isSafeInteger(members) && members >= 1, `member count must be >= 1, got ${members}`);
  return Math.floor(members / 2) + 1;
}

/** How many members may fail while a quorum stays up. */
export function faultTolerance(members: number): number {
  return members - quorumSize(members);
}

/**
 * Counts answers from distinct members towards a quorum decision.
 * `accepts` and `rejects` count toward a quorum of answers; IGNORED answers
 * (non-VOTING replicas) do not, and once so many members ignored that no
 * quorum of votes can still form, the round is lost.
 */
export class QuorumTally {
  private readonly accepted = new Set<number>();
  private readonly rejected = new Set<number>();
  private readonly ignored = new Set<number>();

  /**
   * `members` answers are possible; `quorum` of them decide (by default a
   * majority of `members`; a rejoining replica asks only its peers but still
   * needs a majority of the whole membership).
   */
  constructor(
    readonly members: number,
    readonly quorum: number = quorumSize(members),
  ) {
    assert(quorum >= 1 && quorum <= members + 1, `quorum ${quorum} of ${members}`);
  }

  record(from: number, outcome: 'accept' | 'reject' | 'ignored'): void {
    if (this.accepted.has(from) || this.rejected.has(from) || this.ignored.has(from)) return;
    if (outcome === 'accept') this.accepted.add(from);
    else if (outcome === 'reject') this.rejected.add(from);
    else this.ignored.add(from);
  }

  /**
   * Forgets an IGNORED answer, so the member may answer again: a member that
   * could not vote when it answered (not yet counted by the writer) and can
   * now. Accepts and rejects are final.
   */
  forgetIgnored(from: number): boolean {
    return this.ignored.delete(from);
  }

  /** Forgets every IGNORED answer (see forgetIgnored): a retransmission asks those members again. */
  forgetAllIgnored(): void {
    this.ignored.clear();
  }

  has(from: number): boolean {
    return this.accepted.has(from) || this.rejected.has(from) || this.ignored.has(from);
  }

  get acceptCount(): number {
    return this.accepted.size;
  }

  get rejectCount(): number {
    return this.rejected.size;
  }

  /** True once a quorum accepted. */
  get won(): boolean {
    return this.accepted.size >= this.quorum;
  }

  /** True once so many members ignored that a quorum of votes can no longer form. */
  get unreachable(): boolean {
    return this.members - this.ignored.size < this.quorum;
  }

  /** Members that have not answered yet. */
  pending(all: readonly number[]): number[] {
    return all.filter((id) => !this.has(id));
  }
}
