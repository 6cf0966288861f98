/**
 * R15's changeForward between replicas (docs/reconfiguration.md R15): an
 * admin offers a change to replica 1 only; replica 1 forwards it over its peer
 * link, and replica 2, which the admin never reached, then takes a plain
 * writer's config write of that request applied to its predecessor. Before the
 * offer the same write closes the plain connection there. Two replicas in this
 * process under mutual TLS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChange } from '../../src/core/membership.js';
import type { Message } from '../../src/core/types.js';
import type { ChangeRequest } from '../../src/core/writer.js';
import { encodeChangeFrame } from '../../src/net/change-codec.js';
import { storedChain } from '../../src/storage/stored-config.js';
import { waitFor } from './helpers.js';
import { rawTlsClient, twoTlsReplicas } from './raw-tls-client.js';

const { certs, addr, replicas } = await twoTlsReplicas('replog-tls-forward-');

const raw = rawTlsClient;

test('an admin\'s change offered to one replica is forwarded: another replica then takes a plain writer\'s config write of it', async () => {
  await Promise.all(replicas.map((r) => r.ready));
  const r2 = replicas[1]!;
  const c0 = storedChain(r2.host.store.metadata(), []).at(-1)!;
  const request: ChangeRequest = { id: 'forwarded-1', ifEpoch: c0.epoch, change: { kind: 'add', member: { id: 3, address: addr(3) } } };
  const made = applyChange(c0, request.change, { ifEpoch: request.ifEpoch, changeId: request.id });
  assert.ok(made.ok);
  const write = (): Message => ({ type: 'write', rid: 3, proposal: 1, from: r2.host.store.end() + 1, named: [], actions: [{ kind: 'config', config: made.next }] });

  const before = await raw(r2.address, certs.material('client-app'));
  before.link.send(write());
  await waitFor('replica 2 closes the plain connection: no admin asked yet', () => before.closed.length > 0, 10_000);
  assert.deepEqual(before.replies, []);
  await before.link.close();

  const admin = await raw(replicas[0]!.address, certs.material('client-admin'));
  admin.link.sendFrame(encodeChangeFrame({ type: 'changeOffer', rid: 1, request }));
  try {
    // One hop on replica 1's link to replica 2: given a second.
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(admin.closed, [], 'the admin\'s offer was taken');
    const after = await raw(r2.address, certs.material('client-app'));
    try {
      after.link.send(write());
      await waitFor('replica 2 answers the plain writer (or closes its connection)', () => after.replies.length > 0 || after.closed.length > 0, 10_000);
      assert.deepEqual(after.closed, [], 'replica 2 closed the plain connection: it did not hold the forwarded request');
      assert.equal(after.replies[0]!.type, 'writeReply');
    } finally {
      await after.link.close();
    }
  } finally {
    await admin.link.close();
  }
});
