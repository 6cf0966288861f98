// PositionIndex keeps its slots in chunks of typed arrays. Its meaning is
// checked here against a plain reference model (a Map of one object per
// position, the simplest reading of each record): random record sequences,
// with truncations, chunk boundaries and sparse far-out positions, must give
// the same state after every record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssertionError } from '../../src/core/assert.js';
import { PositionIndex, type ApplyEffect } from '../../src/core/position-index.js';
import type { Action, ActionKind, Metadata, PersistRecord, Position, Proposal, SlotMeta } from '../../src/core/types.js';
import { seededRandom as seeded } from '../helpers/seeded-random.js';

interface RefSlot {
  position: Position;
  promised: Proposal;
  accepted: Proposal;
  learned: boolean;
  kind?: ActionKind;
  truncateTo?: Position;
}

/** The reference: what each record means, written as plainly as possible. */
class Reference {
  readonly slots = new Map<Position, RefSlot>();
  meta: Metadata = { status: 'EMPTY', promised: 0, incarnation: '' };
  begin = 0;
  end = -1;
  learnedThrough = -1;
  highest = 0;

  highestProposal(): Proposal {
    return Math.max(this.highest, this.meta.promised);
  }

  apply(r: PersistRecord): ApplyEffect {
    switch (r.type) {
      case 'metadata':
        this.meta = r.metadata;
        return {};
      case 'promise': {
        if (r.position < this.begin) return {};
        const s = this.ensure(r.position);
        s.promised = Math.max(s.promised, r.promised);
        this.highest = Math.max(this.highest, r.promised);
        return {};
      }
      case 'accept': {
        if (r.position < this.begin) return {};
        const s = this.ensure(r.position);
        s.accepted = r.proposal;
        this.highest = Math.max(this.highest, r.proposal);
        setKind(s, r.action);
        return { actionAt: r.position };
      }
      case 'commit': {
        let truncatedBelow: Position | undefined;
        const lo = Math.max(r.from, this.begin, this.learnedThrough + 1);
        const keys = [...this.slots.keys()].filter((p) => p >= lo && p <= r.to).sort((a, b) => a - b);
        for (const p of keys) {
          const s = this.slots.get(p); // gone if a truncation learned on the way dropped it
          if (s === undefined || s.learned || s.accepted !== r.proposal) continue;
          s.learned = true;
          truncatedBelow = this.onLearned(s) ?? truncatedBelow;
        }
        this.advance();
        return truncatedBelow === undefined ? {} : { truncatedBelow };
      }
      case 'learn': {
        if (r.position < this.begin) return {};
        const s = this.ensure(r.position);
        if (s.learned) return s.kind === r.action.kind ? { repairAt: r.position } : {};
        s.learned = true;
        setKind(s, r.action);
        const moved = this.onLearned(s);
        this.advance();
        return moved === undefined ? { actionAt: r.position } : { actionAt: r.position, truncatedBelow: moved };
      }
    }
  }

  private ensure(p: Position): RefSlot {
    let s = this.slots.get(p);
    if (s === undefined) {
      s = { position: p, promised: 0, accepted: 0, learned: false };
      this.slots.set(p, s);
      this.end = Math.max(this.end, p);
    }
    return s;
  }

  private onLearned(s: RefSlot): Position | undefined {
    if (s.kind !== 'truncate' || s.truncateTo! <= this.begin) return undefined;
    const to = s.truncateTo!;
    for (const p of [...this.slots.keys()]) if (p < to) this.slots.delete(p);
    this.begin = to;
    this.end = Math.max(this.end, to - 1);
    return to;
  }

  private advance(): void {
    let lt = Math.max(this.learnedThrough, this.begin - 1);
    while (this.slots.get(lt + 1)?.learned === true) lt++;
    this.learnedThrough = lt;
  }
}

function setKind(s: RefSlot, a: Action): void {
  s.kind = a.kind;
  if (a.kind === 'truncate') s.truncateTo = a.to;
  else delete s.truncateTo;
}


const CHUNK = 4096;
const EDGES = [1, 2, 5, 9];
const FAR = [600_000_000, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER - 1];
const DATA = new Uint8Array([1, 2, 3]);

