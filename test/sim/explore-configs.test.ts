// The exhaustive search's wider configurations (src/sim/explore-configs.ts, issue 10): successive disk
// losses including a peer's, member ids 2,5,9 given to every core in an order of its own, clusters born
// from empty disks (a replica started late, disks lost during the start), a disk restored from an older
// backup, a damaged last record. Each runs with every rule on (bounded here, to keep `npm test` fast:
// the complete or larger runs are `node dist/src/sim/explore-cli.js --config NAME`, figures in
// docs/simulator.md), and each switch listed for it (a safety rule off, or a world option that models a
// fix off) finds a violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explore } from '../../src/sim/explore.js';
import { EXPLORE_CONFIGS } from '../../src/sim/explore-configs.js';
import { settle } from '../../src/sim/scenarios.js';
import { World } from '../../src/sim/world.js';

/** States per configuration with every rule on, in this suite (unless the configuration gives its own testCap). */
const TEST_CAP = 4_000;

for (const c of EXPLORE_CONFIGS.filter((x) => x.name !== 'classic')) {
  test(`${c.name}, every rule on: no violation (${c.what})`, (t) => {
    const cap = c.testCap ?? TEST_CAP;
    const r = explore({ ...c.options, maxStates: cap });
    t.diagnostic(`${r.states} states${r.capped ? ' (bounded, not complete)' : ''}, ${r.transitions} transitions, ${r.terminal} terminal, deepest ${r.deepest}, ${r.ms} ms`);
    assert.deepEqual(r.violations.map((v) => `${v.message}\n  ${v.path.join('\n  ')}`), []);
    assert.equal(r.depthCut, 0);
    assert.ok(r.states >= Math.min(cap, 1_000), `explored ${r.states} states`);
  });
  for (const b of c.breaks) {
    test(`${c.name}, ${b.name} off: the search finds a violation`, (t) => {
      const r = explore({ ...c.options, ...b.options, stopAtFirst: true, maxStates: 50_000 });
      const v = r.violations[0];
      assert.ok(v !== undefined, `no violation in ${r.states} states`);
      t.diagnostic(`after ${r.states} states: ${v.message}\n  ${v.path.join('\n  ')}`);
      assert.match(v.message, /agreement|durability|read-consistency|read: |start over data|one chain \(I3\)|one change pending \(I4\)|counted only from voters \(I5\)|joint \(I6\)|removed stays removed \(I7\)/);
    });
  }
  if (c.breaks.length === 0) {
    test(`${c.name}: no switch applies or none was reached, and the reason is pinned`, () => {
      if (c.unreached !== undefined) assert.match(c.unreached, /not found within/);
      else assert.match(c.noRule ?? '', /no safety rule covers/);
    });
  }
}

test('the start-over-data check fires when every disk of a started cluster is lost (beyond what the start can tell from a new cluster)', () => {
  // What the start configurations check with every rule on: a new, empty log is never started over chosen
  // values. Here it must fire: every disk lost at once looks like a new cluster (docs/protocol.md says so).
  const w = new World({ replicas: 3, startEmpty: true, gossip: false, writers: [{ name: 'w1', floor: 0, appends: ['a1'] }] });
  settle(w, 3);
  assert.deepEqual([1, 2, 3].map((id) => w.status(id)), ['VOTING', 'VOTING', 'VOTING']);
  w.start('w1');
  settle(w, 2);
  assert.equal(w.acked('w1').get(1), 'a:a1');
  assert.equal(w.violations.length, 0);
  for (const id of [1, 2, 3]) w.wipe(id);
  settle(w, 4);
  const found: readonly string[] = w.violations;
  assert.ok(found.some((v) => v.startsWith('start over data')), `violations: ${found.join('; ')}`);
});

test('a restore is offered only when the peers can unmask the backup (World.backupDetectable)', () => {
  const w = new World({ replicas: 3, gossip: false, writers: [{ name: 'w1', floor: 0, appends: ['a1'] }] });
  const backup = w.snapshot(1);
  assert.ok(w.backupDetectable(1, backup), 'nothing written since: restoring loses nothing');
  // w1 elected by r1 and r2 only: r1 promised 1, but no peer saw it (no write named r1's disk yet).
  w.start('w1');
  w.drop((m) => m.to === 'r3');
  w.deliverAll((m) => m.msg.type === 'promise' || m.msg.type === 'promiseReply');
  assert.equal(w.backupDetectable(1, backup), false, 'a promise no peer saw is beyond the restart check');
  // r2 accepts a write naming r1's disk under proposal 1: it witnessed r1's promise.
  w.deliverAll((m) => m.msg.type === 'write' || m.msg.type === 'writeReply');
  assert.ok(w.backupDetectable(1, backup));
});

test('a chained world (learners given) completes a swap with no violation, and its true chain follows the change', () => {
  // What `swap` searches, in one order: the checks of section 8 hold on the happy path, and are not vacuous
  // (the chain has the new link, b1 was acknowledged above the entry).
  const w = new World({
    replicas: 3,
    learners: [4],
    gossip: false,
    writers: [{ name: 'w1', floor: 0, appends: ['a1'], change: { id: 'swap', ifEpoch: 0, change: { kind: 'replace', old: 3, replacement: 4 } }, after: ['b1'] }],
  });
  w.start('w1');
  w.deliverAll(() => true);
  assert.deepEqual(w.violations, []);
  assert.deepEqual(w.truth.map((c) => [c.epoch, c.position, c.voters.map((m) => m.id)]), [[0, -1, [1, 2, 3]], [1, 2, [1, 2, 4]]]);
  assert.deepEqual([...w.acked('w1')], [[1, 'a:a1'], [4, 'a:b1']]);
});
