// Still open (ATTACK=1): R14's second half (a TRUNCATE carrying the head of config(to); catch-up adopting the
// chain with begin) is not built yet (docs/reconfiguration.md, step 4 status).
// attack5 finding (safety): a learned TRUNCATE copied from a peer drops an unlearned config entry below its
// target without chaining it (R14's second half is not built), so removed members go on voting in the
// old configuration, and a stale writer partitioned with them gets appends acknowledged that the log
// (governed by the new configuration) never holds.
//
// Sequence (voters 1..3, learners 4 and 5 caught up):
//  1. w appends 'a' and changes {1,2,3} -> {1,4,5}. The entry at p = 2 is accepted by r1, r2 (a quorum of
//     C0) and by 4 and 5 (the joint part); w's commits to r2 and r3 are lost, so the removed members r2
//     and r3 never learn p (r2 holds it accepted, a pending stop sign). w installs epoch 1 on {1,4,5}.
//  2. w (now in C1) appends 'b' and truncates to 5 (past p); r1 learns the TRUNCATE and begins at 5.
//  3. r2 and r3 copy r1's learned values (catch-up of a removed member that does not know it yet: it
//     still lists r1 as a peer). The copy holds the TRUNCATE at 4 (and what follows), not p: learned(), and
//     the position index, move `begin` to 5 and drop r2's pending entry at p. Their chain stays [C0]:
//     nothing of C1 reached them, yet learnedThrough and begin are past p (R14 / I8 broken).
//  4. A stale writer with the old view, partitioned with r2 and r3 (section 9's `stale-after` shape),
//     elects: r2 and r3 promise (configStanding 'ok', voterStanding 'voter': their chain says C0 governs
//     everything), report nothing pending (the stop sign was truncated away), and the writer's append 'z'
//     is acknowledged at a position that C1 governs, held by no C1 voter.
//
// Violates: R14 ("a replica never lets begin or learnedThrough pass a position whose governing
// configuration it has not learned"; "a TRUNCATE(to) entry carries the head of config(to); a replica that
// lacks it fetches the chain before applying the truncation"), hence Step 2 of section 8 (a C0 ballot
// counting above p), I7 (removed replicas accept above their removal) and Claim A (an acknowledged append
// that is not the chosen value).
//
// Suggested fix: R14's second half before step 4 is called safe: (a) the acceptor must not apply a learned
// TRUNCATE (learned() / commit, and applyCatchUp's begin adoption) whose target passes a config entry it
// holds unlearned or a position above its chain's head it has not learned, unless the message carries the
// chain up to config(to) (TRUNCATE carries its head; catch-up carries the peer's chain with `begin`); until
// then refuse (keep the entry out) and fetch the chain; (b) pendingConfig should keep reporting a pending
// entry until it is chained.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Action } from '../../src/core/types.js';
import type { WriterOutput } from '../../src/core/writer.js';
import { appendAction, config0, ReconfigCluster } from './reconfig-harness.js';

test('attack5: a TRUNCATE copied past an unlearned config entry lets removed members elect a stale writer', { skip: !process.env.ATTACK }, () => {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]));
  const ops = new Map<number, Action>();
  c.elect('w');
  c.run();
  ops.set(c.append('w', 'a'), appendAction('a'));
  c.run();
  c.copyLearned(1, 4);
  c.copyLearned(1, 5);
  // r3 takes no part in the change; r2 accepts the entry but never learns it.
  c.dropIf = (e) => e.from === 'w' && (e.to === 'r3' || (e.to === 'r2' && e.msg.type !== 'write'));
  c.change('w', { id: 'move', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  c.run();
  assert.equal(c.changes.get('move')?.ok, true, 'the change completed');
  assert.equal(c.chain(1).length, 2);
  assert.equal((c.store(2).action(2) as { kind: string }).kind, 'config', 'r2 holds the entry at 2 accepted');
  assert.equal(c.store(2).slot(2)?.learned, false);
  // w in C1: 'b', then TRUNCATE(5) past p.
  ops.set(c.append('w', 'b'), appendAction('b'));
  c.run();
  const w = c.writers.get('w')!;
  const apply = (c as unknown as { applyWriter(n: string, o: WriterOutput): void }).applyWriter.bind(c);
  apply('w', w.step({ type: 'submit', op: { id: 9001, action: { kind: 'truncate', to: 5 } } }, c.now));
  apply('w', w.step({ type: 'flush' }, c.now));
  ops.set(c.append('w', 'c'), appendAction('c'));
  c.run();
  assert.equal(c.results.get(9001)?.ok, true, 'the truncation is chosen');
  assert.equal(c.store(1).begin(), 5);
  // The removed members copy r1's learned values (catch-up from a peer of their old view).
  c.dropIf = () => false;
  c.copyLearned(1, 2);
  c.copyLearned(1, 3);
  const r2 = c.store(2);
  const r2Chain = c.chain(2).length;
  // A stale writer partitioned with r2 and r3.
  c.writer('old', [c.c0]);
  c.dropIf = (e) => (e.from === 'old' && e.to !== 'r2' && e.to !== 'r3') || (e.to === 'old' && e.from !== 'r2' && e.from !== 'r3');
  c.elect('old');
  const z = c.append('old', 'z');
  ops.set(z, appendAction('z'));
  c.run(10_000);
  const zr = c.results.get(z);
  const problems: string[] = [];
  if (r2.begin() > 2 && r2Chain < 2) problems.push(`r2 begins at ${r2.begin()} (learnedThrough ${r2.learnedThrough()}) past the entry at 2, with a chain of ${r2Chain} link(s)`);
  if (zr?.ok === true) problems.push(`the stale writer's 'z' was acknowledged at ${zr.position}: ${c.misplacedAcks(new Map([[z, appendAction('z')]]), c.chain(1)).join('; ')}`);
  const silent = c.removedAccepted();
  if (silent.length > 0) problems.push(`removed members voted: ${silent.join('; ')}`);
  assert.deepEqual(problems, []);
});
