// Issue 11 (mutation testing of src/core/recovery.ts): scripted tests of the recovery core alone, one rule
// each, aimed at mutants that survived Stryker: R7's removed-replica bounds, R13 seeds (expiry, admission to a
// round), round timing, the newerHead guards, the restart check's timing, the start decision's guards, the
// rejoin's recording and the R11 quiet period of a one-voter founder. No wall clock: every `now` is given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timing } from '../../src/core/constants.js';
import { chainView, type ConfigView } from '../../src/core/config-view.js';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import { RecoveryCore, type RecoveryConfig, type RecoveryOutput } from '../../src/core/recovery.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import type { Metadata, RecoverReply, RejoinReply } from '../../src/core/types.js';
import { config0, member } from './reconfig-harness.js';

function reply(o: Partial<RecoverReply> = {}): RecoverReply {
  return {
    type: 'recoverReply', rid: 1, status: 'VOTING', begin: 0, end: 5, incarnation: 'p', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0,
    recorded: [], ...o,
  };
}

function rejoinReply(o: Partial<RejoinReply> = {}): RejoinReply {
  return { type: 'rejoinReply', rid: 1, outcome: 'accept', status: 'VOTING', begin: 0, end: 5, generation: 1, disk: 1, ...o };
}

const view = (c: PlacedConfiguration): ConfigView => () => c;

type Cfg = Partial<Omit<RecoveryConfig, 'metadata'>> & { metadata?: Partial<Metadata> };

/** A recovery core with its shell: `rid` counts rounds, `apply` persists a `become` and reports it back. */
class Driver {
  rid = 0;
  meta: Metadata;
  readonly core: RecoveryCore;
  constructor(cfg: Cfg, now = 0) {
    this.meta = { status: 'EMPTY', promised: 0, incarnation: 'i1', ...cfg.metadata };
    const base = { self: 1, end: -1, random: () => 0, rid: () => ++this.rid, roundMs: 100 };
    const c = { ...base, ...cfg, metadata: this.meta } as RecoveryConfig;
    if (c.view === undefined && c.members === undefined) (c as { members?: number[] }).members = [1, 2, 3];
    this.core = new RecoveryCore(c, now);
  }
  tick(now: number): RecoveryOutput {
    return this.core.step({ type: 'tick' }, now);
  }
  reply(from: number, msg: Partial<RecoverReply> = {}, now = 0): RecoveryOutput {
    return this.core.step({ type: 'reply', from, msg: reply({ rid: this.rid, ...msg }) }, now);
  }
  rejoin(from: number, msg: Partial<RejoinReply> = {}, now = 0): RecoveryOutput {
    return this.core.step({ type: 'reply', from, msg: rejoinReply({ rid: this.rid, ...msg }) }, now);
  }
  newer(from: number, epoch: number, now = 0): RecoveryOutput {
    return this.core.step({ type: 'newerHead', from, epoch }, now);
  }
  /** Persists `out.become` (if any) and reports the status: returns the core's answer to it. */
  apply(out: RecoveryOutput, now = 0): RecoveryOutput {
    assert.ok(out.become, `expected a become, got ${JSON.stringify(out)}`);
    this.meta = { ...this.meta, ...out.become.patch, status: out.become.status };
    return this.core.step({ type: 'status', metadata: this.meta }, now);
  }
}

const to = (out: RecoveryOutput): number[] => out.send.map((s) => s.to);

/** r1 RECOVERING in {1,2,3}: a quorum answered VOTING, the new disk is persisted; returns the driver in its rejoin round. */
function rejoining(cfg: Cfg = {}): Driver {
  const d = new Driver({ ...cfg, metadata: { status: 'RECOVERING', ...cfg.metadata } });
  d.tick(0);
  d.reply(2);
  const out = d.reply(3);
  d.apply(out);
  assert.equal(d.core.phaseKind, 'rejoin');
  return d;
}

// ------------------------------------------------------------------ construction, R7 bounds

test('a recovery takes exactly one of a view and a member list (two sources of membership could disagree)', () => {
  assert.throws(() => new RecoveryCore({ self: 1, members: [1, 2, 3], view: view(config0([1, 2, 3])), metadata: { status: 'EMPTY', promised: 0, incarnation: 'x' }, end: -1, random: () => 0, rid: () => 1 }, 0));
});

test('R7 at start: an id below nextId missing from an epoch>0 configuration was removed; it never votes (checking holds its votes if it was VOTING)', () => {
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 3, 4].map(member), learners: [], nextId: 5, position: 2, floor: 3 };
  const d = new Driver({ self: 2, view: view(c1), metadata: { status: 'VOTING' } });
  assert.equal(d.core.removed, true);
  assert.equal(d.core.checking, true, 'a removed VOTING replica keeps holding its votes');
  const r = new Driver({ self: 2, view: view(c1), metadata: { status: 'RECOVERING' } });
  assert.equal(r.core.removed, true);
  assert.equal(r.core.checking, false, 'a removed replica that never voted has no votes to hold: not checking');
  assert.deepEqual(r.tick(0).send, [], 'a removed replica runs no rounds');
});

test('R7 bound epoch > 0: an id missing from the bootstrap configuration (epoch 0) was never removed (ids are given out at bootstrap, and may be joiners)', () => {
  const d = new Driver({ self: 2, view: view(config0([1, 3])) }); // nextId 4: 2 < nextId, yet epoch 0
  assert.equal(d.core.removed, false);
  assert.equal(d.core.phaseKind, 'init');
});

test('R7 bound self < nextId: an id at nextId of an epoch 1 configuration was never listed (a joiner whose chain starts before its add): not removed', () => {
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 2, 3].map(member), learners: [], nextId: 4, position: 2, floor: 3 };
  const d = new Driver({ self: 4, view: view(c1), metadata: { status: 'RECOVERING' } });
  assert.equal(d.core.removed, false);
  assert.equal(d.core.phaseKind, 'query');
});

