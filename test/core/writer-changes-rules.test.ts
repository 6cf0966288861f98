// Issue 11 (mutation testing of src/core/writer.ts and src/core/writer-changes.ts, Stryker part writer-a): scripted
// tests of the rules the part's undecided survivors showed untested, one rule each, driven through WriterCore's entry
// point alone (events in, messages and outcomes out; no replica, no wall clock: every `now` is given). The rules: R2's
// order of operations and changes, R3's caught-up count of the next voters (which answers count, and what an answer
// must report), R4's install (the old ballot's settling NOPs dropped, an idle writer's tick installing a chosen
// change), the election's timers (the deadline through backoff, the retransmission period, the read of a cut
// promise reply, the end of electing), the elected writer's retransmission (a chosen batch waits for nothing), and
// the deadline of writes (a change's entry keeps the plain one; a named member that never accepted is no evidence
// of life), and the periods of the recommit and the repromise. Each test fails with one or more of the part's
// survivors (or of the mutants the core tests let live), planted by hand in the compiled file (docs/testing.md, "The
// full run, a part at a time", the writer-a paragraph). The ticks stay off the timers' exact boundaries: on which of
// two ticks a timer fires is no rule (docs/testing.md, the timing boundaries among the equivalent mutants).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timing } from '../../src/core/constants.js';
import { chainView } from '../../src/core/config-view.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import type { Action, Slot, WriteReply, WriteRequest } from '../../src/core/types.js';
import { WriterCore, type ChangeRequest, type Outbound, type WriterOutput } from '../../src/core/writer.js';
import { config0, member } from './reconfig-harness.js';
import { ElectedWriter, batches, promiseReply, promises, reads, results, to, view3, writeReply, writes } from './writer-kit.js';



const append = (): Action => ({ kind: 'append', data: new Uint8Array([7]) });
const change = (id: string, c: ChangeRequest['change'], ifEpoch = 0) => ({ type: 'change', request: { id, ifEpoch, change: c } }) as const;

/** The elected writer of writer-kit.ts, submitting plain appends. */
class Driver extends ElectedWriter {
  submit(id: number): WriterOutput {
    return this.step({ type: 'submit', op: { id, action: append() } });
  }
  /** Submits operation `id` and flushes: the flush's output. */
  send(id: number): WriterOutput {
    this.submit(id);
    return this.step({ type: 'flush' });
  }
}

/** Voters 1, 2, 3 and learner 4, elected by 1, 2, 3 at 0; the change promotes 4 (next voters 1 to 4, quorum 3). Its entry is at position 1. */
function promoting(): { d: Driver; entry: WriteRequest } {
  const d = new Driver({ view: chainView([config0([1, 2, 3], [4])]) });
  const entry = batches(d.step(change('p', { kind: 'promote', id: 4 })).send)[0]!;
  assert.deepEqual([entry.from, entry.actions[0]!.kind], [1, 'config']);
  return { d, entry };
}
const caughtUp = { learnedThrough: 0, lostBelow: false };

// ------------------------------------------------------------------ R2: the order of operations and changes

test('R2: an operation queued after a change waits for that change, also when a second change is asked before the first is proposed', () => {
  const d = new Driver({ view: view3 });
  const a = batches(d.send(1).send)[0]!;
  assert.equal(a.from, 1);
  // Change 1 waits for op 1 (the barrier: everything below the entry is chosen first); op 2 is queued behind it.
  assert.deepEqual(writes(d.step(change('c1', { kind: 'add', member: member(4) })).send), []);
  d.submit(2);
  assert.deepEqual(writes(d.step(change('c2', { kind: 'add', member: member(5) })).send), [], 'the second change sends nothing, and op 2 still waits');
  d.accept(1, a);
  const next = batches(d.accept(2, a).send);
  assert.deepEqual(next.map((b) => [b.from, b.actions.map((x) => x.kind)]), [[2, ['config']]], 'op 1 chosen: change 1\'s entry, alone; op 2 not before it');
  assert.equal(d.w.queued, 1);
});

