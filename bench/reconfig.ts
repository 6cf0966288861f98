/**
 * bench/reconfig: what an application notices of membership changes (issue
 * 12's figures), with real processes on loopback.
 *
 * Three replicas, a log of `--mb` MiB of 1 KiB entries (default 1024 MiB;
 * `--quick` 64 MiB). An application's writer appends one entry at a time
 * throughout (one in flight: every pause shows in its latency). Then:
 *   1. `replog member add 4 ADDR --voter` (the CLI, another process) while a
 *      fourth replica started with `--join` catches up the whole log as a
 *      learner, and is promoted: the learner's catch-up time (add to
 *      caught up, from its /status) beside the disk's write bandwidth, and
 *      the writer's latency meanwhile;
 *   2. one change alone, `replog member remove 3`: the writer's p99 and
 *      longest append across it, beside the same without a change.
 * Appends that fail (a fenced writer, no quorum) are counted, and the writer
 * is elected again; with the hand-off (docs/reconfiguration.md, R12) none
 * fails.
 *
 *   node dist/bench/reconfig.js [--quick] [--mb N]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { LogClient } from '../src/client/log-client.js';
import { diskWriteMBps, loopbackMBps } from './lib/bandwidth.js';
import { BIN, fillLog, status as statusOf, type BenchMember } from './lib/members.js';
import { freePorts, startLogged, stopProcess, waitUntil } from './lib/processes.js';
import { Samples, r3, sleep, type LatencySummary } from './lib/stats.js';

const ENTRY_BYTES = 1024;
const MiB = 1024 * 1024;

/** A replica's /status, or undefined while it does not answer. */
const status = (m: BenchMember) => statusOf(m).catch(() => undefined);

/** The CLI as another process: its exit code, output and wall time. */
function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t = performance.now();
  return new Promise((resolveRun) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolveRun({ code: code ?? 1, stdout, stderr, ms: performance.now() - t }));
  });
}

/**
 * The application: one append in flight, latencies with the time each ended.
 * A failed append is counted and the writer elected again (what an
 * application without the hand-off would have to do).
 */