test('a replica that starts VOTING alone (no peer) or with the restart check off votes at once: there is nobody to ask', () => {
  assert.equal(new Driver({ members: [1], metadata: { status: 'VOTING' } }).core.done, true);
  const off = new Driver({ restartCheck: false, metadata: { status: 'VOTING' } });
  assert.equal(off.core.done, true);
  assert.equal(off.core.checking, false, 'a replica done checking does not hold its votes');
  assert.deepEqual(off.tick(0).send, [], 'done: ticks start no recover rounds');
  assert.equal(off.core.removed, false);
});

// ------------------------------------------------------------------ events: status, tick, reply guards

test('a status reported to a removed replica does not revive it (R7: for good)', () => {
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 3, 4].map(member), learners: [], nextId: 5, position: 2, floor: 3 };
  const d = new Driver({ self: 2, view: view(c1), metadata: { status: 'RECOVERING' } });
  const out = d.core.step({ type: 'status', metadata: { status: 'VOTING', promised: 0, incarnation: 'i1' } }, 0);
  assert.equal(d.core.removed, true);
  assert.deepEqual(out.send, []);
});

test('VOTING persisted ends recovery (done): no further rounds on ticks', () => {
  const d = new Driver({ members: [1], metadata: { status: 'EMPTY' } });
  const out = d.tick(timing.soloStartQuietMs);
  assert.equal(out.become?.status, 'STARTING');
  const out2 = d.apply(out, timing.soloStartQuietMs);
  assert.equal(out2.become?.status, 'VOTING');
  d.apply(out2, timing.soloStartQuietMs);
  assert.equal(d.core.done, true);
  assert.deepEqual(d.tick(timing.soloStartQuietMs + 10_000).send, [], 'a done recovery sends nothing');
});

test('round timing: the next round starts at roundMs * (1 + random) after the last, not before (uniform in [roundMs, 2 roundMs))', () => {
  const d = new Driver({ roundMs: 100, random: () => 0.25 }, 1000);
  assert.deepEqual(to(d.tick(1000)), [2, 3]);
  assert.deepEqual(d.tick(1124).send, [], 'not before 1000 + 100 * 1.25');
  assert.deepEqual(to(d.tick(1125)), [2, 3], 'at 1125 exactly the next round starts');
});

test('a reply from an older round (stale rid) or from a stranger is ignored: only this round\'s peers decide', () => {
  const d = new Driver({});
  d.tick(0);
  const stale = d.core.step({ type: 'reply', from: 2, msg: reply({ rid: d.rid + 7 }) }, 0);
  assert.equal(d.core.phaseKind, 'init', 'a VOTING reply of another round would have sent an EMPTY replica to rejoin');
  assert.equal(stale.waiting, undefined);
  d.reply(9); // r9: not a member, not a seed
  assert.equal(d.core.phaseKind, 'init', 'a stranger\'s VOTING answer does not count');
});

test('a reply before any round (nothing asked yet) is ignored', () => {
  const d = new Driver({});
  assert.deepEqual(d.core.step({ type: 'reply', from: 2, msg: reply() }, 0), { send: [] });
});

test('catchUpFailed outside a catch-up is ignored: it must not restart a query from another phase', () => {
  const d = new Driver({});
  d.tick(0);
  const out = d.core.step({ type: 'catchUpFailed' }, 0);
  assert.equal(d.core.phaseKind, 'init');
  assert.deepEqual(out.send, []);
});

test('once a become is out, ticks start no rounds until the shell reports the status (the round would decide again)', () => {
  const d = new Driver({});
  d.tick(0);
  d.reply(2, { status: 'EMPTY', end: -1 });
  const out = d.reply(3, { status: 'EMPTY', end: -1 });
  assert.equal(out.become?.status, 'STARTING');
  assert.deepEqual(d.tick(5_000), { send: [] });
});

test('the same waiting reason is said once, not on every decision', () => {
  const d = new Driver({});
  const first = d.tick(0);
  assert.match(first.waiting ?? '', /heard from 1 of 3/);
  assert.equal(d.tick(1_000).waiting, undefined);
});

// ------------------------------------------------------------------ R13 seeds and newerHead

test('R13: a newer head gossiped during an open recover round is asked at once, in that round', () => {
  const d = new Driver({});
  d.tick(0);
  const out = d.newer(9, 3);
  assert.deepEqual(out.send.map((s) => [s.to, s.msg.rid]), [[9, d.rid]]);
});

test('R13 guards: gossip from itself, or of a head no newer than the latest known, is no seed', () => {
  const d = new Driver({});
  d.tick(0);
  assert.deepEqual(d.newer(1, 5).send, [], 'its own gossip (echoed) is not a seed');
  assert.deepEqual(d.newer(9, 0).send, [], 'epoch 0 is no newer than the latest known (0)');
  assert.deepEqual(to(d.tick(100)), [2, 3], 'neither joins the next round');
});

test('R11 + R13: a one-voter founder that heard only its own gossip still starts after the quiet period', () => {
  const d = new Driver({ members: [1] });
  d.newer(1, 4);
  assert.equal(d.tick(timing.soloStartQuietMs).become?.status, 'STARTING');
});

test('R13: a seed keeps the epoch it claimed (kept while latest is below it), and is asked by the following rounds', () => {
  const d = new Driver({});
  d.tick(0);
  d.newer(9, 3);
  d.reply(2, { status: 'EMPTY', end: -1 }); // a decision: setLatest drops the seeds at or below latest
  assert.deepEqual(to(d.tick(100)), [2, 3, 9]);
});

