#!/usr/bin/env node
// The full mutation run (npm run mutate's files) as six parts run one after another, each with its own
// incremental file (scripts/mutate-part.js), then merged into the full run's incremental file and report
// (scripts/merge-mutation-parts.js):
//   node scripts/mutate-in-parts.js [-- STRYKER OPTIONS]      e.g. -- --concurrency 2
//   node scripts/mutate-in-parts.js --check                  (checks the parts cover the files, runs nothing)
// The whole takes about three hours on 2 cores. A part that finished is kept: run the command again after
// an interruption and the parts done are reused (only what changed since is tested again), the cut one
// starts over. Afterwards `npm run mutate` starts from the merged file and reports the whole in minutes.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Every file npm run mutate mutates, each in exactly one part (checked below). */
const PARTS = {
  'full-a': ['writer-election', 'writer-appends', 'writer-state', 'writer', 'writer-changes', 'writer-counted-members', 'quorum'].map(core),
  'full-b': ['replica', 'acceptor-chain', 'config-view', 'fill'].map(core),
  'full-c': ['recovery', 'catchup', 'discovery', 'identity', 'durable-queue', 'actions'].map(core),
  'full-d': ['reader', 'membership'].map(core),
  'full-e': ['replica-node', 'position-index', 'invariants', 'liveness', 'recent-map', 'errors', 'assert', 'constants', 'types', 'rules', 'store', 'writer-types'].map(core),
  'full-f': ['src/storage/replay.ts', 'src/storage/frame-scan.ts', 'src/storage/record-codec.ts'],
};
function core(name) {
  return `src/core/${name}.ts`;
}

const dash = process.argv.indexOf('--');
const strykerArgs = dash < 0 ? [] : process.argv.slice(dash + 1);

// Every file of the configured globs in one part, and nothing else.
const listed = Object.values(PARTS).flat().sort();
const mutated = spawnSync('git', ['ls-files', 'src/core/*.ts', 'src/storage/replay.ts', 'src/storage/frame-scan.ts', 'src/storage/record-codec.ts'], { encoding: 'utf8' })
  .stdout.trim().split('\n').sort();
const config = JSON.parse(readFileSync('stryker.config.json', 'utf8'));
if (JSON.stringify(config.mutate) !== JSON.stringify(['src/core/**/*.ts', 'src/storage/replay.ts', 'src/storage/frame-scan.ts', 'src/storage/record-codec.ts'])) {
  console.error('stryker.config.json mutates other files than this script knows: update PARTS');
  process.exit(2);
}
if (JSON.stringify(listed) !== JSON.stringify(mutated)) {
  console.error(`PARTS and the files to mutate differ:\n  parts: ${listed.join(' ')}\n  files: ${mutated.join(' ')}`);
  process.exit(2);
}

if (process.argv.includes('--check')) {
  console.log(`${listed.length} files in ${Object.keys(PARTS).length} parts: every file to mutate, each once`);
  process.exit(0);
}

/**
 * Parts run with another test set. full-e without the whole-simulation seed tests: every mutant of
 * replica-node.ts and position-index.ts they cover would run them in full (about 20 s each, hours for the
 * part); without them its score is a lower bound (docs/testing.md).
 */
const VITEST_CONFIG = { 'full-e': 'vitest.config.no-seeds.mts' };

for (const [name, files] of Object.entries(PARTS)) {
  console.log(`=== ${name}: ${files.join(' ')} (${new Date().toISOString()})`);
  const vitest = VITEST_CONFIG[name] === undefined ? [] : [`--vitest-config=${VITEST_CONFIG[name]}`];
  const r = spawnSync('node', ['scripts/mutate-part.js', ...vitest, name, ...files, '--', ...strykerArgs], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const incrementals = Object.keys(PARTS).map((name) => `reports/mutation/parts/${name}-incremental.json`);
const merged = spawnSync('node', ['scripts/merge-mutation-parts.js', ...incrementals], { stdio: 'inherit' });
if (merged.status !== 0) process.exit(merged.status ?? 1);
spawnSync('node', ['scripts/mutation-summary.js', 'reports/mutation/mutation.json'], { stdio: 'inherit' });
