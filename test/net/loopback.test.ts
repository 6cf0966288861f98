import { test } from 'node:test';
import { connect } from 'node:net';
import assert from 'node:assert/strict';
import type { Message } from '../../src/core/types.js';
import { PeerLink, type PeerLinkOptions } from '../../src/net/peer-link.js';
import { WIRE_VERSION, encodeHelloFrame } from '../../src/net/hello.js';
import { encodeMessage } from '../../src/net/codec.js';
import { frame } from '../../src/net/frame.js';
import { TEST_CLUSTER, echoServer, rawConnect, recordingLogger, waitFor } from './helpers.js';

const CLUSTER = TEST_CLUSTER;

function link(port: number, got: Message[], extra: Partial<PeerLinkOptions> = {}): PeerLink {
  return new PeerLink({
    address: `127.0.0.1:${port}`,
    clusterId: CLUSTER,
    onMessage: (m) => got.push(m),
    backoff: { initialMs: 10, maxMs: 100 },
    ...extra,
  });
}

/** A recover round trip through `l`: resolves once its reply arrived. */
async function roundTrip(l: PeerLink, got: Message[], rid: number): Promise<void> {
  await waitFor(() => l.connected, 'link connected');
  assert.ok(l.send({ type: 'recover', rid }));
  await waitFor(() => got.some((m) => m.type === 'recoverReply' && m.rid === rid), `reply ${rid}`);
}

test('loopback: 10,000 pipelined messages arrive in order, and the client learns the cluster id', async () => {
  const server = await echoServer();
  const got: Message[] = [];
  const l = link(server.port, got, { clusterId: '' });
  const data = new Uint8Array(100).fill(1);
  // Sent before the handshake completes: held, then flushed in batches.
  for (let rid = 1; rid <= 10_000; rid++) {
    const msg: Message =
      rid % 10 === 0
        ? { type: 'write', rid, proposal: 1, from: rid, actions: [{ kind: 'append', data }], named: [] }
        : { type: 'recover', rid };
    assert.ok(l.send(msg), `send ${rid}`);
  }
  await waitFor(() => got.length === 10_000, '10,000 replies');
  assert.deepStrictEqual(
    got.map((m) => ('rid' in m ? m.rid : -1)),
    Array.from({ length: 10_000 }, (_, i) => i + 1),
  );
  assert.equal(l.clusterId, CLUSTER);
  assert.equal(l.peer?.replicaId, 1);
  await l.close();
  await server.close();
});

