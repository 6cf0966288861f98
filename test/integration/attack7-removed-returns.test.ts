// attack7: a voter removed while it was down comes back: with its old disk and old flags, then wiped
// with its old --members, then wiped with --join.
//
// Sequence (real processes): voters 1,2,3; 'x' appended; 3 killed; `member remove 3` (2 of 2 reachable,
// no --force); 'y' appended. (a) 3 restarted on its old disk with its old --members (its chain says
// epoch 0, a voter); (b) 3 killed, wiped, restarted with --members 1,2,3; (c) wiped, --join A1.
// Rule checked: R7/R13, a removed id never votes again: (a) and (b) end with role removed (or never
// VOTING) and accept nothing (its end does not move while appends go on); (c) exits with "was removed".
// An append through only 3's address (`--log A3`) must not be acknowledged outside the cluster's log.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { ok, runCli, TestCluster, waitFor, type CliResult } from './helpers.js';

const cluster = await TestCluster.create(3, [1, 2, 3], { admin: true });
after(() => cluster.stop());
const addr = (id: number) => cluster.replica(id).address;
const cli = (args: string[], log: number[]): Promise<CliResult> =>
  Promise.race([runCli([...args, '--log', log.map(addr).join(',')]), new Promise<CliResult>((res) => setTimeout(() => res({ code: null, stdout: '', stderr: 'gave up after 30 s' }), 30_000).unref())]);
async function statusOf(id: number): Promise<Record<string, unknown> | undefined> {
  try {
    return (await (await fetch(`http://${cluster.replica(id).adminAddress!}/status`)).json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
const readData = async (log: number[]) => ok(await cli(['read'], log), 'read').trim().split('\n').filter(Boolean).map((l) => l.split('\t')[1]);

async function staysOut(what: string): Promise<void> {
  await waitFor(`${what}: replica 3 answers /status`, async () => (await statusOf(3)) !== undefined, 30_000);
  // Give it time to recover or be told it was removed, then check it takes no part.
  await waitFor(`${what}: replica 3 says removed or stays out of VOTING`, async () => {
    const s = await statusOf(3);
    return s?.['role'] === 'removed' || /removed/.test(String(s?.['waiting'] ?? ''));
  }, 30_000).catch(() => {});
  const before = (await statusOf(3))!;
  for (const t of ['p', 'q']) ok(await cli(['append', `${what}-${t}`], [1, 2]), `append ${what}-${t}`);
  const via3 = await cli(['append', `${what}-via3`], [3]);
  const after3 = (await statusOf(3))!;
  const data = await readData([1, 2]);
  assert.equal(after3['end'], before['end'], `${what}: replica 3 accepted nothing (status ${JSON.stringify(after3)})`);
  if (via3.code === 0) assert.ok(data.includes(`${what}-via3`), `${what}: an append acknowledged through 3 alone is in the cluster's log`);
}

test('a removed voter that comes back (old disk, wiped with old --members, wiped with --join) never votes again', async () => {
  await cluster.startAll();
  ok(await cli(['append', 'x'], [1, 2, 3]), 'append x');
  await cluster.kill(3);
  ok(await cli(['member', 'remove', '3'], [1, 2]), 'remove 3');
  ok(await cli(['append', 'y'], [1, 2]), 'append y');

  cluster.start(3); // (a) old disk, old flags
  await staysOut('old-disk');

  await cluster.kill(3);
  rmSync(cluster.replica(3).dir, { recursive: true, force: true });
  cluster.start(3); // (b) wiped, old --members
  await staysOut('wiped-members');

  await cluster.kill(3);
  rmSync(cluster.replica(3).dir, { recursive: true, force: true });
  const p = cluster.startWith(3, ['--join', addr(1)]); // (c)
  await waitFor('the --join of a removed id exits', () => p.exitCode !== null, 30_000);
  assert.match(cluster.replica(3).stderr, /was removed/);
});
