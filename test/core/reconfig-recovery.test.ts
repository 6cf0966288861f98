// Step 6 of docs/reconfiguration.md: autorecovery across changes (R9a to R9d, R13) and the scenarios of
// section 9 that it covers: 8 (KAFKA-19850: a removed replica restarted with its old flags or on an empty
// disk never votes again), 11 (ZooKeeper: two joiners seeded with each other start no cluster of their own)
// and 18 (autorecovery racing a change {1,2,3} -> {1,4,5}). The rule switches rejoinInPending (R9b) and
// restartCheckLatest (R9d) each have a scripted test that breaks with the switch off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timing } from '../../src/core/constants.js';
import { discoverFromReplies } from '../../src/core/discovery.js';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import { RecoveryCore, type RecoveryOutput } from '../../src/core/recovery.js';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { Metadata, RecoverReply, RecoverRequest, RejoinReply } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { appendAction, changed, config0, member, NodeNet, ReconfigCluster } from './reconfig-harness.js';

const swap = { id: 'swap', ifEpoch: 0, change: { kind: 'set' as const, voters: [1, 4, 5], learners: [] } };

/** Voters 1..3, learners 4 and 5 caught up; w appends 'a', swaps 2 and 3 for 4 and 5, then appends 'b' in the new configuration. */
function swapped(rules: SafetyRules = ALL_RULES_ON): { c: ReconfigCluster; c1: PlacedConfiguration } {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]), rules);
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  c.copyLearned(1, 4);
  c.copyLearned(1, 5);
  c.change('w', swap);
  c.run();
  const c1 = changed(c.changes.get('swap'));
  const b = c.append('w', 'b');
  c.run();
  assert.ok(c.results.get(b)?.ok, 'b acknowledged in the new configuration');
  c.writers.delete('w');
  return { c, c1 };
}

// ------------------------------------------------------------------ discovery (R13)

const c0 = config0([1, 2, 3], [4, 5]);
const c1: PlacedConfiguration = { epoch: 1, voters: [1, 4, 5].map(member), learners: [], nextId: 6, position: 2, floor: 3 };

function reply(o: Partial<RecoverReply> = {}): RecoverReply {
  return {
    type: 'recoverReply', rid: 1, status: 'VOTING', begin: 0, end: 5, incarnation: 'p', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0,
    recorded: [], ...o,
  };
}

test('discovery: links carried by any answer lead to the latest configuration, whose voters are asked next', () => {
  const d = discoverFromReplies(1, [c0], true, [[2, reply({ config: { epoch: 1, position: 2 }, links: [c1] })]]);
  assert.equal(d.latest.epoch, 1);
  assert.equal(d.done, false, 'no quorum of the latest configuration answered yet');
  assert.deepEqual(d.ask, [4, 5]);
  assert.deepEqual(d.chain?.map((c) => c.epoch), [0, 1]);
  const done = discoverFromReplies(1, [c0], true, [
    [2, reply({ config: { epoch: 1, position: 2 }, links: [c1] })],
    [4, reply({ config: { epoch: 1, position: 2 } })],
    [5, reply({ config: { epoch: 1, position: 2 } })],
  ]);
  assert.equal(done.done, true);
  assert.equal(done.removed, undefined);
});

test('discovery: a pending entry counts until some answer learned its position; a newer head without its links is not resolved', () => {
  const pend = { position: 7, proposal: 4, config: { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5 } };
  const live = discoverFromReplies(1, [config0([1, 2, 3], [4])], true, [[2, reply({ pending: pend, learnedThrough: 6 })]]);
  assert.equal(live.pending.length, 1);
  assert.deepEqual(live.ask, [2, 3, 4]);
  const dead = discoverFromReplies(1, [config0([1, 2, 3], [4])], true, [[2, reply({ pending: pend, learnedThrough: 6 })], [3, reply({ learnedThrough: 7 })]]);
  assert.equal(dead.pending.length, 0, 'position 7 was learned by r3: another value took it, or its head would be newer');
  const blind = discoverFromReplies(1, [c0], true, [[2, reply({ config: { epoch: 1, position: 2 } })], [3, reply()]]);
  assert.equal(blind.done, false);
});

