// The TLS command line with real processes (issue 15): `replog certs create`, then `replog cluster --tls`
// and a client with the environment it prints, refusals as one line and exit status 1, the admin endpoint
// over HTTPS, and certificate rotation on SIGHUP. Waits are on conditions with generous deadlines.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { issue } from '../../src/cli/certs.js';
import { BIN, freePorts, waitFor } from '../integration/helpers.js';
import { makeTestCerts, type TestCerts } from './fixture.js';

let root: string;
let certs: TestCerts;
const children: ChildProcess[] = [];

before(() => {
  root = mkdtempSync(join(tmpdir(), 'replog-tls-cli-'));
  certs = makeTestCerts(join(root, 'certs'));
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** Runs the CLI to completion with `env` added (REPLOG_TLS_* cleared unless given). */
function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, REPLOG_TLS_CA: '', REPLOG_TLS_CERT: '', REPLOG_TLS_KEY: '', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `n` consecutive free ports (replog cluster takes --port, +1, +2). */
async function consecutivePorts(n: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ok = await Promise.all(
      Array.from({ length: n }, (_, i) => new Promise<boolean>((res) => {
        const s = createServer();
        s.once('error', () => res(false));
        s.listen(base + i, '127.0.0.1', () => s.close(() => res(true)));
      })),
    );
    if (ok.every(Boolean)) return base;
  }
}

test('replog certs create: a CA and a key pair each, keys 0600 in a 0700 directory, names as documented', () => {
  const dir = join(root, 'made');
  const r = cli(['certs', 'create', '--dir', dir, '--replicas', '1,2', '--clients', 'app,ops:admin', '--hosts', 'db1.example.com,10.0.0.7']);
  assert.equal(r.status, 0, r.stderr);
  for (const f of ['ca.crt', 'ca.key', 'replica-1.crt', 'replica-1.key', 'replica-2.crt', 'replica-2.key', 'client-app.crt', 'client-app.key', 'client-ops.crt', 'client-ops.key']) {
    assert.ok(existsSync(join(dir, f)), f);
    if (f.endsWith('.key')) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  }
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const san = (f: string) => new X509Certificate(readFileSync(join(dir, f))).subjectAltName ?? '';
  assert.match(san('replica-2.crt'), /URI:replog:\/\/replica\/2, DNS:localhost, IP Address:127\.0\.0\.1.*DNS:db1\.example\.com, IP Address:10\.0\.0\.7/);
  assert.match(san('client-app.crt'), /URI:replog:\/\/client\/app/);
  assert.match(san('client-ops.crt'), /URI:replog:\/\/admin\/ops/);
  const days = (Date.parse(new X509Certificate(readFileSync(join(dir, 'replica-1.crt'))).validTo) - Date.now()) / 86_400_000;
  assert.ok(days > 360 && days < 370, `a year, not ${days} days`);
  // A leaf is never overwritten; the CA is reused for a new member.
  const again = cli(['certs', 'create', '--dir', dir, '--replicas', '1']);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /already exists/);
  const ca = readFileSync(join(dir, 'ca.crt'));
  assert.equal(cli(['certs', 'create', '--dir', dir, '--replicas', '3']).status, 0);
  assert.deepEqual(readFileSync(join(dir, 'ca.crt')), ca);
  assert.ok(new X509Certificate(readFileSync(join(dir, 'replica-3.crt'))).verify(new X509Certificate(ca).publicKey));
});

