/**
 * Metadata is extensible: the core adds fields to it, and storage keeps every
 * JSON-serialisable field it does not know, in metadata records and in
 * segment headers, through a restart and after old segments are deleted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Metadata } from '../../src/core/types.js';
import { FileStore } from '../../src/storage/file-store.js';
import { checkFrame, encodeFrame, type DiskRecord } from '../../src/storage/record-codec.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

test.after(removeTempDirs);

/** Fields such as the core may add: nested objects, arrays, strings, safe integers, booleans, null. */
const rich: Metadata = {
  status: 'RECOVERING',
  promised: 2 ** 53 - 1,
  incarnation: 'inc-ü',
  generation: 7,
  memberGenerations: { 2: 5, 3: 1 },
  disks: { '1': { incarnation: 'a', generation: 0 }, '5': { incarnation: 'b\u0000"\\', generation: 2 ** 53 - 1 } },
  witnessed: [[1, 100], [2, 99]],
  startView: 0,
  nonce: 'n-42',
  configuration: { members: [1, 2, 5], addresses: ['h1:1', 'h2:2'], joint: null, frozen: false },
} as unknown as Metadata;

const link = { highestProposal: 3, prevBytes: 100, prevLastCrc: 7, prevMaxPosition: 12, salt: 99 };

function roundTrip(r: DiskRecord): DiskRecord {
  const f = encodeFrame(r);
  const c = checkFrame(f, 0, f.length);
  assert.equal(c.status, 'ok');
  return (c as { record: DiskRecord }).record;
}

test('a metadata record keeps fields it does not know', () => {
  assert.deepEqual(roundTrip({ type: 'metadata', metadata: rich }), { type: 'metadata', metadata: rich });
});

test('a segment header keeps them too', () => {
  const h: DiskRecord = { type: 'header', segmentId: 4, replicaId: 3, clusterId: 'c', begin: 9, metadata: rich, ...link };
  assert.deepEqual(roundTrip(h), h);
});

test('no extra field costs no JSON; undefined fields are absent', () => {
  const bare: Metadata = { status: 'VOTING', promised: 1, incarnation: 'i' };
  assert.deepEqual(roundTrip({ type: 'metadata', metadata: bare }), { type: 'metadata', metadata: bare });
  const withUndefined = { ...bare, generation: undefined } as Metadata;
  assert.equal(encodeFrame({ type: 'metadata', metadata: withUndefined }).length, encodeFrame({ type: 'metadata', metadata: bare }).length);
  assert.deepEqual(roundTrip({ type: 'metadata', metadata: withUndefined }), { type: 'metadata', metadata: bare });
});

test('values JSON would not give back are refused at encode', () => {
  const bare: Metadata = { status: 'VOTING', promised: 1, incarnation: 'i' };
  for (const bad of [{ x: NaN }, { x: Infinity }, { x: 1n }, { x: () => 1 }, { x: [undefined] }, { x: new Map() }, { x: { y: new Date(0) } }]) {
    assert.throws(() => encodeFrame({ type: 'metadata', metadata: { ...bare, ...bad } as Metadata }), /not JSON|not a plain object/);
  }
});

/** JSON values as the core may store them: no NaN, no -0 (JSON writes it as 0), safe integers. */
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.maxSafeNat(),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 }).filter((n) => !Object.is(n, -0)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

// clusterId and configs are checked fields (the chain, config-records.test.ts), not free JSON.
const fixed = new Set(['status', 'promised', 'incarnation', 'clusterId', 'configs']);
const extras = fc.dictionary(
  fc.string().filter((k) => !fixed.has(k)),
  json,
  { maxKeys: 6, noNullPrototype: true },
);

test('arbitrary extra fields round-trip in metadata records and headers (property)', () => {
  fc.assert(
    fc.property(extras, fc.maxSafeNat(), fc.string({ maxLength: 40 }), (extra, promised, incarnation) => {
      const metadata = { ...extra, status: 'STARTING', promised, incarnation } as Metadata;
      assert.deepEqual(roundTrip({ type: 'metadata', metadata }), { type: 'metadata', metadata });
      const h: DiskRecord = { type: 'header', segmentId: 1, replicaId: 2, clusterId: 'x', begin: 0, metadata, ...link };
      assert.deepEqual(roundTrip(h), h);
    }),
    { seed: 17, numRuns: 300 },
  );
});

test('extra fields survive a restart and the deletion of old segments (header checkpoint)', async () => {
  const dir = tempDir();
  const opts = { replicaId: 1, clusterId: 'c', segmentBytesMax: 4096 };
  const s = await FileStore.open(dir, opts);
  s.append([{ type: 'metadata', metadata: rich }]);
  for (let p = 0; p < 200; p++) {
    s.append([{ type: 'learn', position: p, action: { kind: 'append', data: new Uint8Array(64) } }]);
    if (p % 20 === 19) await s.sync();
  }
  await s.sync();
  assert.ok(s.segmentCount() > 1, 'several segments');
  await s.close();
  const again = await FileStore.open(dir, opts);
  assert.deepEqual(again.metadata(), rich);
  again.append([{ type: 'learn', position: 200, action: { kind: 'truncate', to: 150 } }]);
  await again.sync();
  await again.close();
  const third = await FileStore.open(dir, opts);
  assert.ok(third.segmentCount() < 5, 'old segments were deleted');
  assert.deepEqual(third.metadata(), rich, 'the first kept header carries every field');
  await third.close();
});
