// A small fixed set of simulator seeds for mutation testing (stryker.config.json): cheap enough to run for
// every surviving mutant of src/core, varied enough to cover elections, fills, catch-up and rejoins.
// (npm test's simulator.test.ts runs many more; this file exists so that a mutant the scripted core tests
// miss still meets real runs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureReport } from '../../src/sim/report.js';
import { runSeed } from '../../src/sim/simulation.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';

const SEEDS = Array.from({ length: 30 }, (_, i) => i + 1);

test(`${SEEDS.length} fixed simulator seeds find no violation`, () => {
  for (const seed of SEEDS) {
    const r = runSeed(seed);
    assert.equal(r.violations.length, 0, failureReport(r, ALL_RULES_ON));
  }
});
