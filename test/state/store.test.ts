// The state store on an in-memory log: versioned keys, compare-and-set,
// transactions, the apply rule, encoding, reads, replay (issue 16).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateStore } from '../../src/state/store.js';
import { StateFormatError, StateReadOnlyError } from '../../src/state/errors.js';
import { MAGIC } from '../../src/state/codec.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { MemoryLog } from './memory-log.js';

const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString('utf8'));

test('a key\'s revision is the position of the entry that wrote it; version counts writes since creation', async () => {
  const log = new MemoryLog();
  const store = await StateStore.open(log);
  const a = await store.put('a', 'one');
  assert.ok(a.ok);
  const kvs = await log.read(a.revision, a.revision);
  assert.equal(kvs.length, 1, 'the revision names the log entry');
  const b = await store.put('a', 'two');
  assert.ok(b.ok && b.revision > a.revision);
  assert.equal(store.revision, b.revision);
  const kv = await store.get('a');
  assert.deepEqual({ ...kv, value: text(kv!.value) }, { key: 'a', value: 'two', createRevision: a.revision, modRevision: b.revision, version: 2 });
  await store.close();
});

test('compare-and-set: ifModRevision 0 creates only, a stale revision fails with the current key, never an error', async () => {
  const store = await StateStore.open(new MemoryLog());
  const created = await store.put('k', 'v1', { ifModRevision: 0 });
  assert.ok(created.ok);
  const again = await store.put('k', 'other', { ifModRevision: 0 });
  assert.equal(again.ok, false);
  assert.equal(!again.ok && again.current?.modRevision, created.revision, 'the failed condition names the current revision');
  const updated = await store.put('k', 'v2', { ifModRevision: created.revision });
  assert.ok(updated.ok);
  const stale = await store.put('k', 'v3', { ifModRevision: created.revision });
  assert.ok(!stale.ok && stale.current?.modRevision === updated.revision && text(stale.current.value) === 'v2');
  assert.equal(text((await store.get('k'))?.value), 'v2', 'the failed put changed nothing');
  const del = await store.delete('k', { ifModRevision: created.revision });
  assert.ok(!del.ok, 'a stale delete fails');
  const ok = await store.delete('k', { ifModRevision: updated.revision });
  assert.ok(ok.ok && ok.deleted);
  const gone = await store.delete('k');
  assert.ok(gone.ok && !gone.deleted, 'deleting a missing key says it deleted nothing');
  const missing = await store.put('k', 'x', { ifModRevision: updated.revision });
  assert.ok(!missing.ok && missing.current === undefined, 'a condition on a deleted key fails with no current key');
  await store.close();
});

test('many conditional puts in flight are decided in log order: exactly one of racing creates wins', async () => {
  const store = await StateStore.open(new MemoryLog());
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.put('leader', `c${i}`, { ifModRevision: 0 })));
  assert.equal(results.filter((r) => r.ok).length, 1);
  const winner = results.findIndex((r) => r.ok);
  assert.equal(winner, 0, 'the first in log order wins');
  const revisions = results.map((r) => r.revision);
  assert.deepEqual(revisions, [...revisions].sort((x, y) => x - y), 'results come in position order');
  await store.close();
});

