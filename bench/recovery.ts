/**
 * bench/recovery: how fast a replica whose disk was wiped rejoins, and what a
 * writer notices meanwhile.
 *
 * Three replica processes on loopback; a log of `--mb` MiB of 1 KiB entries
 * (default 1024 MiB; `--quick` 128 MiB). Then replica 3 is killed, its data
 * directory deleted, and it is started again: it rejoins by itself. The run
 * reports the rejoin's rate (entry MiB/s and entries/s, from restart to VOTING)
 * beside the machine's sequential disk write bandwidth and loopback TCP
 * bandwidth measured in the same run, and a writer's append latency (one in
 * flight) during the rejoin beside the same without one.
 *
 *   node dist/bench/recovery.js [--quick] [--mb N] [--profile]
 *
 * --profile: every replica runs with --cpu-prof (replica 3's second life is
 * the rejoining one, replica 1 serves its reads); the .cpuprofile files and
 * their summaries (top self time) go to bench/results/profiles.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { LogClient } from '../src/client/log-client.js';
import { diskWriteMBps, loopbackMBps } from './lib/bandwidth.js';
import { BIN, fillLog, status, type BenchMember } from './lib/members.js';
import { freePorts, startLogged, stopProcess, waitUntil } from './lib/processes.js';
import { summariseProfileFile } from './lib/profile.js';
import { cpuMs, selfCpuMs } from './lib/procstat.js';
import { Samples, r3, type LatencySummary } from './lib/stats.js';

const ENTRY_BYTES = 1024;
const MiB = 1024 * 1024;

/** A writer appending one entry at a time until stopped; latencies in ms. */
function latencyProbe(writer: Awaited<ReturnType<LogClient['writer']>>): { samples: Samples; stop: () => Promise<void> } {
  const samples = new Samples();
  let running = true;
  const data = Buffer.alloc(256, 3);
  const done = (async () => {
    while (running) {
      const t = performance.now();
      await writer.append(data);
      samples.add(performance.now() - t);
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const mbFlag = args.indexOf('--mb');
  const logMiB = mbFlag >= 0 ? Number(args[mbFlag + 1]) : quick ? 128 : 1024;
  const profile = args.includes('--profile');
  const root = mkdtempSync(join(tmpdir(), 'replog-bench-recovery-'));
  const resultsDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/results');
  const profileDir = join(resultsDir, 'profiles');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  if (profile) mkdirSync(profileDir, { recursive: true });
  const lives = new Map<number, number>();
  const say = (s: string) => process.stdout.write(s + '\n');
  const members: BenchMember[] = [];
  try {
    say(`machine: measuring disk write and loopback bandwidth...`);
    const disk = diskWriteMBps(root, quick ? 256 : 512);
    const loop = await loopbackMBps(quick ? 512 : 1024);
    say(`  sequential disk write ${disk.toFixed(0)} MiB/s, loopback TCP ${loop.toFixed(0)} MiB/s`);

    const ports = await freePorts(6);
    for (let i = 0; i < 3; i++) {
      members.push({ id: i + 1, address: `127.0.0.1:${ports[i]}`, admin: `127.0.0.1:${ports[i + 3]}`, dir: join(root, `replica-${i + 1}`) });
    }
    const membersFlag = members.map((m) => `${m.id}=${m.address}`).join(',');
    const start = (m: BenchMember) => {
      mkdirSync(root, { recursive: true });
      const life = (lives.get(m.id) ?? 0) + 1;
      lives.set(m.id, life);
      const prof = profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `recovery-${stamp}-replica-${m.id}-life-${life}.cpuprofile`] : [];
      m.proc = startLogged(process.execPath, [...prof, BIN, 'replica', '--id', String(m.id), '--dir', m.dir, '--listen', m.address, '--members', membersFlag, '--admin', m.admin], join(root, `replica-${m.id}.log`));
    };
    for (const m of members) start(m);
    await waitUntil(async () => (await Promise.all(members.map(status))).every((s) => s.status === 'VOTING'), 30_000, 'VOTING replicas');

    const log = await LogClient.connect(members.map((m) => m.address));
    const writer = await log.writer();
    const entries = Math.floor((logMiB * MiB) / ENTRY_BYTES);
    say(`filling the log: ${entries.toLocaleString('en-US')} entries of ${ENTRY_BYTES} B (${logMiB} MiB)...`);
    const entry = Buffer.alloc(ENTRY_BYTES, 5);
    const t0 = performance.now();
    await fillLog(writer, entries, entry);
    const fillS = (performance.now() - t0) / 1000;
    say(`  filled in ${fillS.toFixed(1)} s (${(logMiB / fillS).toFixed(0)} MiB/s)`);

    say('writer latency without a rejoin (5 s, one append in flight)...');
    const base = latencyProbe(writer);
    await new Promise((r) => setTimeout(r, 5000));
    await base.stop();
    const baseLat = base.samples.summary();

    const victim = members[2]!;
    await stopProcess(victim.proc!, 0);
    rmSync(victim.dir, { recursive: true, force: true });
    const during = latencyProbe(writer);
    const t1 = performance.now();
    const cpu0 = [...members.slice(0, 2).map((m) => cpuMs(m.proc!.pid!)), selfCpuMs()];
    start(victim);
    let lastShown = -1;
    await waitUntil(
      async () => {
        const s = await status(victim);
        if (s.recovery !== null && s.recovery.total > 0) {
          const pct = Math.floor((100 * s.recovery.done) / s.recovery.total);
          if (pct >= lastShown + 10) {
            lastShown = pct;
            process.stdout.write(`  rejoining: ${pct}% (${s.recovery.done.toLocaleString('en-US')} of ${s.recovery.total.toLocaleString('en-US')} positions)\n`);
          }
        }
        return s.status === 'VOTING';
      },
      30 * 60_000,
      'the wiped replica to rejoin',
      50,
    );
    const rejoinS = (performance.now() - t1) / 1000;
    // CPU seconds each process spent during the rejoin (replica 3: its whole new life so far).
    const cpu = [...members.slice(0, 2).map((m, i) => cpuMs(m.proc!.pid!) - cpu0[i]!), cpuMs(victim.proc!.pid!), selfCpuMs() - cpu0[2]!].map((ms) => ms / 1000);
    await during.stop();
    const duringLat = during.samples.summary();
    await log.close();

    const rateMiB = logMiB / rejoinS;
    const result = {
      when: new Date().toISOString(),
      logMiB,
      entries,
      entryBytes: ENTRY_BYTES,
      machine: { diskWriteMiBps: r3(disk), loopbackMiBps: r3(loop) },
      rejoin: { seconds: r3(rejoinS), MiBps: r3(rateMiB), entriesPerSecond: Math.round(entries / rejoinS), ofDiskBandwidth: r3(rateMiB / disk) },
      writerLatencyMs: { without: pick(baseLat), during: pick(duringLat) },
      cpuSecondsDuringRejoin: { replica1: r3(cpu[0]!), replica2: r3(cpu[1]!), replica3: r3(cpu[2]!), benchmark: r3(cpu[3]!) },
    };
    say('');
    say(`rejoin of a wiped replica, ${logMiB} MiB log of ${ENTRY_BYTES} B entries:`);
    say(`  ${rejoinS.toFixed(1)} s from restart to VOTING: ${rateMiB.toFixed(1)} MiB/s, ${Math.round(entries / rejoinS).toLocaleString('en-US')} entries/s`);
    say(`  = ${(100 * rateMiB / disk).toFixed(0)}% of the disk's sequential write bandwidth (${disk.toFixed(0)} MiB/s); loopback TCP ${loop.toFixed(0)} MiB/s`);
    say(`  CPU during the rejoin: replicas 1, 2 (serving) ${cpu[0]!.toFixed(1)}, ${cpu[1]!.toFixed(1)} s; replica 3 (rejoining) ${cpu[2]!.toFixed(1)} s; writer ${cpu[3]!.toFixed(1)} s (${cpus().length} CPUs)`);
    say(`  writer append latency p50/p99: ${baseLat.p50.toFixed(2)}/${baseLat.p99.toFixed(2)} ms without a rejoin, ${duringLat.p50.toFixed(2)}/${duringLat.p99.toFixed(2)} ms during it`);
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, `recovery-${result.when.replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2) + '\n');
  } finally {
    await Promise.all(members.map((m) => (m.proc ? stopProcess(m.proc) : Promise.resolve())));
    if (process.env.KEEP_BENCH_DIR === undefined) rmSync(root, { recursive: true, force: true });
    else say(`kept ${root}`);
  }
  if (profile) {
    // Each replica wrote its profile as it exited (above).
    for (const f of readdirSync(profileDir).filter((f) => f.includes(stamp) && f.endsWith('.cpuprofile'))) {
      const summary = summariseProfileFile(join(profileDir, f), 25);
      writeFileSync(join(profileDir, f.replace(/\.cpuprofile$/, '.txt')), summary + '\n');
      say(summary);
    }
  }
}

function pick(l: LatencySummary): { p50: number; p99: number; count: number } {
  return { p50: r3(l.p50), p99: r3(l.p99), count: l.count };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
