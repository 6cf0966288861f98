/**
 * A 3-member etcd cluster on loopback, for comparison, and a fair load
 * generator for it: puts through etcd's JSON gRPC gateway (`POST /v3/kv/put`)
 * over HTTP/1.1 keep-alive, one connection per put in flight (HTTP/1.1 has no
 * multiplexing), sent to the leader (followers would forward to it: one more
 * hop). etcd's defaults are kept: every put is fsynced on a quorum, as replog's are.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { freePorts, startLogged, stopProcess, waitUntil } from './processes.js';

/** Installs etcd-server with apt-get if `etcd` is not on the PATH. Returns the version line. */
export function ensureEtcd(log: (line: string) => void): string {
  const which = spawnSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' });
  if (which.status !== 0 || which.stdout.trim() === '') {
    log('etcd not found: apt-get update && apt-get install -y etcd-server');
    for (const args of [['update'], ['install', '-y', 'etcd-server']]) {
      const r = spawnSync('apt-get', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
    }
  }
  const v = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (v.status !== 0) throw new Error('etcd --version failed');
  return v.stdout.split('\n')[0]!.replace(/^etcd Version:\s*/, '').trim();
}

export interface EtcdCluster {
  readonly clientUrls: string[];
  readonly leaderUrl: string;
  readonly pids: number[];
  readonly version: string;
  stop(): Promise<void>;
}

export async function startEtcdCluster(dir: string, version: string): Promise<EtcdCluster> {
  const ports = await freePorts(6);
  const names = ['e1', 'e2', 'e3'];
  const clientUrls = names.map((_, i) => `http://127.0.0.1:${ports[i]}`);
  const peerUrls = names.map((_, i) => `http://127.0.0.1:${ports[3 + i]}`);
  const initial = names.map((n, i) => `${n}=${peerUrls[i]}`).join(',');
  mkdirSync(dir, { recursive: true });
  const children: ChildProcess[] = names.map((name, i) =>
    startLogged(
      'etcd',
      [
        '--name', name,
        '--data-dir', join(dir, name),
        '--listen-client-urls', clientUrls[i]!,
        '--advertise-client-urls', clientUrls[i]!,
        '--listen-peer-urls', peerUrls[i]!,
        '--initial-advertise-peer-urls', peerUrls[i]!,
        '--initial-cluster', initial,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', `replog-bench-${process.pid}`,
      ],
      join(dir, `${name}.log`),
      { ...process.env, ETCD_UNSUPPORTED_ARCH: process.env['ETCD_UNSUPPORTED_ARCH'] ?? '' },
    ),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => stopProcess(c)));
  };
  try {
    let leaderUrl = '';
    await waitUntil(
      async () => {
        const st = await Promise.all(clientUrls.map((u) => postJson(`${u}/v3/maintenance/status`, {})));
        const leader = String((st[0] as { leader?: string }).leader ?? '0');
        if (leader === '0') return false;
        const i = st.findIndex((s) => String((s as { header?: { member_id?: string } }).header?.member_id) === leader);
        if (i < 0) return false;
        leaderUrl = clientUrls[i]!;
        return true;
      },
      30_000,
      'the etcd cluster to elect a leader',
      200,
    );
    return { clientUrls, leaderUrl, pids: children.map((c) => c.pid!), version, stop };
  } catch (err) {
    await stop();
    if (!existsSync(dir)) throw err;
    throw new Error(`${(err as Error).message} (etcd logs in ${dir})`);
  }
}

async function postJson(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/**
 * A put function for the load generator: each call puts `valueBytes` bytes
 * under a new key. `sockets` keep-alive connections (set it to the in-flight level).
 */
export function etcdPutter(baseUrl: string, valueBytes: number, sockets: number): { put: () => Promise<void>; close: () => void } {
  const url = new URL('/v3/kv/put', baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  const value = Buffer.alloc(valueBytes, 'x').toString('base64');
  let n = 0;
  const put = () =>
    new Promise<void>((resolve, reject) => {
      const key = Buffer.from(`bench/${process.pid}/${n++}`).toString('base64');
      const body = `{"key":"${key}","value":"${value}"}`;
      const req = request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode === 200) resolve();
            else reject(new Error(`etcd put: HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { put, close: () => agent.destroy() };
}
