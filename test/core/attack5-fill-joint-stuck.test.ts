// Fixed since this attack was written: the test now runs in npm test and guards the fix (it failed before it).
// attack5 finding (liveness): a fill settling a config entry jointly (R3, R5) never notices that it was
// superseded. Once its phase-2 write was accepted by a quorum of the old voters (tallied), it waits for
// the next configuration's caught-up voters; if a higher-ballot fill (or writer) settles the entry first,
// those voters answer the old fill's retransmissions with 'reject' (a higher promise), which
// Fill.onWriteReply drops (`!this.members.includes(from)` for a new voter, `ph.tally.has(from)` for an old
// one). A reader's fill is `patientWhileAnswered` and every reject counts as an answer, so it never times
// out either: the read hangs for ever with every replica up and caught up.
//
// Sequence (voters 1..3, learners 4 and 5 NOT caught up; change {1,2,3} -> {1,4,5}):
//  1. w writes the entry at p = 2; r1..r3 accept it, 4 and 5 answer not-ready; w stops (its commits lost).
//  2. Reader A (old view) finds 2 pending, fills from 2 (ballot a): its phase 1 finds the entry, its
//     joint write is accepted by r1..r3 (tally won; ready = {1}), 4 and 5 answer not-ready.
//  3. Reader B fills the same position with a higher ballot b while A's messages to 4 and 5 are delayed;
//     4 and 5 catch up (copy), accept B's write under b, B counts the entry chosen and ends its read
//     (stale-config); its commit is lost (its owner went away), so nobody learns p.
//  4. A retransmits to 4 and 5; they answer reject(b); A ignores both answers, for ever (1,200 rejects in
//     two minutes; periodic catch-up copies change nothing: p is learned nowhere). (If B's commit is
//     delivered and the new voters later learn p by catch-up, a learned slot accepts A's write and A
//     ends: the hang then lasts until that catch-up. random2 seed 2848 found the unbounded form with a
//     superseding proposer that never finished.)
//
// Violates: the brief's liveness property (a reader/fill stuck forever with a quorum up).
//
// Suggested fix (fill.ts onWriteReply): a 'reject' or 'stale' above the fill's proposal from ANY replica
// it wrote to (a new voter of the joint part, or a member already tallied) sends the fill to backoff and
// a new round above it (as a reject from an untallied member does); likewise the writer's joint branch for
// members already tallied (it only times out, after operationTimeoutMs). Optionally, a reject whose
// proposal is above the fill's should not count as "answered" for patientWhileAnswered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config0, ReconfigCluster } from './reconfig-harness.js';

test('attack5: a fill settling a config entry jointly ends once a higher ballot settled it (no endless wait)', () => {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]));
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  c.dropIf = (e) => e.from === 'w' && (e.msg.type === 'commit' || e.msg.type === 'promise');
  c.change('w', { id: 'move', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  c.run(2_000);
  c.writers.delete('w');
  c.dropIf = () => false;
  for (const id of [1, 2, 3]) assert.equal((c.store(id).action(2) as { kind: string }).kind, 'config');
  // Reader A fills the entry; 4 and 5 are not caught up.
  c.reader('rdA', [c.c0]);
  const a = c.read('rdA', 2, 2);
  c.run(3_000);
  assert.equal(c.reads.get(a), undefined, 'A waits for the new voters');
  // Reader B, with A's messages to 4 and 5 held up meanwhile; 4 and 5 catch up.
  // B's commit is lost too (B's owner went away after its read): nobody learns p, so no catch-up can teach it.
  c.dropIf = (e) => (e.from === 'rdA' && (e.to === 'r4' || e.to === 'r5')) || (e.from === 'rdB' && e.msg.type === 'commit');
  c.reader('rdB', [c.c0]);
  const b = c.read('rdB', 2, 2);
  c.run(1_000);
  c.copyLearned(1, 4);
  c.copyLearned(1, 5);
  c.run(1_000);
  const rb = c.reads.get(b);
  assert.ok(rb !== undefined && !rb.ok && rb.error === 'stale-config', `B settles the entry and moves on: ${JSON.stringify(rb)}`);
  c.dropIf = () => false;
  const healedAt = c.now;
  let endedAt: number | undefined;
  while (c.now - healedAt < 120_000 && endedAt === undefined) {
    c.run(1_000);
    // The node's catch-up (copies of learned values) cannot help: nobody learned p.
    for (const id of [2, 3, 4, 5]) c.copyLearned(1, id);
    if (c.reads.get(a) !== undefined) endedAt = c.now;
  }
  const rejects = c.sent.filter((e) => e.to === 'rdA' && e.msg.type === 'writeReply' && e.msg.outcome === 'reject').length;
  const ra = c.reads.get(a);
  assert.ok(
    ra !== undefined && !ra.ok && ra.error === 'stale-config',
    `A's read ends as B's did (stale-config, the entry is chosen); got ${JSON.stringify(ra)} ${endedAt === undefined ? 'still running' : `${endedAt - healedAt} ms after the heal`}, after ${rejects} rejects to its joint write, all ignored`,
  );
});
