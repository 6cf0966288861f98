// Issue 11 (mutation testing of src/core/writer-election.ts): scripted tests of the writer's election (phase 1)
// and settle range, one rule each, driven through WriterCore's entry point alone (events in, messages and
// results out; no replica, no wall clock: every `now` is given, every reply hand-made). The rules: the promise
// round (above the highest proposal seen, to every voter, retransmitted), the quorum of promises, which answers
// belong to the round (request id, proposal, one per member), refusals and backoff (and the deadline across
// backoffs), configurations (stale-config, unknown-config and its links), R4's install election (its one
// proposal, fenced by a refusal, the change completed), promise replies cut at their byte bound (the rest read
// before the member counts), the election grace, the settle range (the highest-ranked value or a NOP for each
// position above the quorum's learned prefix, the election NOP after it, the settle bound), R5's stop sign,
// where queued operations go, and the elected role's first state.
// Checked by planting every mutant of Stryker's part elect (2026-12-07: 97.04%, 5 survived, 29 timed out under
// load) one at a time in the compiled file (docs/testing.md, "The full run, a part at a time"): this file and
// writer-election-settle-bound.test.ts (the bound's exact boundary, apart because it queues 2^20 NOPs) kill 160
// of the 169; the other 9 are equivalent (listed in docs/testing.md with their reasons).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limits, timing } from '../../src/core/constants.js';
import { chainView } from '../../src/core/config-view.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import type { Configuration, PlacedConfiguration } from '../../src/core/membership.js';
import type { Action, PromiseReply, PromiseRequest, ReadReply, Slot, WriteReply, WriteRequest } from '../../src/core/types.js';
import { WriterCore, type Outbound, type WriterConfig, type WriterOutput } from '../../src/core/writer.js';
import { config0, member } from './reconfig-harness.js';
import { batches, commits, merged, promises, reads, results, to, view3, writeReply, writes } from './writer-kit.js';


const append = (s: string): Action => ({ kind: 'append', data: new Uint8Array(Buffer.from(s)) });
const text = (a: Action | undefined): string => (a === undefined ? 'undefined' : a.kind === 'append' ? Buffer.from(a.data).toString() : a.kind);
/** A slot holding `value` accepted under `accepted` (learned if told). */
const valued = (position: number, accepted: number, value: string, learned = false): Slot => ({ position, promised: accepted, accepted, learned, action: append(value) });
const configSlot = (position: number, accepted: number, config: Configuration): Slot => ({ position, promised: accepted, accepted, learned: false, action: { kind: 'config', config } });

/** A member's answer to a promise request: an accept of `proposal` covering `slots` (its end the highest slot), unless told. */
function promiseReply(rid: number, proposal: number, more: Partial<PromiseReply> = {}): PromiseReply {
  const slots = more.slots ?? [];
  const end = more.end ?? Math.max(-1, ...slots.map((s) => s.position));
  return {
    type: 'promiseReply', rid, outcome: 'accept', proposal, status: 'VOTING', begin: 0, end, learnedThrough: -1, slots, coveredThrough: end,
    generation: 0, disk: 0, ...more,
  };
}
function readReply(rid: number, slots: Slot[], coveredThrough: number): ReadReply {
  return { type: 'readReply', rid, status: 'VOTING', begin: 0, end: coveredThrough, learnedThrough: -1, slots, coveredThrough, lost: [], writerActive: false } as ReadReply;
}

const addFour = { type: 'change', request: { id: 'c', ifEpoch: 0, change: { kind: 'add', member: member(4) } } } as const;

/** A writer whose election was started (by `elect` unless told) at time 0: the round it sent. */
class Election {
  readonly w: WriterCore;
  now = 0;
  rid: number;
  proposal: number;
  first: Outbound[];
  constructor(cfg: Partial<WriterConfig> = {}, start: 'elect' | 'submit' = 'elect') {
    const base = cfg.view === undefined ? { members: [1, 2, 3] } : {};
    this.w = new WriterCore({ ...base, random: () => 0.5, ...cfg } as WriterConfig);
    this.first = (start === 'elect' ? this.step({ type: 'elect' }) : this.step({ type: 'submit', op: { id: 1, action: append('op') } })).send;
    const p = promises(this.first);
    assert.ok(p.length > 0, 'a promise round went out');
    this.rid = p[0]!.msg.rid;
    this.proposal = p[0]!.msg.proposal;
  }
  step(e: Parameters<WriterCore['step']>[0]): WriterOutput {
    return this.w.step(e, this.now);
  }
  /** `from` answers the election's round (an accept of its proposal unless told). */
  promise(from: number, more: Partial<PromiseReply> = {}): WriterOutput {
    return this.step({ type: 'reply', from, msg: promiseReply(this.rid, this.proposal, more) });
  }
  /** Every member in `from` answers alike: the outputs merged. */
  promiseBy(from: number[], more: Partial<PromiseReply> = {}): WriterOutput {
    return merged(from.map((f) => this.promise(f, more)));
  }
  read(from: number, msg: ReadReply): WriterOutput {
    return this.step({ type: 'reply', from, msg });
  }
  accept(from: number, m: WriteRequest, more: Partial<WriteReply> = {}): WriterOutput {
    return this.step({ type: 'reply', from, msg: writeReply(m, more) });
  }
  acceptBy(from: number[], m: WriteRequest, more: Partial<WriteReply> = {}): WriterOutput {
    return merged(from.map((f) => this.accept(f, m, more)));
  }
  tick(now: number): WriterOutput {
    this.now = now;
    return this.step({ type: 'tick' });
  }
}

