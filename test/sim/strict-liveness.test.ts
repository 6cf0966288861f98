// Issue 20's liveness checks in every phase (SimOptions.strictLiveness, the CLI's
// --strict-liveness). Each test pins a classic seed (shapes: false: the workload shapes would
// move it). Seeds 3, 8 and 41 showed liveness bugs of the core, fixed since (test/core/counted-again.test.ts
// states each rule); the skipped ones show a trade-off kept on purpose. Reproduce one with
// `npm run sim -- --seed S --strict-liveness --no-shapes --verbose`. docs/simulator.md,
// "What the checker checks" (Liveness), has the figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import { failureReport } from '../../src/sim/report.js';
import { runSeed } from '../../src/sim/simulation.js';

function clean(seed: number): void {
  const r = runSeed(seed, { strictLiveness: true, shapes: false });
  assert.equal(r.violations.length, 0, failureReport(r, ALL_RULES_ON));
}

const BY_DESIGN =
  'by design (timing.activeWriterWaitMs): a read or catch-up that made no progress for 6 s under partitions fills, and the fill fences a writer whose batch no quorum took in that time';

// A member refuses the live writer its own proposal number for good (its promise reply was lost or
// unclean): the writer never counts it again, although it is up and VOTING on a calm network.
test('seed 3: an elected writer counts 2 of 3 members 2 s after every replica is up and VOTING', () => clean(3));
// A replica's catch-up fills positions it has not learned with a promise above the live writer's.
test("seed 8: a catch-up fill fences the only live writer (r12's fill, b52)", () => clean(8));
// A reader fills positions held but not learned (readSettleMs) with a promise above the live writer's.
test("seed 41: a reader's fill fences the only live writer", () => clean(41));

// What strict liveness still finds in classic seeds 1..1000 (`npm run sim -- --seeds 1000 --strict-liveness
// --no-shapes`): three fills during or just after heavy partitions, each after its read made no progress for
// activeWriterWaitMs. A reader may not wait for a writer forever (an idle writer recommits only its own
// term); these pins say where the trade-off shows.
test("seed 151: a reader's fill after 6 s without progress under partitions (3/s) fences the writer", { skip: BY_DESIGN }, () => clean(151));
test("seed 214: a catch-up fill after 6 s without progress fences the writer in the drain", { skip: BY_DESIGN }, () => clean(214));
test("seed 451: a reader's fill after 6 s without progress under partitions fences the writer", { skip: BY_DESIGN }, () => clean(451));
