// Issue 11 (mutation testing of src/core/durable-queue.ts): the reply-after-durable queue's edges, one rule
// each, beside durable-queue.test.ts (which shows the rule as the shells use it): what `waitingFor` and
// `length` say of an empty queue, which seqs `push` refuses, what `clear` hands back (only what still
// waits), and that the queue drops what it released (it lives as long as the process). No timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurableQueue } from '../../src/core/durable-queue.js';

/** The backing array (private): a long-lived queue must not keep what it released. */
const backing = (q: DurableQueue<unknown>): number => (q as unknown as { items: unknown[] }).items.length;

test('an empty queue waits for nothing: waitingFor is undefined, fresh or once everything left', () => {
  const q = new DurableQueue<string>();
  assert.equal(q.length, 0);
  assert.equal(q.waitingFor, undefined);
  q.push(2, 'a');
  q.push(4, 'b');
  assert.equal(q.length, 2);
  assert.equal(q.waitingFor, 4, 'the last waiting item: every record up to 4 must be durable for all to leave');
  assert.deepEqual(q.release(2), ['a']);
  assert.equal(q.length, 1);
  assert.deepEqual(q.release(4), ['b']);
  assert.equal(q.length, 0);
  assert.equal(q.waitingFor, undefined);
  assert.deepEqual(q.release(10), [], 'nothing left to release');
});

test('seq 0 (nothing appended yet) is queued and leaves at once; a negative or fractional seq is refused', () => {
  const q = new DurableQueue<string>();
  q.push(0, 'before any record');
  assert.deepEqual(q.release(0), ['before any record']);
  assert.throws(() => q.push(-1, 'x'), /seq -1/);
  assert.throws(() => q.push(1.5, 'x'), /seq 1.5/);
  assert.equal(q.length, 0, 'a refused push queues nothing');
});

test('an earlier seq after a later one is refused, naming both', () => {
  const q = new DurableQueue<string>();
  q.push(5, 'a');
  assert.throws(() => q.push(4, 'b'), /seqs are queued in order: 4 after 5/);
  q.push(5, 'c');
  assert.deepEqual(q.release(5), ['a', 'c']);
});

test('clear hands back only what still waits, in order, and leaves an empty queue', () => {
  const q = new DurableQueue<string>();
  q.push(1, 'gone');
  q.push(2, 'w1');
  q.push(3, 'w2');
  assert.deepEqual(q.release(1), ['gone']);
  assert.deepEqual(q.clear(), ['w1', 'w2']);
  assert.equal(q.length, 0);
  assert.equal(q.waitingFor, undefined);
  assert.deepEqual(q.release(3), [], 'what was cleared never leaves');
  q.push(1, 'after the restart');
  assert.equal(q.length, 1);
  assert.deepEqual(q.release(1), ['after the restart']);
});

test('releases past a compaction neither repeat nor skip an item', () => {
  const q = new DurableQueue<number>();
  for (let i = 1; i <= 100; i++) q.push(i, i);
  assert.deepEqual(q.release(70), Array.from({ length: 70 }, (_, i) => i + 1));
  assert.equal(q.length, 30);
  assert.equal(q.waitingFor, 100);
  assert.deepEqual(q.release(80), Array.from({ length: 10 }, (_, i) => i + 71));
  assert.equal(q.length, 20);
  assert.deepEqual(q.release(100), Array.from({ length: 20 }, (_, i) => i + 81));
  assert.equal(q.length, 0);
});

test('the queue drops what it released: a long run keeps it small', () => {
  const q = new DurableQueue<number>();
  for (let i = 1; i <= 10_000; i++) {
    q.push(i, i);
    if (i % 10 === 0) assert.equal(q.release(i).length, 10);
  }
  assert.equal(q.length, 0);
  assert.ok(backing(q) <= 200, `backing array ${backing(q)} long after 10,000 items`);
  for (let i = 10_001; i <= 11_000; i++) q.push(i, i);
  assert.equal(q.release(11_000).length, 1000, 'a thousand released at once');
  assert.equal(backing(q), 0, 'and dropped at once');
});
