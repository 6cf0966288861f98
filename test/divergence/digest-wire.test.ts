// Digest requests on live replicas (in this process): hostile ranges are answered within the bounds,
// a burst of requests never fails an append, a digest reply sent to a replica's port closes that
// connection only, and the background check (run on demand here) agrees on a healthy cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { LogClient } from '../../src/client/log-client.js';
import { DIGEST_CODES, decodeDigestMessage, encodeDigestFrame, type DigestReply } from '../../src/net/digest-codec.js';
import { wireLimits } from '../../src/net/limits.js';
import { PeerLink } from '../../src/net/peer-link.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from '../integration/helpers.js';

test('digest requests: bounded answers to hostile ranges, a burst beside a writer, replies refused on the port', async () => {
  const root = mkdtempSync(join(tmpdir(), 'replog-digest-'));
  const ports = await freePorts(3);
  const members = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const internalErrors: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { if (/internal error/.test(line)) internalErrors.push(line.slice(0, 2000)); } });
  const replicas: Replica[] = [];
  for (let i = 0; i < 3; i++) {
    replicas.push(await startReplica({ id: i + 1, dir: join(root, `r${i + 1}`), listen: `127.0.0.1:${ports[i]}`, members, logger, divergence: { periodMs: 0, span: 100 } }));
  }
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  const replies = new Map<number, DigestReply>();
  let closedReason = '';
  const link = new PeerLink({
    address: addresses[0]!,
    clusterId: '',
    extension: { codes: DIGEST_CODES, onFrame: (payload) => { const m = decodeDigestMessage(payload); if (m.type === 'digestReply') replies.set(m.rid, m); } },
    onMessage: () => {},
    onDisconnect: (reason) => (closedReason = reason),
  });
  let log: LogClient | undefined;
  try {
    await waitFor('the cluster starts', () => replicas.every((r) => r.host.status === 'VOTING'), 60_000);
    log = await LogClient.connect(addresses);
    const w = await log.writer();
    for (let i = 0; i < 5; i++) await Promise.all(Array.from({ length: 50 }, (_, k) => w.append(`v-${i}-${k}`)));
    await waitFor('the link is up', () => link.connected);

    // Hostile ranges: every answer covers [from, through) within the bounds and the learned prefix.
    const requests = fc.sample(
      fc.record({ from: fc.nat({ max: 2 ** 50 }), len: fc.nat({ max: 2 ** 50 }), seed: fc.nat({ max: 2 ** 32 - 1 }), limit: fc.nat({ max: 2 ** 32 - 1 }) }),
      { numRuns: 200, seed: 14 },
    );
    requests.push({ from: 0, len: 2 ** 40, seed: 0, limit: 0 }, { from: 3, len: 0, seed: 5, limit: 1 });
    let rid = 0;
    const asked = new Map<number, { from: number; to: number; seed: number; limit: number }>();
    for (const r of requests) {
      const to = Math.min(2 ** 50, r.from + r.len);
      asked.set(++rid, { from: r.from, to, seed: r.seed, limit: r.limit });
      // Paced by the queue bound: send in groups the replica keeps.
      link.sendFrame(encodeDigestFrame({ type: 'digest', rid, from: r.from, to, seed: r.seed, limit: r.limit }));
      if (rid % 32 === 0) await waitFor('replies', () => replies.size >= rid - 8);
    }
    await waitFor('every request answered', () => replies.size === asked.size);
    const learnedThrough = replicas[0]!.host.store.learnedThrough();
    for (const [id, q] of asked) {
      const r = replies.get(id)!;
      assert.equal(r.from, q.from);
      assert.ok(r.through >= q.from && r.through <= q.to, `through ${r.through} in [${q.from}, ${q.to}]`);
      assert.ok(r.through - r.from <= Math.min(wireLimits.digestPositionsMax, q.limit === 0 ? Infinity : q.limit));
      assert.ok(r.through <= learnedThrough + 1 || r.through === q.from);
      if (r.through === r.from) assert.equal(r.crc, q.seed >>> 0, 'nothing covered: the seed comes back');
    }
    const big = replies.get(requests.length - 1)!;
    assert.deepEqual([big.from, big.through, big.stop], [0, learnedThrough + 1, 'unlearned']);

    // A burst of requests (more than the queue holds) while the writer appends: no append fails.
    const appends = Promise.all(Array.from({ length: 200 }, (_, k) => w.append(`burst-${k}`)));
    for (let i = 0; i < 3 * wireLimits.digestQueueMax; i++) link.sendFrame(encodeDigestFrame({ type: 'digest', rid: 10_000 + i, from: 0, to: 2 ** 40, seed: 0, limit: 0 }));
    assert.equal((await appends).length, 200);

    // The background check, run now: every peer agrees.
    for (const r of replicas) {
      const s = await r.divergence.runOnce();
      assert.equal(s.result, 'ok', JSON.stringify(s));
      assert.ok(s.peers.every((p) => p.verifiedThrough > 250));
    }

    // A reply sent to a replica's port closes that connection (and only it).
    link.sendFrame(encodeDigestFrame({ type: 'digestReply', rid: 1, status: 'VOTING', begin: 0, learnedThrough: 0, from: 0, through: 0, count: 0, crc: 0, stop: 'end' }));
    await waitFor('the connection is closed', () => closedReason !== '');
    assert.ok((await w.append('after')) > 0, 'the writer goes on');
    assert.deepEqual(internalErrors, []);
  } finally {
    await link.close();
    await log?.close();
    for (const r of replicas) await r.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