/** The first batch a writer elected by members 1 and 2 with these slots writes (the settle range and the election NOP). */
function settles(a: Slot[], b: Slot[], more: { a?: Partial<PromiseReply>; b?: Partial<PromiseReply>; cfg?: Partial<WriterConfig> } = {}): WriteRequest {
  const e = new Election({ proposalFloor: 10, ...more.cfg });
  e.promise(1, { slots: a, ...more.a });
  const w = batches(e.promise(2, { slots: b, ...more.b }).send);
  assert.equal(e.w.roleKind, 'elected');
  assert.equal(w.length, 1);
  return w[0]!;
}

// ------------------------------------------------------------------ the promise round

test('round: an election asks every voter of its configuration for a promise above the highest proposal seen, and counts its own proposal as seen', () => {
  const e = new Election({ proposalFloor: 5, members: [1, 2, 3, 4, 5] });
  const p = promises(e.first);
  assert.deepEqual(to(p), [1, 2, 3, 4, 5]);
  assert.ok(p.every((s) => s.msg.proposal === 6 && s.msg.rid === e.rid && s.msg.nonce === e.w.nonce));
  assert.deepEqual(p[0]!.msg.config, { epoch: 0, position: -1 });
  assert.equal(e.w.highestProposalSeen, 6);
  e.step({ type: 'abandon' });
  assert.equal(promises(e.step({ type: 'elect' }).send)[0]!.msg.proposal, 7, 'the next election goes above the last');
});

test('round: every promise answer raises the highest proposal seen, even a refusal or an answer to another request; the next election goes above it', () => {
  const e = new Election();
  e.step({ type: 'reply', from: 1, msg: promiseReply(e.rid + 100, 40, { outcome: 'reject' }) });
  assert.equal(e.w.highestProposalSeen, 40);
  assert.equal(e.w.roleKind, 'electing', 'an answer to another request is no answer to this one');
  e.step({ type: 'abandon' });
  assert.equal(promises(e.step({ type: 'elect' }).send)[0]!.msg.proposal, 41);
});

test('round: the request goes again to the members that have not answered, retransmitMs after it was sent', () => {
  const e = new Election();
  e.promise(1, { outcome: 'reject', proposal: 20 });
  assert.deepEqual(promises(e.tick(timing.retransmitMs - 1).send), []);
  const again = promises(e.tick(timing.retransmitMs).send);
  assert.deepEqual(to(again), [2, 3]);
  assert.ok(again.every((s) => s.msg.rid === e.rid && s.msg.proposal === e.proposal));
});

test('round: an election started by a change request (an idle writer) is an ordinary one, above the highest proposal seen (only an install election is not)', () => {
  const w = new WriterCore({ view: view3, random: () => 0.5, proposalFloor: 4 });
  const p = promises(w.step(addFour, 0).send);
  assert.deepEqual(to(p), [1, 2, 3]);
  assert.ok(p.every((s) => s.msg.proposal === 5 && s.msg.install === undefined));
  assert.equal(w.roleKind, 'electing');
});

// ------------------------------------------------------------------ the quorum of promises

test('quorum: elected once a quorum of the voters promised (two of three, three of five), never fewer', () => {
  const e = new Election();
  e.promise(1);
  assert.equal(e.w.roleKind, 'electing');
  e.promise(2);
  assert.equal(e.w.roleKind, 'elected');
  assert.deepEqual([...e.w.namedMembers.keys()], [1, 2]);
  const five = new Election({ members: [1, 2, 3, 4, 5] });
  five.promiseBy([5, 4]);
  assert.equal(five.w.roleKind, 'electing');
  five.promise(1);
  assert.equal(five.w.roleKind, 'elected');
});

test('quorum: a member answering the round twice counts once', () => {
  const e = new Election();
  e.promise(1);
  e.promise(1);
  assert.equal(e.w.roleKind, 'electing');
  const five = new Election({ members: [1, 2, 3, 4, 5] });
  five.promise(1, { outcome: 'reject', proposal: 30 });
  five.promise(1, { outcome: 'reject', proposal: 30 });
  five.promise(2);
  assert.equal(five.w.roleKind, 'electing', 'one refusal and one accept: no quorum of answers yet');
});

test('quorum: the members named are those that promised, each with the disk it reported', () => {
  const e = new Election();
  e.promise(3, { generation: 4, disk: 77 });
  e.promise(1, { generation: 2, disk: 9 });
  assert.deepEqual([...e.w.namedMembers].sort((a, b) => a[0] - b[0]), [[1, { generation: 2, disk: 9 }], [3, { generation: 4, disk: 77 }]]);
});

// ------------------------------------------------------------------ which answers belong to the round

test('matching: an answer to another request id is no answer to the election', () => {
  const e = new Election();
  e.step({ type: 'reply', from: 1, msg: promiseReply(e.rid + 1, e.proposal) });
  e.step({ type: 'reply', from: 2, msg: promiseReply(e.rid + 1, e.proposal) });
  assert.equal(e.w.roleKind, 'electing');
});

test('matching: an accept or a stale-config naming another proposal than the round\'s is ignored (request ids can coincide); a refusal names the rival\'s and counts', () => {
  const e = new Election({ proposalFloor: 10 });
  e.promise(1, { proposal: e.proposal - 1 });
  e.promise(2, { proposal: e.proposal + 1 });
  assert.equal(e.w.roleKind, 'electing', 'accepts of other proposals');
  e.promise(3, { outcome: 'stale-config', proposal: e.proposal - 1, config: { epoch: 5, position: 50 } });
  assert.equal(e.w.roleKind, 'electing', 'a stale-config of another proposal');
  const r = new Election();
  r.promiseBy([1, 2], { outcome: 'reject', proposal: 9 });
  assert.equal(r.w.roleKind, 'backoff');
});

