/** Latency samples and the figures the benchmark reports from them. */

/** A growable array of latencies in milliseconds. */
export class Samples {
  private buf = new Float64Array(1024);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.buf.length) {
      const bigger = new Float64Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  /** p50, p99 (and the mean and max) in ms; zeros when empty. */
  summary(): LatencySummary {
    if (this.n === 0) return { p50: 0, p99: 0, mean: 0, max: 0, count: 0 };
    const sorted = this.buf.slice(0, this.n).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    return { p50: pct(sorted, 0.5), p99: pct(sorted, 0.99), mean: sum / this.n, max: sorted[this.n - 1]!, count: this.n };
  }
}

export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
  readonly count: number;
}

function pct(sorted: Float64Array, q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Rounds for JSON and tables: 3 significant decimals of a millisecond. */
export function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function fmtRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US');
}

export function fmtMs(ms: number): string {
  return ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
