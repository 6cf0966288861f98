// Fixed since this attack was written: the test now runs in npm test and guards the fix (it failed before it).
// attack5 finding (liveness): operations queued behind a change that is refused when it comes to be
// proposed are stranded: the writer stays elected with them in its queue and never sends them.
//
// Sequence (voters 1..3, learners 4 and 5 caught up):
//  1. writer w appends 'a', then asks change A (promote 4); the entry is accepted by the voters (and by 4)
//     but w's commits and install promises are lost, and w stops (deposed: a crash).
//  2. writer w3 with the old view (epoch 0) is asked change B (promote 5, ifEpoch 0): it is valid against
//     what w3 knows, so it is queued and w3 elects; then the application appends 'y' (submit + flush),
//     queued behind B.
//  3. w3's election finds A at p (R5), finishes it and installs epoch 1 (R4), writes its marker NOP, then
//     comes to propose B: proposeChange re-applies B to epoch 1 with ifEpoch 0 and refuses it
//     ('epoch-changed', correct), shifts it off and returns, without sending the queue behind it.
//  4. Nothing flushes again: an elected writer's tick only retransmits in-flight batches, so 'y' waits in
//     the queue for ever (no timeout applies to queued operations). A sequential appender hangs.
//
// Violates: the brief's liveness property (a writer stuck forever with a quorum up) and R2's "queued
// operations wait and go out in C_{k+1} after R4. Appends queue meanwhile; they do not fail".
//
// Suggested fix: in WriterCore.proposeChange's refusal branch, after report(...), call this.flush(out)
// (the next queued change, if any, then goes the same way; otherwise the queue is sent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendAction, config0, ReconfigCluster } from './reconfig-harness.js';

test('attack5: an append queued behind a change refused at proposal time is sent (not stranded)', () => {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]));
  c.elect('w');
  c.run();
  const a = c.append('w', 'a');
  c.run();
  assert.equal(c.results.get(a)?.ok, true);
  c.copyLearned(1, 4);
  c.copyLearned(1, 5);
  // w's entry is accepted everywhere; its commits and its install election never arrive; then w stops.
  c.dropIf = (e) => e.from === 'w' && (e.msg.type === 'commit' || e.msg.type === 'promise');
  c.change('w', { id: 'A', ifEpoch: 0, change: { kind: 'promote', id: 4 } });
  c.run(2_000);
  c.writers.delete('w');
  c.dropIf = () => false;
  for (const id of [1, 2, 3]) assert.equal((c.store(id).action(2) as { kind: string } | undefined)?.kind, 'config', `r${id} accepted A at 2`);

  c.writer('w3', [c.c0]);
  c.change('w3', { id: 'B', ifEpoch: 0, change: { kind: 'promote', id: 5 } });
  const y = c.append('w3', 'y');
  c.run(30_000);
  assert.equal(c.changes.get('B')?.ok, false, 'B is refused: epoch 1 came first');
  assert.equal(c.chain(1).length, 2, 'A was finished and installed');
  const w3 = c.writers.get('w3')!;
  assert.ok(
    c.results.get(y)?.ok === true,
    `y is acknowledged (got ${JSON.stringify(c.results.get(y))}; w3 ${w3.roleKind}, queued ${w3.queued}, in flight ${w3.inflightPositions})`,
  );
  void appendAction;
});
