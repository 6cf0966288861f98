/**
 * `npm run nemesis -- --time 300 --seed S [--faults partition,pause,kill,wipe,corrupt,power-loss,disk-full] [--runs N]`:
 * runs the nemesis (runner.ts) and writes each run's results to
 * results/nemesis/<seed>-<time>s/. With --runs N, runs seeds S, S+1, ...
 * --schedule FILE replays a run's schedule.json (every run writes one).
 * A failing run prints its seed and the command that replays its schedule;
 * the exit status is 1 if any run failed.
 */
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { replayCommand, runNemesis } from './runner.js';
import { ALL_FAULT_KINDS, FAULT_KINDS, parseScheduleFile, type FaultKind, type ScheduleFile } from './schedule.js';

function int(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`not a non-negative integer: ${v}`);
  return n;
}

function faultList(v: string): FaultKind[] {
  const ks = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const k of ks) if (!(ALL_FAULT_KINDS as readonly string[]).includes(k)) throw new InvalidArgumentError(`unknown fault ${k} (known: ${ALL_FAULT_KINDS.join(', ')})`);
  return ks as FaultKind[];
}

const program = new Command('nemesis')
  .description('real faults on real replog processes, a workload, and a checker over the whole history')
  .option('--time <seconds>', 'length of each run', int, 60)
  .option('--seed <n>', 'the seed of the fault schedule and workload (default: random)', int)
  .option('--faults <list>', `faults to inject (default ${FAULT_KINDS.join(',')}; also replace: a membership change)`, faultList, [...FAULT_KINDS])
  .option('--runs <n>', 'runs, with seeds seed, seed+1, ...', int, 1)
  .option('--replicas <n>', 'replicas', int, 3)
  .option('--out <dir>', 'results folder', 'results/nemesis')
  .option('--loopback', 'use loopback even where network namespaces work (no link faults)')
  .option('--keep-data', 'keep the replicas\' data directories (deleted after a passing run by default)')
  .option('--schedule <file>', "replay a run's schedule.json (its seed, time, replicas and faults; edit it to leave faults out)")
  .option('--plant <bug>', 'sets REPLOG_PLANT=<bug> for the replicas and the workload (a planted bug the run should catch)');

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{ time: number; seed?: number; faults: FaultKind[]; runs: number; replicas: number; out: string; loopback?: boolean; keepData?: boolean; plant?: string; schedule?: string }>();
  let replay: ScheduleFile | undefined;
  if (o.schedule !== undefined) {
    replay = parseScheduleFile(readFileSync(o.schedule, 'utf8'));
    // The file says what the run was: its seed (the workload's), time, replicas and fault kinds.
    Object.assign(o, { seed: replay.seed, time: Math.round(replay.timeMs / 1000), faults: [...replay.faults], replicas: replay.replicaIds.length });
    console.log(`nemesis: replaying ${o.schedule}: ${replay.schedule.length} faults, seed ${replay.seed}, ${o.time} s`);
  }
  const first = o.seed ?? Math.floor(Math.random() * 1e9);
  let failed = 0;
  const total = { ops: 0, acked: 0, inDoubt: 0, lost: 0, faults: {} as Record<string, number> };
  for (let i = 0; i < o.runs; i++) {
    // A replayed schedule is played again as it is, run after run (a flaky failure); a drawn one takes the next seed.
    const seed = replay === undefined ? first + i : first;
    const dir = join(o.out, `${seed}-${o.time}s${replay === undefined ? '' : `-replay${o.runs > 1 ? `-${i + 1}` : ''}`}`);
    rmSync(dir, { recursive: true, force: true });
    console.log(`nemesis: run ${i + 1}/${o.runs}, seed ${seed}, ${o.time} s, faults ${o.faults.join(',')} -> ${dir}`);
    const r = await runNemesis({
      seed,
      timeMs: o.time * 1000,
      faults: o.faults,
      out: dir,
      replicas: o.replicas,
      loopback: o.loopback === true,
      ...(o.plant === undefined ? {} : { env: { REPLOG_PLANT: o.plant } }),
      ...(replay === undefined ? {} : { schedule: replay.schedule }),
      log: (l) => console.log(`  ${l}`),
    });
    const ops = Object.entries(r.opsByOutcome).sort().map(([k, n]) => `${k}=${n}`).join(' ');
    const faults = Object.entries(r.faultsByKind).sort().map(([k, n]) => `${k}=${n}`).join(' ');
    console.log(`  ops: ${ops}`);
    console.log(`  faults: ${faults || 'none'}${r.bedMode === 'loopback' ? `  !!! LOOPBACK BED, NO LINK FAULTS (${r.fallbackReason})` : ''}`);
    const counts = Object.entries(r.check.violationCounts).map(([k, n]) => `${k}=${n}`).join(' ');
    console.log(`  lost: ${r.check.violationCounts.lost ?? 0}, violations: ${counts || 'none'}, notes: ${r.notes.length}`);
    for (const v of r.check.violations.slice(0, 10)) console.log(`  ${v.kind}: ${v.message}`);
    for (const n of r.notes) console.log(`  note: ${n}`);
    total.ops += Object.values(r.opsByOutcome).reduce((a, b) => a + b, 0);
    total.acked += r.check.stats.appendsOk;
    total.inDoubt += r.check.stats.appendsUnknown;
    total.lost += r.check.violationCounts.lost ?? 0;
    for (const [k, n] of Object.entries(r.faultsByKind)) total.faults[k] = (total.faults[k] ?? 0) + n;
    if (r.valid) {
      console.log(`  PASS (${join(dir, 'summary.md')})`);
      if (o.keepData !== true) rmSync(join(dir, 'data'), { recursive: true, force: true });
    } else {
      failed++;
      const plant = o.plant === undefined ? '' : ` --plant ${o.plant}`;
      console.log(`  FAIL: seed ${seed}; replay: ${replayCommand({ seed, timeMs: o.time * 1000, faults: o.faults })}${plant}`);
      console.log(`  or, the schedule as played (edit it to leave faults out): npm run nemesis -- --schedule ${join(dir, 'schedule.json')}${plant}`);
    }
  }
  if (o.runs > 1) {
    const faults = Object.entries(total.faults).sort().map(([k, n]) => `${k}=${n}`).join(' ');
    console.log(`nemesis: ${o.runs - failed}/${o.runs} runs passed; faults ${faults || 'none'}; ops ${total.ops}, appends acknowledged ${total.acked}, in doubt ${total.inDoubt}, lost ${total.lost}`);
  }
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((err) => {
  console.error(`nemesis: ${(err as Error)?.stack ?? err}`);
  process.exit(1);
});