test('R13: a seed that is a peer already is asked once per round, not twice', () => {
  const d = new Driver({});
  d.tick(0);
  d.newer(2, 3);
  assert.deepEqual(to(d.tick(100)), [2, 3]);
});

test('R13 expiry: a seed not heard from for more than SEED_HEARD_MS (10 peerStates) leaves the rounds; until then it stays', () => {
  const heard = 10 * timing.peerStateMs;
  const d = new Driver({ roundMs: 1 });
  d.tick(0);
  d.newer(9, 3, 1000);
  assert.deepEqual(to(d.tick(1000 + heard)), [2, 3, 9], 'heard exactly SEED_HEARD_MS ago: still a seed');
  assert.deepEqual(to(d.tick(1001 + heard)), [2, 3], 'silent longer: dropped');
});

test('R13: a seed leaves once the latest configuration reached its epoch (it told what it knew)', () => {
  const c0 = config0([1, 2, 3], [4, 5]);
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 4, 5].map(member), learners: [], nextId: 6, position: 2, floor: 3 };
  const d = new Driver({ view: view(c0), metadata: { status: 'RECOVERING', configs: [c0] } });
  d.tick(0);
  d.newer(9, 1);
  d.reply(2, { config: { epoch: 1, position: 2 }, links: [c1] });
  assert.deepEqual(to(d.tick(100)), [4, 5], 'r9 claimed epoch 1, now reached');
  assert.deepEqual(d.reply(4, { config: { epoch: 1, position: 2 } }).send, [], 'discovery never moves back: an answer without links leaves it at epoch 1');
  assert.deepEqual(to(d.tick(200)), [4, 5]);
});

test('R13: a seed\'s answer counts in discovery (it is how a replica left behind finds the newer configuration)', () => {
  const c0 = config0([1, 2, 3], [4, 5]);
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 4, 5].map(member), learners: [], nextId: 6, position: 2, floor: 3 };
  const d = new Driver({ view: view(c0), metadata: { status: 'RECOVERING', configs: [c0] } });
  d.tick(0);
  d.newer(4, 1);
  const out = d.reply(4, { config: { epoch: 1, position: 2 }, links: [c1] });
  assert.deepEqual(to(out), [5], 'the newer configuration\'s other voter is asked at once');
});

test('R13: a rejoin (recording) round neither asks seeds nor admits their answers: a disk is recorded only by the configurations discovery settled on', () => {
  const d = rejoining();
  assert.deepEqual(d.newer(9, 5).send, [], 'not asked at once in a rejoin round');
  assert.equal(d.core.phaseKind, 'rejoin');
  d.rejoin(9, { outcome: 'reject', generation: 7 });
  assert.equal(d.core.phaseKind, 'rejoin', 'a seed refusing the recording does not restart the rejoin');
  d.core.step({ type: 'catchUpFailed' }, 0); // (ignored: not catching up)
  assert.deepEqual(to(d.tick(100)), [2, 3], 'the next recording round asks the voters only');
});

test('a rejoinReply answering a recover round does not count as a VOTING answer to the query', () => {
  const d = new Driver({ metadata: { status: 'RECOVERING' } });
  d.tick(0);
  d.rejoin(2);
  const out = d.rejoin(3);
  assert.equal(out.become, undefined);
});

// ------------------------------------------------------------------ the restart check

test('restart check: an answer at exactly the deadline with a quorum passes it (until is inclusive)', () => {
  const d = new Driver({ metadata: { status: 'VOTING' } });
  d.tick(0);
  const out = d.reply(2, {}, timing.restartCheckMs);
  assert.equal(out.checked, true);
  assert.equal(d.core.done, true);
});

test('restart check: the deadline passes it on a tick even when no round is due, and that tick asks nobody', () => {
  const d = new Driver({ metadata: { status: 'VOTING' }, roundMs: 1000 });
  d.tick(0);
  d.reply(2, {}, 10);
  d.tick(1500); // a round at 1500, next at 2500
  const out = d.tick(timing.restartCheckMs);
  assert.equal(out.checked, true);
  assert.deepEqual(out.send, [], 'the check is over: no recover round after it');
});

test('restart check: short of a quorum at the deadline it keeps asking, and says how many peers it needs', () => {
  const d = new Driver({ members: [1, 2, 3, 4, 5], metadata: { status: 'VOTING' } });
  d.tick(0);
  d.reply(2, {}, 10);
  const out = d.tick(timing.restartCheckMs);
  assert.equal(out.checked, undefined);
  assert.match(out.waiting ?? '', /1 of the 2 peers needed/);
});

test('restart check: a peer that saw this disk further along unmasks a restored copy, and the reason names that peer', () => {
  const d = new Driver({ metadata: { status: 'VOTING' }, end: 3 });
  d.tick(0);
  const out = d.reply(3, { witness: { generation: 0, disk: 0, promised: 0, end: 9 } });
  assert.equal(out.become?.status, 'RECOVERING');
  assert.match(out.waiting ?? '', /went back in time: r3 saw this disk reach/);
});

test('R9d: once discovery finds a newer configuration, the restart check still waits for its stored configuration\'s voters (they may have seen this disk)', () => {
  const c0 = config0([1, 2, 3], [4, 5]);
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 4, 5].map(member), learners: [], nextId: 6, position: 2, floor: 3 };
  const d = new Driver({ view: view(c0), metadata: { status: 'VOTING', configs: [c0] } });
  d.tick(0);
  assert.match(d.reply(2, { config: { epoch: 1, position: 2 }, links: [c1] }).waiting ?? '', /configuration is at epoch 1 \(voters 1, 4, 5\)/);
  d.reply(4, { config: { epoch: 1, position: 2 } });
  const out = d.reply(5, { config: { epoch: 1, position: 2 } });
  assert.equal(out.checked, undefined, 'r3 has not answered and the check has time left');
  assert.equal(d.core.checking, true);
});

