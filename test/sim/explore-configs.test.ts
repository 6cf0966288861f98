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
import { World, type InFlight } from '../../src/sim/world.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';

/** States per configuration with every rule on, in this suite (unless the configuration gives its own testCap). */
const TEST_CAP = 4_000;

// The configurations are split over two files (this one and explore-configs-2.test.ts, by position), each
// under npm test's per-file timeout on a loaded 2-core machine.
const HALF = process.env.REPLOG_EXPLORE_HALF === '2' ? 1 : 0;
for (const c of EXPLORE_CONFIGS.filter((x) => x.name !== 'classic').filter((_, i) => i % 2 === HALF)) {
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
      assert.match(v.message, /agreement|durability|read-consistency|read: |start over data|one chain \(I3\)|one change pending \(I4\)|counted only from voters \(I5\)|joint \(I6\)|removed stays removed \(I7\)|complete chains \(I8\)/);
    });
  }
  if (c.breaks.length === 0) {
    test(`${c.name}: no switch applies or none was reached, and the reason is pinned`, () => {
      if (c.unreached !== undefined) assert.match(c.unreached, /not found within/);
      else assert.match(c.noRule ?? '', /no safety rule covers/);
    });
  }
}

// The scripted cases run once, in this file.
if (HALF === 0) {
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
  
  test('floor with a reader (scripted): a fill of the new configuration under a ballot below a deposed writer\'s leftover chooses there without R6\'s floor, and the install election then chooses the leftover (on: the fill is refused)', () => {
    // The table's `floor` with a reader in w3's place (not searched: the read waits out the activity r1 reports for w1, about
    // seven reader ticks, each re-reading): w1 (b2) leaves NOP, a1, b1 at 0..2 on r1 only; w2 (b3) moves {1,2,3} to {1,4,5} at 1 without r1;
    // r4 and r5 catch up and learn the entry; rd1 (floor 0: fills under b1), with r2's chain, reads [2, 2], hears r1's leftover
    // and fills over r4 and r5 (r1's answers to the fill lost); w2's install election (b4) then meets r1 and r5.
    const run = (configFloor: boolean): World => {
      const w = new World({
        replicas: 3,
        learners: [4, 5],
        gossip: false,
        instantReplies: true,
        positionLimit: 5,
        rules: { ...ALL_RULES_ON, configFloor },
        readers: [{ name: 'rd1', from: 2, to: 2, seed: 2, floor: 0 }],
        writers: [
          { name: 'w1', floor: 1, appends: ['a1', 'b1'] },
          { name: 'w2', floor: 2, appends: [], change: { id: 'move', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } } },
        ],
      });
      const to = (from: string, dest: string, type: string) => (m: InFlight) => m.from === from && m.to === dest && m.msg.type === type;
      w.start('w1');
      w.deliverWhere(to('w1', 'r1', 'promise'));
      w.deliverWhere(to('w1', 'r2', 'promise'));
      w.deliverWhere(to('w1', 'r1', 'write'));
      w.depose('w1');
      w.start('w2');
      w.drop(to('w2', 'r1', 'promise'));
      w.deliverWhere(to('w2', 'r2', 'promise'));
      w.deliverWhere(to('w2', 'r3', 'promise'));
      w.deliverAll((m) => m.to !== 'r1');
      // r4 and r5 answered the entry's write not-ready: they catch up below it, w2 sends it again, then they learn it.
      w.copyLearned(2, 4);
      w.copyLearned(2, 5);
      w.tick('w2');
      w.deliverAll((m) => m.to !== 'r1' && m.msg.type !== 'promise');
      assert.equal(w.replicas.get(2)!.store.metadata().configs?.length, 2, 'r2 learned the move');
      w.copyLearned(2, 4);
      w.copyLearned(2, 5);
      w.read('rd1');
      // r1 reports w1 active: the read waits for its commit before it fills.
      for (let k = 0; k < 7; k++) {
        w.tick('rd1');
        w.deliverAll((m) => m.from === 'rd1' && m.msg.type === 'read');
      }
      w.drop((m) => m.from === 'rd1' && m.to === 'r1');
      w.deliverAll((m) => m.from === 'rd1' && m.msg.type !== 'commit');
      w.drop((m) => m.from === 'rd1');
      w.deliverAll((m) => m.to !== 'r4');
      return w;
    };
    const off = run(false);
    assert.ok(off.violations.some((v) => v.startsWith('agreement: two values chosen at 2: a:b1 and nop')), `off: ${off.violations.join('; ')}`);
    const on = run(true);
    assert.deepEqual(on.violations, []);
  });
}
