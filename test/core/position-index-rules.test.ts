/**
 * PositionIndex's rules, one test each (issue 11: mutation testing of src/core/position-index.ts).
 * position-index.test.ts compares the index with a reference model over random record sequences; these
 * tests state what each record means where the model's sequences rarely go (the exact edges of a
 * range, a chunk, the beginning), what the index reports besides slots (pending truncations and
 * configuration entries, the highest proposal, the effects stores act on), and that checkInvariants
 * catches each broken invariant. A store reads its disk back through this index (replay.ts), so a
 * wrong answer here is a wrong answer from disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssertionError } from '../../src/core/assert.js';
import { EMPTY_METADATA, PositionIndex } from '../../src/core/position-index.js';
import type { Action, Metadata, PersistRecord } from '../../src/core/types.js';

const CHUNK = 4096;
const NOP: Action = { kind: 'nop' };
const APPEND: Action = { kind: 'append', data: new Uint8Array([1]) };
const META: Metadata = { status: 'VOTING', promised: 0, incarnation: 'i' };

const acc = (position: number, proposal = 1, action: Action = NOP): PersistRecord => ({ type: 'accept', position, proposal, action });
const lrn = (position: number, action: Action = NOP): PersistRecord => ({ type: 'learn', position, action });
const trunc = (to: number): Action => ({ kind: 'truncate', to });
const cfg = (epoch: number): Action => ({ kind: 'config', config: { epoch, voters: [{ id: 1, address: 'a:1' }], learners: [], nextId: 2 } });

function index(...records: PersistRecord[]): PositionIndex {
  const ix = new PositionIndex();
  for (const r of records) ix.apply(r);
  return ix;
}
const all = (ix: PositionIndex): number[] => [...ix.positions(0, Number.MAX_SAFE_INTEGER)];

/** Reaches a private field, to break an invariant on purpose. */
const inner = (ix: PositionIndex): Record<string, unknown> & { chunks: Map<number, Record<string, unknown>> } => ix as never;

test('a new index is empty: EMPTY metadata, begin 0, end and learnedThrough -1, no slots, highest proposal 0', () => {
  const ix = new PositionIndex();
  assert.deepEqual(ix.metadata(), EMPTY_METADATA);
  assert.deepEqual(EMPTY_METADATA, { status: 'EMPTY', promised: 0, incarnation: '' });
  assert.deepEqual([ix.begin(), ix.end(), ix.learnedThrough(), ix.size(), ix.highestProposal()], [0, -1, -1, 0, 0]);
  assert.deepEqual(all(ix), []);
  assert.equal(ix.slot(0), undefined);
  assert.deepEqual(ix.pendingTruncates(), []);
  assert.deepEqual(ix.pendingConfigs(), []);
  ix.checkInvariants();
  assert.equal(new PositionIndex(META).metadata(), META, 'the metadata it is built with');
});

test('a slot reads back exactly: position, explicit promise, accepted proposal, learned, kind, and truncateTo for a truncate only', () => {
  const ix = index({ type: 'promise', position: 4, promised: 6 }, acc(5, 7, APPEND), acc(6, 2, trunc(1)), lrn(7, cfg(1)), acc(8, 3, { kind: 'nop', tombstone: true }));
  assert.deepEqual(ix.slot(4), { position: 4, promised: 6, accepted: 0, learned: false });
  assert.deepEqual(ix.slot(5), { position: 5, promised: 0, accepted: 7, learned: false, kind: 'append' });
  assert.deepEqual(ix.slot(6), { position: 6, promised: 0, accepted: 2, learned: false, kind: 'truncate', truncateTo: 1 });
  assert.deepEqual(ix.slot(7), { position: 7, promised: 0, accepted: 0, learned: true, kind: 'config' });
  assert.deepEqual(ix.slot(8), { position: 8, promised: 0, accepted: 3, learned: false, kind: 'nop' });
  assert.equal(ix.slot(3), undefined);
  assert.equal(ix.slot(9), undefined);
  assert.equal(ix.slot(CHUNK + 5), undefined, 'a chunk that does not exist');
  // A promise at a position that then accepts keeps both.
  ix.apply(acc(4, 6, APPEND));
  assert.deepEqual(ix.slot(4), { position: 4, promised: 6, accepted: 6, learned: false, kind: 'append' });
});

