// The writer, ported from Mesos's CoordinatorTest scenarios, against an
// in-memory cluster whose network the test drives message by message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { timing } from '../../src/core/constants.js';
import { WriterCore } from '../../src/core/writer.js';

function ok(c: Cluster, id: number): number {
  const r = c.results.get(id);
  assert.ok(r, `operation ${id} finished`);
  assert.ok(r.ok, `operation ${id} succeeded: ${JSON.stringify(r)}`);
  return r.position;
}

test('election on an empty log writes a NOP at 0; the first append goes to 1 (CoordinatorTest.Elect, AppendRead)', () => {
  const c = new Cluster(2);
  c.elect('w');
  c.run();
  assert.deepEqual(c.elections.get('w'), { ok: true, position: 0 });
  assert.equal(c.learnedText(1, 0), 'NOP');
  const a = c.append('w', 'hello world');
  c.run();
  assert.equal(ok(c, a), 1);
  assert.equal(c.learnedText(1, 1), 'hello world');
  assert.equal(c.learnedText(2, 1), 'hello world');
  c.checkAgreement();
});

test('many appends in flight resolve in position order (CoordinatorTest.MultipleAppends)', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  const ids = Array.from({ length: 10 }, (_, i) => c.append('w', String(i + 1)));
  c.run();
  assert.deepEqual(ids.map((id) => ok(c, id)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  for (let p = 1; p <= 10; p++) assert.equal(c.learnedText(3, p), String(p));
});

test('with one of three replicas down, appends go on', () => {
  const c = new Cluster(3);
  c.crash(3);
  c.elect('w');
  c.run();
  const a = c.append('w', 'x');
  c.run();
  assert.equal(ok(c, a), 1);
});

test('with no quorum, the election fails with no-quorum after the timeout (CoordinatorTest.ElectNoQuorum)', () => {
  const c = new Cluster(3);
  c.crash(2);
  c.crash(3);
  c.elect('w');
  c.run(20_000);
  assert.deepEqual(c.elections.get('w'), { ok: false, error: 'no-quorum' });
});

test('an append with no quorum fails with no-quorum; the next one re-elects and succeeds (CoordinatorTest.AppendNoQuorum)', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  c.crash(2);
  c.crash(3);
  const a = c.append('w', 'lost?');
  c.run(20_000);
  assert.deepEqual(c.results.get(a), { ok: false, error: 'no-quorum', unknownAt: 1 });
  c.restart(2);
  const b = c.append('w', 'after');
  c.run();
  const pb = ok(c, b);
  assert.ok(pb > 1);
  c.checkAgreement();
});

test('failover: a second writer takes over, sees the first one\'s appends, and fences it (CoordinatorTest.Failover, Demoted)', () => {
  const c = new Cluster(3);
  c.elect('w1');
  c.run();
  const a = c.append('w1', 'hello world');
  c.run();
  assert.equal(ok(c, a), 1);
  c.elect('w2');
  c.run();
  assert.deepEqual(c.elections.get('w2'), { ok: true, position: 2 });
  const late = c.append('w1', 'late');
  c.run();
  assert.equal(c.results.get(late)?.ok, false);
  assert.equal((c.results.get(late) as { error: string }).error, 'fenced');
  const later = c.append('w1', 'later');
  assert.equal((c.results.get(later) as { error: string }).error, 'fenced', 'a fenced writer fails at once');
  const b = c.append('w2', 'b');
  c.run();
  assert.equal(ok(c, b), 3);
  assert.equal(c.learnedText(1, 1), 'hello world');
  c.checkAgreement();
});

test('a new writer re-proposes values accepted but never learned (CoordinatorTest.NotLearnedFill)', () => {
  const c = new Cluster(3);
  c.elect('w1', [1, 2]);
  c.run();
  // Commits never reach anyone: replicas 1 and 2 hold the values unlearned.
  c.dropIf = (e) => e.msg.type === 'commit';
  const ids = Array.from({ length: 10 }, (_, i) => c.append('w1', String(i + 1)));
  c.run();
  ids.forEach((id, i) => assert.equal(ok(c, id), i + 1));
  assert.equal(c.learnedText(1, 5), undefined, 'not learned anywhere');
  c.dropIf = () => false;
  c.elect('w2', [2, 3]);
  c.run();
  assert.deepEqual(c.elections.get('w2'), { ok: true, position: 11 });
  for (let p = 1; p <= 10; p++) assert.equal(c.learnedText(3, p), String(p), `replica 3 learned ${p}`);
  c.checkAgreement();
});