test('matching: promise answers reaching a writer in backoff change nothing', () => {
  const e = new Election();
  e.promiseBy([1, 2], { outcome: 'reject', proposal: 9 });
  assert.equal(e.w.roleKind, 'backoff');
  const out = e.promise(3);
  assert.deepEqual(out.send, []);
  assert.equal(e.w.roleKind, 'backoff');
});

// ------------------------------------------------------------------ refusals and backoff

test('backoff: a refusal backs off only once a quorum of answers is in, accepts and refusals together', () => {
  const five = new Election({ members: [1, 2, 3, 4, 5] });
  five.promise(1, { outcome: 'reject', proposal: 30 });
  five.promise(2);
  assert.equal(five.w.roleKind, 'electing', 'two answers of five');
  five.promise(3);
  assert.equal(five.w.roleKind, 'backoff', 'three answers, one a refusal');
  const e = new Election();
  e.promise(1);
  e.promise(2, { outcome: 'reject', proposal: 30 });
  assert.equal(e.w.roleKind, 'backoff');
  const accepts = new Election({ members: [1, 2, 3, 4, 5] });
  accepts.promiseBy([1, 2]);
  accepts.promise(3);
  assert.equal(accepts.w.roleKind, 'elected', 'accepts alone never back off');
});

test('backoff: the writer waits backoffMinMs * (1 + random), then elects again above the refusing proposal', () => {
  const e = new Election({ random: () => 0.5 });
  e.now = 10;
  e.promiseBy([1, 2], { outcome: 'reject', proposal: 30 });
  const until = 10 + timing.backoffMinMs * 1.5;
  assert.deepEqual(e.tick(until - 1).send, []);
  assert.equal(e.w.roleKind, 'backoff');
  const again = promises(e.tick(until).send);
  assert.deepEqual(to(again), [1, 2, 3]);
  assert.equal(again[0]!.msg.proposal, 31);
  assert.notEqual(again[0]!.msg.rid, e.rid, 'a new round');
});

test('backoff: the election\'s deadline counts from its first attempt, across backoffs; each retry retransmits from its own start', () => {
  const e = new Election();
  e.promiseBy([1, 2], { outcome: 'reject', proposal: 30 });
  const retry = 2 * timing.backoffMinMs;
  const again = promises(e.tick(retry).send)[0]!.msg;
  assert.equal(e.w.roleKind, 'electing');
  assert.deepEqual(promises(e.tick(retry + timing.retransmitMs - 1).send), []);
  assert.equal(promises(e.tick(retry + timing.retransmitMs).send)[0]!.msg.rid, again.rid);
  e.tick(timing.operationTimeoutMs - 1);
  assert.equal(e.w.roleKind, 'electing');
  const out = e.tick(timing.operationTimeoutMs);
  assert.equal(e.w.roleKind, 'idle');
  assert.deepEqual(out.election, { ok: false, error: 'no-quorum' });
  // And when a refusal comes after a retry: the backoff keeps the first start too.
  const f = new Election();
  f.promiseBy([1, 2], { outcome: 'reject', proposal: 30 });
  const second = promises(f.tick(retry).send)[0]!.msg;
  f.step({ type: 'reply', from: 1, msg: promiseReply(second.rid, 30, { outcome: 'reject', proposal: 40 }) });
  f.step({ type: 'reply', from: 2, msg: promiseReply(second.rid, 30, { outcome: 'reject', proposal: 40 }) });
  assert.equal(f.w.roleKind, 'backoff');
  f.tick(timing.operationTimeoutMs);
  assert.equal(f.w.roleKind, 'idle');
});

test('unreachable: once so many voters cannot vote that no quorum can form, the writer backs off; one that cannot leaves room', () => {
  const e = new Election();
  e.promise(1, { outcome: 'unknown-config' });
  assert.equal(e.w.roleKind, 'electing');
  e.promise(2, { outcome: 'unknown-config' });
  assert.equal(e.w.roleKind, 'backoff', 'two of three cannot vote');
  const f = new Election();
  f.promise(1, { outcome: 'unknown-config' });
  f.promiseBy([2, 3]);
  assert.equal(f.w.roleKind, 'elected');
  assert.deepEqual([...f.w.namedMembers.keys()], [2, 3]);
});

// ------------------------------------------------------------------ configurations

test('stale-config: a voter that learned a newer configuration stops the election, fenced with that head; a head not newer is ignored', () => {
  const e = new Election({ proposalFloor: 10 });
  e.promise(1, { outcome: 'stale-config', config: { epoch: 0, position: -1 } });
  assert.equal(e.w.roleKind, 'electing', 'the same head');
  const out = e.promise(2, { outcome: 'stale-config', config: { epoch: 2, position: 7 } });
  assert.equal(e.w.roleKind, 'fenced');
  assert.deepEqual(out.election, { ok: false, error: 'fenced', proposal: 11, config: { epoch: 2, position: 7 } });
  e.promise(3);
  assert.equal(e.w.roleKind, 'fenced');
  // A stale-config is no vote: two of them do not make a quorum of answers with a refusal, nor a promise.
  const f = new Election();
  f.promise(1, { outcome: 'stale-config', config: { epoch: 0, position: -1 } });
  f.promise(2);
  assert.equal(f.w.roleKind, 'electing');
});

