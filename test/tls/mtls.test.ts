// Mutual TLS on the replica port (issue 15), in this process: three replicas with TLS, clients with good and
// bad certificates. Each refusal is clear on both sides: the client's error says why, and the replica counts
// it in replog_connections_refused_total by reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LogClient } from '../../src/client/log-client.js';
import { ReplogError } from '../../src/core/errors.js';
import { ConnectionRefusedError } from '../../src/net/errors.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import type { TlsOptions } from '../../src/net/tls.js';
import { freePorts, waitFor } from '../integration/helpers.js';
import { makeTestCerts, type TestCerts } from './fixture.js';

let root: string;
let certs: TestCerts;
let replicas: Replica[];
let addresses: string[];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'replog-tls-'));
  certs = makeTestCerts(join(root, 'certs'));
  const ports = await freePorts(3);
  addresses = ports.map((p) => `127.0.0.1:${p}`);
  const members = addresses.map((a, i) => `${i + 1}=${a}`).join(',');
  replicas = await Promise.all(
    [1, 2, 3].map((id) =>
      startReplica({ id, dir: join(root, `r${id}`), listen: addresses[id - 1]!, members, logger: pino({ level: 'silent' }), tls: certs.material(`replica-${id}`) }),
    ),
  );
  await waitFor('the cluster VOTING', () => replicas.every((r) => r.host.status === 'VOTING'), 60_000);
});

after(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  rmSync(root, { recursive: true, force: true });
});

