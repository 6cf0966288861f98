/**
 * Membership changes with real processes (docs/reconfiguration.md step 5;
 * interfaces.md, "Membership"): a cluster grown from one replica to three
 * (`--members` of itself, two `--join`, `member add`, `member promote`),
 * appends and reads at every step; a voter removed (`removed` in /status, and
 * it takes no part in the log above its removal); `member replace`; refused
 * changes exit 1 with one line, malformed arguments 2. Every wait is on a
 * condition with a generous deadline.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendUnlessFenced, ok, runCli, TestCluster, waitFor, type CliResult } from './helpers.js';

const cluster = await TestCluster.create(5, [1, 2, 3, 4, 5], { admin: true });
after(() => cluster.stop());

const addr = (id: number) => cluster.replica(id).address;
/** Everything appended so far, in order: each step reads the whole log back and finds them all. */
const appended: string[] = [];

async function statusOf(id: number): Promise<Record<string, unknown> | undefined> {
  try {
    const r = await fetch(`http://${cluster.replica(id).adminAddress!}/status`);
    return (await r.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}


async function cli(args: string[], log: number[]): Promise<CliResult> {
  return runCli([...args, '--log', log.map(addr).join(',')]);
}

/** Appends one entry through `log` and reads the whole log back: every entry appended so far is there, in order. */
async function appendAndRead(log: number[], tag: string): Promise<void> {
  ok(await appendUnlessFenced(() => cli(['append', tag], log)), `append ${tag}`);
  appended.push(tag);
  const out = ok(await cli(['read'], log), 'read');
  const data = out.trim().split('\n').map((l) => l.split('\t')[1]);
  assert.deepEqual(data, appended, `the log holds every appended entry after ${tag}`);
}

async function configOf(log: number[]): Promise<{ epoch: number; voters: { id: number }[]; learners: { id: number }[]; quorum: number }> {
  return JSON.parse(ok(await cli(['config', 'show', '--json'], log), 'config show'));
}

const ids = (ms: { id: number }[]) => ms.map((m) => m.id);

test('grow 1 -> 3: one replica with --members of itself, two with --join, added as learners, promoted; appends and reads throughout', async () => {
  cluster.startWith(1, ['--members', `1=${addr(1)}`]);
  await cluster.waitStatus([1], 'VOTING', 60_000);
  await appendAndRead([1], 'one');
  assert.deepEqual(await configOf([1]), { epoch: 0, voters: [{ id: 1, address: addr(1) }], learners: [], quorum: 1, failuresTolerated: 0, pending: null });

  // Started before it is added: it waits, and never starts a cluster of its own.
  cluster.startWith(2, ['--join', addr(1)]);
  await waitFor('replica 2 says it waits to be added', () => /waiting until it is added/.test(cluster.replica(2).stderr), 30_000);
  const added = ok(await cli(['member', 'add', '2', addr(2)], [1]), 'member add 2');
  assert.match(added, /epoch\s+1\n/);
  assert.match(added, new RegExp(`learners\\s+2=${addr(2)}`));
  await waitFor('replica 2 is a VOTING learner', async () => {
    const s = await statusOf(2);
    return s?.['role'] === 'learner' && s?.['status'] === 'VOTING';
  }, 60_000);
  // R9e: a new disk of its member (a rejoin), not the original 0/0 of a cluster's start.
  assert.ok(((await statusOf(2))?.['generation'] as number) >= 1, 'the joiner rejoined as a new disk');
  assert.doesNotMatch(cluster.replica(2).stderr, /STARTING/, 'the joiner never took part in a start');
  const st = JSON.parse(ok(await cli(['status', '--json'], [1, 2]), 'status --json')) as { replicas: { id: number; role: string; status: string }[] };
  assert.deepEqual(st.replicas.map((r) => [r.id, r.role, r.status]), [[1, 'voter', 'VOTING'], [2, 'learner', 'VOTING']]);
  await appendAndRead([1], 'two');

  ok(await cli(['member', 'add', '3', addr(3)], [1]), 'member add 3');
  cluster.startWith(3, ['--join', `${addr(2)},${addr(1)}`]);
  await appendAndRead([1], 'three');

  const p2 = ok(await cli(['member', 'promote', '2'], [1]), 'member promote 2');
  assert.match(p2, /voters\s+1=\S+, 2=/);
  await appendAndRead([1, 2], 'four');
  const p3 = ok(await cli(['member', 'promote', '3'], [1, 2]), 'member promote 3');
  assert.match(p3, /quorum\s+2 of 3/);
  await appendAndRead([2, 3], 'five');

  const c = await configOf([3]);
  assert.equal(c.epoch, 4);
  assert.deepEqual(ids(c.voters), [1, 2, 3]);
  assert.deepEqual(ids(c.learners), []);
  const list = JSON.parse(ok(await cli(['member', 'list', '--json'], [1, 2, 3]), 'member list')) as { epoch: number; members: { id: number; role: string; status: string }[] };
  assert.deepEqual(list.members.map((m) => [m.id, m.role, m.status]), [[1, 'voter', 'VOTING'], [2, 'voter', 'VOTING'], [3, 'voter', 'VOTING']]);

  // The founding replica is no longer needed for a quorum: 2 and 3 decide without it.
  await cluster.kill(1);
  await appendAndRead([2, 3], 'six');
  // Restarted with its original flags: they disagree with the log, which it follows (a warning, R11).
  cluster.startWith(1, ['--members', `1=${addr(1)}`]);
  await waitFor('replica 1 warns that its flags disagree with the log', () => /disagrees with the configuration this data directory learned/.test(cluster.replica(1).stderr), 30_000);
  await cluster.waitStatus([1, 2, 3], 'VOTING', 60_000);
  await appendAndRead([1], 'seven');
});

test('remove a voter: the change completes, the removed replica says role removed and takes no part in the log above it', async () => {
  const out = await cli(['member', 'remove', '3'], [1, 2]);
  ok(out, 'member remove 3');
  assert.match(out.stdout, /voters\s+1=\S+, 2=\S+\n/);
  assert.match(out.stderr, /complete: member 3 was removed/);
  await waitFor('replica 3 says it is removed', async () => (await statusOf(3))?.['role'] === 'removed', 30_000);
  const endAtRemoval = (await statusOf(3))!['end'] as number;
  for (const tag of ['eight', 'nine', 'ten']) await appendAndRead([1, 2], tag);
  const s1 = (await statusOf(1))!;
  const s3 = (await statusOf(3))!;
  assert.ok((s1['end'] as number) > endAtRemoval + 2, 'the log went on');
  assert.equal(s3['end'], endAtRemoval, 'the removed replica accepted nothing above its removal');
  assert.equal(s3['role'], 'removed');
  const st = JSON.parse(ok(await cli(['status', '--json'], [1, 2, 3]), 'status --json')) as { replicas: { id: number; role: string }[] };
  assert.deepEqual(st.replicas.map((r) => [r.id, r.role]), [[1, 'voter'], [2, 'voter'], [3, 'removed']]);
  assert.deepEqual(((s1['writer'] as { counted: number[] }).counted), [1, 2], 'the writer counts 1 and 2 only');
});

test('replace: a new member joins as a learner, catches up, and takes the old one\'s place in one change', async () => {
  cluster.startWith(4, ['--join', addr(1)]);
  const out = await cli(['member', 'replace', '2', '4', addr(4)], [1, 2]);
  ok(out, 'member replace 2 4');
  assert.match(out.stdout, /voters\s+1=\S+, 4=\S+\n/);
  const c = await configOf([1, 4]);
  assert.deepEqual(ids(c.voters), [1, 4]);
  await waitFor('replica 2 says it is removed', async () => (await statusOf(2))?.['role'] === 'removed', 30_000);
  await appendAndRead([1, 4], 'eleven');
});

test('refused changes exit 1 with one clear line', async () => {
  const refused = async (args: string[], why: RegExp) => {
    const r = await cli(args, [1, 4]);
    assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}, stderr: ${r.stderr}`);
    // One line says why (progress lines of a wait for a learner come before it).
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('replog: waiting for member'));
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.match(lines[0]!, why, args.join(' '));
  };
  await refused(['member', 'add', '1', '127.0.0.1:1'], /already in the configuration/);
  await refused(['member', 'add', '3', '127.0.0.1:1'], /never reused/);
  await refused(['member', 'add', '9', addr(1)], /address .* is member 1's/);
  await refused(['member', 'promote', '9', '--wait', '2'], /not in the configuration/);
  await refused(['member', 'remove', '9'], /not in the configuration/);
  // A learner that never runs does not catch up: the promotion is refused at its deadline.
  ok(await cli(['member', 'add', '5', addr(5)], [1, 4]), 'member add 5');
  await refused(['member', 'promote', '5', '--wait', '3'], /has not caught up within 3 s/);
  // With member 4 down, removing it would leave 1 of the 2 voters reachable: refused, unless --force.
  await cluster.kill(4);
  await refused(['member', 'remove', '4'], /reachable.*--force/);
  cluster.startWith(4, ['--join', addr(1)]);
  await cluster.waitStatus([4], 'VOTING', 60_000);
  assert.equal((await configOf([1, 4])).epoch, 8, 'nothing was changed by the refused ones');
});

test('malformed arguments exit 2', async () => {
  const bad = async (args: string[]) => {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n')[0]!.startsWith('replog:'), true, r.stderr);
  };
  await bad(['member', 'add', 'x', '127.0.0.1:1', '--log', addr(1)]);
  await bad(['member', 'add', '5', 'no-port', '--log', addr(1)]);
  await bad(['member', 'remove', '0', '--log', addr(1)]);
  await bad(['member', 'promote', '-3', '--log', addr(1)]);
  await bad(['member', 'replace', '1', '2', 'host:99999', '--log', addr(1)]);
  await bad(['member', 'add', '5', '127.0.0.1:1', '--wait', 'soon', '--log', addr(1)]);
  await bad(['replica', '--id', '7', '--dir', '/tmp/nowhere', '--listen', '127.0.0.1:1']);
  await bad(['replica', '--id', '7', '--dir', '/tmp/nowhere', '--listen', '127.0.0.1:1', '--members', '7=127.0.0.1:1', '--join', addr(1)]);
});
