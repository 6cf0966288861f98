/**
 * Latencies observed during one sampling period (the console's charts draw
 * one point a second): p50 and p99 of what was observed since the last take().
 * Bounded: past `capacity` samples it keeps a uniform random subset
 * (reservoir sampling), so a burst of writes costs no more memory.
 */
export interface LatencyPoint {
  /** Samples observed in the period (all of them, not only those kept). */
  readonly count: number;
  /** Median and 99th percentile in ms; null when nothing was observed. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export class LatencyWindow {
  private samples: number[] = [];
  private seen = 0;

  constructor(private readonly capacity = 4096, private readonly random: () => number = Math.random) {}

  observe(ms: number): void {
    this.seen++;
    if (this.samples.length < this.capacity) this.samples.push(ms);
    else {
      const i = Math.floor(this.random() * this.seen);
      if (i < this.capacity) this.samples[i] = ms;
    }
  }

  /** The period's quantiles; starts a new period. */
  take(): LatencyPoint {
    const s = this.samples.sort((a, b) => a - b);
    const count = this.seen;
    this.samples = [];
    this.seen = 0;
    if (s.length === 0) return { count, p50Ms: null, p99Ms: null };
    return { count, p50Ms: quantile(s, 0.5), p99Ms: quantile(s, 0.99) };
  }
}

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}
