/**
 * The replog benchmark (issue 7): `npm run bench` (or `npm run bench -- replog …`),
 * also `replog bench …`.
 *
 * It measures the machine's floor first (fdatasync of a 4 KiB append, alone
 * and in 3 processes at once as 3 local replicas do; a Node TCP loopback
 * round trip), then starts three replica processes
 * (`bin/replog.js replica`) on loopback in a temporary directory and drives
 * them with the library (LogClient + Writer) from this process: 256 B appends
 * with 1, 4, 16, 64, 256, 1024 in flight (closed loop: each append waits for
 * its result before the next is issued), then 16 KiB appends (MB/s). For each
 * run: throughput, latency p50/p99, CPU per append (client and each replica,
 * from /proc/<pid>/stat), peak RSS of each replica (/proc/<pid>/status) and
 * the CPU other processes used meanwhile (outside load, /proc/stat minus
 * ours); a run with outside load above --max-outside is run again (--redo
 * times) and the least loaded attempt kept, flagged if still loaded. Before
 * the runs the cluster warms up until CPU per append is stable (V8 is still
 * optimising for the first seconds).
 * With `--peer etcd` it does the same against a 3-member etcd cluster.
 * Prints a table, writes bench/results/<timestamp>.json and .svg (and
 * latest.json / latest.svg).
 *
 * Flags:
 *   --quick             about 30 s instead of about 1.5 min (3 with etcd)
 *   --peer etcd         also measure etcd (installs etcd-server with apt-get if missing)
 *   --seconds S         measuring time per run (default 4, quick 1)
 *   --levels 1,4,16     the in-flight levels (default 1,4,16,64,256,1024)
 *   --dir D             where the temporary data directories go (default the OS temp dir)
 *   --out D             where results go (default bench/results)
 *   --profile           CPU-profiles the client (256 B runs at 64+ in flight) and replica 1
 *                       (whole life); .cpuprofile files and a summary go to OUT/profiles
 *   --warmup-max S      longest warm-up before the runs (default 30, quick 10)
 *   --max-outside C     outside load (cores) above which a run is redone (default 0.25)
 *   --redo N            how many times a loaded run is redone (default 2, quick 0)
 *   --tls               replog over mutual TLS (replica to replica and client to replica), with
 *                       certificates made for the run; etcd, if measured, stays plaintext
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { cpus, freemem, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Session } from 'node:inspector/promises';
import { spawnSync } from 'node:child_process';
import cliProgress from 'cli-progress';
import { LogClient } from '../src/client/log-client.js';
import { chartOfResults } from './lib/chart.js';
import { ensureEtcd, etcdPutter, startEtcdCluster } from './lib/etcd.js';
import { concurrentFdatasyncFloor, fdatasyncFloor, loopbackFloor } from './lib/floor.js';
import { closedLoop, type LoadResult } from './lib/load.js';
import { outsideLoad, readCpu, withOutsideLoad, type CpuReading, type OutsideLoad } from './lib/outside-load.js';
import { cpuMs, memory, RssSampler, selfCpuMs } from './lib/procstat.js';
import { summariseProfileFile } from './lib/profile.js';
import { counterSum, startReplogCluster } from './lib/replog-cluster.js';
import { fmtMs, fmtRate, r3, type LatencySummary } from './lib/stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Options {
  quick: boolean;
  peer: 'etcd' | undefined;
  seconds: number;
  levels: number[];
  dir: string;
  out: string;
  profile: boolean;
  tls: boolean;
  warmupMaxSeconds: number;
  maxOutsideCores: number;
  redo: number;
}

function parseArgs(argv: readonly string[]): Options {
  const has = (f: string) => argv.includes(f);
  const val = (f: string): string | undefined => {
    const i = argv.indexOf(f);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${f} needs a value`);
    return v;
  };
  const known = new Set(['--quick', '--peer', '--seconds', '--levels', '--dir', '--out', '--profile', '--tls', '--debug', '--warmup-max', '--max-outside', '--redo']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    if (!known.has(a)) throw new Error(`unknown flag ${a} (have: ${[...known].join(' ')})`);
  }
  const quick = has('--quick');
  const peer = val('--peer');
  if (peer !== undefined && peer !== 'etcd') throw new Error(`--peer: only 'etcd' is supported, got '${peer}'`);
  const seconds = Number(val('--seconds') ?? (quick ? 1 : 4));
  if (!(seconds > 0)) throw new Error('--seconds must be positive');
  const warmupMaxSeconds = Number(val('--warmup-max') ?? (quick ? 10 : 30));
  const maxOutsideCores = Number(val('--max-outside') ?? 0.25);
  const redo = Number(val('--redo') ?? (quick ? 0 : 2));
  if (!(warmupMaxSeconds >= 0) || !(maxOutsideCores >= 0) || !(Number.isSafeInteger(redo) && redo >= 0)) throw new Error('--warmup-max, --max-outside: numbers >= 0; --redo: an integer >= 0');
  const levels = (val('--levels') ?? '1,4,16,64,256,1024').split(',').map(Number);
  if (levels.some((l) => !Number.isSafeInteger(l) || l < 1)) throw new Error('--levels: positive integers, comma-separated');
  return {
    quick,
    peer: peer as 'etcd' | undefined,
    seconds,
    levels,
    dir: val('--dir') ?? tmpdir(),
    out: resolve(val('--out') ?? join(ROOT, 'bench', 'results')),
    profile: has('--profile'),
    tls: has('--tls'),
    warmupMaxSeconds,
    maxOutsideCores,
    redo,
  };
}

/** One load run with its resource figures. */
interface Run extends LoadResult {
  readonly system: 'replog' | 'etcd';
  /** CPU time per operation in µs: the client (this process), and each server process. */
  readonly cpuUsPerOp: { readonly client: number; readonly servers: number[]; readonly serversTotal: number };
  /** Peak resident set of each server process during the run, MiB. */
  readonly peakRssMiB: number[];
  /**
   * replog only: positions the replicas received in write requests per append
   * and replica (1 when nothing was sent twice; above 1 the writer retransmitted).
   */
  writesPerAppend?: number;
  /** CPU other processes used during the measuring window. */
  readonly outside: OutsideLoad;
  /** How many times the run was made (more than 1: earlier attempts shared the machine); the least loaded one is kept. */
  readonly attempts: number;
  /** True if even the kept attempt had outside load above --max-outside. */
  readonly loaded: boolean;
}

