// The fill's decision points (src/core/fill.ts), one rule a test, driving the Fill class by hand
// (fill-harness.ts): which answers count in phase 1 and phase 2, when a round is lost and how the
// next one starts, when the fill gives up, what it retransmits, and what it settles. Written for the
// mutants of fill.ts that only the simulator seeds (seconds each) or nothing at all detected
// (issue 11, docs/testing.md); each test fails with its mutant planted, in milliseconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timing } from '../../src/core/constants.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import { Fill } from '../../src/core/fill.js';
import { accepted, FillRun, sent, text } from './fill-harness.js';

// With the harness's random draw of 0.5, a lost round waits backoffMinMs * 1.5 before the next.
const BACKOFF = timing.backoffMinMs * 1.5;

// ---------------------------------------------------------------------------------------------
// The range and the context
// ---------------------------------------------------------------------------------------------

test('fill: a range must not be empty, and a fill takes exactly one of a view and a member list', () => {
  const ctx = { random: () => 0.5, rid: () => 1 };
  assert.throws(() => new Fill(5, 4, 0, { ...ctx, members: [1, 2, 3] }, 0, []), /fill range/);
  assert.doesNotThrow(() => new Fill(5, 5, 0, { ...ctx, members: [1, 2, 3] }, 0, []));
  assert.throws(() => new Fill(0, 0, 0, ctx, 0, []), /a view or a member list/);
  assert.throws(() => new Fill(0, 0, 0, { ...ctx, members: [1, 2, 3], view: () => ({ epoch: 0, voters: [], learners: [], nextId: 1, position: -1, floor: 0 }) }, 0, []), /a view or a member list/);
});

test('fill: phase 1 asks every member for a promise on the range, one above the floor', () => {
  const run = new FillRun(3, 6, { floor: 20, members: [1, 2, 3] });
  assert.deepEqual(sent(run), ['promise>1', 'promise>2', 'promise>3']);
  assert.deepEqual([run.promiseReq.proposal, run.promiseReq.from, run.promiseReq.to], [21, 3, 6]);
});

test('fill: a catch-up fill asks the others but needs a quorum of the whole configuration', async () => {
  const { chainView } = await import('../../src/core/config-view.js');
  const m = (id: number) => ({ id, address: '' });
  // Four voters; replica 1 fills for itself: it asks 2, 3 and 4, and a quorum of four is three.
  const view = chainView([{ epoch: 0, voters: [m(1), m(2), m(3), m(4)], learners: [], nextId: 5, position: -1, floor: 0 }]);
  const run = new FillRun(0, 0, { view, self: 1 });
  assert.deepEqual(sent(run), ['promise>2', 'promise>3', 'promise>4']);
  run.promise(2);
  run.promise(3);
  assert.throws(() => run.writeReq, /no write/, 'two promises of four voters are no quorum');
  run.promise(4);
  assert.deepEqual(sent(run).filter((s) => s.startsWith('write')), ['write>2', 'write>3', 'write>4']);
});

test('fill: a quorum given by the owner replaces the configuration\'s (a rejoining replica asks for a majority of all)', () => {
  const run = new FillRun(0, 0, { members: [1, 2, 3], quorum: 3 });
  run.promise(1);
  run.promise(2);
  assert.throws(() => run.writeReq, /no write/, 'two of the three asked are not the quorum of three asked for');
  run.promise(3);
  assert.equal(run.writeReq.named.length, 3);
});

// ---------------------------------------------------------------------------------------------
// Phase 1: which promise answers count
// ---------------------------------------------------------------------------------------------

test('fill: a promise answer to an earlier round (another rid) is not counted', () => {
  const run = new FillRun(0, 0);
  const first = run.promiseReq;
  run.promise(1, { outcome: 'reject', proposal: 30 }, 1);
  run.tick(1 + BACKOFF);
  const second = run.promiseReq;
  assert.notEqual(second.rid, first.rid);
  // Members 2 and 3 promised the first round; their answers arrive during the second.
  const late = { rid: first.rid, proposal: first.proposal };
  run.promise(2, late, 100);
  run.promise(3, late, 100);
  assert.throws(() => run.writeReq, /no write/, 'promises to a lost round are no promises to this one');
  run.promise(2, {}, 101);
  run.promise(3, {}, 101);
  assert.equal(run.writeReq.proposal, second.proposal);
});

