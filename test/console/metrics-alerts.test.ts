// The alert rules and the dashboard ship checked: promtool validates and
// unit-tests the rules, and every metric they (and docs/operations.md) name is
// one a real 3-replica cluster exposes on /metrics, and the other way round.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from '../integration/helpers.js';
import { removeTempDirs, tempDir } from '../storage/tmp-dirs.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const RULES = join(ROOT, 'deploy/prometheus/alerts.yml');
const RULE_TESTS = join(ROOT, 'deploy/prometheus/alerts.test.yml');
const DASHBOARD = join(ROOT, 'deploy/grafana/replog-dashboard.json');
const OPERATIONS = join(ROOT, 'docs/operations.md');

function promtool(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`promtool not found (${r.error.message}): install Debian's 'prometheus' package (.ci/run does)`);
  return { status: r.status, out: r.stdout + r.stderr };
}

/** replog_* names in a text, histogram series reduced to the histogram's name. */
function metricNames(text: string): Set<string> {
  return new Set([...text.matchAll(/\breplog_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));
}

let replicas: Replica[] = [];
let exposed = new Set<string>();

before(async () => {
  const all = await freePorts(6);
  const ports = all.slice(0, 3);
  const members = Object.fromEntries(ports.map((p, i) => [i + 1, `127.0.0.1:${p}`]));
  const logger = pino({ level: 'silent' });
  replicas = await Promise.all(ports.map((p, i) => startReplica({ id: i + 1, dir: tempDir('replog-console-'), listen: `127.0.0.1:${p}`, members, admin: `127.0.0.1:${all[3 + i]!}`, logger })));
  const scrape = async () => (await fetch(`http://${replicas[0]!.adminAddress}/metrics`)).text();
  // Peer series appear once the peers are heard from.
  await waitFor('replica 1 sees every member VOTING', async () => /replog_cluster_voting_members\{[^}]*\} 3\b/.test(await scrape()));
  exposed = new Set([...(await scrape()).matchAll(/^# TYPE (replog_[a-z0-9_]+) /gm)].map((m) => m[1]!));
});

after(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  removeTempDirs();
});

test('promtool check rules accepts deploy/prometheus/alerts.yml, with the six kinds of alert asked for', () => {
  const r = promtool(['check', 'rules', RULES]);
  assert.equal(r.status, 0, r.out);
  const alerts = [...readFileSync(RULES, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
  for (const a of ['ReplogQuorumAtRisk', 'ReplogReplicaDown', 'ReplogLagGrowing', 'ReplogRecoveryStalled', 'ReplogCorruptionFound', 'ReplogSyncLatencyHigh']) {
    assert.ok(alerts.includes(a), `alert ${a} in alerts.yml`);
  }
});

test('promtool test rules: each alert fires on its failure and stays quiet before', () => {
  const r = promtool(['test', 'rules', RULE_TESTS]);
  assert.equal(r.status, 0, r.out);
});

test('every metric named by the alert rules and the dashboard is exposed by a replica', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
  for (const [what, text] of [['alerts.yml', readFileSync(RULES, 'utf8')], ['the dashboard', exprs]] as const) {
    const missing = [...metricNames(text)].filter((n) => !exposed.has(n));
    assert.deepEqual(missing, [], `metrics named in ${what} but not exposed`);
  }
});

test('docs/operations.md documents exactly the replog metrics a replica exposes', () => {
  const documented = new Set([...readFileSync(OPERATIONS, 'utf8').matchAll(/^\| `(replog_[a-z0-9_]+)` \|/gm)].map((m) => m[1]!));
  assert.deepEqual([...exposed].filter((n) => !documented.has(n)).sort(), [], 'exposed but not documented');
  assert.deepEqual([...documented].filter((n) => !exposed.has(n)).sort(), [], 'documented but not exposed');
});

test('the cluster gauges: 3 members, quorum 2, can lose 1; each peer up with a last contact', async () => {
  const text = await (await fetch(`http://${replicas[0]!.adminAddress}/metrics`)).text();
  const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
  assert.equal(value('replog_cluster_members{replica="1"}'), 3);
  assert.equal(value('replog_cluster_quorum_size{replica="1"}'), 2);
  assert.equal(value('replog_cluster_failures_tolerated{replica="1"}'), 1);
  assert.equal(value('replog_peer_up{peer="2",replica="1"}'), 1);
  assert.equal(value('replog_peer_status{peer="3",status="VOTING",replica="1"}'), 1);
  assert.ok(value('replog_peer_last_contact_seconds{peer="3",replica="1"}') < 10);
});
