// attack6 finding (safety; it bites through a copy of learned values that comes without the peer's
// beginning): the head a chosen TRUNCATE carries is not always config(to). The writer sets it from its own
// view when it sends the TRUNCATE, but a TRUNCATE that a deposed writer of the old configuration left
// accepted above the change's entry can be re-proposed verbatim in the new configuration by a fill (a
// reader's here; catch-up's fill alike): Fill sends the value its phase 1 found, old head and all (section 8,
// Step 3: "re-proposing a leftover where nothing is chosen is allowed"). The chosen TRUNCATE then names C0
// although C1 governs `to`, and truncationCovered trusts it: a removed member whose chain is [C0] and which
// holds the entry pending takes it, moves its beginning past the unlearned entry (R14 broken, its stop sign
// dropped), and a stale writer elected among the removed members gets an append acknowledged at a position
// that C1 governs and no C1 voter holds. Same end as attack5-truncate-past-entry, by a wrong head instead
// of none. (The writer's own settle is not affected: its settle ops go through sendBatches, which rewrites
// the head from its view; that rewrite has its own problem, attack6-truncate-head-two-values.)
//
// Sequence (voters 1..3, learners 4 and 5 caught up):
//  1. A elects in C0 and appends 'a'. B elects in C0 with r2 and r3 only and writes its marker at 2. A, not
//     knowing it is fenced, writes [2: x, 3: y, 4: TRUNCATE(4, head C0)], which only r1 accepts (a leftover).
//  2. B changes {1,2,3} -> {1,4,5}: the entry at p = 3 is chosen by r2, r3 (C0) and r4, r5 (caught up);
//     B's commits are lost and B stops before its R4 election. A reader of C1 reads 4: its fill in C1
//     (r1, r4, r5 install C1 from its links) finds A's TRUNCATE on r1 and chooses it as it is:
//     TRUNCATE(4, head {epoch 0, position -1}) at 4, where config(4) = C1 (epoch 1 at 3).
//  3. r2 and r3 copy r4's learned values (r4 begins at 4: the TRUNCATE and what follows). r2's chain [C0]
//     holds the head named: the TRUNCATE is taken, r2 begins at 4, its pending entry at 3 is dropped. A
//     stale writer partitioned with r2 and r3 elects in C0 and gets 'z' acknowledged at 6.
//
// Rule violated: R14 ("a TRUNCATE(to) entry carries the head of config(to)"; "a replica never lets begin
// pass a position whose governing configuration it has not learned"); truncationCovered's comment ("the
// proposer's view had no config entry between that head and `to`") holds for the proposer that wrote the
// TRUNCATE first, not for the one whose ballot chose it. Then Step 2 of section 8, I7, Claim A.
//
// Where it bites today: the harness's copy (copyLearned: a `learned` message of a peer's learned values,
// without its beginning). The node's catch-up gets the peer's beginning with such a copy (the peer's begin
// lies above the range it asked), so it goes through chainForBegin, which does not read the head; a commit
// teaches the TRUNCATE only to acceptors of the choosing ballot, whose chains hold config(q). So today the
// wrong head breaks R14's stated invariant and any path that hands over learned copies without the
// beginning (step 5's learners if they copy by `learned`, a relay of learned values).
//
// Suggested fix: make the head a function of `to` that every proposer whose acceptances can count at q
// computes alike: a proposer (writer settle and Fill) sets head := headOf(view(to)) on every TRUNCATE it
// proposes, re-proposals included, but only when its view reaches `to` (its oldest link is epoch 0 or lies
// below `to`); a proposer whose view does not reach `to` refuses a new TRUNCATE there and re-proposes a
// found one unchanged (attack6-truncate-head-two-values). An acceptor, which holds the chain through the
// request's head (R6), may then REJECT a TRUNCATE whose head is not headOf(governing(its chain, to)) where
// its chain reaches `to`, which also closes a raw client's forged head. Cheaper, and enough for today's
// paths: learned() takes a copied TRUNCATE only if its chain reaches to - 1 (ignore a copy's head).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Action } from '../../src/core/types.js';
import type { WriterOutput } from '../../src/core/writer.js';
import { appendAction, config0, ReconfigCluster } from './reconfig-harness.js';

const gate = { skip: !process.env.ATTACK };

