/**
 * The hand-off (docs/reconfiguration.md R12, step 8; interfaces.md
 * "Membership": a change made while an application's writer is appending does
 * not fail that application's appends). Real replica processes; `replog
 * member ...` run as a child process, the application a LogClient here:
 *   (a) appending continuously through `member add` (learner), `promote` and
 *       `remove`: no append fails, every acknowledged entry is read back, the
 *       writer is never fenced, and it is the one that carried each change;
 *   (b) an elected writer that appends nothing carries changes too, and
 *       `log.members` in the application's own client, or `writer.members`,
 *       gives them to its writer;
 *   (c) with no writer active the CLI elects its own, as before;
 *   (d) a change the application's writer refuses (ifEpoch passed, an unknown
 *       member) comes back to the asker as the error it would get otherwise;
 *   (e) a library client's change goes through the relay too, and (c) asked
 *       again by a writer of the asker's own (a withdrawn hand-off's race) it
 *       is not made twice: its ifEpoch has passed.
 * Every wait is on a condition with a generous deadline.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { LogClient } from '../../src/client/log-client.js';
import { Members } from '../../src/client/members.js';
import type { ChangeEvent } from '../../src/client/events.js';
import { ChangeRefusedError, ConfigChangedError } from '../../src/core/errors.js';
import type { ChangeRequest } from '../../src/core/writer.js';
import { exitStatusFor } from '../../src/cli/common.js';
import { appendLoop, ok, runCli, TestCluster, waitFor } from './helpers.js';
import { pacedWriter } from './appender.js';

const cluster = await TestCluster.create(4, [1, 2, 3, 4], { admin: true });
after(() => cluster.stop());
const addr = (id: number) => cluster.replica(id).address;
const founders = [1, 2, 3];
const seeds = founders.map(addr).join(',');


async function statusOf(id: number): Promise<Record<string, unknown> | undefined> {
  try {
    return (await (await fetch(`http://${cluster.replica(id).adminAddress!}/status`)).json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const started = (async () => {
  for (const id of founders) cluster.startWith(id, ['--members', founders.map((i) => `${i}=${addr(i)}`).join(',')]);
  await cluster.waitStatus(founders, 'VOTING', 60_000);
})();

/** The application: a client, its writer, what it was told. */
const app = await (async () => {
  await started;
  const log = await LogClient.connect(founders.map(addr), { waitForQuorum: true });
  const changes: ChangeEvent[] = [];
  const fenced: Error[] = [];
  log.on('change', (e) => changes.push(e));
  log.on('fenced', (e) => fenced.push(e.error));
  const writer = await log.writer();
  return { log, writer, changes, fenced };
})();
after(() => app.log.close());


/** Every acknowledged append is in the log at its position, with its data. */
async function readBack(acked: Map<number, string>): Promise<void> {
  const top = Math.max(...acked.keys());
  const got = new Map((await app.log.read(0, top)).map((e) => [e.position, Buffer.from(e.data).toString()]));
  for (const [p, d] of acked) assert.equal(got.get(p), d, `position ${p}`);
}

test('(a) appends go on through member add, promote and remove made with the CLI: none fails, all are read back, the writer is never fenced', async () => {
  // Paced (a batch of 5 every 50 ms): a learner must be seen within CAUGHT_UP_SLACK of a moving end to be promoted.
  const loop = appendLoop(pacedWriter(app.writer, 50), { tag: 'a', batch: 5 });
  try {
    await waitFor('appends flow', () => loop.goneOnBy(100));
    cluster.startWith(4, ['--join', seeds]);
    await waitFor('replica 4 waits to be added', () => /waiting until it is added/.test(cluster.replica(4).stderr), 30_000);

    let mark = loop.acked.size;
    const added = ok(await runCli(['member', 'add', '4', addr(4), '--log', seeds]), 'member add 4');
    assert.match(added, new RegExp(`learners\\s+4=${addr(4)}`));
    assert.deepEqual(app.changes.map((c) => c.change.kind), ['add'], 'the application\'s writer carried the change');
    await waitFor('appends go on after the add', () => loop.goneOnBy(mark + 100));

    await waitFor('replica 4 is a VOTING learner', async () => {
      const s = await statusOf(4);
      return s?.['role'] === 'learner' && s?.['status'] === 'VOTING';
    }, 60_000);
    mark = loop.acked.size;
    const promoted = ok(await runCli(['member', 'promote', '4', '--log', seeds]), 'member promote 4');
    assert.match(promoted, /voters\s+1=\S+, 2=\S+, 3=\S+, 4=/);
    await waitFor('appends go on after the promotion', () => loop.goneOnBy(mark + 100));

    mark = loop.acked.size;
    const removed = await runCli(['member', 'remove', '3', '--log', seeds]);
    ok(removed, 'member remove 3');
    assert.match(removed.stdout, /voters\s+1=\S+, 2=\S+, 4=\S+\n/);
    await waitFor('appends go on after the removal', () => loop.goneOnBy(mark + 100));
    assert.deepEqual(app.changes.map((c) => c.change.kind), ['add', 'promote', 'remove'], 'each change was carried by the application\'s writer');
  } finally {
    await loop.stop();
  }
  assert.deepEqual(loop.failures, [], 'no append failed');
  assert.deepEqual(app.fenced, [], 'the writer was never fenced');
  assert.equal(app.writer.state, 'elected');
  await readBack(loop.acked);
  const cfg = await app.log.configuration();
  assert.deepEqual(cfg.voters.map((m) => m.id), [1, 2, 4]);
});

