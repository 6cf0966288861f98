/**
 * One nemesis run: build the bed, start the replicas (`replog replica`),
 * start the workload on the client host, play the seeded fault schedule,
 * heal everything, read the whole log from a healed cluster, stop the
 * replicas and read their data directories, then judge the history. Writes
 * into `out`: history.jsonl, replicas/r<ID>.jsonl, r<ID>.stderr.log,
 * summary.md, timeline.svg and result.json. The bed is removed on every path.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LogClient } from '../client/index.js';
import { collectStatus, type ReplicaRow } from '../cli/status.js';
import { createBed, type Bed } from './bed.js';
import { DISK_MIB, Disks, disksUnavailable } from './disks.js';
import { checkHistory, type CheckResult } from './checker.js';
import type { FenceEvent, FinalRead, History, Op, ReplicaLog } from './history.js';
import { replaceMember, settle } from './membership.js';
import { REPLOG_BIN, Replicas } from './replicas.js';
import { describe, makeSchedule, type FaultKind, type ScheduledFault, type ScheduleFile } from './schedule.js';
import { dumpReplicaLog } from './store-dump.js';
import { countBy, summaryMarkdown, timelineSvg, type AppliedFault } from './summary.js';
import type { WorkloadConfig } from './workload.js';

const WORKLOAD = resolve(dirname(fileURLToPath(import.meta.url)), 'workload.js');
const PLANTS = pathToFileURL(resolve(dirname(fileURLToPath(import.meta.url)), 'plants.js')).href;
const SYNC_HOOK = pathToFileURL(resolve(dirname(fileURLToPath(import.meta.url)), 'sync-hook.js')).href;

export interface RunOptions {
  readonly seed: number;
  readonly timeMs: number;
  readonly faults: readonly FaultKind[];
  readonly out: string;
  readonly replicas?: number;
  /** Use loopback even where namespaces work (a check of the fallback). */
  readonly loopback?: boolean;
  /** Extra environment for the replicas and the workload (e.g. a planted bug switch). */
  readonly env?: Record<string, string>;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  /** Play this schedule (a schedule.json's, parseScheduleFile) instead of drawing one from the seed. */
  readonly schedule?: readonly ScheduledFault[];
}

export interface RunResult {
  readonly valid: boolean;
  readonly dir: string;
  readonly bedMode: 'netns' | 'loopback';
  readonly fallbackReason?: string;
  readonly check: CheckResult;
  readonly notes: readonly string[];
  readonly opsByOutcome: Record<string, number>;
  readonly faultsByKind: Record<string, number>;
  readonly replay: string;
}

