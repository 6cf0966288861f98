// A small fixed set of simulator seeds for mutation testing (stryker.config.json): cheap enough to run for
// every surviving mutant of src/core, varied enough to cover elections, fills, catch-up, rejoins and
// membership changes. (npm test's simulator.test.ts runs many more; this file exists so that a mutant the
// scripted core tests miss still meets real runs.) The seeds are the fastest of 1..120 (and of the change
// runs, 1..40) that still span the shapes: 3 and 5 replicas, every start shape, disk losses, restores,
// tail corruption, failed syncs, shuffled and sparse ids; about 8 seconds in all (the earlier 1..30 took 50).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureReport } from '../../src/sim/report.js';
import { runSeed } from '../../src/sim/simulation.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';

const SEEDS = [38, 40, 113, 17, 99, 57, 25, 23, 15, 79, 81, 16, 52, 105];
const CHANGE_SEEDS = [39, 11, 19, 15, 17, 20, 32, 13];

test(`${SEEDS.length} fixed simulator seeds find no violation`, () => {
  for (const seed of SEEDS) {
    const r = runSeed(seed);
    assert.equal(r.violations.length, 0, failureReport(r, ALL_RULES_ON));
  }
});

test(`${CHANGE_SEEDS.length} fixed membership-change seeds find no violation`, () => {
  for (const seed of CHANGE_SEEDS) {
    const r = runSeed(seed, { changesOnly: true });
    assert.equal(r.violations.length, 0, failureReport(r, ALL_RULES_ON));
  }
});
