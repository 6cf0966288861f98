// Fixed (replica.ts, saneHead): the test runs in npm test. Before the fix it failed with every replica's
// learned prefix stopped below the TRUNCATE; now the forged write is IGNORED and the writer's own
// retransmission (with the head it set) is chosen.
//
// attack6 finding (hostile input -> liveness, cluster-wide): a TRUNCATE whose head names a configuration
// that no chain holds is accepted by every acceptor (write() checks only that `to` is not past the
// TRUNCATE's own position) and then can never be learned anywhere: commit() cuts every commit just below
// it (truncationCut: the chain does not hold the head and does not reach to - 1), learned() holds back
// every copy, and a fill re-proposes it verbatim. One write from a client sending its own bytes (wire
// version 4 carries the head; admission.ts does not look at it) freezes the learned prefix of every
// replica at that position for good: the truncation never happens (the disk is never reclaimed), hole
// repair copies the same range again and again, catch-up never completes past it, and every later
// election settles from there (L is the highest learned prefix), so once more than
// limits.electionSettleMax positions were written after it, no writer can be elected again.
//
// Sequence (voters 1..3):
//  1. w elects and appends 'a'.
//  2. w's TRUNCATE(2) leaves with head {epoch 0, position 7} (the test edits the write in flight): r1..r3
//     accept it, the writer counts it chosen and commits.
//  3. w appends 'b', 'c'. Every replica's learned prefix stops below the TRUNCATE, however often the
//     commits are resent.
//
// Rule violated: liveness of learning (a chosen value is learned by every replica that hears its commit);
// R15 in spirit (a client's bytes should not steer the acceptor's chain checks).
//
// Suggested fix (replica.ts, write(): with saneAt): an acceptor refuses (IGNORED, as for a TRUNCATE past
// its own position) a TRUNCATE whose head its chain does not hold, or whose head's position is not below
// `to` while its chain reaches `to`. Honest heads always pass: the acceptor holds the chain through the
// request's head (R6), and config(to) is at or below it. This does not stop a forged head that names an
// older configuration the chain does hold (attack6-forged-truncate-head).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WriteRequest } from '../../src/core/types.js';
import type { WriterOutput } from '../../src/core/writer.js';
import { config0, ReconfigCluster } from './reconfig-harness.js';

test('attack6: a TRUNCATE naming a head no chain holds is accepted everywhere and then learned nowhere: every learned prefix stops there', () => {
  const c = new ReconfigCluster(config0([1, 2, 3]));
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  const w = c.writers.get('w')!;
  const apply = (c as unknown as { applyWriter(n: string, o: WriterOutput): void }).applyWriter.bind(c);
  apply('w', w.step({ type: 'submit', op: { id: 9001, action: { kind: 'truncate', to: 2 } } }, c.now));
  apply('w', w.step({ type: 'flush' }, c.now));
  const forge = (msg: WriteRequest): WriteRequest => ({
    ...msg,
    actions: msg.actions.map((a) => (a.kind === 'truncate' ? { kind: 'truncate', to: a.to, config: { epoch: 0, position: 7 } } : a)),
  });
  c.inflight = c.inflight.map((e) => (e.from === 'w' && e.msg.type === 'write' ? { ...e, msg: forge(e.msg) } : e));
  c.run();
  const q = (c.results.get(9001) as { ok: boolean; position: number }).position;
  const b = c.append('w', 'b');
  const d = c.append('w', 'c');
  c.run();
  for (let i = 0; i < 5; i++) c.tick(1_000);
  c.run();
  const last = (c.results.get(d) as { position: number }).position;
  const problems: string[] = [];
  for (const id of [1, 2, 3]) {
    const a = c.store(id).action(q);
    if (a !== undefined && a !== 'lost' && a.kind === 'truncate' && a.config?.position === 7) problems.push(`r${id} holds the forged head at ${q}`);
  }
  if (c.results.get(9001)?.ok !== true || c.results.get(b)?.ok !== true) problems.push('the writes were not acknowledged');
  for (const id of [1, 2, 3]) {
    const s = c.store(id);
    if (s.learnedThrough() < last) problems.push(`r${id} learned through ${s.learnedThrough()} (the TRUNCATE is at ${q}, the last append at ${last}; begin ${s.begin()})`);
  }
  assert.deepEqual(problems, []);
});
