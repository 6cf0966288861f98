// Shaped seed 69 from the core's side: a read across a learner-only configuration change (the voters stay,
// a learner comes or goes) never answers short: with its view the chain before the change it ends
// stale-config (its owner reads again), with the chain after it it returns every acknowledged append.
// The seed's short answer came from the simulator's reader client (request ids reused across its cores:
// reader-client-rids.test.ts), not from the core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import { World, type InFlight } from '../../src/sim/world.js';

const REMOVE_LEARNER = { name: 'w1', floor: 0, appends: ['a1', 'a2'], change: { id: 'rm4', ifEpoch: 0, change: { kind: 'remove' as const, id: 4 } }, after: ['b1', 'b2'] };

function settle(w: World, pred: (m: InFlight) => boolean, addrs: readonly string[]): void {
  for (let t = 0; t < 20; t++) {
    w.deliverAll(pred);
    for (const a of addrs) w.tick(a);
  }
  w.deliverAll(pred);
}

for (const seed of [undefined, 1] as const) {
  test(`a read across a learner-only change returns every acknowledged append (reader's view: ${seed === undefined ? 'the bootstrap chain' : "r1's chain, after the change"})`, () => {
    const w = new World({ replicas: 3, learners: [4], writers: [REMOVE_LEARNER], readers: [{ name: 'rd1', from: 0, to: 10, ...(seed === undefined ? {} : { seed }) }], rules: ALL_RULES_ON, positionLimit: 12, gossip: false, chosenBy: 'counted', instantReplies: true, instantQueries: true });
    w.start('w1');
    settle(w, (m) => m.to !== 'rd1' && m.from !== 'rd1', ['w1']);
    const acked = w.acked('w1');
    assert.deepEqual([...acked.values()].filter((k) => k.startsWith('a:')).sort(), ['a:a1', 'a:a2', 'a:b1', 'a:b2']);
    if (seed !== undefined) assert.equal(w.replicas.get(1)!.store.metadata().configs?.at(-1)?.epoch, 1, 'r1 installed epoch 1');
    w.read('rd1');
    settle(w, () => true, ['rd1', 'w1']);
    assert.deepEqual(w.violations, []);
    const r = w.readers.get('rd1')!.result;
    assert.ok(r !== undefined, 'the read finished');
    if (!r.ok) {
      assert.equal(r.error, 'stale-config', JSON.stringify(r));
      return;
    }
    const read = new Map(r.entries.map((e) => [e.position, e.action.kind === 'append' ? `a:${new TextDecoder().decode(e.action.data)}` : e.action.kind]));
    for (const [p, key] of acked) if (key.startsWith('a:')) assert.equal(read.get(p), key, `position ${p}`);
  });
}