test('restart check: a pending configuration does not widen the check (discovery there is without pending)', () => {
  const c0 = config0([1, 2, 3], [4]);
  const pend = { position: 7, proposal: 4, config: { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5 } };
  const d = new Driver({ view: view(c0), metadata: { status: 'VOTING', configs: [c0] } });
  d.tick(0);
  const out = d.reply(2, { pending: pend, learnedThrough: 5 });
  assert.ok(!to(out).includes(4));
});

// ------------------------------------------------------------------ the start decision (EMPTY / STARTING)

test('R11 quiet period: a one-voter founder starts only after soloStartQuietMs from its own start, not before', () => {
  const t0 = 1000;
  const d = new Driver({ members: [1], roundMs: 1 }, t0);
  assert.equal(d.tick(t0 + timing.soloStartQuietMs - 1).become, undefined);
  assert.equal(d.tick(t0 + timing.soloStartQuietMs).become?.status, 'STARTING');
});

test('R11 quiet period: the wait is said in seconds', () => {
  const d = new Driver({ members: [1] });
  assert.match(d.tick(0).waiting ?? '', new RegExp(`after ${timing.soloStartQuietMs / 1000} s`));
});

test('R11: a several-voter start does not wait the quiet period (its peers answer for the cluster)', () => {
  const d = new Driver({});
  d.tick(0);
  d.reply(2, { status: 'EMPTY', end: -1 });
  assert.equal(d.reply(3, { status: 'EMPTY', end: -1 }).become?.status, 'STARTING');
});

test('R11 + R13: a one-voter founder that heard of a newer configuration never starts alone, even after the quiet period', () => {
  const d = new Driver({ members: [1] });
  d.tick(0);
  d.newer(9, 2);
  const out = d.tick(timing.soloStartQuietMs * 2);
  assert.equal(out.become, undefined);
});

test('R7 in init: an answer saying this id was removed stops the start decision for good', () => {
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 3].map(member), learners: [], nextId: 4, position: 2, floor: 3 };
  const d = new Driver({ self: 2, members: [1, 2] });
  d.tick(0);
  const out = d.reply(1, { removed: c1 });
  assert.equal(d.core.removed, true);
  assert.equal(out.removed?.epoch, 1);
  assert.equal(out.become, undefined);
});

test('R9b in init: a pending configuration\'s voters are not asked by the start decision (discovery there is without pending)', () => {
  const c0 = config0([1, 2, 3], [4]);
  const pend = { position: 7, proposal: 4, config: { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5 } };
  const d = new Driver({ view: view(c0), metadata: { configs: [c0] } });
  d.tick(0);
  assert.ok(!to(d.reply(2, { status: 'EMPTY', end: -1, pending: pend, learnedThrough: 5 })).includes(4));
});

test('R9e: a learner never takes part in starting a cluster, even when every voter is EMPTY', () => {
  const d = new Driver({ self: 4, view: view(config0([1, 2, 3], [4])) });
  d.tick(0);
  let out: RecoveryOutput = { send: [] };
  for (const from of [1, 2, 3]) out = d.reply(from, { status: 'EMPTY', end: -1 });
  assert.equal(out.become, undefined);
  assert.equal(d.core.phaseKind, 'query');
});

test('R11: a STARTING replica not started with --bootstrap still completes the start it joined', () => {
  const v = { 1: 'i1', 2: 'i2', 3: 'i3' };
  const sv = Object.entries(v).map(([id, incarnation]) => ({ id: Number(id), incarnation }));
  const d = new Driver({ mayStart: false, metadata: { status: 'STARTING', startView: v } });
  d.tick(0);
  d.reply(2, { status: 'STARTING', end: -1, incarnation: 'i2', startView: sv });
  assert.equal(d.reply(3, { status: 'STARTING', end: -1, incarnation: 'i3', startView: sv }).become?.status, 'VOTING');
});

test('R11: an EMPTY replica not started with --bootstrap says how many peers it heard while waiting', () => {
  const d = new Driver({ mayStart: false });
  d.tick(0);
  assert.match(d.reply(2, { status: 'EMPTY', end: -1 }).waiting ?? '', /heard from 1 of 2 peers/);
});

test('no start over data: a member that truncated its whole log (begin > 0, end -1) holds the cluster\'s data', () => {
  const d = new Driver({});
  d.tick(0);
  d.reply(2, { status: 'EMPTY', end: -1 });
  const out = d.reply(3, { status: 'STARTING', end: -1, begin: 4 });
  assert.equal(out.become, undefined);
  assert.match(out.waiting ?? '', /will not start an empty log: r3/);
});

test('a STARTING member with a generation (it joined the start with damaged metadata) holds no data: the start goes on', () => {
  const d = new Driver({});
  d.tick(0);
  d.reply(2, { status: 'EMPTY', end: -1 });
  assert.equal(d.reply(3, { status: 'STARTING', end: -1, generation: 2, incarnation: 'i3', startView: [{ id: 1, incarnation: 'i1' }, { id: 2, incarnation: 'p' }, { id: 3, incarnation: 'i3' }] }).become?.status, 'STARTING');
});

test('no start over a quorum that may have voted: two RECOVERING members of three holding nothing', () => {
  const d = new Driver({});
  d.tick(0);
  d.reply(2, { status: 'RECOVERING', end: -1 });
  const out = d.reply(3, { status: 'RECOVERING', end: -1 });
  assert.equal(out.become, undefined);
  assert.match(out.waiting ?? '', /may have voted/);
});