test('an accept replaces the kind and the truncation target: a truncate accepted over by a nop is no pending truncation', () => {
  const ix = index(acc(3, 1, trunc(2)));
  assert.deepEqual(ix.pendingTruncates(), [{ position: 3, to: 2 }]);
  ix.apply(acc(3, 2, NOP));
  assert.deepEqual(ix.slot(3), { position: 3, promised: 0, accepted: 2, learned: false, kind: 'nop' });
  assert.deepEqual(ix.pendingTruncates(), []);
  ix.apply(acc(3, 3, trunc(1)));
  assert.deepEqual(ix.pendingTruncates(), [{ position: 3, to: 1 }]);
  ix.apply(acc(4, 1, cfg(1)));
  assert.deepEqual(ix.pendingConfigs(), [4]);
  ix.apply(acc(4, 2, APPEND));
  assert.deepEqual(ix.pendingConfigs(), []);
  ix.checkInvariants();
});

test('an explicit promise only rises; one below the beginning is ignored; each counts for the highest proposal', () => {
  const ix = index({ type: 'promise', position: 2, promised: 5 });
  ix.apply({ type: 'promise', position: 2, promised: 3 });
  assert.equal(ix.slot(2)?.promised, 5);
  ix.apply({ type: 'promise', position: 2, promised: 8 });
  assert.equal(ix.slot(2)?.promised, 8);
  assert.equal(ix.highestProposal(), 8);
  assert.deepEqual(ix.apply({ type: 'promise', position: 9, promised: 0 }), {}, 'a promise makes no effect');
  assert.deepEqual(ix.slot(9), { position: 9, promised: 0, accepted: 0, learned: false }, 'a promise of 0 still makes a slot');
  const b = index(lrn(5, trunc(4)));
  assert.deepEqual(b.apply({ type: 'promise', position: 3, promised: 20 }), {});
  assert.equal(b.slot(3), undefined);
  assert.equal(b.highestProposal(), 0, 'a promise below the beginning is not counted');
  b.checkInvariants();
});

test('the highest proposal is the highest promised or accepted at any position, or the implicit promise if higher', () => {
  const ix = index(acc(1, 4), { type: 'promise', position: 2, promised: 3 }, acc(3, 2));
  assert.equal(ix.highestProposal(), 4);
  ix.apply({ type: 'metadata', metadata: { ...META, promised: 9 } });
  assert.equal(ix.highestProposal(), 9);
  ix.apply({ type: 'promise', position: 5, promised: 11 });
  assert.equal(ix.highestProposal(), 11);
  ix.apply({ type: 'metadata', metadata: { ...META, promised: 1 } });
  assert.equal(ix.highestProposal(), 11, 'it never forgets a per-position promise');
});

test('an accept below the beginning is ignored; at or above, its effect names the position', () => {
  const ix = index(lrn(10, trunc(5)));
  assert.deepEqual(ix.apply(acc(4, 9)), {});
  assert.equal(ix.slot(4), undefined);
  assert.equal(ix.highestProposal(), 0);
  assert.deepEqual(ix.apply(acc(5, 2)), { actionAt: 5 });
  assert.equal(ix.slot(5)?.accepted, 2);
});

test('metadata replaces the metadata; a beginning in it moves the beginning up only, dropping what is below', () => {
  const ix = index(acc(0), acc(1), acc(2), acc(CHUNK + 1), lrn(0));
  const m = { ...META, promised: 4, begin: 2 };
  assert.deepEqual(ix.apply({ type: 'metadata', metadata: m }), { truncatedBelow: 2 });
  assert.equal(ix.metadata(), m);
  assert.deepEqual([ix.begin(), ix.learnedThrough(), ix.size()], [2, 1, 2]);
  assert.deepEqual(all(ix), [2, CHUNK + 1]);
  // The same or a lower beginning changes nothing but the metadata.
  assert.deepEqual(ix.apply({ type: 'metadata', metadata: { ...META, begin: 2 } }), {});
  assert.deepEqual(ix.apply({ type: 'metadata', metadata: { ...META, begin: 1 } }), {});
  assert.equal(ix.begin(), 2);
  assert.deepEqual(all(ix), [2, CHUNK + 1]);
  assert.deepEqual(ix.apply({ type: 'metadata', metadata: META }), {}, 'no beginning');
  ix.checkInvariants();
});

