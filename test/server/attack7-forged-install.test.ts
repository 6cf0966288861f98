// attack7: a forged R4 install from a plaintext client makes a replica adopt a configuration that no
// writer ever proposed and that was never chosen at its position.
//
// Sequence (three replicas, no TLS, in this process):
//  1. The cluster starts; a writer appends 'a' (acknowledged).
//  2. A client (hello role 'client', no certificate) sends replica 1 a promise with a low proposal and
//     install = { epoch 1, voters [2,3], learners [], nextId 4, position end+2, floor 0 }; the same to
//     replica 2 with voters [1,3]. admission.ts admits both (without TLS anyone may send a config
//     write, and refuseConfigPromise only checks that epoch 1 is a well-formed next link of epoch 0).
//  3. installFrom (core) adds epoch 1 to each replica's chain as *learned* (a metadata record, and a
//     learn record of the config entry if the replica holds the position), though nothing was written
//     there, let alone chosen. Replica 1 now believes it is removed above end+2, replica 2 likewise.
//
// Rule violated: R4 says install carries a configuration that is *chosen*; a client's promise is not a
// proof of that. A config write from a plaintext client goes through Paxos (it is a proposal, chosen
// or not by a quorum), but an install is a learned message by another door: admission.ts refuses a
// client's 'learned' precisely because "one forged learned would store a value as chosen". With the
// chains diverged, replicas 1 and 2 answer stale-config for positions above end+2, and the cluster
// (2 of 3 needed) can append no more: two messages from anyone who reaches the ports stop the log.
// A forged install that keeps the replica but drops the others (voters [1]) would make its chain
// govern with a quorum of one, for a writer that trusts it (two values at one position).
//
// Suggested fix: a client may carry install/links only for configurations already in the chain of a
// quorum — simplest, admit a client's promise with install/links only if each offered configuration
// is one this replica already knows as learned OR is the config entry this replica holds *accepted*
// at that position with the same value (the writer that made a change has had it accepted by a quorum
// including, usually, this replica); otherwise drop install/links from the promise (answer it as a
// plain promise) rather than adopting them. Stronger: only a replica hello (or an admin certificate,
// with TLS) may install; a client's writer gets its change installed by the acceptors' own catch-up.
// Fixed: admission.ts vouchedOffers drops from a client's promise every offered configuration that is
// neither a link of this replica's chain nor the config entry it holds accepted at that position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LogClient } from '../../src/client/log-client.js';
import type { Message } from '../../src/core/types.js';
import { decodeMessage, encodeFrame } from '../../src/net/codec.js';
import { FrameDecoder } from '../../src/net/frame.js';
import { WIRE_VERSION, encodeHelloFrame } from '../../src/net/hello.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from '../integration/helpers.js';

async function send(port: number, frames: Buffer[]): Promise<Message[]> {
  const socket = connect({ host: '127.0.0.1', port });
  const decoder = new FrameDecoder();
  const replies: Message[] = [];
  let hello = false;
  let closed = false;
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  socket.on('data', (c: Buffer) => {
    for (const f of decoder.push(c)) {
      if (!hello) hello = true;
      else replies.push(decodeMessage(f));
    }
  });
  socket.write(Buffer.concat([encodeHelloFrame({ version: WIRE_VERSION, clusterId: '', role: 'client' }), ...frames]));
  await waitFor('a reply or the close', () => closed || replies.length >= 1, 20_000);
  socket.destroy();
  return replies;
}

test('a plaintext client\'s promise with a forged install is not adopted as a chosen configuration', async () => {
  const root = mkdtempSync(join(tmpdir(), 'replog-attack7-install-'));
  const ports = await freePorts(3);
  const addr = (i: number) => `127.0.0.1:${ports[i]}`;
  const members = [1, 2, 3].map((id, i) => `${id}=${addr(i)}`).join(',');
  const replicas: Replica[] = [];
  for (let i = 0; i < 3; i++) replicas.push(await startReplica({ id: i + 1, dir: join(root, `r${i + 1}`), listen: addr(i), members, logger: pino({ level: 'silent' }) }));
  const log = await LogClient.connect(replicas.map((r) => r.address));
  try {
    await waitFor('every replica VOTING', () => replicas.every((r) => r.host.status === 'VOTING'), 60_000);
    const w = await log.writer();
    await w.append('a');
    const end = Math.max(...replicas.map((r) => r.host.store.end()));
    const position = end + 2;
    const m = (id: number) => ({ id, address: addr(id - 1) });
    for (const [i, voters] of [[0, [2, 3]], [1, [1, 3]]] as const) {
      const install = { epoch: 1, voters: voters.map(m), learners: [], nextId: 4, position, floor: 0 };
      await send(ports[i]!, [encodeFrame({ type: 'promise', rid: 1, proposal: 1, nonce: 7, from: position, to: position, install } as Message)]);
    }
    const epochs = replicas.map((r) => (r.host.store.metadata().configs ?? []).map((c) => c.epoch));
    // And the log goes on: appends well past the forged position still get acknowledged.
    let live = true;
    await waitFor('appends past the forged position are acknowledged', async () => {
      await Promise.race([w.append('b'), new Promise((_, rej) => setTimeout(() => rej(new Error('append timed out')), 5_000))]).catch(() => {});
      return Math.max(...replicas.map((r) => r.host.store.end())) > position + 2;
    }, 40_000).catch(() => (live = false));
    assert.deepEqual({ epochs, live }, { epochs: [[0], [0], [0]], live: true }, 'no replica adopts a configuration no writer proposed, and the log goes on');
  } finally {
    await log.close().catch(() => {});
    for (const r of replicas) await r.stop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
  }
});
