// Issue 11 (mutation testing of src/core/identity.ts): disk identities, one rule each. A replica's own disk
// and the disks it recorded for the others (absent: the original disk 0/0), when two disks are the same and
// when a named disk is retired (an older generation, or the same generation on another disk), how recorded
// tables merge (the newest generation per member, ties keep what is there, the replica itself left out, the
// input never changed), the list a recover reply carries, the 52-bit disk number (never 0) and how two
// witness records of a member's disk combine. Pure functions; the randomness is a scripted generator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  drawDiskNumber, isRetired, knownDisks, mergeRecorded, mergeWitness, ORIGINAL_DISK, ownDisk, recordedDisk, sameDisk,
} from '../../src/core/identity.js';
import type { DiskId, Metadata, Witness } from '../../src/core/types.js';

const meta = (o: Partial<Metadata> = {}): Metadata => ({ status: 'VOTING', promised: 0, incarnation: 'i', ...o });
const disk = (generation: number, d: number): DiskId => ({ generation, disk: d });

/** A generator that returns these draws in order (and fails loudly past them). */
function draws(...xs: number[]): () => number {
  let i = 0;
  return () => {
    assert.ok(i < xs.length, 'more draws than scripted');
    return xs[i++]!;
  };
}

// ------------------------------------------------------------------ own and recorded disks

test('the original disk is generation 0, disk 0, and cannot be changed', () => {
  assert.deepEqual(ORIGINAL_DISK, { generation: 0, disk: 0 });
  assert.ok(Object.isFrozen(ORIGINAL_DISK));
});

test("a replica's own disk is its metadata's generation and disk, 0 where absent", () => {
  assert.deepEqual(ownDisk(meta()), { generation: 0, disk: 0 });
  assert.deepEqual(ownDisk(meta({ generation: 3, disk: 77 })), { generation: 3, disk: 77 });
  assert.deepEqual(ownDisk(meta({ generation: 2 })), { generation: 2, disk: 0 });
});

test('a member nothing was recorded for has the original disk; a recorded one has what was recorded', () => {
  assert.deepEqual(recordedDisk(meta(), 2), ORIGINAL_DISK);
  const m = meta({ recorded: { 2: disk(4, 9) } });
  assert.deepEqual(recordedDisk(m, 2), { generation: 4, disk: 9 });
  assert.deepEqual(recordedDisk(m, 3), ORIGINAL_DISK);
});

// ------------------------------------------------------------------ same, retired

test('two disks are the same only if generation and disk number both are', () => {
  assert.equal(sameDisk(disk(2, 5), disk(2, 5)), true);
  assert.equal(sameDisk(disk(2, 5), disk(2, 6)), false, 'one generation drawn twice');
  assert.equal(sameDisk(disk(2, 5), disk(3, 5)), false);
  assert.equal(sameDisk(disk(2, 5), disk(3, 6)), false);
});

test('a named disk is retired if the known one is of a newer generation, whatever its number', () => {
  assert.equal(isRetired(disk(3, 1), disk(2, 1)), true);
  assert.equal(isRetired(disk(3, 1), disk(2, 8)), true);
});

test('a named disk of the same generation is retired only if its number differs', () => {
  assert.equal(isRetired(disk(2, 5), disk(2, 5)), false);
  assert.equal(isRetired(disk(2, 5), disk(2, 6)), true);
});

test('a named disk newer than the known one is not retired (the replica has not heard of it yet)', () => {
  assert.equal(isRetired(disk(2, 5), disk(3, 5)), false);
  assert.equal(isRetired(disk(2, 5), disk(3, 6)), false);
  assert.equal(isRetired(ORIGINAL_DISK, disk(1, 9)), false);
});

// ------------------------------------------------------------------ merging recorded tables

test('merging keeps the newest generation per member and returns a new table; the input is not changed', () => {
  const table = Object.freeze({ 2: disk(1, 11), 3: disk(1, 12) });
  const out = mergeRecorded(table, [{ id: 2, generation: 2, disk: 21 }], 1);
  assert.deepEqual(out, { 2: { generation: 2, disk: 21 }, 3: { generation: 1, disk: 12 } });
  assert.deepEqual(table, { 2: disk(1, 11), 3: disk(1, 12) });
});

test('merging into no table at all starts one', () => {
  assert.deepEqual(mergeRecorded(undefined, [{ id: 2, generation: 1, disk: 5 }], 1), { 2: { generation: 1, disk: 5 } });
});

test('nothing newer heard: undefined (nothing changed), not a copy', () => {
  assert.equal(mergeRecorded(undefined, [], 1), undefined);
  assert.equal(mergeRecorded(undefined, [{ id: 2, generation: 0, disk: 0 }], 1), undefined, 'the original disk is what an absent entry means');
  const table = { 2: disk(3, 7) };
  assert.equal(mergeRecorded(table, [{ id: 2, generation: 2, disk: 9 }], 1), undefined, 'older');
});

