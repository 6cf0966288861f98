/**
 * PositionIndex: the in-memory acceptor state of a replica, rebuilt by
 * replaying its PersistRecords in order, and kept current by applying each new
 * record. Every store (memory, files, simulator) uses this one class, so the
 * meaning of a record is defined exactly once.
 *
 * It holds no entry bytes: per position one small SlotMeta object in a Map
 * (about 100 bytes with the Map entry). Stores keep the bytes, or where to
 * find them, themselves.
 *
 * Invariants (checked by checkInvariants, and asserted where cheap):
 * - begin <= learnedThrough + 1, and end >= learnedThrough or end == -1 == learnedThrough... (see below)
 * - no slot below begin is kept;
 * - a learned slot never changes its action.
 */
import { assert, assertNat, assertNever } from './assert.js';
import type { Action, ActionKind, Metadata, PersistRecord, Position, Proposal, SlotMeta } from './types.js';

interface MutableSlot {
  position: Position;
  promised: Proposal;
  accepted: Proposal;
  learned: boolean;
  kind?: ActionKind;
  truncateTo?: Position;
}

/** What applying one record changed, for stores that keep bytes beside the index. */
export interface ApplyEffect {
  /** Positions whose action changed (accepted or learned a new value). */
  readonly actionAt?: Position;
  /** Set when the log's beginning moved: positions below it were dropped. */
  readonly truncatedBelow?: Position;
  /**
   * A learned position was learned again (same kind). Stores take the record's
   * bytes only if theirs were lost to corruption: this is how a repair lands.
   */
  readonly repairAt?: Position;
}

export const EMPTY_METADATA: Metadata = { status: 'EMPTY', promised: 0, incarnation: '' };

export class PositionIndex {
  private readonly slots = new Map<Position, MutableSlot>();
  private meta: Metadata;
  private beginPos: Position = 0;
  private endPos: Position = -1;
  private learnedThroughPos: Position = -1;
  /** The highest proposal this replica ever promised or accepted, at any position. */
  private highestProposalSeen: Proposal = 0;

  constructor(metadata: Metadata = EMPTY_METADATA) {
    this.meta = metadata;
  }

  metadata(): Metadata {
    return this.meta;
  }
  begin(): Position {
    return this.beginPos;
  }
  end(): Position {
    return this.endPos;
  }
  learnedThrough(): Position {
    return this.learnedThroughPos;
  }
  /**
   * The highest proposal promised (implicitly or explicitly) or accepted here,
   * at any position. An implicit promise must exceed it: otherwise a writer
   * could be granted a number a fill already holds for some position.
   */
  highestProposal(): Proposal {
    return Math.max(this.highestProposalSeen, this.meta.promised);
  }
  size(): number {
    return this.slots.size;
  }

  slot(position: Position): SlotMeta | undefined {
    if (position < this.beginPos) return undefined;
    return this.slots.get(position);
  }

  /** Positions in [from, to] that have a slot, ascending. */
  *positions(from: Position, to: Position): Iterable<Position> {
    const lo = Math.max(from, this.beginPos);
    const hi = Math.min(to, this.endPos);
    if (hi < lo) return;
    if (hi - lo + 1 <= this.slots.size * 2) {
      for (let p = lo; p <= hi; p++) if (this.slots.has(p)) yield p;
    } else {
      // A sparse range: sort the keys instead of walking every position.
      const keys = [...this.slots.keys()].filter((p) => p >= lo && p <= hi).sort((a, b) => a - b);
      yield* keys;
    }
  }