test('a value accepted by a minority only may be replaced by NOP, and nothing diverges', () => {
  const c = new Cluster(3);
  c.elect('w1');
  c.run();
  // w1's write reaches only replica 1.
  c.dropIf = (e) => e.from === 'w1' && e.msg.type === 'write' && e.to !== 'r1';
  const a = c.append('w1', 'minority');
  c.deliverOne();
  c.deliverOne();
  c.dropIf = () => false;
  c.inflight = [];
  c.elect('w2', [2, 3]);
  c.run(2_000);
  assert.ok(c.elections.get('w2')?.ok);
  assert.equal(c.learnedText(2, 1), 'NOP');
  c.run();
  assert.notEqual(c.results.get(a)?.ok, true, 'the minority append was never acknowledged');
  c.checkAgreement();
});

test('truncate takes its own position and removes the positions before `to` (CoordinatorTest.Truncate)', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  for (let i = 1; i <= 10; i++) c.append('w', String(i));
  const t = c.truncate('w', 7);
  c.run();
  assert.equal(ok(c, t), 11);
  for (const id of [1, 2, 3]) {
    assert.equal(c.store(id).begin(), 7);
    assert.equal(c.store(id).slot(6), undefined);
    assert.equal(c.learnedText(id, 7), '7');
  }
  const r = c.read('reader', 6, 10);
  c.run();
  assert.deepEqual(c.reads.get(r), { ok: false, error: 'truncated', begin: 7 });
  const r2 = c.read('reader', 7, 10);
  c.run();
  const res = c.reads.get(r2)!;
  assert.ok(res.ok);
  assert.deepEqual(res.entries.map((e) => e.position), [7, 8, 9, 10]);
});

test('a truncate learned by the new writer\'s fill is applied on the replica that missed it (TruncateNotLearnedFill)', () => {
  const c = new Cluster(3);
  c.elect('w1', [1, 2]);
  c.run();
  c.dropIf = (e) => e.msg.type === 'commit' && e.to === 'r2';
  for (let i = 1; i <= 10; i++) c.append('w1', String(i));
  c.truncate('w1', 7);
  c.run();
  c.dropIf = () => false;
  c.elect('w2', [2, 3]);
  c.run();
  assert.deepEqual(c.elections.get('w2'), { ok: true, position: 12 });
  assert.equal(c.store(3).begin(), 7);
  assert.equal(c.store(2).begin(), 7);
  c.checkAgreement();
});

test('duplicated and reordered messages change nothing', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  const ids = Array.from({ length: 5 }, (_, i) => c.append('w', `v${i}`));
  // Duplicate every message in flight, then deliver in reverse order.
  c.inflight = [...c.inflight, ...c.inflight].reverse();
  c.run();
  ids.forEach((id, i) => assert.equal(ok(c, id), i + 1));
  c.checkAgreement();
});