function application(log: LogClient) {
  const samples: { at: number; ms: number }[] = [];
  let failures = 0;
  let running = true;
  const data = Buffer.alloc(256, 3);
  const done = (async () => {
    let writer = await log.writer();
    while (running) {
      const t = performance.now();
      try {
        await writer.append(data);
        samples.push({ at: performance.now(), ms: performance.now() - t });
      } catch {
        failures++;
        writer = await log.writer();
      }
    }
    await writer.resign();
  })();
  return {
    window(from: number, to: number): LatencySummary {
      const s = new Samples();
      for (const x of samples) if (x.at >= from && x.at <= to) s.add(x.ms);
      return s.summary();
    },
    get failures() {
      return failures;
    },
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function fill(log: LogClient, entries: number): Promise<void> {
  const writer = await log.writer();
  await fillLog(writer, entries, Buffer.alloc(ENTRY_BYTES, 5));
  await writer.resign();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const mbFlag = args.indexOf('--mb');
  const logMiB = mbFlag >= 0 ? Number(args[mbFlag + 1]) : quick ? 64 : 1024;
  const root = mkdtempSync(join(tmpdir(), 'replog-bench-reconfig-'));
  const resultsDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/results');
  const say = (s: string) => process.stdout.write(s + '\n');
  const members: BenchMember[] = [];
  try {
    say('machine: measuring disk write and loopback bandwidth...');
    const disk = diskWriteMBps(root, quick ? 256 : 512);
    const loop = await loopbackMBps(quick ? 512 : 1024);
    say(`  sequential disk write ${disk.toFixed(0)} MiB/s, loopback TCP ${loop.toFixed(0)} MiB/s`);

    const ports = await freePorts(8);
    for (let i = 0; i < 4; i++) members.push({ id: i + 1, address: `127.0.0.1:${ports[i]}`, admin: `127.0.0.1:${ports[i + 4]}`, dir: join(root, `replica-${i + 1}`) });
    const [m1, m2, m3, m4] = members as [BenchMember, BenchMember, BenchMember, BenchMember];
    const founders = [m1, m2, m3];
    const membersFlag = founders.map((m) => `${m.id}=${m.address}`).join(',');
    const start = (m: BenchMember, flags: string[]) => {
      m.proc = startLogged(process.execPath, [BIN, 'replica', '--id', String(m.id), '--dir', m.dir, '--listen', m.address, ...flags, '--admin', m.admin], join(root, `replica-${m.id}.log`));
    };
    for (const m of founders) start(m, ['--members', membersFlag]);
    await waitUntil(async () => (await Promise.all(founders.map(status))).every((s) => s?.status === 'VOTING'), 30_000, 'VOTING replicas');

    const log = await LogClient.connect(founders.map((m) => m.address));
    const entries = Math.floor((logMiB * MiB) / ENTRY_BYTES);
    say(`filling the log: ${entries.toLocaleString('en-US')} entries of ${ENTRY_BYTES} B (${logMiB} MiB)...`);
    const tFill = performance.now();
    await fill(log, entries);
    say(`  filled in ${((performance.now() - tFill) / 1000).toFixed(1)} s`);

    const app = application(log);
    const logFlag = founders.map((m) => m.address).join(',');
    say('the application appends, one in flight; 5 s without a change...');
    const t0 = performance.now();
    await sleep(5000);
    const without = app.window(t0, performance.now());

    say('member add 4 --voter: a learner catches up the whole log, then is promoted...');
    start(m4, ['--join', logFlag]);
    const tAdd = performance.now();
    const adding = cli(['member', 'add', '4', m4.address, '--voter', '--log', logFlag]);
    // Caught up: the learner VOTING with an end at most a few positions behind replica 1's.
    let caughtUpMs: number | undefined;
    const caughtUp = waitUntil(async () => {
      const [s4, s1] = await Promise.all([status(m4), status(m1)]);
      if (caughtUpMs === undefined && s4?.status === 'VOTING' && s1 !== undefined && s4.end >= s1.end - 64) caughtUpMs = performance.now() - tAdd;
      return caughtUpMs !== undefined;
    }, 30 * 60_000, 'the learner to catch up', 50);
    // The CLI failing ends the wait (waitUntil itself takes a throwing check for "not yet").
    const addFailed = adding.then((r) => (r.code === 0 ? new Promise<never>(() => {}) : Promise.reject(new Error(`member add failed: ${r.stderr.trim()}`))));
    await Promise.race([caughtUp, addFailed]);
    const added = await adding;
    if (added.code !== 0) throw new Error(`member add failed: ${added.stderr}`);
    const duringAdd = app.window(tAdd, performance.now());
    const failuresAdd = app.failures;

    say('one change alone: member remove 3...');
    await sleep(2000);
    const tRemove = performance.now();
    const removed = await cli(['member', 'remove', '3', '--log', [m1, m2, m4].map((m) => m.address).join(',')]);
    if (removed.code !== 0) throw new Error(`member remove failed: ${removed.stderr}`);
    await sleep(1000);
    const across = app.window(tRemove, performance.now());
    await app.stop();
    await log.close();

    const catchUpS = caughtUpMs! / 1000;
    const result = {
      when: new Date().toISOString(),
      logMiB,
      entries,
      entryBytes: ENTRY_BYTES,
      machine: { diskWriteMiBps: r3(disk), loopbackMiBps: r3(loop) },
      learnerCatchUp: { seconds: r3(catchUpS), MiBps: r3(logMiB / catchUpS), ofDiskBandwidth: r3(logMiB / catchUpS / disk), addVoterSeconds: r3(added.ms / 1000) },
      appendLatencyMs: { withoutChange: pick(without), duringAddAndCatchUp: pick(duringAdd), acrossOneChange: pick(across), oneChangeSeconds: r3(removed.ms / 1000) },
      failedAppends: { duringAdd: failuresAdd, acrossOneChange: app.failures - failuresAdd },
    };
    say('');
    say(`learner catch-up of a ${logMiB} MiB log: ${catchUpS.toFixed(1)} s (${(logMiB / catchUpS).toFixed(1)} MiB/s, ${(100 * logMiB / catchUpS / disk).toFixed(0)}% of the disk's ${disk.toFixed(0)} MiB/s); member add --voter took ${(added.ms / 1000).toFixed(1)} s`);
    say(`application append latency p50/p99/max (ms), one in flight:`);
    say(`  without a change            ${fmt(without)}`);
    say(`  during add + catch-up       ${fmt(duringAdd)}`);
    say(`  across one change (remove)  ${fmt(across)}   (the change took ${(removed.ms / 1000).toFixed(2)} s)`);
    say(`failed appends: ${result.failedAppends.duringAdd} during the add, ${result.failedAppends.acrossOneChange} across the remove`);
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, `reconfig-${result.when.replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2) + '\n');
  } finally {
    await Promise.all(members.map((m) => (m.proc ? stopProcess(m.proc) : Promise.resolve())));
    if (process.env.KEEP_BENCH_DIR === undefined) rmSync(root, { recursive: true, force: true });
    else say(`kept ${root}`);
  }
}

function pick(l: LatencySummary): { p50: number; p99: number; max: number; count: number } {
  return { p50: r3(l.p50), p99: r3(l.p99), max: r3(l.max), count: l.count };
}

function fmt(l: LatencySummary): string {
  return `${l.p50.toFixed(2)} / ${l.p99.toFixed(2)} / ${l.max.toFixed(1)}  (${l.count} appends)`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