test('attack6: a leftover TRUNCATE that a fill chooses in the new configuration keeps the old head and lets a removed member begin past the entry', gate, () => {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]));
  const apply = (c as unknown as { applyWriter(n: string, o: WriterOutput): void }).applyWriter.bind(c);
  const ops = new Map<number, Action>();
  // 1. A elects with everyone and appends 'a' (marker 0, 'a' at 1).
  c.elect('A');
  c.run();
  ops.set(c.append('A', 'a'), appendAction('a'));
  c.run();
  // B elects with r2 and r3 only.
  c.dropIf = (e) => (e.from === 'B' && e.to === 'r1') || e.from === 'A' || e.to === 'A';
  c.elect('B');
  c.run();
  assert.equal(c.writers.get('B')!.roleKind, 'elected');
  c.copyLearned(2, 4);
  c.copyLearned(2, 5);
  // A's leftover: [2: x, 3: y, 4: TRUNCATE(4)] accepted by r1 alone.
  c.dropIf = (e) => (e.from === 'A' && e.to !== 'r1') || e.to === 'A' || (e.from === 'B' && e.to === 'r1');
  const A = c.writers.get('A')!;
  apply('A', A.step({ type: 'submit', op: { id: 9001, action: appendAction('x') } }, c.now));
  apply('A', A.step({ type: 'submit', op: { id: 9002, action: appendAction('y') } }, c.now));
  apply('A', A.step({ type: 'submit', op: { id: 9003, action: { kind: 'truncate', to: 4 } } }, c.now));
  apply('A', A.step({ type: 'flush' }, c.now));
  while (c.deliverOne());
  c.writers.delete('A');
  assert.deepEqual(c.store(1).action(4), { kind: 'truncate', to: 4, config: { epoch: 0, position: -1 } }, 'r1 holds A\'s TRUNCATE with the head A\'s view had');
  // 2. B's change; its R3 writes and commits reach neither r1 nor (commits) r2 and r3; B stops once the entry
  //    is chosen, before its R4 election (a crash).
  c.dropIf = (e) => (e.from === 'B' && e.to === 'r1') || (e.from === 'B' && e.msg.type === 'commit') || (e.from === 'B' && e.msg.type === 'promise');
  c.change('B', { id: 'move', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  c.run(2_000);
  c.writers.delete('B');
  const c1 = { ...c.c0, epoch: 1, voters: [1, 4, 5].map((id) => ({ id, address: `h${id}:1` })), learners: [], nextId: 6, changeId: 'move', position: 3, floor: 2 };
  // A reader of C1 (it knows the change: the CLI that asked for it) reads 4; its fill in C1 settles 4 from r1's
  // leftover, as it is: TRUNCATE(4, head C0).
  c.dropIf = (e) => e.to === 'r2' || e.to === 'r3';
  c.reader('rd', [c.c0, c1]);
  c.read('rd', 4, 4);
  c.run();
  const p = c1.position;
  assert.ok(c.store(4).slot(4)?.learned, 'the fill chose the TRUNCATE at 4');
  const chosen = c.store(4).action(4) as { kind: string; to: number; config?: { epoch: number } };
  // 3. The removed members copy r4's learned values; a stale writer partitioned with them.
  c.dropIf = () => false;
  c.copyLearned(4, 2);
  c.copyLearned(4, 3);
  const r2 = c.store(2);
  c.writer('old', [c.c0]);
  c.dropIf = (e) => (e.from === 'old' && e.to !== 'r2' && e.to !== 'r3') || (e.to === 'old' && e.from !== 'r2' && e.from !== 'r3');
  c.elect('old');
  const z = c.append('old', 'z');
  c.run(10_000);
  const problems: string[] = [];
  if (chosen.kind === 'truncate' && chosen.config?.epoch !== 1) problems.push(`the TRUNCATE chosen at 4 names ${JSON.stringify(chosen.config)}, not config(4) = epoch 1 at ${p}`);
  if (r2.begin() > p && c.chain(2).length < 2) problems.push(`r2 begins at ${r2.begin()} past the entry at ${p}, with a chain of ${c.chain(2).length} link(s)`);
  const zr = c.results.get(z);
  if (zr?.ok === true) problems.push(`the stale writer's 'z' was acknowledged at ${zr.position}: ${c.misplacedAcks(new Map([[z, appendAction('z')]]), c.chain(4)).join('; ')}`);
  const silent = c.removedAccepted();
  if (silent.length > 0) problems.push(`removed members voted: ${silent.join('; ')}`);
  assert.deepEqual(problems, []);
});
