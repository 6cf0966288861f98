// The core reader takes a reply as part of a read round only if it carries the round's request id: a late
// reply to an earlier round (here one that saw a shorter log) never answers a later read. The simulator's
// reader client broke this from outside by reusing ids across its cores (shaped seed 69;
// test/sim/reader-client-rids.test.ts); within one core the ids it allocates are never reused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReaderCore } from '../../src/core/reader.js';
import type { ReadReply, ReplicaId } from '../../src/core/types.js';

function reply(rid: number, end: number): ReadReply {
  return { type: 'readReply', rid, status: 'VOTING', begin: 0, end, learnedThrough: end, slots: [], coveredThrough: 0, lost: [], writerActive: false };
}

test('a reply with a stale request id is ignored; the read answers with its own round', () => {
  const rd = new ReaderCore({ members: [1, 2, 3], random: () => 0.5 });
  const first = rd.step({ type: 'bounds', id: 1 }, 0);
  const rid1 = first.send[0]!.msg.type === 'read' ? first.send[0]!.msg.rid : -1;
  let done = [] as typeof first.done;
  for (const id of [1, 2, 3] as ReplicaId[]) done = done.concat(rd.step({ type: 'reply', from: id, msg: reply(rid1, 10) }, 1).done);
  assert.equal(done.length, 1);
  assert.equal(done[0]!.result.ok && done[0]!.result.end, 10);

  const second = rd.step({ type: 'bounds', id: 2 }, 2);
  const rid2 = second.send[0]!.msg.type === 'read' ? second.send[0]!.msg.rid : -1;
  assert.notEqual(rid2, rid1, 'a new round, a new id');
  for (const id of [1, 2, 3] as ReplicaId[]) assert.deepEqual(rd.step({ type: 'reply', from: id, msg: reply(rid1, 10) }, 3).done, [], 'late replies to the first round');
  done = [];
  for (const id of [1, 2, 3] as ReplicaId[]) done = done.concat(rd.step({ type: 'reply', from: id, msg: reply(rid2, 12) }, 4).done);
  assert.equal(done.length, 1);
  assert.equal(done[0]!.id, 2);
  assert.equal(done[0]!.result.ok && done[0]!.result.end, 12);
});
