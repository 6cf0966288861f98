// What a proposer settles after phase 1, beside the highest-accepted rule (highest-accepted.test.ts):
// - a reported slot without a value (a promise only, or a slot whose value did not travel) is no value:
//   it never outranks a reported value and is never written; the position gets the best real value, else a NOP;
// - a fill whose phase-1 reply was cut at its byte bound (coveredThrough below the fill's end) settles
//   only the prefix every reply covered: past it, that replica's accepted values are unknown, and a NOP
//   written there could overwrite a chosen value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fill, type FillOutbound } from '../../src/core/fill.js';
import { WriterCore } from '../../src/core/writer.js';
import type { Action, PromiseReply, Slot, WriteRequest } from '../../src/core/types.js';

const append = (s: string): Action => ({ kind: 'append', data: new Uint8Array(Buffer.from(s)) });
const text = (a: Action | undefined) => (a === undefined ? 'undefined' : a.kind === 'append' ? Buffer.from(a.data).toString() : a.kind);

function reply(rid: number, proposal: number, slots: Slot[], coveredThrough?: number): PromiseReply {
  const end = Math.max(-1, ...slots.map((s) => s.position));
  return {
    type: 'promiseReply', rid, outcome: 'accept', proposal, status: 'VOTING', begin: 0, end,
    learnedThrough: -1, slots, coveredThrough: coveredThrough ?? end, generation: 0, disk: 0,
  };
}
const valued = (position: number, accepted: number, value: string): Slot => ({ position, promised: accepted, accepted, learned: false, action: append(value) });
/** A slot that carries no value: a promise only (accepted 0), or an acceptance whose value did not travel. */
const valueless = (position: number, promised: number, accepted: number): Slot => ({ position, promised, accepted, learned: false });

/** A writer's first write after an election whose two replies hold these slots. */
function writerSettles(a: Slot[], b: Slot[]): WriteRequest {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 0, proposalFloor: 10 });
  const req = w.step({ type: 'elect' }, 0).send[0]!.msg as { rid: number; proposal: number };
  const writes: WriteRequest[] = [];
  for (const [from, slots] of [[1, a], [2, b]] as const) {
    for (const o of w.step({ type: 'reply', from, msg: reply(req.rid, req.proposal, slots) }, 1).send) if (o.msg.type === 'write') writes.push(o.msg);
  }
  assert.ok(writes.length > 0, 'elected');
  return writes[0]!;
}

/** A fill of [from, to]'s write after two replies (slots, coveredThrough). */
function fillSettles(from: number, to: number, a: [Slot[], number?], b: [Slot[], number?]): WriteRequest {
  let rid = 100;
  const send: FillOutbound[] = [];
  const f = new Fill(from, to, 20, { members: [1, 2, 3], random: () => 0.5, rid: () => rid++ }, 0, send);
  const req = send[0]!.msg as { rid: number; proposal: number };
  const out: FillOutbound[] = [];
  f.onPromiseReply(1, reply(req.rid, req.proposal, a[0], a[1]), 1, out);
  f.onPromiseReply(2, reply(req.rid, req.proposal, b[0], b[1]), 1, out);
  const w = out.find((o) => o.msg.type === 'write');
  assert.ok(w, 'the fill writes after a quorum promised');
  return w.msg as WriteRequest;
}

test('writer: a slot without a value is never re-proposed, whatever its rank; a NOP where no value was reported', () => {
  for (const order of [0, 1]) {
    const a = [valueless(0, 9, 0), valueless(1, 12, 12)];
    const b = [valued(1, 3, 'real'), valued(2, 2, 'last')];
    const wr = order === 0 ? writerSettles(a, b) : writerSettles(b, a);
    assert.equal(wr.from, 0);
    assert.deepEqual(wr.actions.slice(0, 3).map(text), ['nop', 'real', 'last'], `order ${order}`);
  }
});

test('fill: a slot without a value never outranks a reported value', () => {
  for (const order of [0, 1]) {
    const a: [Slot[]] = [[valueless(0, 12, 12)]];
    const b: [Slot[]] = [[valued(0, 3, 'real')]];
    const wr = order === 0 ? fillSettles(0, 0, a, b) : fillSettles(0, 0, b, a);
    assert.deepEqual(wr.actions.map(text), ['real'], `order ${order}`);
  }
});

test('fill: a reply cut at its byte bound limits the fill to the prefix every reply covered', () => {
  // Member 1 covered positions 0-1 of [0, 3] (its reply was full); member 2 covered all of it.
  const wr = fillSettles(0, 3, [[valued(0, 4, 'kept')], 1], [[], 3]);
  assert.equal(wr.from, 0);
  assert.deepEqual(wr.actions.map(text), ['kept', 'nop'], 'positions 2-3 are unknown at member 1: not written');
});
