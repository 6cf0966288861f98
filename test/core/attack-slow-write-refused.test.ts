// Attack on "slow is not dead for writes" (ac5c6d6): a named member that answers the stuck batch with a
// refusal (here: it holds a corrupted record at the batch's position, so it votes there no more, and
// answers an implicit promise IGNORED too) but accepts every later batch is not slow: it will never
// vote for that batch. Its acceptances of the later batches must not keep the stuck one waiting.
//
// The shape: r3 was away at the election, so the writer names {r1, r2}. r2 accepted the stuck batch
// (its reply was lost), then found that record corrupted. r1 accepts the batch; r2 refuses it and
// every retransmission; r3 comes back and promises, but cannot be named (r2 cannot confirm it: it
// answers promises IGNORED). Under steady load r1 and r2 keep accepting the later batches. The
// batch can never be chosen by this ballot; a new election ({r1, r3}: r2 answers IGNORED) settles
// it at once. Before ac5c6d6 the writer gave up after operationTimeoutMs and the next append
// re-elected; with it, the writer waits slowWriteMaxMs (60 s) with every append stuck behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { timing } from '../../src/core/constants.js';

test('a named member that refuses the stuck batch (a corrupted record there) while accepting the later ones does not keep it waiting', () => {
  const c = new Cluster(3);
  // r3 is cut off from w (every message between them lost) until the stuck batch is set up.
  let r3Away = true;
  let arranging = false;
  let p = -1;
  c.dropIf = (e) =>
    (r3Away && ((e.from === 'w' && e.to === 'r3') || (e.from === 'r3' && e.to === 'w'))) ||
    // A rival (a takeover that reached r3 only, then died) leaves r3 promised at w's number under its own nonce.
    (e.from === 'w2' && e.to !== 'r3') ||
    (arranging &&
      ((e.to === 'r1' && e.msg.type === 'write' && e.msg.from === p) || (e.from === 'r2' && e.msg.type === 'writeReply' && e.msg.from === p)));
  c.elect('w');
  c.run(2_000);
  assert.deepEqual([...c.writer('w').namedMembers.keys()].sort(), [1, 2], 'r3 was away at the election');
  c.elect('w2');
  while (c.deliverOne());
  c.writers.delete('w2');
  assert.equal(c.store(3).metadata().promised, c.writer('w').proposal, 'r3 promised the rival w\'s number');
  const first = c.append('w', 'first');
  c.run(2_000);
  const r = c.results.get(first);
  assert.ok(r?.ok === true, `first append chosen: ${JSON.stringify(r)}`);
  p = r.position + 1;

  // The stuck batch at p: r1 does not get it yet, r2 accepts it but its reply is lost.
  arranging = true;
  const stuck = c.append('w', 'stuck');
  const startedAt = c.now;
  while (c.deliverOne());
  assert.ok(c.store(2).slot(p) !== undefined, 'r2 holds the stuck position');
  // r2 finds that record corrupted: it votes at p no more until it can copy the chosen value (nobody learned
  // it), and answers implicit promises IGNORED meanwhile.
  c.store(2).markLost(p);
  arranging = false;
  r3Away = false;

  // Steady load: one append a second. Every 50 ms step delivers everything and ticks.
  const later: number[] = [];
  let re: number | undefined;
  while (c.now - startedAt < timing.operationTimeoutMs + 10_000) {
    if ((c.now - startedAt) % 1_000 === 0) later.push(c.append('w', `later${later.length}`));
    // Once the stuck append has failed, the application appends again: an idle writer elects anew.
    if (re === undefined && c.results.get(stuck) !== undefined) re = c.append('w', 'after re-election');
    while (c.deliverOne());
    c.tick(50);
  }
  assert.deepEqual(
    c.results.get(stuck),
    { ok: false, error: 'no-quorum', unknownAt: p },
    `the stuck append fails within ${timing.operationTimeoutMs + 10_000} ms (r2 refuses it, r3 cannot be named): ` +
      `the writer is ${c.writer('w').roleKind} with named ${[...c.writer('w').namedMembers.keys()]}`,
  );
  assert.ok(re !== undefined && c.results.get(re)?.ok === true, `the append after the re-election succeeds: ${JSON.stringify(re === undefined ? undefined : c.results.get(re))}`);
  assert.deepEqual([...c.writer('w').namedMembers.keys()].sort(), [1, 3], 'the new ballot counts r1 and r3 (r2 answers IGNORED)');
  c.checkAgreement();
});