test('discovery: an answer naming the configuration that removed the asker, or a chain without it, says removed', () => {
  const told = discoverFromReplies(2, [c0], true, [[1, reply({ removed: c1 })]]);
  assert.equal(told.removed?.epoch, 1);
  const chain = discoverFromReplies(2, [c0], true, [[1, reply({ config: { epoch: 1, position: 2 }, links: [c1] })]]);
  assert.equal(chain.removed?.epoch, 1);
  const joiner = discoverFromReplies(9, [c0], true, [[1, reply({ config: { epoch: 1, position: 2 }, links: [c1] })]]);
  assert.equal(joiner.removed, undefined, 'an id at or above nextId was never used: not removed, just not a member yet');
});

// ------------------------------------------------------------------ R9b: rejoinInPending

/**
 * r1 lost its disk while a change {1,2,3} -> {1,2,4} is pending (accepted by r2 and r4, learned nowhere).
 * r2, r3 and r4 answer; r2 and r4 report the pending entry. Returns the core after r2 and r3 (a quorum of
 * the latest configuration) recorded the new disk.
 */
function rejoinWithPending(rules: SafetyRules): { core: RecoveryCore; outs: RecoveryOutput[]; recordedBy: (id: number, end: number) => RecoveryOutput } {
  const start = config0([1, 2, 3], [4]);
  const pending = { position: 7, proposal: 4, config: { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5 } };
  let rid = 0;
  let meta: Metadata = { status: 'RECOVERING', promised: 0, incarnation: 'new', configs: [start] };
  const core = new RecoveryCore({ self: 1, view: () => start, metadata: meta, end: -1, random: () => 0.5, rid: () => ++rid, rules }, 0);
  const outs: RecoveryOutput[] = [];
  const push = (o: RecoveryOutput) => {
    outs.push(o);
    if (o.become !== undefined) {
      meta = { ...meta, ...o.become.patch, status: o.become.status };
      outs.push(core.step({ type: 'status', metadata: meta }, 0));
    }
    return outs[outs.length - 1]!;
  };
  push(core.step({ type: 'tick' }, 0));
  const asked = outs.flatMap((o) => o.send.map((s) => s.to));
  const q = rid;
  for (const from of [2, 3, 4]) {
    push(core.step({ type: 'reply', from, msg: reply({ rid: q, end: 6, learnedThrough: 5, ...(from !== 3 ? { pending } : {}) }) }, 0));
  }
  assert.ok(asked.includes(2) && asked.includes(3));
  const rejoinRid = rid;
  const recordedBy = (from: number, end: number) =>
    push(core.step({ type: 'reply', from, msg: { type: 'rejoinReply', rid: rejoinRid, outcome: 'accept', status: 'VOTING', begin: 0, end, generation: 1, disk: 1 } satisfies RejoinReply }, 0));
  recordedBy(2, 6);
  recordedBy(3, 6);
  return { core, outs, recordedBy };
}

test('R9b: a disk lost while a change is pending is recorded by a quorum of the pending configuration too, and catches up to the highest end of both', () => {
  const { outs, recordedBy } = rejoinWithPending(ALL_RULES_ON);
  assert.ok(outs.some((o) => o.send.some((s) => s.to === 4 && s.msg.type === 'rejoin')), 'the pending configuration\'s new voter is asked to record the disk');
  assert.equal(outs.find((o) => o.catchUp !== undefined), undefined, 'r2 and r3 are a quorum of {1,2,3}, not of {1,2,4}: not yet');
  const last = recordedBy(4, 9);
  assert.deepEqual(last.catchUp, { from: 0, to: 9 }, 'r4 accepted more of the pending entry\'s writes: its end counts');
});