test('replog cluster --tls, then a client with the printed environment appends and reads; without it, or with another CA, it is refused in one line', async () => {
  const port = await consecutivePorts(3);
  const adminPort = await consecutivePorts(3);
  const dir = join(root, 'cluster');
  const cluster = spawn(process.execPath, [BIN, 'cluster', '--tls', '--dir', dir, '--port', String(port), '--admin-port', String(adminPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(cluster);
  let out = '';
  cluster.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  cluster.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await waitFor('the cluster ready', () => /cluster ready/.test(out) || cluster.exitCode !== null, 120_000);
    assert.match(out, /cluster ready/, out);
    assert.match(out, /mutual TLS/);
    const env: Record<string, string> = {};
    for (const m of out.matchAll(/(REPLOG_[A-Z_]+)=(\S+)/g)) env[m[1]!] = m[2]!;
    assert.deepEqual(Object.keys(env).sort(), ['REPLOG_LOG', 'REPLOG_TLS_CA', 'REPLOG_TLS_CERT', 'REPLOG_TLS_KEY']);
    assert.equal(env['REPLOG_TLS_CERT'], join(dir, 'tls', 'client-admin.crt'));

    const appended = cli(['append', 'hello', 'tls'], env);
    assert.equal(appended.status, 0, appended.stderr);
    const read = cli(['read'], env);
    assert.equal(read.status, 0, read.stderr);
    assert.match(read.stdout, /\thello\n.*\ttls\n/s);

    const plain = cli(['append', 'nope'], { REPLOG_LOG: env['REPLOG_LOG']! });
    assert.equal(plain.status, 1, plain.stderr);
    assert.match(plain.stderr, /^replog: every replica .* refused the connection: refused by the replica: it requires TLS/);
    assert.equal(plain.stderr.trim().split('\n').length, 1, plain.stderr);

    const other = certs.files('other-ca-app');
    const foreign = cli(['read', '--tls-ca', other.ca, '--tls-cert', other.cert, '--tls-key', other.key], { REPLOG_LOG: env['REPLOG_LOG']! });
    assert.equal(foreign.status, 1, foreign.stderr);
    assert.match(foreign.stderr, /not signed by this cluster's CA/);
    assert.equal(foreign.stderr.trim().split('\n').length, 1, foreign.stderr);

    const partial = cli(['read', '--tls-ca', other.ca], { REPLOG_LOG: env['REPLOG_LOG']! });
    assert.equal(partial.status, 2);
    assert.match(partial.stderr, /needs all three .* missing --tls-cert, --tls-key/);

    // The admin endpoint: HTTPS, and only with a certificate of the cluster's CA.
    const get = (withCert: boolean) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const tlsOpts = { ca: readFileSync(env['REPLOG_TLS_CA']!), ...(withCert ? { cert: readFileSync(env['REPLOG_TLS_CERT']!), key: readFileSync(env['REPLOG_TLS_KEY']!) } : {}) };
        const req = request({ host: '127.0.0.1', port: adminPort, path: '/status', ...tlsOpts }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const ok = await get(true);
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).status, 'VOTING');
    const forbidden = await get(false);
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.body, /no client certificate/);
  } finally {
    cluster.kill('SIGTERM');
    await waitFor('the cluster stopped', () => cluster.exitCode !== null || cluster.signalCode !== null, 60_000);
  }
});

test('SIGHUP: a replica re-reads its certificate files; new connections get the new certificate', async () => {
  const [port] = await freePorts(1);
  const address = `127.0.0.1:${port}`;
  const dir = join(root, 'rotate');
  const files = certs.files('replica-1');
  const proc = spawn(
    process.execPath,
    [BIN, 'replica', '--id', '1', '--dir', join(dir, 'data'), '--listen', address, '--members', `1=${address}`, '--tls-ca', files.ca, '--tls-cert', files.cert, '--tls-key', files.key],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(proc);
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  /** The serial number of the certificate the replica presents to a new connection. */
  const servedSerial = () =>
    new Promise<string | undefined>((resolve) => {
      const client = certs.material('client-app');
      const s = connect({ host: '127.0.0.1', port, ...client });
      s.on('error', () => resolve(undefined));
      s.once('secureConnect', () => {
        resolve(s.getPeerX509Certificate()?.serialNumber);
        s.destroy();
      });
    });
  const fileSerial = () => new X509Certificate(readFileSync(files.cert)).serialNumber;
  try {
    await waitFor('the replica started', () => /replica started \(mutual TLS, certificate for replica 1/.test(log), 60_000);
    const old = fileSerial();
    assert.equal(await servedSerial(), old);
    // A new certificate for the same member, in the same files (as an operator or cert-manager does).
    rmSync(files.cert);
    rmSync(files.key);
    issue(join(certs.dir, 'ca'), join(certs.dir, 'replica-1'), { kind: 'replica', id: 1 });
    const renewed = fileSerial();
    assert.notEqual(renewed, old);
    proc.kill('SIGHUP');
    await waitFor('new connections served the new certificate', async () => (await servedSerial()) === renewed, 30_000);
    await waitFor('the rotation logged', () => /TLS certificate rotated/.test(log), 30_000);
    // A bad file on SIGHUP is refused with a logged line; the certificate in force stays.
    const wrong = certs.files('replica-2');
    rmSync(files.cert);
    spawnSync('cp', [wrong.cert, files.cert]);
    proc.kill('SIGHUP');
    await waitFor('the failed rotation logged', () => /TLS rotation failed, the old certificate stays in force/.test(log), 30_000);
    assert.equal(await servedSerial(), renewed);
    assert.equal(proc.exitCode, null);
  } finally {
    proc.kill('SIGTERM');
    await waitFor('the replica stopped', () => proc.exitCode !== null || proc.signalCode !== null, 60_000);
  }
});