/** A writer whose view is c0 (1, 2, 3) and c1 (1, 2, 3, 4 at position 2) unless told: its ballots are in the last. */
function twoLinks(chain?: PlacedConfiguration[]): { e: Election; c1: PlacedConfiguration } {
  const c0 = config0([1, 2, 3]);
  const c1: PlacedConfiguration = { ...c0, epoch: 1, voters: [1, 2, 3, 4].map(member), nextId: 5, position: 2, floor: 1 };
  return { e: new Election({ view: chainView(chain ?? [c0, c1]) }), c1 };
}

test('unknown-config: a voter that lacks the ballot\'s configuration gets the links it lacks, in the same round, and counts once it answers again', () => {
  const { e, c1 } = twoLinks();
  assert.deepEqual(to(promises(e.first)), [1, 2, 3, 4]);
  const out = promises(e.promise(4, { outcome: 'unknown-config', config: { epoch: 0, position: -1 } }).send);
  assert.deepEqual(to(out), [4]);
  assert.equal(out[0]!.msg.rid, e.rid);
  assert.equal(out[0]!.msg.proposal, e.proposal);
  assert.deepEqual(out[0]!.msg.links, [c1]);
  e.promiseBy([1, 4]);
  assert.equal(e.w.roleKind, 'electing', 'two of four');
  e.promise(2);
  assert.equal(e.w.roleKind, 'elected');
  assert.deepEqual([...e.w.namedMembers.keys()].sort(), [1, 2, 4]);
});

test('unknown-config: no links when the writer\'s chain does not join the voter\'s head; the answer is then no vote', () => {
  const c0 = config0([1, 2, 3]);
  const c2: PlacedConfiguration = { ...c0, epoch: 2, position: 2, floor: 1 };
  const c3: PlacedConfiguration = { ...c0, epoch: 3, position: 5, floor: 3 };
  // The chain starts at epoch 2: a replica at epoch 0 lacks c1 too, which this writer cannot send.
  const { e } = twoLinks([c2, c3]);
  assert.deepEqual(e.promise(1, { outcome: 'unknown-config', config: { epoch: 0, position: -1 } }).send, []);
  assert.deepEqual(e.promise(2, { outcome: 'unknown-config' }).send, [], 'no head: nothing to send');
  assert.equal(e.w.roleKind, 'backoff', 'two of three cannot vote');
});

test('unknown-config: only that answer is sent links; a voter that cannot vote for another reason (ignored: lost records) is no vote, whatever its head', () => {
  const { e } = twoLinks();
  // Four voters, a quorum of three: two that cannot vote leave no quorum.
  assert.deepEqual(e.promise(4, { outcome: 'ignored', status: 'RECOVERING', config: { epoch: 0, position: -1 } }).send, []);
  assert.equal(e.w.roleKind, 'electing');
  assert.deepEqual(e.promise(3, { outcome: 'ignored', status: 'RECOVERING', config: { epoch: 0, position: -1 } }).send, []);
  assert.equal(e.w.roleKind, 'backoff');
});

// ------------------------------------------------------------------ R4: the install election

/** A writer elected in view3 whose change (add 4) was counted chosen at position 1: its install election started. */
function installing(cfg: Partial<WriterConfig> = {}, raise = 0): { e: Election; install: PromiseRequest; out: WriterOutput } {
  const e = new Election({ view: view3, ...cfg });
  const nop = batches(e.promiseBy([1, 2, 3]).send)[0]!;
  e.acceptBy([1, 2], nop);
  if (raise > 0) e.step({ type: 'reply', from: 3, msg: promiseReply(999, raise, { outcome: 'reject' }) });
  const entry = batches(e.step(addFour).send)[0]!;
  assert.deepEqual([entry.from, entry.actions[0]!.kind], [1, 'config']);
  e.accept(1, entry, { learnedThrough: 0, lostBelow: false });
  const out = e.accept(2, entry, { learnedThrough: 0, lostBelow: false });
  const install = promises(out.send)[0]!.msg;
  assert.equal(e.w.roleKind, 'electing', 'the install election');
  e.rid = install.rid;
  e.proposal = install.proposal;
  return { e, install, out };
}

test('R4: the install election uses the entry\'s floor + 1, not above the highest proposal seen, on every attempt; with installNoOutbid off it goes above', () => {
  const { e, install } = installing({}, 50);
  assert.equal(e.w.highestProposalSeen, 50);
  assert.equal(install.proposal, 2, 'the floor (1) + 1');
  e.step({ type: 'abandon' });
  assert.equal(e.w.roleKind, 'idle');
  const again = promises(e.tick(1).send)[0]!.msg;
  assert.equal(again.proposal, 2, 'the same proposal again');
  const off = installing({ rules: { ...ALL_RULES_ON, installNoOutbid: false } }, 50).install;
  assert.equal(off.proposal, 51);
});

test('R4: a refusal during an install election fences the writer instead of bidding above the rival; with installNoOutbid off it backs off', () => {
  const { e } = installing();
  e.promise(1, { outcome: 'reject', proposal: 9 });
  assert.equal(e.w.roleKind, 'fenced', 'at the first refusal');
  const off = installing({ rules: { ...ALL_RULES_ON, installNoOutbid: false } }).e;
  off.promise(1, { outcome: 'reject', proposal: 9 });
  assert.equal(off.w.roleKind, 'electing');
  off.promise(2, { outcome: 'reject', proposal: 9 });
  assert.equal(off.w.roleKind, 'backoff');
});

