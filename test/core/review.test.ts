// Adversarial review of the Paxos core: each test drives the in-memory
// cluster message by message into a corner. A failing test here is a bug;
// the review report names the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limits, timing } from '../../src/core/constants.js';
import type { PromiseReply, WriteReply } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { Cluster, text } from './harness.js';
import { append, deliver, drop, env, inject, step, takeReply, writerWithFloor, type Pred } from './review-harness.js';

const voting = () => new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x' });

/** Delivers the first message matching p if there is one (the scenario may legitimately diverge once fixed). */
function maybe(c: Cluster, p: Pred): boolean {
  if (!c.inflight.some(p)) return false;
  deliver(c, p);
  return true;
}

// ---------------------------------------------------------------------------
// 1. One proposal number promised to two proposers (explicit, then implicit).
// ---------------------------------------------------------------------------

test('a replica that promised n explicitly for a position must refuse an implicit promise n', () => {
  const s = voting();
  const a = step(s, { type: 'promise', rid: 1, proposal: 7, from: 0, to: 0 }) as PromiseReply;
  assert.equal(a.outcome, 'accept');
  const b = step(s, { type: 'promise', rid: 2, proposal: 7 }) as PromiseReply;
  assert.equal(b.outcome, 'reject', 'proposal 7 was already promised (explicitly, to a fill) at position 0');
});

test('safety: a fill and a writer that picked the same proposal number get two values learned at one position', () => {
  const c = new Cluster(3);
  const X = append('X');
  // An old proposer got X accepted at 0 by r1 only, under proposal 3.
  inject(c, 'old', 1, { type: 'write', rid: 1, proposal: 3, from: 0, actions: [X], named: [] });
  deliver(c, env({ to: 'r1' }));
  takeReply(c, 1, 'old');
  // A fill (reader) with proposal 7 gets explicit promises for [0, 0] from r1, r2; r1 reports X.
  inject(c, 'f', 1, { type: 'promise', rid: 2, proposal: 7, from: 0, to: 0 });
  inject(c, 'f', 2, { type: 'promise', rid: 2, proposal: 7, from: 0, to: 0 });
  deliver(c, env({ to: 'r1' }));
  deliver(c, env({ to: 'r2' }));
  const p1 = takeReply(c, 1, 'f') as PromiseReply;
  const p2 = takeReply(c, 2, 'f') as PromiseReply;
  assert.equal(p1.outcome, 'accept');
  assert.equal(p2.outcome, 'accept');
  // A writer from another client also picked 7 (both had seen 6). It asks r2, r3 (r1's request is lost).
  writerWithFloor(c, 'w', 6);
  c.elect('w');
  drop(c, env({ to: 'r1', type: 'promise' }));
  maybe(c, env({ to: 'r2', type: 'promise' }));
  maybe(c, env({ to: 'r3', type: 'promise' }));
  maybe(c, env({ from: 'r2', to: 'w' }));
  maybe(c, env({ from: 'r3', to: 'w' }));
  // If elected under 7, it settles 0 with a NOP (nobody in its quorum reported X) and gets it chosen by r2, r3.
  drop(c, env({ to: 'r1', type: 'write' }));
  maybe(c, env({ to: 'r2', type: 'write' }));
  maybe(c, env({ to: 'r3', type: 'write' }));
  maybe(c, env({ from: 'r2', to: 'w' }));
  maybe(c, env({ from: 'r3', to: 'w' }));
  const commits = c.inflight.filter(env({ type: 'commit' }));
  c.inflight = c.inflight.filter((e) => !commits.includes(e));
  // The fill writes X under 7 to r1, r2: both accept (r2 overwrites the writer's NOP, same number).
  inject(c, 'f', 1, { type: 'write', rid: 3, proposal: 7, from: 0, actions: [X], named: [] });
  inject(c, 'f', 2, { type: 'write', rid: 3, proposal: 7, from: 0, actions: [X], named: [] });
  deliver(c, env({ from: 'f', to: 'r1' }));
  deliver(c, env({ from: 'f', to: 'r2' }));
  const w1 = takeReply(c, 1, 'f') as WriteReply;
  const w2 = takeReply(c, 2, 'f') as WriteReply;
  // The writer's commit(7, 0, 1) now arrives: it names a proposal, and proposal 7 means two values.
  c.inflight.push(...commits);
  while (c.deliverOne());
  if (w1.outcome === 'accept' && w2.outcome === 'accept') {
    // The fill saw a quorum accept X under 7: X is chosen (it would broadcast it as learned).
    for (const id of c.ids) assert.notEqual(c.learnedText(id, 0), 'NOP', `replica ${id} learned NOP at 0 although X is chosen there`);
  }
  c.checkAgreement();
  c.run();
  c.checkAgreement();
});

// ---------------------------------------------------------------------------
// 2. A write below a non-quorum replica's beginning fences an elected writer.
// ---------------------------------------------------------------------------