export function replayCommand(o: Pick<RunOptions, 'seed' | 'timeMs' | 'faults'>): string {
  return `npm run nemesis -- --time ${Math.round(o.timeMs / 1000)} --seed ${o.seed} --faults ${o.faults.join(',')}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Workload processes running now: an interrupted run kills them. */
const workers = new Set<import('node:child_process').ChildProcess>();

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(200);
  }
  return false;
}

/** Loopback beds need a port per replica: ports that were free a moment ago. */
async function freePortBase(n: number): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const servers: Server[] = [];
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      ok = await new Promise<boolean>((res) => {
        const s = createServer();
        s.once('error', () => res(false));
        s.listen(base + i, '127.0.0.1', () => (servers.push(s), res(true)));
      });
    }
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (ok) return base;
  }
}

export async function runNemesis(o: RunOptions): Promise<RunResult> {
  const say = o.log ?? (() => undefined);
  const ids = Array.from({ length: o.replicas ?? 3 }, (_, i) => i + 1);
  mkdirSync(join(o.out, 'replicas'), { recursive: true });
  let bed: Bed | undefined;
  let disks: Disks | undefined;
  let replicas: Replicas | undefined;
  const cleanup = () => {
    disks?.dropAll();
    bed?.destroy();
  };
  // Interrupted, the processes, the disks and the bed still go.
  const interrupted = (signal: NodeJS.Signals) => {
    replicas?.killNow();
    for (const c of workers) c.kill('SIGKILL');
    cleanup();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', cleanup);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    bed = createBed(ids, { forceLoopback: o.loopback === true });
    let faults = bed.mode === 'netns' ? o.faults : o.faults.filter((k) => k !== 'partition');
    if (bed.mode === 'loopback') say(`!!! LOOPBACK BED: no link faults will run (${bed.fallbackReason}); process faults only`);
    const noDisks = faults.includes('disk-full') ? disksUnavailable() : undefined;
    if (noDisks !== undefined) {
      faults = faults.filter((k) => k !== 'disk-full');
      say(`!!! NO SMALL DISKS: the disk-full fault will not run (${noDisks})`);
    }
    else say(`bed: network namespaces, replicas at ${ids.map((id) => bed!.address(id)).join(', ')}, clients at ${bed.address('client')}`);
    const env = { ...process.env, ...o.env };
    // A planted bug (plants.ts) is loaded into the replicas and the workload only when one is named.
    const nodeArgs = env.REPLOG_PLANT ? ['--import', PLANTS] : [];
    if (nodeArgs.length > 0) say(`planted bug: ${env.REPLOG_PLANT}`);
    // Power losses need to know what each replica made durable: the sync hook (sync-hook.ts) watches its fsyncs.
    // It goes first: the storage layer binds fs.fdatasync when it loads, and a plant loads it.
    const replicaNodeArgs = o.faults.includes('power-loss') ? ['--import', SYNC_HOOK, ...nodeArgs] : nodeArgs;
    replicas = new Replicas(bed, ids, join(o.out, 'data'), o.out, bed.mode === 'loopback' ? await freePortBase(ids.length) : 0, env, replicaNodeArgs);
    if (faults.includes('disk-full')) {
      // Each data directory on a small disk of its own, so one can be filled (disks.ts).
      disks = new Disks();
      for (const id of ids) disks.mount(replicas.dir(id));
      say(`small disks: each data directory on a ${DISK_MIB} MiB tmpfs`);
    }
    try {
      return await runOn(o, bed, replicas, faults, env, nodeArgs, say, disks, noDisks);
    } finally {
      await replicas.close();
      replicas = undefined;
      // The files are copied back where the disks were mounted: the data directories outlive the run.
      disks?.unmountAll();
    }
  } finally {
    cleanup();
    process.removeListener('exit', cleanup);
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}

async function allVoting(replicas: Replicas): Promise<boolean> {
  return (await collectStatus(replicas.addresses, 1000)).every((r) => r.status === 'VOTING');
}

/**
 * Whether the cluster can lose one disk, as the log promises: every replica
 * VOTING and a voter. A learner left by a replace that has not finished is
 * VOTING too, but the configuration then has one voter fewer (two of three:
 * no disk may be lost; seed 504 wiped one and the rejoin waited for ever).
 */
export function mayLoseADisk(rows: readonly Pick<ReplicaRow, 'status' | 'role'>[]): boolean {
  return rows.every((r) => r.status === 'VOTING' && r.role === 'voter');
}

async function allVotingVoters(replicas: Replicas): Promise<boolean> {
  return mayLoseADisk(await collectStatus(replicas.addresses, 1000));
}

async function runOn(o: RunOptions, bed: Bed, replicas: Replicas, faults: readonly FaultKind[], env: NodeJS.ProcessEnv, nodeArgs: readonly string[], say: (l: string) => void, disks: Disks | undefined, noDisks: string | undefined): Promise<RunResult> {
  const notes: string[] = [];
  if (noDisks !== undefined) notes.push(`NO SMALL DISKS: disk-full did not run (${noDisks})`);
  for (const id of replicas.ids) replicas.start(id);
  if (!(await waitFor(() => allVoting(replicas), 60_000))) throw new Error('the replicas did not become VOTING within 60 s');
  say('replicas VOTING');

  // The workload, on the client host.
  const cfg: WorkloadConfig = { addresses: replicas.addresses, timeMs: o.timeMs, seed: o.seed, writers: 2, readers: 1, tails: 1, inflight: 16, truncateEveryMs: 15_000, drainMs: 20_000 };
  const { file, args } = bed.command('client', [process.execPath, ...nodeArgs, WORKLOAD, JSON.stringify(cfg)]);
  const worker = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  workers.add(worker);
  worker.once('exit', () => workers.delete(worker));
  const workerStderr = createWriteStream(join(o.out, 'workload.stderr.log'));
  worker.stderr.pipe(workerStderr);
  const historyFile = createWriteStream(join(o.out, 'history.jsonl'));
  const ops: Op[] = [];
  const fences: FenceEvent[] = [];
  let ended = false;
  const lines = createInterface({ input: worker.stdout });
  const linesClosed = new Promise((r) => lines.once('close', r));
  lines.on('line', (line) => {
    historyFile.write(line + '\n');
    const m = JSON.parse(line) as { type: string } & Record<string, unknown>;
    if (m.type === 'op') {
      const { type: _t, ...op } = m;
      ops.push(op as unknown as Op);
    } else if (m.type === 'fenced') fences.push({ kind: 'fenced', writer: m.writer as string, time: m.time as number });
    else if (m.type === 'end') ended = true;
  });
  const workerExit = new Promise<number | string>((res) => worker.on('exit', (code, signal) => res(code ?? signal ?? 'unknown')));
  const start = Date.now();

  // The nemesis: its faults, on the workload's clock (close enough: both start now).
  // A replayed schedule loses the faults this bed cannot do (and says so); a drawn one never had them.
  const schedule = o.schedule === undefined ? makeSchedule({ seed: o.seed, timeMs: o.timeMs, replicaIds: replicas.ids, faults }) : o.schedule.filter((f) => faults.includes(f.fault.kind));
  if (o.schedule !== undefined && schedule.length < o.schedule.length) {
    const dropped = `${o.schedule.length - schedule.length} faults of the replayed schedule cannot run on this bed and are left out`;
    say(`!!! ${dropped}`);
    notes.push(dropped);
  }
  const played: ScheduleFile = { seed: o.seed, timeMs: o.timeMs, replicaIds: replicas.ids, faults: o.faults, schedule };
  writeFileSync(join(o.out, 'schedule.json'), JSON.stringify(played, null, 1) + '\n');
  const applied: AppliedFault[] = [];
  let workerPaused = false;
  const lanes = [schedule.filter((f) => f.fault.kind === 'partition'), schedule.filter((f) => f.fault.kind !== 'partition')];
  await Promise.all(
    lanes.map(async (lane) => {
      for (const f of lane) {
        const wait = f.at - (Date.now() - start);
        if (wait > 0) await sleep(wait);
        const from = Date.now() - start;
        const { skipped, detail } = await apply(f, bed, replicas, disks, worker, (p) => (workerPaused = p), env);
        if (skipped === undefined) await sleep(f.holdMs);
        await heal(f, bed, replicas, disks, worker, (p) => (workerPaused = p));
        const what = describe(f.fault) + (detail === undefined ? '' : ` (${detail})`);
        applied.push({ kind: f.fault.kind, what, from, to: Date.now() - start, ...(skipped === undefined ? {} : { skipped }) });
      }
    }),
  );
  // Calm: every fault healed (they are, lane by lane; this makes sure).
  if (bed.mode === 'netns') bed.cut([]);
  if (workerPaused) worker.kill('SIGCONT');
  for (const id of replicas.ids) {
    disks?.empty(replicas.dir(id));
    replicas.resume(id);
    replicas.start(id);
  }
  say(`faults done: ${applied.filter((f) => f.skipped === undefined).length} applied, ${applied.filter((f) => f.skipped !== undefined).length} skipped`);
  // A membership change a fault interrupted is finished now: every slot's member a voter again.
  if (schedule.some((f) => f.fault.kind === 'replace')) notes.push(...(await settle(replicas, env, 120_000)));

  // The deadline's timer is cleared once the workload exits: a pending timer would hold the process (a test) open.
  let deadline: NodeJS.Timeout | undefined;
  const code = await Promise.race([workerExit, new Promise<'timeout'>((r) => (deadline = setTimeout(() => r('timeout'), o.timeMs + 90_000)))]);
  clearTimeout(deadline);
  if (code === 'timeout') {
    worker.kill('SIGKILL');
    notes.push('the workload did not end in time and was killed');
  } else if (code !== 0) notes.push(`the workload exited with ${code}`);
  await linesClosed;
  await new Promise((r) => historyFile.end(r));
  await new Promise((r) => workerStderr.end(r));
  if (!ended) notes.push('the workload did not finish its history (pending operations are missing)');
  say(`workload done: ${ops.length} operations`);

  if (!(await waitFor(() => allVoting(replicas), 120_000))) notes.push('LIVENESS: the healed cluster did not have every replica VOTING within 120 s');
  const final = await finalRead(replicas.addresses);
  if (final === undefined) notes.push('LIVENESS: the final read did not succeed within 120 s on the healed cluster');
  const check = await replogCheck(replicas.addresses, env);
  if (check.code !== 0) notes.push(`replog check exited ${check.code}: ${check.out.trim().split('\n').slice(-3).join(' / ')}`);
  await replicas.stopAll();
  const replicaLogs: ReplicaLog[] = [];
  for (const id of replicas.ids) {
    try {
      const r = await dumpReplicaLog(replicas.member(id), replicas.dir(id));
      replicaLogs.push(r);
      writeFileSync(join(o.out, 'replicas', `r${id}.jsonl`), r.entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
    } catch (err) {
      notes.push(`replica ${id}'s data directory could not be read: ${(err as Error).message}`);
    }
  }
  const history: History = { ops, fences, final: final ?? { begin: 0, end: -1, entries: [] }, replicas: replicaLogs };
  writeFileSync(join(o.out, 'final.json'), JSON.stringify(history.final));
  const result = checkHistory(final === undefined ? { ...history, final: { begin: Infinity, end: -1, entries: [] } } : history);
  // Safety findings fail the run; a replog check divergence too. Liveness notes fail it as well: a run that
  // could not read its log back proved nothing.
  const valid = result.valid && notes.every((n) => !/^(replog check exited 1|LIVENESS)/.test(n)) && final !== undefined;
  const replay = replayCommand({ ...o, faults: o.faults });
  const summary = {
    seed: o.seed,
    timeMs: o.timeMs,
    faultKinds: faults,
    bedMode: bed.mode,
    ...(bed.fallbackReason === undefined ? {} : { fallbackReason: bed.fallbackReason }),
    replay,
    ops,
    faults: applied.sort((a, b) => a.from - b.from),
    check: result,
    notes,
    valid,
  };
  writeFileSync(join(o.out, 'summary.md'), summaryMarkdown(summary));
  writeFileSync(join(o.out, 'timeline.svg'), timelineSvg(summary));
  const out: RunResult = {
    valid,
    dir: o.out,
    bedMode: bed.mode,
    ...(bed.fallbackReason === undefined ? {} : { fallbackReason: bed.fallbackReason }),
    check: result,
    notes,
    opsByOutcome: countBy(ops, (op) => `${op.kind}:${op.outcome}`),
    faultsByKind: countBy(applied.filter((f) => f.skipped === undefined), (f) => f.kind),
    replay,
  };
  writeFileSync(join(o.out, 'result.json'), JSON.stringify({ ...out, check: { valid: result.valid, stats: result.stats, violations: result.violations } }, null, 2));
  return out;
}

