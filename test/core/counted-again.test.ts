// Issue 20, liveness: every member that can vote is counted again, and a live writer is neither left
// waiting nor taken for dead. Each test states one rule and fails without it (found by the simulator's
// strict liveness checks: `npm run sim -- --seeds 400 --strict-liveness --no-shapes`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timing } from '../../src/core/constants.js';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import { ReplicaNodeCore } from '../../src/core/replica-node.js';
import type { PromiseReply, PromiseRequest, ReadReply, WriteReply, WriteRequest } from '../../src/core/types.js';
import { WriterCore, type Outbound } from '../../src/core/writer.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const data = new Uint8Array([7]);
const promiseReply = (rid: number, proposal = 1, outcome: PromiseReply['outcome'] = 'accept', status: PromiseReply['status'] = 'VOTING'): PromiseReply => ({
  type: 'promiseReply', rid, outcome, proposal, status, begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1, generation: 0, disk: 0,
});
const writeReply = (m: WriteRequest, outcome: WriteReply['outcome'] = 'accept'): WriteReply => ({
  type: 'writeReply', rid: m.rid, outcome, proposal: m.proposal, from: m.from, count: m.actions.length, generation: 0, disk: 0, retired: [],
});
const writes = (send: readonly Outbound[]) => send.filter((s): s is Outbound & { msg: WriteRequest } => s.msg.type === 'write');

/** A writer of five members elected by 1, 2, 3 at time 1 (no grace: 4 and 5 are not named). */
function electedByThree(): WriterCore {
  const w = new WriterCore({ members: [1, 2, 3, 4, 5], random: () => 0.5, electionGraceMs: 0 });
  const rid = (w.step({ type: 'elect' }, 0).send[0]!.msg as PromiseRequest).rid;
  let out: Outbound[] = [];
  for (const from of [1, 2, 3]) out = w.step({ type: 'reply', from, msg: promiseReply(rid) }, 1).send;
  assert.equal(w.roleKind, 'elected');
  for (const s of writes(out)) w.step({ type: 'reply', from: s.to, msg: writeReply(s.msg) }, 1); // the election NOP
  return w;
}

test('writer: a write answered IGNORED by a member that could not vote then is asked again, and counts once it can', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 0 });
  const rid = (w.step({ type: 'elect' }, 0).send[0]!.msg as PromiseRequest).rid;
  for (const from of [1, 2, 3]) w.step({ type: 'reply', from, msg: promiseReply(rid) }, 1);
  w.step({ type: 'submit', op: { id: 1, action: { kind: 'append', data } } }, 2);
  const sent = writes(w.step({ type: 'flush' }, 2).send);
  // Member 1 accepts; 2 and 3 were RECOVERING when the write (NOP and append) reached them.
  const done: number[] = [];
  for (const s of sent) {
    const out = w.step({ type: 'reply', from: s.to, msg: writeReply(s.msg, s.to === 1 ? 'accept' : 'ignored') }, 3);
    for (const d of out.done) done.push(d.id);
  }
  assert.equal(done.length, 0, 'one acceptance of three chooses nothing');
  // Every member answered; the retransmission asks 2 and 3 again, and they vote now.
  const again = writes(w.step({ type: 'tick' }, 3 + timing.retransmitMs).send);
  assert.ok(again.some((s) => s.to === 2) && again.some((s) => s.to === 3), `asked again: ${again.map((s) => s.to).join(',')}`);
  for (const s of again) for (const d of w.step({ type: 'reply', from: s.to, msg: writeReply(s.msg) }, 4 + timing.retransmitMs).done) done.push(d.id);
  assert.deepEqual(done, [1], 'chosen once they accept');
});

test('writer: a candidate named later is asked again for the batches it answered before it counted', () => {
  const w = electedByThree();
  // Member 4 promises late: a candidate, not counted until a quorum of named members confirms.
  const round = w.step({ type: 'reply', from: 4, msg: promiseReply(99) }, 2).send; // an unknown rid: not a round of this writer
  assert.equal(round.length, 0);
  const repromise = w.step({ type: 'tick' }, 1 + timing.repromiseMs).send.find((s) => s.msg.type === 'promise' && s.to === 4)!.msg as PromiseRequest;
  const confirm = w.step({ type: 'reply', from: 4, msg: promiseReply(repromise.rid) }, 1 + timing.repromiseMs).send.find((s) => s.msg.type === 'promise')!.msg as PromiseRequest;
  // A write reaches 1 and 2 (accept), not 3 (lost), and the candidate 4 (accepts, but does not count yet).
  const t = 2 + timing.repromiseMs;
  w.step({ type: 'submit', op: { id: 1, action: { kind: 'append', data } } }, t);
  const batch = writes(w.step({ type: 'flush' }, t).send);
  assert.ok(batch.some((s) => s.to === 4), 'writes go to candidates too');
  for (const s of batch) if (s.to === 1 || s.to === 2 || s.to === 4) w.step({ type: 'reply', from: s.to, msg: writeReply(s.msg) }, t);
  // 2 and 3 confirm: 4 is named; its earlier answer to the batch did not count, so it is asked again.
  let resent: Outbound[] = [];
  for (const from of [2, 3]) resent = resent.concat(w.step({ type: 'reply', from, msg: promiseReply(confirm.rid) }, t + 1).send);
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2, 3, 4]);
  const toFour = writes(resent).filter((s) => s.to === 4);
  assert.equal(toFour.length, 1, 'the batch goes to member 4 again at once');
  const done = w.step({ type: 'reply', from: 4, msg: writeReply(toFour[0]!.msg) }, t + 2).done;
  assert.deepEqual(done.map((d) => d.id), [1], 'chosen by 1, 2 and 4 once 4 counts');
});