test('R4: the install election completes the change (reported ok once elected) and settles above the entry, even if its quorum reports the entry unlearned', () => {
  const { e, install } = installing();
  assert.deepEqual(to(promises(installing().out.send)), [1, 2, 3], 'the voters of the new configuration (4 is a learner)');
  e.promise(1);
  const out = e.promise(2);
  assert.equal(e.w.roleKind, 'elected');
  assert.equal(e.w.changing, false);
  assert.deepEqual(out.changes, [{ id: 'c', result: { ok: true, config: install.install } }]);
  const w = batches(out.send);
  assert.deepEqual(w.map((m) => [m.from, m.actions.map(text)]), [[2, ['nop']]], 'the election NOP right above the entry at 1');
  // A change asked now is proposed right away (nothing is left of the one installed).
  const d = e.acceptBy([1, 2], w[0]!);
  assert.deepEqual(d.election, { ok: true, position: 2 });
  const next = batches(e.step({ type: 'change', request: { id: 'd', ifEpoch: 1, change: { kind: 'add', member: member(5) } } }).send);
  assert.deepEqual(next.map((m) => [m.from, m.actions.map(text)]), [[3, ['config']]]);
});

// ------------------------------------------------------------------ promise replies cut at their byte bound

test('cut replies: a member whose promise reply was cut is counted only once the rest is read; the read asks (coveredThrough, end] with readSlotsMax', () => {
  const e = new Election({ proposalFloor: 10 });
  const out = e.promise(1, { slots: [valued(0, 3, 'a')], end: 4, coveredThrough: 0 });
  const r = reads(out.send);
  assert.deepEqual(r.map((s) => [s.to, s.msg.from, s.msg.to, s.msg.limit]), [[1, 1, 4, limits.readSlotsMax]]);
  e.promise(2, { slots: [valued(0, 3, 'a')] });
  assert.equal(e.w.roleKind, 'electing', 'member 1 is not complete');
  const done = e.read(1, readReply(r[0]!.msg.rid, [valued(1, 3, 'b'), valued(4, 3, 'e')], 4));
  assert.equal(e.w.roleKind, 'elected');
  assert.deepEqual(batches(done.send)[0]!.actions.map(text), ['a', 'b', 'nop', 'nop', 'e', 'nop']);
  // A reply covering its end exactly is complete: no read.
  const f = new Election();
  assert.deepEqual(reads(f.promise(1, { slots: [valued(0, 3, 'a')], end: 0, coveredThrough: 0 }).send), []);
  f.promise(2);
  assert.equal(f.w.roleKind, 'elected');
});

test('cut replies: a read reply to another read is ignored; one covering part of the rest asks again from where it stopped', () => {
  const e = new Election({ proposalFloor: 10 });
  const r1 = reads(e.promise(1, { slots: [], end: 9, coveredThrough: 2 }).send)[0]!.msg;
  e.promise(2);
  assert.deepEqual(e.read(1, readReply(r1.rid + 50, [], 9)).send, [], 'another read');
  assert.deepEqual(e.read(2, readReply(r1.rid, [], 9)).send, [], 'another member');
  assert.equal(e.w.roleKind, 'electing');
  const r2 = reads(e.read(1, readReply(r1.rid, [valued(4, 2, 'x')], 5)).send);
  assert.deepEqual(r2.map((s) => [s.to, s.msg.from, s.msg.to]), [[1, 6, 9]]);
  assert.deepEqual(e.read(1, readReply(r1.rid, [], 9)).send, [], 'the first read\'s id is spent');
  assert.equal(e.w.roleKind, 'electing');
  const done = e.read(1, readReply(r2[0]!.msg.rid, [valued(7, 2, 'y')], 9));
  assert.equal(e.w.roleKind, 'elected');
  assert.deepEqual(batches(done.send)[0]!.actions.map(text), ['nop', 'nop', 'nop', 'nop', 'x', 'nop', 'nop', 'y', 'nop']);
});

test('cut replies: a read reply covering past the member\'s end completes it at its end; slots at positions already covered are not taken again', () => {
  const e = new Election({ proposalFloor: 10 });
  const r1 = reads(e.promise(1, { slots: [valued(1, 3, 'first')], end: 3, coveredThrough: 1 }).send)[0]!.msg;
  e.promise(2);
  // A read that answers more than asked (what the member accepted since is fine: it is a promise's rest).
  const done = e.read(1, readReply(r1.rid, [valued(1, 4, 'again'), valued(3, 3, 'c')], 8));
  assert.equal(e.w.roleKind, 'elected');
  assert.deepEqual(batches(done.send)[0]!.actions.map(text), ['nop', 'first', 'nop', 'c', 'nop']);
});

test('cut replies: a read reply that covers nothing new keeps what the member covered', () => {
  const e = new Election({ proposalFloor: 10 });
  const r1 = reads(e.promise(1, { slots: [valued(2, 3, 'kept')], end: 6, coveredThrough: 2 }).send)[0]!.msg;
  e.promise(2);
  // An odd reply that claims to cover less than the member had already reported: what it covered stays.
  const r2 = reads(e.read(1, readReply(r1.rid, [valued(4, 3, 'd')], 0)).send);
  assert.deepEqual(r2.map((s) => [s.msg.from, s.msg.to]), [[3, 6]]);
});

