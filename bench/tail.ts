/**
 * Append-to-tail latency (issue 18): `npm run bench -- tail [--quick]`.
 *
 * Three replica processes on loopback. One client appends single entries,
 * spaced out (a tail's latency is about waiting, not throughput); two tails
 * follow the log: one on the appending client (woken in process when its
 * writer has a position chosen) and one on another client (woken by its
 * held reads, answered when a replica learns the position: docs/library.md).
 * For each entry: the append's latency, and the time from the append call to
 * each tail yielding it. Then the same after
 * pauses of 3 s (an idle tail).
 *
 * Flags: --quick (fewer entries and pauses), --entries N (default 300), --idle N (pauses, default 10).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogClient } from '../src/client/log-client.js';
import { startReplogCluster } from './lib/replog-cluster.js';
import { fmtMs, Samples, sleep } from './lib/stats.js';

function arg(argv: readonly string[], flag: string, dflt: number): number {
  const i = argv.indexOf(flag);
  return i < 0 ? dflt : Number(argv[i + 1]);
}

interface Series {
  readonly append: Samples;
  readonly sameClient: Samples;
  readonly otherClient: Samples;
}

function row(name: string, s: Samples): void {
  const x = s.summary();
  console.log(`${name.padEnd(34)} p50 ${fmtMs(x.p50).padStart(9)}   p99 ${fmtMs(x.p99).padStart(9)}   max ${fmtMs(x.max).padStart(9)}   (${x.count})`);
}

export async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const entries = arg(argv, '--entries', quick ? 100 : 300);
  const pauses = arg(argv, '--idle', quick ? 3 : 10);
  const root = mkdtempSync(join(tmpdir(), 'replog-bench-tail-'));
  const cluster = await startReplogCluster({ dir: root });
  const writing = await LogClient.connect(cluster.addresses, { waitForQuorum: true });
  const other = await LogClient.connect(cluster.addresses, { waitForQuorum: true });
  try {
    const writer = await writing.writer();
    const from = (await writing.ending()) + 1;
    /** When each entry's append was called, by its text. */
    const sentAt = new Map<string, number>();
    const arrivals = new Map<string, { same?: number; other?: number }>();
    const follow = async (log: LogClient, which: 'same' | 'other', stop: AbortSignal): Promise<void> => {
      try {
        for await (const e of log.tail(from, { signal: stop })) {
          const key = Buffer.from(e.data).toString();
          const a = arrivals.get(key) ?? {};
          a[which] = performance.now();
          arrivals.set(key, a);
        }
      } catch {
        // Stopped by the signal.
      }
    };
    const stop = new AbortController();
    const tails = [follow(writing, 'same', stop.signal), follow(other, 'other', stop.signal)];

    const run = async (n: number, gapMs: number): Promise<Series> => {
      const s: Series = { append: new Samples(), sameClient: new Samples(), otherClient: new Samples() };
      for (let i = 0; i < n; i++) {
        const key = `${gapMs}-${i}`;
        const t0 = performance.now();
        sentAt.set(key, t0);
        await writer.append(key);
        s.append.add(performance.now() - t0);
        // Wait until both tails have it (bounded), then the gap.
        const until = performance.now() + 5000;
        while ((arrivals.get(key)?.same === undefined || arrivals.get(key)?.other === undefined) && performance.now() < until) await sleep(1);
        const a = arrivals.get(key) ?? {};
        if (a.same !== undefined) s.sameClient.add(a.same - t0);
        if (a.other !== undefined) s.otherClient.add(a.other - t0);
        await sleep(gapMs);
      }
      return s;
    };

    console.log(`3 replicas on loopback; single appends of a few bytes; tails on the appending client and on another client`);
    const busy = await run(entries, 20);
    console.log(`\n${entries} entries, 20 ms apart:`);
    row('append', busy.append);
    row('tail on the appending client', busy.sameClient);
    row('tail on another client', busy.otherClient);
    const idle = await run(pauses, 3000);
    console.log(`\n${pauses} entries, 3 s apart (idle tails):`);
    row('append', idle.append);
    row('tail on the appending client', idle.sameClient);
    row('tail on another client', idle.otherClient);
    stop.abort();
    await Promise.all(tails);
  } finally {
    await writing.close();
    await other.close();
    await cluster.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('/bench/tail.js')) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
