// Memory and descriptors of a replica's port (issue 19, items 4 and 8), against live replicas in this
// process: one reply budget over every client connection (reading paused from the clients that hold it,
// resumed once they read), client connections closed after a silence (never peer links), and a reply
// that cannot be sent dropped without holding back the others or counting as a storage failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LogClient } from '../../src/client/log-client.js';
import type { Message, ReadReply } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { decodeMessage, encodeFrame } from '../../src/net/codec.js';
import { FrameDecoder } from '../../src/net/frame.js';
import { WIRE_VERSION, encodeHelloFrame } from '../../src/net/hello.js';
import { ReplicaHost } from '../../src/server/replica-host.js';
import { startReplica, type Replica, type ReplicaOptions } from '../../src/server/replica-server.js';
import { appendLoop, freePorts, waitFor } from '../integration/helpers.js';

const MiB = 1024 * 1024;

/** Three replicas in this process, VOTING; `net` applies to every replica's port. */
async function cluster(net: ReplicaOptions['net'] = {}): Promise<{ replicas: Replica[]; addresses: string[]; stop(): Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), 'replog-resources-'));
  const ports = await freePorts(3);
  const members = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const logger = pino({ level: 'silent' });
  const replicas: Replica[] = [];
  for (let i = 0; i < 3; i++) replicas.push(await startReplica({ id: i + 1, dir: join(root, `r${i + 1}`), listen: `127.0.0.1:${ports[i]}`, members, logger, net }));
  await waitFor('the cluster starts', () => replicas.every((r) => r.host.status === 'VOTING'), 60_000);
  return {
    replicas,
    addresses: ports.map((p) => `127.0.0.1:${p}`),
    async stop() {
      for (const r of replicas) await r.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A raw connection that said hello as a client; keeps the rids of the replies it receives once it reads. */
async function rawClient(port: number, clusterId: string): Promise<{ socket: Socket; rids: Set<number>; closed: () => boolean }> {
  const socket = connect({ host: '127.0.0.1', port });
  const decoder = new FrameDecoder();
  const rids = new Set<number>();
  let hello = false;
  let closed = false;
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('data', (c: Buffer) => {
    for (const f of decoder.push(c)) {
      if (!hello) hello = true;
      else rids.add((decodeMessage(f) as { rid: number }).rid);
    }
  });
  socket.write(encodeHelloFrame({ version: WIRE_VERSION, clusterId, role: 'client' }));
  await waitFor('the replica hello', () => hello || closed);
  return { socket, rids, closed: () => closed };
}

test('reply budget: clients that send reads and never read the replies hold at most the budget; a writer appends meanwhile; once they read, they are served again', async () => {
  const budget = { bytes: 4 * MiB, bytesLow: 2 * MiB, bytesMax: 16 * MiB, shareBytes: 256 * 1024 };
  const c = await cluster({ replyBudget: budget });
  const log = await LogClient.connect(c.addresses);
  const readers: Awaited<ReturnType<typeof rawClient>>[] = [];
  try {
    // 1 MiB of entries: every read of [0, 15] is a reply of about 1 MiB.
    const w = await log.writer();
    const entry = new Uint8Array(64 * 1024).fill(7);
    const first = await w.append(entry);
    for (let i = 1; i < 16; i++) await w.append(entry);
    const target = c.replicas[0]!;
    const port = Number(c.addresses[0]!.split(':')[1]);
    const readsEach = 40;
    for (let k = 0; k < 4; k++) {
      const r = await rawClient(port, target.clusterId);
      r.socket.pause(); // reads nothing: the replies stay with the replica
      const reads: Buffer[] = [];
      for (let rid = 1; rid <= readsEach; rid++) reads.push(encodeFrame({ type: 'read', rid, from: first, to: first + 15, limit: 4096 }));
      r.socket.write(Buffer.concat(reads));
      readers.push(r);
    }
    // While they read nothing, the queued total stays within the budget's hard bound, and a writer goes on.
    const loop = appendLoop(w, { tag: 'budget', batch: 5 });
    let peak = 0;
    const started = loop.acked.size;
    await waitFor('the writer appends 50 entries while the readers hold their replies', () => {
      peak = Math.max(peak, target.port.replyQueuedBytes);
      return loop.goneOnBy(started + 50);
    }, 60_000);
    await loop.stop();
    console.log(`# reply budget: peak ${peak} bytes queued`);
    assert.ok(peak <= budget.bytesMax, `queued reply bytes peaked at ${peak}, above the bound ${budget.bytesMax}`);
    assert.ok(target.port.replyQueuedBytes <= budget.bytesMax);
    // They read: each gets what was queued for it, and is read again once its queue drains (replies beyond
    // the hard bound were dropped: a real client retransmits those).
    for (const r of readers) r.socket.resume();
    for (const r of readers) r.socket.write(encodeFrame({ type: 'read', rid: 1000, from: first, to: first, limit: 1 }));
    await waitFor('a new read answered on every connection', () => readers.every((r) => r.rids.has(1000)), 60_000);
    assert.ok(readers.every((r) => !r.closed()));
  } finally {
    for (const r of readers) r.socket.destroy();
    await log.close();
    await c.stop();
  }
});

test('idle timeout: client connections silent for the timeout are closed, peer links never; a client that talks is served', async () => {
  const c = await cluster({ clientIdleTimeoutMs: 300 });
  const log = await LogClient.connect(c.addresses);
  const idle: Awaited<ReturnType<typeof rawClient>>[] = [];
  try {
    const w = await log.writer();
    const target = c.replicas[0]!;
    const port = Number(c.addresses[0]!.split(':')[1]);
    // The peer links (replica 2 and 3 to replica 1) were opened before these clients, and are as silent
    // between gossip rounds; a client connection says nothing after its hello.
    for (let k = 0; k < 5; k++) idle.push(await rawClient(port, target.clusterId));
    const loop = appendLoop(w, { tag: 'idle', batch: 5 });
    await waitFor('the silent clients are closed', () => idle.every((r) => r.closed()), 30_000);
    await waitFor('the writer goes on', () => loop.goneOnBy(50), 30_000);
    await loop.stop();
    // Every replica still counts its peers: their links were not closed for silence.
    for (const r of c.replicas) assert.equal(r.host.status, 'VOTING');
    assert.equal(loop.failures.length, 0);
  } finally {
    for (const r of idle) r.socket.destroy();
    await log.close();
    await c.stop();
  }
});

test('at the connection bound, a new client replaces the one silent the longest: 150 idle connections do not lock a writer out', async () => {
  const c = await cluster({ connectionsMax: 100, evictIdleAfterMs: 200 });
  const idle: Awaited<ReturnType<typeof rawClient>>[] = [];
  let log: LogClient | undefined;
  try {
    const target = c.replicas[0]!;
    const port = Number(c.addresses[0]!.split(':')[1]);
    for (let k = 0; k < 150; k++) {
      const r = await rawClient(port, target.clusterId).catch(() => undefined);
      if (r !== undefined) idle.push(r);
    }
    assert.ok(target.port.connectionCount <= 100);
    // A writer that reaches only replica 1 first: it connects (an idle client makes room) and appends.
    log = await LogClient.connect([c.addresses[0]!]);
    const w = await log.writer();
    const p = await w.append('through the crowd');
    await waitFor('replica 1 stores the append', () => target.host.store.end() >= p, 30_000);
    assert.ok(idle.some((r) => r.closed()), 'an idle client was closed to make room');
  } finally {
    for (const r of idle) r.socket.destroy();
    await log?.close();
    await c.stop();
  }
});

test('a reply that cannot be sent is dropped: the replies behind it go out, and it is no storage failure', async () => {
  const store = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'i' });
  const errors: string[] = [];
  const host = new ReplicaHost({ id: 1, members: [1], store, log: { info() {}, warn() {}, error: (_o, m) => errors.push(m) }, sendToPeer() {}, onFatal: () => assert.fail('fatal') });
  const got: Message[] = [];
  const throwing = { send: (): boolean => { throw new Error('message of 70000000 bytes exceeds the frame bound'); } };
  host.handle({ type: 'read', rid: 1, from: 0, to: 0, limit: 1 }, throwing);
  host.handle({ type: 'read', rid: 2, from: 0, to: 0, limit: 1 }, { send: (m) => (got.push(m), true) });
  await waitFor('the second reply', () => got.length === 1);
  assert.equal((got[0] as ReadReply).rid, 2);
  assert.equal(host.storageError, undefined, 'a failed send is not a storage failure');
  assert.ok(errors.some((e) => /could not be sent/.test(e)));
  await host.drain();
});
