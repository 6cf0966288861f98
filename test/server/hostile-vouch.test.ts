// The ordering behind the rare hang of hostile-replica.test.ts's 'the CLI with two replicas sending an
// accepted value at 2^40': replicas 2 and 3 claim an end of 2^40 and their replies reach the client before
// the honest replica 1's. With three members the reply gate judges a reply against one other member's
// (quorum - 1): replica 2's reply waits, replica 3's is judged against the end replica 2 showed and passes,
// and replica 2's then passes against replica 3's. The first read's quorum is {2, 3}, so the next rounds ask
// them only (ReaderCore.roundTargets), and ending() answers 2^40. `replog read` walked [0, 2^40] in chunks
// of 4096 from there: a child process at 100% CPU for about a day. The honest replica's replies are delayed
// here so that this ordering is the one that happens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { LogClient } from '../../src/client/log-client.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from '../integration/helpers.js';
import { proxies, type Tamper } from '../net/tamper-proxy.js';

const BIN = fileURLToPath(new URL('../../../bin/replog.js', import.meta.url));
const AT_2_40: Tamper = (m) =>
  m.type === 'promiseReply' && m.outcome === 'accept' && m.slots.length < 100
    ? { ...m, end: 2 ** 40, coveredThrough: 2 ** 40, slots: [...m.slots, { position: 2 ** 40, promised: 0, accepted: m.proposal, learned: false, action: { kind: 'nop' } }] }
    : m.type === 'readReply'
      ? { ...m, end: 2 ** 40 }
      : undefined;

let root: string;
let replicas: Replica[] = [];
let upstreams: string[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'replog-vouch-'));
  const ports = await freePorts(3);
  const members = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const logger = pino({ level: 'silent' });
  for (let i = 0; i < 3; i++) replicas.push(await startReplica({ id: i + 1, dir: join(root, `r${i + 1}`), listen: `127.0.0.1:${ports[i]}`, members, logger }));
  upstreams = ports.map((p) => `127.0.0.1:${p}`);
  await waitFor('the cluster starts', () => replicas.every((r) => r.host.status === 'VOTING'), 60_000);
});

after(async () => {
  for (const r of replicas) await r.stop();
  replicas = [];
  rmSync(root, { recursive: true, force: true });
});

/** `replog args`, killed after `limitMs` (code null then). */
function runCliWithin(args: string[], limitMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), limitMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

test('the CLI with two replicas sending an end of 2^40 that answer before the honest one: replog read ends', async () => {
  // A few entries, written around the proxies.
  const direct = await LogClient.connect(upstreams);
  try {
    const w = await direct.writer();
    for (let i = 0; i < 3; i++) await w.append(`entry ${i}`);
  } finally {
    await direct.close();
  }
  const ps = await proxies(upstreams, [undefined, AT_2_40, AT_2_40]);
  ps[0]!.delayMs = 300;
  try {
    const r = await runCliWithin(['read', '--log', ps.map((p) => p.address).join(',')], 30_000);
    assert.notEqual(r.code, null, 'replog read did not finish within 30 s');
    if (r.code === 0) {
      // The two vouched for each other: their end bounds nothing the read walks; it prints the log as it is.
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /\tentry 0\n.*\tentry 1\n.*\tentry 2\n$/s);
    } else {
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /^replog: no quorum of sane replicas remains: .*\[NO_QUORUM\]\n$/);
    }
  } finally {
    for (const p of ps) await p.close();
  }
});
