/** The one reply-after-durable rule (src/core/durable-queue.ts), as both shells use it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurableQueue, syncNeed } from '../../src/core/durable-queue.js';

test('an item leaves once every record appended up to its step is durable, in the order queued', () => {
  const q = new DurableQueue<string>();
  q.push(3, 'reply to a write (records 1..3)');
  q.push(3, 'reply to a read after it (no records of its own)');
  q.push(5, 'status change');
  assert.deepEqual(q.release(2), []);
  assert.deepEqual(q.release(3), ['reply to a write (records 1..3)', 'reply to a read after it (no records of its own)']);
  assert.equal(q.waitingFor, 5);
  assert.deepEqual(q.release(9), ['status change']);
  assert.equal(q.length, 0);
});

test('a step without records waits for the records appended before it (a read after a lazy commit)', () => {
  const q = new DurableQueue<string>();
  // A lazy commit appended record 4; nothing was queued. The read's step appends nothing:
  // it is queued with the last appended seq, 4, not the durable one.
  q.push(4, 'read reply');
  assert.deepEqual(q.release(3), [], 'not before the commit is durable');
  assert.deepEqual(q.release(4), ['read reply']);
});

test('seqs must be queued in order; clear() forgets what waits (a crash)', () => {
  const q = new DurableQueue<number>();
  q.push(2, 1);
  assert.throws(() => q.push(1, 2), /in order/);
  assert.deepEqual(q.clear(), [1]);
  q.push(1, 3);
  assert.deepEqual(q.release(1), [3]);
});

test('items of any kind: many releases keep the queue compact', () => {
  const q = new DurableQueue<() => number>();
  let n = 0;
  for (let i = 1; i <= 1000; i++) q.push(i, () => ++n);
  for (let d = 1; d <= 1000; d += 7) for (const f of q.release(d)) f();
  for (const f of q.release(1000)) f();
  assert.equal(n, 1000);
});

test('syncNeed: nothing, lazily (nothing waits), or now', () => {
  assert.equal(syncNeed({ records: [], lazy: false }, true), 'none');
  assert.equal(syncNeed({ records: [1], lazy: true }, false), 'lazy');
  assert.equal(syncNeed({ records: [1], lazy: true }, true), 'now');
  assert.equal(syncNeed({ records: [1], lazy: true, status: 'VOTING' }, false), 'now');
  assert.equal(syncNeed({ records: [1], lazy: false }, false), 'now');
});