test('liveness: a replica that already truncated must not fence a new writer settling below its beginning', () => {
  const c = new Cluster(3);
  c.elect('w1');
  c.run();
  // r1 and r2 miss the commits; r3 learns everything, including TRUNCATE(2) at 3.
  c.dropIf = (e) => e.msg.type === 'commit' && (e.to === 'r1' || e.to === 'r2');
  const ops = [c.append('w1', 'a'), c.append('w1', 'b'), c.truncate('w1', 2)];
  c.run();
  for (const id of ops) assert.equal(c.results.get(id)?.ok, true);
  c.dropIf = () => false;
  assert.equal(c.store(3).begin(), 2);
  assert.equal(c.store(1).learnedThrough(), 0);
  // A new writer is elected by r1, r2 (L = 0, E = 3): it re-proposes 1..3 to everyone.
  writerWithFloor(c, 'w2', 1);
  c.elect('w2');
  deliver(c, env({ to: 'r1', type: 'promise' }));
  deliver(c, env({ to: 'r2', type: 'promise' }));
  deliver(c, env({ from: 'r1', to: 'w2' }));
  deliver(c, env({ from: 'r2', to: 'w2' }));
  assert.equal(c.writers.get('w2')!.roleKind, 'elected');
  // r3 happens to answer the settle batch first: positions 1 < begin 2.
  deliver(c, env({ to: 'r3', type: 'promise' }));
  // Writes go only to members that promised: r3's late promise makes it a candidate, and the settle
  // batch goes to it with the next retransmission.
  deliver(c, env({ from: 'r3', to: 'w2', type: 'promiseReply' }));
  c.tick(timing.retransmitMs);
  deliver(c, env({ to: 'r3', type: 'write' }));
  deliver(c, env({ from: 'r3', to: 'w2', type: 'writeReply' }));
  c.run();
  const e = c.elections.get('w2');
  assert.ok(e?.ok, `nobody holds a higher proposal, yet the election failed: ${JSON.stringify(e)}`);
  c.checkAgreement();
});

// ---------------------------------------------------------------------------
// 3. A fill that reaches below a replica's beginning learns tombstones as NOPs.
// ---------------------------------------------------------------------------

test('safety: a read over an acknowledged append that was then truncated must not answer "nothing there"', () => {
  const c = new Cluster(3);
  c.elect('w1');
  c.run();
  // 'a' at 1 is accepted by r2, r3 only (chosen); commits reach r3 only.
  c.dropIf = (e) =>
    (e.msg.type === 'commit' && (e.to === 'r1' || e.to === 'r2')) || (e.msg.type === 'write' && e.to === 'r1' && e.msg.from === 1);
  const a = c.append('w1', 'a');
  c.run();
  const t = c.truncate('w1', 2); // at 2, accepted by all, learned by r3 only: r3's beginning is 2
  c.run();
  assert.equal(c.results.get(a)?.ok, true);
  assert.equal(c.results.get(t)?.ok, true);
  assert.equal(c.store(3).begin(), 2);
  // The reader's read rounds are answered by r1, r2; its fill's promises by r1, r3.
  c.dropIf = (e) => (e.from === 'r3' && e.msg.type === 'readReply') || (e.from === 'r2' && e.msg.type === 'promiseReply');
  const r = c.read('rd', 1, 1);
  c.run();
  const res = c.reads.get(r);
  assert.ok(res !== undefined);
  if (res.ok) {
    assert.deepEqual(
      res.entries.map((e) => (e.action.kind === 'append' ? text(e.action.data) : e.action.kind)),
      ['a'],
      'position 1 holds the acknowledged append "a" (or the read must fail as truncated)',
    );
  } else assert.equal(res.error, 'truncated');
  assert.notEqual(c.learnedText(2, 1), 'NOP', 'r2 accepted the chosen "a" at 1 and must not learn a NOP there');
});

// ---------------------------------------------------------------------------
// 4. Proposal 0 from the network.
// ---------------------------------------------------------------------------

test('robustness: a write with proposal 0 must not trip an assertion in the replica', () => {
  const s = voting();
  let reply: WriteReply | undefined;
  assert.doesNotThrow(() => {
    reply = step(s, { type: 'write', rid: 1, proposal: 0, from: 0, actions: [append('x')], named: [] }) as WriteReply;
  });
  assert.notEqual(reply?.outcome, 'accept');
  s.checkInvariants();
});

test('robustness: a commit naming proposal 0 must not mark a promise-only slot learned with no value', () => {
  const s = voting();
  step(s, { type: 'promise', rid: 1, proposal: 5, from: 3, to: 3 });
  step(s, { type: 'commit', proposal: 0, from: 0, to: 3 });
  assert.equal(s.slot(3)?.learned, false);
  assert.equal(s.learnedThrough(), -1);
  s.checkInvariants();
});

// ---------------------------------------------------------------------------
// 5. Bounds: the implicit promise reply and promise-only slots.
// ---------------------------------------------------------------------------

