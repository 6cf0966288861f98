// A long-lived LogClient keeps state per member (the reply gate's dropped replicas, the link that speaks for
// each member id, the configuration it adopted). Membership changes made elsewhere must not leave that
// state stale (found by the R12 client review, after the reader's `newerConfig` bug of 5b95033):
//  - a replica the client dropped as hostile, later removed, still counted against the quorum of the
//    members that are left: removing it from three voters made the client refuse to run for good;
// Real replicas in this process (startReplica), real sockets.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LogClient, type LogClientOptions } from '../../src/client/log-client.js';
import { limits } from '../../src/core/constants.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from '../integration/helpers.js';
import { recordingLogger } from '../net/helpers.js';
import { proxies, type TamperProxy } from '../net/tamper-proxy.js';

const root = mkdtempSync(join(tmpdir(), 'replog-membership-state-'));
const running = new Set<Replica>();
const clients = new Set<LogClient>();
const proxyList: TamperProxy[] = [];
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const p of proxyList) await p.close().catch(() => undefined);
  for (const r of running) await r.stop().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

const quiet = pino({ level: 'silent' });
const text = (d: Uint8Array) => Buffer.from(d).toString('utf8');
let dirs = 0;

async function start(opts: Parameters<typeof startReplica>[0]): Promise<Replica> {
  const r = await startReplica({ logger: quiet, ...opts });
  running.add(r);
  return r;
}

async function connect(addresses: string[], options: LogClientOptions = {}): Promise<LogClient> {
  const c = await LogClient.connect(addresses, { waitForQuorum: true, connectTimeoutMs: 30_000, ...options });
  clients.add(c);
  return c;
}

async function close(c: LogClient): Promise<void> {
  clients.delete(c);
  await c.close();
}

/** `n` founders at fresh ports, all VOTING: their data directories, addresses and replicas. */
async function cluster(n: number): Promise<{ dirs: string[]; addresses: string[]; replicas: Replica[] }> {
  const ports = await freePorts(n);
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  const members = addresses.map((a, i) => `${i + 1}=${a}`).join(',');
  const ds = addresses.map(() => join(root, `r${++dirs}`));
  const replicas: Replica[] = [];
  for (let i = 0; i < n; i++) replicas.push(await start({ id: i + 1, dir: ds[i]!, listen: addresses[i]!, members }));
  await waitFor('the founders are VOTING', () => replicas.every((r) => r.status === 'VOTING'), 60_000);
  return { dirs: ds, addresses, replicas };
}

test('a client that dropped a hostile replica goes on working once that replica is removed', async () => {
  const { addresses } = await cluster(3);
  // Replica 3 answers through a proxy that claims an end of 2^50: the client's reply gate drops it.
  const liar = (m: Parameters<NonNullable<TamperProxy['tamper']>>[0]) =>
    m.type === 'promiseReply' || m.type === 'readReply' ? { ...m, end: limits.positionMax } : undefined;
  const ps = await proxies(addresses, [undefined, undefined, liar]);
  proxyList.push(...ps);
  const log = recordingLogger();
  const client = await connect(ps.map((p) => p.address), { log });
  const w0 = await client.writer();
  await w0.append('before');
  await w0.resign();
  await waitFor('replica 3 dropped', async () => {
    await client.ending();
    return log.has(/replica 3 at .* dropping it/);
  });

  // The operator removes the liar (another client, straight to the replicas).
  const admin = await connect(addresses);
  await admin.members.remove(3);
  await close(admin);

  // Two voters are left, both sane: a quorum of them. Before the fix the client counted the dropped
  // replica against them (2 - 1 < 2) and refused to run: "no quorum of sane replicas remains".
  assert.deepEqual((await client.configuration()).voters.map((m) => m.id), [1, 2]);
  const w = await client.writer({ timeoutMs: 20_000 });
  const p = await w.append('after the liar left');
  assert.equal(text((await client.read(p, p, { timeoutMs: 20_000 }))[0]!.data), 'after the liar left');
  await w.resign();
});