test('an EMPTY member counts as never voted if any STARTING member saw its current incarnation (one vouching is enough)', () => {
  const view5 = { 1: 'i1', 2: 'i2', 3: 'i3', 4: 'i4', 5: 'i5' };
  const d = new Driver({ members: [1, 2, 3, 4, 5], metadata: { status: 'STARTING', startView: view5 } });
  d.tick(0);
  d.reply(2, { status: 'STARTING', end: -1, incarnation: 'i2', startView: [{ id: 1, incarnation: 'i1' }, { id: 2, incarnation: 'i2' }] });
  let out: RecoveryOutput = { send: [] };
  for (const id of [3, 4, 5]) out = d.reply(id, { status: 'EMPTY', end: -1, incarnation: `i${id}` });
  assert.equal(out.become, undefined);
  assert.match(out.waiting ?? '', /2 of 5 members are STARTING/);
});

test('a RECOVERING member joining a start (damaged metadata) takes a generation above every one recorded for it', () => {
  const d = new Driver({ metadata: { status: 'RECOVERING', generation: 0 } });
  d.tick(0);
  d.reply(2, { status: 'EMPTY', end: -1, memberGeneration: 4 });
  const out = d.reply(3, { status: 'EMPTY', end: -1, memberGeneration: 1 });
  assert.equal(out.become?.status, 'STARTING');
  assert.equal(out.become?.patch.generation, 5);
  assert.match(out.waiting ?? '', /joining the start of a new cluster/, 'the reason is the start it joins, not a rejoin wait');
});

function allStarting(peerViews: (readonly { id: number; incarnation: string }[] | undefined)[]): RecoveryOutput {
  const v = { 1: 'i1', 2: 'i2', 3: 'i3' };
  const d = new Driver({ metadata: { status: 'STARTING', startView: v } });
  d.tick(0);
  d.reply(2, { status: 'STARTING', end: -1, incarnation: 'i2', ...(peerViews[0] ? { startView: peerViews[0] } : {}) });
  return d.reply(3, { status: 'STARTING', end: -1, incarnation: 'i3', ...(peerViews[1] ? { startView: peerViews[1] } : {}) });
}
const full = [{ id: 1, incarnation: 'i1' }, { id: 2, incarnation: 'i2' }, { id: 3, incarnation: 'i3' }];

test('STARTING -> VOTING only when every member is STARTING with the very same start view', () => {
  assert.equal(allStarting([full, full]).become?.status, 'VOTING');
  assert.equal(allStarting([full, [{ id: 1, incarnation: 'i1' }, { id: 2, incarnation: 'i2' }, { id: 3, incarnation: 'old' }]]).become, undefined, 'r3 saw another incarnation of r3');
  assert.equal(allStarting([full, [{ id: 1, incarnation: 'i1' }, { id: 2, incarnation: 'i2' }]]).become, undefined, 'r3\'s view lacks a member');
  assert.equal(allStarting([full, undefined]).become, undefined, 'r3 reports no view');
});

test('an EMPTY replica that saw the cluster hold data never starts one later, even if its peers then answer EMPTY', () => {
  const d = new Driver({});
  d.tick(0);
  d.reply(2);
  assert.equal(d.core.phaseKind, 'query');
  d.tick(100);
  d.reply(2, { status: 'EMPTY', end: -1 });
  assert.equal(d.reply(3, { status: 'EMPTY', end: -1 }).become, undefined);
});

// ------------------------------------------------------------------ the rejoin

test('a recover request carries the stored head when the replica stores a chain (the replier then sends only the links above it)', () => {
  const c0 = config0([1, 2, 3]);
  const d = new Driver({ view: view(c0), metadata: { status: 'RECOVERING', configs: [c0] } });
  const out = d.tick(0);
  assert.deepEqual((out.send[0]!.msg as { config?: unknown }).config, { epoch: 0, position: -1 });
});

test('R9a: a replica configured by member list stores the chain discovery found (anything is newer than no stored chain)', () => {
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5, position: 2, floor: 3 };
  const d = new Driver({ metadata: { status: 'RECOVERING' } });
  d.tick(0);
  const asked = d.reply(2, { config: { epoch: 1, position: 2 }, links: [config0([1, 2, 3]), c1] });
  assert.deepEqual(to(asked), [4], 'r2 was asked already in this round: only r4 is asked now');
  const out = d.reply(4, { config: { epoch: 1, position: 2 } });
  assert.equal(out.become?.status, 'RECOVERING');
  assert.deepEqual(out.become?.patch.configs?.map((c) => c.epoch), [0, 1]);
});

test('R9a/I8: a chain found no newer than the stored one (it moved on meanwhile) is not stored over it', () => {
  const c0 = config0([1, 2, 3]);
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5, position: 2, floor: 3 };
  let head: PlacedConfiguration[] = [c0];
  const v: ConfigView = (q) => (head.length > 1 && q > c1.position ? c1 : c0);
  const d = new Driver({ view: v, metadata: { status: 'RECOVERING', configs: [c0] } });
  d.tick(0);
  d.reply(2, { config: { epoch: 1, position: 2 }, links: [c1] });
  head = [c0, c1];
  const out = d.reply(4, { config: { epoch: 1, position: 2 } });
  assert.equal(out.become?.status, 'RECOVERING');
  assert.equal(out.become?.patch.configs, undefined);
});

