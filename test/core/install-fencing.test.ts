// R4's install election is the writer's own, not a new leadership: it must never outbid a rival.
// Found by the nemesis (seed 202, with membership replaces): an application writer carried a relayed
// change, counted its entry chosen, and ran the install election while another application elected a
// writer; the install election met the rival's promise, backed off and tried above it, won, and the
// first writer's queued appends were acknowledged after the rival's election had finished
// (ack-after-fence). A writer regains leadership only when its application asks (elect, reelect).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { Action } from '../../src/core/types.js';
import { appendAction, changed, config0, ReconfigCluster } from './reconfig-harness.js';

/** Voters 1..3 and learner 4 caught up; writer w elected and has appended a and b. */
function cluster(rules: SafetyRules = ALL_RULES_ON): { c: ReconfigCluster; ops: Map<number, Action> } {
  const c = new ReconfigCluster(config0([1, 2, 3], [4]), rules);
  const ops = new Map<number, Action>();
  c.elect('w');
  c.run();
  for (const d of ['a', 'b']) ops.set(c.append('w', d), appendAction(d));
  c.run();
  c.copyLearned(1, 4);
  return { c, ops };
}

/** w asks to promote 4 and queues an append behind it while its promise requests are lost (until unblock()); its writes are not. */
function promoteWhilePromisesLost(c: ReconfigCluster, ops?: Map<number, Action>): { queued: number; unblock(): void } {
  let blocked = true;
  c.dropIf = (e) => blocked && e.from === 'w' && e.msg.type === 'promise';
  c.change('w', { id: 'promote', ifEpoch: 0, change: { kind: 'promote', id: 4 } });
  const queued = c.append('w', 'c');
  ops?.set(queued, appendAction('c'));
  return { queued, unblock: () => (blocked = false) };
}

/** w counts a promote chosen but cannot install it; v is elected meanwhile; then w's promises get through. */
function rivalDuringInstall(rules: SafetyRules): { c: ReconfigCluster; queued: number } {
  const { c } = cluster(rules);
  // w's promise requests are lost from here on (its install election cannot finish), its writes are not:
  // the promote's entry is counted chosen by w.
  const { queued, unblock } = promoteWhilePromisesLost(c);
  c.run(2_000);
  assert.equal(c.writer('w').roleKind !== 'elected', true, 'w is installing');
  assert.equal(c.store(1).slot(3)?.kind, 'config', 'the entry is at 3');

  // Another application elects its writer v, in the configuration the replicas learned from w's commit.
  assert.equal(c.chain(1).length, 2, 'r1 learned the entry');
  c.writer('v', c.chain(1));
  c.elect('v');
  c.run(2_000);
  assert.equal(c.writer('v').roleKind, 'elected', 'v is elected');
  const vAppend = c.append('v', 'd');
  c.run(2_000);
  assert.equal(c.results.get(vAppend)?.ok, true, 'v appends');

  // w's promises get through again: its install election meets v's promise.
  unblock();
  c.run();
  return { c, queued };
}

test('R4: a writer whose install election meets a rival promise is fenced; it does not bid above the rival', () => {
  const { c, queued } = rivalDuringInstall(ALL_RULES_ON);
  const r = c.results.get(queued);
  assert.ok(r !== undefined && !r.ok && r.error === 'fenced', `w's queued append fails as fenced, never acknowledged after v's election: ${JSON.stringify(r)}`);
  assert.equal(c.writer('w').roleKind, 'fenced');
  const out = c.changes.get('promote');
  assert.ok(out !== undefined && !out.ok, `w reports its change unfinished: ${JSON.stringify(out)}`);
  // v is still the writer: its next append is acknowledged.
  const vAgain = c.append('v', 'e');
  c.run();
  assert.equal(c.results.get(vAgain)?.ok, true, 'v was not fenced by w');
});

