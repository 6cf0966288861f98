// The central rule of Paxos, stated directly for each proposer of the core: after
// phase 1 a proposer writes, at each position, a learned value if one was
// reported, else the value accepted under the highest proposal among the
// quorum's replies, else a NOP; whatever the order in which the replies came.
// (A reviewer's mutation, "the lowest accepted value", passed every other core
// test; these fail on it, in milliseconds.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fill } from '../../src/core/fill.js';
import { WriterCore } from '../../src/core/writer.js';
import type { Action, PromiseReply, Slot, WriteRequest } from '../../src/core/types.js';

const append = (s: string): Action => ({ kind: 'append', data: new Uint8Array(Buffer.from(s)) });
const text = (a: Action | undefined) => (a?.kind === 'append' ? Buffer.from(a.data).toString() : a?.kind);

function reply(rid: number, proposal: number, slots: Slot[], opts: { learnedThrough?: number; from?: number } = {}): PromiseReply {
  const end = Math.max(-1, ...slots.map((s) => s.position));
  return {
    type: 'promiseReply', rid, outcome: 'accept', proposal, status: 'VOTING', begin: 0, end,
    learnedThrough: opts.learnedThrough ?? -1, slots, coveredThrough: end, generation: 0, disk: 0,
  };
}
const slot = (position: number, accepted: number, value: string, learned = false): Slot => ({ position, promised: 0, accepted, learned, action: append(value) });

/** Runs a writer's election over three members whose replies hold `slots[i]`, in the order given; returns the first write. */
function writerFirstWrite(order: number[], slots: Slot[][]): WriteRequest {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 0, proposalFloor: 10 });
  const req = w.step({ type: 'elect' }, 0).send[0]!.msg as { rid: number; proposal: number };
  const writes: WriteRequest[] = [];
  for (const i of order) {
    for (const o of w.step({ type: 'reply', from: i + 1, msg: reply(req.rid, req.proposal, slots[i]!) }, 1).send) if (o.msg.type === 'write') writes.push(o.msg);
  }
  assert.ok(writes.length > 0, 'elected: the writer settles the reported positions');
  return writes[0]!;
}

test('writer: re-proposes the value accepted under the highest proposal, in any reply order', () => {
  const slots = [[slot(0, 3, 'low')], [slot(0, 7, 'high')], [slot(0, 5, 'middle')]];
  for (const order of [[0, 1], [1, 0], [0, 2], [2, 0], [1, 2], [2, 1]]) {
    const expected = order.includes(1) ? 'high' : 'middle';
    const wr = writerFirstWrite(order, slots);
    assert.equal(wr.from, 0);
    assert.equal(text(wr.actions[0]), expected, `replies from ${order.map((i) => i + 1).join(', ')}`);
  }
});

test('writer: a NOP where no member of the quorum reported a value, the highest accepted elsewhere', () => {
  const wr = writerFirstWrite([0, 1], [[slot(1, 4, 'a'), slot(2, 2, 'b')], [slot(2, 6, 'c')]]);
  assert.deepEqual(wr.actions.slice(0, 3).map(text), ['nop', 'a', 'c']);
});

/** The value a fill settles position 0 with: what it writes, or what it returns at once when the value is learned. */
function fillValue(order: number[], slots: Slot[][]): Action | undefined {
  const send: { to: number; msg: unknown }[] = [];
  let rid = 100;
  const f = new Fill(0, 0, 20, { members: [1, 2, 3], random: () => 0.5, rid: () => rid++ }, 0, send as never);
  const req = send[0]!.msg as { rid: number; proposal: number };
  const out: { to: number; msg: { type: string } }[] = [];
  for (const i of order) {
    const r = f.onPromiseReply(i + 1, reply(req.rid, req.proposal, slots[i]!), 1, out as never);
    if (r?.ok) return r.entries[0]!.action;
  }
  const w = out.find((o) => o.msg.type === 'write');
  assert.ok(w, 'the fill writes after a quorum promised');
  return (w.msg as WriteRequest).actions[0];
}

test('fill (readers and catch-up): writes the value accepted under the highest proposal, in any reply order', () => {
  const slots = [[slot(0, 3, 'low')], [slot(0, 7, 'high')], [slot(0, 5, 'middle')]];
  for (const order of [[0, 1], [1, 0], [0, 2], [2, 0], [1, 2], [2, 1]]) {
    const expected = order.includes(1) ? 'high' : 'middle';
    assert.equal(text(fillValue(order, slots)), expected, `replies from ${order.map((i) => i + 1).join(', ')}`);
  }
});

test('fill: a learned value wins over any accepted proposal', () => {
  const slots = [[slot(0, 9, 'accepted-higher')], [slot(0, 2, 'learned', true)], []];
  for (const order of [[0, 1], [1, 0]]) assert.equal(text(fillValue(order, slots)), 'learned');
});