test('a beginning beyond the end raises the end to just below it; learnedThrough follows to the first position not learned', () => {
  const ix = index(acc(0), lrn(7), lrn(8), acc(9));
  assert.deepEqual(ix.apply({ type: 'metadata', metadata: { ...META, begin: 7 } }), { truncatedBelow: 7 });
  assert.deepEqual([ix.begin(), ix.end(), ix.learnedThrough()], [7, 9, 8]);
  const far = index(acc(0));
  far.apply({ type: 'metadata', metadata: { ...META, begin: 100 } });
  assert.deepEqual([far.begin(), far.end(), far.learnedThrough(), far.size()], [100, 99, 99, 0]);
  assert.deepEqual(far.apply({ type: 'metadata', metadata: { ...META, begin: 100 } }), {});
  far.checkInvariants();
});

test('a metadata record\'s promise and beginning must be naturals', () => {
  assert.throws(() => index({ type: 'metadata', metadata: { ...META, promised: -1 } }), AssertionError);
  assert.throws(() => index({ type: 'metadata', metadata: { ...META, promised: 1.5 } }), AssertionError);
  assert.throws(() => index({ type: 'metadata', metadata: { ...META, begin: 2.5 } }), AssertionError);
  assert.throws(() => index({ type: 'promise', position: -1, promised: 1 }), AssertionError);
  assert.throws(() => index({ type: 'learn', position: 0.5, action: NOP }), AssertionError);
});

test('a commit learns exactly the positions of its range accepted under its proposal', () => {
  const ix = index(acc(0, 2), acc(1, 3), acc(2, 2), { type: 'promise', position: 3, promised: 2 }, acc(4, 2), acc(5, 2));
  assert.deepEqual(ix.apply({ type: 'commit', from: 1, to: 4, proposal: 2 }), {});
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((p) => ix.slot(p)?.learned), [false, false, true, false, true, false]);
  assert.equal(ix.learnedThrough(), -1, 'position 0 is not learned');
  ix.apply({ type: 'commit', from: 0, to: 0, proposal: 2 });
  assert.equal(ix.learnedThrough(), 0, 'a commit of one position');
  ix.apply({ type: 'commit', from: 1, to: 1, proposal: 3 });
  assert.equal(ix.learnedThrough(), 2);
  ix.checkInvariants();
});

test('a commit beyond the end, or over a range without slots, learns nothing and creates no slot', () => {
  const ix = index(acc(0, 1), acc(1, 1));
  assert.deepEqual(ix.apply({ type: 'commit', from: 2, to: 10, proposal: 1 }), {});
  assert.deepEqual([ix.size(), ix.end(), ix.learnedThrough()], [2, 1, -1]);
  ix.apply({ type: 'commit', from: 0, to: 1e12, proposal: 1 });
  assert.deepEqual([ix.size(), ix.end(), ix.learnedThrough()], [2, 1, 1]);
  ix.checkInvariants();
});

test('a commit starts above what is learned already: it never relearns a learned position under another kind', () => {
  const ix = index(lrn(0, APPEND), acc(1, 2));
  assert.deepEqual(ix.apply({ type: 'commit', from: 0, to: 1, proposal: 2 }), {});
  assert.deepEqual(ix.slot(0), { position: 0, promised: 0, accepted: 0, learned: true, kind: 'append' });
  assert.equal(ix.learnedThrough(), 1);
});

test('a committed truncate moves the beginning; positions past it in the commit are still learned', () => {
  const ix = index(acc(0, 1), acc(1, 1), acc(2, 1, trunc(2)), acc(3, 1), acc(5, 1));
  assert.deepEqual(ix.apply({ type: 'commit', from: 0, to: 5, proposal: 1 }), { truncatedBelow: 2 });
  assert.deepEqual([ix.begin(), ix.learnedThrough()], [2, 3]);
  assert.deepEqual(all(ix), [2, 3, 5]);
  assert.equal(ix.slot(5)?.learned, true);
  // Two truncates in one commit: the effect names the last move.
  const two = index(acc(0, 1, trunc(0)), acc(1, 1, trunc(1)), acc(2, 1), acc(3, 1, trunc(3)), acc(4, 1));
  assert.deepEqual(two.apply({ type: 'commit', from: 0, to: 4, proposal: 1 }), { truncatedBelow: 3 });
  assert.equal(two.begin(), 3);
  two.checkInvariants();
});