test('R4: an install election that loses its quorum for a while retries with the same proposal and completes', () => {
  const { c, ops } = cluster();
  const { queued, unblock } = promoteWhilePromisesLost(c, ops);
  c.run(25_000);
  const proposals = new Set(c.sent.filter((e) => e.from === 'w' && e.msg.type === 'promise').map((e) => (e.msg as { proposal: number }).proposal));
  unblock();
  c.run();
  changed(c.changes.get('promote'));
  assert.equal(c.results.get(queued)?.ok, true, 'the append queued behind the change goes out');
  assert.deepEqual(c.misplacedAcks(ops), []);
  const all = new Set(c.sent.filter((e) => e.from === 'w' && e.msg.type === 'promise').map((e) => (e.msg as { proposal: number }).proposal));
  assert.equal(all.size, 2, `one proposal for the first election, one for every install attempt: ${[...all]} (before unblocking: ${[...proposals]})`);
});

test('installNoOutbid off: the install election bids above the rival, and the first writer is acknowledged after the rival was elected', () => {
  const { c, queued } = rivalDuringInstall({ ...ALL_RULES_ON, installNoOutbid: false });
  assert.equal(c.results.get(queued)?.ok, true, 'w acknowledged after v was elected');
  const vLate = c.append('v', 'e');
  c.run();
  const r = c.results.get(vLate);
  assert.ok(r !== undefined && !r.ok && r.error === 'fenced', `v was fenced by w's install election: ${JSON.stringify(r)}`);
});

/** Delivers everything in flight and what it causes, with no tick: the writer does only what it is asked. */
function deliverAll(c: ReconfigCluster): void {
  while (c.deliverOne());
}

/** Ticks (delivering between ticks) until writer w is idle: its last attempt gave up for want of a quorum. */
function untilIdle(c: ReconfigCluster): void {
  for (let t = 0; t < 2_000 && c.writer('w').roleKind !== 'idle'; t++) {
    c.tick(50);
    deliverAll(c);
  }
  assert.equal(c.writer('w').roleKind, 'idle', 'w gave up');
}

test('R4: an idle writer whose install election gave up carries out the install when asked to elect (no tick needed)', () => {
  const { c, ops } = cluster();
  const { queued, unblock } = promoteWhilePromisesLost(c, ops);
  untilIdle(c);
  assert.equal(c.writer('w').changing, true, 'the change counted chosen is kept');
  unblock();
  c.elect('w');
  deliverAll(c);
  assert.equal(changed(c.changes.get('promote')).epoch, 1, 'the elect ran the install election');
  assert.equal(c.writer('w').roleKind, 'elected');
  assert.deepEqual(c.writer('w').configHead, { epoch: 1, position: 3 }, 'elected in the new configuration');
  assert.equal(c.results.get(queued)?.ok, true, 'the append queued behind the change goes out');
  assert.deepEqual(c.misplacedAcks(ops), []);
});

// configBarrier off only to reach the state (with the barrier the entry is alone in flight, and counting it
// chosen starts its install at once): the entry counted chosen, a write above it in flight gives up, the
// writer idle with a chosen change whose install election never ran. Asked to elect, it must install it: an
// ordinary election in the old configuration would then wait behind the change forever (flush sends
// nothing past a change that is not queued), its marker never written, the election never done.
test('R4: an idle writer whose change is counted chosen but not installed installs it when asked to elect', () => {
  const { c } = cluster({ ...ALL_RULES_ON, configBarrier: false });
  let blocked = true;
  c.dropIf = (e) => blocked && e.from === 'w' && e.msg.type === 'write' && e.msg.from > 3;
  c.change('w', { id: 'promote', ifEpoch: 0, change: { kind: 'promote', id: 4 } });
  const above = c.append('w', 'c');
  untilIdle(c);
  assert.equal(c.store(1).slot(3)?.kind, 'config', 'the entry is at 3');
  const r = c.results.get(above);
  assert.ok(r !== undefined && !r.ok && r.unknownAt === 4, `the write above the entry gave up, unknown: ${JSON.stringify(r)}`);
  assert.equal(c.writer('w').changing, true);
  blocked = false;
  c.elect('w');
  deliverAll(c);
  assert.equal(changed(c.changes.get('promote')).epoch, 1, 'the elect ran the install election');
  assert.deepEqual(c.writer('w').configHead, { epoch: 1, position: 3 }, 'elected in the new configuration');
  const after = c.append('w', 'd');
  deliverAll(c);
  assert.equal(c.results.get(after)?.ok, true, 'the writer writes again');
});