test('fill: one answer per member per round: a repeated promise is neither counted nor named twice', () => {
  const run = new FillRun(0, 0, { members: [1, 2, 3, 4, 5] });
  run.promise(1);
  run.promise(1);
  run.promise(2);
  assert.throws(() => run.writeReq, /no write/, 'two members of five are no quorum');
  run.promise(3);
  assert.deepEqual(run.writeReq.named.map((n) => n.id), [1, 2, 3]);
});

test('fill: a reject ends the round; after a backoff the fill asks again, above the rejecting proposal', () => {
  const run = new FillRun(0, 0, { floor: 20 });
  run.promise(1, { outcome: 'reject', proposal: 50 }, 10);
  assert.equal(run.fill.highestSeen, 50, 'the owner learns the higher proposal');
  const mark = run.out.length;
  run.promise(2, {}, 11);
  run.promise(3, {}, 11);
  assert.deepEqual(sent(run, mark), [], 'promises after the reject win nothing: the round is lost');
  assert.equal(run.tick(10 + BACKOFF - 1), undefined);
  assert.deepEqual(sent(run, mark), [], 'nothing before the backoff is over');
  run.tick(10 + BACKOFF);
  assert.deepEqual(sent(run, mark), ['promise>1', 'promise>2', 'promise>3']);
  assert.equal(run.promiseReq.proposal, 51);
  const again = run.out.length;
  run.tick(10 + BACKOFF + timing.retransmitMs - 1);
  assert.deepEqual(sent(run, again), [], 'the new round\'s retransmissions count from its start');
});

test('fill: a reject naming a lower proposal than the fill\'s own does not lower the next round', () => {
  const run = new FillRun(0, 0, { floor: 20 });
  run.promise(1, { outcome: 'reject', proposal: 5 }, 10);
  run.tick(10 + BACKOFF);
  assert.equal(run.promiseReq.proposal, 22);
});

test('fill: the backoff lasts backoffMinMs * (1 + random)', () => {
  for (const random of [0, 0.9]) {
    const run = new FillRun(0, 0, { random });
    run.promise(1, { outcome: 'reject', proposal: 50 }, 1000);
    const until = 1000 + timing.backoffMinMs * (1 + random);
    const mark = run.out.length;
    run.tick(Math.ceil(until) - 1);
    assert.deepEqual(sent(run, mark), [], `random ${random}: still backing off`);
    run.tick(Math.ceil(until));
    assert.equal(sent(run, mark).length, 3, `random ${random}: the next round starts`);
  }
});

test('fill: an IGNORED promise answer (a replica that may not vote) is no promise, and its slots are not read', () => {
  const run = new FillRun(0, 0);
  run.promise(1, { outcome: 'ignored', status: 'RECOVERING', slots: [accepted(0, 99, 'unvoted')] });
  run.promise(2);
  assert.throws(() => run.writeReq, /no write/);
  run.promise(3);
  assert.deepEqual(run.writeReq.named.map((n) => n.id), [2, 3]);
  assert.deepEqual(run.writeReq.actions.map(text), ['nop']);
});

test('fill: once so many members ignored that no quorum can promise, the round is lost and a new one starts', () => {
  const run = new FillRun(0, 0, { floor: 20 });
  run.promise(1, { outcome: 'ignored' }, 10);
  run.promise(2, { outcome: 'ignored' }, 10);
  const mark = run.out.length;
  run.tick(10 + BACKOFF);
  assert.deepEqual(sent(run, mark), ['promise>1', 'promise>2', 'promise>3'], 'a new round to every member (not a retransmission to the one left)');
  assert.equal(run.promiseReq.proposal, 22);
});

