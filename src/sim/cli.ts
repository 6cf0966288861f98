/**
 * The simulator's command line:
 *   npm run sim -- --seeds 10000 [--from 1]   run seeds from..from+N-1, report totals
 *   npm run sim -- --seed S [--verbose]       replay one seed (every event with --verbose)
 *   --off honourPromise,strictPromise         switch safety rules off (to see the checker fail)
 *   --open restoreUnwitnessed,...             switch on fault shapes that found open core issues (config.ts, OpenShapes)
 *   --strict-liveness                         issue 20's liveness checks in every phase (SimOptions.strictLiveness)
 *   --no-shapes                               the classic runs, without the workload episodes of shapes.ts
 *   --changes                                 membership change episodes only (change-shapes.ts), short runs
 * Exit code 1 if any seed finds a violation.
 */
import { ALL_RULES_ON, type SafetyRules } from '../core/rules.js';
import { NO_OPEN_SHAPES, type OpenShapes } from './config.js';
import { addResult, emptyTotals, failureReport, totalsReport } from './report.js';
import { runSeed } from './simulation.js';

interface Args {
  seed?: number;
  seeds: number;
  from: number;
  verbose: boolean;
  rules: SafetyRules;
  stopAtFirst: boolean;
  open: Partial<OpenShapes>;
  strictLiveness: boolean;
  shapes: boolean;
  changesOnly: boolean;
}

function parse(argv: readonly string[]): Args {
  const args: Args = { seeds: 100, from: 1, verbose: false, rules: ALL_RULES_ON, stopAtFirst: false, open: {}, strictLiveness: false, shapes: true, changesOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seed') args.seed = Number(value());
    else if (a === '--seeds') args.seeds = Number(value());
    else if (a === '--from') args.from = Number(value());
    else if (a === '--verbose' || a === '-v') args.verbose = true;
    else if (a === '--stop') args.stopAtFirst = true;
    else if (a === '--strict-liveness') args.strictLiveness = true;
    else if (a === '--no-shapes') args.shapes = false;
    else if (a === '--changes') args.changesOnly = true;
    else if (a === '--off') {
      const rules: Record<string, boolean> = { ...args.rules };
      for (const r of value().split(',')) {
        if (!(r in rules)) throw new Error(`unknown rule ${r} (known: ${Object.keys(rules).join(', ')})`);
        rules[r] = false;
      }
      args.rules = rules as unknown as SafetyRules;
    } else if (a === '--open') {
      const open: Record<string, boolean> = { ...args.open };
      for (const k of value().split(',')) {
        if (!(k in NO_OPEN_SHAPES)) throw new Error(`unknown shape ${k} (known: ${Object.keys(NO_OPEN_SHAPES).join(', ')})`);
        open[k] = true;
      }
      args.open = open;
    } else if (a === '--help' || a === '-h') {
      console.log('usage: sim [--seeds N] [--from S] | --seed S [--verbose]; [--off rule,...] [--open shape,...] [--strict-liveness] [--no-shapes | --changes] [--stop]');
      console.log(`  rules: ${Object.keys(ALL_RULES_ON).join(', ')}`);
      console.log(`  open shapes: ${Object.keys(NO_OPEN_SHAPES).join(', ')}`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  for (const n of [args.seed, args.seeds, args.from]) {
    if (n !== undefined && !(Number.isSafeInteger(n) && n >= 0)) throw new Error(`not a seed or count: ${n}`);
  }
  return args;
}

function main(): number {
  const args = parse(process.argv.slice(2));
  if (args.seed !== undefined) {
    const r = runSeed(args.seed, { rules: args.rules, verbose: args.verbose, open: args.open, strictLiveness: args.strictLiveness, shapes: args.shapes, changesOnly: args.changesOnly });
    if (r.violations.length > 0) {
      console.log(failureReport(r, args.rules));
      return 1;
    }
    console.log(`seed ${r.seed} ok: ${r.steps} steps, ${r.simTimeMs}ms simulated, ${r.acks} acks, ${r.reads} reads, trace ${r.traceHash}`);
    console.log(`  config: ${r.config}`);
    return 0;
  }
  const totals = emptyTotals();
  const started = performance.now();
  for (let s = args.from; s < args.from + args.seeds; s++) {
    const r = runSeed(s, { rules: args.rules, open: args.open, strictLiveness: args.strictLiveness, shapes: args.shapes, changesOnly: args.changesOnly });
    addResult(totals, r);
    if (r.violations.length > 0) {
      if (totals.failed.length <= 3) console.log(failureReport(r, args.rules) + '\n');
      if (args.stopAtFirst) break;
    }
    if (totals.seeds % 1000 === 0) console.error(`... ${totals.seeds} seeds, ${totals.failed.length} failing`);
  }
  console.log(totalsReport(totals, performance.now() - started));
  return totals.failed.length > 0 ? 1 : 0;
}

process.exitCode = main();