test('R9b broken (rejoinInPending off): the disk catches up once the latest configuration alone recorded it', () => {
  const { outs } = rejoinWithPending({ ...ALL_RULES_ON, rejoinInPending: false });
  const c = outs.find((o) => o.catchUp !== undefined);
  assert.ok(c !== undefined, 'with the switch off r4 never had to record the new disk: a C1 writer may still count the old one');
});

// ------------------------------------------------------------------ R9d: restartCheckLatest

/** r1 restarts VOTING on a backup taken before {1,2,3} -> {1,4,5}: r2 and r3 (removed) saw nothing newer; r4 saw more. */
function restoredAcross(rules: SafetyRules): RecoveryOutput[] {
  const start = config0([1, 2, 3], [4, 5]);
  let rid = 0;
  const meta: Metadata = { status: 'VOTING', promised: 3, incarnation: 'i1', configs: [start] };
  const core = new RecoveryCore({ self: 1, view: () => start, metadata: meta, end: 4, random: () => 0.5, rid: () => ++rid, rules }, 0);
  const outs: RecoveryOutput[] = [core.step({ type: 'tick' }, 0)];
  const first = rid;
  const head = { config: { epoch: 1, position: 2 }, links: [c1] };
  for (const from of [2, 3]) outs.push(core.step({ type: 'reply', from, msg: reply({ rid: first, ...head }) }, 10));
  // The members of the latest configuration saw this disk promise 9 and reach end 8 after the backup.
  for (const from of [4, 5]) outs.push(core.step({ type: 'reply', from, msg: reply({ rid: first, ...head, witness: { generation: 0, disk: 0, promised: 9, end: 8 } }) }, 20));
  outs.push(core.step({ type: 'tick' }, timing.restartCheckMs + 10));
  return outs;
}

test('R9d: the restart check asks the latest configuration\'s members, which unmask a backup restored across a change', () => {
  const outs = restoredAcross(ALL_RULES_ON);
  assert.ok(outs.some((o) => o.send.some((s) => s.to === 4)) && outs.some((o) => o.send.some((s) => s.to === 5)), 'r4 and r5 are asked');
  assert.equal(outs.find((o) => o.checked === true), undefined, 'never votes');
  assert.equal(outs.find((o) => o.become !== undefined)?.become?.status, 'RECOVERING', 'rejoins as a new disk');
});

test('R9d broken (restartCheckLatest off): the removed members, whose witness tables froze, let the backup vote', () => {
  const outs = restoredAcross({ ...ALL_RULES_ON, restartCheckLatest: false });
  assert.ok(outs.some((o) => o.checked === true), 'r2 and r3 answered, none saw more: the check passed on the wrong witnesses');
});

// ------------------------------------------------------------------ scenario 18: autorecovery racing a change

test('scenario 18: r1 wiped after {1,2,3} -> {1,4,5}, restarted with its old flags: it finds the new configuration, is recorded there, catches up, and votes', () => {
  const { c, c1: made } = swapped();
  const net = new NodeNet(c);
  for (const id of [2, 3, 4, 5]) net.start(id, [1, 2, 3], { restartCheck: false });
  const r1 = net.start(1, [1, 2, 3], { wipe: true });
  net.run(20_000);
  assert.equal(r1.status, 'VOTING', net.notes.join('\n'));
  const meta = c.store(1).metadata();
  assert.deepEqual(meta.configs?.map((x) => x.epoch), [0, 1], 'the chain found by discovery is stored with the new disk');
  for (const id of [4, 5]) assert.deepEqual(c.store(id).metadata().recorded?.[1], { generation: meta.generation, disk: meta.disk }, `r${id} (new voter) recorded the new disk`);
  assert.ok(c.store(1).learnedThrough() >= made.position + 1, 'caught up past the change');
  // The new configuration can lose r5 and still write, counting r1's new disk.
  net.stop(5);
  c.writer('w2', [c.c0, made]);
  c.elect('w2');
  const x = c.append('w2', 'x');
  net.run(5_000);
  assert.ok(c.results.get(x)?.ok, 'w2 wrote with r1 and r4');
  assert.deepEqual(c.holders(c.results.get(x)!.ok ? (c.results.get(x) as { position: number }).position : -1, appendAction('x')).filter((id) => id !== 5).sort(), [1, 4]);
});