test('a truncate past its own position, committed, drops the positions after it that the commit would have reached', () => {
  const ix = index(acc(0, 1, trunc(3)), acc(1, 1), acc(2, 1), acc(3, 1));
  assert.deepEqual(ix.apply({ type: 'commit', from: 0, to: 3, proposal: 1 }), { truncatedBelow: 3 });
  assert.deepEqual(all(ix), [3]);
  assert.equal(ix.slot(3)?.learned, true);
  assert.equal(ix.learnedThrough(), 3);
  ix.checkInvariants();
});

test('a learned truncate at or below the beginning moves nothing', () => {
  const ix = index(lrn(5, trunc(3)));
  assert.equal(ix.begin(), 3);
  assert.deepEqual(ix.apply(lrn(6, trunc(3))), { actionAt: 6 });
  assert.deepEqual(ix.apply(lrn(7, trunc(1))), { actionAt: 7 });
  assert.equal(ix.begin(), 3);
  assert.deepEqual(ix.apply(lrn(8, trunc(4))), { actionAt: 8, truncatedBelow: 4 });
  assert.deepEqual([ix.begin(), ix.learnedThrough()], [4, 3]);
  ix.checkInvariants();
});

test('learning a learned position again with the same kind is a repair; with another kind nothing', () => {
  const ix = index(lrn(2, APPEND), lrn(3, trunc(1)));
  assert.deepEqual(ix.apply(lrn(2, APPEND)), { repairAt: 2 });
  assert.deepEqual(ix.apply(lrn(2, NOP)), {});
  assert.equal(ix.slot(2)?.kind, 'append');
  assert.deepEqual(ix.apply(lrn(3, trunc(1))), { repairAt: 3 });
  assert.deepEqual(ix.apply(lrn(0, APPEND)), {}, 'below the beginning');
  // A position learned through a commit is repaired the same way.
  const c = index(acc(0, 1, APPEND), { type: 'commit', from: 0, to: 0, proposal: 1 });
  assert.deepEqual(c.apply(lrn(0, APPEND)), { repairAt: 0 });
});

test('learnedThrough is the end of the learned prefix from the beginning, never past a hole', () => {
  const ix = index(lrn(0), lrn(2), lrn(3));
  assert.equal(ix.learnedThrough(), 0);
  ix.apply(lrn(1));
  assert.equal(ix.learnedThrough(), 3);
  ix.apply(acc(4));
  ix.apply(lrn(CHUNK - 1));
  assert.equal(ix.learnedThrough(), 3);
  for (let p = 5; p < CHUNK - 1; p++) ix.apply(lrn(p));
  ix.apply(lrn(4));
  assert.equal(ix.learnedThrough(), CHUNK - 1, 'across a whole chunk');
  ix.apply(lrn(CHUNK));
  assert.equal(ix.learnedThrough(), CHUNK, 'into the next chunk');
  ix.checkInvariants();
});

test('positions() lists the slots of [from, to] within [begin, end], ascending, both ends included', () => {
  const ps = [0, 1, 7, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 2, 10 * CHUNK];
  const ix = index(...ps.map((p) => acc(p)));
  assert.deepEqual(all(ix), ps);
  assert.deepEqual([...ix.positions(1, 7)], [1, 7]);
  assert.deepEqual([...ix.positions(2, 6)], []);
  assert.deepEqual([...ix.positions(7, 7)], [7]);
  assert.deepEqual([...ix.positions(8, 7)], []);
  assert.deepEqual([...ix.positions(CHUNK - 1, CHUNK)], [CHUNK - 1, CHUNK]);
  assert.deepEqual([...ix.positions(CHUNK, CHUNK)], [CHUNK]);
  assert.deepEqual([...ix.positions(CHUNK + 1, 3 * CHUNK + 2)], [CHUNK + 1, 3 * CHUNK + 2]);
  assert.deepEqual([...ix.positions(2, 10 * CHUNK)], ps.slice(2));
  assert.deepEqual([...ix.positions(10 * CHUNK, 10 * CHUNK)], [10 * CHUNK]);
  ix.apply(lrn(20 * CHUNK, trunc(CHUNK)));
  assert.deepEqual(all(ix), [CHUNK, CHUNK + 1, 3 * CHUNK + 2, 10 * CHUNK, 20 * CHUNK]);
  assert.deepEqual([...ix.positions(0, CHUNK)], [CHUNK]);
});

