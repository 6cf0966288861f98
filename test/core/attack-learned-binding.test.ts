// Attack on 21c35fc (bindingAtLeast): an implicit promise is no longer refused for a number that a
// replica holds only at learned positions. Two proposers can then hold one number, a fill (explicit
// promises on its range) and a writer (implicit promise), and a commit names only the number: a
// replica that accepted both their values under that number learns the wrong one.
//
// Five replicas r1..r5. Position 1 (position 0 stays empty, so no learned prefix covers 1).
//  1. A proposal 3 wrote 'x' at 1; only r4 accepted it.
//  2. Fill F, proposal 5, range [1,1]: explicit promises from r1, r2, r3 (they report nothing), so it
//     writes NOP at 1 to every member. Its write to r5 is delayed; the others are lost.
//  3. Fill G, proposal 6, range [1,1]: explicit promises from r1..r4; r4 reports 'x' under 3, so G
//     writes 'x' under 6; r1..r4 accept (its write to r5 is lost): 'x' is chosen, and G's commit
//     makes r1..r4 learn it.
//  4. Writer W, proposal 5 (its client saw 4): r1..r4 hold 5 and 6 only at the learned position 1,
//     so bindingAtLeast is false and they grant (before 21c35fc: refused, 5 <= 6); r5 grants.
//     W reports 'x' learned at 1 and writes NOP@0, 'x'@1, NOP@2 under 5; everyone accepts; chosen.
//  5. F's delayed write (NOP at 1, proposal 5) reaches r5: promise in force there is 5, so it accepts,
//     replacing W's 'x' under the same number 5.
//  6. W's commit(5, 0, 2) reaches r5: it learns what it accepted under 5, NOP at 1. r1..r4 learned 'x'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOP } from '../../src/core/actions.js';
import type { Message } from '../../src/core/types.js';
import { Cluster } from './harness.js';
import { append, deliver, deliverAll, drop, env, inject, writerWithFloor } from './review-harness.js';

const named = (ids: number[]) => ids.map((id) => ({ id, generation: 0, disk: 0 }));

// It fails on 21c35fc (agreement violated at 1: x vs NOP) and passes with the old rule (W is not elected at 5).

test('attack: a learned position no longer binds an implicit promise; a fill and a writer then share a number and a commit teaches the wrong value', () => {
  const c = new Cluster(5);
  const isFake = (e: { to: string }) => e.to === 'P3' || e.to === 'F' || e.to === 'G';

  // 1. 'x' under 3 at r4 only.
  inject(c, 'P3', 4, { type: 'write', rid: 1, proposal: 3, from: 1, actions: [append('x')], named: named([4]) });
  c.deliverOne();
  drop(c, isFake);

  // 2. Fill F (5) promised by r1..r3; it will write NOP at 1 to every member.
  for (const id of [1, 2, 3]) inject(c, 'F', id, { type: 'promise', rid: 10, proposal: 5, from: 1, to: 1 });
  deliverAll(c, env({ from: 'F' }));
  for (const e of c.inflight) assert.equal((e.msg as { outcome?: string }).outcome, 'accept');
  drop(c, isFake);
  const fWrite: Message = { type: 'write', rid: 11, proposal: 5, from: 1, actions: [NOP], named: named([1, 2, 3]) };

  // 3. Fill G (6) promised by r1..r4, sees 'x' under 3 at r4, gets 'x' chosen by r1..r4 and commits to them.
  for (const id of [1, 2, 3, 4]) inject(c, 'G', id, { type: 'promise', rid: 20, proposal: 6, from: 1, to: 1 });
  deliverAll(c, env({ from: 'G' }));
  drop(c, isFake);
  for (const id of [1, 2, 3, 4]) inject(c, 'G', id, { type: 'write', rid: 21, proposal: 6, from: 1, actions: [append('x')], named: named([1, 2, 3, 4]) });
  deliverAll(c, env({ from: 'G' }));
  for (const e of c.inflight) assert.equal((e.msg as { outcome?: string }).outcome, 'accept');
  drop(c, isFake);
  for (const id of [1, 2, 3, 4]) inject(c, 'G', id, { type: 'commit', proposal: 6, from: 1, to: 1 });
  deliverAll(c, env({ from: 'G' }));
  for (const id of [1, 2, 3, 4]) assert.equal(c.learnedText(id, 1), 'x');

  // 4. Writer W with proposal 5.
  const w = writerWithFloor(c, 'w', 4);
  c.elect('w');
  deliverAll(c, (e) => e.msg.type === 'promise' || e.msg.type === 'promiseReply');
  // Before 21c35fc, r1..r4 refuse 5 (they hold 6): W has no quorum at 5, and nothing below can go wrong.
  if (w.roleKind !== 'elected') return c.checkAgreement();
  assert.equal(w.proposal, 5);
  // W's election writes (NOP@0, 'x'@1, NOP@2 under 5) reach every member, and the replies reach W.
  deliverAll(c, (e) => e.msg.type === 'write' || e.msg.type === 'writeReply');
  assert.equal(c.elections.get('w')?.ok, true, 'W settled positions 0..2 under 5');

  // 5. F's delayed write reaches r5 before W's commit does.
  inject(c, 'F', 5, fWrite);
  deliver(c, env({ from: 'F', to: 'r5' }));
  drop(c, isFake);

  // 6. W's commits (proposal 5) arrive.
  deliverAll(c, env({ type: 'commit' }));
  assert.equal(c.learnedText(5, 1) === undefined || c.learnedText(5, 1) === 'x', true, `r5 learned ${c.learnedText(5, 1)} at 1, r1..r4 learned x`);
  c.checkAgreement();
});