test('scenario 18: r4 (a new voter) wiped right after the change rejoins in the new configuration; r2 (removed) wiped stays out', () => {
  const { c } = swapped();
  const net = new NodeNet(c);
  for (const id of [1, 3, 5]) net.start(id, [1, 2, 3], { restartCheck: false });
  const r4 = net.start(4, [1, 2, 3, 4, 5], { wipe: true });
  const r2 = net.start(2, [1, 2, 3], { wipe: true });
  net.run(20_000);
  assert.equal(r4.status, 'VOTING', net.notes.join('\n'));
  assert.notEqual(r2.status, 'VOTING');
  assert.ok(r2.removed);
  for (const id of [1, 3, 5]) assert.equal(c.store(id).metadata().recorded?.[2], undefined, `r${id} recorded no new disk for the removed r2`);
});

// ------------------------------------------------------------------ scenario 8: KAFKA-19850

test('scenario 8: a removed replica restarted with its old flags on its own disk never votes again', () => {
  const { c } = swapped();
  assert.deepEqual(c.chain(2).map((x) => x.epoch), [0, 1], 'r2 learned the entry that removed it');
  const net = new NodeNet(c);
  for (const id of [1, 4, 5]) net.start(id, [1, 2, 3], { restartCheck: false });
  const r2 = net.start(2, [1, 2, 3]);
  net.run(10_000);
  assert.ok(r2.removed);
  assert.ok(r2.holdsVotes, 'holds its votes for good');
  assert.match(r2.waiting, /removed from the cluster/);
});

test('scenario 8: a removed replica restarted on a backup from before its removal learns it from its peers (RecoverReply.removed) and never votes', () => {
  const { c } = swapped();
  const old = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'inc-2', configs: [c.c0] });
  const net = new NodeNet(c);
  for (const id of [1, 3, 4, 5]) net.start(id, [1, 2, 3], { restartCheck: false });
  const r2 = net.start(2, [1, 2, 3], { store: old });
  net.run(10_000);
  assert.ok(r2.removed, net.notes.join('\n'));
  assert.ok(r2.holdsVotes);
});

test('scenario 8: a removed replica restarted on an empty disk with its old flags never turns VOTING; peers record nothing for it', () => {
  const { c } = swapped();
  const net = new NodeNet(c);
  for (const id of [1, 3, 4, 5]) net.start(id, [1, 2, 3], { restartCheck: false });
  const r2 = net.start(2, [1, 2, 3], { wipe: true });
  net.run(10_000);
  assert.ok(r2.removed, net.notes.join('\n'));
  assert.equal(r2.status, 'EMPTY');
  for (const id of [1, 3, 4, 5]) assert.equal(c.store(id).metadata().recorded?.[2], undefined);
  // A rejoin it might still send (an older version) is answered with the configuration that removed it, and recorded nowhere.
  const out = net.stepNode(1, { type: 'message', from: 2, msg: { type: 'rejoin', rid: 9, member: 2, generation: 5, disk: 55 } });
  assert.equal((out.reply as RejoinReply).outcome, 'ignored');
  assert.equal((out.reply as RejoinReply).removed?.epoch, 1);
  assert.equal(c.store(1).metadata().recorded?.[2], undefined);
  const rec = net.stepNode(1, { type: 'message', from: 2, msg: { type: 'recover', rid: 10, member: 2 } satisfies RecoverRequest });
  assert.equal((rec.reply as RecoverReply).removed?.epoch, 1);
});

