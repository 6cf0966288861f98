/**
 * The rest of issue 12's operations on real processes: `config set` with its
 * epoch condition (exit 4 when the epoch moved), `member update` (a member
 * moves to another address on the same data directory), and `config show`'s
 * pending change: a change an application's writer began when only a
 * minority could accept it shows as pending, and the next writer finishes it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/index.js';
import { appendUnlessFenced, freePorts, ok, runCli, TestCluster, waitFor } from './helpers.js';

const cluster = await TestCluster.create(3, [1, 2, 3], { admin: true });
after(() => cluster.stop());
const addr = (id: number) => cluster.replica(id).address;


interface ConfigDoc {
  epoch: number;
  voters: { id: number; address: string }[];
  learners: { id: number }[];
  pending: { epoch: number; position: number; voters: { id: number }[] } | null;
}

async function configOf(log: string[]): Promise<ConfigDoc> {
  return JSON.parse(ok(await runCli(['config', 'show', '--json', '--log', log.join(',')]), 'config show')) as ConfigDoc;
}

const ids = (ms: { id: number }[]) => ms.map((m) => m.id);

test('config set --if-epoch: a stale epoch exits 4 and changes nothing; the current one sets voters and learners at once', async () => {
  await cluster.startAll();
  const c0 = await configOf(cluster.addresses);
  assert.equal(c0.epoch, 0);
  const stale = await runCli(['config', 'set', '--voters', '1,2', '--learners', '3', '--if-epoch', '5', '--log', cluster.addresses.join(',')]);
  assert.equal(stale.code, 4, `exit ${stale.code}: ${stale.stderr}`);
  assert.match(stale.stderr, /epoch is 0, not 5/);
  assert.equal((await configOf(cluster.addresses)).epoch, 0, 'nothing changed');
  const bad = await runCli(['config', 'set', '--voters', '1,x', '--if-epoch', '0', '--log', cluster.addresses.join(',')]);
  assert.equal(bad.code, 2, 'a malformed id is bad usage');

  const out = ok(await runCli(['config', 'set', '--voters', '1,2', '--learners', '3', '--if-epoch', '0', '--log', cluster.addresses.join(',')]), 'config set');
  assert.match(out, /learners\s+3=/);
  const c1 = await configOf(cluster.addresses);
  assert.deepEqual([c1.epoch, ids(c1.voters), ids(c1.learners)], [1, [1, 2], [3]]);
  // Back to three voters, conditioned on the epoch just read.
  ok(await runCli(['config', 'set', '--voters', '1,2,3', '--if-epoch', '1', '--log', cluster.addresses.join(',')]), 'config set back');
  const c2 = await configOf(cluster.addresses);
  assert.deepEqual([c2.epoch, ids(c2.voters), ids(c2.learners)], [2, [1, 2, 3], []]);
});

test('member update: replica 3 moves to a new port on the same data directory; the others and clients follow the log', async () => {
  const [port] = await freePorts(1);
  const moved = `127.0.0.1:${port!}`;
  ok(await runCli(['member', 'update', '3', moved, '--log', cluster.addresses.join(',')]), 'member update');
  await cluster.kill(3);
  const r3 = cluster.replica(3);
  r3.address = moved;
  cluster.startWith(3, ['--join', `${addr(1)},${addr(2)}`]);
  await cluster.waitStatus([3], 'VOTING', 60_000);
  // Replica 1 and 2 link to the new address: with 2 down, 1 and 3 still make a quorum.
  await cluster.kill(2);
  ok(await appendUnlessFenced(() => runCli(['append', 'after-move', '--log', `${addr(1)},${moved}`])), 'append with 1 and the moved 3');
  const c = await configOf([moved]);
  assert.equal(c.voters.find((m) => m.id === 3)?.address, moved);
  cluster.start(2);
  await cluster.waitStatus([1, 2, 3], 'VOTING', 60_000);
});

test("config show: a change the application's writer began with only a minority up is pending; the next writer finishes it", async () => {
  const epoch = (await configOf(cluster.addresses)).epoch;
  const log = await LogClient.connect(cluster.addresses);
  try {
    const w = await log.writer();
    await w.append('before');
    await cluster.kill(2);
    await cluster.kill(3);
    // The CLI hands the change to the application's writer (the hand-off), which writes it where it can: replica 1.
    const cli = runCli(['member', 'remove', '3', '--force', '--log', addr(1)]);
    await waitFor('the change pending on replica 1', async () => (await configOf([addr(1)])).pending !== null, 30_000);
    const c = await configOf([addr(1)]);
    assert.equal(c.epoch, epoch, JSON.stringify(c));
    assert.deepEqual([c.pending!.epoch, ids(c.pending!.voters)], [epoch + 1, [1, 2]]);
    cluster.start(2);
    cluster.start(3);
    await cli;
    // Whatever the CLI saw, the log settles it: a writer's election finishes the pending entry (R5).
    await waitFor('the change chosen and installed', async () => {
      const now = await configOf([addr(1), addr(2)]);
      return now.epoch === epoch + 1 && now.pending === null;
    }, 60_000);
    const writer = await log.writer();
    await writer.append('after');
    assert.deepEqual(ids((await configOf([addr(1), addr(2)])).voters), [1, 2]);
  } finally {
    await log.close();
  }
});
