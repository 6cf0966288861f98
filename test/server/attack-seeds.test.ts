// Adversarial review of fdbd369 ("R13 seeds"), server side (fixed: at most 16 seeds are linked to, a newcomer
// waits while the table is full, and a seed silent for 10 gossip periods is forgotten and its link closed).
//
// F3 (hostile, resources): strangerGossip (src/server/replica-server.ts) takes a peerState from any replica
// hello naming an id this replica does not know, and if its head is newer than the stored chain's, stores
// the gossiped address in `gossipSeeds[from]` and links to it (syncPeers: a PeerLink per id, which
// connects at once and reconnects with backoff for ever). `gossipSeeds` has no bound and is never pruned
// (not when the sender goes silent, not when the chain reaches the claimed epoch), unlike the core's
// `strangers` (STRANGERS_MAX = 16, forgotten after STRANGER_HEARD_MS). Without TLS anyone who reaches the
// port can thus make a replica hold open, and keep redialling, any number of outbound connections to
// addresses of its choosing (one hello + one peerState per id; the connection may close at once), which
// also show as peers in the divergence check. Before the change a non-member's hello was refused at its
// first message and nothing was dialled. Fix: bound gossipSeeds (as the core does), drop an entry the
// core no longer keeps as a stranger/seed, and only dial a seed while the recovery (or a repair) wants it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { encodeFrame } from '../../src/net/codec.js';
import { WIRE_VERSION, encodeHelloFrame } from '../../src/net/hello.js';
import { startReplica } from '../../src/server/replica-server.js';
import { freePorts } from '../integration/helpers.js';
import { rawConnect, waitFor } from '../net/helpers.js';

test('F3: forty forged strangers (one hello and one peerState each, then gone) do not make a replica dial forty links to an address they chose', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'replog-attack-seeds-'));
  const [p1, p2, p3] = await freePorts(3);
  // The address the forged gossip names: it counts the connections the replica opens to it.
  const dialled: Socket[] = [];
  const evil = createServer((s) => {
    dialled.push(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  const evilPort = (evil.address() as { port: number }).port;
  const members = `1=127.0.0.1:${p1},2=127.0.0.1:${p2},3=127.0.0.1:${p3}`;
  const replica = await startReplica({ id: 1, dir, listen: `127.0.0.1:${p1}`, members, logger: pino({ level: 'silent' }) });
  try {
    const N = 40;
    for (let i = 0; i < N; i++) {
      const hello = encodeHelloFrame({ version: WIRE_VERSION, clusterId: replica.clusterId, role: 'replica', replicaId: 1000 + i });
      const gossip = encodeFrame({
        type: 'peerState', incarnation: 'x', generation: 0, disk: 0, status: 'VOTING', promised: 0, begin: 0, end: -1, learnedThrough: -1,
        config: { epoch: 2 ** 40, position: 2 ** 40 }, address: `127.0.0.1:${evilPort}`,
      });
      const raw = await rawConnect(p1!);
      raw.socket.write(Buffer.concat([hello, gossip]));
      await new Promise((r) => setTimeout(r, 20));
      raw.socket.destroy();
    }
    // Give the links time to dial.
    await waitFor(() => dialled.length >= 16, 'the replica dials the gossiped address', 10_000).catch(() => {});
    await new Promise((r) => setTimeout(r, 1_000));
    assert.ok(dialled.length <= 16, `the replica opened ${dialled.length} connections to an address ${N} forged strangers named (the core keeps at most 16 strangers)`);
  } finally {
    await replica.stop();
    for (const s of dialled) s.destroy();
    evil.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
