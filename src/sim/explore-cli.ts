/**
 * The exhaustive search's command line (explore.ts, explore-configs.ts):
 *   node dist/src/sim/explore-cli.js --config NAME [--max-states N] [--off RULE|--break K]
 *   node dist/src/sim/explore-cli.js --all [--max-states N]
 *   --config NAME       one configuration (see --list)
 *   --all               every configuration, every rule on
 *   --max-states N      stop after N distinct states (the search is then bounded, not complete)
 *   --break K           apply the K-th switch of the configuration's `breaks` (0-based) and stop at the first violation
 *   --off a,b           switch these safety rules off and stop at the first violation
 *   --list              list the configurations
 * Prints states, transitions, terminal states, depth, time, complete or capped, and
 * the first violations with their paths. Exit code 1 if a run with every rule on finds one.
 */
import { ALL_RULES_ON, type SafetyRules } from '../core/rules.js';
import { explore, type ExploreOptions, type ExploreResult } from './explore.js';
import { EXPLORE_CONFIGS, exploreConfig, type ExploreConfig } from './explore-configs.js';

function value(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined) throw new Error(`${flag} needs a value`);
  return v;
}

function summary(r: ExploreResult): string {
  const bound = r.complete ? 'complete' : r.capped ? 'bounded, not complete (state cap reached)' : 'stopped at the first violation';
  return `${r.states} states, ${r.transitions} transitions, ${r.terminal} terminal, depth ${r.deepest}, ${r.depthCut} cut by depth, ${(r.ms / 1000).toFixed(1)} s, ${bound}; ${r.violations.length} violation(s)`;
}

function run(c: ExploreConfig, extra: ExploreOptions, label: string): ExploreResult {
  const r = explore({ ...c.options, ...extra });
  console.log(`${c.name}${label}: ${summary(r)}`);
  for (const v of r.violations.slice(0, 3)) console.log(`  ${v.message}\n    ${v.path.join('\n    ')}`);
  return r;
}

function main(argv: readonly string[]): number {
  if (argv.includes('--list')) {
    for (const c of EXPLORE_CONFIGS) {
      console.log(`${c.name}: ${c.what}\n  breaks: ${c.breaks.map((b) => b.name).join('; ') || `none (${c.noRule ?? c.unreached ?? ''})`}`);
      if (c.unreached !== undefined && c.breaks.length > 0) console.log(`  not reached: ${c.unreached}`);
    }
    return 0;
  }
  const cap = value(argv, '--max-states');
  const capped: ExploreOptions = cap === undefined ? {} : { maxStates: Number(cap) };
  const name = value(argv, '--config');
  const configs = argv.includes('--all') ? EXPLORE_CONFIGS : name !== undefined ? [exploreConfig(name)] : [];
  if (configs.length === 0) throw new Error('give --config NAME, --all or --list');
  const br = value(argv, '--break');
  const offs = value(argv, '--off');
  let bad = 0;
  for (const c of configs) {
    if (br !== undefined) {
      const b = c.breaks[Number(br)];
      if (b === undefined) throw new Error(`${c.name} has no switch ${br}`);
      run(c, { ...capped, ...b.options, stopAtFirst: true }, ` with ${b.name} off`);
    } else if (offs !== undefined) {
      const rules: Record<string, boolean> = { ...ALL_RULES_ON };
      for (const o of offs.split(',')) {
        if (!(o in rules)) throw new Error(`unknown rule ${o}`);
        rules[o] = false;
      }
      run(c, { ...capped, rules: rules as unknown as SafetyRules, stopAtFirst: true }, ` with ${offs} off`);
    } else if (run(c, capped, '').violations.length > 0) bad++;
  }
  return bad > 0 ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  // Usage mistakes: one line, exit 2.
  console.error(`explore: ${(err as Error).message}`);
  process.exitCode = 2;
}