test('R2: a change asked of an idle writer starts an election, and its entry goes once the writer is elected', () => {
  const w = new WriterCore({ view: view3, random: () => 0.5 });
  const out = w.step(change('c', { kind: 'add', member: member(4) }), 0);
  assert.equal(w.roleKind, 'electing');
  const req = promises(out.send);
  assert.deepEqual(to(req), [1, 2, 3]);
  const sent: Outbound[] = [];
  for (const from of [1, 2, 3]) sent.push(...w.step({ type: 'reply', from, msg: promiseReply(req[0]!.msg.rid) }, 0).send);
  const nop = batches(sent)[0]!;
  assert.deepEqual([nop.from, nop.actions.map((a) => a.kind)], [0, ['nop']]);
  for (const from of [1, 2]) sent.push(...w.step({ type: 'reply', from, msg: writeReply(nop) }, 0).send);
  assert.deepEqual(batches(sent).map((b) => [b.from, b.actions.map((a) => a.kind)]), [[0, ['nop']], [1, ['config']]], 'the election NOP, then the entry');
});

// ------------------------------------------------------------------ R3: which answers make a next voter ready

test('R3: only an acceptance under the writer\'s ballot makes a next voter ready: a refusal, or another proposal\'s acceptance, reporting itself caught up does not', () => {
  const answers: Partial<WriteReply>[] = [{ outcome: 'reject', proposal: 1 }, { outcome: 'ignored' }, { outcome: 'not-ready' }, { proposal: 0 }, { proposal: 2 }];
  for (const answer of answers) {
    const { d, entry } = promoting();
    for (const from of [1, 2]) d.accept(from, entry, caughtUp);
    d.accept(4, entry, { ...caughtUp, ...answer });
    assert.equal(d.w.roleKind, 'elected', `ready: 1, 2 of the next four voters; 4's ${JSON.stringify(answer)} is no acceptance`);
    d.accept(4, entry, caughtUp);
    assert.equal(d.w.roleKind, 'electing', 'its acceptance under the ballot completes the count: the install election');
  }
});

test('R3: an acceptance that does not report the voter\'s learned prefix, or whether it lost bytes below the entry, is not caught up', () => {
  for (const partial of [{ lostBelow: false }, { learnedThrough: 0 }, {}]) {
    const { d, entry } = promoting();
    for (const from of [1, 2]) d.accept(from, entry, caughtUp);
    d.accept(4, entry, partial);
    assert.equal(d.w.roleKind, 'elected', `4 answered ${JSON.stringify(partial)}: not known to hold the log below the entry`);
    d.accept(4, entry, caughtUp);
    assert.equal(d.w.roleKind, 'electing');
  }
});

// ------------------------------------------------------------------ R4: the install

test('R4: settling NOPs the old ballot still holds queued are dropped at the install (the new election settles those positions); the operations stay', () => {
  // Elected by 1 and 2; the change adds learner 4 (the voters stay 1, 2, 3). Member 3 promises late, reporting a value at 5: the writer queues
  // NOPs through 5 (writer-counted-members.ts, settleAboveNext), which wait behind the entry (R2's barrier).
  const d = new Driver({ view: view3, electionGraceMs: 0 }, [1, 2]);
  const entry = batches(d.step(change('c', { kind: 'add', member: member(4) })).send)[0]!;
  assert.equal(entry.from, 1);
  const slot: Slot = { position: 5, promised: 1, accepted: 1, learned: false, action: append() };
  d.step({ type: 'reply', from: 3, msg: promiseReply(d.electionRid, { end: 5, slots: [slot], coveredThrough: 5 }) });
  assert.equal(d.w.queued, 4, 'NOPs for 2 to 5, held back by the barrier');
  d.submit(0);
  d.accept(1, entry, caughtUp);
  const install = promises(d.accept(2, entry, caughtUp).send)[0]!.msg;
  assert.equal(install.install?.epoch, 1, 'the entry is chosen: the install election');
  assert.equal(d.w.queued, 1, 'only op 0 is left (an operation id 0 is an operation like any other)');
  const sent: Outbound[] = [];
  for (const from of [1, 2, 3]) sent.push(...d.step({ type: 'reply', from, msg: promiseReply(install.rid, { proposal: install.proposal }) }).send);
  assert.equal(d.w.roleKind, 'elected');
  assert.deepEqual(batches(sent).map((b) => [b.from, b.actions.map((x) => x.kind)]), [[2, ['nop', 'append']]], 'the new ballot\'s marker NOP, then op 0 right after it');
});

