// Fixed since this attack was written: the test now runs in npm test and guards the fix (it failed before it).
// Since R14's second half, a copy that names no floor of an entry the copier never accepted is not taken at all
// (replica.ts, learned), and the senders name the floors (catch-up from ReadReply.chain): the copy as the wire
// carries it today is held back, which the second half of the test checks.
// attack5 finding (safety): end to end, the weak floor of attack5-weak-floor.test.ts chooses two values at
// one position. A config entry copied the way catch-up copies it (a `learned` message with no floors: the
// wire has none) takes as its floor the ballot of a different value the copier had accepted at p; a fill
// whose view is that chain sends the weak floor as `links` to the new voters, which install it although
// they accepted the entry under the real (higher) ballot; then a C1 fill with a ballot below a C0 leftover
// is chosen, and a later C1 writer chooses the leftover. With the floor carried by the copy: one value.
//
// Sequence (voters 1..5, learners 6 and 7; change {1..5} -> {1,6,7}; ballots in brackets):
//  1. w0 [1]: NOP@0, a@1. wx [2], elected by all: marker NOP@2; then xu@3, xv@4 reach r2 only.
//  2. wd [3] is elected by 3, 4, 5 and writes nothing (its writes are lost).
//  3. wz [4] is elected by 1, 3, 4; its marker NOP@3 and appends d@4, z@5 reach r1 only (leftovers).
//  4. w [5] is elected by 3, 4, 5: marker NOP@3 (chosen), then the entry at p = 4: accepted by 3, 4, 5
//     and jointly by 6, 7 (caught up): chosen under 5, committed to 3, 4, 5; w stops before its install.
//  5. r2 copies r3's learned prefix (no floors): its chain gets C1 with floor 2 (the ballot of xv).
//  6. A fill at 5 with r2's chain as its view and ballot 3 asks C1 = {1, 6, 7}; r1's answers are lost.
//     6 and 7 answer unknown-config, get the links (floor 2), install them, promise 3 (above 2) and accept
//     NOP@5 under 3: chosen by a C1 quorum; the commit reaches r7.
//  7. w2 (view r3's chain) is elected by 1 and 6 [>= 5]: r1 reports z@5 under 4, r6 NOP@5 under 3: z wins
//     and is chosen, committed to 1 and 6. r7 learned NOP at 5, r1 and r6 learned z: I1 broken.
//
// Violates: Claim A / I1 (two values learned at one position), through R6's floor (Step 3 needs every
// floor >= t_min = 5; the copy made it 2 and the links spread it).
//
// Suggested fix: floors on the wire for every copy of a config entry (LearnedMessage.floors from the
// sender's chain, and catch-up passing them); until then an entry copied without a named floor is not
// chained (held back) or its floor is taken only from an acceptance of that same entry; installFrom keeps
// max(offered floor, own acceptance of the entry).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainView } from '../../src/core/config-view.js';
import { Fill, type FillOutbound, type FillResult } from '../../src/core/fill.js';
import type { Entry } from '../../src/core/types.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { config0, ReconfigCluster } from './reconfig-harness.js';
import { driveFill } from './attack5-helpers.js';