test('positions() over a range much wider than the chunks held (the sparse path) lists the same, ascending', () => {
  const ps = [5, 2 * CHUNK + 3, 700 * CHUNK, 700 * CHUNK + 9, 2 ** 40, 2 ** 40 + CHUNK];
  // Applied out of order: the chunks' Map is in insertion order, the answer must not be.
  const ix = index(...[...ps].reverse().map((p) => acc(p)));
  assert.deepEqual(all(ix), ps);
  assert.deepEqual([...ix.positions(6, 2 ** 40)], [2 * CHUNK + 3, 700 * CHUNK, 700 * CHUNK + 9, 2 ** 40]);
  assert.deepEqual([...ix.positions(2 * CHUNK + 4, 700 * CHUNK)], [700 * CHUNK]);
  assert.deepEqual([...ix.positions(700 * CHUNK + 1, 2 ** 40 + CHUNK - 1)], [700 * CHUNK + 9, 2 ** 40]);
  // Exactly at the edge between the two paths: as many keys in the range as twice the chunks held.
  const two = index(acc(0), acc(3 * CHUNK + 1));
  for (const [from, to] of [[0, 3 * CHUNK + 1], [0, 4 * CHUNK + 1], [1, 3 * CHUNK], [0, 5 * CHUNK]] as const) {
    assert.deepEqual([...two.positions(from, to)], [0, 3 * CHUNK + 1].filter((p) => p >= from && p <= to), `[${from}, ${to}]`);
  }
});

test('a chunk\'s arrays grow as positions further into it appear, keeping every earlier value', () => {
  const ix = index(acc(0, 5, APPEND), { type: 'promise', position: 1, promised: 6 });
  for (const p of [7, 8, 9, 100, 1000, CHUNK - 1]) ix.apply(acc(p, p));
  ix.apply({ type: 'promise', position: CHUNK - 1, promised: 9999 });
  assert.deepEqual(ix.slot(0), { position: 0, promised: 0, accepted: 5, learned: false, kind: 'append' });
  assert.deepEqual(ix.slot(1), { position: 1, promised: 6, accepted: 0, learned: false });
  for (const p of [7, 8, 9, 100, 1000]) assert.equal(ix.slot(p)?.accepted, p);
  assert.deepEqual(ix.slot(CHUNK - 1), { position: CHUNK - 1, promised: 9999, accepted: CHUNK - 1, learned: false, kind: 'nop' });
  assert.equal(ix.slot(CHUNK - 2), undefined);
  assert.equal(ix.slot(8 * 2 - 1), undefined, 'grown capacity reads as no slot');
  // A chunk first touched far into it, then at its start.
  const late = index(acc(CHUNK + 3000, 2), lrn(CHUNK + 1));
  assert.deepEqual(all(late), [CHUNK + 1, CHUNK + 3000]);
  assert.equal(late.slot(CHUNK + 3000)?.accepted, 2);
  late.checkInvariants();
  ix.checkInvariants();
});

test('a promise-only chunk gets its accepted array on its first accept, and a learn-only chunk reads accepted 0', () => {
  const ix = index({ type: 'promise', position: 3, promised: 2 }, lrn(CHUNK + 2, APPEND));
  assert.equal(ix.slot(CHUNK + 2)?.accepted, 0);
  ix.apply(acc(20, 4));
  assert.deepEqual(ix.slot(3), { position: 3, promised: 2, accepted: 0, learned: false });
  assert.equal(ix.slot(20)?.accepted, 4);
  assert.equal(ix.slot(20)?.promised, 0);
  ix.checkInvariants();
});

test('a truncation clears what lies below it in its chunk and keeps the rest, counts included; a position cleared reads as new when it comes back', () => {
  const ix = index(acc(0, 1), { type: 'promise', position: 1, promised: 7 }, acc(2, 1), acc(3, 1), acc(CHUNK + 1, 1));
  ix.apply(lrn(4, trunc(2)));
  assert.deepEqual([ix.size(), ix.begin()], [4, 2]);
  assert.deepEqual(all(ix), [2, 3, 4, CHUNK + 1]);
  ix.apply(lrn(10, trunc(CHUNK + 1)));
  assert.deepEqual([ix.size(), ix.begin()], [1, CHUNK + 1]);
  assert.deepEqual(all(ix), [CHUNK + 1]);
  ix.checkInvariants();
  // Everything gone from a chunk: the chunk goes; a later position there starts clean.
  const c = index(acc(5, 3), acc(6, 3));
  c.apply({ type: 'metadata', metadata: { ...META, begin: 7 } });
  assert.equal(c.size(), 0);
  c.apply(acc(7, 1));
  assert.deepEqual(c.slot(7), { position: 7, promised: 0, accepted: 1, learned: false, kind: 'nop' });
  assert.equal(c.size(), 1);
  c.checkInvariants();
});

