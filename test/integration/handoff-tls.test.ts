/**
 * The hand-off under mutual TLS (docs/reconfiguration.md R12, R15): an
 * admin's change is carried out by the application's writer when that writer
 * holds an admin certificate; a writer with a plain client certificate is
 * handed nothing (its config write would be refused: R15's acceptor checks
 * are not built), the relay answers no-writer, and the asker elects a writer
 * of its own at once, as before the hand-off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/log-client.js';
import type { ChangeEvent } from '../../src/client/events.js';
import { HANDOFF_TIMING } from '../../src/client/handoff.js';
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

test('with TLS an application writer with a plain client certificate is handed nothing: the admin\'s client elects its own at once', async () => {
  const app = await application('client-app');
  const admin = await LogClient.connect([tls.replica.address], { tls: tls.certs.material('client-admin') });
  try {
    const t0 = performance.now();
    const c = await admin.members.remove(2);
    assert.deepEqual(c.learners, []);
    assert.ok(performance.now() - t0 < HANDOFF_TIMING.takeWaitMs, 'no-writer at once, not a held change waited for');
    assert.deepEqual(app.changes, [], 'the plain writer was handed nothing');
  } finally {
    await admin.close();
    await app.writer.resign().catch(() => undefined);
    await app.log.close();
  }
});
