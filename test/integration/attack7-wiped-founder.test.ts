// attack7: restart-all and a wiped founder after a grow 1 -> 3, with the founders' original flags.
//
// Sequence (real processes): replica 1 starts with `--members 1=A1` (a one-voter cluster); 2 and 3
// start with `--join A1`, are added and promoted (epoch 4, voters 1,2,3); 'x' is appended.
//  1. Every replica is killed and restarted with its original flags (1: --members 1=A1; 2, 3: --join A1):
//     the log keeps 'x' and takes appends (this one holds).
//  2. Replica 1 is killed, its data directory wiped, and it is restarted with its original flags
//     `--members 1=A1`. Its flags name one voter, itself: the two-phase start of a one-member
//     configuration passes at once, and it starts a *new* cluster alone, VOTING with an empty log,
//     under the same cluster id (derived from the same --members). `replog append --log A1` is then
//     acknowledged into that log, and `replog read --log A1` no longer shows 'x'.
// Rule violated: R9/R11, "a wiped disk never starts a cluster by itself"; a voter of epoch 4 that lost
// its disk must rejoin that configuration as a new disk (R9), not become a one-voter cluster of epoch 0.
// Acknowledged appends made through the founder's address are not in the cluster's log (split brain
// under one cluster id; a client pinned to the id cannot tell).
// Suggested fix: the --bootstrap of R11 (a cluster is started only by replicas given --bootstrap; the
// shell stops passing mayStart unless it is given), or at least: a replica with an empty data
// directory whose --members make a one-voter configuration refuses to start a cluster unless told
// so (a flag), and a replica that is refused as a peer by a replica hello of its own cluster id with
// a higher epoch stops and says so. Docs (reconfiguration.md step 5 status) say "a wiped founding
// member is still guarded only by the two-phase start": for a one-member founder that guard is empty.
// Fixed: a one-voter start from an empty disk waits timing.soloStartQuietMs (R11), long enough for the
// members it grew into to reconnect and gossip their newer head; it then rejoins their configuration.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { ok, runCli, TestCluster, waitFor, type CliResult } from './helpers.js';

const cluster = await TestCluster.create(3, [1, 2, 3], { admin: true });
after(() => cluster.stop());
const addr = (id: number) => cluster.replica(id).address;

async function statusOf(id: number): Promise<Record<string, unknown> | undefined> {
  try {
    return (await (await fetch(`http://${cluster.replica(id).adminAddress!}/status`)).json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
/** `replog ARGS --log ...`, given up after 30 s (exit null). */
const cli = (args: string[], log: number[]): Promise<CliResult> =>
  Promise.race([runCli([...args, '--log', log.map(addr).join(',')]), new Promise<CliResult>((res) => setTimeout(() => res({ code: null, stdout: '', stderr: 'gave up after 30 s' }), 30_000).unref())]);
const readData = async (log: number[]) => ok(await cli(['read'], log), 'read').trim().split('\n').filter(Boolean).map((l) => l.split('\t')[1]);
const original = (id: number) => (id === 1 ? ['--members', `1=${addr(1)}`] : ['--join', addr(1)]);

test('after a grow 1 -> 3, every replica restarted with its original flags keeps the log', async () => {
  cluster.startWith(1, original(1));
  await cluster.waitStatus([1], 'VOTING', 60_000);
  cluster.startWith(2, original(2));
  cluster.startWith(3, original(3));
  ok(await cli(['member', 'add', '2', addr(2)], [1]), 'add 2');
  ok(await cli(['member', 'add', '3', addr(3)], [1]), 'add 3');
  ok(await cli(['member', 'promote', '2'], [1]), 'promote 2');
  ok(await cli(['member', 'promote', '3'], [1, 2]), 'promote 3');
  ok(await cli(['append', 'x'], [1, 2, 3]), 'append x');
  await Promise.all([1, 2, 3].map((id) => cluster.kill(id)));
  for (const id of [1, 2, 3]) cluster.startWith(id, original(id));
  await cluster.waitStatus([1, 2, 3], 'VOTING', 60_000);
  ok(await cli(['append', 'y'], [1, 2, 3]), 'append y');
  assert.deepEqual(await readData([2, 3]), ['x', 'y']);
});

// Closed by the one-voter start's quiet period (timing.soloStartQuietMs, R11): the founder, alone in its
// flags, starts nothing for that long, and hears meanwhile from the members it grew into (their gossip
// names a newer head): it rejoins their configuration as a new disk.
test('a wiped founder restarted with its original --members does not start a cluster of its own', async () => {
  await cluster.kill(1);
  rmSync(cluster.replica(1).dir, { recursive: true, force: true });
  cluster.startWith(1, original(1));
  // It rejoins the cluster's configuration (epoch 4, voters 1, 2, 3) as a new disk, then votes there.
  await waitFor('replica 1 VOTING again', async () => (await statusOf(1))?.['status'] === 'VOTING', 90_000);
  const s = (await statusOf(1))!;
  assert.equal((s['config'] as { epoch: number }).epoch, 4, `replica 1 is VOTING in the cluster's configuration, not a new one: ${JSON.stringify(s['config'])}`);
  const r = await cli(['append', 'z'], [1]);
  const seenAt1 = r.code === 0 ? await readData([1]) : [];
  const seenAt23 = await readData([2, 3]);
  assert.deepEqual(
    { config: s['config'], appendAt1Acked: r.code === 0, seenAt1, zInCluster: seenAt23.includes('z') },
    { config: s['config'], appendAt1Acked: r.code === 0, seenAt1: r.code === 0 ? ['x', 'y', 'z'] : [], zInCluster: r.code === 0 },
    `the wiped founder came back VOTING with config ${JSON.stringify(s['config'])}; an append through it must land in the cluster's log`,
  );
});
