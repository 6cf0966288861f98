/**
 * PositionIndex: the in-memory acceptor state of a replica, rebuilt by
 * replaying its PersistRecords in order, and kept current by applying each new
 * record. Every store (memory, files, simulator) uses this one class, so the
 * meaning of a record is defined exactly once.
 *
 * It holds no entry bytes: stores keep the bytes, or where to find them,
 * themselves. It lives as long as the replica and grows with the log, so it is
 * laid out for the garbage collector rather than as one object per position
 * (a Map of small objects cost about 125 bytes per position and was the
 * largest long-lived heap item: every major GC had to trace it). Positions
 * are dense and mostly increasing, so they are kept in chunks of CHUNK
 * consecutive positions, each a few typed arrays:
 *
 * - flags: Uint8Array, whether the position exists, is learned, and the kind
 *   of its action;
 * - accepted: Float64Array, the proposal of the accepted value (0: none).
 *   Proposals are safe integers up to 2^53, so 32-bit arrays cannot hold them.
 *   A replica that catches up learns values without accepting them, so a
 *   chunk gets this array on its first accept record only;
 * - promised: Float64Array, the explicit promise (0: none). Explicit promises
 *   only come from a writer filling holes: also made on first use.
 *
 * That is 9 bytes per position written through this replica (1 byte where it
 * only learned, 17 where promises were made), and a handful of objects per
 * CHUNK positions. A chunk's arrays start short and double as positions
 * further into it appear: a small log (a test's, each of the simulator's
 * many replayed worlds) does not pay 36 KiB of zeroed arrays per chunk.
 * Chunks exist only where positions do, so a single position far out (a
 * TRUNCATE to 600,000,000, say) costs one chunk, at most 36 KiB.
 * The `to` of truncate actions, which are rare, lives in a small side Map.
 *
 * slot() builds a fresh SlotMeta per call: callers read it at once (a
 * short-lived allocation the young generation collects for free) and none keep
 * it expecting it to follow later records.
 *
 * Invariants (checked by checkInvariants, and asserted where cheap):
 * - begin <= learnedThrough + 1, and every position in [begin, learnedThrough] is learned;
 * - no slot below begin or above end is kept;
 * - a slot has a kind iff it has an accepted proposal or is learned;
 * - a learned slot never changes its action.
 */
import { assert, assertNat, assertNever } from './assert.js';
import type { Action, ActionKind, Metadata, PersistRecord, Position, Proposal, SlotMeta } from './types.js';

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

/** Positions per chunk: 4096 (a power of two, so division by it is exact for every safe integer). */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
/**
 * The shortest arrays a chunk starts with (they grow by doubling up to CHUNK).
 * 8 float64s are 64 bytes, which V8 keeps inside the heap; a longer typed
 * array needs a backing store of its own, about a microsecond to make: that
 * made each of the simulator's many small stores 4 times as costly to build.
 */
const MIN_CAPACITY = 8;

// flags: bit 0 the position exists (has a slot), bit 1 learned, bits 2-4 the action's kind.
const EXISTS = 1;
const LEARNED = 2;
const KIND_SHIFT = 2;
const KIND_MASK = 7 << KIND_SHIFT;
/** Kind codes (bits 2-4 of flags); 0 means no action. */
const KINDS: readonly (ActionKind | undefined)[] = [undefined, 'nop', 'append', 'truncate', 'config'];
const KIND_CODE: Readonly<Record<ActionKind, number>> = { nop: 1, append: 2, truncate: 3, config: 4 };
const TRUNCATE_CODE = KIND_CODE.truncate;

/**
 * CHUNK consecutive positions, from key * CHUNK. A position that does not
 * exist has all-zero fields. The arrays share one length (the capacity): they
 * cover the chunk's first positions, up to its highest slot at least.
 */