test('cut replies: a read still out is asked again retransmitMs after it was sent (each read from its own send), with the promise round', () => {
  const e = new Election({ proposalFloor: 10 });
  const r1 = reads(e.promise(1, { slots: [], end: 9, coveredThrough: 2 }).send)[0]!.msg;
  e.now = 150;
  const r2 = reads(e.read(1, readReply(r1.rid, [], 5)).send)[0]!.msg;
  assert.deepEqual(reads(e.tick(timing.retransmitMs).send), [], 'the second read was sent at 150');
  assert.deepEqual(reads(e.tick(150 + timing.retransmitMs).send), [], 'reads go again with the promise round (next at 400)');
  const again = reads(e.tick(2 * timing.retransmitMs).send);
  assert.deepEqual(again.map((s) => [s.to, s.msg.from, s.msg.to]), [[1, 6, 9]]);
  assert.notEqual(again[0]!.msg.rid, r2.rid, 'a new read id');
});

test('cut replies: a read reply reaching a writer already elected changes nothing', () => {
  const e = new Election({ proposalFloor: 10, electionGraceMs: 0 });
  const r1 = reads(e.promise(1, { slots: [], end: 9, coveredThrough: 2 }).send)[0]!.msg;
  e.promiseBy([2, 3]);
  assert.equal(e.w.roleKind, 'elected');
  assert.deepEqual(e.read(1, readReply(r1.rid, [valued(5, 3, 'late')], 9)).send, []);
});

// ------------------------------------------------------------------ the election grace

test('grace: with a quorum complete, the writer waits electionGraceMs for the others, counted from the first time a quorum was complete', () => {
  const e = new Election({ electionGraceMs: 1000 });
  e.now = 5;
  e.promiseBy([1, 2]);
  assert.equal(e.w.roleKind, 'electing');
  e.tick(500);
  e.tick(1004);
  assert.equal(e.w.roleKind, 'electing');
  const out = e.tick(1005);
  assert.equal(e.w.roleKind, 'elected');
  assert.deepEqual([...e.w.namedMembers.keys()], [1, 2]);
  assert.equal(batches(out.send).length, 1);
});

test('grace: every member answering ends the wait at once, all named; with no grace configured there is no wait', () => {
  const e = new Election({ electionGraceMs: 1000 });
  e.promiseBy([1, 2]);
  e.now = 10;
  e.promise(3);
  assert.equal(e.w.roleKind, 'elected');
  assert.deepEqual([...e.w.namedMembers.keys()], [1, 2, 3]);
  const f = new Election();
  f.promiseBy([1, 2]);
  assert.equal(f.w.roleKind, 'elected');
});

// ------------------------------------------------------------------ the settle range

test('settle: each position above the learned prefix gets the value accepted under the highest proposal, in any reply order; a learned value outranks any', () => {
  for (const order of [0, 1]) {
    const a = [valued(0, 3, 'low'), valued(1, 9, 'learned', true), valued(2, 2, 'a2')];
    const b = [valued(0, 7, 'high'), valued(1, 50, 'other'), valued(2, 8, 'b2')];
    const w = order === 0 ? settles(a, b) : settles(b, a);
    assert.equal(w.from, 0);
    assert.deepEqual(w.actions.map(text), ['high', 'learned', 'b2', 'nop'], `order ${order}`);
  }
});

test('settle: a position no member reported a value for gets a NOP, and a slot without a value is none', () => {
  const w = settles([valued(3, 2, 'three'), { position: 1, promised: 9, accepted: 9, learned: false }], [valued(0, 2, 'zero')]);
  assert.deepEqual(w.actions.map(text), ['zero', 'nop', 'nop', 'three', 'nop']);
});

test('settle: nothing at or below the quorum\'s highest learned prefix is written; the range ends at the highest slot reported, not at a reply\'s end', () => {
  const w = settles([valued(2, 5, 'two'), valued(3, 5, 'three'), valued(4, 1, 'four')], [valued(4, 2, 'four!')], {
    a: { learnedThrough: 1, end: 40, coveredThrough: 40 },
    b: { learnedThrough: 3, end: 4 },
  });
  assert.equal(w.from, 4);
  assert.deepEqual(w.actions.map(text), ['four!', 'nop']);
  const e = settles([], [], { a: { learnedThrough: 6, end: 9, coveredThrough: 9 } });
  assert.deepEqual([e.from, e.actions.map(text)], [7, ['nop']]);
});

test('settle: the election is reported when its NOP, right above the settle range, is chosen', () => {
  const e = new Election({ proposalFloor: 10 });
  e.promise(1, { slots: [valued(1, 4, 'one')] });
  const w = batches(e.promise(2).send)[0]!;
  assert.deepEqual(w.actions.map(text), ['nop', 'one', 'nop']);
  const out = e.acceptBy([1, 2], w);
  assert.deepEqual(out.election, { ok: true, position: 2 });
});

test('settle: reproposeAccepted off: the settle range gets NOPs only (the rule switch)', () => {
  const w = settles([valued(0, 3, 'a')], [valued(1, 3, 'b', true)], { cfg: { rules: { ...ALL_RULES_ON, reproposeAccepted: false } } });
  assert.deepEqual(w.actions.map(text), ['nop', 'nop', 'nop']);
});

test('settle bound: more than electionSettleMax unsettled positions fail the election as insane (exactly that many are settled: writer-election-settle-bound.test.ts)', () => {
  const bad = new Election({ proposalFloor: 10 });
  bad.promise(1, { slots: [valued(limits.electionSettleMax + 1, 3, 'far')], learnedThrough: 0 });
  const fail = bad.promise(2, { learnedThrough: 0 });
  assert.equal(bad.w.roleKind, 'idle');
  assert.deepEqual(fail.election, { ok: false, error: 'insane', position: limits.electionSettleMax + 1 });
  assert.deepEqual(fail.send, []);
});

