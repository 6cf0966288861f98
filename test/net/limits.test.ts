// The listener's bounds against a hostile or broken peer, on live sockets: connections per remote address
// (wireLimits.connectionsPerAddressMax) and a peer that stops mid-frame (wireLimits.frameTimeoutMs), on
// either end of a connection, before and after the hello. Bounds are lowered through the options.
import { test } from 'node:test';
import { createServer, type Socket } from 'node:net';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startReplica } from '../../src/server/replica-server.js';
import { freePorts, waitFor as waitForAsync } from '../integration/helpers.js';
import type { Message } from '../../src/core/types.js';
import type { ConnectionRefusalReason, Listener } from '../../src/net/listener.js';
import { PeerLink } from '../../src/net/peer-link.js';
import { WIRE_VERSION, encodeHelloFrame, type Hello } from '../../src/net/hello.js';
import { encodeMessage } from '../../src/net/codec.js';
import { frame } from '../../src/net/frame.js';
import { TEST_CLUSTER, echoServer, rawConnect, recordingLogger, waitFor, type RawPeer } from './helpers.js';

const CLUSTER = TEST_CLUSTER;
const OTHER_HOST = '127.0.0.2';

const clientHello = (): Buffer => encodeHelloFrame({ version: WIRE_VERSION, clusterId: CLUSTER, role: 'client' });

/** A raw connection (from `localAddress`) that has sent a client hello and received the replica's. */
async function handshaken(port: number, localAddress?: string, hello: Buffer = clientHello()): Promise<RawPeer> {
  const raw = await rawConnect(port, localAddress);
  raw.socket.write(hello);
  await waitFor(() => raw.received().length > 0 || raw.closed(), 'the replica hello');
  assert.equal(raw.closed(), false, 'handshaken');
  return raw;
}

/** A recover round trip on a handshaken raw connection (replies are counted by their bytes). */
async function rawRoundTrip(raw: RawPeer, rid: number): Promise<void> {
  const before = raw.received().length;
  raw.socket.write(frame(encodeMessage({ type: 'recover', rid })));
  await waitFor(() => raw.received().length > before || raw.closed(), `reply ${rid}`);
  assert.equal(raw.closed(), false, `connection open after reply ${rid}`);
}

async function linkRoundTrip(l: PeerLink, got: Message[], rid: number): Promise<void> {
  await waitFor(() => l.connected, 'link connected');
  assert.ok(l.send({ type: 'recover', rid }));
  await waitFor(() => got.some((m) => m.type === 'recoverReply' && m.rid === rid), `reply ${rid}`);
}

function link(port: number, got: Message[]): PeerLink {
  return new PeerLink({ address: `127.0.0.1:${port}`, clusterId: CLUSTER, onMessage: (m) => got.push(m), backoff: { initialMs: 10, maxMs: 100 } });
}

test('limits: connections beyond the bound from one address are refused and counted; that address\'s open connections and other addresses are served', async () => {
  const log = recordingLogger();
  const refusals: ConnectionRefusalReason[] = [];
  // No eviction: every connection here is busy.
  const server = await echoServer({ log, connectionsPerAddressMax: 3, evictIdleAfterMs: 3_600_000, onRefused: (r) => refusals.push(r) });
  const mine = [await handshaken(server.port), await handshaken(server.port), await handshaken(server.port)];
  const extra = await rawConnect(server.port);
  await waitFor(extra.closed, 'the fourth connection from 127.0.0.1 is closed');
  assert.ok(log.has(/too many open connections from this address/), 'a log line says why');
  assert.deepEqual(refusals, ['too-many-from-address']);
  let rid = 1;
  for (const raw of mine) await rawRoundTrip(raw, rid++);
  // Another host is not held back by the first one's connections.
  const other = await handshaken(server.port, OTHER_HOST);
  await rawRoundTrip(other, rid++);
  // Once one closes, its address may connect again.
  mine[0]!.socket.destroy();
  await waitFor(() => server.connectionCount === 3, 'the closed one released');
  const again = await handshaken(server.port);
  await rawRoundTrip(again, rid++);
  for (const raw of [...mine, other, again]) raw.socket.destroy();
  await server.close();
});

test('limits: at the bound of one address, a new connection replaces that address\'s idlest client, never another address\'s', async () => {
  const log = recordingLogger();
  const server = await echoServer({ log, connectionsPerAddressMax: 2, evictIdleAfterMs: 0 });
  // Silent the longest of all, but from another address.
  const other = await handshaken(server.port, OTHER_HOST);
  const first = await handshaken(server.port);
  const second = await handshaken(server.port);
  await rawRoundTrip(second, 1);
  const third = await handshaken(server.port);
  await waitFor(first.closed, 'the idlest client of 127.0.0.1 is evicted');
  assert.ok(log.has(/bound of connections from 127\.0\.0\.1/), 'the eviction names the bound');
  assert.equal(other.closed() || second.closed(), false);
  await rawRoundTrip(other, 2);
  await rawRoundTrip(third, 3);
  for (const raw of [other, first, second, third]) raw.socket.destroy();
  await server.close();
});

