// attack6 finding (safety: two values learned at one position; they differ only in the TRUNCATE's head, so
// both truncate alike, but the log is no longer one log: range digests cover the head (47f88bd) and the
// divergence check reports the replicas as diverged): the writer rewrites the head of every TRUNCATE it
// sends, re-proposals included (the election's settle ops go through sendBatches, which sets
// head := headOf(fullView(to))). That is right when every proposer computes the same head, but a view
// that does not reach back to `to` answers config(to) with its oldest link (chainView: "governed, as far
// as this owner can tell, by its oldest link"), so two writers of the same configuration can propose the
// "same" TRUNCATE with two heads. If the first was chosen, the second is another value at that position.
//
// Sequence (voters 1..3, learner 4):
//  1. w elects in C0, appends 'a', removes the learner (C1 = voters 1..3 at p = 2), appends 'b', then
//     TRUNCATE(1): w's view is [C0, C1], so its head is config(1) = C0 {epoch 0, position -1}. Chosen by
//     r1..r3; only r1 gets the commit and learns it.
//  2. w2, a writer of C1 whose view is the chain from C1 on (what a replica stores that was started
//     without its bootstrap configuration, or a chain kept from config(begin) on), elects with r2 and r3.
//     Its settle finds the TRUNCATE, the highest-ballot value there, and sends it again: sendBatches sets
//     the head from w2's view, where config(1) is its oldest link, C1 {epoch 1, position 2}.
//  3. r2 and r3 learn TRUNCATE(1, head C1) where r1 learned TRUNCATE(1, head C0).
//
// Live since step 5 and 8 reached main: a client's writer takes its view from a replica's chain
// (LogClient.configView: governing(chain, q) ?? chain[0]), and a replica without a bootstrap chain keeps
// its chain from the first link it learned, so two clients can hold chains that start at different links.
//
// Rule violated: Paxos's "every higher ballot proposes the chosen value" (Claim A: one value per
// position); a re-proposal must send the value it found, byte for byte.
//
// Suggested fix: in sendBatches, set the head only on a TRUNCATE that has none (a client's new operation
// comes without one if the client is honest; the writer may instead strip a client's head when the op is
// submitted, in `submit`), and never touch a settled value (op.id === -1): the head the first proposer
// set stays. A re-proposed TRUNCATE whose head is wrong (a leftover of a deposed writer of an older
// configuration, see attack6-stale-truncate-head's comment) then keeps its head; what makes it safe is
// the learner's side (truncationCovered) or a head check at acceptance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WriterOutput } from '../../src/core/writer.js';
import { changed, config0, learnedAgree, ReconfigCluster } from './reconfig-harness.js';

// Fixed: sendBatches sets the head only on a client's TRUNCATE; a value an election found goes out as found.
const gate = {};

test('attack6: a writer whose view does not reach `to` re-proposes a chosen TRUNCATE with another head: two values at one position', gate, () => {
  const c = new ReconfigCluster(config0([1, 2, 3], [4]));
  const apply = (c as unknown as { applyWriter(n: string, o: WriterOutput): void }).applyWriter.bind(c);
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  c.change('w', { id: 'drop4', ifEpoch: 0, change: { kind: 'set', voters: [1, 2, 3], learners: [] } });
  c.run();
  const c1 = changed(c.changes.get('drop4'));
  assert.equal(c1.position, 2);
  c.append('w', 'b');
  c.run();
  // TRUNCATE(1): chosen, learned by r1 only.
  c.dropIf = (e) => e.from === 'w' && e.msg.type === 'commit' && e.to !== 'r1';
  const w = c.writers.get('w')!;
  apply('w', w.step({ type: 'submit', op: { id: 9001, action: { kind: 'truncate', to: 1 } } }, c.now));
  apply('w', w.step({ type: 'flush' }, c.now));
  c.run();
  const q = (c.results.get(9001) as { ok: true; position: number }).position;
  assert.ok(c.results.get(9001)?.ok, 'the truncation is chosen');
  assert.ok(c.store(1).slot(q)?.learned, 'r1 learned it');
  assert.deepEqual(c.store(1).action(q), { kind: 'truncate', to: 1, config: { epoch: 0, position: -1 } });
  c.writers.delete('w');
  // w2: a writer of C1 whose view starts at C1, partitioned from r1.
  c.writer('w2', [c1]);
  c.dropIf = (e) => (e.from === 'w2' && e.to === 'r1') || (e.to === 'w2' && e.from === 'r1');
  c.elect('w2');
  c.run();
  assert.equal(c.writers.get('w2')!.roleKind, 'elected');
  assert.deepEqual(c.store(1).action(q), { kind: 'truncate', to: 1, config: { epoch: 0, position: -1 } });
  learnedAgree(c);
  assert.deepEqual(c.store(2).action(q), { kind: 'truncate', to: 1, config: { epoch: 0, position: -1 } }, 'r2 holds the chosen value');
});
