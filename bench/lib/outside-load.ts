/**
 * The CPU other processes used while the benchmark measured: the machine is
 * shared, and a neighbour's work moves latency (the same configuration went
 * from 0.77 to 1.5 ms p50 under outside load; issue 21). From /proc/stat
 * (every CPU's user + nice + system time) minus the benchmark's own processes
 * (this one, the servers) over the same interval, in cores (1 = one CPU busy
 * the whole time). Kernel work on interrupts (irq, softirq: our own loopback
 * traffic lands there) is left out of both sides; steal (time the hypervisor
 * gave other machines) is reported apart.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { cpuMs, selfCpuMs } from './procstat.js';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** One reading of the machine's and our processes' CPU counters. */
export interface CpuReading {
  readonly atMs: number;
  /** user + nice + system of every CPU, ms; NaN where /proc/stat is missing. */
  readonly machineMs: number;
  readonly stealMs: number;
  /** CPU time of this process and `pids`, ms. */
  readonly ownMs: number;
}

export interface OutsideLoad {
  /** CPU other processes used, in cores, averaged over the interval. */
  readonly cores: number;
  /** CPU the benchmark's own processes used, in cores. */
  readonly ownCores: number;
  readonly stealCores: number;
  readonly seconds: number;
}

function machineCpu(): { busyMs: number; stealMs: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number); // user nice system idle iowait irq softirq steal …
    return { busyMs: ((f[0]! + f[1]! + f[2]!) * 1000) / TICKS_PER_SECOND, stealMs: ((f[7] ?? 0) * 1000) / TICKS_PER_SECOND };
  } catch {
    return { busyMs: NaN, stealMs: NaN };
  }
}

/** CPU time of this process's children that exited and were waited for (cutime + cstime), ms. */
function reapedChildrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * Reads the counters now. Ours: this process, its children that exited (the
 * floor's helpers), and `pids`, the running servers.
 */
export function readCpu(pids: readonly number[]): CpuReading {
  const m = machineCpu();
  let own = selfCpuMs() + reapedChildrenCpuMs();
  for (const pid of pids) {
    const c = cpuMs(pid);
    if (Number.isFinite(c)) own += c;
  }
  return { atMs: performance.now(), machineMs: m.busyMs, stealMs: m.stealMs, ownMs: own };
}

/** What other processes used between two readings (never below 0: the counters tick at different moments). */
export function outsideLoad(a: CpuReading, b: CpuReading): OutsideLoad {
  const ms = b.atMs - a.atMs;
  const per = (x: number) => (ms > 0 ? x / ms : 0);
  const own = b.ownMs - a.ownMs;
  return {
    cores: Math.max(0, per(b.machineMs - a.machineMs - own)),
    ownCores: per(own),
    stealCores: per(b.stealMs - a.stealMs),
    seconds: ms / 1000,
  };
}

/** Measures the outside load while `work` runs. */
export async function withOutsideLoad<T>(pids: () => readonly number[], work: () => Promise<T> | T): Promise<{ result: T; outside: OutsideLoad }> {
  const a = readCpu(pids());
  const result = await work();
  return { result, outside: outsideLoad(a, readCpu(pids())) };
}
