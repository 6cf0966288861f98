/**
 * The change relay under mutual TLS against a connection with a plain client
 * certificate (docs/reconfiguration.md R12, R15; src/server/change-relay.ts):
 * the application's writer holds an admin certificate and takes changes; the
 * plain connection names the writer's proposal in takes of its own. It may
 * carry nothing, so it is handed nothing, and it must change nothing either:
 * before, its take unseated the admin writer as the relay's taker, the
 * admin's offer was answered no-writer, and the admin's client elected a
 * writer of its own, fencing the application's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LogClient } from '../../src/client/log-client.js';
import type { ChangeEvent } from '../../src/client/events.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from './helpers.js';
import { makeTestCerts, type TestCerts } from '../tls/fixture.js';
import { hostileLink } from './hostile-helpers.js';

let root: string;
let certs: TestCerts;
let replica: Replica;
let ports: number[];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'replog-tls-hostile-relay-'));
  certs = makeTestCerts(join(root, 'certs'));
  ports = await freePorts(2);
  replica = await startReplica({ id: 1, dir: join(root, 'r1'), listen: `127.0.0.1:${ports[0]}`, members: `1=127.0.0.1:${ports[0]}`, logger: pino({ level: 'silent' }), tls: certs.material('replica-1') });
  await replica.ready;
});

after(async () => {
  await replica.stop();
  rmSync(root, { recursive: true, force: true });
});

test('with TLS a plain certificate naming the admin writer\'s proposal is handed nothing and does not unseat it: the admin\'s change is carried by that writer, unfenced', async () => {
  const log = await LogClient.connect([replica.address], { tls: certs.material('client-admin'), waitForQuorum: true });
  const changes: ChangeEvent[] = [];
  const fenced: Error[] = [];
  log.on('change', (e) => changes.push(e));
  log.on('fenced', (e) => fenced.push(e.error));
  const writer = await log.writer();
  await new Promise((r) => setTimeout(r, 300));
  const plain = await hostileLink(replica.address, certs.material('client-app'));
  const admin = await LogClient.connect([replica.address], { tls: certs.material('client-admin'), waitForQuorum: true });
  try {
    plain.hammer(() => replica.host.writerView()?.proposal ?? 0, 5);
    await waitFor('the plain connection is answered', () => plain.replies.length > 5);
    const c = await admin.members.add(2, `127.0.0.1:${ports[1]}`);
    assert.deepEqual(c.learners.map((m) => m.id), [2]);
    assert.deepEqual(plain.handed(), [], 'the plain certificate was handed a change');
    assert.deepEqual(changes.map((e) => e.change.kind), ['add'], 'the application\'s writer carried the change');
    assert.equal(writer.state, 'elected');
  } finally {
    await plain.stop();
    await admin.close();
    await writer.resign().catch(() => undefined);
    await log.close();
  }
  assert.deepEqual(fenced, [], 'the application\'s writer was fenced');
});