test('(b) an elected writer that appends nothing carries a change too; log.members in its own client gives it to that writer', async () => {
  const before = app.changes.length;
  const epoch = (await app.log.configuration()).epoch;
  // Member 5 is added as a learner that never runs, then removed: no voter changes.
  ok(await runCli(['member', 'add', '5', '127.0.0.1:1', '--log', addr(1)]), 'member add 5');
  assert.deepEqual(app.changes.slice(before).map((c) => [c.change.kind, c.ifEpoch]), [['add', epoch]]);
  assert.equal(app.writer.state, 'elected');
  // The application's own client: its writer makes the change directly (no offer, no relay).
  const c = await app.log.members.remove(5);
  assert.deepEqual(c.learners, []);
  // writer.members: that writer makes the change, whatever other writers the client holds.
  assert.deepEqual((await app.writer.members.add(6, '127.0.0.1:6')).learners.map((m) => m.id), [6]);
  assert.deepEqual((await app.writer.members.remove(6)).learners, []);
  assert.equal(app.changes.length, before + 1, 'no relayed change for the application\'s own requests');
  // Still the writer: an append goes through, and nothing was fenced.
  const p = await app.writer.append('after-b');
  assert.equal(Buffer.from((await app.log.read(p, p))[0]!.data).toString(), 'after-b');
  assert.deepEqual(app.fenced, []);
});

test('(d) a change the application\'s writer refuses comes back as the error the asker would get otherwise', async () => {
  const asker = await LogClient.connect([addr(1), addr(2)], { waitForQuorum: true });
  try {
    const members = new Members(asker as LogClient<unknown>, () => undefined);
    const epoch = (await asker.configuration()).epoch;
    const before = app.changes.length;
    // ifEpoch passed: ConfigChangedError, the CLI's exit 4.
    const stale = members.carryOut({ id: randomUUID(), ifEpoch: epoch - 1, change: { kind: 'add', member: { id: 6, address: '127.0.0.1:2' } } });
    await assert.rejects(stale, (e: unknown) => e instanceof ConfigChangedError && exitStatusFor(e) === 4);
    // An unknown member: ChangeRefusedError with its reason, exit 1.
    const unknown = members.carryOut({ id: randomUUID(), ifEpoch: epoch, change: { kind: 'remove', id: 9 } });
    await assert.rejects(unknown, (e: unknown) => e instanceof ChangeRefusedError && e.reason === 'unknown-member' && exitStatusFor(e) === 1);
    assert.equal(app.changes.length, before + 2, 'the application\'s writer was asked, and refused');
    assert.equal((await asker.configuration()).epoch, epoch, 'nothing was changed');
    assert.equal(app.writer.state, 'elected');
  } finally {
    await asker.close();
  }
});

/** A request the application's writer carried out: (c) asks for it again with no writer active. */
let carried: { request: ChangeRequest; epoch: number } | undefined;

test('(e) a change asked through the relay by a library client is carried by the application\'s writer', async () => {
  const asker = await LogClient.connect([addr(2)], { waitForQuorum: true });
  try {
    const epoch = (await asker.configuration()).epoch;
    const request: ChangeRequest = { id: randomUUID(), ifEpoch: epoch, change: { kind: 'add', member: { id: 7, address: '127.0.0.1:4' } } };
    const c = await new Members(asker as LogClient<unknown>, () => undefined).carryOut(request);
    assert.equal(c.epoch, epoch + 1);
    assert.deepEqual(c.learners.map((m) => m.id), [7]);
    assert.equal(app.changes.at(-1)?.id, request.id);
    carried = { request, epoch: epoch + 1 };
  } finally {
    await asker.close();
  }
});

test('(c) with no writer active the CLI elects its own, as before the hand-off; a request made already is not made twice (ifEpoch)', async () => {
  await app.writer.resign();
  const before = app.changes.length;
  ok(await runCli(['member', 'remove', '7', '--log', addr(1)]), 'member remove 7');
  ok(await runCli(['member', 'add', '8', '127.0.0.1:3', '--log', addr(1)]), 'member add 8');
  ok(await runCli(['member', 'remove', '8', '--log', addr(2)]), 'member remove 8');
  assert.equal(app.changes.length, before, 'no writer of the application took them');
  const cfg = await app.log.configuration();
  assert.deepEqual(cfg.learners, []);

  // The race of a withdrawn hand-off: a writer this asker could not see carried the request, and the asker
  // elects its own writer with the same request. Its ifEpoch has passed, so it is refused, not made again;
  // the asker finds its id on the configuration it made and reports that one.
  const asker = await LogClient.connect([addr(1)], { waitForQuorum: true });
  try {
    const again = await new Members(asker as LogClient<unknown>, () => undefined).carryOut(carried!.request);
    assert.equal(again.epoch, carried!.epoch, 'the configuration the request made the first time');
    assert.equal((await asker.configuration()).epoch, cfg.epoch, 'nothing was changed the second time');
  } finally {
    await asker.close();
  }
  // The log goes on with a new writer.
  const w = await app.log.writer();
  await w.append('after-c');
  await w.resign();
});
