/**
 * Reading the whole log with every replica up and with one down (issue 21's
 * third goal): `node dist/bench/read-down.js [--entries N] [--bytes B] [--reads R]`.
 *
 * Three replica processes on loopback; one writer fills the log with N entries
 * of B bytes (default 228,000 of 256 B, the issue's figure) at 1024 in flight.
 * A second client then reads the whole log R times (default 3) with all three
 * up; replica 3 is SIGKILLed and the same client reads it R times again, then
 * a fresh client (started after the kill, its address list still naming the
 * dead replica) reads it R times. Each read is timed, with the CPU the client
 * and each live replica used during it (user + system from /proc) and the CPU
 * other processes used meanwhile (outside load, in cores: quote figures with it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogClient } from '../src/client/log-client.js';
import { startReplogCluster } from './lib/replog-cluster.js';
import { cpuMs } from './lib/procstat.js';
import { waitUntil } from './lib/processes.js';
import { withOutsideLoad } from './lib/outside-load.js';

function arg(argv: readonly string[], flag: string, dflt: number): number {
  const i = argv.indexOf(flag);
  return i < 0 ? dflt : Number(argv[i + 1]);
}

function selfCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export async function main(argv: readonly string[]): Promise<void> {
  const entries = arg(argv, '--entries', 228_000);
  const bytes = arg(argv, '--bytes', 256);
  const reads = arg(argv, '--reads', 3);
  const root = mkdtempSync(join(tmpdir(), 'replog-bench-read-'));
  const cluster = await startReplogCluster({ dir: root });
  const writing = await LogClient.connect(cluster.addresses, { waitForQuorum: true });
  let reading = await LogClient.connect(cluster.addresses, { waitForQuorum: true });
  try {
    const writer = await writing.writer();
    const entry = new Uint8Array(bytes).fill(7);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 1024 }, async () => {
        while (next < entries) {
          next++;
          await writer.append(entry);
        }
      }),
    );
    const end = await writing.ending();
    console.log(`filled ${entries} entries of ${bytes} B in ${((performance.now() - t0) / 1000).toFixed(1)} s; log ends at ${end}`);
    await writing.close();

    const live = (down: number[]): number[] => cluster.pids.filter((_, i) => !down.includes(i + 1));
    const timeRead = async (log: LogClient, label: string, pids: number[]): Promise<void> => {
      for (let r = 0; r < reads; r++) {
        const cpu0 = pids.map((p) => cpuMs(p) / 1000);
        const self0 = selfCpu();
        const s = performance.now();
        const { result: got, outside } = await withOutsideLoad(() => pids, () => log.read(0, end));
        const secs = (performance.now() - s) / 1000;
        const replicas = pids.map((p, i) => (cpuMs(p) / 1000 - cpu0[i]!).toFixed(2)).join('+');
        console.log(
          `${label.padEnd(30)} ${got.length} entries in ${secs.toFixed(2)} s (${Math.round(got.length / secs).toLocaleString('en')}/s); CPU s client ${(selfCpu() - self0).toFixed(2)}, replicas ${replicas}; outside load ${outside.cores.toFixed(2)} cores`,
        );
      }
    };
    await timeRead(reading, 'all three up', live([]));
    process.kill(cluster.pids[2]!, 'SIGKILL');
    await waitUntil(async () => { try { process.kill(cluster.pids[2]!, 0); return false; } catch { return true; } }, 10_000, 'replica 3 to exit');
    await timeRead(reading, 'replica 3 down (same client)', live([3]));
    await reading.close();
    reading = await LogClient.connect(cluster.addresses, { waitForQuorum: true });
    await timeRead(reading, 'replica 3 down (new client)', live([3]));
  } finally {
    await reading.close();
    await cluster.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('/bench/read-down.js')) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
