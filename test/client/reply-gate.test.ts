// The client's reply gate (src/client/reply-gate.ts) must never take a correct replica for an insane one:
// a replica far ahead of members that are not VOTING, or of what the others showed long ago (found by an
// adversarial review: both dropped correct replicas for the client's lifetime).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyGate } from '../../src/client/reply-gate.js';
import type { Message, ReadReply } from '../../src/core/types.js';

function gate() {
  const dropped: string[] = [];
  const delivered: number[] = [];
  const g = new ReplyGate({ members: () => [1, 2, 3], deliver: (from) => delivered.push(from), drop: (from, why) => dropped.push(`${from}: ${why}`) });
  return { g, dropped, delivered };
}
const read = (rid: number): Message => ({ type: 'read', rid, from: 0, to: 4095, limit: 4096 });
const reply = (rid: number, end: number, status: ReadReply['status'] = 'VOTING'): ReadReply => ({
  type: 'readReply', rid, status, begin: 0, end, learnedThrough: end, slots: [], coveredThrough: 4095, lost: [], writerActive: false,
});

test('a VOTING replica far ahead of a member that is not VOTING is not dropped (it waits for a voter to judge it)', () => {
  const { g, dropped, delivered } = gate();
  for (const to of [1, 2, 3]) g.noteSent(to, read(1));
  g.receive(2, reply(1, 3, 'RECOVERING'));
  g.receive(1, reply(1, 20_000_000));
  assert.deepEqual(dropped, []);
  g.receive(3, reply(1, 20_000_000));
  assert.deepEqual(dropped, []);
  assert.ok(delivered.includes(1) && delivered.includes(3), 'both voters delivered once one can vouch for the other');
});

test('a client that saw the log long ago keeps every replica once the log moved 2^24 positions', () => {
  const { g, dropped } = gate();
  for (const to of [1, 2, 3]) g.noteSent(to, read(1));
  for (const from of [1, 2, 3]) g.receive(from, reply(1, 1_000_000));
  for (const to of [1, 2, 3]) g.noteSent(to, read(2));
  for (const from of [1, 2, 3]) g.receive(from, reply(2, 20_000_000));
  assert.deepEqual(dropped, []);
});

test('a replica claiming far more than the voters answering the same request is still dropped', () => {
  const { g, dropped } = gate();
  for (const to of [1, 2, 3]) g.noteSent(to, read(1));
  g.receive(2, reply(1, 100));
  g.receive(3, reply(1, 120));
  g.receive(1, reply(1, 2 ** 40));
  assert.equal(dropped.length, 1);
  assert.match(dropped[0]!, /^1: claims position/);
});

// attack3: one replica answering stale-config with a head no other member has fenced every writer. Its
// word is held until another member's reply shows that head (or a newer one); then it is believed.
const write = (rid: number): Message => ({ type: 'write', rid, proposal: 5, from: 10, actions: [{ kind: 'nop' }], named: [] });
const writeReply = (rid: number, outcome: 'accept' | 'stale-config', epoch: number): Message => ({
  type: 'writeReply', rid, outcome, proposal: 5, from: 10, count: 1, generation: 0, disk: 0, retired: [],
  config: epoch === 0 ? { epoch: 0, position: -1 } : { epoch, position: 3 },
});

test('a stale-config answer naming a head no other member showed is held, not delivered and not dropped', () => {
  const { g, dropped, delivered } = gate();
  for (const to of [1, 2, 3]) g.noteSent(to, write(1));
  g.receive(1, writeReply(1, 'stale-config', 7));
  g.receive(2, writeReply(1, 'accept', 0));
  g.receive(3, writeReply(1, 'accept', 0));
  assert.deepEqual(dropped, []);
  assert.deepEqual(delivered, [2, 3], 'the lone stale-config answer is not believed');
});

test('a held stale-config answer is believed once another member shows that head', () => {
  const { g, dropped, delivered } = gate();
  for (const to of [1, 2, 3]) g.noteSent(to, write(1));
  g.receive(1, writeReply(1, 'stale-config', 1));
  assert.deepEqual(delivered, []);
  for (const to of [2]) g.noteSent(to, read(2));
  g.receive(2, { ...reply(2, 100), config: { epoch: 1, position: 3 } });
  assert.deepEqual(dropped, []);
  assert.deepEqual(delivered, [2, 1], 'released when replica 2 shows epoch 1');
});
