/**
 * Three replica processes (`bin/replog.js replica`) on loopback, each with its
 * data directory under `dir`, as a user would run them; with `tls`, over
 * mutual TLS with certificates made for the run in `dir/tls` (as
 * `replog cluster --tls` does), the admin endpoints then served over HTTPS.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCertificates } from '../../src/cli/certs.js';
import type { TlsOptions } from '../../src/net/tls.js';
import { freePorts, startLogged, stopProcess, waitUntil } from './processes.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/replog.js');

export interface ReplogCluster {
  readonly addresses: string[];
  readonly pids: number[];
  /** Admin HTTP addresses (GET /status, /metrics), one per replica. */
  readonly admins: string[];
  /** With ClusterOptions.tls: a client's certificate (admin role) for LogClient.connect and the admin endpoints. */
  readonly clientTls: TlsOptions | undefined;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  readonly dir: string;
  readonly replicas?: number;
  /** Node flags per replica id (e.g. --cpu-prof for one of them). */
  readonly nodeFlags?: (id: number) => string[];
  /** Mutual TLS everywhere, with certificates made in `dir/tls` (the cost of TLS is then part of every figure). */
  readonly tls?: boolean;
}

export async function startReplogCluster(o: ClusterOptions): Promise<ReplogCluster> {
  const n = o.replicas ?? 3;
  const ports = await freePorts(2 * n);
  const addresses = ports.slice(0, n).map((p) => `127.0.0.1:${p}`);
  const admins = ports.slice(n).map((p) => `127.0.0.1:${p}`);
  const members = addresses.map((a, i) => `${i + 1}=${a}`).join(',');
  const children: ChildProcess[] = [];
  mkdirSync(o.dir, { recursive: true });
  const tlsDir = join(o.dir, 'tls');
  if (o.tls === true) createCertificates({ dir: tlsDir, replicas: addresses.map((_, i) => i + 1), clients: [{ name: 'bench', role: 'admin' }] });
  const tlsFlags = (id: number): string[] =>
    o.tls === true ? ['--tls-ca', join(tlsDir, 'ca.crt'), '--tls-cert', join(tlsDir, `replica-${id}.crt`), '--tls-key', join(tlsDir, `replica-${id}.key`)] : [];
  const clientTls = o.tls === true ? { ca: readFileSync(join(tlsDir, 'ca.crt')), cert: readFileSync(join(tlsDir, 'client-bench.crt')), key: readFileSync(join(tlsDir, 'client-bench.key')) } : undefined;
  // The replicas take REPLOG_TLS_* as defaults: a shell's settings must not turn a plaintext run into a TLS one.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REPLOG_TLS_')));
  for (let i = 0; i < n; i++) {
    const id = i + 1;
    const args = [...(o.nodeFlags?.(id) ?? []), BIN, 'replica', '--id', String(id), '--dir', join(o.dir, `replica-${id}`), '--listen', addresses[i]!, '--members', members, '--admin', admins[i]!, ...tlsFlags(id)];
    children.push(startLogged(process.execPath, args, join(o.dir, `replica-${id}.log`), env));
  }
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => stopProcess(c)));
  };
  try {
    for (const c of children) {
      c.once('exit', (code, signal) => {
        if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL') process.stderr.write(`\nreplica pid ${c.pid} exited (${code ?? signal}); see its log in ${o.dir}\n`);
      });
    }
    await waitUntil(
      async () => {
        const statuses = await Promise.all(admins.map(async (a) => (JSON.parse(await adminGet(a, '/status', clientTls)) as { status: string }).status));
        return statuses.every((s) => s === 'VOTING');
      },
      30_000,
      'the replicas to become VOTING',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { addresses, pids: children.map((c) => c.pid!), admins, clientTls, stop };
}

/** GET `path` of an admin endpoint: HTTPS with a client certificate when `tls` is given, else HTTP. */
export async function adminGet(admin: string, path: string, tls?: TlsOptions): Promise<string> {
  if (tls === undefined) {
    const res = await fetch(`http://${admin}${path}`);
    if (!res.ok) throw new Error(`GET http://${admin}${path}: ${res.status}`);
    return res.text();
  }
  return new Promise((resolve, reject) => {
    const req = httpsGet(`https://${admin}${path}`, { ca: tls.ca, cert: tls.cert, key: tls.key }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`GET https://${admin}${path}: ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** The sum over the replicas of a counter of their /metrics (e.g. replog_write_positions_total). */
export async function counterSum(admins: readonly string[], name: string, tls?: TlsOptions): Promise<number> {
  const values = await Promise.all(
    admins.map(async (a) => {
      const text = await adminGet(a, '/metrics', tls);
      const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    }),
  );
  return values.reduce((x, y) => x + y, 0);
}
