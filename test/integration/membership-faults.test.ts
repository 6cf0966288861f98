/**
 * Issue 12's multi-process checks with faults, on real replica processes:
 * - a machine SIGKILLed while an application appends is replaced by a new one
 *   at a new address (`member replace`): no append fails, all are read back;
 * - a grow 3 -> 5 under load, then two of the original three SIGKILLed: every
 *   acknowledged append is read back through the three left;
 * - two changes asked at once from two CLIs, both conditioned on the same
 *   epoch (`config set --if-epoch`): exactly one is made, and the other ends
 *   with one clear line.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/index.js';
import { ok, runCli, TestCluster, waitFor } from './helpers.js';
import { appender } from './appender.js';

const clusters: TestCluster[] = [];
after(async () => {
  for (const c of clusters) await c.stop();
});
/** A cluster of `n` process slots (ids 1..n) with its own data directories and ports. */
async function slots(n: number) {
  const cluster = await TestCluster.create(n, undefined, { admin: true });
  clusters.push(cluster);
  const addr = (id: number) => cluster.replica(id).address;
  const list = (ids: readonly number[]) => ids.map(addr).join(',');
  const found = async (founders: readonly number[]) => {
    for (const id of founders) cluster.startWith(id, ['--members', founders.map((i) => `${i}=${addr(i)}`).join(',')]);
    await cluster.waitStatus([...founders], 'VOTING', 60_000);
  };
  return { cluster, addr, list, found };
}


async function readBack(log: LogClient<Uint8Array>, acked: readonly string[]): Promise<void> {
  const all = await log.read(0, await log.ending());
  const seen = new Set(all.map((e) => Buffer.from(e.data).toString()));
  const missing = acked.filter((v) => !seen.has(v));
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${acked.length} acknowledged appends are not read back`);
}

test('a SIGKILLed machine replaced by a new one at a new address while the application appends: no append fails, all are read back', { timeout: 600_000 }, async () => {
  const { cluster, addr, list, found } = await slots(4);
  await found([1, 2, 3]);
  const log = await LogClient.connect([1, 2, 3].map(addr));
  const app = appender(await log.writer(), 'k');
  await waitFor('appends flow', () => app.acked.length >= 20 || app.failures.length > 0, 60_000);

  await cluster.kill(3); // the machine is gone: SIGKILL, never restarted
  const beforeReplace = app.acked.length;
  await waitFor('appends go on with two of three', () => app.acked.length >= beforeReplace + 20 || app.failures.length > 0, 60_000);
  cluster.startWith(4, ['--join', list([1, 2])]);
  ok(await runCli(['member', 'replace', '3', '4', addr(4), '--log', list([1, 2, 4])]), 'replace 3 by 4');
  await cluster.waitStatus([4], 'VOTING', 60_000);
  const afterReplace = app.acked.length;
  await waitFor('appends go on in the new configuration', () => app.acked.length >= afterReplace + 20 || app.failures.length > 0, 60_000);
  await app.stop();
  assert.deepEqual(app.failures, [], 'no append failed');

  const config = await log.configuration();
  assert.deepEqual(config.voters.map((m) => m.id).sort(), [1, 2, 4]);
  await readBack(log, app.acked);
  // The new member holds the log too: read through it with one of the old pair.
  const through4 = await LogClient.connect([addr(4), addr(1)]);
  await readBack(through4, app.acked);
  await through4.close();
  await log.close();
});

test('grow 3 -> 5 under load, then two of the original three SIGKILLed: every acknowledged append is read back', { timeout: 600_000 }, async () => {
  const { cluster, addr, list, found } = await slots(5);
  await found([1, 2, 3]);
  const log = await LogClient.connect([1, 2, 3].map(addr));
  const app = appender(await log.writer(), 'g');
  await waitFor('appends flow', () => app.acked.length >= 20 || app.failures.length > 0, 60_000);
  for (const id of [4, 5]) {
    cluster.startWith(id, ['--join', list([1, 2, 3])]);
    ok(await runCli(['member', 'add', String(id), addr(id), '--voter', '--log', list([1, 2, 3, id])]), `add ${id} as a voter`);
  }
  await cluster.waitStatus([4, 5], 'VOTING', 60_000);
  assert.deepEqual((await log.configuration()).voters.map((m) => m.id).sort(), [1, 2, 3, 4, 5]);
  const grown = app.acked.length;
  await waitFor('appends go on with five voters', () => app.acked.length >= grown + 20 || app.failures.length > 0, 60_000);
  assert.deepEqual(app.failures, [], 'no append failed during the grow');

  await cluster.kill(1);
  await cluster.kill(2);
  // Three of five are a quorum: the log stays writable (the writer may be fenced or time out while it
  // moves off the dead members; acknowledged appends are what must survive).
  const killed = app.acked.length;
  await waitFor('appends go on with three of five', () => app.acked.length >= killed + 20 || app.failures.length > 0, 120_000);
  await app.stop();
  const reader = await LogClient.connect([3, 4, 5].map(addr));
  await readBack(reader, app.acked);
  await reader.close();
  await log.close();
});

test('two changes asked at once against the same epoch: exactly one is made, the other ends with one clear line', { timeout: 600_000 }, async () => {
  const { list, found } = await slots(3);
  await found([1, 2, 3]);
  const logArg = ['--log', list([1, 2, 3])];
  // Both name the epoch they read (0): whichever order the two CLIs start in (a second process may start
  // only after the first finished), only one change can apply to epoch 0. Each is valid alone.
  const [a, b] = await Promise.all([
    runCli(['config', 'set', '--voters', '1,2', '--learners', '3', '--if-epoch', '0', ...logArg]),
    runCli(['config', 'set', '--voters', '1,3', '--learners', '2', '--if-epoch', '0', ...logArg]),
  ]);
  const results = [a, b];
  const winners = results.filter((r) => r.code === 0);
  assert.equal(winners.length, 1, `exactly one change is made: exits ${a.code} (${a.stderr.trim()}) and ${b.code} (${b.stderr.trim()})`);
  const loser = results.find((r) => r.code !== 0)!;
  assert.ok([1, 3, 4].includes(loser.code ?? -1), `the other exits with a change's status (1, 3 or 4), not ${loser.code}: ${loser.stderr}`);
  assert.equal(loser.stderr.trim().split('\n').length, 1, `one line: ${loser.stderr}`);
  assert.doesNotMatch(loser.stderr, /\n\s+at /, 'no stack');

  const shown = JSON.parse(ok(await runCli(['config', 'show', '--json', ...logArg]), 'config show')) as { epoch: number; voters: { id: number }[]; learners: { id: number }[] };
  assert.equal(shown.epoch, 1, 'one change made: epoch 1');
  assert.equal(shown.voters.length, 2, `the winner's voters: ${JSON.stringify(shown.voters)}`);
});
