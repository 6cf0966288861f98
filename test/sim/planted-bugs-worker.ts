/**
 * Runs seeds against one (mutated) copy of the simulator and prints one JSON
 * line per seed: the kinds and first message of its violations, or the error
 * that crashed the run. Arguments: the copy's simulation.js, the seeds (comma-separated).
 */
import { pathToFileURL } from 'node:url';
import type { SimResult } from '../../src/sim/simulation.js';

export interface SeedOutcome {
  readonly seed: number;
  /** Kinds of the violations found, in order (empty: the seed passed). */
  readonly kinds: string[];
  /** The first violation's message, or the crash's. */
  readonly message?: string;
  /** The run threw something other than a core assertion (the simulation turns those into violations). */
  readonly crash?: boolean;
}

const [simulation, list] = process.argv.slice(2);
const { runSeed } = (await import(pathToFileURL(simulation!).href)) as { runSeed: (seed: number) => SimResult };
for (const seed of list!.split(',').map(Number)) {
  let out: SeedOutcome;
  try {
    const r = runSeed(seed);
    out = { seed, kinds: r.violations.map((v) => v.kind), ...(r.violations.length > 0 ? { message: r.violations[0]!.message } : {}) };
  } catch (err) {
    out = { seed, kinds: ['crash'], message: String((err as Error)?.stack ?? err).split('\n').slice(0, 2).join(' '), crash: true };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
