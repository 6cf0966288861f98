// attack7: a voter down during a grow restarts on its old disk (its chain predates the change) and its
// restart check must reach a member its chain does not name.
//
// Sequence (real processes): voters 1,2,3 (--members 1,2,3); 2 killed; 4 joins (--join), is added and
// promoted (epoch 2, voters 1,2,3,4, quorum 3: 1,3,4 decide); 'x' appended; 1 killed (down for good);
// 2 restarted on its old disk with its old --members. Its restart check (R9d, counted in the latest
// configuration found from the answers, R13) needs 3 of 4 voters: itself, 3, and 4, a member its
// stored chain (epoch 0) does not name. Then 'y' must be appended through 2,3,4.
// Rule checked: R9d/R13 liveness: the cluster has 3 of 4 voters running and must go on.
// Found: replica 2's restart check found epoch 2 from 3's answer and asked 4, but the shell links only
// to its stored chain's members and refused 4's hello ("not a member (members 1,2,3)"): it stayed in
// "restart check: 1 of the 2 peers needed answered" for good, and with 1 down the log stopped (NO_QUORUM).
// Fixed in replica-server.ts: discoveredFrom takes every recover reply's links (not only while not
// VOTING), so a restart-checking replica links to and admits the new members too.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, appendUnlessFenced, waitFor } from './helpers.js';
import { attackTools, ok } from './attack7-helpers.js';

const cluster = await TestCluster.create(4, [1, 2, 3, 4], { admin: true });
after(() => cluster.stop());
const { addr, founders, cli, statusOf } = attackTools(cluster, 60000);

test('a voter down during a grow, restarted on its old disk, passes its restart check with the new member and the log goes on', async () => {
  for (const id of [1, 2, 3]) cluster.startWith(id, founders());
  await cluster.waitStatus([1, 2, 3], 'VOTING', 60_000);
  ok(await appendUnlessFenced(() => cli(['append', 'w'], [1, 2, 3])), 'append w');
  await cluster.kill(2);
  cluster.startWith(4, ['--join', addr(1)]);
  ok(await cli(['member', 'add', '4', addr(4), '--voter'], [1, 3]), 'add 4 --voter');
  ok(await appendUnlessFenced(() => cli(['append', 'x'], [1, 3, 4])), 'append x');
  await cluster.kill(1);
  cluster.startWith(2, founders());
  await waitFor('replica 2 passes its restart check, in epoch 2', async () => {
    const s = await statusOf(2);
    return s?.['status'] === 'VOTING' && s['waiting'] === null && (s['config'] as { epoch: number }).epoch === 2;
  }, 90_000).catch(() => {});
  const s2 = await statusOf(2);
  assert.equal(s2?.['waiting'], null, `replica 2: ${JSON.stringify(s2)}\n${cluster.replica(2).stderr.slice(-2500)}`);
  const y = await appendUnlessFenced(() => cli(['append', 'y'], [2, 3, 4]));
  assert.equal(y.code, 0, `append y: ${y.stderr}`);
  const data = ok(await cli(['read'], [2, 3, 4]), 'read').trim().split('\n').map((l) => l.split('\t')[1]);
  assert.deepEqual(data, ['w', 'x', 'y']);
});
