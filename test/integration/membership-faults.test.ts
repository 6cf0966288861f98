/**
 * Issue 12's multi-process checks with faults, on real replica processes:
 * - a machine SIGKILLed while an application appends is replaced by a new one
 *   at a new address (`member replace`): no append fails, all are read back;
 * - a grow 3 -> 5 under load, then two of the original three SIGKILLed: every
 *   acknowledged append is read back through the three left;
 * - two changes asked at once from two CLIs, both against the same epoch:
 *   exactly one is made, and the other ends with one clear line.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/index.js';
import type { Writer } from '../../src/client/index.js';
import { TestCluster, runCli, waitFor, type CliResult } from './helpers.js';

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

function ok(r: CliResult, what: string): string {
  assert.equal(r.code, 0, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
  return r.stdout;
}

/** Appends `p<n>` one after another until stopped; keeps what was acknowledged and what failed. */
function appender(writer: Writer<Uint8Array>, prefix: string) {
  const acked: string[] = [];
  const failures: string[] = [];
  let running = true;
  let n = 0;
  const done = (async () => {
    while (running) {
      const v = `${prefix}${n++}`;
      try {
        await writer.append(v);
        acked.push(v);
      } catch (err) {
        failures.push(`${v}: ${(err as Error).message}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    acked,
    failures,
    async stop() {
      running = false;
      await done;
    },
  };
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
  const { addr, list, found } = await slots(5);
  await found([1, 2, 3]);
  const logArg = ['--log', list([1, 2, 3])];
  // Learners 4 and 5 are never started: adding one costs nothing (no quorum grows), so both changes are valid alone.
  const [a, b] = await Promise.all([
    runCli(['member', 'add', '4', addr(4), ...logArg]),
    runCli(['member', 'add', '5', addr(5), ...logArg]),
  ]);
  const results = [a, b];
  const winners = results.filter((r) => r.code === 0);
  const losers = results.filter((r) => r.code !== 0);
  assert.equal(winners.length, 1, `exactly one change is made: exits ${a.code} (${a.stderr.trim()}) and ${b.code} (${b.stderr.trim()})`);
  const loser = losers[0]!;
  assert.ok([1, 3, 4].includes(loser.code ?? -1), `the other exits with a change's status (1, 3 or 4), not ${loser.code}: ${loser.stderr}`);
  assert.equal(loser.stderr.trim().split('\n').length, 1, `one line: ${loser.stderr}`);
  assert.doesNotMatch(loser.stderr, /\n\s+at /, 'no stack');

  const shown = JSON.parse(ok(await runCli(['config', 'show', '--json', ...logArg]), 'config show')) as { epoch: number; learners: { id: number }[] };
  assert.equal(shown.epoch, 1, 'one change made: epoch 1');
  assert.equal(shown.learners.length, 1, `one learner added: ${JSON.stringify(shown.learners)}`);
});
