/**
 * Three replica processes (`bin/replog.js replica`) on loopback, each with its
 * data directory under `dir`, as a user would run them.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts, startLogged, stopProcess, waitUntil } from './processes.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/replog.js');

export interface ReplogCluster {
  readonly addresses: string[];
  readonly pids: number[];
  /** Admin HTTP addresses (GET /status, /metrics), one per replica. */
  readonly admins: string[];
  stop(): Promise<void>;
}

export interface ClusterOptions {
  readonly dir: string;
  readonly replicas?: number;
  /** Node flags per replica id (e.g. --cpu-prof for one of them). */
  readonly nodeFlags?: (id: number) => string[];
}

export async function startReplogCluster(o: ClusterOptions): Promise<ReplogCluster> {
  const n = o.replicas ?? 3;
  const ports = await freePorts(2 * n);
  const addresses = ports.slice(0, n).map((p) => `127.0.0.1:${p}`);
  const admins = ports.slice(n).map((p) => `127.0.0.1:${p}`);
  const members = addresses.map((a, i) => `${i + 1}=${a}`).join(',');
  const children: ChildProcess[] = [];
  mkdirSync(o.dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const id = i + 1;
    const args = [...(o.nodeFlags?.(id) ?? []), BIN, 'replica', '--id', String(id), '--dir', join(o.dir, `replica-${id}`), '--listen', addresses[i]!, '--members', members, '--admin', admins[i]!];
    children.push(startLogged(process.execPath, args, join(o.dir, `replica-${id}.log`)));
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
        const statuses = await Promise.all(admins.map(async (a) => ((await (await fetch(`http://${a}/status`)).json()) as { status: string }).status));
        return statuses.every((s) => s === 'VOTING');
      },
      30_000,
      'the replicas to become VOTING',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { addresses, pids: children.map((c) => c.pid!), admins, stop };
}

/** The sum over the replicas of a counter of their /metrics (e.g. replog_write_positions_total). */
export async function counterSum(admins: readonly string[], name: string): Promise<number> {
  const values = await Promise.all(
    admins.map(async (a) => {
      const text = await (await fetch(`http://${a}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    }),
  );
  return values.reduce((x, y) => x + y, 0);
}
