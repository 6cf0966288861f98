// Quorum counting, stated directly (mutation testing found these rules held only by simulator runs):
// one answer per member, whatever it sends again; rejects are answers but not votes; IGNORED answers
// make a round unreachable once a quorum of votes can no longer form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuorumTally, quorumSize } from '../../src/core/quorum.js';

test('quorum sizes are majorities, and nonsense is refused', () => {
  assert.deepEqual([1, 2, 3, 4, 5].map(quorumSize), [1, 2, 2, 3, 3]);
  assert.throws(() => quorumSize(0));
  assert.throws(() => new QuorumTally(3, 0));
  assert.throws(() => new QuorumTally(3, 5));
});

test('a member counts once: a duplicate or a changed answer is not counted again', () => {
  const t = new QuorumTally(3);
  t.record(1, 'accept');
  t.record(1, 'accept');
  assert.equal(t.acceptCount, 1);
  assert.equal(t.won, false, 'one member twice is not a quorum');
  t.record(2, 'reject');
  t.record(2, 'accept');
  assert.equal(t.acceptCount, 1, 'a member that rejected does not turn into a vote');
  assert.equal(t.rejectCount, 1);
  t.record(3, 'ignored');
  t.record(3, 'accept');
  assert.equal(t.acceptCount, 1, 'nor one that ignored');
  assert.equal(t.won, false);
  assert.deepEqual(t.pending([1, 2, 3]), []);
  assert.ok(t.has(1) && t.has(2) && t.has(3));
});

test('a round is won by a quorum of accepts, and unreachable once too many ignored', () => {
  const t = new QuorumTally(3);
  t.record(1, 'ignored');
  assert.equal(t.unreachable, false, 'two members can still make a quorum of three');
  t.record(2, 'ignored');
  assert.equal(t.unreachable, true);
  const w = new QuorumTally(5);
  w.record(1, 'accept');
  w.record(2, 'accept');
  w.record(3, 'reject');
  assert.equal(w.won, false);
  assert.equal(w.unreachable, false, 'a reject is an answer, not an ignore');
  w.record(4, 'accept');
  assert.equal(w.won, true);
  assert.deepEqual(w.pending([1, 2, 3, 4, 5]), [5]);
});
