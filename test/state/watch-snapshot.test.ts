// Watches, snapshots in the log, truncation and CompactedError (issue 16).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateStore } from '../../src/state/store.js';
import { CompactedError, StateLostError } from '../../src/state/errors.js';
import type { WatchBatch } from '../../src/state/types.js';
import { MemoryLog } from './memory-log.js';

const text = (v: Uint8Array) => Buffer.from(v).toString('utf8');

/** Takes `n` batches from a watch. */
async function take(it: AsyncIterable<WatchBatch>, n: number): Promise<WatchBatch[]> {
  const out: WatchBatch[] = [];
  if (n === 0) return out;
  for await (const b of it) {
    out.push(b);
    if (out.length === n) break;
  }
  return out;
}

test('a watch reports each change of its prefix once, per revision, from a past revision through live ones', async () => {
  const store = await StateStore.open(new MemoryLog());
  const first = await store.put('agents/1', 'a');
  await store.put('other', 'x');
  await store.txn({ success: [{ put: { key: 'agents/2', value: 'b' } }, { put: { key: 'agents/3', value: 'c' } }, { put: { key: 'other', value: 'y' } }] });
  const watch = take(store.watch({ prefix: 'agents/', fromRevision: first.revision }), 4);
  await store.delete('agents/1');
  await store.put('other', 'z');
  await store.put('agents/2', 'b2');
  const batches = await watch;
  assert.deepEqual(
    batches.map((b) => b.events.map((e) => (e.type === 'put' ? `put ${e.kv.key}=${text(e.kv.value)}` : `delete ${e.key}`))),
    [['put agents/1=a'], ['put agents/2=b', 'put agents/3=c'], ['delete agents/1'], ['put agents/2=b2']],
  );
  const revisions = batches.map((b) => b.revision);
  assert.deepEqual(revisions, [...new Set(revisions)].sort((x, y) => x - y), 'revisions increase, none twice');
  const d = batches[2]!.events[0]!;
  assert.ok(d.type === 'delete' && d.prev.modRevision === first.revision);
  await store.close();
});

test('a watch without fromRevision starts with the next change; one that falls far behind catches up from the log without a gap', async () => {
  const store = await StateStore.open(new MemoryLog(), { watchQueueMax: 3 });
  await store.put('k', 'before');
  const it = store.watch({ key: 'k' })[Symbol.asyncIterator]();
  const firstP = it.next();
  const puts = [];
  for (let i = 0; i < 20; i++) puts.push(await store.put('k', `v${i}`));
  const got = [(await firstP).value as WatchBatch];
  while (got.length < 20) got.push((await it.next()).value as WatchBatch);
  assert.deepEqual(got.map((b) => b.revision), puts.map((p) => p.revision));
  await it.return?.();
  await store.close();
});

test('closing the store or aborting ends a watch', async () => {
  const store = await StateStore.open(new MemoryLog());
  const ac = new AbortController();
  const a = take(store.watch({ signal: ac.signal }), 10);
  const b = take(store.watch(), 10);
  await store.put('x', '1');
  ac.abort();
  assert.ok((await a).length <= 1);
  await store.close();
  assert.ok((await b).length <= 1);
});

test('a snapshot goes into the log in chunks, the log is truncated behind the previous one, and replay loads it', async () => {
  const log = new MemoryLog();
  const store = await StateStore.open(log, { snapshotEvery: false, chunkBytes: 1000 });
  for (let i = 0; i < 200; i++) await store.put(`key/${i % 50}`, `value-${i}-${'x'.repeat(40)}`);
  const s1 = await store.snapshot();
  assert.ok(s1.chunks > 1, `${s1.bytes} bytes in ${s1.chunks} chunks`);
  assert.equal(s1.truncatedTo, undefined, 'the first snapshot keeps the history before it');
  for (let i = 0; i < 100; i++) await store.put(`key/${i % 60}`, `again-${i}`);
  const s2 = await store.snapshot();
  assert.equal(s2.truncatedTo, s1.revision + 1, 'truncated behind the previous snapshot');
  assert.equal(log.begin, s1.revision + 1);
  await store.put('after', 'snap');
  const copy = await StateStore.follow(log);
  assert.equal(copy.digest, store.digest, 'a fresh copy replays from the snapshot to the same state');
  assert.equal(copy.revision, store.revision);
  await copy.close();
  await store.close();
  const reopened = await StateStore.open(log, { snapshotEvery: false, keepHistory: false, chunkBytes: 1000 });
  assert.equal(reopened.digest, store.digest);
  const s3 = await reopened.snapshot();
  assert.equal(s3.truncatedTo, s3.revision + 1, 'keepHistory: false truncates right behind the new snapshot');
  const again = await StateStore.follow(log);
  assert.equal(again.digest, reopened.digest);
  await again.close();
  await reopened.close();
  log.closed = true;
});