test('R9b: a pending configuration\'s voters are asked at once, and the rejoin waits for a quorum of them too', () => {
  const c0 = config0([1, 2, 3], [4]);
  const pend = { position: 7, proposal: 4, config: { epoch: 1, voters: [1, 3, 4].map(member), learners: [], nextId: 5 } };
  const d = new Driver({ view: view(c0), metadata: { status: 'RECOVERING', configs: [c0] } });
  d.tick(0);
  assert.deepEqual(to(d.reply(2, { pending: pend, learnedThrough: 5 })), [4]);
  const wait = d.reply(2, { pending: pend, learnedThrough: 5 }); // (again) quorum of {1,2,3}: 2 only
  assert.equal(wait.become, undefined);
  const partial = d.reply(4, { status: 'EMPTY', pending: pend, learnedThrough: 5 }); // r2 VOTING, r4 EMPTY
  assert.equal(partial.become, undefined, 'one VOTING voter of {1,2,3}: no quorum');
  const out = d.reply(2, { pending: pend, learnedThrough: 5 });
  assert.equal(out.become, undefined);
  // r3 (voter of both): latest quorum {2,3}; pending {1,3,4}: 3 and 4 answered.
  const done = d.reply(3, { pending: pend, learnedThrough: 5 });
  assert.equal(done.become?.status, 'RECOVERING');
});

test('R9b: a quorum of the latest configuration alone does not record a disk while a pending configuration lacks one', () => {
  const c0 = config0([1, 2, 3], [4, 5]);
  const pend = { position: 7, proposal: 4, config: { epoch: 1, voters: [1, 4, 5].map(member), learners: [], nextId: 6 } };
  const d = new Driver({ view: view(c0), metadata: { status: 'RECOVERING', configs: [c0] } });
  d.tick(0);
  d.reply(2, { pending: pend, learnedThrough: 5 });
  const out = d.reply(3, { pending: pend, learnedThrough: 5 });
  assert.equal(out.become, undefined);
  assert.match(out.waiting ?? '', /pending configuration \(epoch 1: 0 of 2 answered\)/);
});

test('the new disk\'s patch names recorded disks only when some were adopted (an absent table must not erase the stored one)', () => {
  const d = new Driver({ metadata: { status: 'RECOVERING', recorded: { 2: { generation: 3, disk: 9 } } } });
  d.tick(0);
  d.reply(2);
  const out = d.reply(3);
  assert.ok(out.become && !('recorded' in out.become.patch), JSON.stringify(out.become));
});

test('R7 in a rejoin: any recording answer naming the configuration that removed this id stops it, whichever answer carries it', () => {
  const c1: PlacedConfiguration = { epoch: 1, voters: [2, 3].map(member), learners: [], nextId: 4, position: 2, floor: 3 };
  const d = rejoining();
  d.rejoin(2);
  const out = d.rejoin(3, { removed: c1 });
  assert.equal(d.core.removed, true);
  assert.equal(out.removed?.epoch, 1);
  assert.equal(out.catchUp, undefined);
});

test('a rejoin counts only recordings (accept): an ignored answer is no recording', () => {
  const d = rejoining();
  d.rejoin(2);
  const out = d.rejoin(3, { outcome: 'ignored' });
  assert.equal(out.catchUp, undefined);
  assert.equal(d.core.phaseKind, 'rejoin');
});

test('a rejoin catches up from the highest begin reported (positions below it were truncated: nothing to learn there)', () => {
  const d = rejoining();
  d.rejoin(2, { begin: 3, end: 8 });
  const out = d.rejoin(3, { begin: 0, end: 6 });
  assert.deepEqual(out.catchUp, { from: 3, to: 8 });
  assert.deepEqual(d.tick(10_000).send, [], 'while catching up, ticks start no rounds (the catch-up runs its own)');
});

test('R7 after catching up: a configuration learned meanwhile that removed this id (epoch > 0, id < nextId) keeps it out', () => {
  const c0 = config0([1, 2, 3]);
  const c1: PlacedConfiguration = { epoch: 1, voters: [2, 3, 4].map(member), learners: [], nextId: 5, position: 2, floor: 3 };
  let cur = c0;
  const d = rejoining({ view: () => cur, metadata: { configs: [c0] } });
  d.rejoin(2);
  d.rejoin(3);
  cur = c1;
  const out = d.core.step({ type: 'caughtUp' }, 0);
  assert.equal(d.core.removed, true);
  assert.equal(out.become, undefined);
});

test('R7 bound epoch > 0 after catching up: an id missing from the bootstrap configuration is not removed; it votes', () => {
  const c0 = config0([1, 3]); // nextId 4; r2 is not listed, yet epoch 0
  const d = new Driver({ self: 2, view: view(c0), metadata: { status: 'RECOVERING', configs: [c0] } });
  d.tick(0);
  d.reply(1);
  d.apply(d.reply(3));
  d.rejoin(1);
  assert.ok(d.rejoin(3).catchUp);
  const out = d.core.step({ type: 'caughtUp' }, 0);
  assert.equal(d.core.removed, false);
  assert.equal(out.become?.status, 'VOTING');
});

test('R7 bound id < nextId after catching up: a joiner at nextId of an epoch 1 configuration is not removed; it votes', () => {
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 2, 3].map(member), learners: [], nextId: 4, position: 2, floor: 3 };
  const d = new Driver({ self: 4, view: view(c1), metadata: { status: 'RECOVERING', configs: [config0([1, 2, 3]), c1] } });
  d.tick(0);
  d.reply(1, { config: { epoch: 1, position: 2 } });
  d.apply(d.reply(2, { config: { epoch: 1, position: 2 } }));
  d.rejoin(1);
  assert.ok(d.rejoin(2).catchUp);
  const out = d.core.step({ type: 'caughtUp' }, 0);
  assert.equal(d.core.removed, false);
  assert.equal(out.become?.status, 'VOTING');
});

test('a catch-up failure reported after the VOTING become is out starts no new round (the become is in flight)', () => {
  const d = rejoining();
  d.rejoin(2);
  d.rejoin(3);
  assert.equal(d.core.step({ type: 'caughtUp' }, 0).become?.status, 'VOTING');
  assert.deepEqual(d.core.step({ type: 'catchUpFailed' }, 0).send, []);
});

