// The planted bugs of planted-bugs.ts against the checker. `npm run planted -- --seeds 200 --pin`
// measures each over seeds 1..200 and pins the figures and the first catching seeds
// (planted-pins.ts); this test checks, fast, that every find string still matches once, that the
// pinned figures reach the floor, that the unmodified copy is clean on the pinned seeds, and that
// each mutation is still caught, by a check it expects, on each of its pinned seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFind, PLANTED_BUGS } from './planted-bugs.js';
import { runPlantedSeeds } from './planted-bugs-run.js';
import { PINNED, PINNED_OF } from './planted-pins.js';

/** Issue 20: every planted bug caught by at least 150 of 200 seeds. */
const FLOOR_OF_200 = 150;

test('every planted bug is pinned, and its find string occurs exactly once in dist/src', () => {
  for (const b of PLANTED_BUGS) {
    checkFind(b);
    assert.ok(PINNED[b.name] !== undefined, `${b.name} is not pinned (npm run planted -- --seeds 200 --pin)`);
    assert.ok(PINNED[b.name]!.seeds.length > 0, `${b.name}: no catching seed pinned`);
  }
});

test(`every planted bug was caught by at least ${FLOOR_OF_200} of 200 seeds when pinned`, () => {
  const short = PLANTED_BUGS.filter((b) => PINNED[b.name]!.caught < (FLOOR_OF_200 * PINNED_OF) / 200).map((b) => `${b.name}: ${PINNED[b.name]!.caught}/${PINNED_OF}, floor ${FLOOR_OF_200}/200`);
  assert.deepEqual(short, []);
});

const pinnedSeeds = [...new Set(PLANTED_BUGS.map((b) => PINNED[b.name]!.seeds[0]!))].sort((a, b) => a - b);

test('the unmodified copy finds nothing on the pinned seeds (the runner itself is sound)', async () => {
  const r = await runPlantedSeeds(undefined, pinnedSeeds);
  assert.equal(r.caught + r.crashes, 0, `unmodified copy: ${r.firstMessage}`);
});

test('each planted bug is caught on each of its pinned seeds by a check it expects', async () => {
  const bugs = [...PLANTED_BUGS];
  const missed: string[] = [];
  // Two child processes at a time (the machine may have two cores).
  const work = async (): Promise<void> => {
    for (let b = bugs.shift(); b !== undefined; b = bugs.shift()) {
      const seeds = PINNED[b.name]!.seeds;
      const r = await runPlantedSeeds(b, seeds);
      if (r.caught < seeds.length) missed.push(`${b.name}: caught on ${r.caughtSeeds.join(',') || 'none'} of pinned ${seeds.join(',')} (${r.firstMessage ?? 'no violation'})`);
    }
  };
  await Promise.all([work(), work()]);
  assert.deepEqual(missed, []);
});
