// The mutation run's test set under vitest (npm run mutate; docs/testing.md): the core, scenario,
// simulator-seed and storage tests, run from their TypeScript sources. They are written for node:test
// (npm test runs them compiled, with node --test); 'node:test' is aliased here to a shim that maps the
// part of its API they use onto vitest's (test/vitest-node-test-shim.ts). Stryker's vitest runner then
// knows which test covers which mutant and runs only those, in one process, for each mutant.
//   npx vitest run                   # the whole set, as Stryker's dry run does
//   npx vitest run test/core/quorum  # one file
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import type { Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** test/scenarios/run.test.ts finds its .txt files from dist/test/scenarios/ (three levels up, then
 * test/scenarios/); run from its source it is one level higher, so the URL is made relative to it. */
function scenarioDir(): Plugin {
  const from = "new URL('../../../test/scenarios/', import.meta.url)";
  return {
    name: 'replog-scenario-dir',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('/test/scenarios/run.test.ts')) return null;
      if (!code.includes(from)) this.error(`vitest.config.mts: ${from} not found in ${id}; update scenarioDir()`);
      return { code: code.replace(from, "new URL('./', import.meta.url)"), map: null };
    },
  };
}

/** The files that take seconds (vitest run, 2026-12), slowest last; all others take well under one. */
const SLOW = [
  'test/core/property.test.ts',
  'test/core/reconfig-property.test.ts',
  'test/storage/faults.test.ts',
  'test/sim/core-regressions.test.ts',
  'test/storage/crash-states.test.ts',
  'test/core/position-index.test.ts',
  'test/core/review.test.ts',
  'test/sim/mutation-seeds.test.ts',
];
const TIERS = ['test/core/', 'test/storage/', 'test/scenarios/', 'test/sim/'];

/** Fast files first: Stryker stops a mutant's run at its first failing test, and most mutants are
 * killed by a unit test of a few milliseconds, so the simulator seeds (seconds) run only for the
 * mutants that survive everything before them. vitest's own order is the reverse (longest first). */
class FastFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const p = relative(f.project.config.root, f.moduleId).split('\\').join('/');
      const slow = SLOW.indexOf(p);
      if (slow !== -1) return TIERS.length + slow;
      const tier = TIERS.findIndex((t) => p.startsWith(t));
      return tier === -1 ? TIERS.length - 1 : tier;
    };
    return [...files].sort((a, b) => rank(a) - rank(b) || (a.moduleId < b.moduleId ? -1 : a.moduleId > b.moduleId ? 1 : 0));
  }
}

export default defineConfig({
  plugins: [scenarioDir()],
  resolve: {
    alias: { 'node:test': here('./test/vitest-node-test-shim.ts') },
  },
  test: {
    include: [
      'test/core/*.test.ts',
      'test/scenarios/run.test.ts',
      'test/sim/scenarios.test.ts',
      'test/sim/core-regressions.test.ts',
      'test/sim/mutation-seeds.test.ts',
      'test/storage/codec.test.ts',
      'test/storage/decoder-rules.test.ts',
      'test/storage/contract-file.test.ts',
      'test/storage/contract-memory.test.ts',
      'test/storage/crash-states.test.ts',
      'test/storage/generations.test.ts',
      'test/storage/metadata-codec.test.ts',
      'test/storage/segments.test.ts',
      'test/storage/faults.test.ts',
    ],
    // purity reads the compiled files, and the mutant guard plants mutants in a copy of dist/: both
    // stay in npm test only.
    exclude: [...configDefaults.exclude, 'test/core/purity.test.ts', 'test/core/mutant-guard.test.ts'],
    // node:test has no per-test timeout (npm test gives 300 s); a few tests run for seconds.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // The same pool as Stryker's vitest runner, so a plain run shows what Stryker's dry run will.
    pool: 'threads',
    maxWorkers: 2,
    // One module graph for all the files of a run, instead of a fresh worker and fresh imports per
    // file: Stryker runs a mutant's covering tests in one vitest run, and with isolation it spent
    // seconds per mutant importing the simulator for each file again. Each run (each mutant) still
    // gets a new worker, so no module state survives from one mutant to the next. The tests pass in
    // any order this way (npm test keeps running each file in its own process).
    isolate: false,
    sequence: { sequencer: FastFirst },
  },
});