test('a STARTING disk joining a started cluster adds no recorded table when nothing newer was heard (an absent field must not erase the stored one)', () => {
  const d = new Driver({ metadata: { status: 'STARTING', startView: { 1: 'i1', 2: 'i2', 3: 'i3' } } });
  d.tick(0);
  d.reply(2);
  const out = d.reply(3);
  assert.equal(out.become?.status, 'VOTING');
  assert.deepEqual(out.become?.patch, {});
});

test('a RECOVERING replica whose only VOTING answer is a seed\'s (no member VOTING) keeps waiting; it starts no new round on it', () => {
  const d = new Driver({ metadata: { status: 'RECOVERING' } });
  d.tick(0);
  d.newer(9, 3);
  const out = d.reply(9, { status: 'VOTING' });
  assert.deepEqual(out.send, []);
  assert.equal(d.core.phaseKind, 'query');
});

test('no start over lost disks: the refusal names the members whose disk changed since the start (to bring back)', () => {
  const d = new Driver({ metadata: { status: 'STARTING', startView: { 1: 'i1', 2: 'old2', 3: 'old3' } } });
  d.tick(0);
  d.reply(2, { status: 'EMPTY', end: -1, incarnation: 'i2' });
  const out = d.reply(3, { status: 'EMPTY', end: -1, incarnation: 'i3' });
  assert.equal(out.become, undefined);
  assert.match(out.waiting ?? '', /will not start an empty log: r2, r3 lost the disk/);
});

test('no start over data: the refusal names who holds it and in what status', () => {
  const d = new Driver({});
  d.tick(0);
  d.reply(2, { status: 'EMPTY', end: -1 });
  assert.match(d.reply(3, { status: 'STARTING', end: 4 }).waiting ?? '', /will not start an empty log: r3 \(STARTING\) hold/);
});

test('a recoverReply answering a rejoin round is not a recording answer (its `removed` or outcome do not count there)', () => {
  const c1: PlacedConfiguration = { epoch: 1, voters: [2, 3].map(member), learners: [], nextId: 4, position: 2, floor: 3 };
  const d = rejoining();
  d.reply(2, { removed: c1 });
  assert.equal(d.core.removed, false);
  assert.equal(d.core.phaseKind, 'rejoin');
});

/** R9f: r1 rejoins while {1,2,3} -> {1,2,4} is pending at `position`; recorded by both; returns the driver in its catch-up. */
function pendingRejoin(position: number, learned?: () => number): Driver {
  const c0 = config0([1, 2, 3], [4]);
  const pend = { position, proposal: 4, config: { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5 } };
  const d = new Driver({ view: view(c0), metadata: { status: 'RECOVERING', configs: [c0] }, ...(learned ? { learnedThrough: learned } : {}) });
  d.tick(0);
  let out: RecoveryOutput = { send: [] };
  for (const from of [2, 3, 4]) out = d.reply(from, { end: position, learnedThrough: position - 1, ...(from !== 3 ? { pending: pend } : {}) });
  d.apply(out);
  for (const from of [2, 3, 4]) out = d.rejoin(from, { end: position });
  assert.ok(out.catchUp, 'catching up');
  return d;
}

test('R9f: a pending entry\'s fate still unknown after PENDING_CATCH_UPS_MAX catch-ups restarts the rejoin; it never votes without it', () => {
  const d = pendingRejoin(7, () => 6);
  for (let i = 0; i < 3; i++) assert.deepEqual(d.core.step({ type: 'caughtUp' }, 0).catchUp, { from: 7, to: 7 });
  const out = d.core.step({ type: 'caughtUp' }, 0);
  assert.equal(out.become, undefined, 'no VOTING without the entry\'s fate');
  assert.equal(d.core.phaseKind, 'query');
});

test('R9f: without a learned prefix to read, nothing counts as learned (-1): a pending entry at position 1 is still awaited', () => {
  const d = pendingRejoin(1);
  const out = d.core.step({ type: 'caughtUp' }, 0);
  assert.deepEqual(out.catchUp, { from: 1, to: 1 });
  assert.equal(out.become, undefined);
});

test('R13: discovery starts from the stored chain when it moved past the chain found earlier (a RECOVERING replica learns config entries meanwhile)', () => {
  const c0 = config0([1, 2, 3], [4, 5, 6]);
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 4, 5].map(member), learners: [], nextId: 7, position: 2, floor: 3 };
  const c2: PlacedConfiguration = { epoch: 2, voters: [1, 4, 6].map(member), learners: [], nextId: 7, position: 4, floor: 5 };
  let stored: PlacedConfiguration[] = [c0];
  const d = new Driver({ view: (q) => chainView(stored)(q), metadata: { status: 'RECOVERING', configs: [c0] } });
  d.tick(0);
  d.reply(2, { config: { epoch: 1, position: 2 }, links: [c1] });
  stored = [c0, c1, c2];
  const out = d.reply(4, { config: { epoch: 1, position: 2 } });
  assert.deepEqual(to(out), [6], 'the stored chain is at epoch 2: its new voter r6 is asked, not the older chain found');
});

// ------------------------------------------------------------------ the rejoin with a rule switched off (as test/core/reconfig-recovery.test.ts shows them)

test('rejoinInPending off: the disk is still recorded by a quorum of the latest configuration before it catches up (only the pending one is left out)', () => {
  const d = rejoining({ rules: { ...ALL_RULES_ON, rejoinInPending: false } });
  assert.equal(d.rejoin(2).catchUp, undefined, 'r2 alone is no quorum of {1,2,3} (its own recording does not count)');
  assert.deepEqual(d.rejoin(3).catchUp, { from: 0, to: 5 });
});

