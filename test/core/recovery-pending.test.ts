// R9f (switch rejoinLearnsPending, docs/reconfiguration.md): a voter of the configuration a change starts
// from, wiped while the change's entry is pending, rejoins VOTING only once it learned the entry's fate. Its
// lost disk's acceptance may have made the entry chosen in the old configuration while nobody learned it; a
// catch-up fill settles it (R3), and reports the ballot it counted it chosen under, which the catch-up
// passes on as the entry's floor (without a floor a copy is not taken, R6). Found by the simulator:
// `--changes --open wipeVoterMidChange`, seeds 47, 68, 74, 80, 109, 123, 158, 171, 219, 233 of 1..250
// before the fix (test/sim/change-findings.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import { RecoveryCore, type RecoveryOutput } from '../../src/core/recovery.js';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { Action, Metadata, RecoverReply, RejoinReply } from '../../src/core/types.js';
import { config0, member, NodeNet, ReconfigCluster, type Envelope } from './reconfig-harness.js';

function reply(o: Partial<RecoverReply> = {}): RecoverReply {
  return {
    type: 'recoverReply', rid: 1, status: 'VOTING', begin: 0, end: 5, incarnation: 'p', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0,
    recorded: [], ...o,
  };
}

// ------------------------------------------------------------------ the recovery core alone

const start = config0([1, 2, 3], [4]);
const next: PlacedConfiguration = { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5, position: 7, floor: 4 };
const pendingEntry = { position: 7, proposal: 4, config: { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5 } };

/**
 * r1 lost its disk while {1,2,3} -> {1,2,4} is pending at 7 (accepted by r2 and r4, learned nowhere);
 * it is recorded by both configurations and told it caught up. `chained` says whether its chain holds the
 * entry by then, `learned` is its store's learned prefix.
 */
function caughtUpWithPending(rules: SafetyRules, state: { chained: boolean; learned: number }): { core: RecoveryCore; last: RecoveryOutput; outs: RecoveryOutput[] } {
  let rid = 0;
  let meta: Metadata = { status: 'RECOVERING', promised: 0, incarnation: 'new', configs: [start] };
  const view = (q: number) => (state.chained && q > next.position ? next : start);
  const core = new RecoveryCore({ self: 1, view, metadata: meta, end: -1, learnedThrough: () => state.learned, random: () => 0.5, rid: () => ++rid, rules }, 0);
  const outs: RecoveryOutput[] = [];
  const push = (o: RecoveryOutput): RecoveryOutput => {
    outs.push(o);
    if (o.become !== undefined && o.become.status !== 'VOTING') {
      meta = { ...meta, ...o.become.patch, status: o.become.status };
      outs.push(core.step({ type: 'status', metadata: meta }, 0));
    }
    return o;
  };
  push(core.step({ type: 'tick' }, 0));
  const q = rid;
  for (const from of [2, 3, 4]) push(core.step({ type: 'reply', from, msg: reply({ rid: q, end: 7, learnedThrough: 6, ...(from !== 3 ? { pending: pendingEntry } : {}) }) }, 0));
  const j = rid;
  for (const from of [2, 3, 4]) {
    push(core.step({ type: 'reply', from, msg: { type: 'rejoinReply', rid: j, outcome: 'accept', status: 'VOTING', begin: 0, end: 7, generation: 1, disk: 1 } satisfies RejoinReply }, 0));
  }
  assert.ok(outs.some((o) => o.catchUp?.to === 7), 'catching up through the pending entry');
  const last = push(core.step({ type: 'caughtUp' }, 0));
  return { core, last, outs };
}

test('R9f: caught up without the pending entry in its chain, the disk does not vote: it catches up the entry\'s position again', () => {
  const state = { chained: false, learned: 6 };
  const { core, last } = caughtUpWithPending(ALL_RULES_ON, state);
  assert.equal(last.become, undefined, 'not VOTING');
  assert.deepEqual(last.catchUp, { from: 7, to: 7 });
  assert.match(last.waiting ?? '', /pending at 7/);
  // The second catch-up learned the entry (with its floor): the chain holds it, and the disk votes.
  state.chained = true;
  assert.equal(core.step({ type: 'caughtUp' }, 0).become?.status, 'VOTING');
});

