// Held reads (tails' doorbells, docs/wire.md): served once the position is learned or the wait is over, at once when
// there is something to tell, and never more than a connection's share held.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReadRequest } from '../../src/core/types.js';
import { ReadWaits } from '../../src/server/read-waits.js';
import { decodeMessage, encodeMessage } from '../../src/net/codec.js';

function setup(perConnectionMax = 16) {
  let learned = -1;
  let now = 0;
  const served: { rid: number; waitMs?: number; conn: number }[] = [];
  const waits = new ReadWaits<{ id: number; closed: boolean }>({
    learned: (p) => p <= learned,
    serve: (msg, conn) => served.push({ rid: msg.rid, waitMs: msg.waitMs, conn: conn.id }),
    now: () => now,
    perConnectionMax,
  });
  return { waits, served, learn: (p: number) => (learned = p), tick: (ms: number) => (now += ms) };
}
const read = (rid: number, from: number, waitMs?: number): ReadRequest => ({ type: 'read', rid, from, to: from, limit: 1, ...(waitMs === undefined ? {} : { waitMs }) });

test('a held read is served once its position is learned, or when its wait is over, without its waitMs', () => {
  const { waits, served, learn, tick } = setup();
  const conn = { id: 1, closed: false };
  waits.push(read(1, 5, 1000), conn);
  waits.push(read(2, 9, 1000), conn);
  waits.poke();
  assert.equal(served.length, 0);
  learn(5);
  waits.poke();
  assert.deepEqual(served, [{ rid: 1, waitMs: undefined, conn: 1 }]);
  tick(1000);
  waits.poke();
  assert.deepEqual(served.map((s) => s.rid), [1, 2]);
  assert.equal(waits.size, 0);
});

test('served at once when learned already or past the connection bound; a closed connection\'s reads are dropped', () => {
  const { waits, served, learn } = setup(1);
  learn(3);
  waits.push(read(1, 3, 1000), { id: 1, closed: false });
  assert.deepEqual(served.map((s) => s.rid), [1]);
  const conn = { id: 2, closed: false };
  waits.push(read(2, 8, 1000), conn);
  waits.push(read(3, 8, 1000), conn);
  assert.deepEqual(served.map((s) => s.rid), [1, 3]);
  conn.closed = true;
  learn(8);
  waits.poke();
  assert.deepEqual(served.map((s) => s.rid), [1, 3]);
});

test('the wire carries waitMs in limit\'s high 16 bits; a replica that predates it reads a large limit (clamped)', () => {
  const held = decodeMessage(encodeMessage(read(7, 4, 250)));
  assert.deepEqual(held, read(7, 4, 250));
  const raw = decodeMessage(encodeMessage({ type: 'read', rid: 7, from: 4, to: 4, limit: 1 }));
  assert.deepEqual(raw, { type: 'read', rid: 7, from: 4, to: 4, limit: 1 });
  // The same bytes as an old decoder saw them: one u32 whose high half is the wait.
  const bytes = encodeMessage(read(7, 4, 250));
  assert.equal(bytes.readUInt32LE(bytes.length - 4), 250 * 0x10000 + 1);
});
