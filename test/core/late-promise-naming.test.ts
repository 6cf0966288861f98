// Counted members after the election (writer-counted-members.ts; writer.ts's header, "Counted
// members"): how a member that promises late becomes a candidate and is named, how a named member whose
// disk is gone stops counting, which rounds the writer remembers, and the NOPs it writes over what a
// late member holds above its next position. Each test fails with one or more of Stryker's survivors in
// writer-counted-members.ts planted by hand (issue 11; docs/testing.md, "The full run, a part at a time").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timing } from '../../src/core/constants.js';
import type { PromiseReply, PromiseRequest, Slot, WriteReply, WriteRequest } from '../../src/core/types.js';
import { WriterCore, type Outbound } from '../../src/core/writer.js';

const data = new Uint8Array([7]);
function promiseReply(rid: number, more: Partial<PromiseReply> = {}): PromiseReply {
  return {
    type: 'promiseReply', rid, outcome: 'accept', proposal: 1, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1,
    generation: 0, disk: 0, ...more,
  };
}
const writeReply = (m: WriteRequest): WriteReply => ({
  type: 'writeReply', rid: m.rid, outcome: 'accept', proposal: m.proposal, from: m.from, count: m.actions.length, generation: 0, disk: 0, retired: [],
});
const writes = (send: readonly Outbound[]) => send.filter((s): s is Outbound & { msg: WriteRequest } => s.msg.type === 'write');
const promises = (send: readonly Outbound[]) => send.filter((s): s is Outbound & { msg: PromiseRequest } => s.msg.type === 'promise');
const to = (send: readonly Outbound[]) => send.map((s) => s.to).sort();
/** The positions a step's writes carry, each with its action's kind (every member gets the same batches). */
function written(send: readonly Outbound[]): string[] {
  const seen = new Map<number, string>();
  for (const s of writes(send)) s.msg.actions.forEach((a, k) => seen.set(s.msg.from + k, a.kind));
  return [...seen].sort(([a], [b]) => a - b).map(([p, k]) => `${p}:${k}`);
}

/** Members 1..5 elected by 1, 2, 3 at time 1 (no grace), the election NOP (position 0) chosen; `rid` is the election's. */
function electedByThree(): { w: WriterCore; rid: number } {
  const w = new WriterCore({ members: [1, 2, 3, 4, 5], random: () => 0.5, electionGraceMs: 0 });
  const rid = (w.step({ type: 'elect' }, 0).send[0]!.msg as PromiseRequest).rid;
  let out: Outbound[] = [];
  for (const from of [1, 2, 3]) out = w.step({ type: 'reply', from, msg: promiseReply(rid) }, 1).send;
  assert.equal(w.roleKind, 'elected');
  for (const s of writes(out)) w.step({ type: 'reply', from: s.to, msg: writeReply(s.msg) }, 1);
  return { w, rid };
}

test('counted members: a named member answering with another disk stops counting, and its new disk is a candidate; below a quorum the writer gives up', () => {
  // All three promise within the election grace: all three named.
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 1000 });
  const rid = (w.step({ type: 'elect' }, 0).send[0]!.msg as PromiseRequest).rid;
  for (const from of [1, 2, 3]) w.step({ type: 'reply', from, msg: promiseReply(rid) }, 1);
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2, 3]);
  // Member 1's disk was replaced (a rejoin); the new disk answers the election request.
  const out = w.step({ type: 'reply', from: 1, msg: promiseReply(rid, { disk: 9 }) }, 2);
  assert.equal(w.roleKind, 'elected', 'two named members of three are still a quorum');
  assert.deepEqual([...w.namedMembers.keys()].sort(), [2, 3]);
  assert.deepEqual(to(promises(out.send)), [2, 3], 'the new disk is a candidate: the named members are asked to confirm');
  // Member 2's disk too: one named member is no quorum.
  w.step({ type: 'reply', from: 2, msg: promiseReply(rid, { disk: 9 }) }, 3);
  assert.equal(w.roleKind, 'idle');
});