/** Applies a fault; returns why it was skipped, if it was, and what it did, if that says more than its name. */
async function apply(f: ScheduledFault, bed: Bed, replicas: Replicas, disks: Disks | undefined, worker: import('node:child_process').ChildProcess, setWorkerPaused: (p: boolean) => void, env: NodeJS.ProcessEnv): Promise<{ skipped?: string; detail?: string }> {
  const skipped = (why: string | undefined) => (why === undefined ? {} : { skipped: why });
  const fault = f.fault;
  switch (fault.kind) {
    case 'partition':
      bed.cut(fault.cuts);
      return {};
    case 'pause':
      if (fault.target === 'client') {
        worker.kill('SIGSTOP');
        setWorkerPaused(true);
      } else replicas.pause(fault.target);
      return {};
    case 'kill':
      await Promise.all(fault.targets.map((t) => replicas.stop(t, 'SIGKILL')));
      return {};
    case 'power-loss': {
      // The power goes: every target dies at once, then loses what it had not made durable.
      await Promise.all(fault.targets.map((t) => replicas.stop(t, 'SIGKILL')));
      return { detail: fault.targets.map((t) => `r${t}: ${replicas.powerLoss(t)}`).join('; ') };
    }
    case 'disk-full': {
      if (disks === undefined) return skipped('no small disks');
      const filled = disks.fill(replicas.dir(fault.target));
      return { detail: `${(filled / 2 ** 20).toFixed(1)} MiB of ballast, ${Disks.freeBytes(replicas.dir(fault.target))} bytes left` };
    }
    case 'replace':
      // A membership change drops to two voters for a while: as a disk fault, it waits for every replica to be a VOTING voter.
      if (!(await allVotingVoters(replicas))) return skipped('not every replica was a VOTING voter');
      return { detail: await replaceMember(replicas, fault.target, env) };
    case 'wipe':
    case 'corrupt': {
      // Losing a disk while another is still rejoining could lose a quorum's copies: that is beyond what the
      // log promises, so a disk fault waits for every replica to be VOTING, and a voter (mayLoseADisk), and is
      // skipped if they are not.
      if (!(await allVotingVoters(replicas))) return skipped('not every replica was a VOTING voter');
      await replicas.stop(fault.target, 'SIGKILL');
      if (fault.kind === 'wipe') replicas.wipe(fault.target);
      else if (replicas.corrupt(fault.target, (n) => fault.file % n, fault.at, fault.bytes) === undefined) return skipped('no segment file to corrupt');
      return {};
    }
  }
}