test('R4 (configBarrier off): a change counted chosen whose install never started (a write above it gave up first) is installed at the idle writer\'s next tick', () => {
  const d = new Driver({ view: view3, rules: { ...ALL_RULES_ON, configBarrier: false } });
  d.submit(1);
  const [a, entry] = batches(d.step(change('c', { kind: 'add', member: member(4) })).send);
  const b = batches(d.send(2).send)[0]!;
  assert.deepEqual([a!.from, entry!.from, b.from], [1, 2, 3]);
  for (const from of [1, 2]) d.accept(from, a!);
  for (const from of [1, 2]) d.accept(from, entry!, { learnedThrough: 1, lostBelow: false });
  assert.equal(d.w.roleKind, 'elected', 'the entry is chosen, b is in flight above it: the install waits');
  const gaveUp = d.tick(timing.operationTimeoutMs + 500);
  assert.deepEqual(results(gaveUp), [[2, { ok: false, error: 'no-quorum', unknownAt: 3 }]]);
  assert.equal(d.w.roleKind, 'idle');
  assert.equal(d.w.changing, true, 'the chosen change is kept');
  const install = promises(d.tick(timing.operationTimeoutMs + 600).send);
  assert.equal(d.w.roleKind, 'electing');
  assert.deepEqual(to(install), [1, 2, 3], 'the voters of epoch 1 (4 is a learner)');
  assert.deepEqual(install[0]!.msg.install && [install[0]!.msg.install.epoch, install[0]!.msg.install.position], [1, 2]);
});

// ------------------------------------------------------------------ the election's timers (writer.ts, onTick)

test('election: backing off past operationTimeoutMs from its first attempt, the election fails at the tick, with no further attempt', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  const rid = promises(w.step({ type: 'elect' }, 0).send)[0]!.msg.rid;
  w.step({ type: 'submit', op: { id: 1, action: append() } }, 0);
  for (const from of [1, 2]) w.step({ type: 'reply', from, msg: promiseReply(rid, { outcome: 'reject', proposal: 5 }) }, 0);
  assert.equal(w.roleKind, 'backoff');
  const out = w.step({ type: 'tick' }, timing.operationTimeoutMs + 2000);
  assert.deepEqual(promises(out.send), [], 'no new attempt past the deadline');
  assert.deepEqual(out.election, { ok: false, error: 'no-quorum' });
  assert.deepEqual(results(out), [[1, { ok: false, error: 'no-quorum' }]]);
  assert.equal(w.roleKind, 'idle');
});

test('election: a writer backing off tries again when its backoff ends, not before, and keeps the deadline of its first attempt (not of the clock\'s zero)', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  const t0 = 20_000;
  const rid = promises(w.step({ type: 'elect' }, t0).send)[0]!.msg.rid;
  for (const from of [1, 2]) w.step({ type: 'reply', from, msg: promiseReply(rid, { outcome: 'reject', proposal: 5 }) }, t0);
  assert.equal(w.roleKind, 'backoff');
  const end = t0 + timing.backoffMinMs * 1.5; // backoffMinMs * (1 + random)
  const before = w.step({ type: 'tick' }, end - 10);
  assert.deepEqual(before, { send: [], done: [] }, 'still backing off');
  assert.equal(w.roleKind, 'backoff');
  const after = promises(w.step({ type: 'tick' }, end + 10).send);
  assert.deepEqual(to(after), [1, 2, 3]);
  assert.equal(after[0]!.msg.proposal, 6, 'above the refusal');
  assert.equal(w.roleKind, 'electing');
  w.step({ type: 'tick' }, end + 20);
  assert.equal(w.roleKind, 'electing', 'within operationTimeoutMs of the first attempt');
  const out = w.step({ type: 'tick' }, t0 + timing.operationTimeoutMs + 100);
  assert.deepEqual(out.election, { ok: false, error: 'no-quorum' });
  assert.equal(w.roleKind, 'idle');
});

test('election: the members that have not answered are asked again retransmitMs after the last sending, not sooner', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  const t0 = 1000;
  const rid = promises(w.step({ type: 'elect' }, t0).send)[0]!.msg.rid;
  w.step({ type: 'reply', from: 1, msg: promiseReply(rid) }, t0);
  const at = (t: number) => promises(w.step({ type: 'tick' }, t).send);
  assert.deepEqual(at(t0 + timing.retransmitMs / 2), []);
  const again = at(t0 + timing.retransmitMs + 10);
  assert.deepEqual(to(again), [2, 3]);
  assert.equal(again[0]!.msg.rid, rid, 'the same request');
  assert.deepEqual(at(t0 + timing.retransmitMs + 10 + timing.retransmitMs / 2), [], 'counted from that sending');
  assert.deepEqual(to(at(t0 + 2 * timing.retransmitMs + 20)), [2, 3]);
  assert.equal(w.roleKind, 'electing');
});