test('R9f: a pending entry whose position was learned as another value (dead) does not hold the vote', () => {
  const { last } = caughtUpWithPending(ALL_RULES_ON, { chained: false, learned: 7 });
  assert.equal(last.become?.status, 'VOTING');
});

test('R9f: after three catch-ups without the entry\'s fate the rejoin starts over (a new query)', () => {
  const state = { chained: false, learned: 6 };
  const { core } = caughtUpWithPending(ALL_RULES_ON, state);
  let o: RecoveryOutput = core.step({ type: 'caughtUp' }, 0);
  o = core.step({ type: 'caughtUp' }, 0);
  assert.deepEqual(o.catchUp, { from: 7, to: 7 });
  o = core.step({ type: 'caughtUp' }, 0);
  assert.equal(o.catchUp, undefined);
  assert.equal(core.phaseKind, 'query');
  assert.ok(o.send.some((s) => s.msg.type === 'recover'));
});

test('R9f broken (rejoinLearnsPending off): the disk votes without the pending entry', () => {
  const { last } = caughtUpWithPending({ ...ALL_RULES_ON, rejoinLearnsPending: false }, { chained: false, learned: 6 });
  assert.equal(last.become?.status, 'VOTING');
});

// ------------------------------------------------------------------ the scripted finding, with replica processes

const isConfigWrite = (e: Envelope): boolean => e.msg.type === 'write' && e.msg.actions.some((a: Action) => a.kind === 'config');

/**
 * Voters 1..3 and learner 4 (caught up); w swaps 3 for 4 ({1,2,4}). The entry at p reaches r1 and r2 only,
 * and r2's acceptance never reaches w: chosen in {1,2,3} (r1 and r2, one proposal), learned nowhere. w
 * stops; r1's disk is wiped; r1, r2, r3 and r4 run as processes. Returns r1 after the run and p.
 */
function wipedMidChange(rules: SafetyRules): { net: NodeNet; c: ReconfigCluster; p: number } {
  const c = new ReconfigCluster(config0([1, 2, 3], [4]), rules);
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  c.copyLearned(1, 4);
  c.dropIf = (e) => (isConfigWrite(e) && (e.to === 'r3' || e.to === 'r4')) || (e.msg.type === 'writeReply' && e.from === 'r2');
  c.change('w', { id: 'swap', ifEpoch: 0, change: { kind: 'set', voters: [1, 2, 4], learners: [] } });
  c.run(1_000);
  const p = c.store(1).end();
  assert.equal(c.store(1).action(p) !== undefined && (c.store(1).action(p) as Action).kind, 'config');
  assert.equal(c.store(2).slot(p)?.learned, false, 'r2 accepted the entry, not learned');
  assert.equal(c.store(3).slot(p), undefined);
  assert.equal(c.changes.get('swap'), undefined, 'w never counted it chosen');
  c.writers.delete('w');
  c.dropIf = () => false;
  const net = new NodeNet(c);
  for (const id of [2, 3, 4]) net.start(id, [1, 2, 3], { restartCheck: false });
  const r1 = net.start(1, [1, 2, 3], { wipe: true });
  // Until r1 votes (what it holds then is what counts: a VOTING replica repairs holes from its peers later).
  for (let ms = 0; ms < 20_000 && r1.status !== 'VOTING'; ms += 50) net.run(50);
  return { net, c, p };
}

test('R9f: a voter wiped while a change is pending (chosen with its lost disk\'s acceptance) turns VOTING with the entry learned and chained', () => {
  const { net, c, p } = wipedMidChange(ALL_RULES_ON);
  assert.equal(net.nodes.get(1)!.status, 'VOTING', net.notes.filter((n) => n.startsWith('r1')).join('\n'));
  assert.equal(c.store(1).slot(p)?.learned, true, 'r1 learned the entry');
  assert.equal(c.chain(1).at(-1)?.epoch, 1, 'its chain holds it');
  assert.ok(c.chain(1).at(-1)!.floor > 0, 'with a floor (the ballot the catch-up fill counted it chosen under)');
  c.checkChainComplete(1);
});

test('R9f broken (rejoinLearnsPending off): the wiped voter turns VOTING without the entry it made chosen', () => {
  const { net, c, p } = wipedMidChange({ ...ALL_RULES_ON, rejoinLearnsPending: false });
  assert.equal(net.nodes.get(1)!.status, 'VOTING');
  assert.notEqual(c.store(1).slot(p)?.learned, true, 'its fill chose the entry, but the copy named no floor and was not taken');
  assert.notEqual(c.chain(1).at(-1)?.epoch, 1);
});

