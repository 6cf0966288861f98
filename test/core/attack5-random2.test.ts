// attack5: seeded random exploration, round 2: interleaved everything. Voters 1..3, learners 4..6 caught
// up. For ~200 random steps, messages are delivered in random order, lost, duplicated; writers (with the
// old view, or with the chain some replica holds) are started, crash, append, ask changes (two writers may
// each ask a change from epoch 0: a duel; a later one asks a change from the epoch it knows); readers with
// the old view or a replica's chain read from random positions. Then the network heals, every replica
// copies the most advanced replica's learned prefix (the node's catch-up), and a writer following the
// learned chain appends; a reader on that chain reads everything.
//
// Checks: no exception from the cores; I3 one chain; learned values agree; acknowledged appends held by a
// quorum of their configuration's voters (I1); removed replicas silent (I7); every value a read returned
// equals the value learned there; every ok read holds every append acknowledged before it began in the
// range it covered; liveness at the end (the final append and the final read succeed).
//
// Run: ATTACK=1 ATTACK_SEEDS=5000 node --test dist/test/core/attack5-random2.test.js
//
// With truncations (attack6): runSeed2(seed, { truncates: true }), run by attack6-random-truncate.test.ts.
// The final catch-up adopts the most advanced replica's beginning with its chain, which is a no-op without them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed2 } from './attack-random-run.js';

const SEEDS = Number(process.env.ATTACK_SEEDS ?? 300);
const FIRST = Number(process.env.ATTACK_FIRST ?? 1);

test(`attack5 random exploration 2 (${SEEDS} seeds from ${FIRST})`, { skip: !process.env.ATTACK }, () => {
  const failures: string[] = [];
  for (let s = FIRST; s < FIRST + SEEDS; s++) {
    const f = runSeed2(s);
    if (f !== undefined) failures.push(f);
  }
  if (failures.length > 0) console.log(`FAILURES ${failures.length}/${SEEDS}\n` + failures.slice(0, 60).join('\n'));
  else console.log(`no failures in ${SEEDS} seeds`);
  assert.deepEqual(failures, []);
});