test('settle bound: it bounds the positions above the learned prefix, not how high they are', () => {
  const high = limits.electionSettleMax + 10;
  const e = new Election({ proposalFloor: 10 });
  e.promise(1, { learnedThrough: high, slots: [valued(high + 2, 3, 'up')] });
  const out = e.promise(2);
  assert.equal(e.w.roleKind, 'elected');
  assert.deepEqual(batches(out.send).map((m) => [m.from, m.actions.map(text)]), [[high + 1, ['nop', 'up', 'nop']]]);
});

test('settle bound: an insane election is reported even when no one asked for it (an append started it), and the append fails', () => {
  const e = new Election({ proposalFloor: 10 }, 'submit');
  e.promise(1, { slots: [valued(limits.electionSettleMax + 5, 3, 'far')] });
  const out = e.promise(2);
  const insane = { ok: false, error: 'insane', position: limits.electionSettleMax + 5 };
  assert.deepEqual(out.election, insane);
  assert.deepEqual(results(out), [[1, insane]]);
  assert.equal(e.w.roleKind, 'idle');
});

// ------------------------------------------------------------------ R5: a config entry in the settle range

test('R5: a config entry of the next epoch in the settle range is a stop sign: settled up to it, the change finished first, the election NOP after its install', () => {
  const next: Configuration = { ...config0([1, 2, 3, 4]), epoch: 1, changeId: 'other' } as Configuration;
  const e = new Election({ view: view3, proposalFloor: 10 });
  e.promise(1, { slots: [valued(0, 3, 'zero'), configSlot(1, 3, next), valued(2, 3, 'two')] });
  const first = batches(e.promise(2).send);
  assert.deepEqual(first.map((m) => [m.from, m.actions.map(text)]), [[0, ['zero']]], 'up to the entry only');
  assert.equal(e.w.changing, true);
  const out = e.acceptBy([1, 2], first[0]!);
  assert.equal(out.election, undefined, 'the election is not reported before the install');
  const entry = batches(out.send);
  assert.deepEqual(entry.map((m) => [m.from, m.actions.map(text)]), [[1, ['config']]]);
  assert.deepEqual(to(writes(out.send)), [1, 2, 4], 'to the named voters and the next configuration\'s voters (R3)');
});

test('R5: a stop sign right above the learned prefix: nothing is settled before it, the entry goes first', () => {
  const next: Configuration = { ...config0([1, 2, 3, 4]), epoch: 1, changeId: 'other' } as Configuration;
  const e = new Election({ view: view3, proposalFloor: 10 });
  e.promise(1, { slots: [configSlot(3, 3, next), valued(4, 3, 'four')], learnedThrough: 2 });
  const out = e.promise(2, { learnedThrough: 2 });
  assert.deepEqual(batches(out.send).map((m) => [m.from, m.actions.map(text)]), [[3, ['config']]]);
  assert.deepEqual(to(writes(out.send)), [1, 2, 4]);
});

test('R5: the entry found goes at the very position it was found, ahead of the operations and of a change asked during the election', () => {
  const next: Configuration = { ...config0([1, 2, 3, 4]), epoch: 1, changeId: 'other' } as Configuration;
  const e = new Election({ view: view3, proposalFloor: 10 }, 'submit');
  e.step({ type: 'change', request: { id: 'mine', ifEpoch: 0, change: { kind: 'add', member: member(5) } } });
  e.promise(1, { slots: [valued(0, 3, 'zero'), configSlot(1, 3, next)] });
  const w = batches(e.promise(2).send);
  assert.deepEqual(w.map((m) => [m.from, m.actions.map(text)]), [[0, ['zero']]], 'op 1 was queued before the change asked: it still waits for the entry found');
  const entry = batches(e.acceptBy([1, 2], w[0]!).send);
  assert.deepEqual(entry.map((m) => [m.from, m.actions.map(text)]), [[1, ['config']]]);
  assert.equal(entry[0]!.actions[0]!.kind === 'config' && entry[0]!.actions[0]!.config.changeId, 'other');
});

test('R5: a config entry of another epoch than the next is settled like any value, and the election NOP follows the range', () => {
  const far: Configuration = { ...config0([1, 2, 3, 4]), epoch: 2 } as Configuration;
  const w = settles([valued(0, 3, 'zero'), configSlot(1, 3, far)], [], { cfg: { view: view3 } });
  assert.deepEqual(w.actions.map(text), ['zero', 'config', 'nop']);
});

test('R5 off (followPending): the entry is re-proposed like any value and the election NOP follows it', () => {
  const next: Configuration = { ...config0([1, 2, 3, 4]), epoch: 1 } as Configuration;
  const w = settles([valued(0, 3, 'zero'), configSlot(1, 3, next)], [], { cfg: { view: view3, rules: { ...ALL_RULES_ON, followPending: false } } });
  assert.deepEqual(w.actions.map(text), ['zero', 'config', 'nop']);
});

// ------------------------------------------------------------------ where queued operations go

test('queue: operations queued during the election go after the settle range and the election NOP, in order, once each', () => {
  const e = new Election({ proposalFloor: 10 }, 'submit');
  e.step({ type: 'submit', op: { id: 2, action: append('op2') } });
  e.promise(1, { slots: [valued(0, 3, 'zero')] });
  const out = e.promise(2);
  const w = batches(out.send);
  assert.deepEqual(w.map((m) => [m.from, m.actions.map(text)]), [[0, ['zero', 'nop', 'op', 'op2']]]);
  assert.equal(e.w.queued, 0);
  const done = e.acceptBy([1, 2], w[0]!);
  assert.deepEqual(results(done), [[1, { ok: true, position: 2 }], [2, { ok: true, position: 3 }]]);
});