test('scenario 8 broken (removedStaysOut off): the removed replica on an empty disk rejoins and votes', () => {
  const { c } = swapped({ ...ALL_RULES_ON, removedStaysOut: false });
  const net = new NodeNet(c);
  for (const id of [1, 3, 4, 5]) net.start(id, [1, 2, 3], { restartCheck: false });
  const r2 = net.start(2, [1, 2, 3], { wipe: true });
  net.run(10_000);
  assert.equal(r2.status, 'VOTING');
});

// ------------------------------------------------------------------ scenario 11: two joiners seeded with each other

test('scenario 11: two joiners seeded with each other start no cluster of their own (mayStart false); with an implicit bootstrap they do', () => {
  for (const mayStart of [false, true]) {
    const c = new ReconfigCluster(config0([1, 2, 3]));
    const net = new NodeNet(c);
    const a = net.start(6, [6, 7], { wipe: true, mayStart });
    const b = net.start(7, [6, 7], { wipe: true, mayStart });
    net.run(10_000);
    if (mayStart) assert.deepEqual([a.status, b.status], ['VOTING', 'VOTING'], 'the split brain: a second log');
    else {
      assert.deepEqual([a.status, b.status], ['EMPTY', 'EMPTY'], net.notes.join('\n'));
      assert.ok(net.notes.some((n) => n.includes('starts none')));
    }
  }
});

// ------------------------------------------------------------------ R9c: a configuration learned while catching up

/** r1 rejoins in {1,2,3}; while it catches up it learns {1,2,4} (its view moves); returns what it does once caught up. */
function learnedWhileCatchingUp(rules: SafetyRules): { outs: RecoveryOutput[]; core: RecoveryCore; rid: () => number } {
  const start = config0([1, 2, 3], [4]);
  const next: PlacedConfiguration = { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5, position: 6, floor: 2 };
  let view = start;
  let rid = 0;
  let meta: Metadata = { status: 'RECOVERING', promised: 0, incarnation: 'new', configs: [start] };
  const core = new RecoveryCore({ self: 1, view: (q) => (q > view.position ? view : start), metadata: meta, end: -1, random: () => 0.5, rid: () => ++rid, rules }, 0);
  const outs: RecoveryOutput[] = [];
  const push = (o: RecoveryOutput) => {
    outs.push(o);
    if (o.become !== undefined) {
      meta = { ...meta, ...o.become.patch, status: o.become.status };
      if (o.become.status !== 'VOTING') outs.push(core.step({ type: 'status', metadata: meta }, 0));
    }
  };
  push(core.step({ type: 'tick' }, 0));
  const q = rid;
  for (const from of [2, 3]) push(core.step({ type: 'reply', from, msg: reply({ rid: q, end: 5, learnedThrough: 5 }) }, 0));
  const j = rid;
  for (const from of [2, 3]) {
    push(core.step({ type: 'reply', from, msg: { type: 'rejoinReply', rid: j, outcome: 'accept', status: 'VOTING', begin: 0, end: 7, generation: 1, disk: 1 } satisfies RejoinReply }, 0));
  }
  assert.ok(outs.some((o) => o.catchUp !== undefined), 'catching up after {1,2,3} recorded the disk');
  view = next; // the catch-up copied the entry at 6 into the chain
  push(core.step({ type: 'caughtUp' }, 0));
  return { outs, core, rid: () => rid };
}

test('R9c: a configuration learned while catching up records the disk again there before it votes', () => {
  const { outs, core, rid } = learnedWhileCatchingUp(ALL_RULES_ON);
  const last = outs[outs.length - 1]!;
  assert.equal(last.become, undefined, 'not VOTING yet');
  assert.deepEqual(last.send.filter((s) => s.msg.type === 'rejoin').map((s) => s.to), [2, 4], 'the new configuration\'s voters are asked to record it');
  const j = rid();
  core.step({ type: 'reply', from: 2, msg: { type: 'rejoinReply', rid: j, outcome: 'accept', status: 'VOTING', begin: 0, end: 8, generation: 1, disk: 1 } }, 0);
  const o = core.step({ type: 'reply', from: 4, msg: { type: 'rejoinReply', rid: j, outcome: 'accept', status: 'VOTING', begin: 0, end: 9, generation: 1, disk: 1 } }, 0);
  assert.deepEqual(o.catchUp, { from: 0, to: 9 });
  assert.equal(core.step({ type: 'caughtUp' }, 0).become?.status, 'VOTING');
});