// Phase 1 counts members only, as phase 2 does. A promise is only ever asked of members, under a request id
// unique to the owner, so an honest non-member never answers one; a forged answer carrying a high accepted
// value would otherwise be half a quorum and the value re-proposed (phase 2's named-disk count kept such a
// round from choosing, but it stalled the fill a backoff each time).
test('fill: a non-member\'s promise is not counted, and its accepted value is not re-proposed', () => {
  const run = new FillRun(0, 0, { members: [1, 2, 3], floor: 20 });
  assert.equal(run.promise(9, { slots: [accepted(0, 19, 'forged')] }, 0), undefined);
  assert.equal(run.promise(1, {}, 0), undefined, 'one member is not a quorum');
  run.promise(2, {}, 0);
  assert.deepEqual(run.writeReq.named.map((n) => n.id), [1, 2]);
  assert.deepEqual(run.writeReq.actions.map((a) => a.kind), ['nop'], 'the forged value is not written');
});

test('fill: an accept answer carrying a newer head is still a promise (the range lies below that head\'s entry)', () => {
  const run = new FillRun(0, 1);
  const newer = { epoch: 1, position: 10 };
  assert.equal(run.promise(1, { config: newer }), undefined);
  assert.equal(run.promise(2, { config: newer }), undefined);
  assert.deepEqual(run.writeReq.named.map((n) => n.id), [1, 2]);
  assert.equal(run.write(1, { config: newer }), undefined);
  assert.equal(run.write(2, { config: newer })?.ok, true);
});

test('fill: a stale-config promise answer naming no newer head is no promise: two of three make the round unreachable', () => {
  const run = new FillRun(0, 0, { floor: 20 });
  const own = run.promiseReq.config!;
  run.promise(1, { outcome: 'stale-config', config: own }, 10);
  run.promise(2, { outcome: 'stale-config', config: undefined }, 10);
  const mark = run.out.length;
  run.tick(10 + BACKOFF);
  assert.deepEqual(sent(run, mark), ['promise>1', 'promise>2', 'promise>3'], 'a new round');
  assert.equal(run.promiseReq.proposal, 22);
});

test('fill: a stale-config write answer naming no newer head is no acceptance: two of three make the round unreachable', () => {
  const run = new FillRun(0, 0, { floor: 20 });
  run.promise(1, {}, 0);
  run.promise(2, {}, 0);
  const own = run.writeReq.config!;
  run.write(1, { outcome: 'stale-config', config: own }, 10);
  run.write(2, { outcome: 'stale-config', config: undefined }, 10);
  const mark = run.out.length;
  run.tick(10 + BACKOFF);
  assert.deepEqual(sent(run, mark), ['promise>1', 'promise>2', 'promise>3'], 'a new round');
  assert.equal(run.promiseReq.proposal, 22);
});

test('fill: a stale-config promise answer ends the fill only when its head is newer than the fill\'s', () => {
  const run = new FillRun(0, 0, { members: [1, 2, 3, 4, 5] });
  const own = run.promiseReq.config!;
  assert.equal(run.promise(1, { outcome: 'stale-config', config: own }), undefined, 'the same head: no vote, not the end');
  assert.equal(run.promise(2, { outcome: 'stale-config', config: undefined }), undefined, 'no head: no vote, not the end');
  assert.deepEqual(run.promise(3, { outcome: 'stale-config', config: { epoch: own.epoch + 1, position: 7 } }), {
    ok: false, error: 'stale-config', config: { epoch: own.epoch + 1, position: 7 },
  });
  const mark = run.out.length;
  for (const id of [4, 5, 1, 2]) assert.equal(run.promise(id), undefined, 'the fill is over');
  run.tick(1000);
  assert.deepEqual(sent(run, mark), []);
});

// ---------------------------------------------------------------------------------------------
// What phase 2 writes
// ---------------------------------------------------------------------------------------------

test('fill: a member\'s beginning above the fill\'s first position means the range is truncated there (the highest beginning)', () => {
  const run = new FillRun(3, 8);
  run.promise(1, { begin: 6 });
  assert.deepEqual(run.promise(2, { begin: 0 }), { ok: false, error: 'truncated', begin: 6 });
  const mark = run.out.length;
  run.tick(5000);
  assert.deepEqual(sent(run, mark), [], 'the fill is over: no NOP is ever written at a truncated position');
});

