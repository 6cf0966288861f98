// Autorecovery with real replica processes: a wiped disk rejoins by itself while
// a writer appends, without a single failed append; corrupted data files heal;
// with two of three disks lost nothing becomes VOTING with an empty log.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, readdirSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { LogClient } from '../../src/client/log-client.js';
import { collectStatus } from '../../src/cli/status.js';
import { TestCluster, appendLoop, countedMembers, runCli, waitFor } from './helpers.js';

const text = (d: Uint8Array) => Buffer.from(d).toString('utf8');
const clusters: TestCluster[] = [];
after(async () => {
  for (const c of clusters) await c.stop();
});

test('a replica whose directory was deleted rejoins by itself; no append fails; then the others can lose a replica', async () => {
  const c = await TestCluster.create(3);
  clusters.push(c);
  await c.startAll();
  const log = await LogClient.connect(c.addresses);
  const w = await log.writer();
  for (let i = 0; i < 50; i++) await Promise.all(Array.from({ length: 20 }, (_, k) => w.append(`pre-${i}-${k}`)));
  const loop = appendLoop(w);
  await waitFor('the writer counts every member', () => countedMembers(w).size === c.replicas.length);
  await c.kill(2);
  rmSync(c.replicas[1]!.dir, { recursive: true, force: true });
  c.start(2);
  await c.waitStatus([2], 'VOTING', 60_000);
  // Keep appending a moment after it rejoined, then stop.
  const mark = loop.acked.size;
  await waitFor('appends after rejoining', () => loop.goneOnBy(mark + 200));
  await loop.stop();
  assert.deepEqual(loop.failures.map((e) => e.message), [], 'no append failed');
  // Now another replica dies: the rejoined one must hold what it needs.
  await c.kill(1);
  const log2 = await LogClient.connect(c.addresses);
  const lo = Math.min(...loop.acked.keys());
  const hi = Math.max(...loop.acked.keys());
  const got = new Map((await log2.read(lo, hi)).map((e) => [e.position, text(e.data)]));
  for (const [p, d] of loop.acked) assert.equal(got.get(p), d, `acknowledged entry at ${p}`);
  await log.close();
  await log2.close();
});

/** Overwrites `bytes` bytes in the middle of every segment file of a data directory. */
function corruptMiddle(dir: string, bytes: number): void {
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.log'))) {
    const path = join(dir, f);
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(bytes, 0x5a), 0, bytes, Math.floor(size / 2));
    closeSync(fd);
  }
}

test('bytes overwritten in the middle of a replica\'s data files: detected, repaired from the others, never served', async () => {
  const c = await TestCluster.create(3);
  clusters.push(c);
  await c.startAll();
  const log = await LogClient.connect(c.addresses);
  const w = await log.writer();
  for (let i = 0; i < 40; i++) await Promise.all(Array.from({ length: 25 }, (_, k) => w.append(`c-${i}-${k}-${'x'.repeat(100)}`)));
  const loop = appendLoop(w);
  await waitFor('the writer counts every member', () => countedMembers(w).size === c.replicas.length);
  await c.kill(2);
  corruptMiddle(c.replicas[1]!.dir, 4096);
  c.start(2);
  await c.waitStatus([2], 'VOTING', 60_000);
  await waitFor('the damage was seen and repaired', () => /repair|rejoin|RECOVERING/.test(c.replicas[1]!.stderr), 30_000);
  assert.match(c.replicas[1]!.stderr, /lost|corrupt|may have lost/, 'storage reported the damage');
  const mark = loop.acked.size;
  await waitFor('appends go on', () => loop.goneOnBy(mark + 200));
  await loop.stop();
  assert.deepEqual(loop.failures.map((e) => e.message), [], 'no append failed');
  // Replica 1 down: what replica 2 holds must now carry the log, corrupted part included.
  await c.kill(1);
  const log2 = await LogClient.connect(c.addresses);
  const all = await log2.read(0, Math.max(...loop.acked.keys()));
  const got = new Map(all.map((e) => [e.position, text(e.data)]));
  for (const [p, d] of loop.acked) assert.equal(got.get(p), d, `acknowledged entry at ${p}`);
  assert.equal(all.filter((e) => text(e.data).startsWith('c-')).length, 1000, 'every entry before the corruption reads back');
  await log.close();
  await log2.close();
});

test('a new cluster of five initialises itself, and two wiped replicas recover at once', async () => {
  const c = await TestCluster.create(5);
  clusters.push(c);
  await c.startAll();
  const log = await LogClient.connect(c.addresses);
  const w = await log.writer();
  for (let i = 0; i < 20; i++) await Promise.all(Array.from({ length: 25 }, (_, k) => w.append(`five-${i}-${k}`)));
  const loop = appendLoop(w);
  await waitFor('the writer counts every member', () => countedMembers(w).size === c.replicas.length);
  await Promise.all([c.kill(4), c.kill(5)]);
  rmSync(c.replicas[3]!.dir, { recursive: true, force: true });
  rmSync(c.replicas[4]!.dir, { recursive: true, force: true });
  c.start(4);
  c.start(5);
  await c.waitStatus([4, 5], 'VOTING', 60_000);
  const mark = loop.acked.size;
  await waitFor('appends go on', () => loop.goneOnBy(mark + 200));
  await loop.stop();
  assert.deepEqual(loop.failures.map((e) => e.message), [], 'no append failed');
  // Two of the original three die: the two recovered ones plus one must hold everything.
  await Promise.all([c.kill(1), c.kill(2)]);
  const log2 = await LogClient.connect(c.addresses);
  const got = new Map((await log2.read(0, Math.max(...loop.acked.keys()))).map((e) => [e.position, text(e.data)]));
  for (const [p, d] of loop.acked) assert.equal(got.get(p), d, `acknowledged entry at ${p}`);
  await log.close();
  await log2.close();
});

test('with two of three disks lost, no replica becomes VOTING with an empty log, and appends fail clearly', async () => {
  const c = await TestCluster.create(3);
  clusters.push(c);
  await c.startAll();
  const log = await LogClient.connect(c.addresses);
  const w = await log.writer();
  await w.append('precious');
  await log.close();
  await c.kill(2);
  await c.kill(3);
  rmSync(c.replicas[1]!.dir, { recursive: true, force: true });
  rmSync(c.replicas[2]!.dir, { recursive: true, force: true });
  c.start(2);
  c.start(3);
  // Give them time to talk: they must stay non-voting (only one VOTING member remains).
  await waitFor('the wiped replicas answer', async () => (await collectStatus(c.addresses.slice(1), 1000)).every((r) => r.status !== 'UNREACHABLE'));
  for (let i = 0; i < 5; i++) {
    const rows = await collectStatus(c.addresses, 1000);
    assert.equal(rows[0]!.status, 'VOTING');
    assert.notEqual(rows[1]!.status, 'VOTING');
    assert.notEqual(rows[2]!.status, 'VOTING');
    await new Promise((r) => setTimeout(r, 300));
  }
  const status = await runCli(['status', '--log', c.addresses.join(',')]);
  assert.match(status.stdout, /will not start an empty log/, `replog status says why: ${status.stdout}`);
  assert.match(status.stdout, /no quorum: 1 of 3/);
  const log2 = await LogClient.connect(c.addresses);
  await assert.rejects(log2.writer(), /quorum/i);
  await log2.close();
});
