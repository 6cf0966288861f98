/**
 * CPU time and memory of other processes, from Linux's /proc (the replicas,
 * etcd). CPU is user + system time in ms; memory is the resident set (VmRSS)
 * and its peak over the process's life (VmHWM), in bytes.
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // sysconf(_SC_CLK_TCK) on Linux

/** User + system CPU time of `pid` in ms, or NaN if it cannot be read. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing paren.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

export interface Memory {
  readonly rss: number;
  readonly peak: number;
}

/** VmRSS and VmHWM of `pid` in bytes (zeros if it cannot be read). */
export function memory(pid: number): Memory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { rss: 0, peak: 0 };
  }
}

/** This process's CPU time (user + system) in ms. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Samples the resident set of some processes every `everyMs` while a run
 * lasts, so each run reports its own peak (VmHWM only knows the whole life).
 */
export class RssSampler {
  private readonly peaks = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: readonly number[],
    everyMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample(): void {
    for (const pid of this.pids) this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, memory(pid).rss));
  }

  /** Stops sampling; the peak RSS of each process during the run, in bytes. */
  stop(): Map<number, number> {
    clearInterval(this.timer);
    this.sample();
    return this.peaks;
  }
}
