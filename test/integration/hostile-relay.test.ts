/**
 * The change relay against a hostile connection (docs/reconfiguration.md R12,
 * src/server/change-relay.ts): an application's writer takes changes from a
 * replica; another client connection names the same proposal (the holder's
 * proposal is no secret: /status shows it) and
 *   (a) asks for the held changes again and again: it is refused, never
 *       handed a change, and the application's writer carries it;
 *   (b) says it is done taking (`changeTake` with `done`): it was never the
 *       taker, so the relay keeps its taker, the next change is held for the
 *       application's writer and nobody elects a writer of their own (which
 *       would fence the application);
 *   (c) names an asker's change (its id: a retried or confused client, or
 *       one that saw it) and withdraws it, or offers another change under
 *       that id: the change stays the asker's, is carried by the
 *       application's writer, and nobody is fenced.
 * One in-process replica, plaintext; the TLS case is hostile-relay-tls.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { randomUUID } from 'node:crypto';
import { LogClient } from '../../src/client/log-client.js';
import { Members } from '../../src/client/members.js';
import type { ChangeRequest } from '../../src/core/writer.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from './helpers.js';
import { closeAll, hostileLink, takingApplication } from './hostile-helpers.js';

let root: string;
let replica: Replica;
let ports: number[];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'replog-hostile-relay-'));
  ports = await freePorts(3);
  replica = await startReplica({ id: 1, dir: join(root, 'r1'), listen: `127.0.0.1:${ports[0]}`, members: `1=127.0.0.1:${ports[0]}`, logger: pino({ level: 'silent' }) });
  await replica.ready;
});

after(async () => {
  await replica.stop();
  rmSync(root, { recursive: true, force: true });
});

/** The proposal of the replica's promise (what /status shows as the writer's). */
const holderProposal = (): number => replica.host.writerView()?.proposal ?? 0;

const application = () => takingApplication(replica.address);

test('(a) another connection naming the holder\'s proposal is handed nothing; the application\'s writer carries the change', async () => {
  const app = await application();
  const hostile = await hostileLink(replica.address);
  const asker = await LogClient.connect([replica.address], { waitForQuorum: true });
  try {
    hostile.hammer(holderProposal, 10);
    await waitFor('the hostile connection is answered', () => hostile.replies.length > 5);
    const adding = asker.members.add(2, `127.0.0.1:${ports[1]}`);
    // Whichever comes first: the change made, or the hostile connection handed it.
    await Promise.race([adding.catch(() => undefined), waitFor('hostile handed a change', () => hostile.handed().length > 0, 60_000)]);
    assert.deepEqual(hostile.handed(), [], 'the hostile connection was handed a change');
    const c = await adding;
    assert.deepEqual(c.learners.map((m) => m.id), [2]);
    assert.deepEqual(app.changes.map((e) => e.change.kind), ['add'], 'the application\'s writer carried it');
  } finally {
    await closeAll(app, asker, hostile);
  }
  assert.deepEqual(app.fenced, []);
});

test('(b) another connection\'s "done" does not unseat the taker: the next change is still carried by the application\'s writer, which is not fenced', async () => {
  const app = await application();
  const hostile = await hostileLink(replica.address);
  const asker = await LogClient.connect([replica.address], { waitForQuorum: true });
  try {
    hostile.hammer(holderProposal, 5, true);
    await waitFor('the hostile connection is answered', () => hostile.replies.length > 5);
    const c = await asker.members.add(3, `127.0.0.1:${ports[2]}`);
    assert.ok(c.learners.some((m) => m.id === 3));
    assert.ok(app.changes.some((e) => e.change.kind === 'add' && e.change.member.id === 3), 'the application\'s writer carried it, no writer of the asker\'s');
    assert.equal(app.writer.state, 'elected');
    assert.deepEqual(hostile.handed(), []);
  } finally {
    await closeAll(app, asker, hostile);
  }
  assert.deepEqual(app.fenced, [], 'the application\'s writer was fenced');
});

test('(c) another connection naming an asker\'s change cannot withdraw it or put another change under its id', async () => {
  const app = await application();
  const hostile = await hostileLink(replica.address);
  const asker = await LogClient.connect([replica.address], { waitForQuorum: true });
  try {
    const epoch = (await asker.configuration()).epoch;
    const request: ChangeRequest = { id: randomUUID(), ifEpoch: epoch, change: { kind: 'add', member: { id: 5, address: '127.0.0.1:5' } } };
    const other: ChangeRequest = { ...request, change: { kind: 'remove', id: 1 } };
    // The asker's offer is held first (its poll, by carryOut below, comes on the same connection).
    assert.equal((await asker.offerChange(1, request, false, 2_000))?.state, 'held');
    const withdrawn = hostile.offers(request, true, 5);
    const hostileOther = await hostileLink(replica.address);
    hostileOther.offers(other, false, 7);
    const c = await new Members(asker as LogClient<unknown>, () => undefined).carryOut(request);
    assert.ok(c.learners.some((m) => m.id === 5));
    assert.ok(app.changes.some((e) => e.id === request.id && e.change.kind === 'add'), 'the application\'s writer carried the asker\'s change');
    assert.ok(!app.changes.some((e) => e.change.kind === 'remove'), 'the other change under that id was never carried');
    assert.ok(withdrawn.length > 0);
    assert.equal(app.writer.state, 'elected');
    await hostileOther.stop();
  } finally {
    await closeAll(app, asker, hostile);
  }
  assert.deepEqual(app.fenced, [], 'the application\'s writer was fenced');
});