/** The warm-up before the runs: 1 s windows until CPU per append is stable. */
interface WarmUp {
  readonly inflight: number;
  readonly seconds: number;
  /** CPU µs per append (client and servers) of each window. */
  readonly cpuUsPerOp: number[];
  /** True if the last three windows were within 10% of each other before --warmup-max ran out. */
  readonly stable: boolean;
}

type ThreeSyncs = { p50: number; p99: number; processes: number; outside: OutsideLoad };

interface Floor {
  /** The better (lower p50) of the measurements before and after the replog load: the disk is shared, a neighbour's burst must not lower the bar. */
  readonly fdatasync4k: LatencySummary & { perSecond: number };
  readonly fdatasync4kBefore: LatencySummary & { perSecond: number; outside: OutsideLoad };
  readonly fdatasync4kAfter: LatencySummary & { perSecond: number; outside: OutsideLoad };
  /** The same with 3 processes syncing at once (as 3 local replicas do), the better of before and after: with the round trip, the floor of one append. */
  readonly fdatasync4kThreeAtOnce: ThreeSyncs;
  readonly fdatasync4kThreeAtOnceBefore: ThreeSyncs;
  readonly fdatasync4kThreeAtOnceAfter: ThreeSyncs;
  readonly loopbackRtt: LatencySummary & { outside: OutsideLoad };
}