// ------------------------------------------------------------------ a stuck rejoin looks again

test('a rejoin whose recording finds no quorum for four rounds looks for the latest configuration again (a new query), rather than retry against a stale one for good', () => {
  const c = config0([1, 2, 3]);
  let rid = 0;
  let meta: Metadata = { status: 'RECOVERING', promised: 0, incarnation: 'new', configs: [c] };
  const core = new RecoveryCore({ self: 1, view: () => c, metadata: meta, end: -1, random: () => 0.5, rid: () => ++rid, rules: ALL_RULES_ON }, 0);
  core.step({ type: 'tick' }, 0);
  const q = rid;
  let o: RecoveryOutput = core.step({ type: 'reply', from: 2, msg: reply({ rid: q }) }, 0);
  o = core.step({ type: 'reply', from: 3, msg: reply({ rid: q }) }, 0);
  assert.equal(o.become?.status, 'RECOVERING');
  meta = { ...meta, ...o.become!.patch, status: 'RECOVERING' };
  o = core.step({ type: 'status', metadata: meta }, 0);
  const kinds: string[] = [];
  for (let round = 0, now = 0; round < 6; round++) {
    // Only r2 records the disk (r3 went away, say: the configuration changed meanwhile).
    kinds.push([...new Set(o.send.map((s) => s.msg.type))].join(','));
    const j = rid;
    core.step({ type: 'reply', from: 2, msg: { type: 'rejoinReply', rid: j, outcome: 'accept', status: 'VOTING', begin: 0, end: 5, generation: 1, disk: 1 } satisfies RejoinReply }, now);
    now += 1_000;
    o = core.step({ type: 'tick' }, now);
  }
  assert.deepEqual(kinds.slice(0, 4), ['rejoin', 'rejoin', 'rejoin', 'rejoin']);
  assert.equal(kinds[4], 'recover', 'the fifth round queries again');
  assert.equal(core.phaseKind, 'query');
});

// ------------------------------------------------------------------ a found chain never overwrites a newer stored one

test('a rejoin stores the chain discovery found only if it is still newer than the stored one (a config entry learned meanwhile stays chained)', () => {
  // --changes seed 142: r3, RECOVERING after a crash, found the chain through epoch 1 from a peer's links,
  // learned epoch 2's entry from a commit while it waited for a quorum, then stored the found chain over it:
  // learned through 1536 with a chain that lacks the entry there (I8).
  const c0 = config0([1, 2, 3], [4]);
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 2, 3].map(member), learners: [], nextId: 5, position: 4, floor: 2 };
  const c2: PlacedConfiguration = { epoch: 2, voters: [1, 2, 3].map(member), learners: [], nextId: 5, position: 8, floor: 3 };
  let chain: PlacedConfiguration[] = [c0];
  const view = (q: number) => [...chain].reverse().find((c) => c.position < q) ?? chain[0]!;
  let rid = 0;
  const meta: Metadata = { status: 'RECOVERING', promised: 0, incarnation: 'i', configs: [c0] };
  const core = new RecoveryCore({ self: 1, view, metadata: meta, end: 7, random: () => 0.5, rid: () => ++rid, rules: ALL_RULES_ON }, 0);
  core.step({ type: 'tick' }, 0);
  const q = rid;
  let o = core.step({ type: 'reply', from: 2, msg: reply({ rid: q, end: 8, config: { epoch: 1, position: 4 }, links: [c1] }) }, 0);
  assert.equal(o.become, undefined, 'one answer is not a quorum');
  chain = [c0, c1, c2]; // a commit taught the store epoch 2's entry, chained
  o = core.step({ type: 'reply', from: 3, msg: reply({ rid: q, end: 8, config: { epoch: 1, position: 4 } }) }, 0);
  assert.equal(o.become?.status, 'RECOVERING');
  const stored = o.become!.patch.configs;
  assert.ok(stored === undefined || stored.at(-1)!.epoch === 2, `the stored chain through epoch 2 kept, not replaced by [${stored?.map((c) => c.epoch).join(', ')}]`);
});
