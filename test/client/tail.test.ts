// tail(), tailBatches() and connection events against a real cluster (issue 18): an idle tail ends at once on return() or on its
// signal (an async generator's return() waits behind the pending next() for ever), and batches say when the
// reader has caught up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/log-client.js';
import { AbortedError } from '../../src/core/errors.js';
import { TestCluster } from '../integration/helpers.js';

let cluster: TestCluster;
let log: LogClient;

before(async () => {
  cluster = await TestCluster.create(3);
  await cluster.startAll();
  log = await LogClient.connect(cluster.addresses, { waitForQuorum: true, connectTimeoutMs: 30_000 });
});

after(async () => {
  await log.close();
  await cluster.stop();
});

/** Rejects if `p` has not settled after a generous while (the bug left it pending until close()). */
function settlesSoon<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle`)), 20_000)));
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

test('tailBatches: an empty log is caught up at once; new entries come in later batches', async () => {
  const batches = log.tailBatches(0);
  const first = await settlesSoon(batches.next(), 'the first batch');
  assert.equal(first.done, false);
  assert.deepEqual(first.value!.entries, []);
  assert.ok(first.value!.through >= first.value!.end, 'caught up');
  const w = await log.writer();
  const p = await w.append('hello');
  let seen: string | undefined;
  while (seen === undefined) {
    const b = await settlesSoon(batches.next(), 'a batch with the entry');
    const e = b.value!.entries.find((x) => x.position === p);
    if (e !== undefined) seen = Buffer.from(e.data).toString();
  }
  assert.equal(seen, 'hello');
  await w.resign();
  await batches.return();
});

test('an idle tail ends at once on return() while waiting, and a pending next() resolves done', async () => {
  const end = await log.ending();
  const tail = log.tail(end + 1_000);
  const waiting = tail.next();
  const returned = tail.return();
  assert.deepEqual(await settlesSoon(returned, 'return()'), { done: true, value: undefined });
  assert.equal((await settlesSoon(waiting, 'the pending next()')).done, true);
});

test('an idle tail rejects with AbortedError when its signal aborts; a break ends for await', async () => {
  const end = await log.ending();
  const ctl = new AbortController();
  const tail = log.tail(end + 1_000, { signal: ctl.signal });
  const waiting = tail.next();
  ctl.abort(new Error('shutting down'));
  await assert.rejects(settlesSoon(waiting, 'next() after abort'), (e: unknown) => e instanceof AbortedError && (e.cause as Error).message === 'shutting down');
  assert.equal((await tail.next()).done, true);

  let n = 0;
  for await (const _ of log.tail(0)) if (++n >= 1) break;
  assert.equal(n, 1);
});

test('connect events name each member as its connection is made; disconnect when one goes away', async () => {
  const connected = new Set<number>();
  const other = await LogClient.connect(cluster.addresses);
  other.on('connect', (e) => connected.add(e.replica));
  const lost: number[] = [];
  other.on('disconnect', (e) => e.replica !== undefined && lost.push(e.replica));
  try {
    await other.ending();
    const until = Date.now() + 20_000;
    while (connected.size < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual([...connected].sort(), [1, 2, 3]);
    await cluster.kill(3);
    while (!lost.includes(3) && Date.now() < until + 20_000) await new Promise((r) => setTimeout(r, 20));
    assert.ok(lost.includes(3));
  } finally {
    await other.close();
  }
});
