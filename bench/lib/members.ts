/**
 * The pieces the multi-process benchmarks share: the CLI's path, a replica
 * process as a benchmark sees it, its /status, and filling a log fast.
 */
import type { ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Writer } from '../../src/client/writer.js';

export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/replog.js');

export interface BenchMember {
  id: number;
  address: string;
  admin: string;
  dir: string;
  proc?: ChildProcess;
}

export interface BenchStatus {
  status: string;
  role?: string;
  end: number;
  recovery: { done: number; total: number } | null;
}

/** A replica's GET /status. */
export async function status(m: BenchMember): Promise<BenchStatus> {
  return (await (await fetch(`http://${m.admin}/status`)).json()) as BenchStatus;
}

/** Appends `entries` copies of `entry` with 4,096 in flight. */
export async function fillLog(writer: Writer, entries: number, entry: Uint8Array): Promise<void> {
  const inflight = new Set<Promise<number>>();
  for (let next = 0; next < entries; ) {
    while (inflight.size < 4096 && next < entries) {
      const p = writer.append(entry);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      next++;
    }
    await Promise.race(inflight);
  }
  await Promise.all(inflight);
}