test('a tie in generation keeps what is recorded, even on another disk number', () => {
  assert.equal(mergeRecorded({ 2: disk(3, 7) }, [{ id: 2, generation: 3, disk: 9 }], 1), undefined);
});

test('a member heard of twice keeps the newer generation, in either order', () => {
  const up = mergeRecorded(undefined, [{ id: 2, generation: 1, disk: 1 }, { id: 2, generation: 3, disk: 3 }], 1);
  assert.deepEqual(up, { 2: { generation: 3, disk: 3 } });
  const down = mergeRecorded({ 2: disk(1, 1) }, [{ id: 2, generation: 3, disk: 3 }, { id: 2, generation: 2, disk: 2 }], 1);
  assert.deepEqual(down, { 2: { generation: 3, disk: 3 } });
});

test("the replica's own id is left out: its own disk is its metadata", () => {
  assert.equal(mergeRecorded(undefined, [{ id: 1, generation: 5, disk: 5 }], 1), undefined);
  assert.deepEqual(mergeRecorded(undefined, [{ id: 1, generation: 5, disk: 5 }, { id: 2, generation: 1, disk: 4 }], 1), { 2: { generation: 1, disk: 4 } });
});

// ------------------------------------------------------------------ the list a recover reply carries

test('known disks: its own first (from its metadata), then every recorded one', () => {
  assert.deepEqual(knownDisks(meta({ generation: 2, disk: 8 }), 1), [{ id: 1, generation: 2, disk: 8 }]);
  const m = meta({ generation: 2, disk: 8, recorded: { 3: disk(1, 5), 4: disk(2, 6) } });
  assert.deepEqual(knownDisks(m, 1), [
    { id: 1, generation: 2, disk: 8 },
    { id: 3, generation: 1, disk: 5 },
    { id: 4, generation: 2, disk: 6 },
  ]);
});

test('known disks: a recorded entry under its own id is left out (its metadata says what its disk is)', () => {
  const m = meta({ recorded: { 1: disk(9, 9), 2: disk(1, 3) } });
  assert.deepEqual(knownDisks(m, 1), [{ id: 1, generation: 0, disk: 0 }, { id: 2, generation: 1, disk: 3 }]);
});

// ------------------------------------------------------------------ disk numbers

test('a disk number is 20 high bits from the first draw and 32 low bits from the second', () => {
  assert.equal(drawDiskNumber(draws(0.5, 0.25)), 2 ** 19 * 2 ** 32 + 2 ** 30);
  assert.equal(drawDiskNumber(draws(0.25, 0.5)), 2 ** 18 * 2 ** 32 + 2 ** 31);
  assert.equal(drawDiskNumber(draws(0, 0.75)), 3 * 2 ** 30, 'a zero high part');
  const top = 1 - 2 ** -53;
  assert.equal(drawDiskNumber(draws(top, top)), 2 ** 52 - 1, 'at most 52 bits: a safe integer');
  assert.ok(Number.isSafeInteger(drawDiskNumber(draws(top, top))));
});

test('a disk number is never 0 (0 marks an original disk)', () => {
  assert.equal(drawDiskNumber(draws(0, 0)), 1);
  assert.equal(drawDiskNumber(draws(0, 1 / 2 ** 32)), 1, 'the smallest non-zero number is itself');
  assert.equal(drawDiskNumber(draws(0, 2 / 2 ** 32)), 2);
});

// ------------------------------------------------------------------ witness records

const w = (generation: number, d: number, promised: number, end: number): Witness => ({ generation, disk: d, promised, end });

test('a missing witness record gives way to the other', () => {
  const a = w(1, 1, 5, 9);
  assert.equal(mergeWitness(undefined, a), a);
  assert.equal(mergeWitness(a, undefined), a);
  assert.equal(mergeWitness(undefined, undefined), undefined);
});

test('two records of one disk: the higher promise and the higher end, each from whichever record has it', () => {
  assert.deepEqual(mergeWitness(w(2, 7, 8, 3), w(2, 7, 4, 10)), { generation: 2, disk: 7, promised: 8, end: 10 });
  assert.deepEqual(mergeWitness(w(2, 7, 4, 10), w(2, 7, 8, 3)), { generation: 2, disk: 7, promised: 8, end: 10 });
});

test('two records of different disks: the newer generation, whatever it reached', () => {
  const older = w(1, 7, 50, 90);
  const newer = w(2, 8, 1, 1);
  assert.equal(mergeWitness(older, newer), newer);
  assert.equal(mergeWitness(newer, older), newer);
});

test('two different disks of one generation: the second record (the fresher source)', () => {
  const a = w(2, 7, 50, 90);
  const b = w(2, 8, 1, 1);
  assert.equal(mergeWitness(a, b), b);
  assert.equal(mergeWitness(b, a), a);
});
