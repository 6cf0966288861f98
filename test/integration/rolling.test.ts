// Disks replaced one after another, with real replica processes: member ids that are not 1..n, clients
// that list the addresses in another order than the members' (and only some of them), a second writer
// taking over between replacements, and every acknowledged entry read back through every order at the end.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { LogClient } from '../../src/client/log-client.js';
import { WriterFencedError } from '../../src/core/errors.js';
import { collectStatus } from '../../src/cli/status.js';
import { TestCluster, appendLoop, countedMembers, waitFor } from './helpers.js';

const text = (d: Uint8Array) => Buffer.from(d).toString('utf8');
const clusters: TestCluster[] = [];
const logs: LogClient[] = [];
const loops: { stop(): Promise<void> }[] = [];
// Whatever a test left open (a failed assertion skips its own cleanup), so the file's process ends.
after(async () => {
  for (const l of loops) await l.stop();
  for (const l of logs) await l.close();
  for (const c of clusters) await c.stop();
});

/** Every order of `xs`. */
function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

test('each of three disks replaced in turn, twice over, under appends and a writer takeover: nothing acknowledged is lost, in any address order', async () => {
  // Ids that are neither 1..n nor in address order.
  const c = await TestCluster.create(3, [7, 3, 12]);
  clusters.push(c);
  await c.startAll();
  const [a0, a1, a2] = c.addresses as [string, string, string];
  const acked = new Map<number, string>();
  const log1 = await LogClient.connect([a2, a0, a1]);
  logs.push(log1);
  let writer = await log1.writer();
  let loop = appendLoop(writer, { tag: 'w1', batch: 10, acked });
  loops.push(loop);
  // A member whose promise came after the election is counted once the others confirm it.
  await waitFor('the writer counts all three members', () => countedMembers(writer).size === 3, 30_000);
  const order = [3, 12, 7, 12, 7, 3];
  const countedAfterMs: number[] = [];
  for (let step = 0; step < order.length; step++) {
    const id = order[step]!;
    await c.kill(id);
    rmSync(c.replica(id).dir, { recursive: true, force: true });
    c.start(id);
    await c.waitStatus([id], 'VOTING', 90_000);
    const votingAt = Date.now();
    // Counted again by the current writer, with its new disk, without anyone restarting the writer.
    await waitFor(`the writer counts replica ${id}'s new disk`, () => (countedMembers(writer).get(id)?.generation ?? 0) > 0 && countedMembers(writer).size === 3, 30_000);
    countedAfterMs.push(Date.now() - votingAt);
    const mark = acked.size;
    await waitFor(`appends go on after replica ${id} rejoined`, () => loop.goneOnBy(mark + 101), 60_000);
    if (step === 2) {
      // A second writer, from a client that knows only two of the three addresses, takes over.
      const log2 = await LogClient.connect([a1, a2]);
      logs.push(log2);
      const w2 = await log2.writer();
      await loop.stop();
      assert.ok(loop.failures.every((e) => e instanceof WriterFencedError), `the first writer only fenced: ${loop.failures.map((e) => e.message)}`);
      await assert.rejects(writer.append('after takeover'), WriterFencedError);
      writer = w2;
      loop = appendLoop(writer, { tag: 'w2', batch: 10, acked });
      loops.push(loop);
      await waitFor('the second writer counts all three members', () => countedMembers(writer).size === 3, 30_000);
    }
  }
  await loop.stop();
  assert.deepEqual(loop.failures.map((e) => e.message), [], 'no append of the current writer failed');
  console.log(`# rejoined disks counted by the writer ${countedAfterMs.join(', ')} ms after they were VOTING`);
  const hi = Math.max(...acked.keys());
  for (const addresses of [...permutations([a0, a1, a2]), [a2, a0], [a1, a0]]) {
    const reader = await LogClient.connect(addresses);
    logs.push(reader);
    const got = new Map((await reader.read(0, hi)).map((e) => [e.position, text(e.data)]));
    for (const [p, d] of acked) assert.equal(got.get(p), d, `acknowledged entry at ${p}, read through ${addresses.join(',')}`);
    await reader.close();
  }
});

test('a cluster born from empty disks with one replica started late: the first two wait for it, then all three vote', async () => {
  const c = await TestCluster.create(3, [2, 5, 9]);
  clusters.push(c);
  c.start(9);
  c.start(2);
  // An empty log starts only once every member is known to hold nothing: the third could hold data.
  await waitFor('replicas 2 and 9 answer', async () => (await collectStatus([c.replica(2).address, c.replica(9).address], 1000)).every((r) => r.status !== 'UNREACHABLE'));
  for (const row of await collectStatus([c.replica(2).address, c.replica(9).address], 1000)) assert.notEqual(row.status, 'VOTING');
  c.start(5);
  await c.waitStatus([2, 5, 9], 'VOTING', 60_000);
  const log = await LogClient.connect([...c.addresses].reverse());
  logs.push(log);
  const w = await log.writer();
  const first = await w.append('first');
  const second = await w.append('second');
  // The late one carries the log with either of the others.
  await c.kill(9);
  const reader = await LogClient.connect(c.addresses);
  logs.push(reader);
  assert.deepEqual((await reader.read(first, second)).map((e) => text(e.data)), ['first', 'second']);
});
