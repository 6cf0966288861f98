// How a replica pages a read (replica.ts, collectSlots): at most `limit` slots and about
// limits.replyBytesMax entry bytes a reply, always at least one slot (an entry above the byte bound
// travels alone), and `coveredThrough` the last position looked at, so that the asker, continuing
// after it, misses nothing and reads nothing twice. The full mutation run of replica.ts found the
// byte bound and the paging untested by the core tests (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limits } from '../../src/core/constants.js';
import { replicaStep } from '../../src/core/replica.js';
import type { Action, PersistRecord, ReadReply } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const append = (bytes: Uint8Array): Action => ({ kind: 'append', data: bytes });

/** A replica that accepted `actions` at the positions given (under proposal 1). */
function replica(at: ReadonlyMap<number, Action>): MemoryStore {
  const store = new MemoryStore({ status: 'VOTING', promised: 1, incarnation: 'x' });
  const records: PersistRecord[] = [...at].map(([position, action]) => ({ type: 'accept', position, proposal: 1, action }));
  store.append(records);
  return store;
}

function read(store: MemoryStore, from: number, to: number, limit: number): ReadReply {
  return replicaStep(store, { type: 'read', rid: 1, from, to, limit }).reply as ReadReply;
}

/** Reads [from, to] page by page as a reader does; returns each page's positions and coveredThrough. */
function pages(store: MemoryStore, from: number, to: number, limit: number): { positions: number[]; covered: number }[] {
  const out: { positions: number[]; covered: number }[] = [];
  for (let next = from; next <= to; ) {
    const r = read(store, next, to, limit);
    assert.ok(r.coveredThrough >= next, `progress from ${next}: covered through ${r.coveredThrough}`);
    out.push({ positions: r.slots.map((s) => s.position), covered: r.coveredThrough });
    next = r.coveredThrough + 1;
    assert.ok(out.length < 100, 'the read ends');
  }
  return out;
}

test('the byte bound: a reply holds what fits in replyBytesMax, and the next read goes on right after it', () => {
  const third = new Uint8Array(Math.floor(limits.replyBytesMax / 3) + 1); // two fit, three do not
  const store = replica(new Map(Array.from({ length: 7 }, (_, p) => [p, append(third)])));
  assert.deepEqual(pages(store, 0, 6, 100), [
    { positions: [0, 1], covered: 1 },
    { positions: [2, 3], covered: 3 },
    { positions: [4, 5], covered: 5 },
    { positions: [6], covered: 6 },
  ]);
});

test('a reply exactly replyBytesMax full takes nothing more, not even an entry of no bytes (a NOP), inside a run of reads or at its end', () => {
  const half = new Uint8Array(limits.replyBytesMax / 2);
  const nop: Action = { kind: 'nop' };
  assert.deepEqual(pages(replica(new Map([[0, append(half)], [1, append(half)], [2, nop], [3, nop]])), 0, 3, 100), [
    { positions: [0, 1], covered: 1 },
    { positions: [2, 3], covered: 3 },
  ]);
  // 64 entries (the first run) that fill the reply exactly, then a NOP: the run ends where the reply does.
  const sixtyFourth = new Uint8Array(limits.replyBytesMax / 64);
  const run = new Map<number, Action>(Array.from({ length: 64 }, (_, p) => [p, append(sixtyFourth)]));
  run.set(64, nop);
  assert.deepEqual(pages(replica(run), 0, 64, 1000).map((pg) => [pg.positions.length, pg.covered]), [[64, 63], [1, 64]]);
});

test('exactly replyBytesMax fits; an entry above it travels alone', () => {
  const half = new Uint8Array(limits.replyBytesMax / 2);
  assert.deepEqual(pages(replica(new Map([[0, append(half)], [1, append(half)], [2, append(half)]])), 0, 2, 100), [
    { positions: [0, 1], covered: 1 },
    { positions: [2], covered: 2 },
  ]);
  const huge = new Uint8Array(limits.replyBytesMax + 1);
  const small = new Uint8Array(10);
  assert.deepEqual(pages(replica(new Map([[0, append(huge)], [1, append(small)]])), 0, 1, 100), [
    { positions: [0], covered: 0 },
    { positions: [1], covered: 1 },
  ]);
  assert.deepEqual(pages(replica(new Map([[0, append(small)], [1, append(huge)], [2, append(small)]])), 0, 2, 100), [
    { positions: [0], covered: 0 },
    { positions: [1], covered: 1 },
    { positions: [2], covered: 2 },
  ]);
});

test('the slot limit: `limit` slots a reply; holes are covered, not listed', () => {
  const small = new Uint8Array(8);
  const at = new Map<number, Action>();
  for (const p of [0, 1, 3, 4, 5, 8, 9]) at.set(p, append(small));
  assert.deepEqual(pages(replica(at), 0, 9, 3), [
    { positions: [0, 1, 3], covered: 3 },
    { positions: [4, 5, 8], covered: 8 },
    { positions: [9], covered: 9 },
  ]);
  // Past the end: covered through `to` (nothing more can be there).
  assert.deepEqual(pages(replica(at), 9, 20, 3), [{ positions: [9], covered: 20 }]);
});

