/**
 * A replica that was away while the members moved on without it finds the cluster again (R13's seeds,
 * docs/reconfiguration.md; the core's side in test/core/rejoin-moved-on.test.ts). {1,2,3} becomes
 * {1,4,5} by two `member replace` while replica 1 is down, and 2 and 3 are stopped: every member replica
 * 1's disk (or flags) knows is gone. 4 and 5 list 1 and gossip to it; their gossip carries their address,
 * and replica 1 asks them where the cluster went. Before, it waited for ever (its disk intact: its restart
 * check asked 2 and 3 only; wiped: its rejoin did). The proof that it votes: with 4 stopped, {1,5} is the
 * quorum that takes an append, and every acknowledged entry is read back.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { appendUnlessFenced, ok, runCli, TestCluster, waitFor } from './helpers.js';


async function movedOnWithout1(wipe: boolean): Promise<void> {
  const cluster = await TestCluster.create(5, [1, 2, 3, 4, 5], { admin: true });
  after(() => cluster.stop());
  const addr = (id: number) => cluster.replica(id).address;
  const cli = (args: string[], ids: number[]) => runCli([...args, '--log', ids.map(addr).join(',')]);
  const founders = [1, 2, 3];
  const flags = ['--members', founders.map((i) => `${i}=${addr(i)}`).join(',')];
  for (const id of founders) cluster.startWith(id, flags);
  await cluster.waitStatus(founders, 'VOTING', 60_000);
  const appended: string[] = [];
  const append = async (tag: string, ids: number[]) => {
    const r = await appendUnlessFenced(() => cli(['append', tag], ids));
    ok(r.code === 0 ? r : { ...r, stderr: `${r.stderr}\nreplica 1 said:\n${cluster.replica(1).stderr.split('\n').slice(-25).join('\n')}` }, `append ${tag}`);
    appended.push(tag);
  };
  await append('before', founders);

  await cluster.kill(1);
  if (wipe) rmSync(cluster.replica(1).dir, { recursive: true, force: true });
  for (const [old, fresh] of [[2, 4], [3, 5]] as const) {
    cluster.startWith(fresh, ['--join', [2, 3].map(addr).join(',')]);
    ok(await cli(['member', 'replace', String(old), String(fresh), addr(fresh)], [2, 3, 4, 5]), `replace ${old} by ${fresh}`);
    await append(`after-${fresh}`, [2, 3, 4, 5]);
  }
  const config = JSON.parse(ok(await cli(['config', 'show', '--json'], [4, 5]), 'config show')) as { voters: { id: number }[] };
  assert.deepEqual(config.voters.map((m) => m.id), [1, 4, 5]);
  await cluster.kill(2);
  await cluster.kill(3);

  // Replica 1 comes back with the flags it was started with: 2 and 3, the only members they name, are gone.
  cluster.startWith(1, flags);
  await cluster.waitStatus([1], 'VOTING', 120_000).catch((err: Error) => {
    throw new Error(`${err.message}; replica 1 said:\n${cluster.replica(1).stderr.split('\n').slice(-15).join('\n')}`);
  });
  await waitFor('replica 1 learns {1,4,5} (epoch 4) from 4 and 5', async () => {
    const r = await fetch(`http://${cluster.replica(1).adminAddress!}/status`).then((x) => x.json() as Promise<{ config?: { epoch: number } }>).catch(() => undefined);
    return (r?.config?.epoch ?? 0) >= 4;
  }, 60_000);
  // It votes: with 4 stopped, 1 and 5 are the quorum of {1,4,5}.
  await cluster.kill(4);
  await append('with-1-and-5', [1, 5]);
  const out = ok(await cli(['read'], [1, 5]), 'read');
  assert.deepEqual(out.trim().split('\n').map((l) => l.split('\t')[1]), appended, 'every acknowledged entry is read back, in order');
}

test('a replica down (disk intact) while {1,2,3} moved to {1,4,5} and 2, 3 were stopped: restarted with its old flags, it finds 4 and 5 and votes', { timeout: 600_000 }, async () => {
  await movedOnWithout1(false);
});

test('the same with its disk wiped: it rejoins through 4 and 5 and votes', { timeout: 600_000 }, async () => {
  await movedOnWithout1(true);
});