test('catchUpAfterRecording off: the disk catches up to the highest end its query found (the end before recording), not a lower one', () => {
  const d = new Driver({ rules: { ...ALL_RULES_ON, catchUpAfterRecording: false }, metadata: { status: 'RECOVERING' } });
  d.tick(0);
  d.reply(2, { end: 8 });
  d.apply(d.reply(3, { end: 4 }));
  d.rejoin(2, { end: 20 });
  assert.deepEqual(d.rejoin(3, { end: 20 }).catchUp, { from: 0, to: 8 }, 'the ends reported after recording (20) are not used with the switch off');
});

test('R9c with catchUpAfterRecording off: a re-recording in a configuration learned while catching up ran no query of its own, so it catches up nothing more', () => {
  const c0 = config0([1, 2, 3], [4]);
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5, position: 6, floor: 2 };
  let cur = c0;
  const d = new Driver({ rules: { ...ALL_RULES_ON, catchUpAfterRecording: false }, view: (q) => (q > cur.position ? cur : c0), metadata: { status: 'RECOVERING', configs: [c0] } });
  d.tick(0);
  d.reply(2);
  d.apply(d.reply(3));
  d.rejoin(2);
  assert.deepEqual(d.rejoin(3).catchUp, { from: 0, to: 5 });
  cur = c1; // the catch-up copied the entry at 6 into the chain
  const again = d.core.step({ type: 'caughtUp' }, 0);
  assert.deepEqual(to(again), [2, 4], 'recorded again in {1,2,4}');
  d.rejoin(2, { end: 9 });
  assert.deepEqual(d.rejoin(4, { end: 9 }).catchUp, { from: 0, to: -1 }, 'the queried end of the re-recording is none (-1), not position 1');
});

// ------------------------------------------------------------------ R9f with two pending configurations, or a dead pending entry

/**
 * r1 rejoins in {1,2,3} with two entries of epoch 1 pending (learned nowhere): P1 at 7 (r2 accepted it) and
 * P2 at 9 (r4 did); r2, r3 and r4 answer and record the new disk. `learned` is r1's store's learned prefix.
 */
function twoPending(learned: { through: number }): Driver {
  const c0 = config0([1, 2, 3], [4]);
  const p1 = { position: 7, proposal: 4, config: { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5 } };
  const p2 = { position: 9, proposal: 5, config: { epoch: 1, voters: [1, 2, 4].map(member), learners: [member(3)], nextId: 5 } };
  const d = new Driver({ view: view(c0), learnedThrough: () => learned.through, metadata: { status: 'RECOVERING', configs: [c0] } });
  d.tick(0);
  let out: RecoveryOutput = { send: [] };
  for (const from of [2, 3, 4]) out = d.reply(from, { end: 9, learnedThrough: 6, ...(from === 2 ? { pending: p1 } : from === 4 ? { pending: p2 } : {}) });
  d.apply(out);
  for (const from of [2, 3, 4]) out = d.rejoin(from, { end: 9 });
  assert.deepEqual(out.catchUp, { from: 0, to: 9 });
  return d;
}

test('R9f with two pending entries: the disk catches up the lowest unsettled one first, then the next; it votes once both fates are known', () => {
  const learned = { through: 6 };
  const d = twoPending(learned);
  assert.deepEqual(d.core.step({ type: 'caughtUp' }, 0).catchUp, { from: 7, to: 7 }, 'the lowest pending position first');
  learned.through = 7; // 7 learned (here as another value): P1 is dead
  const next = d.core.step({ type: 'caughtUp' }, 0);
  assert.equal(next.become, undefined, 'P2 at 9 is still pending: not VOTING');
  assert.deepEqual(next.catchUp, { from: 9, to: 9 });
  learned.through = 9;
  assert.equal(d.core.step({ type: 'caughtUp' }, 0).become?.status, 'VOTING');
});

test('R9f: a pending entry whose position a replier already learned (dead, below the learned prefix) is not awaited; the disk votes once caught up', () => {
  const c0 = config0([1, 2, 3], [4]);
  const p1 = { position: 7, proposal: 4, config: { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5 } };
  const d = new Driver({ view: view(c0), learnedThrough: () => 6, metadata: { status: 'RECOVERING', configs: [c0] } });
  d.tick(0);
  d.reply(2, { end: 9, learnedThrough: 6, pending: p1 });
  const out = d.reply(3, { end: 9, learnedThrough: 8 }); // r3 learned 7: the entry is no live pending configuration
  d.apply(out);
  d.rejoin(2, { end: 9 });
  assert.deepEqual(d.rejoin(3, { end: 9 }).catchUp, { from: 0, to: 9 }, 'recorded by {1,2,3} alone: no pending configuration');
  assert.equal(d.core.step({ type: 'caughtUp' }, 0).become?.status, 'VOTING');
});

// ------------------------------------------------------------------ the rejoin's waiting text (shown as `waiting` on the admin status page)

test('the recording wait names the configuration that lacks a quorum only when there are two (latest and pending); with one it names none', () => {
  const one = rejoining();
  assert.equal(one.rejoin(2).waiting, 'rejoining with generation 1: 1 of 2 peers recorded it');
  const c0 = config0([1, 2, 3], [4]);
  const p1 = { position: 7, proposal: 4, config: { epoch: 1, voters: [1, 2, 4].map(member), learners: [], nextId: 5 } };
  const d = new Driver({ view: view(c0), metadata: { status: 'RECOVERING', configs: [c0] } });
  d.tick(0);
  d.reply(2, { pending: p1, learnedThrough: 5 });
  d.reply(3, { learnedThrough: 5 });
  d.apply(d.reply(4, { pending: p1, learnedThrough: 5 }));
  d.rejoin(2);
  assert.equal(d.rejoin(3).waiting, 'rejoining with generation 1: 1 of 2 peers (epoch 1) recorded it', '{1,2,3} has its quorum; {1,2,4} has r2 only');
});