interface Chunk {
  readonly key: number;
  flags: Uint8Array;
  /** Made on the chunk's first accept record; undefined reads as all 0. */
  accepted: Float64Array | undefined;
  /** Made on the chunk's first explicit promise (rare); undefined reads as all 0. */
  promised: Float64Array | undefined;
  /** Positions of this chunk that exist; a chunk at 0 is removed. */
  count: number;
  /**
   * No slot of this chunk lies outside indexes [lo, hi]: scans (positions,
   * checkInvariants, truncation) look there only, so a chunk holding a few
   * positions (a small log, a far-out one) costs a few steps, not CHUNK.
   */
  lo: number;
  hi: number;
}

function chunkKey(position: Position): number {
  return Math.floor(position / CHUNK);
}

/** The flags at index i of a chunk; 0 (no slot) beyond its capacity. */
function flagsAt(c: Chunk, i: number): number {
  return i < c.flags.length ? c.flags[i]! : 0;
}

export class PositionIndex {
  private readonly chunks = new Map<number, Chunk>();
  /** The `to` of every slot whose action is a truncate (by position). */
  private readonly truncateTo = new Map<Position, Position>();
  /** Every slot whose action is a config entry (rare, like truncates): replies report the pending one (R5). */
  private readonly configAt = new Set<Position>();
  /** Positions that exist, over all chunks: size() is O(1). */
  private count = 0;
  /**
   * The last chunk looked up: appends, commits and catch-up reads walk
   * neighbouring positions, so most look-ups hit it and skip the Map.
   * Reset whenever chunks are dropped.
   */
  private last: Chunk | undefined;
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
    return this.count;
  }

  /** A snapshot of a position's state (a new object each call), or undefined if it has no slot. */
  slot(position: Position): SlotMeta | undefined {
    if (position < this.beginPos) return undefined;
    const c = this.chunk(position);
    if (c === undefined) return undefined;
    const i = position % CHUNK;
    const f = flagsAt(c, i);
    if ((f & EXISTS) === 0) return undefined;
    const code = (f & KIND_MASK) >> KIND_SHIFT;
    const promised = c.promised === undefined ? 0 : c.promised[i]!;
    const accepted = c.accepted === undefined ? 0 : c.accepted[i]!;
    const learned = (f & LEARNED) !== 0;
    // The keys of the object the Map-based index kept, in its order: tests compare slots deeply.
    if (code === 0) return { position, promised, accepted, learned };
    if (code !== TRUNCATE_CODE) return { position, promised, accepted, learned, kind: KINDS[code]! };
    return { position, promised, accepted, learned, kind: 'truncate', truncateTo: this.truncateTo.get(position)! };
  }

  /** Positions in [from, to] that have a slot, ascending. */
  *positions(from: Position, to: Position): Iterable<Position> {
    const lo = Math.max(from, this.beginPos);
    const hi = Math.min(to, this.endPos);
    if (hi < lo) return;
    const kLo = chunkKey(lo);
    const kHi = chunkKey(hi);
    // A sparse range: sort the chunks' keys instead of trying every key in it.
    const sparse = kHi - kLo + 1 <= this.chunks.size * 2 ? undefined : [...this.chunks.keys()].filter((k) => k >= kLo && k <= kHi).sort((a, b) => a - b);
    const n = sparse === undefined ? kHi - kLo + 1 : sparse.length;
    for (let j = 0; j < n; j++) {
      const k = sparse === undefined ? kLo + j : sparse[j]!;
      const c = this.chunks.get(k);
      if (c === undefined) continue;
      const base = k * CHUNK;
      const iLo = Math.max(k === kLo ? lo - base : 0, c.lo);
      const iHi = Math.min(k === kHi ? hi - base : CHUNK - 1, c.hi);
      for (let i = iLo; i <= iHi; i++) if ((c.flags[i]! & EXISTS) !== 0) yield base + i;
    }
  }

  /** Accepted truncations not learned yet (readers settle them before trusting the beginning). */
  pendingTruncates(): { position: Position; to: Position }[] {
    const out: { position: Position; to: Position }[] = [];
    for (const [position, to] of this.truncateTo) if (!this.learnedAt(position)) out.push({ position, to });
    return out;
  }

  /** Positions of config entries not chained yet, ascending (ReadReply.pending and the like). */
  pendingConfigs(): Position[] {
    const out: Position[] = [];
    // Also learned ones above the stored chain's head: learned before their predecessor, held back
    // unchained (acceptor-chain.ts); they stay stop signs until chained (R5, R14).
    const chain = this.meta.configs;
    const reach = chain === undefined || chain.length === 0 ? -1 : chain[chain.length - 1]!.position;
    for (const p of this.configAt) if (!this.learnedAt(p) || p > reach) out.push(p);
    return out.sort((a, b) => a - b);
  }

  /** Applies one record; returns what changed. */
  apply(record: PersistRecord): ApplyEffect {
    switch (record.type) {
      case 'metadata': {
        assertNat(record.metadata.promised, 'metadata.promised');
        this.meta = record.metadata;
        // A beginning learned from a peer: a chosen TRUNCATE removed everything below it.
        const begin = record.metadata.begin;
        if (begin === undefined || begin <= this.beginPos) return {};
        assertNat(begin, 'metadata.begin');
        this.dropBelow(begin);
        this.beginPos = begin;
        if (this.endPos < begin - 1) this.endPos = begin - 1;
        this.advanceLearnedThrough();
        return { truncatedBelow: begin };
      }
      case 'promise': {
        assertNat(record.position, 'position');
        if (record.position < this.beginPos) return {};
        const c = this.ensure(record.position);
        const i = record.position % CHUNK;
        const before = c.promised === undefined ? 0 : c.promised[i]!;
        const promised = Math.max(before, record.promised);
        if (promised !== before) (c.promised ??= new Float64Array(c.flags.length))[i] = promised;
        this.highestProposalSeen = Math.max(this.highestProposalSeen, record.promised);
        return {};
      }
      case 'accept': {
        assertNat(record.position, 'position');
        assert(record.proposal > 0, 'an accepted proposal is positive');
        if (record.position < this.beginPos) return {};
        const c = this.ensure(record.position);
        const i = record.position % CHUNK;
        assert((c.flags[i]! & LEARNED) === 0, `accept at learned position ${record.position}`);
        (c.accepted ??= new Float64Array(c.flags.length))[i] = record.proposal;
        this.highestProposalSeen = Math.max(this.highestProposalSeen, record.proposal);
        this.setKind(c, record.position, record.action);
        return { actionAt: record.position };
      }
      case 'commit': {
        assert(record.from <= record.to, 'commit range');
        let truncatedBelow: Position | undefined;
        const lo = Math.max(record.from, this.beginPos, this.learnedThroughPos + 1);
        // No slot lies above end (a truncation learned on the way may raise end, but creates no slot).
        const hi = Math.min(record.to, this.endPos);
        // positions() visits only chunks that exist: a commit over a sparse, far-reaching range costs
        // what the slots there cost, not a step per empty chunk.
        for (const p of this.positions(lo, hi)) {
          // A truncation learned on the way may have dropped what was ahead (a TRUNCATE past its own position).
          const c = this.chunk(p);
          if (c === undefined) continue;
          const i = p % CHUNK;
          const f = flagsAt(c, i);
          const accepted = c.accepted === undefined ? 0 : c.accepted[i]!;
          if ((f & LEARNED) !== 0 || accepted === 0 || accepted !== record.proposal) continue;
          c.flags[i] = f | LEARNED;
          const moved = this.onLearned(c, p);
          if (moved !== undefined) truncatedBelow = moved;
        }
        this.advanceLearnedThrough();
        return truncatedBelow === undefined ? {} : { truncatedBelow };
      }
      case 'learn': {
        assertNat(record.position, 'position');
        if (record.position < this.beginPos) return {};
        const c = this.ensure(record.position);
        const i = record.position % CHUNK;
        const f = c.flags[i]!;
        // Learned already: the same chosen value stored again repairs bytes that were lost to corruption.
        if ((f & LEARNED) !== 0) {
          return (f & KIND_MASK) >> KIND_SHIFT === KIND_CODE[record.action.kind] ? { repairAt: record.position } : {};
        }
        c.flags[i] = f | LEARNED;
        this.setKind(c, record.position, record.action);
        const moved = this.onLearned(c, record.position);
        this.advanceLearnedThrough();
        return moved === undefined ? { actionAt: record.position } : { actionAt: record.position, truncatedBelow: moved };
      }
      default:
        return assertNever(record, 'record');
    }
  }

  /** Checks every invariant; for tests and the simulator (O(slots), about). */
  checkInvariants(): void {
    assert(this.beginPos >= 0, 'begin >= 0');
    assert(this.learnedThroughPos >= this.beginPos - 1, 'learnedThrough >= begin - 1');
    let total = 0;
    let truncates = 0;
    let configs = 0;
    for (const [k, c] of this.chunks) {
      assert(c.key === k, `chunk ${k} filed under its key`);
      const capacity = c.flags.length;
      assert(0 <= c.lo && c.lo <= c.hi && c.hi < capacity && capacity <= CHUNK, `chunk ${k}: bounds [${c.lo}, ${c.hi}], capacity ${capacity}`);
      assert((c.accepted?.length ?? capacity) === capacity && (c.promised?.length ?? capacity) === capacity, `chunk ${k}: arrays of one length`);
      // Outside [lo, hi] nothing was ever set, or it was cleared: a slot created there would show as a count mismatch.
      let n = 0;
      for (let i = c.lo; i <= c.hi; i++) {
        const p = k * CHUNK + i;
        const f = c.flags[i]!;
        const accepted = c.accepted === undefined ? 0 : c.accepted[i]!;
        const promised = c.promised === undefined ? 0 : c.promised[i]!;
        if ((f & EXISTS) === 0) {
          // A dropped or never-used position must read as nothing if it comes back.
          assert(f === 0 && accepted === 0 && promised === 0, `position ${p} without a slot holds state`);
          continue;
        }
        n++;
        const kind = KINDS[(f & KIND_MASK) >> KIND_SHIFT];
        assert(p >= this.beginPos, `slot ${p} below begin ${this.beginPos}`);
        assert(p <= this.endPos, `slot ${p} beyond end ${this.endPos}`);
        assert((kind !== undefined) === (accepted > 0 || (f & LEARNED) !== 0), `slot ${p}: kind iff accepted or learned`);
        assert((kind === 'truncate') === this.truncateTo.has(p), `slot ${p}: truncateTo iff a truncate`);
        if (kind === 'truncate') truncates++;
        assert((kind === 'config') === this.configAt.has(p), `slot ${p}: configAt iff a config entry`);
        if (kind === 'config') configs++;
      }
      assert(n === c.count && n > 0, `chunk ${k}: count ${c.count}, ${n} slots`);
      total += n;
    }
    assert(total === this.count, `size ${this.count}, ${total} slots`);
    assert(truncates === this.truncateTo.size, 'truncateTo holds truncate slots only');
    assert(configs === this.configAt.size, 'configAt holds config slots only');
    for (let p = this.beginPos; p <= this.learnedThroughPos; p++) {
      assert(this.learnedAt(p), `position ${p} <= learnedThrough is not learned`);
    }
  }

  /** The chunk holding a position, if any. */
  private chunk(position: Position): Chunk | undefined {
    const k = chunkKey(position);
    if (this.last !== undefined && this.last.key === k) return this.last;
    const c = this.chunks.get(k);
    if (c !== undefined) this.last = c;
    return c;
  }

  /** The chunk of a position, with a (new, empty) slot there if it had none. */
  private ensure(position: Position): Chunk {
    const i = position % CHUNK;
    let c = this.chunk(position);
    if (c === undefined) {
      const key = chunkKey(position);
      c = { key, flags: new Uint8Array(capacityFor(i, MIN_CAPACITY)), accepted: undefined, promised: undefined, count: 0, lo: i, hi: i };
      this.chunks.set(key, c);
      this.last = c;
    } else if (i >= c.flags.length) {
      grow(c, capacityFor(i, c.flags.length));
    }
    if ((c.flags[i]! & EXISTS) === 0) {
      c.flags[i] = EXISTS;
      c.count++;
      if (i < c.lo) c.lo = i;
      if (i > c.hi) c.hi = i;
      this.count++;
      if (position > this.endPos) this.endPos = position;
    }
    return c;
  }

  private setKind(c: Chunk, position: Position, action: Action): void {
    const i = position % CHUNK;
    c.flags[i] = (c.flags[i]! & ~KIND_MASK) | (KIND_CODE[action.kind] << KIND_SHIFT);
    if (action.kind === 'truncate') this.truncateTo.set(position, action.to);
    else this.truncateTo.delete(position);
    if (action.kind === 'config') this.configAt.add(position);
    else this.configAt.delete(position);
  }

  /** A truncate that became learned moves the beginning; returns the new beginning if it moved. */
  private onLearned(c: Chunk, position: Position): Position | undefined {
    if ((c.flags[position % CHUNK]! & KIND_MASK) >> KIND_SHIFT !== TRUNCATE_CODE) return undefined;
    const to = this.truncateTo.get(position);
    if (to === undefined || to <= this.beginPos) return undefined;
    this.dropBelow(to);
    this.beginPos = to;
    if (this.endPos < to - 1) this.endPos = to - 1;
    return to;
  }

  /** Forgets every slot below `to`: whole chunks are dropped, the one `to` falls in is cleared below it. */
  private dropBelow(to: Position): void {
    const first = chunkKey(this.beginPos);
    const cut = chunkKey(to);
    // Whichever is shorter: the chunks there are, or the keys between the old and the new beginning.
    const keys = this.chunks.size < cut - first + 1 ? [...this.chunks.keys()] : range(first, cut);
    for (const k of keys) {
      if (k > cut) continue;
      const c = this.chunks.get(k);
      if (c === undefined) continue;
      if (k < cut) {
        this.count -= c.count;
        this.chunks.delete(k);
        continue;
      }
      // Clear [lo, to) of the chunk `to` falls in (nothing lies below lo).
      const end = Math.min(to - k * CHUNK, c.hi + 1);
      let gone = 0;
      for (let i = c.lo; i < end; i++) if ((c.flags[i]! & EXISTS) !== 0) gone++;
      c.flags.fill(0, c.lo, end);
      c.accepted?.fill(0, c.lo, end);
      c.promised?.fill(0, c.lo, end);
      c.lo = Math.max(c.lo, end);
      c.count -= gone;
      this.count -= gone;
      if (c.count === 0) this.chunks.delete(k);
    }
    // Truncate actions are rare: walking them all is cheap.
    for (const p of this.truncateTo.keys()) if (p < to) this.truncateTo.delete(p);
    for (const p of this.configAt) if (p < to) this.configAt.delete(p);
    this.last = undefined;
  }

  private learnedAt(position: Position): boolean {
    const c = this.chunk(position);
    return c !== undefined && (flagsAt(c, position % CHUNK) & LEARNED) !== 0;
  }

  private advanceLearnedThrough(): void {
    let lt = Math.max(this.learnedThroughPos, this.beginPos - 1);
    while (this.learnedAt(lt + 1)) lt++;
    this.learnedThroughPos = lt;
  }
}

/** The capacity, doubled from `from` (up to CHUNK), that covers index i. */
function capacityFor(i: number, from: number): number {
  let n = from;
  while (n <= i) n *= 2;
  return Math.min(n, CHUNK);
}

/** Moves a chunk to longer arrays (the new part reads as no slot). */
function grow(c: Chunk, capacity: number): void {
  const flags = new Uint8Array(capacity);
  flags.set(c.flags);
  c.flags = flags;
  if (c.accepted !== undefined) {
    const accepted = new Float64Array(capacity);
    accepted.set(c.accepted);
    c.accepted = accepted;
  }
  if (c.promised !== undefined) {
    const promised = new Float64Array(capacity);
    promised.set(c.promised);
    c.promised = promised;
  }
}

/** The integers in [lo, hi], ascending, without building an array. */
function* range(lo: number, hi: number): Iterable<number> {
  for (let k = lo; k <= hi; k++) yield k;
}
