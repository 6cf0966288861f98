/**
 * Step 2 of docs/reconfiguration.md on disk: config entries in accept and
 * learn records, the chain fields of the metadata (clusterId, configs), and
 * the migration of a directory written before them (R11: it reads as its
 * members, all voters, at epoch 0, with the cluster id derived as before).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Configuration, PlacedConfiguration } from '../../src/core/membership.js';
import { PositionIndex } from '../../src/core/position-index.js';
import type { Action, Member, Metadata } from '../../src/core/types.js';
import { Reader } from '../../src/storage/codec-io.js';
import { encodeConfig } from '../../src/storage/config-codec.js';
import { FileStore } from '../../src/storage/file-store.js';
import { parseMetadata, writeMetadata, metadataFixedBytes } from '../../src/storage/metadata-codec.js';
import { checkActionFrame, checkFrame, encodeFrame, type DiskRecord } from '../../src/storage/record-codec.js';
import { storedChain, storedClusterId, summarise } from '../../src/storage/stored-config.js';
import { Writer } from '../../src/storage/codec-io.js';
import { clusterIdFor } from '../../src/server/members.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { digestRange } from '../../src/storage/range-digest.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

test.after(removeTempDirs);

const m = (id: number): Member => ({ id, address: `10.0.0.${id}:7000` });
const c0: PlacedConfiguration = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
const c1: PlacedConfiguration = { epoch: 1, voters: [m(1), m(2), m(3)], learners: [m(4)], nextId: 5, changeId: 'add-4', position: 17, floor: 9 };
const c2: PlacedConfiguration = { epoch: 2, voters: [m(2), m(3), m(4)], learners: [], nextId: 5, position: 40, floor: 12 };
const config = (p: PlacedConfiguration): Configuration => {
  const { position: _p, floor: _f, ...c } = p;
  return c;
};

function roundTrip(r: DiskRecord, salt = 0): DiskRecord {
  const f = encodeFrame(r, salt);
  const c = checkFrame(f, 0, f.length, salt);
  assert.equal(c.status, 'ok');
  return (c as { record: DiskRecord }).record;
}

test('config entries round-trip in accept and learn records', () => {
  for (const c of [config(c0), config(c1), config(c2)]) {
    const accept: DiskRecord = { type: 'accept', position: 17, proposal: 9, action: { kind: 'config', config: c } };
    const learn: DiskRecord = { type: 'learn', position: 17, action: { kind: 'config', config: c } };
    assert.deepEqual(roundTrip(accept, 0xabcd), accept);
    assert.deepEqual(roundTrip(learn, 0xabcd), learn);
  }
});

test('the catch-up read path leaves a config record to the general decoder, which reads it', () => {
  const learn: DiskRecord = { type: 'learn', position: 5, action: { kind: 'config', config: config(c1) } };
  const f = encodeFrame(learn, 7);
  assert.equal(checkActionFrame(f, 0, f.length, 5, 7), undefined);
  const c = checkFrame(f, 0, f.length, 7);
  assert.ok(c.status === 'ok' && c.record.type === 'learn');
  assert.deepEqual(c.record.action, learn.action);
});

test('a config entry lives in the key: any damaged byte makes the record unreadable, never another configuration', () => {
  const f = encodeFrame({ type: 'accept', position: 3, proposal: 2, action: { kind: 'config', config: config(c1) } });
  for (let i = 8; i < f.length; i++) {
    const bad = Buffer.from(f);
    bad[i] = bad[i]! ^ 0x10;
    assert.equal(checkFrame(bad, 0, bad.length).status, 'bad', `byte ${i}`);
  }
});

test('a malformed configuration is refused at encode', () => {
  const bad = { ...config(c1), learners: [m(2)] };
  assert.throws(() => encodeFrame({ type: 'learn', position: 1, action: { kind: 'config', config: bad } }), /both a voter and a learner/);
});

/** Configurations made by the membership rules' own shape: ascending distinct ids, distinct addresses, nextId above them. */
const configuration: fc.Arbitrary<Configuration> = fc
  .record({
    ids: fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 40 }), { minLength: 1, maxLength: 12 }),
    split: fc.nat(),
    epoch: fc.maxSafeNat(),
    spare: fc.nat({ max: 1000 }),
    changeId: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    host: fc.constantFrom('h', '[::1]', 'ünï', 'replica.example.org'),
  })
  .map(({ ids, split, epoch, spare, changeId, host }) => {
    const members = [...ids].sort((a, b) => a - b).map((id) => ({ id, address: `${host}${id}:${1 + (id % 65535)}` }));
    const nVoters = 1 + (split % members.length);
    const voters = members.filter((_, i) => i % 2 === 0 || i >= 2 * nVoters).slice(0, nVoters);
    const learners = members.filter((x) => !voters.includes(x));
    return { epoch, voters, learners, nextId: ids.reduce((a, b) => Math.max(a, b)) + 1 + spare, ...(changeId === undefined ? {} : { changeId }) };
  });