test('a late promiser that holds stale values above the writer\'s next position: the writer settles them with NOPs', () => {
  // w1 got b, c, d to replica 3 only (positions 2..4), then died. w2 was elected by replicas 1 and 2
  // (E = 1: NOP at 2, next 3). Replica 3 promises w2 only later, still holding c and d under b1, never
  // chosen. An idle w2 would leave them pending forever: every read meeting them waits for w2 (it is
  // active) and then has to fill above w2's proposal right where w2's next append goes.
  const c = new Cluster(3);
  c.elect('w1');
  c.run();
  const a = c.append('w1', 'a');
  c.run();
  assert.equal(ok(c, a), 1);
  c.dropIf = (e) => e.from === 'w1' && e.to !== 'r3';
  for (const v of ['b', 'c', 'd']) c.append('w1', v);
  while (c.deliverOne());
  c.writers.delete('w1');
  c.dropIf = (e) => e.from === 'w2' && e.to === 'r3'; // replica 3 is cut off from w2 for a while
  c.elect('w2');
  c.run();
  assert.deepEqual(c.elections.get('w2'), { ok: true, position: 2 });
  assert.equal(c.learnedText(3, 3), undefined, 'replica 3 holds c at 3 under b1, unlearned');
  c.dropIf = () => false;
  // The writer asks members it has not named to promise (timing.repromiseMs); replica 3 answers now.
  for (let t = 0; t < (timing.repromiseMs + 500) / 50; t++) {
    c.tick(50);
    while (c.deliverOne());
  }
  for (const id of [1, 2, 3]) {
    assert.equal(c.learnedText(id, 3), 'NOP', `replica ${id} learned NOP at 3`);
    assert.equal(c.learnedText(id, 4), 'NOP', `replica ${id} learned NOP at 4`);
  }
  const e = c.append('w2', 'e');
  c.run();
  assert.equal(ok(c, e), 5, 'appends go on after the settled positions');
  c.checkAgreement();
});

test('an election with a grace names every member that promises within it, so that the writer survives one loss before it confirms a late member', () => {
  const promiseReply = (rid: number) =>
    ({ type: 'promiseReply', rid, outcome: 'accept', proposal: 1, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1, generation: 0, disk: 0 }) as const;
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 100 });
  const rid = (w.step({ type: 'elect' }, 0).send[0]!.msg as { rid: number }).rid;
  w.step({ type: 'reply', from: 1, msg: promiseReply(rid) }, 1);
  w.step({ type: 'reply', from: 2, msg: promiseReply(rid) }, 2);
  assert.equal(w.roleKind, 'electing', 'a quorum promised: the election waits for the third a little');
  w.step({ type: 'reply', from: 3, msg: promiseReply(rid) }, 40);
  assert.equal(w.roleKind, 'elected');
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2, 3], 'every member named: one may die now');
  // The third never answers: elected with the quorum once the grace is over.
  const v = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 100 });
  const rid2 = (v.step({ type: 'elect' }, 0).send[0]!.msg as { rid: number }).rid;
  v.step({ type: 'reply', from: 1, msg: promiseReply(rid2) }, 1);
  v.step({ type: 'reply', from: 2, msg: promiseReply(rid2) }, 2);
  v.step({ type: 'tick' }, 50);
  assert.equal(v.roleKind, 'electing');
  v.step({ type: 'tick' }, 102);
  assert.equal(v.roleKind, 'elected');
  assert.deepEqual([...v.namedMembers.keys()].sort(), [1, 2]);
});

test('a late promiser is named only after a quorum of named members answered a request sent after its promise arrived, even within one millisecond', () => {
  // The safety argument (writer.ts header) needs the named members' answers to postdate the newcomer's
  // promise; clock readings of one millisecond cannot order a write sent just before the promise arrived
  // from one sent just after it.
  const promiseReply = (rid: number) =>
    ({ type: 'promiseReply', rid, outcome: 'accept', proposal: 1, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1, generation: 0, disk: 0 }) as const;
  const writeReply = (rid: number, from: number, count: number) =>
    ({ type: 'writeReply', rid, outcome: 'accept', proposal: 1, from, count, generation: 0, disk: 0, retired: [] }) as const;
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 0 });
  const electionRid = (w.step({ type: 'elect' }, 0).send[0]!.msg as { rid: number }).rid;
  w.step({ type: 'reply', from: 1, msg: promiseReply(electionRid) }, 1);
  w.step({ type: 'reply', from: 2, msg: promiseReply(electionRid) }, 1);
  assert.equal(w.roleKind, 'elected');
  w.step({ type: 'submit', op: { id: 1, action: { kind: 'append', data: new Uint8Array([1]) } } }, 5);
  const sent = w.step({ type: 'flush' }, 5).send.map((s) => s.msg);
  const writes = sent.filter((m): m is Extract<typeof m, { type: 'write' }> => m.type === 'write');
  assert.ok(writes.length > 0, 'the election NOP and the append are on their way');
  // Member 3's late promise arrives in the same millisecond, after those writes left.
  const asked = w.step({ type: 'reply', from: 3, msg: promiseReply(electionRid) }, 5).send.map((s) => s.msg);
  const round = asked.find((m) => m.type === 'promise');
  assert.ok(round, 'the writer asks the named members to confirm');
  for (const m of writes) for (const from of [1, 2]) w.step({ type: 'reply', from, msg: writeReply(m.rid, m.from, m.actions.length) }, 5);
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2], 'answers to writes sent before the promise arrived confirm nothing');
  for (const from of [1, 2]) w.step({ type: 'reply', from, msg: promiseReply(round.rid) }, 6);
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2, 3], 'answers to the round sent after it name member 3');
});

