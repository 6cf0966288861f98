/**
 * Issue 12: "the application's writer and readers move on to the new
 * configuration by themselves, even when every address they were started
 * with is gone". A cluster of three moves to three new machines, one
 * `member replace` at a time, while an application (one LogClient given only
 * the three old addresses) appends all along through its writer, and another
 * client given the same addresses stays idle; then the old three are stopped.
 * The application goes on appending and reading through the new members, with
 * no append failed and every acknowledged one read back; the idle client,
 * which learned the move only by its periodic refresh, reads it all too.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/index.js';
import { ok, runCli, TestCluster, waitFor } from './helpers.js';
import { appender } from './appender.js';

const cluster = await TestCluster.create(6, [1, 2, 3, 4, 5, 6], { admin: true });
after(() => cluster.stop());
const addr = (id: number) => cluster.replica(id).address;


test('a cluster moved to three new machines while an application given only the old addresses appends: nothing fails, nothing is lost', { timeout: 600_000 }, async () => {
  const founders = [1, 2, 3];
  for (const id of founders) cluster.startWith(id, ['--members', founders.map((i) => `${i}=${addr(i)}`).join(',')]);
  await cluster.waitStatus(founders, 'VOTING', 60_000);

  const log = await LogClient.connect(founders.map(addr));
  // A reader that stays idle through the move: only its periodic refresh (timing.configRefreshMs) can tell it.
  const idle = await LogClient.connect(founders.map(addr));
  await idle.read(0, 0).catch(() => []);
  const app = appender(await log.writer(), 'e');
  const { acked, failures } = app;

  for (const [old, fresh] of [[1, 4], [2, 5], [3, 6]] as const) {
    cluster.startWith(fresh, ['--join', founders.map(addr).join(',')]);
    ok(await runCli(['member', 'replace', String(old), String(fresh), addr(fresh), '--log', [1, 2, 3, 4, 5, 6].map(addr).join(',')]), `replace ${old} by ${fresh}`);
  }
  // The client follows the configuration while it runs (its writer installed each change; its refresh links to the new members).
  await waitFor('the client knows the new voters', async () => [...log.members].sort().join(',') === '4,5,6', 60_000);
  await waitFor('the idle client knows them too', async () => [...idle.members].sort().join(',') === '4,5,6', 60_000);
  for (const id of founders) await cluster.kill(id);
  const before = acked.length;
  await waitFor('appends go on through the new members', () => acked.length >= before + 20 || failures.length > 0, 60_000);
  await app.stop();
  assert.deepEqual(failures, [], 'no append failed');

  const all = await log.read(0, await log.ending());
  const seen = new Set(all.map((e) => Buffer.from(e.data).toString()));
  for (const v of acked) assert.ok(seen.has(v), `acknowledged ${v} is read back`);
  // The idle reader, started with the old addresses only, reads the whole log from the new members.
  assert.equal((await idle.read(0, await idle.ending())).length, all.length);
  await idle.close();
  await log.close();
});
