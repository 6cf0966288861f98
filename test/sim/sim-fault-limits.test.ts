// The simulator injects only faults the protocol promises to survive (docs/simulator.md, "damage
// budget"). Pinned seeds where it did not, each a liveness failure that was no core bug.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import { failureReport } from '../../src/sim/report.js';
import { runSeed } from '../../src/sim/simulation.js';
import { changeBudgetLeft, governingConfigs } from '../../src/sim/faults.js';
import type { Configuration } from '../../src/core/membership.js';

// --changes seed 18: r12's backup of 3828 ms holds the chain through epoch 0 (voters 8, 10, 12); by 14599 ms
// r8 and r10 were removed and stopped for good. Restored, r12's restart check waited for ever for a peer of
// that configuration ("0 of the 1 peers needed answered"). Such a backup names no voter still running:
// restoring it is not a fault the protocol promises to survive, so the simulator skips it. Since reads ask a
// quorum instead of every member (issue 21), which moved every trace, seed 9 met the case; since writers are
// told when a link comes up (WriterCore's `reachable`), seed 13 (r1's backup). The test takes the first seed
// of 1..40 that meets it, so that the next change to what a core sends need not re-pin it.
test('--changes runs: a backup naming no running voter is not restored (the first seed of 1..40 that meets the case)', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = runSeed(seed, { changesOnly: true, tailLines: 1_000_000 });
    if (!r.traceTail.some((l) => /RESTORE of r\d+ skipped: its backup of \d+ms names no voter still running/.test(l))) continue;
    assert.equal(r.violations.length, 0, failureReport(r, ALL_RULES_ON));
    return;
  }
  assert.fail('no --changes seed of 1..40 skipped a restore');
});

// The damage budget of a run that changes its members counted the latest configuration chosen (and a
// pending one), not the newest one installed on the disks. Between the moment a change is chosen and the
// moment it is installed, elections, rejoins and restart checks still run in the installed configuration:
// with r1 damaged, damaging one more of its voters leaves it without a healthy quorum, though the latest
// configuration (r1 replaced by r6) still has a minority to spare. Seen on another branch as --changes
// seed 30; on this tree no seed of 1..250 turned on it (the budget differed once, in seed 130, without
// changing the run), so the rule is pinned on the functions.

function config(epoch: number, voters: number[], learners: number[] = []): Configuration {
  const m = (id: number) => ({ id, address: `r${id}:7000` });
  return { epoch, voters: voters.map(m), learners: learners.map(m), nextId: 7 };
}

test('the damage budget counts the newest installed configuration, not only the latest chosen', () => {
  const installed = config(2, [1, 2, 3, 4], [6]);
  const latest = config(3, [2, 3, 4, 6]);
  const governing = governingConfigs(latest, [installed, installed, undefined, installed], undefined);
  assert.deepEqual(governing.map((c) => c.epoch), [3, 2]);
  assert.equal(changeBudgetLeft([latest], [1]), 1, 'the latest alone would allow one more');
  assert.equal(changeBudgetLeft(governing, [1]), 0, 'r1, damaged, is a voter of the installed configuration: no more damage');
  // Once the latest is installed, the older configuration no longer counts.
  assert.deepEqual(governingConfigs(latest, [installed, latest], undefined).map((c) => c.epoch), [3]);
  // A pending target counts too.
  const pending = config(4, [2, 3, 4, 6, 7]);
  assert.deepEqual(governingConfigs(latest, [latest], pending).map((c) => c.epoch), [3, 4]);
});

// --changes seed 175 (branch seed69): c7 (replace 2 by 7, epoch 5: voters 1, 3, 5, 7) ended "unknown" and
// the episode forgot its target, so the budget counted epoch 4 alone (voters 1, 2, 3, 5; r7, wiped by the
// episode, only a learner there) and let r3 be wiped too. The entry was chosen later: two of epoch 5's four
// voters were damaged, and both stayed RECOVERING for good (each rejoin needs 3 of the other 3). A target
// whose outcome is unknown now counts until the true chain reaches its epoch.
test('the damage budget counts a change target whose outcome is unknown until the chain reaches its epoch', () => {
  const e4 = config(4, [1, 2, 3, 5], [6, 7]);
  const e5 = config(5, [1, 3, 5, 7], [6]);
  assert.deepEqual(governingConfigs(e4, [e4], e5).map((c) => c.epoch), [4, 5]);
  assert.equal(changeBudgetLeft(governingConfigs(e4, [e4], e5), [7]), 0, 'r7, damaged, is a voter of the target');
  // Once chosen (or lost to another change of its epoch), the target no longer counts on its own.
  assert.deepEqual(governingConfigs(e5, [e4], e5).map((c) => c.epoch), [5, 4]);
  assert.deepEqual(governingConfigs(config(5, [1, 2, 3]), [], e5).map((c) => c.epoch), [5]);
});

test('--changes seed 175: no two voters of a change target whose outcome is unknown are damaged at once', () => {
  const r = runSeed(175, { changesOnly: true });
  assert.equal(r.violations.length, 0, failureReport(r, ALL_RULES_ON));
});

// The shrink episode's R10 guard (shaped seed 136 on one day's traces): test/sim/shrink-guard.test.ts.
