/**
 * R15's acceptor checks against a hostile connection with a plain client
 * certificate (docs/reconfiguration.md R15; src/server/admission.ts
 * refuseNonAdminConfig). A replica under mutual TLS holds the changes admins
 * asked for (an admin's changeOffer, or a member's changeForward) and takes a
 * config write from a connection without the admin role only if its entry is
 * such a request applied to its predecessor. Refused (the connection closed,
 * nothing stored): a config write with a made-up changeId; one with the id of
 * a request an admin asked for but another configuration; a changeForward
 * from a client (it authorises nothing); an install of an entry the replica
 * did not accept and holds no request for. Taken: the admin's request applied
 * to the predecessor (answered by the acceptor, here rejected for a stale
 * ballot, on a connection that stays open). The old code closed every config
 * write of a plain certificate, so the last case failed there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChange, type Configuration } from '../../src/core/membership.js';
import type { Message } from '../../src/core/types.js';
import type { ChangeRequest } from '../../src/core/writer.js';
import { LogClient } from '../../src/client/log-client.js';
import { encodeChangeFrame } from '../../src/net/change-codec.js';
import type { TlsOptions } from '../../src/net/tls.js';
import { storedChain } from '../../src/storage/stored-config.js';
import { waitFor } from './helpers.js';
import { rawTlsClient } from './raw-tls-client.js';
import { useTlsReplica } from '../tls/one-replica.js';

const tls = useTlsReplica('hostile-config', 3);

/** A raw client connection to the replica: what it was answered, and whether the replica closed it. */
const raw = (material: TlsOptions) => rawTlsClient(tls.replica.address, material);

const chain = () => storedChain(tls.replica.host.store.metadata(), []);
const configWrite = (config: Configuration, proposal = 1): Message => ({
  type: 'write', rid: 7, proposal, from: tls.replica.host.store.end() + 1, named: [], actions: [{ kind: 'config', config }],
});

async function refused(what: string, msg: Message | Buffer): Promise<void> {
  const c = await raw(tls.certs.material('client-app'));
  try {
    if (Buffer.isBuffer(msg)) c.link.sendFrame(msg);
    else c.link.send(msg);
    await waitFor(`${what}: the connection is closed`, () => c.closed.length > 0, 10_000);
    assert.deepEqual(c.replies, [], `${what}: answered`);
  } finally {
    await c.link.close();
  }
  assert.equal(chain().length, 1, `${what}: the chain grew`);
  const last = tls.replica.host.store.action(tls.replica.host.store.end());
  assert.ok(!(typeof last === 'object' && last.kind === 'config'), `${what}: a config entry was stored`);
}

test('with TLS a plain certificate makes no configuration no admin asked for; the admin\'s request applied to its predecessor is taken', async () => {
  const app = await LogClient.connect([tls.replica.address], { tls: tls.certs.material('client-app'), waitForQuorum: true });
  // Two writers elected and resigned: the replica's promise is above 1, so the control write below (proposal
  // 1) is a stale ballot, and no writer takes the admin's offer (it is recorded as authorised all the same).
  for (let i = 0; i < 2; i++) {
    const w = await app.writer();
    await w.append(`before-${i}`);
    await w.resign();
  }
  assert.ok((tls.replica.host.writerView()?.proposal ?? 0) > 1);
  const c0 = chain().at(-1)!;
  const request: ChangeRequest = { id: 'admin-asked-1', ifEpoch: 0, change: { kind: 'add', member: { id: 2, address: `127.0.0.1:${tls.ports[1]}` } } };
  const made = applyChange(c0, request.change, { ifEpoch: request.ifEpoch, changeId: request.id });
  assert.ok(made.ok);
  const asked = made.next;
  try {
    // Nothing authorised yet: the admin's very configuration is refused too.
    await refused('a config write before any admin asked', configWrite(asked));
    await refused('a config write with a made-up changeId', configWrite({ ...asked, changeId: 'made-up' }));
    // A changeForward from a client connection (not a replica) closes it and authorises nothing.
    await refused('a changeForward from a client', encodeChangeFrame({ type: 'changeForward', request }));
    await refused('a config write after a client\'s changeForward', configWrite(asked));

    // An admin asks for the change (no writer takes it here: the relay answers no-writer, the request is held as authorised).
    const admin = await raw(tls.certs.material('client-admin'));
    admin.link.sendFrame(encodeChangeFrame({ type: 'changeOffer', rid: 1, request }));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(admin.closed, [], 'the admin\'s offer was taken');
    await admin.link.close();

    await refused('the admin\'s changeId with another configuration', configWrite({ ...asked, learners: [{ id: 3, address: `127.0.0.1:${tls.ports[2]}` }], nextId: 4 }));
    await refused('the admin\'s changeId with a configuration of another epoch', configWrite({ ...asked, epoch: 2 }));
    const placed = { ...asked, position: tls.replica.host.store.end() + 5, floor: 3 };
    await refused('an install of an entry not accepted here, of no request held', { type: 'promise', rid: 9, proposal: 1, install: { ...placed, changeId: 'made-up' } });

    // Taken: the admin's request applied to epoch 0. The acceptor answers it (a stale ballot: rejected), and the connection stays open.
    const plain = await raw(tls.certs.material('client-app'));
    try {
      plain.link.send(configWrite(asked, 1));
      await waitFor('the acceptor answers the plain writer\'s config write', () => plain.replies.length > 0 || plain.closed.length > 0, 10_000);
      assert.deepEqual(plain.closed, [], 'the connection was closed');
      assert.equal(plain.replies[0]!.type, 'writeReply');
      assert.equal((plain.replies[0] as { outcome: string }).outcome, 'reject');
    } finally {
      await plain.link.close();
    }
    assert.equal(chain().length, 1, 'nothing was chosen');
  } finally {
    await app.close();
  }
});