test('arbitrary configurations round-trip in records, and their stored bytes tell them apart (property)', () => {
  fc.assert(
    fc.property(configuration, configuration, fc.nat({ max: 2 ** 50 }), (a, b, position) => {
      const rec: DiskRecord = { type: 'learn', position, action: { kind: 'config', config: a } };
      assert.deepEqual(roundTrip(rec), rec);
      const same = JSON.stringify(a) === JSON.stringify(b);
      assert.equal(encodeConfig(a).equals(encodeConfig(b)), same);
    }),
    { numRuns: 300 },
  );
});

test('the position index keeps a config entry as its own kind', () => {
  const index = new PositionIndex({ status: 'VOTING', promised: 0, incarnation: 'i' });
  const action: Action = { kind: 'config', config: config(c1) };
  index.apply({ type: 'accept', position: 4, proposal: 3, action });
  index.apply({ type: 'learn', position: 5, action });
  index.apply({ type: 'accept', position: 6, proposal: 3, action: { kind: 'truncate', to: 2 } });
  assert.equal(index.slot(4)?.kind, 'config');
  assert.equal(index.slot(5)?.kind, 'config');
  assert.equal(index.slot(5)?.learned, true);
  assert.equal(index.slot(6)?.kind, 'truncate');
  assert.equal(index.slot(6)?.truncateTo, 2);
});

test('the range digest tells two configurations at one position apart (divergence checks see config entries)', () => {
  const digest = (c: Configuration): number => {
    const s = new MemoryStore();
    s.append([{ type: 'metadata', metadata: { status: 'VOTING', promised: 0, incarnation: 't' } }]);
    s.append([
      { type: 'learn', position: 0, action: { kind: 'nop' } },
      { type: 'learn', position: 1, action: { kind: 'config', config: c } },
    ]);
    const d = digestRange(s, 0, 2);
    assert.equal(d.stop, 'end');
    assert.equal(d.count, 2);
    return d.crc;
  };
  assert.equal(digest(config(c1)), digest({ ...config(c1) }));
  assert.notEqual(digest(config(c1)), digest(config(c2)));
  assert.notEqual(digest(config(c1)), digest({ ...config(c1), changeId: 'other' }));
});

// ------------------------------------------------------------------ metadata

const base: Metadata = { status: 'VOTING', promised: 5, incarnation: 'inc', generation: 2, disk: 77 };

test('the chain and the cluster id round-trip in metadata records and segment headers', () => {
  const meta: Metadata = { ...base, clusterId: 'c-0123456789abcdef', configs: [c0, c1, c2] };
  assert.deepEqual(roundTrip({ type: 'metadata', metadata: meta }), { type: 'metadata', metadata: meta });
  const h: DiskRecord = { type: 'header', segmentId: 2, replicaId: 3, clusterId: 'c', begin: 0, metadata: meta, highestProposal: 1, prevBytes: 10, prevLastCrc: 0, prevMaxPosition: 4, salt: 1 };
  assert.deepEqual(roundTrip(h), h);
});

test('a chain that is not one is refused at encode', () => {
  const cases: [Partial<Metadata>, RegExp][] = [
    [{ configs: [c0, c2] }, /epoch 2 follows epoch 0/],
    [{ configs: [c0, c1, { ...c2, position: 17 }] }, /not above/],
    [{ configs: [] }, /empty chain/],
    [{ configs: [{ ...c0, voters: [] }] }, /at least one voter/],
    [{ clusterId: '' }, /clusterId/],
  ];
  for (const [fields, why] of cases) assert.throws(() => encodeFrame({ type: 'metadata', metadata: { ...base, ...fields } }), why);
});

