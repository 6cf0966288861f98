// R5 for a read that ends above every position its quorum holds. Found by the exhaustive search's
// stale-fill configuration (a world with readers): w1 swaps voter 3 for learner 4; the entry at 2 is
// chosen by r1 and r2 and learned by r1 alone; w1's install election and b1 at 4 go through r1 and r4.
// A reader whose view is r3's chain (epoch 0: the removed voter never learned the swap) reads [3, 4]
// from r2 and r3: neither holds anything above 2, and r2 reports the entry pending. Before the fix the
// read ended "through 2", without b1, acknowledged before it began; now it learns the entry's fate with
// a fill from the stop sign and ends with stale-config, so its owner reads again in epoch 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import { World, type InFlight } from '../../src/sim/world.js';

const SWAP = { name: 'w1', floor: 0, appends: ['a1'], change: { id: 'swap', ifEpoch: 0, change: { kind: 'replace' as const, old: 3, replacement: 4 } }, after: ['b1'] };

function deliverWhile(w: World, pred: (m: InFlight) => boolean): void {
  for (let i = w.inflight.findIndex(pred), n = 0; i >= 0 && n < 1_000; i = w.inflight.findIndex(pred), n++) w.deliver(i);
}

function staleRead(rules: SafetyRules): World {
  const w = new World({ replicas: 3, learners: [4], writers: [SWAP], readers: [{ name: 'rd1', from: 3, to: 4, seed: 3, floor: 2 }], rules, positionLimit: 5, gossip: false, chosenBy: 'counted', instantReplies: true, instantQueries: true });
  w.start('w1');
  // r3 hears only the first election; r2 neither learns the entry (no commit of 2, no install) nor gets b1.
  deliverWhile(w, (m) => {
    if (m.to === 'r3') return m.msg.type === 'promise' && m.msg.install === undefined;
    if (m.to === 'r2' && m.msg.type === 'commit') return m.msg.to < 2;
    if (m.to === 'r2' && m.msg.type === 'promise') return m.msg.install === undefined;
    if (m.to === 'r2' && m.msg.type === 'write') return m.msg.from < 3;
    return m.to !== 'r2' || m.msg.type !== 'learned';
  });
  assert.equal(w.acked('w1').get(4), 'a:b1', 'b1 acknowledged at 4 by r1 and r4');
  assert.equal(w.replicas.get(3)!.store.metadata().configs?.length, 1, 'r3 knows epoch 0 only');
  w.read('rd1');
  // The read's quorum is r2 and r3 first; then every message of the reader goes through.
  const reader = (m: InFlight) => m.to === 'rd1' || m.from === 'rd1';
  deliverWhile(w, (m) => reader(m) && (m.to === 'r2' || m.to === 'r3' || m.from === 'r2' || m.from === 'r3'));
  for (let t = 0; t < 10 && w.readers.get('rd1')!.result === undefined; t++) {
    w.tick('rd1');
    deliverWhile(w, reader);
  }
  return w;
}

test('R5: a stale read that ends above its quorum\'s holdings with a stop sign below learns the entry\'s fate (stale-config), never a short answer', () => {
  const w = staleRead(ALL_RULES_ON);
  assert.deepEqual(w.violations, []);
  const r = w.readers.get('rd1')!.result;
  assert.ok(r !== undefined && !r.ok && r.error === 'stale-config', JSON.stringify(r));
});

test('followPending off: the same read answers through 2 without b1 (read-consistency)', () => {
  const w = staleRead({ ...ALL_RULES_ON, followPending: false });
  assert.ok(w.violations.some((v) => v.startsWith('read-consistency')), w.violations.join('; '));
});