/** A listener whose only short bound is the frame timeout: the handshake and idle timeouts cannot be what closes. */
function stallServer(log: ReturnType<typeof recordingLogger>): Promise<Listener> {
  return echoServer({ log, frameTimeoutMs: 100, handshakeTimeoutMs: 3_600_000, clientIdleTimeoutMs: 3_600_000 });
}

const PARTIAL_LENGTH = Buffer.from([0x10, 0, 0]); // 3 of the 4 bytes of a length prefix

for (const c of [
  { when: 'before the hello', hello: undefined },
  { when: 'after a client hello', hello: clientHello() },
  { when: 'after a replica hello (peer links are never closed for idleness)', hello: encodeHelloFrame({ version: WIRE_VERSION, clusterId: CLUSTER, role: 'replica', replicaId: 2 }) },
]) {
  test(`limits: a peer that stops mid-frame ${c.when} is dropped with a logged reason; a client goes on meanwhile`, async () => {
    const log = recordingLogger();
    const server = await stallServer(log);
    const got: Message[] = [];
    const good = link(server.port, got);
    await linkRoundTrip(good, got, 1);
    const raw = c.hello === undefined ? await rawConnect(server.port) : await handshaken(server.port, undefined, c.hello);
    raw.socket.write(PARTIAL_LENGTH);
    await waitFor(raw.closed, 'the stalled connection is closed', 30_000);
    assert.ok(log.lines.some((l) => l.level === 'warn' && /^stalled: \d+ bytes of an incomplete frame/.test(String(l.obj.reason))), 'logged: stalled mid-frame');
    await linkRoundTrip(good, got, 2);
    await good.close();
    await server.close();
  });
}

test('limits: a link whose replica stops mid-frame drops the connection and reconnects', async () => {
  const sockets: Socket[] = [];
  let stall = true;
  // A fake replica: its hello, then (on the first connection) 3 bytes of a frame and silence.
  const fake = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    const hello: Hello = { version: WIRE_VERSION, clusterId: CLUSTER, role: 'replica', replicaId: 1 };
    s.write(encodeHelloFrame(hello));
    if (stall) s.write(PARTIAL_LENGTH);
    stall = false;
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  const port = (fake.address() as { port: number }).port;
  const log = recordingLogger();
  const reasons: string[] = [];
  let connects = 0;
  const l = new PeerLink({
    address: `127.0.0.1:${port}`,
    clusterId: CLUSTER,
    onMessage: () => {},
    log,
    frameTimeoutMs: 100,
    backoff: { initialMs: 10, maxMs: 100 },
    onConnect: () => connects++,
    onDisconnect: (r) => reasons.push(r),
  });
  await waitFor(() => connects >= 2, 'reconnected after the stall', 30_000);
  assert.match(reasons[0]!, /^stalled: 3 bytes of an incomplete frame/);
  assert.ok(log.lines.some((x) => x.level === 'warn' && x.msg === 'disconnected'), 'logged as a warning');
  await l.close();
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => fake.close(() => resolve()));
});

test('limits: a replica counts refusals by the per-address bound in replog_connections_refused_total, and drops a stalled peer (startReplica net options)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'replog-limits-'));
  const [port] = await freePorts(1);
  const address = `127.0.0.1:${port}`;
  const replica = await startReplica({
    id: 1,
    dir: join(root, 'r1'),
    listen: address,
    members: { 1: address },
    logger: pino({ level: 'silent' }),
    net: { connectionsPerAddressMax: 2, evictIdleAfterMs: 3_600_000, frameTimeoutMs: 100, handshakeTimeoutMs: 3_600_000 },
  });
  const raws: RawPeer[] = [];
  try {
    raws.push(await rawConnect(port), await rawConnect(port));
    const third = await rawConnect(port);
    raws.push(third);
    await waitFor(third.closed, 'the third connection from 127.0.0.1 is closed');
    await waitForAsync('counted', async () => /^replog_connections_refused_total\{reason="too-many-from-address",direction="inbound"[^}]*\} 1$/m.test(await replica.metrics.registry.metrics()));
    // Both open ones stop mid-frame: the replica drops them, and the address may connect again.
    for (const raw of raws.slice(0, 2)) raw.socket.write(PARTIAL_LENGTH);
    await waitFor(() => raws[0]!.closed() && raws[1]!.closed(), 'the stalled connections are closed', 30_000);
    const again = await rawConnect(port);
    raws.push(again);
    again.socket.write(encodeHelloFrame({ version: WIRE_VERSION, clusterId: '', role: 'client' }));
    await waitFor(() => again.received().length > 0 || again.closed(), 'the replica hello');
    assert.equal(again.closed(), false);
  } finally {
    for (const raw of raws) raw.socket.destroy();
    await replica.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
