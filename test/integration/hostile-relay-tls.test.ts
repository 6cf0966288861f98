/**
 * The change relay under mutual TLS against a connection with a plain client
 * certificate (docs/reconfiguration.md R12, R15; src/server/change-relay.ts):
 * the application's writer holds an admin certificate and takes changes; the
 * plain connection names the writer's proposal in takes of its own. The
 * taker is bound to its connection, so the plain one is handed nothing and
 * changes nothing: before, its take unseated the admin writer as the relay's
 * taker, the admin's offer was answered no-writer, and the admin's client
 * elected a writer of its own, fencing the application's. (A plain
 * certificate may carry an admin's change since R15's acceptor checks, but
 * only as the relay's bound taker: handoff-tls.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/log-client.js';
import { waitFor } from './helpers.js';
import { useTlsReplica } from '../tls/one-replica.js';
import { closeAll, hostileLink, takingApplication } from './hostile-helpers.js';

const tls = useTlsReplica('hostile-relay', 2);

test('with TLS a plain certificate naming the admin writer\'s proposal is handed nothing and does not unseat it: the admin\'s change is carried by that writer, unfenced', async () => {
  const app = await takingApplication(tls.replica.address, tls.certs.material('client-admin'));
  const plain = await hostileLink(tls.replica.address, tls.certs.material('client-app'));
  const admin = await LogClient.connect([tls.replica.address], { tls: tls.certs.material('client-admin'), waitForQuorum: true });
  try {
    plain.hammer(() => tls.replica.host.writerView()?.proposal ?? 0, 5);
    await waitFor('the plain connection is answered', () => plain.replies.length > 5);
    const c = await admin.members.add(2, `127.0.0.1:${tls.ports[1]}`);
    assert.deepEqual(c.learners.map((m) => m.id), [2]);
    assert.deepEqual(plain.handed(), [], 'the plain certificate was handed a change');
    assert.deepEqual(app.changes.map((e) => e.change.kind), ['add'], 'the application\'s writer carried the change');
    assert.equal(app.writer.state, 'elected');
  } finally {
    await closeAll(app, admin, plain);
  }
  assert.deepEqual(app.fenced, [], 'the application\'s writer was fenced');
});
