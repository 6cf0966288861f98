/**
 * What operators see of a membership change (issue 12: "/status and replog
 * status showing each member's role and the configuration epoch, metrics for
 * the epoch, roles and learner lag"): a replica's /status, console snapshot
 * (/cluster) and /metrics follow the configuration its disk holds, not the
 * `--members` it was started with. A learner is listed with its role, counts
 * for no quorum, and its lag is a gauge; once promoted it counts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ok, runCli, TestCluster, waitFor } from './helpers.js';

const cluster = await TestCluster.create(2, [1, 2], { admin: true });
after(() => cluster.stop());

const addr = (id: number) => cluster.replica(id).address;


async function get(id: number, path: string): Promise<string | undefined> {
  try {
    const r = await fetch(`http://${cluster.replica(id).adminAddress!}${path}`);
    return r.ok ? await r.text() : undefined;
  } catch {
    return undefined;
  }
}

/** A gauge's value in /metrics text (its labels include `labels`; every series carries `replica` too), or undefined if absent. */
function gauge(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metrics.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const has = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (Object.entries(labels).every(([k, v]) => has[k] === v)) return Number(m[3]);
  }
  return undefined;
}

interface ClusterDoc {
  config: { epoch: number; quorum: number; members: { id: number; role: string }[] };
  members: { id: number; role: string; status: string }[];
  verdict: { quorum: number; headline: string };
}

test('a learner added to a one-replica cluster shows in /status, the console and /metrics with its role; promoted, it counts for the quorum', async () => {
  cluster.startWith(1, ['--members', `1=${addr(1)}`]);
  await cluster.waitStatus([1], 'VOTING', 60_000);
  const before = (await get(1, '/metrics'))!;
  assert.equal(gauge(before, 'replog_config_epoch'), 0);
  assert.equal(gauge(before, 'replog_role', { role: 'voter' }), 1);

  cluster.startWith(2, ['--join', addr(1)]);
  ok(await runCli(['member', 'add', '2', addr(2), '--log', addr(1)]), 'member add 2');

  const status = JSON.parse((await get(1, '/status'))!) as { members: Record<string, string>; config: { epoch: number; learners: number[] } };
  assert.deepEqual(status.members, { 1: addr(1), 2: addr(2) }, '/status lists the members of the configuration held, not the flags');
  assert.deepEqual(status.config, { epoch: 1, voters: [1], learners: [2] });

  // The console probes the new member once it learned the change, and shows it as a learner.
  await waitFor('the console shows learner 2 VOTING', async () => {
    const doc = JSON.parse((await get(1, '/cluster')) ?? 'null') as ClusterDoc | null;
    return doc?.members.some((m) => m.id === 2 && m.role === 'learner' && m.status === 'VOTING') === true;
  }, 60_000);
  const doc = JSON.parse((await get(1, '/cluster'))!) as ClusterDoc;
  assert.equal(doc.config.epoch, 1);
  assert.deepEqual(doc.config.members.map((m) => [m.id, m.role]), [[1, 'voter'], [2, 'learner']]);
  assert.equal(doc.verdict.quorum, 1, 'a learner counts for no quorum');

  await waitFor('the learner lag gauge', async () => gauge((await get(1, '/metrics')) ?? '', 'replog_learner_lag_positions', { member: '2' }) !== undefined, 30_000);
  const during = (await get(1, '/metrics'))!;
  assert.equal(gauge(during, 'replog_config_epoch'), 1);
  assert.equal(gauge(during, 'replog_cluster_members'), 1);
  assert.equal(gauge(during, 'replog_cluster_learners'), 1);
  assert.equal(gauge(during, 'replog_cluster_quorum_size'), 1);
  const learnerMetrics = (await get(2, '/metrics'))!;
  assert.equal(gauge(learnerMetrics, 'replog_role', { role: 'learner' }), 1, 'the learner knows its role');

  ok(await runCli(['member', 'promote', '2', '--log', addr(1)]), 'member promote 2');
  await waitFor('the console counts two voters', async () => {
    const d = JSON.parse((await get(1, '/cluster')) ?? 'null') as ClusterDoc | null;
    return d?.config.epoch === 2 && d.verdict.quorum === 2;
  }, 30_000);
  const promoted = (await get(1, '/metrics'))!;
  assert.equal(gauge(promoted, 'replog_cluster_members'), 2);
  assert.equal(gauge(promoted, 'replog_cluster_learners'), 0);
  assert.equal(gauge(promoted, 'replog_learner_lag_positions', { member: '2' }), undefined, 'no learner left');
});
