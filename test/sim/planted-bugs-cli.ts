/**
 * The planted-bug table: every mutation of planted-bugs.ts against N seeds.
 *   npm run planted -- --seeds 200 [--from 1] [--jobs 2] [--only name,name] [--target 150]
 * Prints, per mutation: seeds caught of seeds run, the first catching seed and
 * the kinds of violation (the first of each caught seed). A seed counts as
 * caught if the checker reported a violation; a core assertion is one of them
 * (shown apart), another crash or a hang is shown apart and not counted.
 * Exit code 1 if a mutation is caught by fewer seeds than the target (default:
 * 75% of the seeds run), or a find string does not occur exactly once.
 */
import { checkFind, PLANTED_BUGS, type PlantedBug } from './planted-bugs.js';
import { runPlanted, type PlantedResult } from './planted-bugs-run.js';

function parse(argv: readonly string[]): { seeds: number; from: number; jobs: number; only?: string[]; target?: number } {
  const args: { seeds: number; from: number; jobs: number; only?: string[]; target?: number } = { seeds: 200, from: 1, jobs: 2 };
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
    else if (a === '--help' || a === '-h') {
      console.log('usage: planted [--seeds N] [--from S] [--jobs J] [--only name,...] [--target caught-seeds]');
      console.log(`  mutations: ${PLANTED_BUGS.map((b) => b.name).join(', ')}`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

function row(r: PlantedResult): string {
  const kinds = [...r.kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  const extra = [r.assertions > 0 ? `${r.assertions} by a core assertion` : '', r.crashes > 0 ? `${r.crashes} crashed or hung` : ''].filter(Boolean).join('; ');
  return `| ${r.bug!.name} | ${r.bug!.before ?? '–'} | ${r.caught}/${r.seeds} | ${r.firstSeed ?? '–'} | ${kinds || '–'}${extra ? ` (${extra})` : ''} |`;
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
  const short = results.filter((r) => r.caught < target);
  if (short.length > 0) console.log(`below the target of ${target}/${args.seeds}: ${short.map((r) => r.bug!.name).join(', ')}`);
  return short.length > 0 ? 1 : 0;
}

process.exitCode = await main();
