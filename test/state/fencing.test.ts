// Lost writers, failed conditions and Mesos's state tests in our own words (issue 16):
// a failed condition is a result, a lost writer is an error with an outcome, and the two are never confused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateStore } from '../../src/state/store.js';
import { NoQuorumError, WriterFencedError, WriterInDoubtError } from '../../src/core/errors.js';
import { history } from '../../src/state/watch.js';
import { MemoryLog } from './memory-log.js';

const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString('utf8'));

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a second store fences the first: its writes fail with WriterFencedError (not written), it follows the log, and reelect() takes it back', async () => {
  const log = new MemoryLog();
  const a = await StateStore.open(log);
  const r1 = await a.put('owner', 'a');
  assert.ok(r1.ok);
  const b = await StateStore.open(log);
  const err = await a.put('owner', 'a again').then(() => assert.fail('a fenced store wrote'), (e: unknown) => e);
  assert.ok(err instanceof WriterFencedError, String(err));
  assert.equal(err.outcome, 'not-written');
  assert.equal(a.mode, 'fenced');
  await assert.rejects(a.put('x', 'y'), WriterFencedError, 'later writes fail the same way, at once');
  const won = await b.put('owner', 'b', { ifModRevision: r1.revision });
  assert.ok(won.ok);
  await until('the fenced store to follow B\'s write', async () => text((await a.get('owner', { consistency: 'local' }))?.value) === 'b');
  assert.equal(text((await a.get('owner'))?.value), 'b', 'and a linearizable read sees it');
  await a.reelect();
  assert.equal(a.mode, 'writer');
  const stale = await a.put('owner', 'a', { ifModRevision: r1.revision });
  assert.ok(!stale.ok && stale.current?.modRevision === won.revision, 'after reelect the store decides on the state B left');
  await assert.rejects(b.put('owner', 'b2'), WriterFencedError);
  await a.close();
  await b.close();
  log.closed = true;
});

test('a write whose outcome is unknown (NoQuorum) is an error, not a failed condition; reelect() applies it once if it was written', async () => {
  for (const written of [true, false]) {
    const log = new MemoryLog();
    const store = await StateStore.open(log);
    await store.put('n', '0');
    log.faults.push({ written });
    const err = await store.put('n', '1').then(() => assert.fail('the faulty write succeeded'), (e: unknown) => e);
    assert.ok(err instanceof NoQuorumError, String(err));
    assert.equal(err.outcome, 'unknown');
    assert.equal(store.mode, 'in-doubt');
    await assert.rejects(store.put('n', '2'), WriterInDoubtError);
    await store.reelect();
    const kv = await store.get('n');
    assert.equal(text(kv?.value), written ? '1' : '0', `the unknown write, ${written ? 'written' : 'not written'}, is in the state exactly as in the log`);
    assert.equal(kv?.version, written ? 2 : 1, 'applied once');
    const copy = await StateStore.follow(log);
    assert.equal(copy.digest, store.digest);
    await copy.close();
    await store.close();
    log.closed = true;
  }
});

test('two stores fighting over one log: every operation is applied once or reported failed (condition) or lost (error)', async () => {
  const log = new MemoryLog();
  const stores = [await StateStore.open(log), await StateStore.open(log)];
  const applied = new Map<string, number>(); // value -> revision, from successful results
  const lost: string[] = [];
  let conditionFailed = 0;
  const run = async (id: number) => {
    for (let i = 0; i < 20; i++) {
      const s = stores[id]!;
      if (s.mode !== 'writer') {
        await s.reelect();
        continue;
      }
      // A burst of conditional writes in flight; the other store may fence this one in the middle.
      await Promise.all(
        Array.from({ length: 5 }, async (_, k) => {
          const value = `s${id}-${i}-${k}`;
          try {
            const cur = await s.get('counter', { consistency: 'local' });
            const r = await s.put('counter', value, { ifModRevision: cur?.modRevision ?? 0 });
            if (r.ok) applied.set(value, r.revision);
            else conditionFailed++;
          } catch (err) {
            assert.ok(err instanceof WriterFencedError || err instanceof WriterInDoubtError, String(err));
            lost.push(value);
          }
        }),
      );
    }
  };
  await Promise.all([run(0), run(1)]);
  const final = await StateStore.follow(log);
  // Every write in the log, with its revision: the successful ones are there exactly once, at their revision.
  const inLog = new Map<string, number>();
  for (const b of await history(log, 0, final.revision, (k) => k === 'counter')) {
    const e = b.events[0]!;
    assert.ok(e.type === 'put');
    const v = text(e.kv.value)!;
    assert.ok(!inLog.has(v), `${v} applied twice`);
    inLog.set(v, e.kv.modRevision);
  }
  for (const [v, rev] of applied) assert.equal(inLog.get(v), rev, `${v} acknowledged at ${rev}`);
  for (const v of inLog.keys()) assert.ok(applied.has(v) || lost.includes(v), `${v} is in the log but was reported neither applied nor lost`);
  assert.ok(lost.length > 0 && applied.size > 0, `${applied.size} applied, ${lost.length} lost, ${conditionFailed} failed conditions`);
  await Promise.all([...stores, final].map((s) => s.close()));
  log.closed = true;
});

// ---- Mesos's LogStateTest cases (src/tests/state_tests.cpp), in our words, on the variable facade.

test('variable: fetch, set, fetch again sees the value', async () => {
  const store = await StateStore.open(new MemoryLog());
  const v = await store.variable('registry');
  assert.equal(v.value.byteLength, 0);
  assert.equal(v.revision, 0);
  const stored = await v.set('hello');
  assert.ok(stored !== null);
  const again = await store.variable('registry');
  assert.equal(text(again.value), 'hello');
  assert.equal(again.revision, stored.revision);
  await store.close();
});

test('variable: a set from a stale copy returns null, and leaves the value', async () => {
  const store = await StateStore.open(new MemoryLog());
  const v = await store.variable('registry');
  assert.ok((await v.set('first')) !== null);
  assert.equal(await v.set('from a stale copy'), null);
  assert.equal(text((await store.variable('registry')).value), 'first');
  await store.close();
});

test('variable: expunge twice: true, then false', async () => {
  const store = await StateStore.open(new MemoryLog());
  const v = (await (await store.variable('registry')).set('x'))!;
  assert.equal(await v.expunge(), true);
  assert.equal(await v.expunge(), false);
  assert.equal((await store.variable('registry')).revision, 0);
  await store.close();
});

test('names lists the variables that exist', async () => {
  const store = await StateStore.open(new MemoryLog());
  for (const n of ['a', 'b', 'c']) await (await store.variable(n)).set(n);
  await (await store.variable('b')).expunge();
  assert.deepEqual(await store.names(), ['a', 'c']);
  await store.close();
});

test('with no quorum a set fails with NoQuorumError (outcome named), not null', async () => {
  const log = new MemoryLog();
  const store = await StateStore.open(log);
  const v = await store.variable('registry');
  log.faults.push({ written: false });
  await assert.rejects(v.set('x'), (e: unknown) => e instanceof NoQuorumError && e.outcome === 'unknown');
  await store.close();
});
