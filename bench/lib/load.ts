/**
 * A closed-loop load generator, the same for replog and etcd: `inflight`
 * workers each issue one operation, wait for it, and issue the next, so
 * exactly `inflight` operations are outstanding at all times. Operations that
 * complete during the measuring window count; latencies are per operation.
 */
import { performance } from 'node:perf_hooks';
import { Samples, sleep, type LatencySummary } from './stats.js';

export interface LoadResult {
  readonly inflight: number;
  readonly entryBytes: number;
  readonly seconds: number;
  readonly ops: number;
  /** Operations completed from the first one issued to the last one waited for (warm-up and drain included). */
  readonly opsTotal: number;
  readonly opsPerSecond: number;
  readonly mbPerSecond: number;
  readonly latencyMs: LatencySummary;
}

export interface LoadOptions {
  readonly inflight: number;
  readonly entryBytes: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Called once measuring starts and once it ends (to read CPU counters at the same instants). */
  readonly onMeasure?: (phase: 'start' | 'end') => void;
  readonly onTick?: (elapsedMs: number) => void;
}

export async function closedLoop(op: () => Promise<unknown>, o: LoadOptions): Promise<LoadResult> {
  const samples = new Samples();
  let measuring = false;
  let stop = false;
  let ops = 0;
  let opsTotal = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const t = performance.now();
      try {
        await op();
      } catch (err) {
        failure ??= err;
        stop = true;
        return;
      }
      opsTotal++;
      if (measuring) {
        samples.add(performance.now() - t);
        ops++;
      }
    }
  };
  const workers = Array.from({ length: o.inflight }, worker);
  await sleep(o.warmupMs);
  measuring = true;
  o.onMeasure?.('start');
  const start = performance.now();
  for (let waited = 0; waited < o.measureMs && !stop; waited += 250) {
    await sleep(Math.min(250, o.measureMs - waited));
    o.onTick?.(performance.now() - start);
  }
  measuring = false;
  const seconds = (performance.now() - start) / 1000;
  o.onMeasure?.('end');
  stop = true;
  await Promise.all(workers);
  if (failure !== undefined) throw failure;
  const opsPerSecond = ops / seconds;
  return {
    inflight: o.inflight,
    entryBytes: o.entryBytes,
    seconds,
    ops,
    opsTotal,
    opsPerSecond,
    mbPerSecond: (opsPerSecond * o.entryBytes) / 1e6,
    latencyMs: samples.summary(),
  };
}
