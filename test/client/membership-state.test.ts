// A long-lived LogClient keeps state per member (the reply gate's dropped replicas, the link that speaks for
// each member id, the configuration it adopted). Membership changes made elsewhere must not leave that
// state stale (found by the R12 client review, after the reader's `newerConfig` bug of 5b95033):
//  - a replica the client dropped as hostile, later removed, still counted against the quorum of the
//    members that are left: removing it from three voters made the client refuse to run for good.
//  - a link whose address came to reach another replica (member 2 moved away with `member update`, a new
//    member 4 added at its old address) went on speaking for member 2: the client sent member 2's requests
//    to replica 4 (dropped as hostile for answering them), and took member 2 for connected, so its new
//    address was linked only once replica 4 had been dropped.
//  - a client whose every known member was replaced (R12: "finds the cluster after every address it was
//    started with is gone") ignored the removed replicas' answers, which name the members that replaced
//    them (R13: "which points onward"): it never found the cluster.
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

async function stop(r: Replica): Promise<void> {
  running.delete(r);
  await r.stop();
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

test("a link whose address came to reach another replica stops speaking for its old member (member update, then a new member at the old address)", async () => {
  const { dirs: ds, addresses, replicas } = await cluster(3);
  const [a1, a2, a3] = addresses as [string, string, string];
  const [b2] = (await freePorts(1)).map((p) => `127.0.0.1:${p}`) as [string];
  const log = recordingLogger();
  const client = await connect(addresses, { log });
  const w0 = await client.writer();
  await w0.append('before');
  await w0.resign();
  const connects: { replica: number; address: string }[] = [];
  client.on('connect', (e) => connects.push(e));

  // Member 2 moves from a2 to b2: it stops, the configuration says b2, and a new member 4 is added at a2.
  await stop(replicas[1]!);
  const admin = await connect([a1, a3]);
  await admin.members.update(2, b2);
  const joining = start({ id: 4, dir: join(root, `r${++dirs}`), listen: a2, join: [a1, a3] });
  await admin.members.add(4, a2);
  await joining;
  // The client's link to a2 reconnects, to replica 4 now, before member 2 is back at its new address.
  await waitFor('the client reaches replica 4 at a2', () => connects.some((e) => e.replica === 4 && e.address === a2), 30_000);
  const r2 = await start({ id: 2, dir: ds[1]!, listen: b2, members: `1=${a1},2=${b2},3=${a3}` });
  // Its restart check and catch-up done: VOTING, as far as member 3, twice in a row.
  let seen = 0;
  await waitFor('replica 2 caught up at its new address', async () => {
    const s = await admin.members.status();
    const [m2, m3] = [s.find((m) => m.id === 2), s.find((m) => m.id === 3)];
    seen = m2?.status === 'VOTING' && m3?.end !== null && (m2.end ?? -1) >= m3!.end! ? seen + 1 : 0;
    return seen >= 2 && r2.status === 'VOTING';
  }, 60_000);
  await close(admin);

  // Without replica 1 a quorum needs member 2, at b2. Before the fix the client still sent member 2's
  // requests over the link to a2 (replica 4) and dropped replica 4, for the client's lifetime, for
  // answering requests sent to member 2; only then, the link closed, did it link member 2 at b2.
  await stop(replicas[0]!);
  const end = await client.ending({ timeoutMs: 30_000 });
  assert.ok(end >= 0, `ending() ${end}`);
  const entries = await client.read(0, end, { timeoutMs: 30_000 });
  assert.deepEqual(entries.map((e) => text(e.data)), ['before']);
  assert.ok(!log.has(/dropping it/), `no replica dropped: ${JSON.stringify(log.lines.filter((l) => /dropping/.test(l.msg ?? '')))}`);
});

test('a client whose every known member was replaced finds the cluster through the removed replicas (R13: they point onward)', async () => {
  const { addresses } = await cluster(1);
  const [a1] = addresses as [string];
  // The long-lived client reaches replica 1 through a proxy that, while the members are replaced, answers
  // nothing (the client is cut off, as by a partition, and misses every change).
  const [p1] = await proxies([a1], [undefined]);
  proxyList.push(p1!);
  const client = await connect([p1!.address]);
  const w0 = await client.writer();
  await w0.append('before');
  await w0.resign();
  p1!.tamper = () => null;

  const [a2] = (await freePorts(1)).map((p) => `127.0.0.1:${p}`) as [string];
  const admin = await connect([a1]);
  const joining = start({ id: 2, dir: join(root, `r${++dirs}`), listen: a2, join: [a1] });
  const replaced = admin.members.replace(1, 2, a2);
  const r2 = await joining;
  await replaced;
  await waitFor('replica 2 VOTING', () => r2.status === 'VOTING', 60_000);
  await close(admin);
  // Replica 1 is removed but still running (until the operator stops it): it answers with the
  // configuration that removed it, which names member 2 at a2.
  p1!.tamper = undefined;

  const c = await client.configuration({ timeoutMs: 20_000 });
  assert.deepEqual(c.voters, [{ id: 2, address: a2 }], 'the long-lived client follows the removed replica onward');
  assert.deepEqual((await client.read(0, 100, { timeoutMs: 20_000 })).map((e) => text(e.data)), ['before']);

  // A client started now with only the removed replica's address finds the cluster too.
  const fresh = await LogClient.connect([a1], { connectTimeoutMs: 20_000 });
  clients.add(fresh);
  assert.deepEqual((await fresh.configuration({ timeoutMs: 20_000 })).voters, [{ id: 2, address: a2 }]);
  const w = await fresh.writer({ timeoutMs: 20_000 });
  const p = await w.append('found it');
  assert.equal(text((await fresh.read(p, p, { timeoutMs: 20_000 }))[0]!.data), 'found it');
  await w.resign();
});
