/**
 * `replog cluster`: a local cluster of N replica processes on 127.0.0.1 for
 * trying replog out (npm start). Each replica's log goes to DIR/replica-<id>.log.
 * A replica that dies is restarted (its data directory is kept); one that
 * cannot even start stops the whole cluster with its error.
 * Ctrl-C (SIGINT) or SIGTERM stops every replica cleanly.
 * With --tls it makes certificates in DIR/tls once (a CA, one per replica,
 * and a client named admin), runs every replica with mutual TLS, and prints
 * the REPLOG_TLS_* settings a client needs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../core/errors.js';
import { TlsCredentials } from '../net/tls.js';
import { createCertificates } from './certs.js';
import { readTls } from './common.js';
import { collectStatus } from './status.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/replog.js');
/** A replica that exits sooner than this after starting failed to start: no point restarting it. */
const START_GRACE_MS = 3000;

interface Member {
  id: number;
  address: string;
  admin: string;
  dir: string;
  logFile: string;
  child?: ChildProcess;
  startedAt: number;
}

export async function clusterCommand(opts: { replicas: number; dir: string; port: number; adminPort: number; tls?: boolean }): Promise<void> {
  if (opts.replicas < 1 || opts.replicas > 9) throw new InvalidArgumentError('--replicas must be between 1 and 9');
  if (opts.port + opts.replicas - 1 > 65535 || opts.adminPort + opts.replicas - 1 > 65535) throw new InvalidArgumentError('ports out of range');
  const root = resolve(opts.dir);
  mkdirSync(root, { recursive: true });
  const members: Member[] = Array.from({ length: opts.replicas }, (_, i) => ({
    id: i + 1,
    address: `127.0.0.1:${opts.port + i}`,
    admin: `127.0.0.1:${opts.adminPort + i}`,
    dir: join(root, `replica-${i + 1}`),
    logFile: join(root, `replica-${i + 1}.log`),
    startedAt: 0,
  }));
  const membersFlag = members.map((m) => `${m.id}=${m.address}`).join(',');
  const tlsDir = join(root, 'tls');
  if (opts.tls) makeCertificates(tlsDir, members.map((m) => m.id));
  const tlsFlags = (m: Member) => (opts.tls ? ['--tls-ca', join(tlsDir, 'ca.crt'), '--tls-cert', join(tlsDir, `replica-${m.id}.crt`), '--tls-key', join(tlsDir, `replica-${m.id}.key`)] : []);
  const client = { ca: join(tlsDir, 'ca.crt'), cert: join(tlsDir, 'client-admin.crt'), key: join(tlsDir, 'client-admin.key') };
  const statusTls = opts.tls ? new TlsCredentials(readTls(client)) : undefined;
  let stopping = false;

  const start = (m: Member) => {
    const fd = openSync(m.logFile, 'a');
    m.startedAt = Date.now();
    const child = spawn(
      process.execPath,
      [BIN, 'replica', '--id', String(m.id), '--dir', m.dir, '--listen', m.address, '--members', membersFlag, '--admin', m.admin, ...tlsFlags(m)],
      { stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    m.child = child;
    child.on('exit', (code, signal) => {
      m.child = undefined;
      if (stopping) return;
      const how = signal !== null ? `signal ${signal}` : `code ${code}`;
      if (Date.now() - m.startedAt < START_GRACE_MS) {
        process.stderr.write(`replog: replica ${m.id} failed to start (${how}): ${lastLine(m.logFile)}\n`);
        void stopAll(1);
        return;
      }
      process.stderr.write(`replica ${m.id} exited (${how}); restarting it (log: ${m.logFile})\n`);
      setTimeout(() => !stopping && start(m), 1000);
    });
  };

  const stopAll = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    const running = members.filter((m) => m.child !== undefined);
    await Promise.all(
      running.map(
        (m) =>
          new Promise<void>((res) => {
            m.child!.once('exit', () => res());
            m.child!.kill('SIGTERM');
          }),
      ),
    );
    if (exitCode === 0) process.stdout.write('all replicas stopped\n');
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  for (const m of members) start(m);
  process.stdout.write(`replog: starting ${opts.replicas} replicas, data in ${root}, ${opts.tls ? `mutual TLS (certificates in ${tlsDir})` : 'plaintext (no TLS: --tls for mutual TLS)'}\n`);
  for (const m of members) process.stdout.write(`  replica ${m.id}  ${m.address}  admin ${opts.tls ? 'https' : 'http'}://${m.admin}/status  log ${m.logFile}\n`);

  // Report once every replica is VOTING (a new cluster initialises itself in about a second).
  const addresses = members.map((m) => m.address);
  for (let shown = ''; !stopping; ) {
    const rows = await collectStatus(addresses, 1000, statusTls);
    const summary = rows.map((r) => `${r.id ?? '?'}:${r.status}`).join(' ');
    if (rows.every((r) => r.status === 'VOTING')) {
      const env = opts.tls ? `  export REPLOG_TLS_CA=${client.ca} REPLOG_TLS_CERT=${client.cert} REPLOG_TLS_KEY=${client.key}\n` : '';
      const log = opts.port === 7001 && opts.replicas === 3 ? '' : `  export REPLOG_LOG=${addresses.join(',')}\n`;
      process.stdout.write(
        `replog: cluster ready, ${opts.replicas} replicas VOTING. In another terminal:\n` +
          env +
          log +
          `  npx replog append hello\n  npx replog read\n  npx replog status\n` +
          `Ctrl-C stops the cluster.\n`,
      );
      break;
    }
    if (summary !== shown) {
      shown = summary;
      process.stdout.write(`  waiting for replicas: ${summary}\n`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise(() => {}); // until a signal
}

function lastLine(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const last = lines[lines.length - 1] ?? '';
    try {
      const j = JSON.parse(last) as { msg?: string; err?: string };
      return j.err ?? j.msg ?? last;
    } catch {
      return last;
    }
  } catch {
    return '(no log)';
  }
}

/** Certificates for the local cluster, made once: what is already in `dir` is kept (a restart reuses it). */
function makeCertificates(dir: string, ids: readonly number[]): void {
  const replicas = ids.filter((id) => !existsSync(join(dir, `replica-${id}.crt`)));
  const clients = existsSync(join(dir, 'client-admin.crt')) ? [] : [{ name: 'admin', role: 'admin' as const }];
  if (replicas.length > 0 || clients.length > 0) createCertificates({ dir, replicas, clients });
}
