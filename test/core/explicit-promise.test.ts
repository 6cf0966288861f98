// An explicit promise (a fill's phase 1 over [from, to]) follows the same rule as the implicit one at
// each position: granted only strictly above the promise in force there, and refused with the promise
// that blocked it. Learned positions take no part: their value is chosen, the fill only reads it, so an
// old promise there must neither block the fill nor be raised. (Mutation testing found these held only
// by simulator runs: a fill granted at or below the promise in force could overwrite a chosen value.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import type { Action, PromiseReply, WriteReply } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const value: Action = { kind: 'append', data: new TextEncoder().encode('v') };

function step(store: MemoryStore, msg: AcceptorMessage) {
  const s = replicaStep(store, msg);
  store.append(s.records);
  store.checkInvariants();
  return s;
}
const voting = () => new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x' });

test('explicit promise: refused at or below the promise in force at any position of the range, with that promise', () => {
  const r = voting();
  assert.equal((step(r, { type: 'promise', rid: 1, proposal: 5, from: 2, to: 2 }).reply as PromiseReply).outcome, 'accept');
  for (const proposal of [4, 5]) {
    const s = step(r, { type: 'promise', rid: 2, proposal, from: 0, to: 3 });
    const reply = s.reply as PromiseReply;
    assert.deepEqual([reply.outcome, reply.proposal], ['reject', 5], `proposal ${proposal} against a promise of 5 at position 2`);
    assert.deepEqual(s.records, [], 'a refused promise records nothing');
  }
  // The promise at 2 still holds: a write under 4 there is refused.
  const w = step(r, { type: 'write', rid: 3, proposal: 4, from: 2, actions: [value], named: [] }).reply as WriteReply;
  assert.deepEqual([w.outcome, w.proposal], ['reject', 5]);
  const above = step(r, { type: 'promise', rid: 4, proposal: 6, from: 0, to: 3 });
  assert.equal((above.reply as PromiseReply).outcome, 'accept');
  assert.deepEqual(above.records.map((x) => x.type === 'promise' && [x.position, x.promised]), [[0, 6], [1, 6], [2, 6], [3, 6]]);
});

test('explicit promise: an accepted value is a promise of its proposal; the reply names the highest one that blocked', () => {
  const r = voting();
  step(r, { type: 'promise', rid: 1, proposal: 7, from: 1, to: 1 });
  step(r, { type: 'write', rid: 2, proposal: 7, from: 1, actions: [value], named: [] });
  step(r, { type: 'promise', rid: 3, proposal: 3, from: 0, to: 0 });
  const reply = step(r, { type: 'promise', rid: 4, proposal: 6, from: 0, to: 1 }).reply as PromiseReply;
  assert.deepEqual([reply.outcome, reply.proposal], ['reject', 7]);
});

test('explicit promise: a learned position neither blocks the range nor is promised again; its value is reported', () => {
  const r = voting();
  // Position 0 chosen under proposal 9 (accepted, then committed), position 1 empty.
  step(r, { type: 'promise', rid: 1, proposal: 9, from: 0, to: 0 });
  step(r, { type: 'write', rid: 2, proposal: 9, from: 0, actions: [value], named: [] });
  step(r, { type: 'commit', proposal: 9, from: 0, to: 0 });
  assert.equal(r.slot(0)?.learned, true);
  const s = step(r, { type: 'promise', rid: 3, proposal: 4, from: 0, to: 1 });
  const reply = s.reply as PromiseReply;
  assert.deepEqual([reply.outcome, reply.proposal], ['accept', 4], 'a fill below the learned position\'s old promise still reads it');
  assert.deepEqual(s.records, [{ type: 'promise', position: 1, promised: 4 }], 'only the unlearned position is promised');
  assert.deepEqual(reply.slots.map((x) => [x.position, x.learned, x.action]), [[0, true, value]]);
});

test('explicit promise: a range of more than fillRangeMax positions, or one past positionMax, is not voted on', async () => {
  const { limits } = await import('../../src/core/constants.js');
  const outcome = (from: number, to: number) => (step(voting(), { type: 'promise', rid: 1, proposal: 5, from, to }).reply as PromiseReply).outcome;
  assert.equal(outcome(0, limits.fillRangeMax - 1), 'accept', 'fillRangeMax positions');
  assert.equal(outcome(0, limits.fillRangeMax), 'ignored', 'one more');
  assert.equal(outcome(limits.positionMax, limits.positionMax), 'accept', 'the last position');
  assert.equal(outcome(limits.positionMax + 1, limits.positionMax + 1), 'ignored', 'past it');
});
