// Commit and learned messages are resent freely (by writers, fills and catch-up), so a replica writes a
// record for one only when it teaches something: a commit when some position above the learned prefix
// holds that proposal's value unlearned, a learned entry when its position is not held intact already.
// Every useless record costs a sync. And the bounds: proposal 0 names no proposer; a learned entry is
// taken up to this replica's far end (limits.positionsBeyondEndMax past its end), not one further.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limits } from '../../src/core/constants.js';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import type { Action } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const value = (s: string): Action => ({ kind: 'append', data: new TextEncoder().encode(s) });

function step(store: MemoryStore, msg: AcceptorMessage) {
  const s = replicaStep(store, msg);
  store.append(s.records);
  store.checkInvariants();
  return s;
}
const voting = () => new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x' });

test('commit: a record only when a position above the learned prefix holds that proposal\'s value unlearned', () => {
  const r = voting();
  // Position 0 accepted under 3; position 1 holds an explicit promise only (accepted 0).
  step(r, { type: 'promise', rid: 1, proposal: 3, from: 0, to: 1 });
  step(r, { type: 'write', rid: 2, proposal: 3, from: 0, actions: [value('a')], named: [] });
  assert.deepEqual(step(r, { type: 'commit', proposal: 0, from: 0, to: 1 }).records, [], 'proposal 0 is nobody\'s: a promise-only slot holds no value under it');
  assert.deepEqual(step(r, { type: 'commit', proposal: 2, from: 0, to: 1 }).records, [], 'no value here was accepted under 2');
  assert.deepEqual(step(r, { type: 'commit', proposal: 3, from: 1, to: 1 }).records, [], 'nothing under 3 in that range');
  assert.equal(r.slot(0)?.learned, false);
  const s = step(r, { type: 'commit', proposal: 3, from: 0, to: 1 });
  assert.deepEqual(s.records, [{ type: 'commit', from: 0, to: 1, proposal: 3 }]);
  assert.equal(r.slot(0)?.learned, true);
  assert.deepEqual(step(r, { type: 'commit', proposal: 3, from: 0, to: 1 }).records, [], 'a resent commit teaches nothing');
});

test('commit: learns within its range only, never a value accepted under the same proposal beyond it', () => {
  // The writer's commit of [0, 0] under 3 says nothing of position 1: accepted there under 3 too, but
  // perhaps by this replica alone (the write still in flight), so a later proposer may choose another value.
  const r = voting();
  step(r, { type: 'promise', rid: 1, proposal: 3, nonce: 1 });
  step(r, { type: 'write', rid: 2, proposal: 3, from: 0, actions: [value('a'), value('b')], named: [] });
  const s = step(r, { type: 'commit', proposal: 3, from: 0, to: 0 });
  assert.deepEqual(s.records, [{ type: 'commit', from: 0, to: 0, proposal: 3 }]);
  assert.deepEqual([r.slot(0)?.learned, r.slot(1)?.learned, r.learnedThrough()], [true, false, 0]);
});

test('learned: an entry below begin (truncated here) writes nothing', () => {
  const r = voting();
  step(r, { type: 'learned', entries: [0, 1, 2].map((position) => ({ position, action: value(`v${position}`) })) });
  step(r, { type: 'learned', entries: [{ position: 3, action: { kind: 'truncate', to: 2 } }] });
  assert.equal(r.begin(), 2);
  assert.deepEqual(step(r, { type: 'learned', entries: [{ position: 0, action: value('v0') }, { position: 1, action: value('v1') }] }).records, []);
});

test('learned: a position held intact is not written again; a different value never replaces a learned one', () => {
  const r = voting();
  assert.equal(step(r, { type: 'learned', entries: [{ position: 0, action: value('chosen') }] }).records.length, 1);
  assert.deepEqual(step(r, { type: 'learned', entries: [{ position: 0, action: value('chosen') }] }).records, [], 'a resent entry costs no record');
  assert.deepEqual(step(r, { type: 'learned', entries: [{ position: 0, action: value('other') }] }).records, []);
  assert.deepEqual(r.action(0), value('chosen'));
  // A corrupted learned record is taken again: that repairs it.
  r.markLost(0);
  assert.equal(step(r, { type: 'learned', entries: [{ position: 0, action: value('chosen') }] }).records.length, 1);
  assert.deepEqual(r.action(0), value('chosen'));
});

test('learned: taken up to the far end (end + limits.positionsBeyondEndMax) inclusive, not beyond', () => {
  const r = voting();
  step(r, { type: 'learned', entries: [{ position: 0, action: value('a') }] });
  const far = 0 + limits.positionsBeyondEndMax;
  assert.deepEqual(step(r, { type: 'learned', entries: [{ position: far + 1, action: value('b') }] }).records, [], 'beyond: caught up in bulk instead');
  const s = step(r, { type: 'learned', entries: [{ position: far, action: value('b') }] });
  assert.deepEqual(s.records.map((x) => x.type === 'learn' && x.position), [far]);
});
