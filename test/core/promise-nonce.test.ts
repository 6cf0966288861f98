// An implicit promise is granted again to the proposer that holds it (its reply was lost, or it asks
// its members anew), recognised by the nonce it drew, and only to it, and only for the number it holds:
// a number is granted to one proposer only. A request without a nonce (or nonce 0, "none") names no
// proposer, so it can never be a proposer asking again: two such proposers would both hold the number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import type { PromiseReply } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

function step(store: MemoryStore, msg: AcceptorMessage) {
  const s = replicaStep(store, msg);
  store.append(s.records);
  return s.reply as PromiseReply;
}
const voting = () => new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x' });
const outcome = (r: PromiseReply) => [r.outcome, r.proposal];

test('implicit promise: the proposer holding the number asks again with its nonce and is granted it again', () => {
  const r = voting();
  assert.deepEqual(outcome(step(r, { type: 'promise', rid: 1, proposal: 5, nonce: 77 })), ['accept', 5]);
  assert.deepEqual(outcome(step(r, { type: 'promise', rid: 2, proposal: 5, nonce: 77 })), ['accept', 5]);
  assert.deepEqual(outcome(step(r, { type: 'promise', rid: 3, proposal: 5, nonce: 78 })), ['reject', 5], 'another proposer needs a higher number');
});

test('implicit promise: without a nonce (or nonce 0) nobody is asking again: the same number is refused', () => {
  for (const nonce of [undefined, 0]) {
    const r = voting();
    assert.deepEqual(outcome(step(r, { type: 'promise', rid: 1, proposal: 5, ...(nonce === undefined ? {} : { nonce }) })), ['accept', 5]);
    for (const again of [undefined, 0]) {
      const reply = step(r, { type: 'promise', rid: 2, proposal: 5, ...(again === undefined ? {} : { nonce: again }) });
      assert.deepEqual(outcome(reply), ['reject', 5], `granted with nonce ${nonce}, asked again with nonce ${again}`);
    }
  }
});

test('implicit promise: a nonce is granted again only the number it holds, not a lower one', () => {
  const r = voting();
  step(r, { type: 'promise', rid: 1, proposal: 5, nonce: 77 });
  assert.deepEqual(outcome(step(r, { type: 'promise', rid: 2, proposal: 4, nonce: 77 })), ['reject', 5]);
  assert.equal(r.metadata().promised, 5);
});

test('implicit promise: a promise recorded without a proposer (metadata from before nonces) is not granted again to a request without one', () => {
  const r = new MemoryStore({ status: 'VOTING', promised: 5, incarnation: 'x' });
  assert.equal(r.metadata().promisedBy, undefined);
  assert.deepEqual(outcome(step(r, { type: 'promise', rid: 1, proposal: 5 })), ['reject', 5]);
  assert.deepEqual(outcome(step(r, { type: 'promise', rid: 2, proposal: 5, nonce: 9 })), ['reject', 5]);
});