test('counted members: a candidate that answers again with the same disk keeps its place (the confirmations already asked for name it)', () => {
  const { w, rid } = electedByThree();
  const confirm = promises(w.step({ type: 'reply', from: 4, msg: promiseReply(rid) }, 2).send);
  assert.deepEqual(to(confirm), [1, 2, 3]);
  // A copy of its answer (the election request reached it twice): nothing new, nothing sent.
  assert.deepEqual(w.step({ type: 'reply', from: 4, msg: promiseReply(rid) }, 3).send, []);
  for (const from of [1, 2, 3]) w.step({ type: 'reply', from, msg: promiseReply(confirm[0]!.msg.rid) }, 4);
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2, 3, 4], 'named by the round sent after its first answer');
});

test('counted members: the confirm round goes out again only after retransmitMs', () => {
  const { w, rid } = electedByThree();
  assert.deepEqual(to(promises(w.step({ type: 'reply', from: 4, msg: promiseReply(rid) }, 2).send)), [1, 2, 3]);
  assert.deepEqual(promises(w.step({ type: 'tick' }, 3).send), [], 'not at the next tick');
  assert.deepEqual(promises(w.step({ type: 'tick' }, 1 + timing.retransmitMs).send), [], 'not before retransmitMs');
  assert.deepEqual(to(promises(w.step({ type: 'tick' }, 2 + timing.retransmitMs).send)), [1, 2, 3], 'then again');
});

test('counted members: the writer remembers its last eight rounds (an answer to the eighth latest counts, to the ninth not)', () => {
  const { w, rid } = electedByThree();
  // The election's request is the first round; every repromiseMs the members not named are asked again (4, 5).
  let t = 1;
  for (let k = 1; k <= 7; k++) {
    t += timing.repromiseMs;
    const out = w.step({ type: 'tick' }, t);
    for (const s of writes(out.send)) w.step({ type: 'reply', from: s.to, msg: writeReply(s.msg) }, t);
    assert.deepEqual(to(promises(out.send)), [4, 5]);
  }
  // Eight rounds: the election's is still known. Member 4's answer to it makes it a candidate (and a ninth round, to confirm it).
  assert.deepEqual(to(promises(w.step({ type: 'reply', from: 4, msg: promiseReply(rid) }, t).send)), [1, 2, 3]);
  // Nine: the election's is forgotten, and member 5's answer to it is ignored.
  assert.deepEqual(w.step({ type: 'reply', from: 5, msg: promiseReply(rid) }, t).send, []);
});

test('counted members: naming a member does not send it again a batch counted chosen, nor put off the retransmission of one not chosen', () => {
  const { w, rid } = electedByThree();
  w.step({ type: 'reply', from: 4, msg: promiseReply(rid) }, 2); // 4: a candidate (the confirm round is left unanswered)
  w.step({ type: 'submit', op: { id: 1, action: { kind: 'append', data } } }, 3);
  const a = writes(w.step({ type: 'flush' }, 3).send);
  w.step({ type: 'submit', op: { id: 2, action: { kind: 'append', data } } }, 3);
  const b = writes(w.step({ type: 'flush' }, 3).send);
  assert.deepEqual(to(a), [1, 2, 3, 4]);
  const bRid = b[0]!.msg.rid;
  const aRid = a[0]!.msg.rid;
  // The candidate's acceptance of b does not count yet; 1 accepts a; 1, 2, 3 accept b: b is chosen (a is not), and
  // their acceptances, of requests sent after 4's promise, confirm it: 4 is named.
  w.step({ type: 'reply', from: 4, msg: writeReply(b.find((s) => s.to === 4)!.msg) }, 4);
  w.step({ type: 'reply', from: 1, msg: writeReply(a.find((s) => s.to === 1)!.msg) }, 4);
  let out: Outbound[] = [];
  for (const from of [1, 2, 3]) out = out.concat(w.step({ type: 'reply', from, msg: writeReply(b.find((s) => s.to === from)!.msg) }, 4).send);
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2, 3, 4]);
  assert.deepEqual(writes(out).filter((s) => s.msg.rid === bRid), [], 'b is chosen: not sent to 4 again');
  // a goes out again retransmitMs after it was sent, to those that have not answered it (the naming changed nothing for it).
  assert.deepEqual(to(writes(w.step({ type: 'tick' }, 3 + timing.retransmitMs).send).filter((s) => s.msg.rid === aRid)), [2, 3, 4]);
});