/** The replica's count of refused connections for `reason` (inbound). */
async function refusedCount(r: Replica, reason: string): Promise<number> {
  const text = await metricsOf(r);
  const m = new RegExp(`^replog_connections_refused_total\\{reason="${reason}",direction="inbound"[^}]*\\} (\\d+)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

/** The metrics text of a replica (through the registry the admin endpoint serves). */
async function metricsOf(r: Replica): Promise<string> {
  return r.metrics.registry.metrics();
}

/** Connects with `tls` (or plaintext) and asks for the end of the log: the error it fails with. */
async function refusal(tls: TlsOptions | undefined): Promise<ReplogError> {
  const log = await LogClient.connect(addresses, tls === undefined ? {} : { tls });
  try {
    await log.ending();
  } catch (err) {
    assert.ok(err instanceof ReplogError, String(err));
    return err;
  } finally {
    await log.close();
  }
  assert.fail('the connection was not refused');
}

test('a client with a certificate of the cluster appends and reads over mutual TLS', async () => {
  await using log = await LogClient.connect(addresses, { tls: certs.material('client-app') });
  const w = await log.writer();
  const p = await w.append('over tls');
  assert.deepEqual((await log.read(p, p)).map((e) => Buffer.from(e.data).toString()), ['over tls']);
});

test('refused clearly, and counted: plaintext, another CA, expired, no replog name, no certificate', async () => {
  // clientReason: the reason in the error's cause; `refused-by-peer` when the replica refused and said why in words.
  const cases: { name: string; tls: TlsOptions | undefined; message: RegExp; reason: string; clientReason: string }[] = [
    { name: 'plaintext', tls: undefined, message: /requires TLS/, reason: 'plaintext', clientReason: 'refused-by-peer' },
    // Both sides refuse: the client does not trust the replica, and the replica does not trust the client.
    { name: 'a certificate from another CA', tls: certs.material('other-ca-app'), message: /the replica's certificate is not signed by this cluster's CA/, reason: 'unknown-ca', clientReason: 'unknown-ca' },
    { name: 'an expired certificate', tls: certs.material('expired-app'), message: /has expired/, reason: 'expired', clientReason: 'refused-by-peer' },
    { name: 'a certificate naming no client', tls: certs.material('noname'), message: /names no replog client/, reason: 'no-identity', clientReason: 'refused-by-peer' },
  ];
  for (const c of cases) {
    const before = await refusedCount(replicas[0]!, c.reason);
    const err = await refusal(c.tls);
    assert.match(err.message, c.message, c.name);
    assert.match(err.message, /refused/, c.name);
    assert.doesNotMatch(err.message, /\n/, `${c.name}: one line`);
    // A program tells a refusal from an outage by the cause, without parsing the message.
    assert.ok(err.cause instanceof ConnectionRefusedError, `${c.name}: the cause is a ConnectionRefusedError`);
    assert.equal(err.cause.code, 'CONNECTION_REFUSED');
    assert.deepEqual(err.cause.refusals.map((r) => r.address).sort(), [...addresses].sort(), `${c.name}: one refusal per address`);
    for (const r of err.cause.refusals) {
      assert.equal(r.reason, c.clientReason, `${c.name}: the reason`);
      assert.match(r.message, c.message, `${c.name}: the message`);
    }
    await waitFor(`${c.name} counted`, async () => (await refusedCount(replicas[0]!, c.reason)) > before);
  }
});

test('TLS material that does not fit together is refused before connecting, in one line', async () => {
  const good = certs.material('client-app');
  await assert.rejects(LogClient.connect(addresses, { tls: { ...certs.material('other-ca-app'), ca: good.ca } }), /not signed by the CA given/);
  await assert.rejects(LogClient.connect(addresses, { tls: { ...good, key: certs.material('client-admin').key } }), /key does not match the certificate/);
  // A CA file with two CAs (while the CA is rotated) is fine, and the client still works.
  const bundle = `${String(certs.material('other-ca-app').ca)}\n${String(good.ca)}`;
  await using log = await LogClient.connect(addresses, { tls: { ...good, ca: bundle } });
  assert.ok((await log.ending()) >= -1);
});

test('a TLS client on a plaintext replica is refused on both sides', async () => {
  const [port] = await freePorts(1);
  const address = `127.0.0.1:${port}`;
  const plain = await startReplica({ id: 1, dir: join(root, 'plain'), listen: address, members: { 1: address }, logger: pino({ level: 'silent' }) });
  try {
    assert.equal(plain.tls, false);
    const log = await LogClient.connect([address], { tls: certs.material('client-app') });
    await assert.rejects(log.ending(), /does the replica run without TLS/);
    await log.close();
    await waitFor('counted', async () => /reason="tls-on-plaintext-port",direction="inbound"[^}]*\} [1-9]/.test(await metricsOf(plain)));
  } finally {
    await plain.stop();
  }
});

test('a replica refuses to start with a certificate for another member', async () => {
  const [port] = await freePorts(1);
  const address = `127.0.0.1:${port}`;
  await assert.rejects(
    startReplica({ id: 1, dir: join(root, 'wrong'), listen: address, members: { 1: address }, logger: pino({ level: 'silent' }), tls: certs.material('replica-2') }),
    /this is replica 1, but its certificate names replica 2/,
  );
});

test("a replica's link to a peer refuses an address whose certificate names another member", async () => {
  const { PeerLink } = await import('../../src/net/peer-link.js');
  const { TlsCredentials } = await import('../../src/net/tls.js');
  let refused = '';
  const link = new PeerLink({
    address: addresses[0]!,
    clusterId: replicas[0]!.clusterId,
    role: 'replica',
    replicaId: 3,
    expectReplicaId: 2,
    tls: new TlsCredentials(certs.material('replica-3')),
    onMessage: () => {},
    onRefused: (_reason, message) => (refused ||= message),
  });
  try {
    await waitFor('the refusal', () => refused !== '');
    assert.match(refused, /the certificate at this address names replica 1, expected member 2/);
    assert.equal(link.connected, false);
  } finally {
    await link.close();
  }
});

test('a replica that is down is no refusal: the client waits for it as without TLS, and fails with no quorum', async () => {
  const [port] = await freePorts(1);
  const log = await LogClient.connect([`127.0.0.1:${port}`], { tls: certs.material('client-app') });
  try {
    const err = await log.ending().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ReplogError);
    assert.equal(err.code, 'NO_QUORUM', err.message);
  } finally {
    await log.close();
  }
});