test('a truncation within one chunk whose lower part is empty still clears its promises and acceptances', () => {
  // Slots at 10..12 of chunk 0; a truncation to 12 clears 10 and 11; accepting 12 again keeps it.
  const ix = index({ type: 'promise', position: 10, promised: 4 }, acc(11, 4), acc(12, 4), acc(13, 4, trunc(12)));
  ix.apply({ type: 'commit', from: 13, to: 13, proposal: 4 });
  assert.equal(ix.begin(), 12);
  assert.deepEqual(all(ix), [12, 13]);
  assert.equal(ix.highestProposal(), 4);
  ix.checkInvariants();
  // Inspect the arrays below the beginning: all zero.
  const ch = inner(ix).chunks.get(0)! as { flags: Uint8Array; accepted: Float64Array; promised: Float64Array; lo: number; count: number };
  assert.deepEqual([ch.flags[10], ch.flags[11], ch.accepted[11], ch.promised[10]], [0, 0, 0, 0]);
  assert.deepEqual([ch.lo, ch.count], [12, 2]);
});

test('a truncation drops the pending truncations and configuration entries below it, and keeps those at or above', () => {
  const ix = index(acc(1, 1, trunc(0)), acc(2, 1, cfg(1)), acc(5, 1, trunc(1)), acc(6, 1, cfg(2)));
  assert.deepEqual(ix.pendingTruncates(), [{ position: 1, to: 0 }, { position: 5, to: 1 }]);
  assert.deepEqual(ix.pendingConfigs(), [2, 6]);
  ix.apply(lrn(9, trunc(5)));
  assert.deepEqual(ix.pendingTruncates(), [{ position: 5, to: 1 }]);
  assert.deepEqual(ix.pendingConfigs(), [6]);
  ix.apply(lrn(10, trunc(7)));
  assert.deepEqual(ix.pendingTruncates(), []);
  assert.deepEqual(ix.pendingConfigs(), []);
  ix.checkInvariants();
  // An entry exactly at the new beginning stays (so does a truncate there).
  const at = index(acc(5, 1, cfg(1)), acc(6, 1, trunc(0)), lrn(9, trunc(5)));
  assert.deepEqual(at.pendingConfigs(), [5]);
  at.apply(lrn(10, trunc(6)));
  assert.deepEqual(at.pendingTruncates(), [{ position: 6, to: 0 }]);
  at.checkInvariants();
});

test('a truncation far ahead of many chunks drops them all, whichever way it walks them', () => {
  // Many chunks, a short move: walks the keys. Few chunks, a long move: walks the chunks.
  const many = index(...Array.from({ length: 20 }, (_, k) => acc(k * CHUNK + 1)));
  many.apply({ type: 'metadata', metadata: { ...META, begin: 3 * CHUNK } });
  assert.deepEqual(all(many).length, 17);
  assert.equal(many.size(), 17);
  many.apply({ type: 'metadata', metadata: { ...META, begin: 19 * CHUNK + 2 } });
  assert.deepEqual(all(many), []);
  assert.equal(many.size(), 0);
  many.checkInvariants();
  const few = index(acc(1), acc(2 ** 30), acc(2 ** 40));
  few.apply({ type: 'metadata', metadata: { ...META, begin: 2 ** 40 } });
  assert.deepEqual(all(few), [2 ** 40]);
  assert.equal(few.size(), 1);
  few.checkInvariants();
  // The chunk the new beginning falls in keeps its positions at and above it.
  const at = index(acc(CHUNK - 1), acc(CHUNK), acc(CHUNK + 5));
  at.apply({ type: 'metadata', metadata: { ...META, begin: CHUNK + 5 } });
  assert.deepEqual(all(at), [CHUNK + 5]);
  assert.equal(at.size(), 1);
  at.checkInvariants();
});

test('pending truncations are the accepted ones not learned', () => {
  const ix = index(acc(3, 1, trunc(1)), acc(4, 1, trunc(2)));
  assert.deepEqual(ix.pendingTruncates(), [{ position: 3, to: 1 }, { position: 4, to: 2 }]);
  ix.apply({ type: 'commit', from: 4, to: 4, proposal: 1 });
  assert.equal(ix.begin(), 2);
  assert.deepEqual(ix.pendingTruncates(), [{ position: 3, to: 1 }]);
});