test('counted members: the writer settles with NOPs what a late member holds above its next position, through the end of a cut reply', () => {
  const value = (position: number): Slot => ({ position, promised: 0, accepted: 1, learned: false, action: { kind: 'append', data } });
  // Next position 1 (the election NOP took 0). A reply cut at its byte bound (covered through 1, end 4): 1..4.
  let { w, rid } = electedByThree();
  assert.deepEqual(written(w.step({ type: 'reply', from: 4, msg: promiseReply(rid, { slots: [value(1)], coveredThrough: 1, end: 4 }) }, 2).send), ['1:nop', '2:nop', '3:nop', '4:nop']);
  // A value right at the next position: one NOP.
  ({ w, rid } = electedByThree());
  assert.deepEqual(written(w.step({ type: 'reply', from: 4, msg: promiseReply(rid, { slots: [value(1)], coveredThrough: 1, end: 1 }) }, 2).send), ['1:nop']);
  // A promise-only position holds nothing to settle (no replica lists one: read-paging.test.ts; a slot's action is optional).
  ({ w, rid } = electedByThree());
  const promiseOnly: Slot = { position: 6, promised: 5, accepted: 0, learned: false };
  assert.deepEqual(written(w.step({ type: 'reply', from: 4, msg: promiseReply(rid, { slots: [promiseOnly], coveredThrough: 6, end: 6 }) }, 2).send), []);
});

test('counted members: the settling NOPs go above the operations queued, and nothing above the queue\'s reach is no reason to write', () => {
  const value = (position: number): Slot => ({ position, promised: 0, accepted: 1, learned: false, action: { kind: 'append', data } });
  let { w, rid } = electedByThree();
  // Two operations queued, not flushed yet: they take 1 and 2; the member holds a value at 4: NOPs at 3 and 4.
  for (const id of [1, 2]) w.step({ type: 'submit', op: { id, action: { kind: 'append', data } } }, 2);
  assert.deepEqual(written(w.step({ type: 'reply', from: 4, msg: promiseReply(rid, { slots: [value(4)], coveredThrough: 4, end: 4 }) }, 2).send), ['1:append', '2:append', '3:nop', '4:nop']);
  // Nothing above: the queued operation waits for its owner's flush.
  ({ w, rid } = electedByThree());
  w.step({ type: 'submit', op: { id: 1, action: { kind: 'append', data } } }, 2);
  assert.deepEqual(writes(w.step({ type: 'reply', from: 4, msg: promiseReply(rid, { slots: [value(0)], coveredThrough: 0, end: 0 }) }, 2).send), []);
  assert.deepEqual(written(w.step({ type: 'flush' }, 2).send), ['1:append']);
});

test('counted members: a member whose link comes up is asked to promise at once, in the election and after it', () => {
  // Electing: member 1's link was not up when the request went out (the client skipped it).
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 100 });
  const request = w.step({ type: 'elect' }, 0).send[0]!.msg as PromiseRequest;
  w.step({ type: 'reply', from: 2, msg: promiseReply(request.rid) }, 1);
  const asked = promises(w.step({ type: 'reachable', id: 1 }, 2).send);
  assert.deepEqual(to(asked), [1], 'the election asks it now');
  assert.equal(asked[0]!.msg.rid, request.rid, 'the same round: its answer counts in this election');
  assert.deepEqual(w.step({ type: 'reachable', id: 2 }, 2).send, [], 'a member that answered is not asked again');
  assert.deepEqual(w.step({ type: 'reachable', id: 7 }, 2).send, [], 'nor one that is no member');
});