/** Random records like a replica's: dense runs, chunk edges, sparse far-out positions, now and then a truncate. */
function randomRecords(rnd: () => number, n: number, ref: Reference): PersistRecord[] {
  const int = (k: number): number => Math.floor(rnd() * k);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const out: PersistRecord[] = [];
  let cursor = 0;
  const position = (): Position => {
    const x = rnd();
    if (x < 0.6) return Math.max(0, cursor + int(12) - 4); // dense, mostly increasing
    if (x < 0.8) return pick(EDGES) * CHUNK + int(3) - 1; // either side of a chunk edge, with chunks missing between
    if (x < 0.9) return pick(FAR) - int(3); // sparse, far out
    return ref.begin + int(Math.max(1, Math.min(ref.end, 1e6) - ref.begin + 2)); // anywhere in the log
  };
  const action = (p: Position): Action => {
    const x = rnd();
    if (x < 0.08) {
      // Usually a truncate below itself, sometimes past its own position or far beyond the log.
      const to = rnd() < 0.85 ? Math.max(0, p - int(3 * CHUNK)) : rnd() < 0.5 ? p + 1 + int(CHUNK) : pick(FAR) + int(2);
      return { kind: 'truncate', to: Math.min(to, Number.MAX_SAFE_INTEGER) };
    }
    return x < 0.2 ? { kind: 'nop' } : { kind: 'append', data: DATA };
  };
  for (let i = 0; i < n; i++) {
    const x = rnd();
    const p = position();
    const proposal = 1 + int(4);
    if (x < 0.05) {
      out.push({ type: 'metadata', metadata: { status: 'VOTING', promised: int(6), incarnation: 'x' } });
    } else if (x < 0.15) {
      out.push({ type: 'promise', position: p, promised: int(6) });
    } else if (x < 0.55) {
      // An accept at a learned position is a programmer error the index asserts on (tested below).
      if (ref.slots.get(p)?.learned !== true) out.push({ type: 'accept', position: p, proposal, action: action(p) });
      if (p < 1e6) cursor = Math.max(cursor, p + 1);
    } else if (x < 0.8) {
      const from = Math.max(0, p - int(40));
      out.push({ type: 'commit', from, to: rnd() < 0.1 ? from + int(CHUNK * 3) : p + int(4), proposal });
    } else {
      out.push({ type: 'learn', position: p, action: action(p) });
      if (p < 1e6) cursor = Math.max(cursor, p + 1);
    }
    ref.apply(out[out.length - 1]!);
  }
  return out;
}

/** Every position the reference holds, their neighbours and chunk edges: where slot() is compared. */
function probes(ref: Reference): Position[] {
  const ps = new Set<Position>([0, ref.begin - 1, ref.begin, ref.end, ref.end + 1, ref.learnedThrough + 1]);
  for (const p of ref.slots.keys()) for (const q of [p - 1, p, p + 1]) ps.add(q);
  for (let k = 1; k <= 10; k++) for (const q of [k * CHUNK - 1, k * CHUNK]) ps.add(q);
  for (const f of FAR) ps.add(f);
  return [...ps].filter((p) => p >= 0);
}

function refSlot(ref: Reference, p: Position): SlotMeta | undefined {
  const s = ref.slots.get(p);
  return s === undefined ? undefined : { ...s };
}

function refPositions(ref: Reference, from: Position, to: Position): Position[] {
  return [...ref.slots.keys()].filter((p) => p >= from && p <= to).sort((a, b) => a - b);
}

function compare(ix: PositionIndex, ref: Reference, rnd: () => number, where: string): void {
  assert.equal(ix.begin(), ref.begin, `${where}: begin`);
  assert.equal(ix.end(), ref.end, `${where}: end`);
  assert.equal(ix.learnedThrough(), ref.learnedThrough, `${where}: learnedThrough`);
  assert.equal(ix.highestProposal(), ref.highestProposal(), `${where}: highestProposal`);
  assert.equal(ix.size(), ref.slots.size, `${where}: size`);
  assert.deepEqual(ix.metadata(), ref.meta, `${where}: metadata`);
  for (const p of probes(ref)) assert.deepEqual(ix.slot(p), refSlot(ref, p), `${where}: slot(${p})`);
  // Whole log, then a few random windows (dense and sparse ones).
  const ranges: [Position, Position][] = [[0, Number.MAX_SAFE_INTEGER], [ref.begin, ref.end]];
  for (let i = 0; i < 3; i++) {
    const a = Math.floor(rnd() * (Math.min(ref.end, 10 * CHUNK) + 10));
    ranges.push([a, a + Math.floor(rnd() * 3 * CHUNK)]);
  }
  ranges.push([Math.floor(rnd() * 1e6), FAR[Math.floor(rnd() * FAR.length)]!]);
  for (const [from, to] of ranges) assert.deepEqual([...ix.positions(from, to)], refPositions(ref, from, to), `${where}: positions(${from}, ${to})`);
}