test('a long sparse range (the positions index, not a walk) pages the same way', () => {
  const small = new Uint8Array(8);
  const far = 10 * limits.readSlotsMax;
  const at = new Map<number, Action>([[0, append(small)], [far, append(small)], [far + 1, append(small)], [2 * far, append(small)]]);
  assert.deepEqual(pages(replica(at), 0, 2 * far, 2), [
    { positions: [0, far], covered: far },
    { positions: [far + 1, 2 * far], covered: 2 * far },
  ]);
});

test('many small entries: the batches that grow with the mean size never pass the limit or lose a slot', () => {
  const small = new Uint8Array(16);
  const n = 3 * limits.readSlotsMax + 17;
  const store = replica(new Map(Array.from({ length: n }, (_, p) => [p, append(small)])));
  const got = pages(store, 0, n - 1, limits.readSlotsMax);
  assert.deepEqual(got.map((g) => g.positions.length), [limits.readSlotsMax, limits.readSlotsMax, limits.readSlotsMax, 17]);
  assert.deepEqual(got.flatMap((g) => g.positions), Array.from({ length: n }, (_, p) => p));
});

test('the byte bound reached inside an earlier run ends the reply there: the positions after it are read next, none skipped', () => {
  const fortieth = new Uint8Array(Math.floor(limits.replyBytesMax / 40)); // 40 fit; the run of 64 overshoots
  const store = replica(new Map(Array.from({ length: 70 }, (_, p) => [p, append(fortieth)])));
  const got = pages(store, 0, 69, limits.readSlotsMax);
  assert.deepEqual(got.map((g) => [g.positions[0], g.positions.at(-1), g.covered]), [[0, 39, 39], [40, 69, 69]]);
});

test('a position that holds only a promise is a hole to a read: neither a slot nor lost', () => {
  const small = new Uint8Array(8);
  const store = replica(new Map([[0, append(small)], [1, append(small)], [3, append(small)]]));
  store.append([{ type: 'promise', position: 2, promised: 3 }]);
  const r = read(store, 0, 3, 10);
  assert.deepEqual([r.slots.map((s) => s.position), r.lost, r.coveredThrough], [[0, 1, 3], [], 3]);
});

/** The position counts of the store reads (readActions) one read of [from, to] makes. */
function runs(store: MemoryStore, from: number, to: number, limit: number): number[] {
  const sizes: number[] = [];
  const view = Object.assign(Object.create(store) as MemoryStore, {
    readActions: (ps: readonly number[]) => {
      sizes.push(ps.length);
      return ps.map((p) => store.action(p));
    },
  });
  replicaStep(view, { type: 'read', rid: 1, from, to, limit });
  return sizes;
}

test('the runs a read takes from the store: 64 positions, doubled while the bytes left would hold twice as many entries of the mean size, never past the limit', () => {
  // Small entries: 64, 128, ... up to what the limit leaves.
  const n = limits.readSlotsMax;
  const small = replica(new Map(Array.from({ length: n }, (_, p) => [p, append(new Uint8Array(16))])));
  assert.deepEqual(runs(small, 0, n - 1, n), [64, 128, 256, 512, 1024, 2048, 64]);
  // Entries of a hundredth of the bound: after 64 the bytes left hold 36 more, not 128: the runs stay at 64.
  const large = replica(new Map(Array.from({ length: 150 }, (_, p) => [p, append(new Uint8Array(Math.floor(limits.replyBytesMax / 100)))])));
  assert.deepEqual(runs(large, 0, 149, n), [64, 64]);
  // Half the bound read in 128 entries (a mean of 32 KiB): the bytes left hold exactly 128 more, twice the run: doubled.
  const big = new Uint8Array(limits.replyBytesMax / 2 / 64 - 1);
  const tiny = new Uint8Array(1);
  const tie = replica(new Map(Array.from({ length: 64 + 192 }, (_, p) => [p, append(p < 64 ? big : tiny)])));
  assert.deepEqual(runs(tie, 0, 64 + 191, n), [64, 64, 128]);
});

test('a long sparse range is read through the positions index: the store is asked about the positions that hold a slot, not every position', () => {
  const small = new Uint8Array(8);
  const far = 10 * limits.readSlotsMax;
  const store = replica(new Map([[0, append(small)], [far, append(small)]]));
  let asked = 0;
  const view = Object.assign(Object.create(store) as MemoryStore, {
    slot: (p: number) => {
      asked++;
      return store.slot(p);
    },
  });
  const r = replicaStep(view, { type: 'read', rid: 1, from: 0, to: far, limit: 10 }).reply as ReadReply;
  assert.deepEqual(r.slots.map((s) => s.position), [0, far]);
  assert.ok(asked <= 4, `slot() asked ${asked} times`);
});
