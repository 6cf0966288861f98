/**
 * R15's configVouch (docs/reconfiguration.md R15, second review): a replica
 * that holds a config entry accepted above its head tells its peers, so that
 * a peer that never held the admin's request (it expired, the peer restarted,
 * a withdrawal revoked it) takes a writer's re-proposal of that very entry at
 * that position from a plain certificate. Here an admin's writer has the entry
 * accepted at replica 1 only; replica 2 never saw the request. Before, the
 * plain writer's write of it closes its connection at replica 2; once replica 1
 * has vouched (every timing.peerStateMs), replica 2 answers it. Two replicas in
 * this process under mutual TLS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChange } from '../../src/core/membership.js';
import type { Message } from '../../src/core/types.js';
import { storedChain } from '../../src/storage/stored-config.js';
import { waitFor } from './helpers.js';
import { rawTlsClient, twoTlsReplicas } from './raw-tls-client.js';

const { certs, addr, replicas } = await twoTlsReplicas('replog-tls-vouch-');

const raw = rawTlsClient;

test('a config entry pending at one replica is vouched for: another replica then takes a plain writer\'s re-proposal of it without the request', async () => {
  await Promise.all(replicas.map((r) => r.ready));
  const [r1, r2] = [replicas[0]!, replicas[1]!];
  const c0 = storedChain(r2.host.store.metadata(), []).at(-1)!;
  const change = { kind: 'add' as const, member: { id: 3, address: addr(3) } };
  const made = applyChange(c0, change, { ifEpoch: c0.epoch, changeId: 'never-offered' });
  assert.ok(made.ok);
  const at = Math.max(r1.host.store.end(), r2.host.store.end()) + 1;
  const write = (proposal: number): Message => ({ type: 'write', rid: 3, proposal, from: at, named: [], actions: [{ kind: 'config', config: made.next }] });

  const before = await raw(r2.address, certs.material('client-app'));
  before.link.send(write(1));
  await waitFor('replica 2 closes the plain connection: no admin asked, nobody vouched', () => before.closed.length > 0, 10_000);
  await before.link.close();

  // An admin's writer (no request needed: the admin role) has the entry accepted at replica 1 only, then stops.
  const admin = await raw(r1.address, certs.material('client-admin'));
  admin.link.send(write(1));
  await waitFor('replica 1 accepts the admin\'s config write', () => admin.replies.some((m) => m.type === 'writeReply') || admin.closed.length > 0, 10_000);
  assert.deepEqual(admin.closed, []);
  assert.equal((admin.replies[0] as { outcome?: string }).outcome, 'accept');
  await admin.link.close();

  // The next writer, with a plain certificate, re-proposes it at its position (R5) under its own ballot.
  let answered: Message | undefined;
  await waitFor('replica 2 takes the re-proposal once replica 1 has vouched for the entry', async () => {
    const plain = await raw(r2.address, certs.material('client-app'));
    try {
      plain.link.send(write(2));
      await waitFor('an answer or a close', () => plain.replies.length > 0 || plain.closed.length > 0, 10_000);
      answered = plain.replies[0];
      return answered !== undefined;
    } finally {
      await plain.link.close();
    }
  }, 20_000);
  assert.equal(answered!.type, 'writeReply');
  assert.equal((answered as { outcome?: string }).outcome, 'accept');
});
