// A new member's replica starts (Simulation.join, as `replog replica --join` does) only once some up
// replica's chain lists it: the checker sees an add chosen before any replica installs it, and a joiner
// started then held the chain through the old epoch, which does not list it (shaped seed 69: r11 joined
// with the chain through epoch 0 at 47000 ms, before its add, epoch 1, was installed anywhere).
// New members have ids no bootstrap configuration (epoch 0) holds, so every joiner's chain reaches epoch 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed, type SimOptions } from '../../src/sim/simulation.js';

function joins(seed: number, options: SimOptions): { who: string; epoch: number }[] {
  const r = runSeed(seed, { ...options, tailLines: 1_000_000 });
  return r.traceTail.flatMap((line) => {
    const m = /JOIN (r\d+) \(an EMPTY disk with the chain through epoch (\d+)/.exec(line);
    return m === null ? [] : [{ who: m[1]!, epoch: Number(m[2]) }];
  });
}

test('shaped seed 69: the new members join with a chain that lists them', () => {
  const js = joins(69, {});
  assert.ok(js.length > 0, 'the run grows the cluster');
  for (const j of js) assert.ok(j.epoch >= 1, `${j.who} joined with the chain through epoch ${j.epoch}`);
});

test('--changes seeds 1..8: no joiner starts from the bootstrap chain', () => {
  let n = 0;
  for (let seed = 1; seed <= 8; seed++) {
    for (const j of joins(seed, { changesOnly: true })) {
      n++;
      assert.ok(j.epoch >= 1, `seed ${seed}: ${j.who} joined with the chain through epoch ${j.epoch}`);
    }
  }
  assert.ok(n > 0, 'some seed adds a member');
});