test('transactions: compares on mod/create revision, version and value; success or failure branch atomically', async () => {
  const store = await StateStore.open(new MemoryLog());
  const n = await store.put('n', '1');
  assert.ok(n.ok);
  const r1 = await store.txn({
    compare: [{ key: 'n', version: 1 }, { key: 'n', value: '1' }, { key: 'n', createRevision: n.revision }, { key: 'm', modRevision: 0 }],
    success: [{ put: { key: 'n', value: '2' } }, { put: { key: 'm', value: 'x' } }, { get: { key: 'n' } }],
    failure: [{ get: { key: 'n' } }],
  });
  assert.equal(r1.succeeded, true);
  assert.equal(r1.responses.length, 3);
  const got = r1.responses[2]!;
  assert.ok(got.type === 'get' && text(got.kv?.value) === '2', 'a get inside a transaction sees its earlier puts');
  assert.equal((await store.get('m'))?.modRevision, r1.revision, 'both keys changed at one revision');
  const r2 = await store.txn({
    compare: [{ key: 'n', version: 5, op: '>' }],
    success: [{ delete: { key: 'n' } }],
    failure: [{ delete: { key: 'm' } }, { get: { key: 'n' } }],
  });
  assert.equal(r2.succeeded, false);
  assert.equal(await store.get('m'), undefined, 'the failure branch ran');
  assert.equal(text((await store.get('n'))?.value), '2');
  await assert.rejects(store.txn({ success: [{ put: { key: 'a', value: '1' } }, { delete: { key: 'a' } }] }), InvalidArgumentError, 'a key changes once per transaction');
  await assert.rejects(store.put('', 'x'), InvalidArgumentError);
  await store.close();
});

test('range by prefix, in key order, with the revision read at', async () => {
  const store = await StateStore.open(new MemoryLog());
  for (const k of ['b/2', 'a/1', 'b/1', 'c', 'b/10']) await store.put(k, k);
  const r = await store.range({ prefix: 'b/' });
  assert.deepEqual(r.kvs.map((kv) => kv.key), ['b/1', 'b/10', 'b/2']);
  assert.equal(r.revision, store.revision);
  assert.deepEqual(await store.names(), ['a/1', 'b/1', 'b/10', 'b/2', 'c']);
  assert.equal((await store.range({ limit: 2 })).kvs.length, 2);
  await store.close();
});

test('entries that are not the store\'s (other data, NOPs, truncations) are skipped; a newer format fails loudly', async () => {
  const log = new MemoryLog();
  log.appendRaw('plain data');
  log.appendRaw(Buffer.from([0x00, 0x52, 0x4c])); // a prefix of the magic is not the magic
  const store = await StateStore.open(log);
  await store.put('x', '1');
  log.appendRaw('more data');
  await store.put('y', '2');
  await store.close();
  const again = await StateStore.open(log);
  assert.deepEqual(await again.names(), ['x', 'y']);
  assert.equal(again.digest, store.digest);
  await again.close();

  log.appendRaw(Buffer.concat([MAGIC, Buffer.from([2, 1])]));
  await assert.rejects(StateStore.open(log), StateFormatError);
});

test('replay gives the same state and digest; a follower tails the writer and serves linearizable reads', async () => {
  const log = new MemoryLog();
  const store = await StateStore.open(log, { snapshotEvery: false });
  for (let i = 0; i < 30; i++) await store.put(`k${i % 7}`, `v${i}`, i % 3 === 0 ? { ifModRevision: 0 } : {});
  await store.delete('k3');
  const follower = await StateStore.follow(log);
  assert.equal(follower.digest, store.digest);
  assert.equal(follower.revision, store.revision);
  const w = await store.put('late', 'yes');
  assert.ok(w.ok);
  const seen = await follower.get('late', { consistency: 'linearizable' });
  assert.equal(text(seen?.value), 'yes', 'a linearizable read on a follower sees every acknowledged write');
  assert.equal(follower.digest, store.digest);
  await assert.rejects(follower.put('a', 'b'), StateReadOnlyError);
  await follower.close();
  await store.close();
  log.closed = true;
});

test('a linearizable read as the writer is answered after a barrier; local reads answer at once', async () => {
  const log = new MemoryLog();
  const store = await StateStore.open(log);
  await store.put('a', '1');
  const before = log.slots.length;
  const reads = await Promise.all([store.get('a'), store.get('a'), store.range()]);
  assert.equal(text(reads[0]?.value), '1');
  assert.equal(log.slots.length, before + 1, 'reads that arrive together share one barrier entry');
  await store.get('a', { consistency: 'local' });
  assert.equal(log.slots.length, before + 1, 'a local read appends nothing');
  await store.close();
});
