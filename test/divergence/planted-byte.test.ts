// Divergence checks end to end (issue 14): a real 3-replica cluster; one byte of one chosen value is
// changed in one replica's data file while it is down, with the record's checksum fixed up, so storage
// cannot see it. `replog check` must exit 1 naming that position and that replica; the background
// check must report it in /status, /metrics, the console's snapshot and the log; and nothing may be
// repaired over it. Before the planting, and on a healthy cluster with a replica behind and a
// truncated prefix, the check must find nothing (no false positive).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { LogClient } from '../../src/client/log-client.js';
import { checkFrame } from '../../src/storage/record-codec.js';
import { scanFrames } from '../../src/storage/frame-scan.js';
import { TestCluster, countedMembers, runCli, waitFor } from '../integration/helpers.js';

const clusters: TestCluster[] = [];
after(async () => {
  for (const c of clusters) await c.stop();
});

// The replicas check every 500 ms (child processes inherit the environment).
process.env['REPLOG_DIVERGENCE_CHECK_MS'] = '500';

async function getJson(admin: string, path: string): Promise<any> {
  const res = await fetch(`http://${admin}${path}`);
  return res.json();
}

async function metrics(admin: string): Promise<string> {
  return (await fetch(`http://${admin}/metrics`)).text();
}

/**
 * Changes one byte of the append value at `position` in every record of a stopped replica's data files
 * that holds it, and rewrites each record's frame checksum (seeded with the directory's salt) so that
 * the record checks out: storage cannot see the change. Returns how many records were changed.
 */
function plantByte(dir: string, position: number): { changed: number; original: number; planted: number } {
  let changed = 0;
  let original = -1;
  let planted = -1;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
    const path = join(dir, f);
    const buf = readFileSync(path);
    const head = checkFrame(buf, 0, buf.length, 0);
    assert.ok(head.status === 'ok' && head.record.type === 'header', `${f} starts with a header`);
    const salt = head.record.salt;
    for (const item of scanFrames(buf, buf.length, salt)) {
      if (item.kind !== 'frame') continue;
      const r = item.record;
      if ((r.type !== 'accept' && r.type !== 'learn') || r.position !== position || r.action.kind !== 'append') continue;
      const data = r.action.data;
      assert.ok(data.length > 0);
      // The entry bytes end the frame's payload.
      const at = item.end - data.length;
      original = buf[at]!;
      buf[at] = original ^ 0x20;
      planted = buf[at]!;
      const payload = buf.subarray(item.offset + 8, item.end);
      buf.writeUInt32LE(crc32c(payload, salt), item.offset + 4);
      const check = checkFrame(buf, item.offset, buf.length, salt);
      assert.equal(check.status, 'ok', 'the planted record checks out');
      changed++;
    }
    writeFileSync(path, buf);
  }
  return { changed, original, planted };
}

/** The first byte of the append value at `position` in a stopped replica's files (the last record holding it). */
function storedFirstByte(dir: string, position: number): number | undefined {
  let found: number | undefined;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
    const buf = readFileSync(join(dir, f));
    const head = checkFrame(buf, 0, buf.length, 0);
    if (head.status !== 'ok' || head.record.type !== 'header') continue;
    for (const item of scanFrames(buf, buf.length, head.record.salt)) {
      if (item.kind !== 'frame') continue;
      const r = item.record;
      if ((r.type === 'accept' || r.type === 'learn') && r.position === position && r.action.kind === 'append') found = r.action.data[0];
    }
  }
  return found;
}

