// The replica's read queue (issue 20, item 3): reads are served round-robin over
// connections within a time budget per turn, retransmissions are not queued
// twice, each connection's queue is bounded, and a closed connection's reads
// are dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReadRequest } from '../../src/core/types.js';
import { ReadQueue } from '../../src/server/read-queue.js';

interface Conn {
  id: number;
  closed: boolean;
}

function setup(opts: { budgetMs?: number; perConnectionMax?: number; costMs?: number } = {}) {
  let now = 0;
  const turns: (() => void)[] = [];
  const served: string[] = [];
  const q = new ReadQueue<Conn>({
    serve: (msg, conn) => {
      served.push(`${conn.id}:${msg.rid}`);
      now += opts.costMs ?? 0;
    },
    budgetMs: opts.budgetMs ?? 1_000,
    perConnectionMax: opts.perConnectionMax,
    now: () => now,
    defer: (run) => turns.push(run),
  });
  /** Runs the turns scheduled so far (one event-loop turn); returns what they served. */
  const turn = (): string[] => {
    const before = served.length;
    for (const run of turns.splice(0)) run();
    return served.slice(before);
  };
  return { q, turn, turns };
}

const read = (rid: number): ReadRequest => ({ type: 'read', rid, from: 0, to: 10, limit: 10 });

test('reads are served round-robin over connections, not in arrival order', () => {
  const { q, turn } = setup();
  const a = { id: 1, closed: false };
  const b = { id: 2, closed: false };
  for (const rid of [1, 2, 3]) q.push(read(rid), a);
  q.push(read(7), b);
  assert.deepEqual(turn(), ['1:1', '2:7', '1:2', '1:3']);
  assert.equal(q.size, 0);
});

test('a turn ends once its time budget is spent, and the rest is served in later turns', () => {
  const { q, turn, turns } = setup({ budgetMs: 4, costMs: 3 });
  const a = { id: 1, closed: false };
  for (const rid of [1, 2, 3, 4, 5]) q.push(read(rid), a);
  assert.deepEqual(turn(), ['1:1', '1:2']);
  assert.equal(turns.length, 1, 'another turn is scheduled');
  assert.deepEqual(turn(), ['1:3', '1:4']);
  assert.deepEqual(turn(), ['1:5']);
  assert.equal(turns.length, 0);
});

test('a retransmitted read still queued is not queued again; the same request id on another connection is', () => {
  const { q, turn } = setup();
  const a = { id: 1, closed: false };
  const b = { id: 2, closed: false };
  q.push(read(1), a);
  q.push(read(1), a);
  q.push(read(1), b);
  assert.deepEqual(turn(), ['1:1', '2:1']);
  q.push(read(1), a);
  assert.deepEqual(turn(), ['1:1'], 'once served, a read may be asked again');
});

test("a connection's queue is bounded: its oldest read is dropped", () => {
  const { q, turn } = setup({ perConnectionMax: 2 });
  const a = { id: 1, closed: false };
  for (const rid of [1, 2, 3]) q.push(read(rid), a);
  assert.deepEqual(turn(), ['1:2', '1:3']);
});

test("a closed connection's reads are dropped", () => {
  const { q, turn } = setup();
  const a = { id: 1, closed: false };
  const b = { id: 2, closed: false };
  q.push(read(1), a);
  q.push(read(2), a);
  q.push(read(3), b);
  a.closed = true;
  assert.deepEqual(turn(), ['2:3']);
  assert.equal(q.size, 0);
});