async function heal(f: ScheduledFault, bed: Bed, replicas: Replicas, disks: Disks | undefined, worker: import('node:child_process').ChildProcess, setWorkerPaused: (p: boolean) => void): Promise<void> {
  const fault = f.fault;
  if (fault.kind === 'partition') bed.cut([]);
  else if (fault.kind === 'pause') {
    if (fault.target === 'client') {
      worker.kill('SIGCONT');
      setWorkerPaused(false);
    } else replicas.resume(fault.target);
  } else if (fault.kind === 'kill' || fault.kind === 'power-loss') for (const t of fault.targets) replicas.start(t);
  else if (fault.kind === 'disk-full') disks?.empty(replicas.dir(fault.target));
  else replicas.start(fault.target); // wipe, corrupt; a replace started its new member already
}

/** The whole log, read from the root namespace (never cut) once the cluster is healed. */
async function finalRead(addresses: string[]): Promise<FinalRead | undefined> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    let log: LogClient | undefined;
    try {
      log = await LogClient.connect(addresses, { waitForQuorum: true, connectTimeoutMs: 10_000 });
      const begin = await log.beginning();
      const end = await log.ending();
      const entries = (await log.read(begin, end)).map((e) => [e.position, Buffer.from(e.data).toString('utf8')] as const);
      return { begin, end, entries };
    } catch {
      await sleep(1000);
    } finally {
      await log?.close();
    }
  }
  return undefined;
}

/** `replog check`: the replicas compare their copies of the chosen log (exit 1 on a divergence). */
function replogCheck(addresses: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [REPLOG_BIN, 'check', '--log', addresses.join(',')], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => res({ code, out }));
  });
}
