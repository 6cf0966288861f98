// attack6 finding (R14 broken on one replica, then a liveness trap; hostile input or old records): a
// TRUNCATE that names no head is taken "unless this replica holds a config entry it has not chained below
// `to`" (truncationCovered). A replica that never saw the entry (it was partitioned, or down, during the
// change) holds nothing there, so a copy of a headless TRUNCATE past the entry moves its beginning past a
// configuration it never learned. Headless TRUNCATEs still exist: wire version 4 makes the head optional
// (a client sending its own bytes omits it; admission.ts does not look), and a TRUNCATE accepted before
// version 4 that a fill re-proposes verbatim has none. The pending-entry guard (the entry's C0 quorum
// meets every C0 quorum) keeps a stale writer out here, but the replica's own chain is now stuck: it can
// never learn the skipped link (its reads start above every peer's beginning, so no reply carries a
// chain), and every later config entry is held back unchained (extendChain needs epoch 1 first), so its
// learned prefix stops for ever just below the next change's entry.
//
// Sequence (voters 1..3, learners 4 and 5 caught up):
//  1. w changes {1,2,3} -> {1,4,5} (entry at p = 2); r2 accepts it, never learns it; r3 sees nothing.
//  2. w appends 'b' and TRUNCATE(5); the write leaves without the head (a client's own bytes). r1 learns it.
//  3. r3 copies r1's learned values: no unchained entry below 5 on r3, so the TRUNCATE is taken: r3
//     begins at 5 with the chain [C0] (R14 broken). w then changes {1,4,5} -> {1,4,5} + learner 6 (epoch 2);
//     r3 copies again: the epoch 2 entry cannot be chained and is not taken; r3's learned prefix stays
//     below it however often it copies.
//
// Where it bites today: like attack6-stale-truncate-head, through a copy of learned values that comes
// without the peer's beginning (the harness's copyLearned). The node's catch-up reads from its learned
// prefix + 1, below every peer's beginning that a learned TRUNCATE set, so it adopts the beginning with
// the peer's chain (chainForBegin) and never consults the head; commits reach only acceptors of the
// choosing ballot, whose chains hold config(q). Latent for the node as it is; live for any path that
// relays learned values without the beginning.
//
// Rule violated: R14 (begin passes a position whose governing configuration the replica never learned).
// Suggested fix: without a head, take a TRUNCATE only if the chain (or the learned prefix, which R14 keeps
// chained) reaches to - 1, i.e. drop the `unchained` escape for copies; and refuse a TRUNCATE without a head
// from a client in the acceptor (version 4 writers always send one; re-proposals of pre-version-4
// leftovers can have it set by the proposer, see attack6-stale-truncate-head).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WriteRequest } from '../../src/core/types.js';
import type { WriterOutput } from '../../src/core/writer.js';
import { config0, ReconfigCluster } from './reconfig-harness.js';

const gate = { skip: !process.env.ATTACK };

test('attack6: a headless TRUNCATE copied to a replica that never saw the change moves its beginning past the entry, and it never chains the next one', gate, () => {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]));
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  c.copyLearned(1, 4);
  c.copyLearned(1, 5);
  c.dropIf = (e) => e.from === 'w' && (e.to === 'r3' || (e.to === 'r2' && e.msg.type !== 'write'));
  c.change('w', { id: 'move', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  c.run();
  assert.equal(c.changes.get('move')?.ok, true, 'the change completed');
  c.append('w', 'b');
  c.run();
  const w = c.writers.get('w')!;
  const apply = (c as unknown as { applyWriter(n: string, o: WriterOutput): void }).applyWriter.bind(c);
  apply('w', w.step({ type: 'submit', op: { id: 9001, action: { kind: 'truncate', to: 5 } } }, c.now));
  apply('w', w.step({ type: 'flush' }, c.now));
  const strip = (msg: WriteRequest): WriteRequest => ({ ...msg, actions: msg.actions.map((a) => (a.kind === 'truncate' ? { kind: 'truncate', to: a.to } : a)) });
  c.inflight = c.inflight.map((e) => (e.from === 'w' && e.msg.type === 'write' ? { ...e, msg: strip(e.msg) } : e));
  c.append('w', 'c');
  c.run();
  assert.equal(c.results.get(9001)?.ok, true, 'the truncation is chosen');
  assert.deepEqual(c.store(1).action(5), { kind: 'truncate', to: 5 }, 'stored without a head');
  c.dropIf = () => false;
  c.copyLearned(1, 3);
  const r3 = c.store(3);
  const problems: string[] = [];
  if (r3.begin() > 2 && c.chain(3).length < 2) problems.push(`r3 begins at ${r3.begin()} past the entry at 2, with a chain of ${c.chain(3).length} link(s)`);
  // The next change, then r3 copies again (as often as it likes).
  c.dropIf = (e) => e.from === 'w' && (e.to === 'r2' || e.to === 'r3');
  c.change('w', { id: 'learner3', ifEpoch: 1, change: { kind: 'add', member: { id: 6, address: 'h6:1' } } });
  c.run();
  assert.equal(c.changes.get('learner3')?.ok, true, `the second change completed: ${JSON.stringify(c.changes.get('learner3'))}`);
  c.append('w', 'd');
  c.run();
  c.dropIf = () => false;
  const p2 = c.chain(1)[2]!.position;
  for (let i = 0; i < 3; i++) c.copyLearned(1, 3);
  if (r3.learnedThrough() < c.store(1).learnedThrough()) problems.push(`r3 learned through ${r3.learnedThrough()} of r1's ${c.store(1).learnedThrough()} (the epoch 2 entry at ${p2} is never chained: chain ${c.chain(3).map((k) => k.epoch).join(',')})`);
  assert.deepEqual(problems, []);
});