test('commits go only to the members whose disk promised the writer: another disk may hold a value under the same number from another proposer', () => {
  // After disk losses two proposers can hold one number (docs/protocol.md, "Proposal numbers"); a commit
  // names only the number, so a member that never promised this writer would learn the other's value.
  const promiseReply = (rid: number) =>
    ({ type: 'promiseReply', rid, outcome: 'accept', proposal: 1, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1, generation: 0, disk: 0 }) as const;
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 0 });
  const electionRid = (w.step({ type: 'elect' }, 0).send[0]!.msg as { rid: number }).rid;
  w.step({ type: 'reply', from: 1, msg: promiseReply(electionRid) }, 1);
  const writes = w.step({ type: 'reply', from: 2, msg: promiseReply(electionRid) }, 1).send.filter((s) => s.msg.type === 'write');
  assert.ok(writes.length > 0 && writes.every((s) => s.to !== 3), 'the election NOP goes to the members that promised');
  const commits: number[] = [];
  for (const s of writes) {
    const m = s.msg as Extract<typeof s.msg, { type: 'write' }>;
    const reply = { type: 'writeReply', rid: m.rid, outcome: 'accept', proposal: 1, from: m.from, count: m.actions.length, generation: 0, disk: 0, retired: [] } as const;
    for (const o of w.step({ type: 'reply', from: s.to, msg: reply }, 2).send) if (o.msg.type === 'commit') commits.push(o.to);
  }
  for (let t = 50; t <= 5_000; t += 50) for (const o of w.step({ type: 'tick' }, t).send) if (o.msg.type === 'commit') commits.push(o.to);
  assert.ok(commits.length >= 2, 'commits and recommits were sent');
  assert.ok(!commits.includes(3), `no commit to member 3, which never promised (sent to ${commits.join(',')})`);
});

test('an election whose quorum reports a value far above its learned prefix fails as insane instead of queueing that many NOPs', () => {
  // Two hostile replicas vouching for a value at 2^40 crashed the client with an array of that size.
  const at = 2 ** 40;
  const promiseReply = (rid: number, slotAt?: number) =>
    ({
      type: 'promiseReply', rid, outcome: 'accept', proposal: 1, status: 'VOTING', begin: 0, end: slotAt ?? -1, learnedThrough: -1,
      slots: slotAt === undefined ? [] : [{ position: slotAt, promised: 0, accepted: 1, learned: false, action: { kind: 'nop' } as const }],
      coveredThrough: slotAt ?? -1, generation: 0, disk: 0,
    }) as const;
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 0 });
  const rid = (w.step({ type: 'elect' }, 0).send[0]!.msg as { rid: number }).rid;
  w.step({ type: 'reply', from: 1, msg: promiseReply(rid, at) }, 1);
  const out = w.step({ type: 'reply', from: 2, msg: promiseReply(rid, at) }, 1);
  assert.deepEqual(out.election, { ok: false, error: 'insane', position: at });
  assert.equal(w.roleKind, 'idle');
  assert.equal(w.queued, 0);
  // An honest range of a few windows is settled as usual.
  const v = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 0 });
  const rid2 = (v.step({ type: 'elect' }, 0).send[0]!.msg as { rid: number }).rid;
  v.step({ type: 'reply', from: 1, msg: promiseReply(rid2, 50_000) }, 1);
  v.step({ type: 'reply', from: 2, msg: promiseReply(rid2) }, 1);
  assert.equal(v.roleKind, 'elected');
});
