// An implicit promise speaks for the positions above the replica's learned prefix, and only for them:
// it reports every value accepted or learned there (never the prefix, which the proposer reads by
// catch-up: the reply would carry chosen values for nothing), and it depends only on them, so a
// corrupted record inside the prefix (a chosen value, to be repaired from a peer) does not stop the
// replica from voting, while one above the prefix (a vote it may have forgotten) does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import type { Action, PromiseReply } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const value = (s: string): Action => ({ kind: 'append', data: new TextEncoder().encode(s) });

function step(store: MemoryStore, msg: AcceptorMessage) {
  const s = replicaStep(store, msg);
  store.append(s.records);
  return s.reply as PromiseReply;
}

/** Positions 0-2 learned, 3 accepted under proposal 4. */
function replica(): MemoryStore {
  const r = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x' });
  step(r, { type: 'learned', entries: [0, 1, 2].map((position) => ({ position, action: value(`chosen ${position}`) })) });
  step(r, { type: 'promise', rid: 1, proposal: 4, nonce: 1 });
  step(r, { type: 'write', rid: 2, proposal: 4, from: 3, actions: [value('accepted')], named: [] });
  assert.equal(r.learnedThrough(), 2);
  return r;
}

test('implicit promise: the reply reports the values above the learned prefix only', () => {
  const reply = step(replica(), { type: 'promise', rid: 3, proposal: 5, nonce: 2 });
  assert.equal(reply.outcome, 'accept');
  assert.equal(reply.learnedThrough, 2);
  assert.deepEqual(reply.slots.map((s) => [s.position, s.accepted, s.learned]), [[3, 4, false]]);
});

test('implicit promise: a corrupted record inside the learned prefix does not stop the vote; one above it does', () => {
  for (const lost of [1, 2]) {
    const r = replica();
    r.markLost(lost);
    assert.deepEqual([step(r, { type: 'promise', rid: 3, proposal: 5, nonce: 2 }).outcome, r.learnedThrough()], ['accept', 2], `lost learned position ${lost}`);
  }
  const r = replica();
  r.markLost(3);
  assert.equal(step(r, { type: 'promise', rid: 3, proposal: 5, nonce: 2 }).outcome, 'ignored', 'a lost acceptance may be a forgotten vote');
});

test('implicit promise: a higher promise or acceptance inside the learned prefix binds nothing; one above it does', () => {
  // A fill promised and wrote 6 at 0, and 0 was learned; 1 holds a value accepted under 2, unlearned.
  const fresh = (): MemoryStore => {
    const r = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x' });
    step(r, { type: 'promise', rid: 1, proposal: 6, from: 0, to: 0 });
    step(r, { type: 'write', rid: 2, proposal: 6, from: 0, actions: [value('filled')], named: [] });
    step(r, { type: 'commit', proposal: 6, from: 0, to: 0 });
    step(r, { type: 'promise', rid: 3, proposal: 2, from: 1, to: 1 });
    step(r, { type: 'write', rid: 4, proposal: 2, from: 1, actions: [value('pending')], named: [] });
    assert.equal(r.learnedThrough(), 0);
    return r;
  };
  const granted = step(fresh(), { type: 'promise', rid: 5, proposal: 3, nonce: 1 });
  assert.equal(granted.outcome, 'accept', 'proposal 3: the 6 at 0 is learned, the 2 at 1 is below it');
  const refused = step(fresh(), { type: 'promise', rid: 5, proposal: 2, nonce: 1 });
  assert.deepEqual([refused.outcome, refused.proposal], ['reject', 6], 'proposal 2: the acceptance under 2 at 1 binds it');
});
