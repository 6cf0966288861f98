/**
 * The read side every store shares: the Paxos state comes from the core's
 * PositionIndex (the one definition of what a record means), corrupted
 * positions from the store's own `lost` set. Stores add how they keep and
 * read the entry bytes (`action`) and how they make records durable.
 */
import type { PositionIndex } from '../core/position-index.js';
import type { Metadata, Position, Proposal, SlotMeta } from '../core/types.js';

export abstract class IndexedView {
  protected abstract readonly index: PositionIndex;
  /** Positions whose stored record is corrupted: never served, repaired by learning them again. */
  protected abstract readonly lost: Set<Position>;
  /** A floor under highestProposal(): what a store checkpointed of records it no longer holds (segment headers). */
  protected highestFloor = 0;

  metadata(): Metadata {
    return this.index.metadata();
  }
  begin(): Position {
    return this.index.begin();
  }
  end(): Position {
    return this.index.end();
  }
  learnedThrough(): Position {
    return this.index.learnedThrough();
  }
  highestProposal(): Proposal {
    return Math.max(this.index.highestProposal(), this.highestFloor);
  }
  slot(position: Position): SlotMeta | undefined {
    return this.index.slot(position);
  }
  positions(from: Position, to: Position): Iterable<Position> {
    return this.index.positions(from, to);
  }
  pendingTruncates(): readonly { position: Position; to: Position }[] {
    return this.index.pendingTruncates();
  }
  pendingConfigs(): readonly Position[] {
    return this.index.pendingConfigs();
  }
  lostPositions(): readonly Position[] {
    return [...this.lost].sort((a, b) => a - b);
  }
}