function scenario(copyWithFloors: boolean): { values: string[]; floorAt2: number; fill: FillResult | undefined; chained: number; learnedAt4: boolean } {
  const c = new ReconfigCluster(config0([1, 2, 3, 4, 5], [6, 7]));
  c.elect('w0');
  c.run();
  c.append('w0', 'a');
  c.run();
  c.writers.delete('w0');
  // wx [2]: elected by all, then xu, xv reach r2 only.
  c.writer('wx');
  c.elect('wx');
  c.run();
  assert.equal(c.writers.get('wx')!.proposal, 2);
  c.dropIf = (e) => e.from === 'wx' && e.to !== 'r2';
  c.append('wx', 'xu');
  c.append('wx', 'xv');
  c.run(1_000);
  c.writers.delete('wx');
  // wd [3]: elected by 3, 4, 5, writes nothing.
  c.dropIf = (e) => e.from === 'wd' && (e.to === 'r1' || e.to === 'r2' || e.msg.type !== 'promise');
  c.writer('wd');
  c.elect('wd');
  c.run(1_000);
  assert.equal(c.writers.get('wd')!.proposal ?? 3, 3);
  c.writers.delete('wd');
  // wz [4]: elected by 1, 3, 4; its writes reach r1 only.
  c.dropIf = (e) => e.from === 'wz' && (e.to === 'r2' || e.to === 'r5' || (e.msg.type !== 'promise' && e.to !== 'r1'));
  c.writer('wz');
  c.elect('wz');
  c.run(500);
  assert.equal(c.writers.get('wz')!.proposal, 4, 'wz elected under 4');
  c.append('wz', 'd');
  c.append('wz', 'z');
  c.run(500);
  c.writers.delete('wz');
  assert.equal(c.store(1).slot(5)?.accepted, 4, 'r1 holds the leftover z@5 under 4');
  // w [5]: elected by 3, 4, 5; marker; then the change, whose install never leaves.
  c.dropIf = (e) => e.from === 'w' && (e.to === 'r1' || e.to === 'r2');
  c.writer('w');
  c.elect('w');
  c.run();
  assert.equal(c.writers.get('w')!.proposal, 5, 'w elected under 5');
  c.copyLearned(3, 6);
  c.copyLearned(3, 7);
  c.dropIf = (e) => e.from === 'w' && (e.to === 'r1' || e.to === 'r2' || e.msg.type === 'promise');
  c.change('w', { id: 'move', ifEpoch: 0, change: { kind: 'set', voters: [1, 6, 7], learners: [] } });
  c.run(2_000);
  c.writers.delete('w');
  c.dropIf = () => false;
  const chain3 = c.chain(3);
  assert.equal(chain3.length, 2, 'r3 learned the entry');
  assert.equal(chain3[1]!.position, 4);
  assert.equal(chain3[1]!.floor, 5);
  // r2 copies r3's learned prefix as catch-up does (the wire carries no floors), or with the floors.
  const s3 = c.store(3);
  const entries: Entry[] = [];
  for (const p of s3.positions(0, s3.learnedThrough())) {
    const a = s3.action(p);
    if (a !== undefined && a !== 'lost') entries.push({ position: p, action: a });
  }
  c.deliverTo(2, { type: 'learned', entries, ...(copyWithFloors ? { floors: [{ position: 4, floor: 5 }] } : {}) }, 'catch-up');
  const chain2 = c.chain(2);
  // Without floors r2 (which accepted xv at 4, never the entry) does not take the copy: no weak floor.
  if (!copyWithFloors) return { values: [], floorAt2: -1, fill: undefined, chained: chain2.length, learnedAt4: c.store(2).slot(4)?.learned === true };
  assert.equal(chain2.length, 2, 'r2 learned the entry by the copy');
  // A fill at 5 with r2's chain, ballot 3; r1's answers lost; its commit reaches r7 only.
  let rid = 1000;
  const send: FillOutbound[] = [];
  const now = c.now;
  const fill = new Fill(5, 5, 2, { view: chainView(chain2), random: seededRandom(3), rid: () => rid++ }, now, send);
  const result = driveFill(c, fill, send, now, 1, 7);
  // w2 in C1 (r3's chain), elected by 1 and 6.
  c.dropIf = (e) => e.to === 'r7' || e.from === 'r7';
  c.writer('w2', chain3);
  c.elect('w2');
  c.run(5_000);
  c.dropIf = () => false;
  const values: string[] = [];
  for (const [id, s] of c.stores) if (s.slot(5)?.learned) values.push(`r${id}: ${JSON.stringify(s.action(5))}`);
  return { values, floorAt2: chain2[1]!.floor, fill: result, chained: chain2.length, learnedAt4: true };
}

test('attack5: a config entry copied without floors lets a C1 fill and a C1 writer choose two values at one position', () => {
  const withFloors = scenario(true);
  assert.equal(withFloors.floorAt2, 5);
  assert.equal(new Set(withFloors.values.map((v) => v.split(': ')[1])).size, 1, `with floors on the copy, one value at 5: ${withFloors.values.join('; ')}`);
  const asOnTheWire = scenario(false);
  assert.equal(asOnTheWire.chained, 1, 'a copy without floors of an entry r2 never accepted is not chained');
  assert.equal(asOnTheWire.learnedAt4, false, 'nor learned');
});