test('pending configuration entries: not learned, or learned above the chain\'s last link; ascending', () => {
  const ix = index(acc(9, 1, cfg(3)), acc(4, 1, cfg(2)), lrn(2, cfg(1)));
  assert.deepEqual(ix.pendingConfigs(), [2, 4, 9], 'no chain: every entry is pending');
  const link = (epoch: number, position: number) => ({ epoch, voters: [{ id: 1, address: 'a:1' }], learners: [], nextId: 2, position, floor: 1 });
  ix.apply({ type: 'metadata', metadata: { ...META, configs: [] } });
  assert.deepEqual(ix.pendingConfigs(), [2, 4, 9], 'an empty chain');
  ix.apply({ type: 'metadata', metadata: { ...META, configs: [link(0, -1), link(1, 2)] } });
  assert.deepEqual(ix.pendingConfigs(), [4, 9], 'the learned entry at the chain\'s head is chained');
  ix.apply(lrn(4, cfg(2)));
  assert.deepEqual(ix.pendingConfigs(), [4, 9], 'learned above the head: held back, still pending');
  ix.apply({ type: 'metadata', metadata: { ...META, configs: [link(0, -1), link(1, 2), link(2, 4)] } });
  assert.deepEqual(ix.pendingConfigs(), [9]);
  ix.apply({ type: 'metadata', metadata: { ...META, configs: [link(0, -1)] } });
  assert.deepEqual(ix.pendingConfigs(), [2, 4, 9], 'a chain ending below them');
});

test('a learned position cannot be accepted again (an assertion that stays on), not even through a commit\'s learning', () => {
  const ix = index(acc(0, 1), { type: 'commit', from: 0, to: 0, proposal: 1 });
  assert.throws(() => ix.apply(acc(0, 2)), AssertionError);
  assert.throws(() => ix.apply({ type: 'accept', position: 1, proposal: -1, action: NOP }), AssertionError);
});