test('election: a cut promise reply\'s read is sent again retransmitMs after it went out, with the election\'s retransmission; a complete reply is not read again', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  const rid = promises(w.step({ type: 'elect' }, 0).send)[0]!.msg.rid;
  // Member 1's reply is cut at 2 of 5: the writer reads 3 to 5. Member 2's is complete.
  const first = reads(w.step({ type: 'reply', from: 1, msg: promiseReply(rid, { end: 5, coveredThrough: 2 }) }, 100).send);
  assert.deepEqual(first.map((r) => [r.to, r.msg.from, r.msg.to]), [[1, 3, 5]]);
  w.step({ type: 'reply', from: 2, msg: promiseReply(rid) }, 100);
  assert.equal(w.roleKind, 'electing', 'one complete report of the two needed');
  // The election's retransmission is due (250 after its sending); the read went out at 100, 150 ago: not yet.
  const t1 = w.step({ type: 'tick' }, 250);
  assert.deepEqual(to(promises(t1.send)), [3]);
  assert.deepEqual(reads(t1.send), []);
  // At 500 both are due (the retransmission 250 after its last, the read 400 after it went out): member 1 only.
  const t2 = w.step({ type: 'tick' }, 500);
  assert.deepEqual(to(promises(t2.send)), [3]);
  const again = reads(t2.send);
  assert.deepEqual(again.map((r) => [r.to, r.msg.from, r.msg.to]), [[1, 3, 5]]);
  assert.notEqual(again[0]!.msg.rid, first[0]!.msg.rid, 'a new read');
  // Its answer completes member 1's report: elected.
  const readReply = { type: 'readReply', rid: again[0]!.msg.rid, status: 'VOTING', begin: 0, end: 5, learnedThrough: -1, slots: [], coveredThrough: 5, lost: [], writerActive: false } as const;
  w.step({ type: 'reply', from: 1, msg: readReply }, 500);
  assert.equal(w.roleKind, 'elected');
});

test('election: the tick that ends the grace elects the writer and sends its first writes, and no promise request (the election is over; the elected writer asks the rest in its own rounds)', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 300 });
  const rid = promises(w.step({ type: 'elect' }, 0).send)[0]!.msg.rid;
  for (const from of [1, 2]) w.step({ type: 'reply', from, msg: promiseReply(rid) }, 0);
  assert.equal(w.roleKind, 'electing', 'within the grace');
  const out = w.step({ type: 'tick' }, 350);
  assert.equal(w.roleKind, 'elected');
  assert.deepEqual(promises(out.send), [], 'no retransmission of the election\'s request, though retransmitMs went by');
  assert.deepEqual(to(writes(out.send)), [1, 2], 'the election NOP to the members that promised');
  const round = promises(w.step({ type: 'tick' }, 350 + timing.repromiseMs + 100).send);
  assert.deepEqual(to(round), [3], 'repromiseMs later, the member not named is asked');
  assert.notEqual(round[0]!.msg.rid, rid, 'in a round of the elected writer');
});

// ------------------------------------------------------------------ the elected writer's timers

test('repromise: with every member named the period sends no round, so the rounds remembered keep the election\'s own request: a late answer to it is still taken', () => {
  const d = new Driver();
  for (let k = 1; k <= 12; k++) assert.deepEqual(promises(d.tick(k * (timing.repromiseMs + 100)).send), [], 'every member named: nobody to ask');
  // Member 3's disk was replaced, and its new disk answers the election's request now: the named disk is gone.
  const out = d.step({ type: 'reply', from: 3, msg: promiseReply(d.electionRid, { disk: 9 }) });
  assert.deepEqual([...d.w.namedMembers.keys()], [1, 2], 'the old disk no longer counts');
  assert.deepEqual(to(promises(out.send)), [1, 2], 'the new disk is a candidate: the named members are asked to confirm it');
});

