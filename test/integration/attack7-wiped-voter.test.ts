// attack7: a voter wiped after a change, restarted with its original (pre-change) --members.
//
// Sequence (real processes): voters 1,2,3 (--members 1,2,3); 4 joins (--join), is added and promoted
// (epoch 2, voters 1,2,3,4, quorum 3); 'x' appended. Replica 2 is killed, its disk wiped, and it is
// restarted with its original flags --members 1=..,2=..,3=.. (which do not name 4).
// Rule checked: R9a-R13, a wiped voter rejoins the *latest* configuration (epoch 2), found by
// discovery from its peers' recover replies, and its rejoin is recorded by a quorum of VOTING voters
// of that configuration: 3 of 1,2,3,4 without 2 itself, i.e. 1, 3 AND 4.
// Found: recovery did discover epoch 2 and asked 4, but the shell (replica-server.ts) links only to
// the members of the disk's stored chain (the flags' epoch 0) and refused 4's replica hello ("not a
// member (members 1,2,3)"): the requests to 4 were dropped, 2 stayed EMPTY for good ("waiting for a
// quorum of VOTING peers (2 of 3 answered)"), the cluster ran with one voter short of failure.
// Liveness. Fixed in replica-server.ts: a recovering replica links to and admits the members of the
// newer configurations its peers' recover replies carry (discoveredFrom).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { TestCluster, appendUnlessFenced, waitFor } from './helpers.js';
import { attackTools, ok } from './attack7-helpers.js';

const cluster = await TestCluster.create(4, [1, 2, 3, 4], { admin: true });
after(() => cluster.stop());
const { addr, founders, cli, statusOf } = attackTools(cluster, 40000);

test('a voter wiped after a grow, restarted with its pre-change --members, rejoins the latest configuration', async () => {
  for (const id of [1, 2, 3]) cluster.startWith(id, founders());
  await cluster.waitStatus([1, 2, 3], 'VOTING', 60_000);
  cluster.startWith(4, ['--join', addr(1)]);
  ok(await cli(['member', 'add', '4', addr(4), '--voter'], [1, 2, 3]), 'add 4 --voter');
  ok(await appendUnlessFenced(() => cli(['append', 'x'], [1, 2, 3, 4])), 'append x');
  await cluster.kill(2);
  rmSync(cluster.replica(2).dir, { recursive: true, force: true });
  cluster.startWith(2, founders());
  let s2: Record<string, unknown> | undefined;
  await waitFor('replica 2 VOTING again in epoch 2', async () => {
    s2 = await statusOf(2);
    return s2?.['status'] === 'VOTING';
  }, 90_000).catch(() => {});
  assert.equal(s2?.['status'], 'VOTING', `replica 2: ${JSON.stringify(s2)}\n${cluster.replica(2).stderr.slice(-3000)}`);
  assert.deepEqual((s2!['config'] as { epoch: number }).epoch, 2);
  ok(await appendUnlessFenced(() => cli(['append', 'y'], [2, 3, 4])), 'append y');
  const data = ok(await cli(['read'], [2, 3, 4]), 'read').trim().split('\n').map((l) => l.split('\t')[1]);
  assert.deepEqual(data, ['x', 'y']);
});