test('random record sequences give the state of the reference model after every record', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = seeded(seed);
    const records = randomRecords(rnd, 400, new Reference());
    const ix = new PositionIndex();
    const ref = new Reference();
    records.forEach((r, i) => {
      const where = `seed ${seed}, record ${i} (${r.type})`;
      assert.deepEqual(ix.apply(r), ref.apply(r), `${where}: effect`);
      compare(ix, ref, rnd, where);
      if (i % 20 === 0) ix.checkInvariants();
    });
    ix.checkInvariants();
  }
});

test('a truncate far beyond the log keeps only the chunks that hold positions', () => {
  const ix = new PositionIndex();
  for (let p = 0; p < 3 * CHUNK; p++) ix.apply({ type: 'accept', position: p, proposal: 1, action: { kind: 'nop' } });
  ix.apply({ type: 'learn', position: 600_020_000, action: { kind: 'truncate', to: 600_000_000 } });
  assert.deepEqual([ix.begin(), ix.end(), ix.learnedThrough(), ix.size()], [600_000_000, 600_020_000, 599_999_999, 1]);
  assert.deepEqual([...ix.positions(0, Number.MAX_SAFE_INTEGER)], [600_020_000]);
  assert.deepEqual(ix.slot(600_020_000), { position: 600_020_000, promised: 0, accepted: 0, learned: true, kind: 'truncate', truncateTo: 600_000_000 });
  ix.checkInvariants();
});

test('a truncate inside a chunk clears the positions below it and keeps the rest', () => {
  const ix = new PositionIndex();
  for (let p = 0; p < CHUNK + 10; p++) ix.apply({ type: 'accept', position: p, proposal: 2, action: { kind: 'append', data: DATA } });
  ix.apply({ type: 'promise', position: 5, promised: 9 });
  ix.apply({ type: 'accept', position: CHUNK + 10, proposal: 3, action: { kind: 'truncate', to: CHUNK + 3 } });
  assert.deepEqual(ix.apply({ type: 'commit', from: 0, to: CHUNK + 10, proposal: 3 }), { truncatedBelow: CHUNK + 3 });
  assert.deepEqual([...ix.positions(0, 2 * CHUNK)], [CHUNK + 3, CHUNK + 4, CHUNK + 5, CHUNK + 6, CHUNK + 7, CHUNK + 8, CHUNK + 9, CHUNK + 10]);
  assert.equal(ix.size(), 8);
  assert.equal(ix.slot(CHUNK + 2), undefined);
  assert.equal(ix.learnedThrough(), CHUNK + 2, 'positions below begin count as learned');
  ix.checkInvariants();
});

test('a commit over chunks with no slot reaches the first position of the next one', () => {
  const ix = new PositionIndex();
  for (const p of [CHUNK - 1, 4 * CHUNK, 4 * CHUNK + 1]) ix.apply({ type: 'accept', position: p, proposal: 1, action: { kind: 'nop' } });
  ix.apply({ type: 'commit', from: 0, to: 5 * CHUNK, proposal: 1 });
  assert.deepEqual([...ix.positions(0, 5 * CHUNK)].map((p) => ix.slot(p)?.learned), [true, true, true]);
  ix.checkInvariants();
});

test('assertions stay on: an accept at a learned position, a negative position, proposal 0', () => {
  const ix = new PositionIndex();
  ix.apply({ type: 'learn', position: 3, action: { kind: 'nop' } });
  assert.throws(() => ix.apply({ type: 'accept', position: 3, proposal: 1, action: { kind: 'nop' } }), AssertionError);
  assert.throws(() => ix.apply({ type: 'accept', position: -1, proposal: 1, action: { kind: 'nop' } }), AssertionError);
  assert.throws(() => ix.apply({ type: 'accept', position: 4, proposal: 0, action: { kind: 'nop' } }), AssertionError);
  assert.throws(() => ix.apply({ type: 'commit', from: 5, to: 4, proposal: 1 }), AssertionError);
});