test('loopback: bad input closes only that connection, with a logged reason', async () => {
  const log = recordingLogger();
  const server = await echoServer({ log });
  const got: Message[] = [];
  const good = link(server.port, got);
  await roundTrip(good, got, 1);
  const hello = encodeHelloFrame({ version: WIRE_VERSION, clusterId: CLUSTER, role: 'client' });
  const oversized = Buffer.alloc(4);
  oversized.writeUInt32LE(0xfffffff0, 0);
  const cases: { name: string; bytes: Buffer; reason: RegExp }[] = [
    { name: 'garbage', bytes: Buffer.from([9, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), reason: /bad magic/ },
    { name: 'oversized length', bytes: Buffer.concat([hello, oversized]), reason: /oversized/ },
    { name: 'unknown message type', bytes: Buffer.concat([hello, frame(Buffer.from([0x7f]))]), reason: /unknown message type/ },
    { name: 'malformed message', bytes: Buffer.concat([hello, frame(encodeMessage({ type: 'recover', rid: 1 }).subarray(0, 5))]), reason: /truncated/ },
    {
      name: 'wrong cluster id',
      bytes: encodeHelloFrame({ version: WIRE_VERSION, clusterId: 'other', role: 'client' }),
      reason: /cluster 'other'/,
    },
    // Before the hello, a frame is bounded by the hello size: no stranger makes us buffer megabytes.
    { name: 'large first frame', bytes: Buffer.from([0, 0, 0x10, 0]), reason: /first frame \(hello\) length 1048576 > 1024/ },
    { name: 'wrong version', bytes: Buffer.concat([hello.subarray(0, 8), Buffer.from([9, 0]), hello.subarray(10)]), reason: /wire version 9/ },
  ];
  let rid = 2;
  for (const c of cases) {
    const raw = await rawConnect(server.port);
    raw.socket.write(c.bytes);
    await waitFor(raw.closed, `${c.name}: connection closed`);
    // A refused hello is answered, then closed: the client may see the close before the replica logs it.
    await waitFor(() => log.has(c.reason), `${c.name}: logged reason ${c.reason}`);
    await roundTrip(good, got, rid++);
  }
  await good.close();
  await server.close();
});

test('loopback: an error while handling one message closes that connection with a logged reason, never the process', async () => {
  const log = recordingLogger();
  const server = await echoServer({
    log,
    onMessage(msg, conn) {
      if (msg.type === 'recover' && msg.rid === 666) throw new Error('handler bug');
      if (msg.type === 'recover') conn.send({ type: 'recoverReply', rid: msg.rid, status: 'VOTING', begin: 0, end: msg.rid, incarnation: 'i', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0, recorded: [] });
    },
  });
  const got: Message[] = [];
  const good = link(server.port, got);
  await roundTrip(good, got, 1);
  const raw = await rawConnect(server.port);
  raw.socket.write(Buffer.concat([encodeHelloFrame({ version: WIRE_VERSION, clusterId: CLUSTER, role: 'client' }), frame(encodeMessage({ type: 'recover', rid: 666 }))]));
  await waitFor(raw.closed, 'the connection whose message threw is closed');
  assert.ok(log.has(/internal error: Error: handler bug/), 'logged with the error');
  await roundTrip(good, got, 2);
  await good.close();
  await server.close();
});

test('loopback: a client that never reads its replies is no longer read; once it reads, every request is answered', async () => {
  let handled = 0;
  let serverSide: { readingPaused: boolean } | undefined;
  const data = new Uint8Array(2048);
  const server = await echoServer({
    queue: { bytesMax: 64 * 1024 * 1024, messagesMax: 65_536, bytesLow: 1024 * 1024 },
    onMessage(msg, conn) {
      serverSide = conn;
      if (msg.type !== 'recover') return;
      handled++;
      const slot = { position: 0, promised: 0, accepted: 1, learned: true, action: { kind: 'append' as const, data } };
      conn.send({ type: 'readReply', rid: msg.rid, status: 'VOTING', begin: 0, end: 0, learnedThrough: 0, slots: [slot], coveredThrough: 0, lost: [], writerActive: false });
    },
  });
  // Enough requests to span many socket reads (the server stops between reads, not inside one).
  const requests = 100_000;
  const socket = connect({ host: '127.0.0.1', port: server.port });
  socket.on('error', () => {});
  try {
    let received = 0;
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.pause();
    const frames = [encodeHelloFrame({ version: WIRE_VERSION, clusterId: CLUSTER, role: 'client' })];
    for (let rid = 1; rid <= requests; rid++) frames.push(frame(encodeMessage({ type: 'recover', rid })));
    socket.write(Buffer.concat(frames));
    await waitFor(() => serverSide?.readingPaused === true, 'the server stops reading');
    assert.ok(handled < requests, `${handled} of ${requests} requests read while the client reads nothing`);
    socket.on('data', (c: Buffer) => (received += c.length));
    socket.resume();
    await waitFor(() => handled === requests && received >= requests * data.length, 'every request answered once the client reads', 60_000);
  } finally {
    socket.destroy();
    await server.close();
  }
});

test('loopback: connections beyond the listener\'s bound are closed at once; the others are served', async () => {
  const log = recordingLogger();
  const server = await echoServer({ log, connectionsMax: 2 });
  const a = await rawConnect(server.port);
  const b = await rawConnect(server.port);
  await waitFor(() => server.connectionCount === 2, 'two connections open');
  const c = await rawConnect(server.port);
  await waitFor(c.closed, 'the third is closed');
  assert.ok(log.has(/too many open connections/));
  assert.equal(a.closed() || b.closed(), false);
  a.socket.destroy();
  await waitFor(() => server.connectionCount === 1, 'one connection left');
  const got: Message[] = [];
  const good = link(server.port, got);
  await roundTrip(good, got, 1);
  b.socket.destroy();
  await good.close();
  await server.close();
});

test('loopback: a plain HTTP request gets a 400 and is closed; the server goes on', async () => {
  const log = recordingLogger();
  const server = await echoServer({ log });
  const got: Message[] = [];
  const good = link(server.port, got);
  await roundTrip(good, got, 1);
  const raw = await rawConnect(server.port);
  raw.socket.write('GET /status HTTP/1.1\r\nHost: x\r\n\r\n');
  await waitFor(raw.closed, 'HTTP connection closed');
  assert.match(raw.received().toString(), /^HTTP\/1.1 400 /);
  assert.ok(log.has(/plain HTTP/));
  await roundTrip(good, got, 2);
  await good.close();
  await server.close();
});

test('loopback: a peer that never completes the handshake is dropped after the timeout', async () => {
  const log = recordingLogger();
  const server = await echoServer({ log, handshakeTimeoutMs: 100 });
  const raw = await rawConnect(server.port);
  raw.socket.write(Buffer.from([1, 0])); // half a frame header, then silence
  await waitFor(raw.closed, 'silent connection closed');
  assert.ok(log.has(/no hello within 100 ms/));
  await waitFor(() => server.connectionCount === 0, 'connection released');
  await server.close();
});

test('loopback: a link expecting another cluster never connects', async () => {
  const server = await echoServer();
  const log = recordingLogger();
  let connects = 0;
  const l = link(server.port, [], { clusterId: 'other', log, onConnect: () => connects++ });
  await waitFor(() => log.lines.filter((x) => x.msg === 'connect failed').length >= 2, 'two failed attempts');
  assert.equal(connects, 0);
  await l.close();
  await server.close();
});

test('loopback: the link reconnects after the server restarts on the same port', async () => {
  let server = await echoServer();
  const port = server.port;
  const got: Message[] = [];
  let connects = 0;
  let disconnects = 0;
  const l = link(port, got, { onConnect: () => connects++, onDisconnect: () => disconnects++ });
  await roundTrip(l, got, 1);
  await server.close();
  await waitFor(() => disconnects === 1 && !l.connected, 'link notices the server is gone');
  assert.equal(l.send({ type: 'recover', rid: 99 }), false, 'no queueing while waiting to reconnect');
  server = await echoServer({ port });
  await waitFor(() => connects === 2, 'link reconnected');
  await roundTrip(l, got, 2);
  assert.ok(!got.some((m) => m.type === 'recoverReply' && m.rid === 99));
  await l.close();
  await server.close();
});

test('loopback: the send queue is bounded by messages; whenWritable resolves once it drains', async () => {
  const server = await echoServer();
  const got: Message[] = [];
  const l = link(server.port, got, { queue: { bytesMax: 1 << 20, messagesMax: 10, bytesLow: 1 << 19 } });
  for (let rid = 1; rid <= 10; rid++) assert.ok(l.send({ type: 'recover', rid }));
  assert.equal(l.send({ type: 'recover', rid: 11 }), false, 'the 11th message does not fit');
  await l.whenWritable();
  assert.ok(l.send({ type: 'recover', rid: 11 }));
  await waitFor(() => got.length === 11, 'all replies');
  await l.close();
  await server.close();
});

test('loopback: the send queue is bounded by bytes', async () => {
  const server = await echoServer();
  const l = link(server.port, [], { queue: { bytesMax: 4096, messagesMax: 1000, bytesLow: 1024 } });
  const big: Message = { type: 'write', rid: 1, proposal: 1, from: 0, actions: [{ kind: 'append', data: new Uint8Array(3000) }], named: [] };
  assert.ok(l.send(big));
  assert.equal(l.send(big), false);
  await l.close();
  await server.close();
});

test('loopback: close() stops the listener and its connections', async () => {
  const server = await echoServer();
  const got: Message[] = [];
  let disconnected = '';
  const l = link(server.port, got, { onDisconnect: (r) => (disconnected = r) });
  await roundTrip(l, got, 1);
  await server.close();
  await waitFor(() => disconnected !== '', 'client sees the close');
  await l.close();
});