test('R9c broken (rejoinInPending off): the disk votes at once, unknown to r4, whose configuration may still count its old disk', () => {
  const { outs } = learnedWhileCatchingUp({ ...ALL_RULES_ON, rejoinInPending: false });
  assert.equal(outs[outs.length - 1]!.become?.status, 'VOTING');
});

// ------------------------------------------------------------------ R11: a one-voter founder's start waits for word of a larger cluster

/** Founder 1 alone, learners 2 and 3 caught up and made voters ({1} -> {1,2,3}), 'a' and 'b' appended. */
function grownFromOne(): ReconfigCluster {
  const c = new ReconfigCluster(config0([1], [2, 3]));
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  c.copyLearned(1, 2);
  c.copyLearned(1, 3);
  c.change('w', { id: 'grow', ifEpoch: 0, change: { kind: 'set', voters: [1, 2, 3], learners: [] } });
  c.run();
  assert.equal(changed(c.changes.get('grow')).epoch, 1);
  const b = c.append('w', 'b');
  c.run();
  assert.ok(c.results.get(b)?.ok, 'b acknowledged in {1,2,3}');
  c.writers.delete('w');
  return c;
}

test('R11: the founder of a grown cluster, wiped and restarted with its original --members (itself alone), hears its peers and rejoins their configuration', () => {
  const c = grownFromOne();
  const net = new NodeNet(c);
  for (const id of [2, 3]) net.start(id, [1], { restartCheck: false });
  const r1 = net.start(1, [1], { wipe: true });
  net.run(timing.soloStartQuietMs + 10_000);
  assert.equal(r1.status, 'VOTING', net.notes.join('\n'));
  assert.deepEqual(c.store(1).metadata().configs?.map((x) => x.epoch), [0, 1], 'it holds the cluster\'s chain, not a new one-voter log');
  assert.ok((c.store(1).metadata().generation ?? 0) > 0, 'it rejoined as a new disk of its member');
});

test('R11: a one-voter start from an empty disk waits timing.soloStartQuietMs for word of a larger cluster, then starts one (the rule: without the wait it starts at once)', () => {
  const c = grownFromOne();
  const net = new NodeNet(c);
  // The members it grew into are down: nothing tells it of them.
  const r1 = net.start(1, [1], { wipe: true });
  net.run(timing.soloStartQuietMs - 500);
  assert.equal(r1.status, 'EMPTY', 'no new cluster before the quiet period is over');
  assert.ok(net.notes.some((n) => n.includes('without word of a larger one')), net.notes.join('\n'));
  net.run(2_000);
  assert.equal(r1.status, 'VOTING', 'a genuinely new one-replica cluster still starts, late');
});

test('R11: a one-voter founder told of a newer configuration by a member that then falls silent never starts alone (attack: the seed crashed before discovery was done)', () => {
  let rid = 0;
  const meta: Metadata = { status: 'EMPTY', promised: 0, incarnation: 'wiped' };
  const core = new RecoveryCore({ self: 1, members: [1], metadata: meta, end: -1, random: () => 0.5, rid: () => ++rid }, 0);
  const outs: RecoveryOutput[] = [core.step({ type: 'tick' }, 100)];
  outs.push(core.step({ type: 'newerHead', from: 2, epoch: 4 }, 8_000));
  // Replica 2 never answers the recover request; nobody else gossips.
  for (let t = 8_100; t <= 3 * timing.soloStartQuietMs; t += 100) outs.push(core.step({ type: 'tick' }, t));
  assert.ok(outs.every((o) => o.become === undefined), 'it never starts a cluster of its own');
  assert.ok(outs.some((o) => o.waiting?.includes('epoch 4')), 'it says why it waits');
});