test('fill: a fill starting exactly at a member\'s beginning is not truncated', () => {
  const run = new FillRun(6, 8);
  run.promise(1, { begin: 6 });
  run.promise(2, { begin: 2 });
  assert.equal(run.writeReq.from, 6);
  assert.deepEqual(run.writeReq.actions.map(text), ['nop', 'nop', 'nop']);
});

test('fill: the write and its commit cover exactly the range, and the result names the proposal as its floor', () => {
  const run = new FillRun(2, 4);
  run.promise(1, { slots: [accepted(3, 7, 'b')] });
  run.promise(2);
  const wr = run.writeReq;
  assert.deepEqual([wr.from, wr.actions.map(text)], [2, ['nop', 'b', 'nop']]);
  const mark = run.out.length;
  run.write(1);
  const r = run.write(2);
  assert.equal(r?.ok, true);
  assert.deepEqual(r, { ok: true, floor: wr.proposal, entries: wr.actions.map((action, k) => ({ position: 2 + k, action })) });
  const commits = run.since(mark).map((o) => [o.to, o.msg]);
  assert.deepEqual(commits, [1, 2].map((to) => [to, { type: 'commit', proposal: wr.proposal, from: 2, to: 4 }]));
  const after = run.out.length;
  assert.equal(run.write(3), undefined, 'the fill is over');
  assert.equal(run.tick(1000), undefined);
  assert.deepEqual(sent(run, after), []);
});

test('fill: a range learned everywhere it is reported is settled without a write, and without a floor', () => {
  const run = new FillRun(0, 1);
  run.promise(1, { slots: [accepted(0, 5, 'a', true)] });
  const r = run.promise(2, { slots: [accepted(1, 6, 'b', true)] });
  assert.deepEqual(r, { ok: true, entries: [{ position: 0, action: accepted(0, 5, 'a').action }, { position: 1, action: accepted(1, 6, 'b').action }] });
  assert.deepEqual(sent(run).filter((s) => !s.startsWith('promise')), [], 'no write and no commit');
  const mark = run.out.length;
  assert.equal(run.promise(3), undefined, 'the fill is over');
  assert.equal(run.tick(1000), undefined);
  assert.deepEqual(sent(run, mark), []);
});

