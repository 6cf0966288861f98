/**
 * The state store's benchmark (issue 16): `npm run bench -- state [--quick]`.
 *
 * Three replica processes on loopback (as bench/replog.ts), driven from this
 * process with 100-byte values over 1000 keys, closed loop with many in flight:
 *   - raw appends (the log's own rate, the ceiling: each state write is an append)
 *   - unconditional puts
 *   - compare-and-set puts (read the key locally, put with ifModRevision: some fail their condition)
 *   - linearizable gets (a shared barrier append per turn of the event loop)
 * then the log's size on disk over a long run of updates with automatic
 * snapshots, beside the live state's size.
 *
 * Flags: --quick (1 s runs, 50k updates), --seconds S (default 3),
 * --inflight N (default 256), --updates N (default 200000), --dir D.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogClient } from '../src/client/log-client.js';
import { StateStore } from '../src/state/store.js';
import { closedLoop, type LoadResult } from './lib/load.js';
import { startReplogCluster } from './lib/replog-cluster.js';
import { fmtMs, fmtRate } from './lib/stats.js';

interface Options {
  seconds: number;
  inflight: number;
  updates: number;
  dir: string;
}

function parseArgs(argv: readonly string[]): Options {
  const val = (f: string): string | undefined => {
    const i = argv.indexOf(f);
    return i < 0 ? undefined : argv[i + 1];
  };
  const quick = argv.includes('--quick');
  return {
    seconds: Number(val('--seconds') ?? (quick ? 1 : 3)),
    inflight: Number(val('--inflight') ?? 256),
    updates: Number(val('--updates') ?? (quick ? 50_000 : 200_000)),
    dir: val('--dir') ?? tmpdir(),
  };
}

const KEYS = 1000;
const value = Buffer.alloc(100, 'v');
const randomKey = () => `bench/${Math.floor(Math.random() * KEYS)}`;

function bytesUnder(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    n += s.isDirectory() ? bytesUnder(p) : s.size;
  }
  return n;
}

function row(name: string, r: LoadResult, extra = ''): void {
  console.log(`${name.padEnd(28)} ${fmtRate(r.opsPerSecond).padStart(12)}/s   p50 ${fmtMs(r.latencyMs.p50).padStart(8)}   p99 ${fmtMs(r.latencyMs.p99).padStart(8)}${extra}`);
}

export async function main(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv);
  const root = mkdtempSync(join(o.dir, 'replog-bench-state-'));
  const cluster = await startReplogCluster({ dir: root });
  const load = { inflight: o.inflight, entryBytes: value.byteLength, warmupMs: 500, measureMs: o.seconds * 1000 };
  try {
    console.log(`3 replicas on loopback; ${o.inflight} in flight; ${value.byteLength}-byte values over ${KEYS} keys; ${o.seconds} s per run`);
    const log = await LogClient.connect(cluster.addresses);
    const writer = await log.writer();
    const raw = await closedLoop(() => writer.append(value), load);
    row('raw append', raw);
    await writer.resign();

    // Snapshots once the updates since the last one outweigh the live state, truncating right behind each.
    const store = await StateStore.open(log, { snapshotEvery: { stateRatio: 1 }, keepHistory: false });
    await Promise.all(Array.from({ length: KEYS }, (_, i) => store.put(`bench/${i}`, value)));
    const puts = await closedLoop(() => store.put(randomKey(), value), load);
    row('put', puts, `   (${((100 * puts.opsPerSecond) / raw.opsPerSecond).toFixed(0)}% of the append rate)`);
    let failed = 0;
    const cas = await closedLoop(async () => {
      const key = randomKey();
      const kv = await store.get(key, { consistency: 'local' });
      const r = await store.put(key, value, { ifModRevision: kv?.modRevision ?? 0 });
      if (!r.ok) failed++;
    }, load);
    row('compare-and-set put', cas, `   (${((100 * cas.opsPerSecond) / raw.opsPerSecond).toFixed(0)}% of the append rate; ${((100 * failed) / Math.max(1, cas.opsTotal)).toFixed(1)}% failed their condition)`);
    const reads = await closedLoop(() => store.get(randomKey()), load);
    row('linearizable get', reads);

    // The log's size on disk over many updates with automatic snapshots.
    const started = performance.now();
    let done = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: o.inflight }, async () => {
        while (done < o.updates) {
          done++;
          await store.put(randomKey(), value);
          if (done % 20_000 === 0) peak = Math.max(peak, bytesUnder(root));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const live = (await store.range({ prefix: 'bench/' })).kvs.reduce((n, kv) => n + kv.key.length + kv.value.byteLength, 0);
    const onDisk = bytesUnder(root) / 3;
    let retained = 0;
    for (const e of await log.read(await log.beginning(), await log.ending())) retained += e.data.byteLength;
    console.log(
      `${o.updates} updates of ${KEYS} keys in ${seconds.toFixed(1)} s: live state ${(live / 1024).toFixed(0)} KiB; ` +
        `log per replica on disk at the end ${(onDisk / 1024 / 1024).toFixed(1)} MiB, peak ${(peak / 3 / 1024 / 1024).toFixed(1)} MiB ` +
        `(whole 64 MiB segments are reclaimed, so disk lags the log); entries retained in the log ${(retained / 1024).toFixed(0)} KiB ` +
        `(${(retained / live).toFixed(1)}x the live state)`,
    );
    await store.close();
    await log.close();
  } finally {
    await cluster.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('/bench/state.js')) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
