// Step 4 of docs/reconfiguration.md, R5: elections, fills and reads see the stop sign. A read over a
// new chain completes although the new voters never learned the entry (they are sent the links they
// lack); a fill does not settle a position above a pending entry in the old configuration; an election
// that finds another writer's entry finishes that change before writing above it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { Action, Position } from '../../src/core/types.js';
import { appendAction, changed, config0, ReconfigCluster } from './reconfig-harness.js';

const off = (rule: keyof SafetyRules): SafetyRules => ({ ...ALL_RULES_ON, [rule]: false });
const swap = { id: 'swap', ifEpoch: 0, change: { kind: 'set' as const, voters: [1, 4, 5], learners: [] } };
const text = (a: Action) => (a.kind === 'append' ? new TextDecoder().decode(a.data) : a.kind);

test('R5/R6: a read over the new chain completes when a new voter never learned the entry (it is sent the links it lacks) and returns an append acknowledged in the new configuration', () => {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]));
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  c.copyLearned(1, 4);
  c.copyLearned(1, 5);
  // The install never reaches r5, and no commit leaves after the change: only r1 and r4 learn the entry (from the install).
  let changing = false;
  c.dropIf = (e) => changing && ((e.to === 'r5' && e.msg.type === 'promise') || e.msg.type === 'commit');
  changing = true;
  c.change('w', swap);
  const after = c.append('w', 'c');
  c.run(2_000);
  const cfg = changed(c.changes.get('swap'));
  assert.ok(c.results.get(after)?.ok, 'c acknowledged by r1 and r4 in the new configuration');
  assert.equal(c.chain(5).length, 1, 'r5 holds the entry accepted, never learned, and lacks the new link');
  // The writer and r1 are gone. A reader that knows the new chain reads from r4 and r5.
  c.writers.delete('w');
  c.up.delete(1);
  c.dropIf = () => false;
  c.reader('rd', [c.c0, cfg]);
  const id = c.read('rd', 0, 20);
  c.run(30_000);
  const r = c.reads.get(id);
  assert.ok(r?.ok, `the read completes: ${JSON.stringify(r)}`);
  assert.deepEqual(r.entries.map((e) => text(e.action)), ['a', 'c']);
  assert.equal(c.chain(5).length, 2, "r5 took the link from the read's fill");
});

/**
 * A deposed proposer left a value at 4 on r2 only; the writer chose the config entry at 3 (accepted by
 * r1, r3 and the new voters), and neither committed nor installed it. A reader that knows only the
 * old chain reads position 4.
 */
function ghostAbove(rules: SafetyRules): { c: ReconfigCluster; ghost: Action } {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]), rules);
  const ghost = appendAction('ghost');
  c.deliverTo(2, { type: 'write', rid: 1, proposal: 1, from: 4, actions: [ghost], named: [], config: { epoch: 0, position: -1 } }, 'ghost');
  c.inflight = [];
  c.dropIf = (e) => e.to === 'r2' && e.from === 'w';
  c.writer('w', [c.c0], { graceMs: 0 });
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.append('w', 'b');
  c.run();
  c.copyLearned(1, 4);
  c.copyLearned(1, 5);
  c.dropIf = (e) => e.to === 'r2' || e.msg.type === 'commit' || e.msg.type === 'promise';
  c.change('w', swap);
  c.run(2_000);
  c.writers.delete('w');
  c.dropIf = () => false;
  return { c, ghost };
}

test('fillFromLearned: a reader filling above an unlearned entry promises from the entry, settles it jointly, and goes to the new configuration; off, it chooses the leftover above it in the old one', () => {
  for (const rules of [ALL_RULES_ON, off('fillFromLearned')]) {
    const { c, ghost } = ghostAbove(rules);
    assert.equal(c.store(1).slot(3)?.kind, 'config', 'the entry is at 3, accepted');
    const id = c.read('rd', 4, 4);
    c.run(30_000);
    const learnedGhost = [1, 2, 3].filter((r) => c.store(r).slot(4)?.learned === true && JSON.stringify(c.store(r).action(4)) === JSON.stringify(ghost));
    const newHolders = c.holders(4 as Position, ghost).filter((r) => [1, 4, 5].includes(r));
    if (rules.fillFromLearned) {
      assert.deepEqual(learnedGhost, [], 'nothing chosen above the entry in the old configuration');
      assert.equal(c.store(1).slot(3)?.learned, true, 'the entry was settled by the fill');
      const r = c.reads.get(id);
      assert.ok(r !== undefined && !r.ok && r.error === 'stale-config', `the read goes on in the new configuration: ${JSON.stringify(r)}`);
    } else {
      assert.ok(learnedGhost.length > 0 && newHolders.length < 2, 'the leftover was chosen at 4 by the old voters, held by too few new ones');
    }
  }
});

test('followPending: an election that finds another writer\'s config entry finishes that change before writing above it; off, it writes above the entry in the old configuration', () => {
  for (const rules of [ALL_RULES_ON, off('followPending')]) {
    const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]), rules);
    c.elect('w');
    c.run();
    c.append('w', 'a');
    c.run();
    c.copyLearned(1, 4);
    c.copyLearned(1, 5);
    // w's entry is accepted by everyone, but w dies before its commit and install leave.
    c.dropIf = (e) => e.from === 'w' && (e.msg.type === 'commit' || e.msg.type === 'promise');
    c.change('w', swap);
    c.run(2_000);
    c.writers.delete('w');
    c.dropIf = () => false;
    const ops = new Map<number, Action>();
    c.writer('w2', [c.c0]);
    c.elect('w2');
    ops.set(c.append('w2', 'x'), appendAction('x'));
    c.run();
    const p = 2;
    assert.equal(c.store(1).slot(p)?.kind, 'config');
    const cfg = { ...c.c0, epoch: 1, voters: [1, 4, 5].map((id) => ({ id, address: `h${id}:1` })), learners: [], nextId: 6, position: p, floor: 1 };
    const bad = c.misplacedAcks(ops, [c.c0, cfg]);
    if (rules.followPending) {
      assert.deepEqual(bad, []);
      assert.equal(c.chain(4).length, 2, 'the change was finished and installed');
    } else assert.ok(bad.length > 0, `x was counted in the old configuration above the entry: ${JSON.stringify([...c.results])}`);
  }
});
