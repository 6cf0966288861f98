// Membership changes under mutual TLS (R15's first half, docs/reconfiguration.md step 5): an admin
// certificate adds a member; a plain client certificate is refused with one clear error before anything
// is sent (and the replica would refuse its config write and its installing promise anyway:
// test/server/admission.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/log-client.js';
import { ChangeRefusedError } from '../../src/core/errors.js';
import { useTlsReplica } from './one-replica.js';

const tls = useTlsReplica('members', 2);

test('with TLS a plain client certificate may not change members; an admin certificate may', async () => {
  const app = await LogClient.connect([tls.replica.address], { tls: tls.certs.material('client-app') });
  try {
    await assert.rejects(app.members.add(2, `127.0.0.1:${tls.ports[1]}`), (e: unknown) => e instanceof ChangeRefusedError && e.reason === 'not-admin' && /admin certificate/.test(e.message));
    assert.equal((await app.configuration()).epoch, 0, 'nothing changed');
  } finally {
    await app.close();
  }
  const admin = await LogClient.connect([tls.replica.address], { tls: tls.certs.material('client-admin') });
  try {
    const c = await admin.members.add(2, `127.0.0.1:${tls.ports[1]}`);
    assert.equal(c.epoch, 1);
    assert.deepEqual(c.learners.map((m) => m.id), [2]);
    const w = await admin.writer();
    assert.ok((await w.append('after the change')) >= 0, 'the log goes on');
    await w.resign();
  } finally {
    await admin.close();
  }
});