test('counted members: a member left out of the election is asked once its link is up, and named, so the writer survives a named member\'s death', () => {
  // Elected by 2 and 3 (member 1's link was down); then the link comes up.
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 0 });
  const rid = (w.step({ type: 'elect' }, 0).send[0]!.msg as PromiseRequest).rid;
  let out: Outbound[] = [];
  for (const from of [2, 3]) out = w.step({ type: 'reply', from, msg: promiseReply(rid) }, 1).send;
  for (const s of writes(out)) w.step({ type: 'reply', from: s.to, msg: writeReply(s.msg) }, 1);
  assert.deepEqual([...w.namedMembers.keys()].sort(), [2, 3]);
  const round = promises(w.step({ type: 'reachable', id: 1 }, 2).send);
  assert.deepEqual(to(round), [1], 'asked now, not a repromise period later');
  const confirm = promises(w.step({ type: 'reply', from: 1, msg: promiseReply(round[0]!.msg.rid) }, 3).send);
  for (const from of [2, 3]) w.step({ type: 'reply', from, msg: promiseReply(confirm[0]!.msg.rid) }, 4);
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2, 3]);
  assert.deepEqual(w.step({ type: 'reachable', id: 1 }, 5).send, [], 'a named member is not asked again');
  // Member 3 dies: 1 and 2 choose an append.
  w.step({ type: 'submit', op: { id: 1, action: { kind: 'append', data } } }, 6);
  const batch = writes(w.step({ type: 'flush' }, 6).send);
  const done = batch.filter((s) => s.to !== 3).flatMap((s) => w.step({ type: 'reply', from: s.to, msg: writeReply(s.msg) }, 7).done);
  assert.deepEqual(done.map((d) => d.result.ok), [true]);
});

test('counted members: a counted member whose link comes up again gets the batches it has not answered at once; a batch it answered, none', () => {
  const { w } = electedByThree();
  w.step({ type: 'submit', op: { id: 1, action: { kind: 'append', data } } }, 2);
  const first = writes(w.step({ type: 'flush' }, 2).send);
  // Member 1 answered; 2's link broke before the batch went out, and is up again.
  w.step({ type: 'reply', from: 1, msg: writeReply(first.find((s) => s.to === 1)!.msg) }, 3);
  const again = writes(w.step({ type: 'reachable', id: 2 }, 4).send);
  assert.deepEqual(to(again), [2], 'sent again to 2 alone, before any retransmission is due');
  assert.equal(again[0]!.msg.rid, first[0]!.msg.rid);
  assert.deepEqual(writes(w.step({ type: 'reachable', id: 1 }, 4).send), [], 'member 1 answered it');
});

test('counted members: a link that flaps is answered once per retransmitMs, and a resend on reachable leaves the batch\'s retransmission clock alone', () => {
  const { w } = electedByThree();
  w.step({ type: 'submit', op: { id: 1, action: { kind: 'append', data } } }, 10);
  const first = writes(w.step({ type: 'flush' }, 10).send);
  w.step({ type: 'reply', from: 1, msg: writeReply(first.find((s) => s.to === 1)!.msg) }, 11);
  assert.deepEqual(to(writes(w.step({ type: 'reachable', id: 3 }, 12).send)), [3]);
  assert.deepEqual(w.step({ type: 'reachable', id: 3 }, 10 + timing.retransmitMs - 1).send, [], 'not again within retransmitMs');
  // The batch was sent at 10: its retransmission to 2 (and 3) is due at 10 + retransmitMs, whatever member 3's link did.
  const again = writes(w.step({ type: 'tick' }, 10 + timing.retransmitMs).send);
  assert.deepEqual(to(again), [2, 3], 'retransmitted on the batch\'s own clock');
});
