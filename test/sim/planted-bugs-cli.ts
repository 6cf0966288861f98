/**
 * The planted-bug table: every mutation of planted-bugs.ts against N seeds.
 *   npm run planted -- --seeds 200 [--from 1] [--jobs 2] [--only name,name] [--target 150] [--pin]
 * Prints, per mutation: seeds caught of seeds run, the first catching seed and
 * the kinds of violation (the first of each caught seed). A seed counts as
 * caught if the checker reported a violation of a kind the mutation expects
 * (`PlantedBug.expect`); a seed that failed otherwise (a liveness timeout, a
 * core assertion), crashed or hung is shown apart and not counted. `--pin`
 * writes test/sim/planted-pins.ts: the first catching seeds of each mutation
 * (planted-bugs.test.ts runs them) and the figures of this run.
 * Exit code 1 if a mutation is caught by fewer seeds than the target (default:
 * 75% of the seeds run), or a find string does not occur exactly once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkFind, PLANTED_BUGS, type PlantedBug } from './planted-bugs.js';
import { runPlanted, type PlantedResult } from './planted-bugs-run.js';

interface Args {
  seeds: number;
  from: number;
  jobs: number;
  only?: string[];
  target?: number;
  pin: boolean;
}

/** Catching seeds pinned per mutation (planted-bugs.test.ts runs each against its mutation). */
const PINNED_PER_BUG = 2;

function parse(argv: readonly string[]): Args {
  const args: Args = { seeds: 200, from: 1, jobs: 2, pin: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seeds') args.seeds = Number(value());
    else if (a === '--from') args.from = Number(value());
    else if (a === '--jobs') args.jobs = Number(value());
    else if (a === '--target') args.target = Number(value());
    else if (a === '--only') args.only = value().split(',');
    else if (a === '--pin') args.pin = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: planted [--seeds N] [--from S] [--jobs J] [--only name,...] [--target caught-seeds] [--pin]');
      console.log(`  mutations: ${PLANTED_BUGS.map((b) => b.name).join(', ')}`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

function row(r: PlantedResult): string {
  const kinds = [...r.kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  const extra = [r.otherwise > 0 ? `${r.otherwise} failed otherwise, not counted` : '', r.crashes > 0 ? `${r.crashes} crashed or hung` : ''].filter(Boolean).join('; ');
  return `| ${r.bug!.name} | ${r.bug!.before ?? '–'} | ${r.caught}/${r.seeds} | ${r.firstSeed ?? '–'} | ${kinds || '–'}${extra ? ` (${extra})` : ''} |`;
}

/** Writes test/sim/planted-pins.ts under the working directory (npm runs in the project's root). */
function pin(results: readonly PlantedResult[], args: Args): void {
  const path = join(process.cwd(), 'test', 'sim', 'planted-pins.ts');
  const lines = results.map((r) => `  '${r.bug!.name}': { caught: ${r.caught}, seeds: [${r.caughtSeeds.slice(0, PINNED_PER_BUG).join(', ')}] },`);
  writeFileSync(
    path,
    [
      '// Written by `npm run planted -- --seeds 200 --pin` (planted-bugs-cli.ts): do not edit by hand.',
      `// Per mutation: how many of seeds ${args.from}..${args.from + args.seeds - 1} caught it with a check it expects,`,
      '// and its first catching seeds, which planted-bugs.test.ts runs against it.',
      `export const PINNED_OF = ${args.seeds};`,
      'export const PINNED: Record<string, { readonly caught: number; readonly seeds: readonly number[] }> = {',
      ...lines,
      '};',
      '',
    ].join('\n'),
  );
  console.error(`pinned: ${path}`);
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  const bugs: PlantedBug[] = args.only === undefined ? [...PLANTED_BUGS] : args.only.map((n) => {
    const b = PLANTED_BUGS.find((x) => x.name === n);
    if (b === undefined) throw new Error(`unknown mutation ${n}`);
    return b;
  });
  for (const b of bugs) checkFind(b); // fails loudly before anything runs
  const target = args.target ?? Math.ceil(args.seeds * 0.75);
  const started = performance.now();
  const results = new Array<PlantedResult>(bugs.length);
  let next = 0;
  const work = async (): Promise<void> => {
    while (next < bugs.length) {
      const i = next++;
      results[i] = await runPlanted(bugs[i], args.from, args.seeds);
      console.error(`... ${bugs[i]!.name}: ${results[i]!.caught}/${args.seeds}`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, args.jobs) }, work));
  console.log(`planted bugs, seeds ${args.from}..${args.from + args.seeds - 1} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  console.log('| mutation | caught before (of 200, issue 20) | caught | first seed | first violation of each caught seed |');
  console.log('|---|---|---|---|---|');
  for (const r of results) console.log(row(r));
  if (args.pin) pin(results, args);
  const short = results.filter((r) => r.caught < target);
  if (short.length > 0) console.log(`below the target of ${target}/${args.seeds}: ${short.map((r) => r.bug!.name).join(', ')}`);
  return short.length > 0 ? 1 : 0;
}

process.exitCode = await main();