  /** Applies one record; returns what changed. */
  apply(record: PersistRecord): ApplyEffect {
    switch (record.type) {
      case 'metadata':
        assertNat(record.metadata.promised, 'metadata.promised');
        this.meta = record.metadata;
        return {};
      case 'promise': {
        assertNat(record.position, 'position');
        if (record.position < this.beginPos) return {};
        const s = this.ensure(record.position);
        s.promised = Math.max(s.promised, record.promised);
        this.highestProposalSeen = Math.max(this.highestProposalSeen, record.promised);
        return {};
      }
      case 'accept': {
        assertNat(record.position, 'position');
        assert(record.proposal > 0, 'an accepted proposal is positive');
        if (record.position < this.beginPos) return {};
        const s = this.ensure(record.position);
        assert(!s.learned, `accept at learned position ${record.position}`);
        s.accepted = record.proposal;
        this.highestProposalSeen = Math.max(this.highestProposalSeen, record.proposal);
        setKind(s, record.action);
        return { actionAt: record.position };
      }
      case 'commit': {
        assert(record.from <= record.to, 'commit range');
        let truncatedBelow: Position | undefined;
        const lo = Math.max(record.from, this.beginPos, this.learnedThroughPos + 1);
        for (let p = lo; p <= record.to; p++) {
          const s = this.slots.get(p);
          if (s === undefined || s.learned || s.accepted === 0 || s.accepted !== record.proposal) continue;
          s.learned = true;
          const moved = this.onLearned(s);
          if (moved !== undefined) truncatedBelow = moved;
        }
        this.advanceLearnedThrough();
        return truncatedBelow === undefined ? {} : { truncatedBelow };
      }
      case 'learn': {
        assertNat(record.position, 'position');
        if (record.position < this.beginPos) return {};
        const s = this.ensure(record.position);
        // Learned already: the same chosen value stored again repairs bytes that were lost to corruption.
        if (s.learned) return s.kind === record.action.kind ? { repairAt: record.position } : {};
        s.learned = true;
        setKind(s, record.action);
        const moved = this.onLearned(s);
        this.advanceLearnedThrough();
        return moved === undefined ? { actionAt: record.position } : { actionAt: record.position, truncatedBelow: moved };
      }
      default:
        return assertNever(record, 'record');
    }
  }

  /** Checks every invariant; for tests and the simulator (O(slots)). */
  checkInvariants(): void {
    assert(this.beginPos >= 0, 'begin >= 0');
    assert(this.learnedThroughPos >= this.beginPos - 1, 'learnedThrough >= begin - 1');
    for (const [p, s] of this.slots) {
      assert(p >= this.beginPos, `slot ${p} below begin ${this.beginPos}`);
      assert(p <= this.endPos, `slot ${p} beyond end ${this.endPos}`);
      assert((s.kind !== undefined) === (s.accepted > 0 || s.learned), `slot ${p}: kind iff accepted or learned`);
    }
    for (let p = this.beginPos; p <= this.learnedThroughPos; p++) {
      assert(this.slots.get(p)?.learned === true, `position ${p} <= learnedThrough is not learned`);
    }
  }

  private ensure(position: Position): MutableSlot {
    let s = this.slots.get(position);
    if (s === undefined) {
      s = { position, promised: 0, accepted: 0, learned: false };
      this.slots.set(position, s);
      if (position > this.endPos) this.endPos = position;
    }
    return s;
  }

  /** A truncate that became learned moves the beginning; returns the new beginning if it moved. */
  private onLearned(s: MutableSlot): Position | undefined {
    if (s.kind !== 'truncate' || s.truncateTo === undefined || s.truncateTo <= this.beginPos) return undefined;
    const to = s.truncateTo;
    if (this.slots.size < to - this.beginPos) {
      for (const p of this.slots.keys()) if (p < to) this.slots.delete(p);
    } else {
      for (let p = this.beginPos; p < to; p++) this.slots.delete(p);
    }
    this.beginPos = to;
    if (this.endPos < to - 1) this.endPos = to - 1;
    return to;
  }

  private advanceLearnedThrough(): void {
    let lt = Math.max(this.learnedThroughPos, this.beginPos - 1);
    while (this.slots.get(lt + 1)?.learned === true) lt++;
    this.learnedThroughPos = lt;
  }
}

function setKind(s: MutableSlot, action: Action): void {
  s.kind = action.kind;
  if (action.kind === 'truncate') s.truncateTo = action.to;
  else delete s.truncateTo;
}
