// Attack on reconfig3, hostile input from a replica (issue 19, item 11: "with one such replica the client
// drops it and works with the other two"). One replica of three answers 'stale-config' naming a head
// no configuration of the cluster has (epoch 7): the writer takes one such answer as the end of its ballot
// (WriterCore.onStaleConfig fences it at once, whatever the two sane replicas say), its owner can only
// elect again in the same one-link view, and the next election meets the same answer: the client never
// appends. Before wire version 3 a replica could not say this; a rejection at 2^53 - 1, the closest
// thing, gets the replica dropped (hostile-replica.test.ts).
// Rule broken: one hostile (or confused) replica must not stop a client that has a sane quorum.
// Fix: a head no quorum confirms is no evidence: the reply gate (src/client/reply-gate.ts) drops a
// replica whose stale-config head is not in the chain its own config reply gives (or the client asks
// a quorum for the chain before it gives up its ballot); until step 8 a client that cannot follow a
// newer configuration should at least not treat one replica's word as final.
// Failed on reconfig3. Fixed in the reply gate: a stale-config head no other member showed is held until
// another member's reply confirms it (test/client/reply-gate.test.ts states the rule on its own).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LogClient } from '../../src/client/log-client.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from '../integration/helpers.js';
import { proxies, type Tamper } from '../net/tamper-proxy.js';

const text = (d: Uint8Array) => Buffer.from(d).toString('utf8');
const BOGUS = { epoch: 7, position: 3 };

const tampers: Record<string, Tamper> = {
  'promise replies': (m) => (m.type === 'promiseReply' ? { ...m, outcome: 'stale-config', slots: [], config: BOGUS } : undefined),
  'write replies': (m) => (m.type === 'writeReply' ? { ...m, outcome: 'stale-config', retired: [], config: BOGUS } : undefined),
};

let root: string;
let replicas: Replica[] = [];
let upstreams: string[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'replog-attack3-head-'));
  const ports = await freePorts(3);
  const members = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const logger = pino({ level: 'silent' });
  for (let i = 0; i < 3; i++) replicas.push(await startReplica({ id: i + 1, dir: join(root, `r${i + 1}`), listen: `127.0.0.1:${ports[i]}`, members, logger }));
  upstreams = ports.map((p) => `127.0.0.1:${p}`);
  await waitFor('the cluster starts', () => replicas.every((r) => r.host.status === 'VOTING' && r.host.waiting === ''), 60_000);
});

after(async () => {
  for (const r of replicas) await r.stop();
  replicas = [];
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

for (const [name, tamper] of Object.entries(tampers)) {
  test(`one replica answers stale-config with a head the cluster never had, in its ${name}: the client appends and reads with the other two`, async () => {
    const ps = await proxies(upstreams, [undefined, undefined, tamper]);
    const client = await LogClient.connect(ps.map((p) => p.address));
    try {
      let appended: number | undefined;
      let lastError = '';
      // A fenced writer is replaced, as an application would: three tries.
      for (let i = 0; i < 3 && appended === undefined; i++) {
        try {
          const w = await client.writer();
          appended = await w.append(`despite a bogus head (${name})`);
        } catch (err) {
          lastError = (err as Error).message;
        }
      }
      assert.ok(appended !== undefined, `no append in three writers: ${lastError}`);
      assert.equal(text((await client.read(appended, appended))[0]!.data), `despite a bogus head (${name})`);
    } finally {
      await client.close();
      for (const p of ps) await p.close();
    }
  });
}
