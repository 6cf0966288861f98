// The simulator over a fixed budget of seeds: deterministic, and with every
// safety rule on it finds no violation, with the workload shapes (shapes.ts)
// and in the classic runs without them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureReport } from '../../src/sim/report.js';
import { runSeed, type SimOptions } from '../../src/sim/simulation.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';

/**
 * Seeds run by `npm test`: a shaped seed costs about 0.4 s of CPU (eight
 * episodes), a classic one about 15 ms; `npm run sim -- --seeds 2000` runs more.
 */
const SHAPED = 80;
const CLASSIC = 300;

test('a seed fixes the whole run: same seed, same trace hash', () => {
  for (const seed of [1, 7, 12345]) {
    const a = runSeed(seed);
    const b = runSeed(seed);
    assert.equal(a.traceHash, b.traceHash);
    assert.equal(a.steps, b.steps);
    assert.deepEqual(a.faults, b.faults);
  }
  assert.notEqual(runSeed(1).traceHash, runSeed(2).traceHash);
  assert.notEqual(runSeed(1).traceHash, runSeed(1, { shapes: false }).traceHash, 'the shapes change the run');
});

/** Runs the seeds 1..budget; returns how many of them had a membership change chosen. */
function clean(budget: number, options: SimOptions): number {
  const failures: string[] = [];
  let faults = 0;
  let changed = 0;
  for (let seed = 1; seed <= budget; seed++) {
    const r = runSeed(seed, options);
    faults += r.faults.crash + r.faults.partition + r.faults.isolate + r.faults.oneway + r.faults.drop;
    if (r.epoch > 0) changed++;
    if (r.violations.length > 0) failures.push(failureReport(r, ALL_RULES_ON));
  }
  assert.ok(faults > budget, 'the budget injects faults');
  assert.equal(failures.length, 0, `${failures.length} failing seeds; first:\n${failures[0]}`);
  return changed;
}

// Every shaped seed ends with two membership change episodes (change-shapes.ts): nearly every run changes the members.
test(`${SHAPED} seeds of mixed faults and workload shapes (membership changes included) find no violation with every rule on`, () => {
  const changed = clean(SHAPED, {});
  assert.ok(changed >= (SHAPED - 1) * 0.9, `only ${changed} of ${SHAPED} runs had a change chosen`);
});
test(`${CLASSIC} classic seeds (no shapes) find no violation with every rule on`, () => {
  assert.equal(clean(CLASSIC, { shapes: false }), 0, 'a classic run changes no member');
});
