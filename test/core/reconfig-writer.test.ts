// Step 4 of docs/reconfiguration.md: the writer's change path (R2 to R4) against replicas that keep
// their chain (R6, R7, R14). Each rule switch is shown to break what the rule keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { Action } from '../../src/core/types.js';
import { appendAction, changed, config0, ReconfigCluster } from './reconfig-harness.js';

const off = (rule: keyof SafetyRules): SafetyRules => ({ ...ALL_RULES_ON, [rule]: false });

/** Voters 1..3, learners 4 and 5; the writer appends a and b, then the learners copy the log. */
function grown(rules: SafetyRules = ALL_RULES_ON, copy: number[] = [4, 5]): { c: ReconfigCluster; ops: Map<number, Action> } {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]), rules);
  const ops = new Map<number, Action>();
  c.elect('w');
  c.run();
  for (const d of ['a', 'b']) ops.set(c.append('w', d), appendAction(d));
  c.run();
  for (const id of copy) c.copyLearned(1, id);
  return { c, ops };
}

test('R2-R4: a swap of voters (3 out, 4 and 5 in) is chosen jointly, installed by a fresh election, and appends queued behind it go out in the new configuration', () => {
  const { c, ops } = grown();
  c.change('w', { id: 'swap', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  ops.set(c.append('w', 'c'), appendAction('c'));
  c.run();
  const cfg = changed(c.changes.get('swap'));
  assert.equal(cfg.epoch, 1);
  assert.equal(cfg.position, 3, 'the entry goes at the next position, after the election NOP and a, b');
  const after = c.results.get([...ops.keys()][2]!);
  assert.ok(after?.ok && after.position > cfg.position + 1, `c goes above the entry and the new marker NOP: ${JSON.stringify(after)}`);
  // The new voters learned the entry from the install, with its floor; 3 learned it from the commit and is removed.
  for (const id of [1, 4, 5]) assert.equal(c.chain(id).length, 2, `r${id} holds the new link`);
  assert.equal(c.chain(4)[1]!.floor, cfg.floor);
  assert.ok(cfg.floor > 0);
  assert.deepEqual(c.misplacedAcks(ops), []);
  assert.deepEqual(c.removedAccepted(), []);
  c.oneChain();
});

test('R2: a change names the epoch it expects; a second change from the same epoch is refused once the first moved it', () => {
  const { c } = grown();
  c.change('w', { id: 'one', ifEpoch: 0, change: { kind: 'promote', id: 4 } });
  c.change('w', { id: 'two', ifEpoch: 0, change: { kind: 'promote', id: 5 } });
  c.run();
  assert.equal(changed(c.changes.get('one')).epoch, 1);
  const two = c.changes.get('two');
  assert.ok(two !== undefined && !two.ok && two.reason === 'epoch-changed', JSON.stringify(two));
  assert.equal(c.chain(1).length, 2);
});

test('R2: a change that is not valid is refused before anything is written', () => {
  const { c } = grown();
  const end = c.store(1).end();
  c.change('w', { id: 'bad', ifEpoch: 0, change: { kind: 'promote', id: 9 } });
  // An epoch above the writer's own (3 > 0) means the asker read a configuration the writer does not know:
  // refused as fenced (the writer may be stale: the asker refreshes), not as epoch-changed (which would say
  // that the configuration moved past the asker's, when it is the writer that lags).
  c.change('w', { id: 'late', ifEpoch: 3, change: { kind: 'promote', id: 4 } });
  c.change('w', { id: 'old', ifEpoch: 0, change: { kind: 'promote', id: 4 } });
  c.change('w', { id: 'older', ifEpoch: 0, change: { kind: 'promote', id: 5 } });
  c.run();
  assert.deepEqual([c.changes.get('bad'), c.changes.get('late')].map((o) => o?.ok === false && o.reason), ['unknown-member', 'fenced']);
  // Below the writer's epoch: the configuration moved past the asker's read, epoch-changed as before.
  changed(c.changes.get('old'));
  const older = c.changes.get('older');
  assert.ok(older !== undefined && !older.ok && older.reason === 'epoch-changed', JSON.stringify(older));
  assert.equal(c.store(1).end(), end + 2, 'only the promote went out: its entry and the new marker NOP');
});

test('R2: a stale writer asked for a change with an epoch above the one it knows refuses it as fenced, not as epoch-changed', () => {
  const { c } = grown();
  // w moves the configuration to epoch 1; v was made with the chain of epoch 0 only (a stale view).
  c.change('w', { id: 'one', ifEpoch: 0, change: { kind: 'promote', id: 4 } });
  c.run();
  assert.equal(changed(c.changes.get('one')).epoch, 1);
  const end = c.store(1).end();
  c.writer('v');
  // The asker read epoch 1 from the replicas; v, idle or elected in its old view, is the one that lags.
  c.change('v', { id: 'two', ifEpoch: 1, change: { kind: 'promote', id: 5 } });
  c.run();
  const two = c.changes.get('two');
  assert.ok(two !== undefined && !two.ok && two.reason === 'fenced', `refused as fenced (the asker refreshes): ${JSON.stringify(two)}`);
  assert.match((two as { message: string }).message, /epoch 1/);
  assert.equal(c.store(1).end(), end, 'nothing was written');
});

test('R3: the new voters answer not-ready until they hold the log below the entry; the change waits, then completes', () => {
  const { c } = grown(ALL_RULES_ON, []);
  c.change('w', { id: 'swap', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  c.run(3_000);
  assert.equal(c.changes.get('swap'), undefined, 'not chosen while 4 and 5 lag');
  assert.ok(c.sent.some((e) => e.from === 'r4' && e.msg.type === 'writeReply' && e.msg.outcome === 'not-ready'));
  assert.equal(c.store(1).slot(5)?.learned ?? false, false, 'r1 did not learn the entry');
  c.copyLearned(1, 4);
  c.run();
  changed(c.changes.get('swap'));
  assert.deepEqual(c.removedAccepted(), []);
});

test('jointAcceptance off: the entry is counted chosen by the old voters alone, while no new voter holds it (I6)', () => {
  for (const rules of [ALL_RULES_ON, off('jointAcceptance')]) {
    const { c } = grown(rules);
    c.dropIf = (e) => e.to === 'r4' || e.to === 'r5';
    c.change('w', { id: 'swap', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
    c.run(3_000);
    const p = 3;
    const learnedByOld = c.store(1).slot(p)?.learned ?? false;
    const newHolders = c.holders(p, c.store(1).action(p) as Action).filter((id) => id === 4 || id === 5);
    if (rules.jointAcceptance) assert.equal(learnedByOld, false, 'not chosen without a quorum of the new voters');
    else assert.ok(learnedByOld && newHolders.length === 0, 'chosen (and committed) while no new voter holds the entry');
  }
});

test('caughtUpToAccept off: new voters that hold nothing below the entry accept it and it is counted chosen (I6)', () => {
  for (const rules of [ALL_RULES_ON, off('caughtUpToAccept')]) {
    const { c } = grown(rules, []);
    c.change('w', { id: 'swap', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
    c.run(3_000);
    const learnedByOld = c.store(1).slot(3)?.learned ?? false;
    if (rules.caughtUpToAccept) assert.equal(learnedByOld, false);
    else assert.ok(learnedByOld && c.store(4).learnedThrough() < 2 && c.store(5).learnedThrough() < 2, 'chosen with new voters missing the log below');
  }
});

test('configBarrier off: an append queued behind the change is acknowledged by the old voters above the entry (I1)', () => {
  for (const rules of [ALL_RULES_ON, off('configBarrier')]) {
    const { c, ops } = grown(rules);
    c.change('w', { id: 'swap', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
    ops.set(c.append('w', 'c'), appendAction('c'));
    c.run();
    const bad = c.misplacedAcks(ops);
    if (rules.configBarrier) assert.deepEqual(bad, []);
    else assert.ok(bad.length > 0, 'an acknowledged position above the entry is held by too few new voters');
  }
});

test('freshElection off: the writer goes on under its old promises and gets an append above the entry counted by the old voters (I1)', () => {
  for (const rules of [ALL_RULES_ON, off('freshElection')]) {
    const { c, ops } = grown(rules);
    // The commit of the entry is lost: the old voters do not learn it, so nothing tells them the ballot is stale.
    c.dropIf = (e) => e.msg.type === 'commit' && e.msg.from <= 3 && e.msg.to >= 3;
    c.change('w', { id: 'swap', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
    ops.set(c.append('w', 'c'), appendAction('c'));
    c.run();
    const bad = c.misplacedAcks(ops, [c.c0, changed(c.changes.get('swap'))]);
    if (rules.freshElection) assert.deepEqual(bad, []);
    else assert.ok(bad.length > 0, 'an acknowledged position above the entry is held by too few new voters');
  }
});

test('R4: a change counted chosen is never dropped: its install election is run again after it fails for want of a quorum, and the appends behind it wait', () => {
  const { c, ops } = grown();
  // The new voters hear no promise for a long while: the install election gives up (no quorum) at least once.
  let blocked = true;
  c.dropIf = (e) => blocked && e.msg.type === 'promise' && (e.to === 'r4' || e.to === 'r5');
  c.change('w', { id: 'swap', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  const after = c.append('w', 'c');
  ops.set(after, appendAction('c'));
  c.run(40_000);
  assert.equal(c.changes.get('swap'), undefined, 'not complete, not failed');
  assert.equal(c.results.get(after), undefined, 'c waits');
  assert.equal(c.store(1).slot(3)?.kind, 'config');
  blocked = false;
  c.run();
  changed(c.changes.get('swap'));
  assert.equal(c.results.get(after)?.ok, true);
  assert.deepEqual(c.misplacedAcks(ops), []);
});

test('R3: a change to a single voter is counted chosen once that one voter of the next configuration accepted it', () => {
  const c = new ReconfigCluster(config0([1, 2, 3]));
  c.elect('w');
  c.run();
  c.change('w', { id: 'one', ifEpoch: 0, change: { kind: 'set', voters: [1], learners: [2, 3] } });
  c.run();
  const cfg = changed(c.changes.get('one'));
  assert.deepEqual(cfg.voters.map((m) => m.id), [1]);
});

test('R3: a next voter whose link comes up gets the change\'s entry at once (the joint count waits for it), not at a backed-off retransmission', () => {
  const { c } = grown();
  c.up.delete(4);
  c.up.delete(5);
  c.change('w', { id: 'swap', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  c.run(600);
  assert.equal(c.changes.get('swap'), undefined, 'waiting: no quorum of the next voters is up');
  c.up.add(4);
  const out = c.writers.get('w')!.step({ type: 'reachable', id: 4 }, c.now);
  assert.ok(out.send.some((s) => s.to === 4 && s.msg.type === 'write'), `the entry goes to 4 now: ${JSON.stringify(out.send.map((s) => [s.to, s.msg.type]))}`);
});
