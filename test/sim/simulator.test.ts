// The simulator over a fixed budget of seeds: deterministic, and with every
// safety rule on it finds no violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureReport } from '../../src/sim/report.js';
import { runSeed } from '../../src/sim/simulation.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';

/** Seeds run by `npm test` (about 70 seeds/s on one core). */
const BUDGET = 400;

test('a seed fixes the whole run: same seed, same trace hash', () => {
  for (const seed of [1, 7, 12345]) {
    const a = runSeed(seed);
    const b = runSeed(seed);
    assert.equal(a.traceHash, b.traceHash);
    assert.equal(a.steps, b.steps);
    assert.deepEqual(a.faults, b.faults);
  }
  assert.notEqual(runSeed(1).traceHash, runSeed(2).traceHash);
});

test(`${BUDGET} seeds of mixed faults find no violation with every rule on`, () => {
  const failures: string[] = [];
  let faults = 0;
  for (let seed = 1; seed <= BUDGET; seed++) {
    const r = runSeed(seed);
    faults += r.faults.crash + r.faults.partition + r.faults.isolate + r.faults.oneway + r.faults.drop;
    if (r.violations.length > 0) failures.push(failureReport(r, ALL_RULES_ON));
  }
  assert.ok(faults > BUDGET, 'the budget injects faults');
  assert.equal(failures.length, 0, `${failures.length} failing seeds; first:\n${failures[0]}`);
});
