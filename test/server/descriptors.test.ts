// Descriptors (issue 19, item 8), with replica processes: a replica started under a low descriptor limit
// (ulimit -n 160), with 150 idle client connections open to it, still takes a writer's connection and
// stores its appends, and still answers its admin endpoint. Before, accept() failed with EMFILE: the
// replica refused appends and admin requests until the idle connections went away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogClient } from '../../src/client/log-client.js';
import { WIRE_VERSION, encodeHelloFrame } from '../../src/net/hello.js';
import { BIN, freePorts, waitFor } from '../integration/helpers.js';

/** GET /status of an admin endpoint, parsed; undefined if it does not answer within 2 s. */
function adminStatus(address: string): Promise<{ status: string; end: number } | undefined> {
  return new Promise((resolve) => {
    const req = get(`http://${address}/status`, { timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as { status: string; end: number });
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

test('a replica under `ulimit -n 160` with 150 idle client connections still serves a writer and its admin endpoint', async () => {
  const root = mkdtempSync(join(tmpdir(), 'replog-fds-'));
  const [p1, p2, p3, admin] = await freePorts(4);
  const members = `1=127.0.0.1:${p1},2=127.0.0.1:${p2},3=127.0.0.1:${p3}`;
  const procs: ChildProcess[] = [];
  const stderr: string[] = ['', '', ''];
  const idle: Socket[] = [];
  let log: LogClient | undefined;
  try {
    for (const [i, port] of [p1, p2, p3].entries()) {
      const args = [BIN, 'replica', '--id', String(i + 1), '--dir', join(root, `r${i + 1}`), '--listen', `127.0.0.1:${port}`, '--members', members];
      if (i === 0) args.push('--admin', `127.0.0.1:${admin}`);
      const quoted = [process.execPath, ...args].map((a) => `'${a}'`).join(' ');
      const proc = i === 0 ? spawn('sh', ['-c', `ulimit -n 160 && exec ${quoted}`], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      proc.stderr!.on('data', (d: Buffer) => (stderr[i] += d.toString()));
      procs.push(proc);
    }
    const adminAddress = `127.0.0.1:${admin}`;
    await waitFor('replica 1 VOTING', async () => (await adminStatus(adminAddress))?.status === 'VOTING', 60_000);
    // 150 client connections that say hello and nothing more.
    const hello = encodeHelloFrame({ version: WIRE_VERSION, clusterId: '', role: 'client' });
    for (let k = 0; k < 150; k++) {
      const s = connect({ host: '127.0.0.1', port: p1! });
      s.on('error', () => {});
      s.on('connect', () => s.write(hello));
      s.resume();
      idle.push(s);
    }
    await Promise.all(idle.map((s) => new Promise<void>((resolve) => (s.readyState === 'open' ? resolve() : s.once('connect', () => resolve()).once('close', () => resolve())))));
    assert.notEqual(await adminStatus(adminAddress), undefined, 'the admin endpoint answers among the idle connections');
    // A writer whose only address is replica 1's: it must get in, and replica 1 must store what it appends.
    log = await LogClient.connect([`127.0.0.1:${p1}`]);
    const w = await log.writer();
    const p = await w.append('through the crowd');
    await waitFor('replica 1 stores the append', async () => ((await adminStatus(adminAddress))?.end ?? -1) >= p, 30_000);
    assert.equal(procs[0]!.exitCode, null, `replica 1 is running: ${stderr[0]!.slice(-2000)}`);
  } finally {
    for (const s of idle) s.destroy();
    await log?.close();
    await Promise.all(procs.map((proc) => (proc.exitCode !== null ? undefined : new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); }))));
    rmSync(root, { recursive: true, force: true });
  }
});
