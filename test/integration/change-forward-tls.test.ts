/**
 * R15's changeForward between replicas (docs/reconfiguration.md R15): an
 * admin offers a change to replica 1 only; replica 1 forwards it over its peer
 * link, and replica 2, which the admin never reached, then takes a plain
 * writer's config write of that request applied to its predecessor. Before the
 * offer the same write closes the plain connection there. Two replicas in this
 * process under mutual TLS.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { applyChange } from '../../src/core/membership.js';
import type { Message } from '../../src/core/types.js';
import type { ChangeRequest } from '../../src/core/writer.js';
import { PeerLink } from '../../src/net/peer-link.js';
import { CHANGE_CODES, encodeChangeFrame } from '../../src/net/change-codec.js';
import { TlsCredentials, type TlsOptions } from '../../src/net/tls.js';
import { startReplica } from '../../src/server/replica-server.js';
import { storedChain } from '../../src/storage/stored-config.js';
import { freePorts, waitFor } from './helpers.js';
import { makeTestCerts } from '../tls/fixture.js';

const root = mkdtempSync(join(tmpdir(), 'replog-tls-forward-'));
const certs = makeTestCerts(join(root, 'certs'));
const ports = await freePorts(3);
const addr = (i: number) => `127.0.0.1:${ports[i - 1]}`;
const members = `1=${addr(1)},2=${addr(2)}`;
const replicas = await Promise.all([1, 2].map((id) => startReplica({ id, dir: join(root, `r${id}`), listen: addr(id), members, logger: pino({ level: 'silent' }), tls: certs.material(`replica-${id}`) })));
after(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  rmSync(root, { recursive: true, force: true });
});

async function raw(address: string, material: TlsOptions) {
  const replies: Message[] = [];
  const closed: string[] = [];
  let connected!: () => void;
  const up = new Promise<void>((r) => (connected = r));
  const link = new PeerLink({
    address,
    clusterId: '',
    tls: new TlsCredentials(material),
    onMessage: (m) => replies.push(m),
    onConnect: () => connected(),
    onDisconnect: (reason) => closed.push(reason),
    extension: { codes: CHANGE_CODES, onFrame: () => undefined },
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  await up;
  return { link, replies, closed };
}

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
