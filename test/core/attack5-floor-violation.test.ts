// Fixed since this attack was written: the test now runs in npm test and guards the fix (it failed before it).
// attack5 finding (test gap): the switch configFloor (R6's floor) has only an acceptor unit test
// (reconfig-acceptor.test.ts checks the reply to a low ballot), and removedStaysOut likewise; no test shows
// a VIOLATION with configFloor off. This test is that demonstration (section 9's `floor` exploration
// configuration, scripted): with the rule on nothing breaks; with it off, two values are learned at one
// position. It passes on the current code (it is the missing test, not a bug); it should join
// reconfig-acceptor.test.ts or rule-switch tests.
//
// Sequence (voters 1..3, learners 4 and 5; change {1,2,3} -> {1,4,5}, p = 4):
//  1. w1 (ballot 2) is elected by 1..3 and writes its marker NOP at 2.
//  2. w (ballot 3) is elected by 2 and 3 only (r1 never hears it): NOP at 3, learned by 2, 3 (copied to
//     4, 5). w1, partitioned with r1, appends u, v, z: r1 accepts them at 3, 4, 5 under ballot 2
//     (leftovers: z at 5 is above p).
//  3. w writes the entry at 4: accepted by 2, 3 and, jointly, by 4 and 5 (caught up): chosen under 3
//     (floor 3). w commits to 2 and 3, and stops before its install election reaches anyone.
//  4. A catch-up fill at 5 with a view [C0, C1(floor 3)] and no proposal history (ballot 1) asks C1's
//     voters; r1's answers are lost. 4 and 5 lack C1: they answer unknown-config, get the link, install
//     it. With the floor (on) they reject ballot 1 (floor 3), the fill retries at 4 and chooses NOP at 5
//     under 4. Without it (off) they promise ballot 1 and accept NOP at 5 under 1 (a C1 quorum): chosen;
//     the commit reaches r5 only.
//  5. w2 (view [C0, C1]) is elected by 1 and 4: r1 reports z at 5 under 2, r4 NOP under 1 (off) or 4 (on).
//     Off: z wins (2 > 1), is chosen and committed to 1 and 4, while r5 learned NOP at 5: two values
//     learned at one position (I1 broken). On: NOP wins, one value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainView } from '../../src/core/config-view.js';
import { Fill, type FillOutbound, type FillResult } from '../../src/core/fill.js';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { Position } from '../../src/core/types.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { config0, ReconfigCluster } from './reconfig-harness.js';
import { driveFill } from './attack5-helpers.js';

function learnedValues(c: ReconfigCluster, p: Position): Map<number, string> {
  const out = new Map<number, string>();
  for (const [id, s] of c.stores) if (s.slot(p)?.learned) out.set(id, JSON.stringify(s.action(p)));
  return out;
}

function run(rules: SafetyRules): { values: Set<string>; fill: FillResult | undefined } {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]), rules);
  c.elect('w0');
  c.run();
  c.append('w0', 'a');
  c.run();
  c.writers.delete('w0');
  c.writer('w1');
  c.elect('w1');
  c.run();
  assert.equal(c.writers.get('w1')!.proposal, 2);
  c.dropIf = (e) => e.from === 'w' && e.to === 'r1';
  c.writer('w');
  c.elect('w');
  c.run();
  assert.equal(c.writers.get('w')!.proposal, 3);
  c.copyLearned(2, 4);
  c.copyLearned(2, 5);
  // w1, partitioned with r1, appends u, v, z at 3, 4, 5.
  c.dropIf = (e) => (e.from === 'w' && e.to === 'r1') || (e.from === 'w1' && e.to !== 'r1');
  for (const d of ['u', 'v', 'z']) c.append('w1', d);
  c.run(1_000);
  c.writers.delete('w1');
  assert.equal((c.store(1).action(5) as { kind: string }).kind, 'append');
  // The change; w stops before its install election reaches anyone.
  c.dropIf = (e) => (e.from === 'w' && e.to === 'r1') || (e.from === 'w' && e.msg.type === 'promise');
  c.change('w', { id: 'move', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  c.run(2_000);
  c.writers.delete('w');
  c.dropIf = () => false;
  const chain = c.chain(2);
  assert.equal(chain.length, 2, 'r2 learned the entry (commit)');
  assert.equal(chain[1]!.position, 4);
  assert.equal(chain[1]!.floor, 3);
  // A catch-up fill at 5 (ballot from 1), r1's answers lost; its commit reaches r5 only.
  let rid = 1000;
  const send: FillOutbound[] = [];
  const now = c.now;
  const fill = new Fill(5, 5, 0, { view: chainView(chain), random: seededRandom(3), rid: () => rid++, rules }, now, send);
  const result = driveFill(c, fill, send, now, 1, 5);
  // w2 in C1, elected by 1 and 4.
  c.dropIf = (e) => e.to === 'r5' || e.from === 'r5';
  c.writer('w2', chain);
  c.elect('w2');
  c.run(5_000);
  c.dropIf = () => false;
  const values = new Set(learnedValues(c, 5).values());
  return { values, fill: result };
}

test('attack5: configFloor off lets a C1 fill choose under a ballot below a C0 leftover, and a later writer choose the leftover: two values at one position (on: one)', () => {
  const on = run(ALL_RULES_ON);
  assert.ok(on.fill?.ok, `on: the fill settles 5: ${JSON.stringify(on.fill)}`);
  assert.equal(on.values.size, 1, `on: one value learned at 5: ${[...on.values].join(' | ')}`);
  const off = run({ ...ALL_RULES_ON, configFloor: false });
  assert.ok(off.fill?.ok, `off: the fill settles 5: ${JSON.stringify(off.fill)}`);
  assert.equal(off.values.size, 2, `off: two values learned at 5 (the violation the rule prevents): ${[...off.values].join(' | ')}`);
});