test('writer: retransmissions back off, but never beyond retransmitMaxMs (a live writer shows itself within writerActiveMs)', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 0 });
  const rid = (w.step({ type: 'elect' }, 0).send[0]!.msg as PromiseRequest).rid;
  for (const from of [1, 2, 3]) w.step({ type: 'reply', from, msg: promiseReply(rid) }, 1);
  w.step({ type: 'submit', op: { id: 1, action: { kind: 'append', data } } }, 2);
  w.step({ type: 'flush' }, 2);
  // Nobody answers: the gaps between copies grow, up to the cap.
  let last = 2;
  let widest = 0;
  for (let t = 2; t < timing.operationTimeoutMs - 500; t += 10) {
    if (writes(w.step({ type: 'tick' }, t).send).length === 0) continue;
    widest = Math.max(widest, t - last);
    last = t;
  }
  assert.ok(widest > timing.retransmitMs, `backs off (widest gap ${widest} ms)`);
  assert.ok(widest <= timing.retransmitMaxMs + 10, `never beyond the cap (widest gap ${widest} ms)`);
  assert.ok(2 * timing.retransmitMaxMs <= timing.writerActiveMs);
});

test('writer: a named member that refuses a later round with a higher proposal fences the writer (deposed, it must not stay elected)', () => {
  const w = electedByThree();
  const round = w.step({ type: 'tick' }, 1 + timing.repromiseMs).send.find((s) => s.msg.type === 'promise')!.msg as PromiseRequest;
  // An unnamed member's refusal says nothing about this writer's quorum.
  w.step({ type: 'reply', from: 4, msg: promiseReply(round.rid, 5, 'reject') }, 1 + timing.repromiseMs);
  assert.equal(w.roleKind, 'elected');
  // A counted member promised another proposer above this writer: its next write would be refused.
  const ask = w.step({ type: 'reply', from: 5, msg: promiseReply(round.rid) }, 2 + timing.repromiseMs).send.find((s) => s.msg.type === 'promise')!.msg as PromiseRequest;
  w.step({ type: 'reply', from: 1, msg: promiseReply(ask.rid, 5, 'reject') }, 3 + timing.repromiseMs);
  assert.equal(w.roleKind, 'fenced');
});

function step(store: MemoryStore, msg: AcceptorMessage) {
  const s = replicaStep(store, msg);
  store.append(s.records);
  return s.reply as PromiseReply;
}

test('replica: values it learned bind no proposal; an accepted value it has not learned does (one number, one proposer)', () => {
  // A disk that kept its records through a rejoin (damaged metadata: promise forgotten) holds the
  // writer's own values accepted under b3. Once it learned them, they bind nothing: it grants b3 to the
  // writer that asks (as a wiped disk that copied them would). Not learned, they still bind.
  const make = (learned: boolean) => {
    const s = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x' });
    s.append([{ type: 'accept', position: 0, proposal: 3, action: { kind: 'append', data } }]);
    if (learned) s.append([{ type: 'commit', proposal: 3, from: 0, to: 0 }]);
    return s;
  };
  assert.equal(step(make(true), { type: 'promise', rid: 1, proposal: 3, nonce: 42 }).outcome, 'accept');
  assert.deepEqual(
    [step(make(false), { type: 'promise', rid: 1, proposal: 3, nonce: 42 }).outcome, step(make(false), { type: 'promise', rid: 1, proposal: 2, nonce: 42 }).outcome],
    ['reject', 'reject'],
  );
  // An explicit promise (a fill's) at a position not learned binds too, at any position.
  const s = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x' });
  s.append([{ type: 'promise', position: 9, promised: 3 }]);
  assert.equal(step(s, { type: 'promise', rid: 1, proposal: 3, nonce: 42 }).outcome, 'reject');
  assert.equal(step(s, { type: 'promise', rid: 2, proposal: 4, nonce: 42 }).outcome, 'accept');
});

test('replica: a granted election (implicit promise) shows a writer at work, so readers and catch-up wait instead of filling', () => {
  const store = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x' });
  const node = new ReplicaNodeCore({ id: 1, members: [1, 2, 3], store, random: () => 0.5, restartCheck: false });
  const active = (now: number) => {
    const out = node.step({ type: 'message', msg: { type: 'read', rid: now, from: 0, to: 0, limit: 1 } }, now);
    return (out.reply as ReadReply).writerActive;
  };
  assert.equal(active(10), false);
  const granted = node.step({ type: 'message', msg: { type: 'promise', rid: 1, proposal: 2, nonce: 7 } }, 20);
  store.append(granted.records);
  assert.equal((granted.reply as PromiseReply).outcome, 'accept');
  assert.equal(active(30), true, 'an election in progress');
  assert.equal(active(20 + timing.writerActiveMs), false, 'until the activity window passes');
});