const WARMUP_INFLIGHT = 16;
/**
 * CPU per append may sit on a plateau for a few seconds and then fall again
 * as V8 optimises more (it fell from about 330 to 130 µs between the 4th and
 * the 8th second in one run): stability counts only after this long.
 */
const WARMUP_MIN_SECONDS = 10;

/**
 * Runs the load in 1 s windows until CPU per append (client and servers) is
 * stable: at least WARMUP_MIN_SECONDS (at most `maxSeconds`), then until the
 * last three windows are within 10% of each other, or `maxSeconds`.
 */
async function warmUp(
  pids: readonly number[],
  op: (entryBytes: number, inflight: number) => { run: () => Promise<unknown>; close?: () => void },
  maxSeconds: number,
  progress: Progress,
): Promise<WarmUp> {
  const { run, close } = op(256, WARMUP_INFLIGHT);
  const cpuUsPerOp: number[] = [];
  const started = performance.now();
  let stable = false;
  const ours = () => selfCpuMs() + pids.reduce((a, pid) => a + cpuMs(pid), 0);
  while (!stable && performance.now() - started < maxSeconds * 1000) {
    let c0 = 0;
    let c1 = 0;
    const r = await closedLoop(run, {
      inflight: WARMUP_INFLIGHT,
      entryBytes: 256,
      warmupMs: 0,
      measureMs: 1000,
      onMeasure: (phase) => (phase === 'start' ? (c0 = ours()) : (c1 = ours())),
    });
    cpuUsPerOp.push(r.ops > 0 ? ((c1 - c0) * 1000) / r.ops : 0);
    progress.within((performance.now() - started) / (maxSeconds * 1000));
    const last = cpuUsPerOp.slice(-3);
    const longEnough = performance.now() - started >= Math.min(WARMUP_MIN_SECONDS, maxSeconds) * 1000;
    stable = longEnough && last.length === 3 && Math.max(...last) <= 1.1 * Math.min(...last);
  }
  close?.();
  return { inflight: WARMUP_INFLIGHT, seconds: (performance.now() - started) / 1000, cpuUsPerOp, stable };
}