test('liveness: one lost commit is repaired by the repeated commit, so promise replies stay small', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  c.dropIf = (e) => e.msg.type === 'commit' && e.to === 'r1';
  c.append('w', 'gap');
  c.run();
  c.dropIf = () => false;
  const n = limits.readSlotsMax + 10;
  for (let i = 0; i < n; i++) c.append('w', `e${i}`);
  c.run();
  // The writer repeats its term's commit every recommitMs: the gap heals.
  c.tick(timing.recommitMs);
  c.run();
  assert.equal(c.store(1).learnedThrough(), c.store(2).learnedThrough(), 'the repeated commit repaired the gap');
  const reply = step(c.store(1), { type: 'promise', rid: 99, proposal: 100 }) as PromiseReply;
  assert.ok(
    reply.slots.length <= limits.readSlotsMax,
    `an implicit promise reply carries ${reply.slots.length} slots (with their bytes), above readSlotsMax = ${limits.readSlotsMax}`,
  );
});

test('robustness: an explicit promise far beyond the log must not make the next writer NOP-fill up to it', () => {
  const c = new Cluster(3);
  c.elect('w1');
  c.run();
  for (const id of [1, 2]) inject(c, 'x', id, { type: 'promise', rid: 1, proposal: 5, from: 100_000, to: 100_000 });
  deliver(c, env({ to: 'r1' }));
  deliver(c, env({ to: 'r2' }));
  drop(c, env({ to: 'x' }));
  writerWithFloor(c, 'w2', 10);
  c.elect('w2');
  c.run();
  const e = c.elections.get('w2');
  assert.ok(e?.ok);
  assert.ok(e.position < 100, `the election NOP went to ${e.position}: the writer wrote ${e.position - 1} NOPs for a promise that holds no value`);
});

// ---------------------------------------------------------------------------
// Regression tests for tricky cases that the code handles correctly.
// ---------------------------------------------------------------------------

test('ok: replicas with different learned prefixes; the new writer re-proposes everything above the highest one', () => {
  const c = new Cluster(3);
  c.elect('w1');
  c.run();
  // 'a' at 1 learned by r1 only; 'b' at 2 accepted by r1, r2, learned by nobody; r3 saw neither.
  c.dropIf = (e) => (e.to === 'r3' && e.msg.type === 'write') || (e.msg.type === 'commit' && e.to !== 'r1');
  const a = c.append('w1', 'a');
  c.run();
  c.dropIf = (e) => (e.to === 'r3' && e.msg.type === 'write') || e.msg.type === 'commit';
  const b = c.append('w1', 'b');
  c.run();
  assert.equal(c.results.get(a)?.ok, true);
  assert.equal(c.results.get(b)?.ok, true);
  c.dropIf = () => false;
  // w2 hears r2 and r3 only: r2 reports 1 and 2 (its prefix is 0), r3 nothing.
  writerWithFloor(c, 'w2', 1);
  c.elect('w2');
  drop(c, env({ to: 'r1', type: 'promise' }));
  c.run();
  assert.deepEqual(c.elections.get('w2'), { ok: true, position: 3 });
  // r1 did not promise w2, so w2 writes nothing to it (writes go only to members that promised); it
  // learns what it lacks from its peers (the replica node's hole repair, not part of this harness).
  for (const id of [2, 3]) {
    assert.equal(c.learnedText(id, 1), 'a');
    assert.equal(c.learnedText(id, 2), 'b');
  }
  c.checkAgreement();
});

test('ok: a late write reply from a writer\'s previous term does not count towards a batch of its new term', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  // r2, r3 hold the write of 'lost?' until the writer gave up.
  c.dropIf = (e) => e.msg.type === 'write' && e.to !== 'r1';
  const x = c.append('w', 'lost?');
  c.run(20_000);
  assert.deepEqual(c.results.get(x), { ok: false, error: 'no-quorum', unknownAt: 1 });
  c.dropIf = () => false;
  const y = c.append('w', 'y');
  c.run();
  assert.equal(c.results.get(y)?.ok, true);
  c.checkAgreement();
  const r = c.read('rd', 0, 10);
  c.run();
  const res = c.reads.get(r);
  assert.ok(res?.ok);
  const texts = res.entries.map((e) => (e.action.kind === 'append' ? text(e.action.data) : ''));
  assert.ok(texts.includes('y'));
  assert.ok(texts.indexOf('y') === texts.length - 1, 'y is the last entry');
});

test('ok: a duplicated commit and a duplicated learned message change nothing', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  const dup: typeof c.inflight = [];
  c.dropIf = (e) => {
    if (e.msg.type === 'commit') dup.push(e);
    return false;
  };
  c.append('w', 'a');
  c.run();
  c.dropIf = () => false;
  const before = c.store(1).records.length;
  c.inflight.push(...dup, ...dup);
  c.run();
  assert.equal(c.store(1).records.length, before, 'no record for a repeated commit');
  c.checkAgreement();
});