/** Decodes metadata whose JSON fields are `extra` as written by someone else (a bug, another version): the codec must refuse a bad chain. */
function decodeWithExtra(extra: unknown): Metadata {
  const json = Buffer.from(JSON.stringify(extra), 'utf8');
  const incarnation = Buffer.from('inc');
  const bytes = metadataFixedBytes(incarnation.length) + json.length;
  const buf = Buffer.alloc(bytes);
  writeMetadata(new Writer(buf, 0), { status: 0, promised: 1, incarnation, extra: json, bytes });
  return parseMetadata(new Reader(buf))();
}

test('a bad chain on disk is refused at decode (the record is unreadable), a good one read', () => {
  assert.deepEqual(decodeWithExtra({ configs: [c0, c1] }), { status: 'VOTING', promised: 1, incarnation: 'inc', configs: [c0, c1] });
  for (const bad of [
    { configs: 'x' },
    { configs: [{ ...c0, floor: -1 }] },
    { configs: [{ ...c0, extra: 1 }] },
    { configs: [{ ...c0, voters: [{ id: 1 }] }] },
    { configs: [c0, c2] },
    { clusterId: 7 },
  ]) {
    assert.throws(() => decodeWithExtra(bad), (e: Error) => e.constructor.name === 'Malformed', JSON.stringify(bad));
  }
});

// ------------------------------------------------------------------ migration (R11)

const members: Member[] = [m(3), m(1), m(2)];

test('a data directory written before the chain reads as its members at epoch 0, with the cluster id derived as before', async () => {
  const dir = tempDir();
  const derived = clusterIdFor({ 1: m(1).address, 2: m(2).address, 3: m(3).address });
  // What today's replica writes: a header, a VOTING metadata record, some entries; no chain, no stored id.
  const before = await FileStore.open(dir, { replicaId: 2, clusterId: derived });
  before.append([
    { type: 'metadata', metadata: { ...before.metadata(), status: 'VOTING', promised: 3 } },
    { type: 'accept', position: 0, proposal: 3, action: { kind: 'nop' } },
    { type: 'commit', from: 0, to: 0, proposal: 3 },
  ]);
  await before.sync();
  await before.close();

  const after = await FileStore.open(dir, { replicaId: 2, clusterId: derived });
  try {
    const meta = after.metadata();
    assert.equal(meta.configs, undefined);
    assert.equal(meta.clusterId, undefined);
    const chain = storedChain(meta, members);
    assert.deepEqual(chain, [{ ...c0, voters: [m(1), m(2), m(3)] }]);
    assert.equal(storedClusterId(meta, derived), derived);
    assert.deepEqual(summarise(chain, 2), { epoch: 0, position: -1, voters: [m(1), m(2), m(3)], learners: [], members: [m(1), m(2), m(3)], role: 'voter' });
    assert.equal(summarise(chain, 9).role, 'none');
  } finally {
    await after.close();
  }
});

test('a stored chain and cluster id win over the flags, through a restart', async () => {
  const dir = tempDir();
  const s = await FileStore.open(dir, { replicaId: 1, clusterId: 'c-flags' });
  s.append([{ type: 'metadata', metadata: { ...s.metadata(), status: 'VOTING', clusterId: 'c-stored', configs: [c0, c1, c2] } }]);
  await s.sync();
  await s.close();
  const again = await FileStore.open(dir, { replicaId: 1, clusterId: 'c-flags' });
  try {
    const meta = again.metadata();
    const chain = storedChain(meta, members);
    assert.deepEqual(chain, [c0, c1, c2]);
    assert.equal(storedClusterId(meta, 'c-flags'), 'c-stored');
    assert.equal(summarise(chain, 1).role, 'removed');
    assert.equal(summarise(chain, 4).role, 'voter');
    assert.equal(summarise(chain, 4).epoch, 2);
    assert.equal(summarise(storedChain(meta, members).slice(0, 2), 4).role, 'learner');
  } finally {
    await again.close();
  }
});
