// Roles under mutual TLS (issue 15): the hello is bound to the certificate where the replica decodes it.
// A client certificate cannot speak as a replica (no forged promise or write "from" a peer), replica 2's
// certificate cannot speak as member 1, and the refused side is told why in a refusal frame.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import pino from 'pino';
import type { Message } from '../../src/core/types.js';
import { encodeFrame } from '../../src/net/codec.js';
import { FrameDecoder } from '../../src/net/frame.js';
import { WIRE_VERSION, decodeHello, decodeRefusal, encodeHelloFrame } from '../../src/net/hello.js';
import type { TlsOptions } from '../../src/net/tls.js';
import { refuseMessage } from '../../src/server/admission.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from '../integration/helpers.js';
import { makeTestCerts, type TestCerts } from './fixture.js';

let root: string;
let certs: TestCerts;
let replica: Replica;
let port: number;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'replog-roles-'));
  certs = makeTestCerts(join(root, 'certs'));
  const ports = await freePorts(3);
  port = ports[2]!;
  const members = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  // Replica 3 alone: the others never start, which is all the handshake needs.
  replica = await startReplica({ id: 3, dir: join(root, 'r3'), listen: `127.0.0.1:${port}`, members, logger: pino({ level: 'silent' }), tls: certs.material('replica-3') });
});

after(async () => {
  await replica.stop();
  rmSync(root, { recursive: true, force: true });
});

/** What the replica answered a TLS connection that sent `bytes`: its first frame, decoded, and whether it closed. */
async function exchange(tls: TlsOptions, bytes: Buffer): Promise<{ hello?: ReturnType<typeof decodeHello>; refusal?: string; closed: boolean }> {
  const socket = connect({ host: '127.0.0.1', port, ca: tls.ca, cert: tls.cert, key: tls.key });
  const decoder = new FrameDecoder();
  const frames: Buffer[] = [];
  let closed = false;
  socket.on('data', (c: Buffer) => frames.push(...decoder.push(c)));
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  socket.once('secureConnect', () => socket.write(bytes));
  await waitFor('an answer and a close, or a hello', () => closed || frames.length > 0);
  const first = frames[0];
  if (first === undefined) return { closed };
  const refusal = decodeRefusal(first);
  if (refusal !== undefined) {
    await waitFor('the close after a refusal', () => closed);
    return { refusal, closed };
  }
  socket.destroy();
  return { hello: decodeHello(first), closed };
}

const hello = (role: 'client' | 'replica', replicaId?: number) =>
  encodeHelloFrame(role === 'client' ? { version: WIRE_VERSION, clusterId: replica.clusterId, role } : { version: WIRE_VERSION, clusterId: replica.clusterId, role, replicaId });
const promise: Message = { type: 'promise', rid: 1, proposal: 99, nonce: 1, from: 0, to: 10 };
const write: Message = { type: 'write', rid: 2, proposal: 99, from: 0, actions: [{ kind: 'append', data: new TextEncoder().encode('forged') }], named: [] };

test('a client certificate speaking as replica 1 (a promise and a write as a peer) is refused, and nothing reaches the core', async () => {
  const end = replica.host.store.end();
  const r = await exchange(certs.material('client-app'), Buffer.concat([hello('replica', 1), encodeFrame(promise), encodeFrame(write)]));
  assert.match(r.refusal ?? '', /refused by the replica: .*replica hello naming member 1 from a certificate for client 'app'/);
  assert.ok(r.closed);
  assert.equal(replica.host.store.end(), end);
});

test("replica 2's certificate claiming to be member 1 is refused", async () => {
  const r = await exchange(certs.material('replica-2'), Buffer.concat([hello('replica', 1), encodeFrame(promise)]));
  assert.match(r.refusal ?? '', /naming member 1 from a certificate for replica 2/);
  const text = await replica.metrics.registry.metrics();
  assert.match(text, /replog_connections_refused_total\{reason="wrong-identity",direction="inbound"[^}]*\} [1-9]/);
});

test("replica 2's certificate speaking as member 2 is answered; so is a client certificate speaking as a client", async () => {
  const peer = await exchange(certs.material('replica-2'), hello('replica', 2));
  assert.equal(peer.hello?.role, 'replica');
  assert.equal(peer.hello?.replicaId, 3);
  const client = await exchange(certs.material('client-app'), hello('client'));
  assert.equal(client.hello?.replicaId, 3);
});

test('a client certificate sending what only replicas may (learned values) is closed', async () => {
  const learned: Message = { type: 'learned', entries: [{ position: 0, action: { kind: 'append', data: new TextEncoder().encode('forged') } }] };
  const end = replica.host.store.end();
  const socket = connect({ host: '127.0.0.1', port, ...certs.material('client-app') });
  let closed = false;
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  socket.resume();
  socket.once('secureConnect', () => socket.write(Buffer.concat([hello('client'), encodeFrame(learned)])));
  await waitFor('the connection closed', () => closed);
  assert.equal(replica.host.store.end(), end);
});

test('roles: the admin-only check is in place for the messages reconfiguration will add', () => {
  const peer = { version: WIRE_VERSION, clusterId: '', role: 'client' as const };
  // No admin-only message exists yet: every client message passes for a client certificate.
  assert.equal(refuseMessage({ type: 'config', rid: 1 }, peer, { kind: 'client', name: 'app', role: 'client' }), undefined);
});
