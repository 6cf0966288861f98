// Fixed since this attack was written: the test now runs in npm test and guards the fix (it failed before it).
// attack5 finding (liveness): a reader whose view already holds the new configuration still takes a lagging
// voter's pending copy of that same (chosen, installed) entry as a stop sign, and fills from it in the OLD
// configuration. Once the removed members are retired (allowed after R4's election), that fill never gets
// a quorum and the read fails (no-quorum) every time, with every voter of the latest configuration up.
//
// Sequence (voters 1..3, learners 4..6 caught up):
//  1. w changes {1,2,3} -> {4,5,6}. r4 accepts the entry at p = 2 (the joint write) but misses the R4
//     install and every later commit (its promise requests are lost): it holds p accepted, unlearned, and
//     its head stays epoch 0, so its read replies report `pending` = the entry at 2 (epoch 1).
//  2. w, elected in C1 = {4,5,6} with r5 and r6, appends 'x' (learned) and 'y' (accepted by r5 and r6,
//     acknowledged; the commit is lost), then stops. The removed members 1..3 are retired.
//  3. A reader whose view is the full chain [C0, C1] reads [4, 20] (above p: a tail) from {4,5,6}. r4's reply sets
//     op.stop = 2 because the check is `e.config.epoch (1) > view(e.position).epoch (0)`: view(2) is C0
//     since an entry's own position belongs to the old configuration, although the view KNOWS epoch 1 at 2.
//     'y' is pending, so after readSettleMs the reader fills from op.stop = 2 (fillFromLearned), in
//     config(2) = C0, whose voters are gone: the fill retries for operationTimeoutMs (150 promises to the
//     retired members) and the read ends 'no-quorum' (the reader heard no one meanwhile: its rounds stop
//     while the fill runs); every retry meets the same pending entry. Without the stop sign the fill would
//     run at 'y' in C1 and settle it at once. (A read starting at 0 passes: the scan meets the entry
//     chosen at 2 and clears the stop sign; a read or tail starting above p does not.)
//
// Violates: the brief's liveness property (a reader stuck forever with a quorum up); R5's last item says a
// read waits for a pending entry's fate "learned somewhere (it then reads on in the new configuration)":
// here the fate is known to the reader's own view.
//
// Suggested fix (reader.ts evaluate): a pending entry is a stop sign only if its epoch is above the view's
// latest epoch (`e.config.epoch > latestOf(this.view).epoch`); an entry of an epoch the view holds is either
// that link (chosen) or a dead leftover below it (never chosen), and neither hides anything above it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config0, ReconfigCluster } from './reconfig-harness.js';

test('attack5: a read over a known change completes although a lagging new voter reports its entry pending', () => {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5, 6]));
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  for (const l of [4, 5, 6]) c.copyLearned(1, l);
  // r4 takes the joint write only: no install, no commit.
  c.dropIf = (e) => e.from === 'w' && e.to === 'r4' && e.msg.type !== 'write';
  c.change('w', { id: 'move', ifEpoch: 0, change: { kind: 'set', voters: [4, 5, 6], learners: [] } });
  c.run();
  assert.equal(c.changes.get('move')?.ok, true, 'the change completed');
  assert.equal(c.store(4).slot(2)?.learned, false, 'r4 holds the entry unlearned');
  assert.equal(c.chain(4).length, 1, "r4's head is still epoch 0");
  const x = c.append('w', 'x');
  c.run();
  c.dropIf = (e) => e.from === 'w' && (e.to === 'r4' || e.msg.type === 'commit');
  const y = c.append('w', 'y');
  c.run(3_000);
  assert.equal(c.results.get(x)?.ok, true);
  assert.equal(c.results.get(y)?.ok, true, "'y' acknowledged");
  c.writers.delete('w');
  c.dropIf = () => false;
  // The removed members are retired.
  for (const id of [1, 2, 3]) c.up.delete(id);
  c.reader('rd', c.chain(5));
  const r = c.read('rd', 4, 20); // a read (a tail) that starts above p
  c.run(120_000);
  const res = c.reads.get(r);
  const fillsToOld = c.sent.filter((e) => e.from === 'rd' && e.msg.type === 'promise' && ['r1', 'r2', 'r3'].includes(e.to)).length;
  assert.ok(res?.ok === true, `the read completes (got ${JSON.stringify(res)}; fill promises sent to retired members: ${fillsToOld})`);
});