test('queue: operations queued before a change go before it, after the settle range; those queued after it wait for its install', () => {
  const e = new Election({ view: view3, proposalFloor: 10 }, 'submit');
  e.step(addFour);
  e.step({ type: 'submit', op: { id: 3, action: append('after') } });
  const out = e.promiseBy([1, 2]);
  const w = batches(out.send);
  assert.deepEqual(w.map((m) => [m.from, m.actions.map(text)]), [[0, ['nop', 'op']]]);
  const entry = batches(e.acceptBy([1, 2], w[0]!).send);
  assert.deepEqual(entry.map((m) => [m.from, m.actions.map(text)]), [[2, ['config']]]);
  assert.equal(e.w.queued, 1, 'op 3 waits');
});

test('queue: with a stop sign found (R5), operations queued during the election wait behind the change', () => {
  const next: Configuration = { ...config0([1, 2, 3, 4]), epoch: 1, changeId: 'other' } as Configuration;
  const e = new Election({ view: view3, proposalFloor: 10 }, 'submit');
  e.promise(1, { slots: [valued(0, 3, 'zero'), configSlot(1, 3, next)] });
  const w = batches(e.promise(2).send);
  assert.deepEqual(w.map((m) => [m.from, m.actions.map(text)]), [[0, ['zero']]]);
  const entry = batches(e.acceptBy([1, 2], w[0]!).send);
  assert.deepEqual(entry.map((m) => [m.from, m.actions.map(text)]), [[1, ['config']]]);
  assert.equal(e.w.queued, 1);
});

// ------------------------------------------------------------------ the elected role's first state

test('elected: a late answer to the election round itself is a promise: the member becomes a candidate, and the named are asked to confirm it', () => {
  const e = new Election();
  e.promiseBy([1, 2]);
  assert.equal(e.w.roleKind, 'elected');
  const out = e.promise(3);
  const confirm = promises(out.send);
  assert.deepEqual(to(confirm), [1, 2]);
  assert.notEqual(confirm[0]!.msg.rid, e.rid);
  // Named members start with no confirmation: 3 is named only once both answered the round sent after its promise.
  assert.deepEqual([...e.w.namedMembers.keys()], [1, 2], 'a candidate, not named yet');
  e.step({ type: 'reply', from: 1, msg: promiseReply(confirm[0]!.msg.rid, e.proposal) });
  assert.deepEqual([...e.w.namedMembers.keys()], [1, 2]);
  e.step({ type: 'reply', from: 2, msg: promiseReply(confirm[0]!.msg.rid, e.proposal) });
  assert.deepEqual([...e.w.namedMembers.keys()].sort(), [1, 2, 3]);
});

test('elected: the term\'s commits are said again every recommitMs from the first position chosen in the term (the election NOP)', () => {
  const e = new Election();
  const w = batches(e.promiseBy([1, 2]).send)[0]!;
  assert.deepEqual(commits(e.tick(timing.recommitMs).send), [], 'nothing chosen: nothing to say again');
  e.acceptBy([1, 2], w);
  const again = commits(e.tick(2 * timing.recommitMs).send);
  assert.deepEqual(again.map((s) => [s.to, s.msg.from, s.msg.to]), [[1, 0, 0], [2, 0, 0]]);
});

test('elected: the election is reported once, and the writer appends right above its NOP', () => {
  const e = new Election();
  const w = batches(e.promiseBy([1, 2]).send)[0]!;
  assert.deepEqual(e.acceptBy([1, 2], w).election, { ok: true, position: 0 });
  e.step({ type: 'submit', op: { id: 5, action: append('x') } });
  const m = batches(e.step({ type: 'flush' }).send)[0]!;
  assert.equal(m.from, 1);
  const out = e.acceptBy([1, 2], m);
  assert.equal(out.election, undefined);
  assert.deepEqual(results(out), [[5, { ok: true, position: 1 }]]);
});

test('only the ballot\'s voters count in the election: an accept from an id outside them neither makes the quorum nor is named', () => {
  const e = new Election();
  e.promise(1);
  const out = e.promise(9);
  assert.equal(e.w.roleKind, 'electing', 'members 1 and 9 of {1, 2, 3} are not a quorum');
  assert.deepEqual(writes(out.send), []);
  const w = batches(e.promise(2).send);
  assert.equal(e.w.roleKind, 'elected');
  assert.deepEqual(w[0]!.named.map((n) => n.id).sort(), [1, 2], 'named: the voters that promised, not 9');
});

test('after the election too, only the ballot\'s voters count: an answer to a later round from another id never makes it a candidate or named', () => {
  const e = new Election();
  e.promiseBy([1, 2]);
  assert.equal(e.w.roleKind, 'elected');
  // The round that asks the member not counted (3) again; its answer comes back labelled 9.
  const round = promises(e.tick(timing.repromiseMs + 1).send).find((s) => s.to === 3);
  assert.ok(round !== undefined, 'a round asks 3 again');
  const o = e.step({ type: 'reply', from: 9, msg: promiseReply(round.msg.rid, e.proposal) });
  for (const s of promises(o.send)) e.step({ type: 'reply', from: s.to, msg: promiseReply(s.msg.rid, e.proposal) });
  assert.equal(e.w.namedMembers.has(9), false, '9 is not named');
  assert.deepEqual([...e.w.namedMembers.keys()].sort(), [1, 2]);
});