test('repromise: the members not named are asked again every repromiseMs, not sooner', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 0 });
  const t0 = 5000;
  const rid = promises(w.step({ type: 'elect' }, t0).send)[0]!.msg.rid;
  for (const from of [1, 2]) w.step({ type: 'reply', from, msg: promiseReply(rid) }, t0);
  assert.equal(w.roleKind, 'elected');
  const at = (t: number) => promises(w.step({ type: 'tick' }, t).send);
  assert.deepEqual(at(t0 + timing.repromiseMs / 2), []);
  assert.deepEqual(to(at(t0 + timing.repromiseMs + 100)), [3]);
  assert.deepEqual(at(t0 + timing.repromiseMs + 100 + timing.repromiseMs / 2), [], 'counted from that round');
  assert.deepEqual(to(at(t0 + 2 * timing.repromiseMs + 200)), [3]);
});

test('recommit: the term\'s commit is said again every recommitMs, not sooner, and not before anything is chosen', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  const t0 = 5000;
  const rid = promises(w.step({ type: 'elect' }, t0).send)[0]!.msg.rid;
  const sent: Outbound[] = [];
  for (const from of [1, 2, 3]) sent.push(...w.step({ type: 'reply', from, msg: promiseReply(rid) }, t0).send);
  assert.equal(w.roleKind, 'elected');
  const nop = batches(sent)[0];
  const commitsAt = (t: number) => w.step({ type: 'tick' }, t).send.filter((s) => s.msg.type === 'commit');
  assert.deepEqual(commitsAt(t0 + timing.recommitMs), [], 'nothing chosen in the term yet: nothing to say again');
  for (const from of [1, 2]) w.step({ type: 'reply', from, msg: writeReply(nop!) }, t0 + timing.recommitMs);
  const again = commitsAt(t0 + timing.recommitMs + 500);
  assert.deepEqual(to(again), [1, 2, 3]);
  assert.deepEqual(again[0]!.msg, { type: 'commit', proposal: 1, from: 0, to: 0 });
  assert.deepEqual(commitsAt(t0 + timing.recommitMs + 600), [], 'counted from the last');
  assert.equal(commitsAt(t0 + 2 * timing.recommitMs + 700).length, 3);
});

test('retransmission: a batch chosen but not resolved yet (one below it is not chosen) is not sent again', () => {
  const d = new Driver();
  const a = batches(d.send(1).send)[0]!;
  const b = batches(d.send(2).send)[0]!;
  assert.deepEqual([a.from, b.from], [1, 2]);
  for (const from of [1, 2]) d.accept(from, b);
  assert.equal(d.w.inflightPositions, 2, 'b is chosen, and waits for a');
  const again = writes(d.tick(timing.retransmitMs + 50).send);
  assert.deepEqual(to(again), [1, 2, 3]);
  assert.ok(again.every((s) => s.msg.rid === a.rid), 'only a goes again');
});

test('slow is not dead, except for a change: its entry not counted chosen within operationTimeoutMs fails the writer, though a quorum of named members accepted it lately', () => {
  const { d, entry } = promoting();
  // The named members accept it at 5000, behind (not caught up): a named quorum, no next-voter quorum; 4 is silent.
  d.now = 5000;
  for (const from of [1, 2, 3]) d.accept(from, entry, { learnedThrough: -1, lostBelow: false });
  assert.equal(d.w.roleKind, 'elected');
  const out = d.tick(timing.operationTimeoutMs + 500);
  assert.equal(d.w.roleKind, 'idle', 'the plain deadline: accepted 5500 ms ago by every named member, and still no-quorum');
  assert.deepEqual(out.changes?.map((c) => [c.id, c.result.ok ? 'ok' : c.result.reason]), [['p', 'unknown']]);
});

test('slow is not dead: a named member that never accepted anything under the ballot is no evidence of life', () => {
  // Elected by 1, 2, 3; 3 never answers a write. Op 1 (position 1, sent at 0) is never answered.
  const d = new Driver({}, [1, 2, 3], false);
  for (const from of [1, 2]) d.accept(from, d.nop);
  const a = batches(d.send(1).send)[0]!;
  // Member 1 accepts op 2 at 5000: alive. 2 last accepted at 0.
  d.now = 5000;
  const b = batches(d.send(2).send)[0]!;
  d.accept(1, b);
  const out = d.tick(timing.operationTimeoutMs + 500);
  assert.equal(d.w.roleKind, 'idle', 'one named member accepted within operationTimeoutMs: no quorum of live ones');
  assert.deepEqual(results(out), [[1, { ok: false, error: 'no-quorum', unknownAt: a.from }], [2, { ok: false, error: 'no-quorum', unknownAt: b.from }]]);
});
