/**
 * A store whose every part a test sets by hand, for the acceptor's delta checker (src/core/invariants.ts):
 * the real stores assert some of its rules on their own first, so only a fake lets each rule be broken alone.
 */
import type { StoreView } from '../../src/core/store.js';
import type { Action, Metadata } from '../../src/core/types.js';

export class HandStore {
  meta: Metadata = { status: 'VOTING', promised: 5, incarnation: 'a', recorded: { 2: { generation: 3, disk: 7 } } };
  highest = 5;
  through = 10;
  first = 0;
  learned = new Map<number, Action>([[4, { kind: 'append', data: new Uint8Array([1]) }]]);
  /** Positions with an accepted, not learned, value. */
  accepted = new Map<number, Action>();

  view(): StoreView {
    return {
      metadata: () => this.meta,
      begin: () => this.first,
      end: () => this.through,
      learnedThrough: () => this.through,
      highestProposal: () => this.highest,
      slot: (p) =>
        this.learned.has(p) ? { position: p, promised: 0, accepted: 1, learned: true } : this.accepted.has(p) ? { position: p, promised: 0, accepted: 1, learned: false } : undefined,
      action: (p) => this.learned.get(p) ?? this.accepted.get(p),
      positions: () => [],
      lostPositions: () => [],
    };
  }
}