test('checkInvariants accepts every state the records build, and catches each broken invariant', () => {
  const fresh = () => index(acc(0, 1), acc(1, 1, trunc(0)), acc(2, 1, cfg(1)), { type: 'promise', position: 3, promised: 2 }, lrn(4), acc(6, 1), acc(CHUNK + 2, 1));
  fresh().checkInvariants();
  type Inner = ReturnType<typeof inner>;
  type C = { flags: Uint8Array; accepted: Float64Array | undefined; promised: Float64Array | undefined; lo: number; hi: number; count: number };
  const c0 = (i: Inner): C => i.chunks.get(0) as unknown as C;
  const grown = <T extends Uint8Array | Float64Array>(a: T): T => {
    const g = new (a.constructor as new (n: number) => T)(CHUNK + 8);
    g.set(a);
    return g;
  };
  // Each broken state, and the assertion that must name it (the first that fires).
  const broken: [string, RegExp, (i: Inner) => void][] = [
    ['begin below 0', /^begin >= 0$/, (i) => (i.beginPos = -1)],
    ['learnedThrough below begin - 1', /^learnedThrough >= begin - 1$/, (i) => ((i.beginPos = 2), (i.learnedThroughPos = 0))],
    ['a chunk filed under another key', /^chunk 7 filed under its key$/, (i) => i.chunks.set(7, i.chunks.get(0)!)],
    ['lo above hi', /^chunk 0: bounds \[9, 6\], capacity 8$/, (i) => (c0(i).lo = 9)],
    ['lo below 0', /^chunk 0: bounds \[-1, 6\]/, (i) => (c0(i).lo = -1)],
    ['hi at the capacity', /^chunk 0: bounds \[0, 8\], capacity 8$/, (i) => (c0(i).hi = 8)],
    ['a capacity beyond CHUNK', /^chunk 0: bounds \[0, 6\], capacity 4104$/, (i) => {
      const c = c0(i);
      c.flags = grown(c.flags);
      c.accepted = grown(c.accepted!);
      c.promised = grown(c.promised!);
    }],
    ['accepted of another length', /^chunk 0: arrays of one length$/, (i) => (c0(i).accepted = new Float64Array(1))],
    ['promised of another length', /^chunk 0: arrays of one length$/, (i) => (c0(i).promised = new Float64Array(CHUNK))],
    ['an acceptance without a slot', /^position 5 without a slot holds state$/, (i) => (c0(i).accepted![5] = 3)],
    ['flags without EXISTS', /^position 5 without a slot holds state$/, (i) => (c0(i).flags[5] = 2)],
    ['a promise without a slot', /^position 5 without a slot holds state$/, (i) => (c0(i).promised![5] = 3)],
    ['a slot below begin', /^slot 0 below begin 1$/, (i) => ((i.beginPos = 1), (i.learnedThroughPos = 0))],
    ['a slot beyond end', /^slot 3 beyond end 2$/, (i) => (i.endPos = 2)],
    ['a kind without acceptance or learning', /^slot 0: kind iff accepted or learned$/, (i) => (c0(i).accepted![0] = 0)],
    ['acceptance without a kind', /^slot 3: kind iff accepted or learned$/, (i) => ((c0(i).flags[3] = 1), (c0(i).accepted![3] = 1))],
    ['a truncate without its target', /^slot 1: truncateTo iff a truncate$/, (i) => (i.truncateTo as Map<number, number>).delete(1)],
    ['a target without a truncate', /^slot 0: truncateTo iff a truncate$/, (i) => (i.truncateTo as Map<number, number>).set(0, 0)],
    ['a config entry not listed', /^slot 2: configAt iff a config entry$/, (i) => (i.configAt as Set<number>).delete(2)],
    ['a listed config entry that is none', /^slot 0: configAt iff a config entry$/, (i) => (i.configAt as Set<number>).add(0)],
    ['a chunk count off', /^chunk 0: count 7, 6 slots$/, (i) => (c0(i).count += 1)],
    ['an empty chunk kept', /^chunk 9: count 0, 0 slots$/, (i) => i.chunks.set(9, { key: 9, flags: new Uint8Array(8), accepted: undefined, promised: undefined, count: 0, lo: 0, hi: 0 })],
    ['the size off', /^size 8, 7 slots$/, (i) => ((i.count as number) += 1)],
    ['a learned prefix with a hole', /^position 0 <= learnedThrough is not learned$/, (i) => (i.learnedThroughPos = 4)],
    ['a stale truncateTo entry beyond the slots', /^truncateTo holds truncate slots only$/, (i) => (i.truncateTo as Map<number, number>).set(CHUNK + 100, 1)],
    ['a stale configAt entry beyond the slots', /^configAt holds config slots only$/, (i) => (i.configAt as Set<number>).add(CHUNK + 100)],
  ];
  for (const [what, message, breakIt] of broken) {
    const ix = fresh();
    breakIt(inner(ix));
    assert.throws(() => ix.checkInvariants(), (e: unknown) => e instanceof AssertionError && message.test(e.message), what);
  }
  // The learned prefix is checked through learnedThrough itself.
  const edge = index(lrn(0), lrn(1), acc(2));
  assert.equal(edge.learnedThrough(), 1);
  inner(edge).learnedThroughPos = 2;
  assert.throws(() => edge.checkInvariants(), (e: unknown) => e instanceof AssertionError && /^position 2 <= learnedThrough is not learned$/.test(e.message));
});

test('a commit never learns a slot that accepted nothing, not even a commit under proposal 0', () => {
  const ix = index({ type: 'promise', position: 0, promised: 3 }, { type: 'promise', position: 1, promised: 0 }, acc(2, 1));
  assert.deepEqual(ix.apply({ type: 'commit', from: 0, to: 2, proposal: 0 }), {});
  assert.deepEqual([0, 1, 2].map((p) => ix.slot(p)?.learned), [false, false, false]);
  assert.deepEqual(ix.slot(0), { position: 0, promised: 3, accepted: 0, learned: false });
  assert.equal(ix.learnedThrough(), -1);
  ix.checkInvariants();
});

test('without a chain, a learned configuration entry at position 0 or 1 is pending too', () => {
  const ix = index(lrn(0, cfg(1)), lrn(1, cfg(2)));
  assert.deepEqual(ix.pendingConfigs(), [0, 1]);
  const link = { epoch: 1, voters: [{ id: 1, address: 'a:1' }], learners: [], nextId: 2, position: 0, floor: 1 };
  ix.apply({ type: 'metadata', metadata: { ...META, configs: [link] } });
  assert.deepEqual(ix.pendingConfigs(), [1]);
});