test('a watch from a truncated revision fails with CompactedError naming the oldest one; resuming there has no gap and no duplicate', async () => {
  const log = new MemoryLog();
  const store = await StateStore.open(log, { snapshotEvery: false });
  const revs: number[] = [];
  for (let i = 0; i < 10; i++) revs.push((await store.put('k', `a${i}`)).revision);
  await store.snapshot();
  for (let i = 0; i < 10; i++) revs.push((await store.put('k', `b${i}`)).revision);
  const s2 = await store.snapshot();
  for (let i = 0; i < 5; i++) revs.push((await store.put('k', `c${i}`)).revision);
  const err = await take(store.watch({ fromRevision: revs[0]! }), 1).then(
    () => assert.fail('a watch from a truncated revision succeeded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CompactedError, String(err));
  assert.equal(err.code, 'STATE_COMPACTED');
  assert.equal(err.oldestRevision, log.begin, 'it names the oldest revision still available');
  const later = revs.filter((r) => r >= err.oldestRevision);
  const batches = await take(store.watch({ fromRevision: err.oldestRevision }), later.length);
  assert.deepEqual(batches.map((b) => b.revision), later, 'every change from the oldest revision on, once');
  assert.ok(s2.truncatedTo !== undefined);
  await store.close();
});

test('a watch runs across snapshots and truncations with no gap and no duplicate', async () => {
  const log = new MemoryLog();
  const store = await StateStore.open(log, { snapshotEvery: { entries: 7 }, chunkBytes: 64, keepHistory: false });
  const watched = take(store.watch({ prefix: 'w/', fromRevision: 0 }), 60);
  const revs: number[] = [];
  for (let i = 0; i < 60; i++) {
    revs.push((await store.put(`w/${i % 5}`, `v${i}`)).revision);
    if (i % 4 === 0) await store.put('noise', `${i}`);
  }
  const batches = await watched;
  assert.deepEqual(batches.map((b) => b.revision), revs);
  assert.ok(log.begin > revs[0]!, 'snapshots ran and truncated the log meanwhile');
  await store.close();
});

test('a state larger than 16 MiB is snapshotted in chunks far below the entry limit and replayed', async () => {
  const log = new MemoryLog();
  const store = await StateStore.open(log, { snapshotEvery: false, keepHistory: false });
  const value = Buffer.alloc(256 * 1024, 7);
  const puts = [];
  for (let i = 0; i < 72; i++) puts.push(store.put(`blob/${i}`, Buffer.concat([Buffer.from(String(i)), value])));
  await Promise.all(puts);
  const snap = await store.snapshot();
  assert.ok(snap.bytes > 16 * 1024 * 1024, `state of ${snap.bytes} bytes`);
  assert.ok(snap.chunks >= 17);
  let largest = 0;
  for (let p = log.begin; p < log.slots.length; p++) {
    const s = log.slots[p]!;
    if (s.kind === 'append') largest = Math.max(largest, s.data.byteLength);
  }
  assert.ok(largest <= 1024 * 1024 + 64, `largest entry left: ${largest} bytes`);
  const copy = await StateStore.follow(log);
  assert.equal(copy.digest, store.digest);
  assert.equal(copy.size, 72);
  await copy.close();
  await store.close();
  log.closed = true;
});

test('automatic snapshots keep the log bounded whatever the number of updates', async () => {
  const log = new MemoryLog();
  const store = await StateStore.open(log, { snapshotEvery: { entries: 100 } });
  let peak = 0;
  for (let round = 0; round < 30; round++) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.put(`k${i % 20}`, `r${round}-${i}`)));
    peak = Math.max(peak, log.slots.length - log.begin);
  }
  // Retained: the history kept between the previous snapshot and the latest (keepHistory), the interval
  // since, and the 100 updates in flight when a snapshot starts: a bound set by the interval, not by the updates.
  assert.ok(peak < 7 * 100, `at most ${peak} positions retained over 3000 updates`);
  await store.close();
});

test('a log truncated by someone else, behind state entries with no snapshot, is refused; a truncated log with no state gets a base snapshot', async () => {
  const log = new MemoryLog();
  const store = await StateStore.open(log, { snapshotEvery: false });
  await store.put('a', '1');
  await store.put('b', '2');
  const w = await log.writer();
  await w.truncate(log.slots.length - 2);
  await assert.rejects(StateStore.open(log), StateLostError);

  const fresh = new MemoryLog();
  fresh.appendRaw('x');
  fresh.appendRaw('y');
  await (await fresh.writer()).truncate(2);
  const s = await StateStore.open(fresh);
  await s.put('k', 'v');
  await s.close();
  const again = await StateStore.open(fresh);
  assert.deepEqual(await again.names(), ['k']);
  await again.close();
});