class Progress {
  private readonly bar: cliProgress.SingleBar;
  private step = 0;
  constructor(private readonly steps: number) {
    this.bar = new cliProgress.SingleBar(
      { format: 'bench [{bar}] {percentage}% | {stage}', stream: process.stderr, hideCursor: true, clearOnComplete: true, barsize: 30 },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(steps * 100, 0, { stage: 'starting' });
  }
  /** Starts the next step. */
  next(stage: string): void {
    this.bar.update(this.step * 100, { stage });
    this.step++;
    if (!process.stderr.isTTY) process.stderr.write(`bench: ${stage}\n`);
  }
  /** Progress within the current step, 0..1. */
  within(fraction: number): void {
    this.bar.update((this.step - 1) * 100 + Math.min(99, Math.round(fraction * 100)));
  }
  stop(): void {
    this.bar.update(this.steps * 100);
    this.bar.stop();
  }
}

async function measureRuns(
  system: 'replog' | 'etcd',
  pids: readonly number[],
  op: (entryBytes: number, inflight: number) => { run: () => Promise<unknown>; close?: () => void },
  plan: readonly { inflight: number; entryBytes: number }[],
  o: Options,
  progress: Progress,
  around?: (p: { inflight: number; entryBytes: number }, phase: 'start' | 'end') => Promise<void>,
  /** replog only: positions received in write requests, summed over the replicas (their metrics). */
  writePositions?: () => Promise<number>,
): Promise<Run[]> {
  const runs: Run[] = [];
  for (const p of plan) {
    progress.next(`${system}: ${p.entryBytes >= 1024 ? `${p.entryBytes / 1024} KiB` : `${p.entryBytes} B`} x ${p.inflight} in flight`);
    let kept: Omit<Run, 'attempts' | 'loaded'> | undefined;
    let attempts = 0;
    // A run that shared the machine is made again; the least loaded attempt is kept.
    while (attempts <= o.redo && (kept === undefined || kept.outside.cores > o.maxOutsideCores)) {
      attempts++;
      const r = await measureRun(system, pids, op, p, o, progress, around, writePositions);
      if (kept === undefined || r.outside.cores < kept.outside.cores) kept = r;
    }
    runs.push({ ...kept!, attempts, loaded: kept!.outside.cores > o.maxOutsideCores });
  }
  return runs;
}

/** One run of `p`: the load, with its CPU, memory and outside load. */
async function measureRun(
  system: 'replog' | 'etcd',
  pids: readonly number[],
  op: (entryBytes: number, inflight: number) => { run: () => Promise<unknown>; close?: () => void },
  p: { inflight: number; entryBytes: number },
  o: Options,
  progress: Progress,
  around?: (p: { inflight: number; entryBytes: number }, phase: 'start' | 'end') => Promise<void>,
  writePositions?: () => Promise<number>,
): Promise<Omit<Run, 'attempts' | 'loaded'>> {
  {
    const { run, close } = op(p.entryBytes, p.inflight);
    let cpu0: number[] = [];
    let cpu1: number[] = [];
    let machine0: CpuReading | undefined;
    let machine1: CpuReading | undefined;
    const sampler = new RssSampler(pids);
    await around?.(p, 'start');
    const received0 = writePositions === undefined ? 0 : await writePositions();
    const measureMs = o.seconds * 1000;
    const r = await closedLoop(run, {
      inflight: p.inflight,
      entryBytes: p.entryBytes,
      warmupMs: o.quick ? 300 : 1000,
      measureMs,
      onMeasure: (phase) => {
        const now = [selfCpuMs(), ...pids.map(cpuMs)];
        if (phase === 'start') {
          cpu0 = now;
          machine0 = readCpu(pids);
        } else {
          cpu1 = now;
          machine1 = readCpu(pids);
        }
      },
      onTick: (ms) => progress.within(ms / measureMs),
    });
    await around?.(p, 'end');
    const received = writePositions === undefined ? 0 : (await writePositions()) - received0;
    close?.();
    const peaks = sampler.stop();
    const perOp = (i: number) => (r.ops > 0 ? ((cpu1[i]! - cpu0[i]!) * 1000) / r.ops : 0);
    const servers = pids.map((_, i) => perOp(i + 1));
    return {
      system,
      ...r,
      cpuUsPerOp: { client: perOp(0), servers, serversTotal: servers.reduce((a, b) => a + b, 0) },
      peakRssMiB: pids.map((pid) => (peaks.get(pid) ?? 0) / 2 ** 20),
      ...(writePositions === undefined ? {} : { writesPerAppend: received / pids.length / Math.max(1, r.opsTotal) }),
      outside: outsideLoad(machine0!, machine1!),
    };
  }
}

function machine(dir: string): Record<string, unknown> {
  const df = spawnSync('df', ['-T', dir], { encoding: 'utf8' });
  const fs = df.status === 0 ? df.stdout.trim().split('\n').pop()!.split(/\s+/)[1] : 'unknown';
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    freeMemoryGiB: Math.round(freemem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    dataDirFs: fs,
  };
}

function table(runs: readonly Run[]): string {
  const head = ['system', 'entry', 'in flight', 'ops/s', 'MB/s', 'p50 ms', 'p99 ms', 'CPU µs/op client', 'CPU µs/op servers', 'peak RSS MiB', 'sent/append', 'outside cores', 'runs'];
  const rows = runs.map((r) => [
    r.system,
    r.entryBytes >= 1024 ? `${r.entryBytes / 1024} KiB` : `${r.entryBytes} B`,
    String(r.inflight),
    fmtRate(r.opsPerSecond),
    r.mbPerSecond.toFixed(1),
    fmtMs(r.latencyMs.p50),
    fmtMs(r.latencyMs.p99),
    r.cpuUsPerOp.client.toFixed(1),
    `${r.cpuUsPerOp.serversTotal.toFixed(1)} (${r.cpuUsPerOp.servers.map((c) => c.toFixed(0)).join('+')})`,
    r.peakRssMiB.map((m) => m.toFixed(0)).join('/'),
    r.writesPerAppend === undefined ? '' : r.writesPerAppend.toFixed(2),
    `${r.loaded ? '! ' : ''}${r.outside.cores.toFixed(2)}`,
    String(r.attempts),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w, i) => (i < 3 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|', ...rows.map(line)].join('\n');
}

export async function main(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv);
  mkdirSync(o.out, { recursive: true });
  const tmp = mkdtempSync(join(o.dir, 'replog-bench-'));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
  const profileDir = join(o.out, 'profiles');
  if (o.profile) mkdirSync(profileDir, { recursive: true });
  const plan256 = o.levels.map((inflight) => ({ inflight, entryBytes: 256 }));
  const plan16k = (o.quick ? [64] : [64, 256]).map((inflight) => ({ inflight, entryBytes: 16 * 1024 }));
  const plan = [...plan256, ...plan16k];
  const etcdVersion = o.peer === 'etcd' ? ensureEtcd((l) => process.stderr.write(`bench: ${l}\n`)) : undefined;
  const progress = new Progress(2 + 2 + plan.length + (o.peer === 'etcd' ? 2 + plan.length : 0));
  const cleanups: (() => Promise<void>)[] = [];
  const onSignal = () => {
    void Promise.all(cleanups.map((c) => c().catch(() => undefined))).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // ---- the floor
    progress.next('floor: fdatasync of a 4 KiB append (1 process, then 3 at once)');
    const floorMsEach = o.quick ? 1000 : 2000;
    const noPids = () => [];
    const measureSyncs = async () => {
      const one = await withOutsideLoad(noPids, () => fdatasyncFloor(tmp, floorMsEach));
      const three = await withOutsideLoad(noPids, () => concurrentFdatasyncFloor(tmp, floorMsEach, 3));
      return { one: { ...one.result, outside: one.outside }, three: { ...three.result, outside: three.outside } };
    };
    const syncsBefore = await measureSyncs();
    progress.next('floor: TCP loopback round trip');
    const rtt = await withOutsideLoad(noPids, () => loopbackFloor(floorMsEach));
    const loopbackRtt = { ...rtt.result, outside: rtt.outside };

    // ---- replog
    progress.next(`replog: starting 3 replica processes${o.tls ? ' (mutual TLS)' : ''}`);
    const cluster = await startReplogCluster({
      dir: join(tmp, 'replog'),
      tls: o.tls,
      nodeFlags: (id) => (o.profile && id === 1 ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `replica-1-${stamp}.cpuprofile`] : []),
    });
    cleanups.push(() => cluster.stop());
    const log = await LogClient.connect(cluster.addresses, cluster.clientTls === undefined ? {} : { tls: cluster.clientTls });
    cleanups.push(() => log.close());
    const writer = await log.writer();
    const session = o.profile ? new Session() : undefined;
    if (session !== undefined) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
    }
    let profiling = false;
    const replogOp = (entryBytes: number) => {
      const data = new Uint8Array(entryBytes).fill(0x61);
      return { run: () => writer.append(data) };
    };
    progress.next(`replog: warming up (${WARMUP_INFLIGHT} in flight, until CPU per append is stable, at most ${o.warmupMaxSeconds} s)`);
    const replogWarmUp = await warmUp(cluster.pids, replogOp, o.warmupMaxSeconds, progress);
    const replogRuns = await measureRuns(
      'replog',
      cluster.pids,
      replogOp,
      plan,
      o,
      progress,
      async (p, phase) => {
        if (session === undefined || p.entryBytes !== 256) return;
        if (phase === 'start' && p.inflight >= 64 && !profiling) {
          profiling = true;
          await session.post('Profiler.start');
        }
        if (phase === 'end' && profiling && p.inflight === Math.max(...o.levels)) {
          profiling = false;
          const { profile } = await session.post('Profiler.stop');
          writeFileSync(join(profileDir, `client-${stamp}.cpuprofile`), JSON.stringify(profile));
        }
      },
      () => counterSum(cluster.admins, 'replog_write_positions_total', cluster.clientTls),
    );
    const replicaPeakMiB = cluster.pids.map((pid) => memory(pid).peak / 2 ** 20);
    session?.disconnect();
    await log.close();
    await cluster.stop();
    const syncsAfter = await measureSyncs();
    const fdatasync4k = syncsAfter.one.p50 < syncsBefore.one.p50 ? syncsAfter.one : syncsBefore.one;
    const fdatasync4kThreeAtOnce = syncsAfter.three.p50 < syncsBefore.three.p50 ? syncsAfter.three : syncsBefore.three;
    const floor: Floor = {
      fdatasync4k,
      fdatasync4kBefore: syncsBefore.one,
      fdatasync4kAfter: syncsAfter.one,
      fdatasync4kThreeAtOnce,
      fdatasync4kThreeAtOnceBefore: syncsBefore.three,
      fdatasync4kThreeAtOnceAfter: syncsAfter.three,
      loopbackRtt,
    };
    // One append waits for three replicas syncing at once on the one disk (a quorum of them) and a round trip.
    const floorMs = fdatasync4kThreeAtOnce.p50 + loopbackRtt.p50;

    // ---- etcd
    let etcdRuns: Run[] = [];
    let etcdWarmUp: WarmUp | undefined;
    let etcdPeakMiB: number[] = [];
    if (o.peer === 'etcd') {
      progress.next('etcd: starting 3 members');
      const etcd = await startEtcdCluster(join(tmp, 'etcd'), etcdVersion!);
      cleanups.push(() => etcd.stop());
      try {
        const etcdOp = (entryBytes: number, inflight: number) => {
          const p = etcdPutter(etcd.leaderUrl, entryBytes, inflight);
          return { run: p.put, close: p.close };
        };
        progress.next('etcd: warming up');
        etcdWarmUp = await warmUp(etcd.pids, etcdOp, o.warmupMaxSeconds, progress);
        etcdRuns = await measureRuns(
          'etcd',
          etcd.pids,
          etcdOp,
          plan,
          o,
          progress,
        );
        etcdPeakMiB = etcd.pids.map((pid) => memory(pid).peak / 2 ** 20);
      } finally {
        await etcd.stop();
      }
    }
    progress.stop();

    // ---- report
    const runs = [...replogRuns, ...etcdRuns];
    const lat = replogRuns.find((r) => r.entryBytes === 256 && r.inflight === 1);
    const best = replogRuns.filter((r) => r.entryBytes === 256).reduce((a, b) => (b.opsPerSecond > a.opsPerSecond ? b : a));
    const best16k = replogRuns.filter((r) => r.entryBytes > 256).reduce((a, b) => (b.mbPerSecond > a.mbPerSecond ? b : a), replogRuns[0]!);
    const etcdBest = etcdRuns.filter((r) => r.entryBytes === 256).reduce<Run | undefined>((a, b) => (a === undefined || b.opsPerSecond > a.opsPerSecond ? b : a), undefined);
    const etcdLat = etcdRuns.find((r) => r.entryBytes === 256 && r.inflight === 1);
    const m = machine(tmp);
    const out: string[] = [];
    out.push(`machine: load average ${(m['loadAverage'] as number[]).join(' ')} before the run; ${m['cpus']} x ${m['cpuModel']}, ${m['memoryGiB']} GiB, ${m['dataDirFs']} (temp dir ${o.dir}), Linux ${m['kernel']}, Node ${m['node']}`);
    if (o.tls) out.push('transport: replog over mutual TLS (replica to replica and client to replica)' + (etcdRuns.length > 0 ? '; etcd plaintext' : ''));
    const fo = (x: OutsideLoad) => `outside load ${x.cores.toFixed(2)} cores`;
    out.push(
      `floor:   3 processes syncing a 4 KiB append at once (as 3 local replicas do): p50 ${fmtMs(fdatasync4kThreeAtOnce.p50)} ms, p99 ${fmtMs(fdatasync4kThreeAtOnce.p99)} ms;` +
        ` loopback TCP round trip p50 ${fmtMs(loopbackRtt.p50)} ms, p99 ${fmtMs(loopbackRtt.p99)} ms; floor p50 = ${fmtMs(floorMs)} ms`,
    );
    out.push(
      `         (3 syncs at once: p50 before the load ${fmtMs(syncsBefore.three.p50)} ms, ${fo(syncsBefore.three.outside)}; after ${fmtMs(syncsAfter.three.p50)} ms, ${fo(syncsAfter.three.outside)}: the better counts;` +
        ` round trip ${fo(loopbackRtt.outside)};` +
        ` one process alone: p50 ${fmtMs(fdatasync4k.p50)} ms, p99 ${fmtMs(fdatasync4k.p99)} ms, ${fmtRate(fdatasync4k.perSecond)}/s in a loop)`,
    );
    const wu = (w: WarmUp, who: string) =>
      `warm-up (${who}): ${w.seconds.toFixed(1)} s at ${w.inflight} in flight, CPU µs per append by second ${w.cpuUsPerOp.map((c) => c.toFixed(0)).join(' ')}` +
      (w.stable ? ' (stable)' : ' (NOT stable at --warmup-max)');
    out.push(wu(replogWarmUp, 'replog'));
    if (etcdWarmUp !== undefined) out.push(wu(etcdWarmUp, 'etcd'));
    out.push(`outside load: CPU other processes used during each run, in cores (of ${m['cpus']}); runs above ${o.maxOutsideCores} were made again up to ${o.redo} times, the least loaded kept, '!' if still above`);
    out.push('');
    out.push(table(runs));
    out.push('');
    if (lat !== undefined) {
      const ratio = lat.latencyMs.p50 / floorMs;
      out.push(
        `latency (1 in flight, 256 B): p50 ${fmtMs(lat.latencyMs.p50)} ms = ${ratio.toFixed(2)} x floor (goal <= 1.2: ${ratio <= 1.2 ? 'met' : 'NOT met'}); ` +
          `p99 ${fmtMs(lat.latencyMs.p99)} ms beside the machine's sync p99 ${fmtMs(fdatasync4kThreeAtOnce.p99)} ms (3 at once; ${fmtMs(fdatasync4k.p99)} ms alone); outside load ${lat.outside.cores.toFixed(2)} cores`,
      );
    }
    out.push(`throughput (256 B): ${fmtRate(best.opsPerSecond)} appends/s at ${best.inflight} in flight, CPU ${(best.cpuUsPerOp.client + best.cpuUsPerOp.serversTotal).toFixed(1)} µs per append (all processes), outside load ${best.outside.cores.toFixed(2)} cores (goal >= 200,000 and <= 5 µs: ${best.opsPerSecond >= 200_000 && best.cpuUsPerOp.client + best.cpuUsPerOp.serversTotal <= 5 ? 'met' : 'NOT met'}); 16 KiB: ${best16k.mbPerSecond.toFixed(1)} MB/s at ${best16k.inflight} in flight`);
    out.push(`replica peak RSS over the whole run (VmHWM): ${replicaPeakMiB.map((x) => x.toFixed(0)).join(' / ')} MiB`);
    const ratios: Record<string, unknown> = {};
    if (etcdRuns.length > 0) {
      out.push(`etcd ${etcdVersion}: best ${fmtRate(etcdBest!.opsPerSecond)} puts/s at ${etcdBest!.inflight} in flight; peak RSS ${etcdPeakMiB.map((x) => x.toFixed(0)).join(' / ')} MiB`);
      out.push('replog/etcd ratios (256 B unless noted):');
      for (const r of replogRuns) {
        const e = etcdRuns.find((x) => x.entryBytes === r.entryBytes && x.inflight === r.inflight);
        if (e === undefined) continue;
        const key = `${r.entryBytes}B@${r.inflight}`;
        ratios[key] = { throughput: r3(r.opsPerSecond / e.opsPerSecond), p50: r3(r.latencyMs.p50 / e.latencyMs.p50), p99: r3(r.latencyMs.p99 / e.latencyMs.p99) };
        out.push(`  ${r.entryBytes >= 1024 ? '16 KiB' : '256 B '} x ${String(r.inflight).padStart(4)}: throughput ${(r.opsPerSecond / e.opsPerSecond).toFixed(1)}x, p50 latency ${(r.latencyMs.p50 / e.latencyMs.p50).toFixed(2)}x`);
      }
      ratios['best256'] = r3(best.opsPerSecond / etcdBest!.opsPerSecond);
      out.push(`  best against best: ${(best.opsPerSecond / etcdBest!.opsPerSecond).toFixed(1)}x (goal >= 25x)${etcdLat !== undefined && lat !== undefined ? `; 1-in-flight p50 ${fmtMs(lat.latencyMs.p50)} vs ${fmtMs(etcdLat.latencyMs.p50)} ms` : ''}`);
    }
    const text = out.join('\n');
    console.log(text);

    const when = new Date().toISOString();
    const svgInput = { when, machine: { cpus: m['cpus'] as number }, floorP50Ms: floorMs, etcd: etcdVersion === undefined ? null : { version: etcdVersion }, runs };
    const round = (x: unknown): unknown => (typeof x === 'number' ? r3(x) : Array.isArray(x) ? x.map(round) : x !== null && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, round(v)])) : x);
    const json = {
      when,
      command: `npm run bench -- replog ${argv.join(' ')}`.trim(),
      options: { quick: o.quick, seconds: o.seconds, levels: o.levels, peer: o.peer ?? null, tls: o.tls, warmupMaxSeconds: o.warmupMaxSeconds, maxOutsideCores: o.maxOutsideCores, redo: o.redo },
      machine: m,
      floor: round(floor),
      floorP50Ms: r3(floorMs),
      warmUp: round({ replog: replogWarmUp, etcd: etcdWarmUp ?? null }),
      runs: round(runs),
      replicaPeakRssMiB: round(replicaPeakMiB),
      etcd: etcdRuns.length > 0 ? { version: etcdVersion, peakRssMiB: round(etcdPeakMiB) } : null,
      ratios,
      summary: text,
    };
    const jsonPath = join(o.out, `${stamp}.json`);
    const svgPath = join(o.out, `${stamp}.svg`);
    writeFileSync(jsonPath, JSON.stringify(json, null, 2) + '\n');
    writeFileSync(svgPath, await chartOfResults(svgInput));
    copyFileSync(jsonPath, join(o.out, 'latest.json'));
    copyFileSync(svgPath, join(o.out, 'latest.svg'));
    console.log(`\nwrote ${jsonPath} and ${svgPath} (also latest.json, latest.svg)`);
    if (o.profile) {
      // The replica writes its profile when it exits (it did, above).
      for (const f of readdirSync(profileDir).filter((f) => f.includes(stamp) && f.endsWith('.cpuprofile'))) {
        const summary = summariseProfileFile(join(profileDir, f), 25);
        writeFileSync(join(profileDir, f.replace(/\.cpuprofile$/, '.txt')), summary + '\n');
        console.log('\n' + summary);
      }
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`bench: ${(err as Error)?.message ?? String(err)}`);
      if (process.argv.includes('--debug')) console.error(err);
      process.exit(1);
    },
  );
}
