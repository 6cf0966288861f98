// Real replica processes on loopback: the library and the CLI against them,
// a replica killed while appending, a full restart, two writers, bad input on
// the port, and two replicas on one data directory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { LogClient } from '../../src/client/log-client.js';
import { ClosedError, NoQuorumError, WriterFencedError } from '../../src/core/errors.js';
import { spawn } from 'node:child_process';
import { BIN, TestCluster, freePorts, runCli, waitFor } from './helpers.js';

let cluster: TestCluster;

before(async () => {
  cluster = await TestCluster.create(3);
  await cluster.startAll();
});

after(async () => {
  await cluster.stop();
});

const text = (d: Uint8Array) => Buffer.from(d).toString('utf8');

test('the CLI appends and reads; the library reads the same entries', async () => {
  const env = { REPLOG_LOG: cluster.addresses.join(',') };
  const a = await runCli(['append', 'hello', 'world'], { env });
  assert.equal(a.code, 0, a.stderr);
  const positions = a.stdout.trim().split('\n').map(Number);
  assert.equal(positions.length, 2);
  assert.ok(positions[1]! > positions[0]!);
  const piped = await runCli(['append'], { env, input: Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n') + '\n' });
  assert.equal(piped.code, 0, piped.stderr);
  const pp = piped.stdout.trim().split('\n').map(Number);
  assert.equal(pp.length, 500);
  for (let i = 1; i < pp.length; i++) assert.ok(pp[i]! > pp[i - 1]!, 'positions print in order');
  const r = await runCli(['read', '--from', String(positions[0]), '--to', String(positions[1])], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${positions[0]}\thello\n${positions[1]}\tworld\n`);
  const log = await LogClient.connect(cluster.addresses);
  const entries = await log.read(pp[0]!, pp[499]!);
  assert.deepEqual(entries.map((e) => text(e.data)), Array.from({ length: 500 }, (_, i) => `line ${i}`));
  await log.close();
});

test('a replica killed with SIGKILL while appending: appends go on, nothing acknowledged is lost', async () => {
  const log = await LogClient.connect(cluster.addresses);
  const w = await log.writer();
  const acked = new Map<number, string>();
  let killed = false;
  for (let i = 0; i < 300; i++) {
    const batch = Array.from({ length: 10 }, (_, k) => `kill-${i}-${k}`);
    const ps = await Promise.all(batch.map((d) => w.append(d)));
    ps.forEach((p, k) => acked.set(p, batch[k]!));
    if (i === 50 && !killed) {
      killed = true;
      await cluster.kill(2);
    }
  }
  const lo = Math.min(...acked.keys());
  const hi = Math.max(...acked.keys());
  const got = new Map((await log.read(lo, hi)).map((e) => [e.position, text(e.data)]));
  for (const [p, d] of acked) assert.equal(got.get(p), d, `acknowledged entry at ${p}`);
  await log.close();
  cluster.start(2);
  await cluster.waitStatus([2], 'VOTING');
});

test('after all replicas restart, the log is intact', async () => {
  const log = await LogClient.connect(cluster.addresses);
  const w = await log.writer();
  const ps = await Promise.all(Array.from({ length: 100 }, (_, i) => w.append(`restart-${i}`)));
  await log.close();
  await Promise.all([1, 2, 3].map((id) => cluster.kill(id, 'SIGKILL')));
  for (const id of [1, 2, 3]) cluster.start(id);
  await cluster.waitStatus([1, 2, 3], 'VOTING');
  const log2 = await LogClient.connect(cluster.addresses);
  const entries = await log2.read(ps[0]!, ps[99]!);
  assert.deepEqual(entries.map((e) => text(e.data)), Array.from({ length: 100 }, (_, i) => `restart-${i}`));
  await log2.close();
});

test('two writers: the second takes over and the first is fenced with a clear error', async () => {
  const log1 = await LogClient.connect(cluster.addresses);
  const log2 = await LogClient.connect(cluster.addresses);
  const w1 = await log1.writer();
  const p1 = await w1.append('from w1');
  const w2 = await log2.writer();
  const p2 = await w2.append('from w2');
  assert.ok(p2 > p1);
  await assert.rejects(w1.append('late'), (err: Error) => err instanceof WriterFencedError && /another writer/.test(err.message));
  await assert.rejects(w1.append('later'), WriterFencedError);
  const entries = await log2.read(p1, p2);
  assert.deepEqual(entries.map((e) => text(e.data)), ['from w1', 'from w2']);
  await log1.close();
  await log2.close();
});

test('the CLI: a second concurrent writer makes the first `replog append` fail with one clear line', async () => {
  const env = { REPLOG_LOG: cluster.addresses.join(',') };
  const log = await LogClient.connect(cluster.addresses);
  const w = await log.writer();
  await w.append('x');
  const b = await runCli(['append', 'y'], { env });
  assert.equal(b.code, 0, b.stderr);
  await assert.rejects(w.append('z'), WriterFencedError);
  await log.close();
});

test('garbage, oversized frames and HTTP on the port close only that connection; the replica serves on', async () => {
  const [host, port] = cluster.addresses[0]!.split(':') as [string, string];
  const junk = [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]), Buffer.alloc(64, 0x41)];
  for (const bytes of junk) {
    await new Promise<void>((res) => {
      const s = connect(Number(port), host, () => s.write(bytes));
      s.on('error', () => {});
      s.on('close', () => res());
      s.resume();
    });
  }
  const log = await LogClient.connect(cluster.addresses);
  const w = await log.writer();
  const p = await w.append('still serving');
  assert.equal(text((await log.read(p, p))[0]!.data), 'still serving');
  await log.close();
  assert.ok(cluster.replicas[0]!.proc !== undefined, 'replica 1 is still running');
});

test('a second replica on the same data directory exits at once with a clear error', async () => {
  const r1 = cluster.replicas[0]!;
  const res = await runCli(['replica', '--id', '1', '--dir', r1.dir, '--listen', '127.0.0.1:1', '--members', cluster.membersFlag]);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /lock|in use|locked/i);
  assert.equal(res.stderr.trim().split('\n').length, 1, `one line: ${res.stderr}`);
  await waitFor('replica 1 still up', () => r1.proc !== undefined);
});

test('bad flags give one clear line and exit 2 (bad usage); no replica reachable exits 3', async () => {
  const res = await runCli(['read', '--from', '-3']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /non-negative integer/);
  const res2 = await runCli(['append', '--log', 'nonsense', 'x']);
  assert.equal(res2.code, 2);
  assert.match(res2.stderr, /HOST:PORT/);
  const res3 = await runCli(['read', '--frm', '3']);
  assert.equal(res3.code, 2);
  assert.ok(!/Options:/.test(res3.stderr), 'a hint, not the whole help');
  const [free] = await freePorts(1);
  const res4 = await runCli(['read', '--log', `127.0.0.1:${free}`]);
  assert.equal(res4.code, 3, res4.stderr);
  assert.equal(res4.stderr.trim().split('\n').length, 1, 'one line');
});

test('the CLI in a pipe: `replog read | head -1` ends quietly with status 0; status leads with a verdict', async () => {
  const env = { REPLOG_LOG: cluster.addresses.join(',') };
  const big = Array.from({ length: 20_000 }, (_, i) => `pipe ${i}`).join('\n') + '\n';
  const appended = await runCli(['append'], { env, input: big });
  assert.equal(appended.code, 0, appended.stderr);
  const proc = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" read | head -1`], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise((r) => proc.on('exit', r));
  assert.equal(stdout.split('\n').filter(Boolean).length, 1, stdout);
  assert.equal(stderr, '', 'no EPIPE trace');
  // The reader's own exit status, with a pipe whose reader goes away after the first chunk.
  const direct = spawn(process.execPath, [BIN, 'read'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  direct.stderr.on('data', (d: Buffer) => (err += d.toString()));
  direct.stdout.once('data', () => direct.stdout.destroy());
  const code = await new Promise<number | null>((r) => direct.on('exit', r));
  assert.equal(code, 0, err);
  assert.equal(err, '');
  const st = await runCli(['status'], { env });
  assert.match(st.stdout.split('\n')[0]!, /^healthy: can lose 1 more replica$/);
});

test('the configuration, read-only until reconfiguration: config show, member list, status --json roles, log.configuration()', async () => {
  const env = { REPLOG_LOG: cluster.addresses.join(',') };
  const show = await runCli(['config', 'show', '--json'], { env });
  assert.equal(show.code, 0, show.stderr);
  const voters = cluster.replicas.map((r) => ({ id: r.id, address: r.address }));
  assert.deepEqual(JSON.parse(show.stdout), { epoch: 0, voters, learners: [], quorum: 2, failuresTolerated: 1, pending: null });
  const text = await runCli(['config', 'show'], { env });
  assert.match(text.stdout, /^failures tolerated\s+1$/m);
  const list = await runCli(['member', 'list', '--json'], { env });
  assert.equal(list.code, 0, list.stderr);
  const doc = JSON.parse(list.stdout) as { epoch: number; members: { id: number; role: string; status: string }[] };
  assert.equal(doc.epoch, 0);
  assert.deepEqual(doc.members.map((m) => [m.id, m.role, m.status]), [[1, 'voter', 'VOTING'], [2, 'voter', 'VOTING'], [3, 'voter', 'VOTING']]);
  const st = JSON.parse((await runCli(['status', '--json'], { env })).stdout) as { replicas: { role: string }[] };
  assert.deepEqual(st.replicas.map((r) => r.role), ['voter', 'voter', 'voter']);
  const log = await LogClient.connect([cluster.addresses[2]!]);
  assert.deepEqual(await log.configuration(), { epoch: 0, voters, learners: [] });
  await log.close();
});

test('the library: connect({ waitForQuorum }) resolves once a quorum is connected and fails fast with the reason otherwise; close() is one promise; await using closes', async () => {
  const log = await LogClient.connect([cluster.addresses[0]!], { waitForQuorum: true });
  assert.equal(log.members.length, 3, 'the membership is known on return');
  const first = log.close();
  assert.equal(log.close(), first, 'every close() returns the same promise');
  await first;
  const [free] = await freePorts(1);
  const started = Date.now();
  await assert.rejects(LogClient.connect([`127.0.0.1:${free}`], { waitForQuorum: true, connectTimeoutMs: 1000 }), (err: unknown) => {
    assert.ok(err instanceof NoQuorumError);
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${free}`));
    assert.equal(err.retriable, true);
    return true;
  });
  assert.ok(Date.now() - started < 8000, 'fails at its own deadline, not the operation timeout');
  let closed: LogClient | undefined;
  {
    await using scoped = await LogClient.connect(cluster.addresses, { waitForQuorum: true });
    closed = scoped;
    await (await scoped.writer()).append('scoped');
  }
  await assert.rejects(closed.read(0, 0), ClosedError, 'await using closed the client');
});