test('fill: a learned value outranks any accepted one, even one accepted under a higher proposal', () => {
  for (const order of [[1, 2], [2, 1]]) {
    const run = new FillRun(0, 0);
    const slots = { 1: [accepted(0, 3, 'learned', true)], 2: [accepted(0, 90, 'accepted')] } as const;
    let r;
    for (const id of order) r ??= run.promise(id, { slots: slots[id as 1 | 2] });
    assert.deepEqual(r?.ok === true ? r.entries.map((e) => text(e.action)) : r, ['learned'], `order ${order}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Phase 2: which write answers count
// ---------------------------------------------------------------------------------------------

test('fill: a write acceptance counts only from the disk that promised: same member id, generation and disk', () => {
  // 1 and 2 promised (generation 1, disks 11 and 12); each run has one acceptance that must not count, then 2's real one.
  const cases = [
    { who: 1, generation: 1, disk: 99, why: '1\'s disk was replaced since it promised' },
    { who: 1, generation: 2, disk: 11, why: '1 answers from another generation' },
    { who: 3, generation: 1, disk: 11, why: '3 did not promise (it names 1\'s disk)' },
  ];
  for (const c of cases) {
    const run = new FillRun(0, 0);
    run.promise(1, { generation: 1, disk: 11 });
    run.promise(2, { generation: 1, disk: 12 });
    assert.deepEqual(run.writeReq.named, [{ id: 1, generation: 1, disk: 11 }, { id: 2, generation: 1, disk: 12 }]);
    assert.equal(run.write(c.who, { generation: c.generation, disk: c.disk }), undefined);
    assert.equal(run.write(2, { generation: 1, disk: 12 }), undefined, `${c.why}: one acceptance of two`);
  }
});

test('fill: a write acceptance counts only from a member that promised, with the disk it promised with', () => {
  const run = new FillRun(0, 0, { members: [1, 2, 3, 4, 5] });
  run.promise(1, { generation: 1, disk: 11 });
  run.promise(2, { generation: 1, disk: 12 });
  run.promise(3, { generation: 1, disk: 13 });
  assert.equal(run.write(1, { generation: 1, disk: 99 }), undefined, 'member 1\'s disk was replaced since it promised');
  assert.equal(run.write(2, { generation: 2, disk: 12 }), undefined, 'member 2 answers from another generation');
  assert.equal(run.write(4, { generation: 0, disk: 0 }), undefined, 'member 4 never promised');
  assert.equal(run.write(3, { generation: 1, disk: 13 }), undefined, 'one real acceptance of three needed');
  assert.equal(run.write(5), undefined, 'member 5 never promised either');
  assert.equal(run.tick(3), undefined);
});

test('fill: a write answer from a replica that is no member is not counted, not even as a member that cannot vote', () => {
  const run = new FillRun(0, 0);
  run.promise(1);
  run.promise(2);
  assert.equal(run.write(9), undefined);
  assert.equal(run.write(8, { outcome: 'ignored' }), undefined, 'two non-members\' answers do not make the round unreachable');
  assert.equal(run.write(7, { outcome: 'stale-config', config: { epoch: 5, position: 9 } }), undefined, 'nor does a non-member end the fill');
  assert.equal(run.write(1), undefined, 'one acceptance of the quorum of two');
  assert.equal(run.write(2)?.ok, true);
});

test('fill: a member\'s first answer to a write stands: a later stale-config answer from it changes nothing', () => {
  const run = new FillRun(0, 0);
  run.promise(1);
  run.promise(2);
  assert.equal(run.write(1), undefined);
  assert.equal(run.write(1, { outcome: 'stale-config', config: { epoch: 1, position: 9 } }), undefined, 'already counted in this round');
  assert.equal(run.write(2)?.ok, true);
});

test('fill: a write answer to an earlier round (another rid) is not counted', () => {
  const run = new FillRun(0, 0, { members: [1, 2, 3, 4, 5] });
  for (const id of [1, 2, 3]) run.promise(id, {}, 0);
  const first = run.writeReq;
  run.write(4, { outcome: 'reject', proposal: 30 }, 1);
  run.tick(1 + BACKOFF);
  for (const id of [1, 2, 3]) run.promise(id, {}, 100);
  const second = run.writeReq;
  assert.notEqual(second.rid, first.rid);
  // 1, 2 and 3 accepted the first round's write; their answers arrive now.
  const late = { rid: first.rid, proposal: first.proposal };
  for (const id of [1, 2, 3]) assert.equal(run.write(id, late, 101), undefined, 'acceptances of a lost round are not acceptances of this one');
  assert.equal(run.write(2, {}, 102), undefined);
  assert.equal(run.write(3, {}, 102), undefined);
  assert.equal(run.write(1, {}, 102)?.ok, true);
});

test('fill: one acceptance per member: a repeated one is not counted again', () => {
  const run = new FillRun(0, 0, { members: [1, 2, 3, 4, 5] });
  for (const id of [1, 2, 3]) run.promise(id);
  assert.equal(run.write(1), undefined);
  assert.equal(run.write(1), undefined);
  assert.equal(run.write(2), undefined, 'two of five');
  assert.equal(run.write(3)?.ok, true);
});

test('fill: a write reject sends the fill back to phase 1, above the rejecting proposal', () => {
  const run = new FillRun(0, 0, { floor: 20 });
  run.promise(1);
  run.promise(2);
  run.write(1, {}, 5);
  run.write(2, { outcome: 'reject', proposal: 60 }, 5);
  assert.equal(run.fill.highestSeen, 60);
  const mark = run.out.length;
  run.tick(5 + BACKOFF - 1);
  assert.deepEqual(sent(run, mark), []);
  run.tick(5 + BACKOFF);
  assert.deepEqual(sent(run, mark), ['promise>1', 'promise>2', 'promise>3']);
  assert.equal(run.promiseReq.proposal, 61);
});

test('fill: a write answer \'stale\' (a named disk was replaced) sends the fill back to phase 1 as a reject does', () => {
  const run = new FillRun(0, 0, { floor: 20 });
  run.promise(1);
  run.promise(2);
  run.write(1, { outcome: 'stale', proposal: 21 }, 5);
  const mark = run.out.length;
  assert.equal(run.write(2, {}, 6), undefined, 'the round is over: no acceptance completes it');
  run.tick(5 + BACKOFF);
  assert.deepEqual(sent(run, mark), ['promise>1', 'promise>2', 'promise>3']);
  assert.equal(run.promiseReq.proposal, 22);
});

test('fill: a reject from a member already counted still ends the round (its later writes are refused for good)', () => {
  const run = new FillRun(0, 0, { members: [1, 2, 3, 4, 5] });
  for (const id of [1, 2, 3]) run.promise(id);
  run.write(1, {}, 5);
  run.write(1, { outcome: 'reject', proposal: 40 }, 6);
  assert.equal(run.fill.highestSeen, 40);
  assert.equal(run.write(2, {}, 7), undefined);
  assert.equal(run.write(3, {}, 7), undefined, 'the round is lost');
});

test('fill: not-ready is neither a vote nor a refusal: the member is asked again and its later acceptance counts', () => {
  const run = new FillRun(0, 0);
  run.promise(1, {}, 0);
  run.promise(2, {}, 0);
  const mark = run.out.length;
  run.write(1, { outcome: 'not-ready' }, 1);
  run.write(2, { outcome: 'not-ready' }, 1);
  run.tick(1 + BACKOFF);
  assert.deepEqual(sent(run, mark), [], 'no new round');
  run.tick(timing.retransmitMs);
  assert.deepEqual(sent(run, mark), ['write>1', 'write>2', 'write>3'], 'the write is retransmitted to all three');
  assert.equal(run.write(1, {}, timing.retransmitMs + 1), undefined);
  assert.equal(run.write(2, {}, timing.retransmitMs + 1)?.ok, true);
});

test('fill: an IGNORED write answer is no vote; once no quorum can accept, a new round starts', () => {
  const run = new FillRun(0, 0, { floor: 20 });
  run.promise(1, {}, 0);
  run.promise(2, {}, 0);
  run.write(1, { outcome: 'ignored' }, 10);
  run.write(2, { outcome: 'ignored' }, 10);
  const mark = run.out.length;
  run.tick(10 + BACKOFF);
  assert.deepEqual(sent(run, mark), ['promise>1', 'promise>2', 'promise>3']);
  assert.equal(run.promiseReq.proposal, 22);
});

test('fill: a stale-config write answer with a newer head ends the fill with that head', () => {
  const run = new FillRun(0, 0);
  run.promise(1);
  run.promise(2);
  const newer = { epoch: 1, position: 3 };
  assert.deepEqual(run.write(1, { outcome: 'stale-config', config: newer }), { ok: false, error: 'stale-config', config: newer });
  const mark = run.out.length;
  assert.equal(run.write(2), undefined, 'the fill is over');
  assert.equal(run.write(1), undefined);
  run.tick(1000);
  assert.deepEqual(sent(run, mark), []);
});

// ---------------------------------------------------------------------------------------------
// Retransmissions and giving up
// ---------------------------------------------------------------------------------------------

test('fill: every retransmitMs the request goes again to the members that have not answered, same round', () => {
  const run = new FillRun(0, 0, {}, 0);
  const req = run.promiseReq;
  run.promise(1, {}, 1);
  let mark = run.out.length;
  run.tick(timing.retransmitMs - 1);
  assert.deepEqual(sent(run, mark), []);
  run.tick(timing.retransmitMs);
  assert.deepEqual(sent(run, mark), ['promise>2', 'promise>3']);
  assert.deepEqual([run.promiseReq.rid, run.promiseReq.proposal], [req.rid, req.proposal]);
  mark = run.out.length;
  run.tick(2 * timing.retransmitMs - 1);
  assert.deepEqual(sent(run, mark), [], 'counted from the last retransmission');
  const writeAt = 2 * timing.retransmitMs - 1;
  run.promise(2, {}, writeAt);
  const w = run.out.length;
  run.write(2, {}, writeAt + 1);
  run.tick(writeAt + timing.retransmitMs - 1);
  assert.deepEqual(sent(run, w), [], 'counted from the write');
  run.tick(writeAt + timing.retransmitMs);
  assert.deepEqual(sent(run, w), ['write>1', 'write>3']);
});

test('fill: without patience, the fill gives up with no-quorum operationTimeoutMs after it started, however busy', () => {
  const start = 5000;
  const end = start + timing.operationTimeoutMs;
  const run = new FillRun(0, 0, {}, start);
  run.promise(1, { outcome: 'reject', proposal: 30 }, end - 100);
  run.promise(2, { outcome: 'reject', proposal: 30 }, end - 100);
  assert.equal(run.tick(end - 1), undefined);
  assert.deepEqual(run.tick(end), { ok: false, error: 'no-quorum' });
  const mark = run.out.length;
  assert.equal(run.tick(end + 1000), undefined, 'and then stays over');
  assert.deepEqual(sent(run, mark), []);
});

test('fill: a patient fill goes on past operationTimeoutMs while a quorum answered it within that time', () => {
  const run = new FillRun(0, 0, { patient: true }, 0);
  run.promise(1, { outcome: 'reject', proposal: 30 }, timing.operationTimeoutMs - 100);
  run.promise(2, { outcome: 'reject', proposal: 30 }, timing.operationTimeoutMs - 100);
  assert.equal(run.tick(timing.operationTimeoutMs), undefined, 'rejects are answers: the replicas are busy, not gone');
  assert.deepEqual(run.tick(2 * timing.operationTimeoutMs - 100), { ok: false, error: 'no-quorum' }, 'once nothing was heard for operationTimeoutMs');
});

test('fill: one member answering is not a quorum answering: a patient fill still gives up', () => {
  const run = new FillRun(0, 0, { patient: true }, 0);
  run.promise(1, { outcome: 'reject', proposal: 30 }, timing.operationTimeoutMs - 100);
  assert.deepEqual(run.tick(timing.operationTimeoutMs), { ok: false, error: 'no-quorum' });
});

test('fill: an IGNORED promise answer is no sign of life for a patient fill', () => {
  const run = new FillRun(0, 0, { patient: true }, 0);
  for (const id of [1, 2, 3]) run.promise(id, { outcome: 'ignored' }, timing.operationTimeoutMs - 100);
  assert.deepEqual(run.tick(timing.operationTimeoutMs), { ok: false, error: 'no-quorum' });
});

test('fill: an IGNORED write answer is no sign of life for a patient fill', () => {
  const run = new FillRun(0, 0, { patient: true }, 0);
  run.promise(1, {}, 0);
  run.promise(2, {}, 0);
  run.write(1, { outcome: 'ignored' }, timing.operationTimeoutMs - 100);
  run.write(2, { outcome: 'ignored' }, timing.operationTimeoutMs - 100);
  assert.deepEqual(run.tick(timing.operationTimeoutMs), { ok: false, error: 'no-quorum' });
});

test('fill: a write answer is a sign of life for a patient fill', () => {
  const run = new FillRun(0, 0, { patient: true }, 0);
  run.promise(1, {}, 0);
  run.promise(2, {}, 0);
  run.write(1, { outcome: 'not-ready' }, timing.operationTimeoutMs - 100);
  run.write(2, { outcome: 'not-ready' }, timing.operationTimeoutMs - 100);
  assert.equal(run.tick(timing.operationTimeoutMs), undefined);
});

test('fill: the rules given are the rules used (followPending off: a config entry is written as any value)', () => {
  const run = new FillRun(0, 1, { rules: { ...ALL_RULES_ON, followPending: false } });
  const entry = { position: 1, promised: 5, accepted: 5, learned: false, action: { kind: 'config' as const, config: { epoch: 1, voters: [{ id: 1, address: '' }], learners: [], nextId: 4 } } };
  run.promise(1, { slots: [entry] });
  run.promise(2);
  assert.deepEqual(run.writeReq.actions.map(text), ['nop', 'config1'], 'not cut below the entry');
});
