// attack6 finding (hostile input): an acceptor stores a TRUNCATE's head of config(to) as the write carries
// it, and learners trust it (truncationCovered). Wire version 4 carries the head on a client's write
// (src/net/codec.ts), and admission.ts lets a client's write through whatever head it names (it refuses
// only config actions and promises carrying install or links). The writer core rewrites the head from its
// view, but a client that sends its own bytes need not run the writer core: an elected application writer
// (a plain client certificate under TLS, R15) that names C0 as the head of a TRUNCATE past a change's entry
// makes a removed member that holds the entry pending take the truncation, drop its stop sign and vote in
// C0 again, so that a stale writer gets an append acknowledged that the log never holds. A client may
// truncate (it may also append anything), but it must not be able to move a replica's chain; this is the
// same door admission.ts closed for install and links, by the head.
//
// Sequence (attack5-truncate-past-entry's, with a forged head instead of the writer's):
//  1. w changes {1,2,3} -> {1,4,5} (entry at p = 2); r2 accepts it but never learns it (pending), r3 never
//     sees it. w appends 'b'.
//  2. w sends TRUNCATE(5) with head {epoch 0, position -1} instead of {epoch 1, position 2} (the test edits
//     the write request in flight, as a client sending its own bytes would). r1, r4, r5 accept and learn it.
//  3. r2 and r3 copy r1's learned values: r2's chain [C0] holds the named head, so it takes the TRUNCATE and
//     begins at 5, past its pending entry. A stale writer partitioned with r2 and r3 gets 'z' acknowledged.
//
// Rule violated: R14 (the head is config(to)), R15 (a client certificate never makes a replica's chain
// other than the log's), then I7 and Claim A as in attack5-truncate-past-entry.
//
// Where it bites today: like attack6-stale-truncate-head, through a copy of learned values that comes
// without the peer's beginning (the harness's copyLearned). The node's catch-up reads from its learned
// prefix + 1, below every peer's beginning that a learned TRUNCATE set, so it adopts the beginning with
// the peer's chain (chainForBegin) and never consults the head; commits reach only acceptors of the
// choosing ballot, whose chains hold config(q). Latent for the node as it is; live for any path that
// relays learned values without the beginning.
//
// Suggested fix: the acceptor checks the head at acceptance: it holds the chain through the request's head
// (R6), so for a TRUNCATE at q under a ballot in config(q) it knows config(to); a write whose TRUNCATE
// names another head is refused (REJECT, or IGNORED with a note). This needs proposers to re-propose found
// TRUNCATEs with the head normalised (attack6-stale-truncate-head), or the check would refuse an honest
// fill's re-proposal of an old writer's leftover. Admission alone cannot do it: the honest writer is a
// client too and sends heads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Action, WriteRequest } from '../../src/core/types.js';
import type { WriterOutput } from '../../src/core/writer.js';
import { appendAction, config0, ReconfigCluster } from './reconfig-harness.js';

const gate = { skip: !process.env.ATTACK };

test('attack6: a client naming a forged head on its TRUNCATE makes a removed member begin past its pending entry', gate, () => {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]));
  const ops = new Map<number, Action>();
  c.elect('w');
  c.run();
  ops.set(c.append('w', 'a'), appendAction('a'));
  c.run();
  c.copyLearned(1, 4);
  c.copyLearned(1, 5);
  c.dropIf = (e) => e.from === 'w' && (e.to === 'r3' || (e.to === 'r2' && e.msg.type !== 'write'));
  c.change('w', { id: 'move', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  c.run();
  assert.equal(c.changes.get('move')?.ok, true, 'the change completed');
  ops.set(c.append('w', 'b'), appendAction('b'));
  c.run();
  // The forged TRUNCATE: the write request is edited before it leaves (a client sending its own bytes).
  const w = c.writers.get('w')!;
  const apply = (c as unknown as { applyWriter(n: string, o: WriterOutput): void }).applyWriter.bind(c);
  apply('w', w.step({ type: 'submit', op: { id: 9001, action: { kind: 'truncate', to: 5 } } }, c.now));
  apply('w', w.step({ type: 'flush' }, c.now));
  const forge = (msg: WriteRequest): WriteRequest => ({
    ...msg,
    actions: msg.actions.map((a) => (a.kind === 'truncate' ? { kind: 'truncate', to: a.to, config: { epoch: 0, position: -1 } } : a)),
  });
  c.inflight = c.inflight.map((e) => (e.from === 'w' && e.msg.type === 'write' ? { ...e, msg: forge(e.msg) } : e));
  ops.set(c.append('w', 'c'), appendAction('c'));
  c.run();
  assert.equal(c.results.get(9001)?.ok, true, 'the truncation is chosen');
  assert.deepEqual(c.store(1).action(5), { kind: 'truncate', to: 5, config: { epoch: 0, position: -1 } }, 'r1 stored the head the client named');
  c.dropIf = () => false;
  c.copyLearned(1, 2);
  c.copyLearned(1, 3);
  const r2 = c.store(2);
  c.writer('old', [c.c0]);
  c.dropIf = (e) => (e.from === 'old' && e.to !== 'r2' && e.to !== 'r3') || (e.to === 'old' && e.from !== 'r2' && e.from !== 'r3');
  c.elect('old');
  const z = c.append('old', 'z');
  c.run(10_000);
  const problems: string[] = [];
  if (r2.begin() > 2 && c.chain(2).length < 2) problems.push(`r2 begins at ${r2.begin()} past the entry at 2, with a chain of ${c.chain(2).length} link(s)`);
  const zr = c.results.get(z);
  if (zr?.ok === true) problems.push(`the stale writer's 'z' was acknowledged at ${zr.position}: ${c.misplacedAcks(new Map([[z, appendAction('z')]]), c.chain(1)).join('; ')}`);
  const silent = c.removedAccepted();
  if (silent.length > 0) problems.push(`removed members voted: ${silent.join('; ')}`);
  assert.deepEqual(problems, []);
});
