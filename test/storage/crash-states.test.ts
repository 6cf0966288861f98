/**
 * Crash states (crash-states.ts): every crash point of a workload with the
 * unsynced operations all dropped and all kept, then random ones (dropped,
 * reordered, torn at sector granularity). Each must return every
 * acknowledged record or report the loss. The longer run:
 * `npm run crash-states -- STATES [SEED]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCrashStates } from './crash-states.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

test.after(removeTempDirs);

const STATES = Number(process.env.REPLOG_CRASH_STATES ?? 800);

test(`${STATES} crash states of a workload: every acknowledged record is returned, or its loss reported`, async () => {
  const rnd = seededRandom(7);
  const r = await checkCrashStates(tempDir('replog-alice-'), STATES, { random: rnd });
  assert.deepEqual(r.violations.slice(0, 5), []);
  assert.equal(r.states, STATES);
  assert.ok(r.intact > 0 && r.reported > 0, `both outcomes are reached: ${JSON.stringify(r)}`);
  console.log(`# crash states: ${r.states} checked, ${r.intact} intact, ${r.reported} with the loss reported, 0 violations`);
});