test('a byte planted in one replica\'s file (valid checksum) is found by replog check and the background check, and never repaired', async () => {
  const c = await TestCluster.create(3, [1, 2, 3], { admin: true });
  clusters.push(c);
  await c.startAll();
  const log = await LogClient.connect(c.addresses);
  const w = await log.writer();
  const positions: number[] = [];
  for (let i = 0; i < 30; i++) positions.push(...(await Promise.all(Array.from({ length: 10 }, (_, k) => w.append(`value-${i}-${k}-${'v'.repeat(20)}`)))));
  await log.close();
  const last = Math.max(...positions);
  const admins = c.replicas.map((r) => r.adminAddress!);
  await waitFor('every replica learned every append', async () => (await Promise.all(admins.map((a) => getJson(a, '/status')))).every((s) => s.learnedThrough >= last));

  // Healthy: the check agrees, and so does the background check.
  const healthy = await runCli(['check', '--log', c.addresses.join(',')]);
  assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
  assert.match(healthy.stdout, /^ok: replicas 1, 2, 3 agree/);
  await waitFor('the background check agrees', async () => (await getJson(admins[0]!, '/status')).divergence?.result === 'ok');

  // Plant: replica 3, one byte of the value at a position in the middle.
  const target = positions[Math.floor(positions.length / 2)]!;
  await c.kill(3, 'SIGTERM');
  const planted = plantByte(c.replica(3).dir, target);
  assert.ok(planted.changed >= 1, 'the value was found in replica 3\'s files');
  c.start(3);
  await c.waitStatus([3], 'VOTING');

  // replog check: exit 1, naming the position and the replica.
  const found = await runCli(['check', '--log', c.addresses.join(','), '--span', '64']);
  assert.equal(found.code, 1, found.stdout + found.stderr);
  assert.match(found.stdout, new RegExp(`DIVERGENCE: replica 3 differs from replicas 1, 2 at position ${target}\\b`));
  const json = JSON.parse((await runCli(['check', '--json', '--log', c.replica(1).address])).stdout);
  assert.equal(json.result, 'mismatch');
  assert.deepEqual(json.divergences.map((d: { position: number; replica: number; agreeing: number[] }) => [d.position, d.replica, d.agreeing]), [[target, 3, [1, 2]]]);
  // A range that ends before the planted byte agrees.
  const before = await runCli(['check', '--log', c.addresses.join(','), '--to', String(target - 1)]);
  assert.equal(before.code, 0, before.stdout + before.stderr);

  // The background check: /status, /metrics, the console's snapshot, the log.
  await waitFor('replica 1\'s background check reports the mismatch', async () => {
    const d = (await getJson(admins[0]!, '/status')).divergence;
    return d?.result === 'mismatch' && d.firstMismatch?.position === target && d.firstMismatch?.peer === 3;
  });
  await waitFor('replica 3 reports it against both peers', async () => {
    const d = (await getJson(admins[2]!, '/status')).divergence;
    return d?.result === 'mismatch' && d.peers.every((p: { mismatchAt: number | null }) => p.mismatchAt === target);
  });
  const m1 = await metrics(admins[0]!);
  assert.match(m1, /replog_divergence_mismatch\{peer="3",replica="1"\} 1/);
  assert.match(m1, /replog_divergence_mismatch\{peer="2",replica="1"\} 0/);
  assert.match(m1, new RegExp(`replog_divergence_first_mismatch_position\\{replica="1"\\} ${target}\\b`));
  assert.match(m1, /replog_divergence_checks_total\{result="mismatch",replica="1"\} [1-9]/);
  assert.match(m1, /replog_divergence_mismatches_total\{replica="1"\} [1-9]/);
  assert.match(m1, /replog_divergence_last_check_timestamp_seconds\{replica="1"\} [1-9]/);
  const snap = await getJson(admins[0]!, '/cluster');
  assert.equal(snap.integrity.divergence.result, 'mismatch');
  assert.equal(snap.verdict.level, 'critical');
  assert.match(snap.verdict.headline, new RegExp(`divergence: replicas 1 and 3 differ at position ${target}`));
  assert.match(c.replica(1).stderr, new RegExp(`DIVERGENCE: replica 1 and replica 3 hold different chosen values at position ${target}`));

  // Nothing was repaired: a while later the check still finds it, and replica 3's file still holds the planted byte.
  await new Promise((r) => setTimeout(r, 2000));
  const again = await runCli(['check', '--log', c.addresses.join(',')]);
  assert.equal(again.code, 1, again.stdout + again.stderr);
  await c.kill(3, 'SIGTERM');
  assert.equal(storedFirstByte(c.replica(3).dir, target), planted.planted, 'the planted byte is still there');
  assert.notEqual(planted.planted, planted.original);
  // The others still hold the original value.
  assert.equal((await getJson(admins[0]!, '/status')).learnedThrough >= last, true);

  // With replica 3 down, replicas 1 and 2 (a quorum) agree: exit 0, with a note that replica 3 was not compared.
  const two = await runCli(['check', '--log', c.addresses.join(',')]);
  assert.equal(two.code, 0, two.stdout + two.stderr);
  assert.match(two.stdout, /note: replica 3 .* did not answer/);
  await c.kill(2, 'SIGTERM');
  const one = await runCli(['check', '--log', c.addresses.join(',')]);
  assert.equal(one.code, 3, one.stdout + one.stderr);
  assert.match(one.stdout, /^no quorum/);
});

test('no false positive: a replica behind and then catching up, and a truncated prefix', async () => {
  const c = await TestCluster.create(3, [1, 2, 3], { admin: true });
  clusters.push(c);
  await c.startAll();
  const log = await LogClient.connect(c.addresses);
  const w = await log.writer();
  for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 20 }, (_, k) => w.append(`a-${i}-${k}`)));
  await waitFor('the writer counts every member', () => countedMembers(w).size === 3);
  await c.kill(3, 'SIGTERM');
  // Replica 3 is behind: the others go on, and truncate a prefix it still holds.
  let last = 0;
  for (let i = 0; i < 10; i++) last = Math.max(last, ...(await Promise.all(Array.from({ length: 20 }, (_, k) => w.append(`b-${i}-${k}`)))));
  const cut = await w.truncate(100);
  await log.close();
  const admins = c.replicas.map((r) => r.adminAddress!);
  const r1 = await runCli(['check', '--log', c.addresses.join(','), '--span', '50']);
  assert.equal(r1.code, 0, r1.stdout + r1.stderr);
  c.start(3);
  await c.waitStatus([3], 'VOTING');
  // While it catches up and after: every check agrees.
  for (let i = 0; i < 3; i++) {
    const r = await runCli(['check', '--log', c.addresses.join(','), '--span', '50']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }
  await waitFor('replica 3 caught up and truncated', async () => {
    const s = await getJson(admins[2]!, '/status');
    return s.learnedThrough >= cut && s.begin === 100;
  });
  const r2 = JSON.parse((await runCli(['check', '--json', '--log', c.addresses.join(',')])).stdout);
  assert.equal(r2.result, 'ok');
  assert.equal(r2.from, 100);
  assert.ok(r2.through > last);
  for (const a of admins) {
    await waitFor(`the background check of ${a} agrees with every peer, past the truncation`, async () => {
      const d = (await getJson(a, '/status')).divergence;
      return d?.result === 'ok' && d.peers.every((p: { verifiedThrough: number }) => p.verifiedThrough > cut);
    });
    const m = await metrics(a);
    assert.match(m, /replog_divergence_checks_total\{result="mismatch",replica="\d"\} 0/);
    assert.match(m, /replog_divergence_mismatches_total\{replica="\d"\} 0/);
  }
});
