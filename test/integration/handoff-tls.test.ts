/**
 * The hand-off under mutual TLS (docs/reconfiguration.md R12, R15): an
 * admin's change is carried out by the application's writer, whether that
 * writer holds an admin certificate or a plain client certificate (every
 * replica holds the admin's request, so the acceptors take the plain writer's
 * config write and install of it: R15's acceptor checks). Before those checks
 * a plain writer was handed nothing, the relay answered no-writer, and the
 * asker elected a writer of its own, fencing the application's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/log-client.js';
import type { ChangeEvent } from '../../src/client/events.js';
import { useTlsReplica } from '../tls/one-replica.js';

const tls = useTlsReplica('handoff', 3);

/** An application client with a writer, appending nothing; what it was handed. */
async function application(cert: string) {
  const log = await LogClient.connect([tls.replica.address], { tls: tls.certs.material(cert), waitForQuorum: true });
  const changes: ChangeEvent[] = [];
  log.on('change', (e) => changes.push(e));
  const writer = await log.writer();
  return { log, writer, changes };
}

test('with TLS an application writer with an admin certificate carries an admin\'s change', async () => {
  const app = await application('client-admin');
  const admin = await LogClient.connect([tls.replica.address], { tls: tls.certs.material('client-admin') });
  try {
    const c = await admin.members.add(2, `127.0.0.1:${tls.ports[1]}`);
    assert.deepEqual(c.learners.map((m) => m.id), [2]);
    assert.deepEqual(app.changes.map((e) => e.change.kind), ['add']);
    assert.equal(app.writer.state, 'elected');
    assert.ok((await app.writer.append('after the change')) >= 0, 'still the writer');
  } finally {
    await admin.close();
    await app.writer.resign().catch(() => undefined);
    await app.log.close();
  }
});

test('with TLS an application writer with a plain client certificate carries an admin\'s change too, and is not fenced', async () => {
  const app = await application('client-app');
  const fenced: Error[] = [];
  app.log.on('fenced', (e) => fenced.push(e.error));
  const admin = await LogClient.connect([tls.replica.address], { tls: tls.certs.material('client-admin') });
  try {
    // The plain writer asks for changes at its next tick after its election.
    await new Promise((r) => setTimeout(r, 300));
    const c = await admin.members.remove(2);
    assert.deepEqual(c.learners, []);
    assert.deepEqual(app.changes.map((e) => e.change.kind), ['remove'], 'the plain writer carried the change');
    assert.equal(app.writer.state, 'elected');
    assert.ok((await app.writer.append('after the change')) >= 0, 'still the writer');
    assert.deepEqual(fenced, [], 'the application\'s writer was fenced');
  } finally {
    await admin.close();
    await app.writer.resign().catch(() => undefined);
    await app.log.close();
  }
});
