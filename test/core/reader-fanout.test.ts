// A read round asks a quorum, not every member, when a round was decided lately (issue 21): each reply
// carries the round's entries, and the reader uses the first quorum of them. The next round asks the
// quorum that decided the last one; a member that stops answering costs one retransmission, which asks the
// others, and the round's first quorum then holds the ones that answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReaderCore, type ReaderOutbound } from '../../src/core/reader.js';
import { timing } from '../../src/core/constants.js';
import type { ReadReply, ReplicaId } from '../../src/core/types.js';

function reply(rid: number, end: number): ReadReply {
  return { type: 'readReply', rid, status: 'VOTING', begin: 0, end, learnedThrough: end, slots: [], coveredThrough: end, lost: [], writerActive: false };
}

/** The members a step's read requests went to, and the round's id. */
function asked(send: readonly ReaderOutbound[]): { to: ReplicaId[]; rid: number } {
  const reads = send.filter((s) => s.msg.type === 'read');
  const rid = reads[0]?.msg.type === 'read' ? reads[0].msg.rid : -1;
  return { to: reads.map((s) => s.to).sort(), rid };
}

/** Answers the round from `from` at `now`; returns how many reads finished. */
function answer(rd: ReaderCore, rid: number, from: readonly ReplicaId[], now: number): number {
  let done = 0;
  for (const id of from) done += rd.step({ type: 'reply', from: id, msg: reply(rid, -1) }, now).done.length;
  return done;
}

test('a reader that heard nothing yet asks every member', () => {
  const rd = new ReaderCore({ members: [1, 2, 3], random: () => 0.5 });
  assert.deepEqual(asked(rd.step({ type: 'bounds', id: 1 }, 0).send).to, [1, 2, 3]);
});

test('the next round asks the quorum whose replies decided the last one, not a member that answered late', () => {
  const rd = new ReaderCore({ members: [1, 2, 3, 4, 5], random: () => 0.5 });
  const first = asked(rd.step({ type: 'bounds', id: 1 }, 0).send);
  assert.equal(answer(rd, first.rid, [5, 2, 4], 1), 1, 'a quorum of three answers the read');
  answer(rd, first.rid, [1], 2); // a late answer to a decided round: 1 is alive, but slower
  const second = asked(rd.step({ type: 'bounds', id: 2 }, 3).send);
  assert.deepEqual(second.to, [2, 4, 5], 'a quorum of five: the three that answered first');
});

test('a member of the asked quorum that stopped answering costs one retransmission, which asks the rest', () => {
  const rd = new ReaderCore({ members: [1, 2, 3], random: () => 0.5 });
  const first = asked(rd.step({ type: 'bounds', id: 1 }, 0).send);
  answer(rd, first.rid, [1, 2, 3], 1);
  const second = asked(rd.step({ type: 'bounds', id: 2 }, 10).send);
  assert.equal(second.to.length, 2);
  const [alive, dead] = second.to as [ReplicaId, ReplicaId];
  assert.equal(answer(rd, second.rid, [alive], 11), 0, 'one answer is not a quorum');
  // Before the retransmission time nothing more is sent; at it, the member not asked is.
  assert.deepEqual(asked(rd.step({ type: 'tick' }, 10 + timing.retransmitMs - 1).send).to, []);
  const resent = asked(rd.step({ type: 'tick' }, 10 + timing.retransmitMs).send);
  const spare = ([1, 2, 3] as ReplicaId[]).find((id) => id !== alive && id !== dead)!;
  assert.deepEqual(resent.to, [dead, spare].sort(), 'the silent member again and the spare');
  assert.equal(answer(rd, second.rid, [spare], 10 + timing.retransmitMs + 1), 1, 'the spare completes the quorum');
  const third = asked(rd.step({ type: 'bounds', id: 3 }, 10 + timing.retransmitMs + 2).send);
  assert.deepEqual(third.to, [alive, spare].sort(), 'the next round asks the two that answer');
});

test('a reader whose last round was decided readQuorumFreshMs ago or more asks every member again', () => {
  const rd = new ReaderCore({ members: [1, 2, 3], random: () => 0.5 });
  const first = asked(rd.step({ type: 'bounds', id: 1 }, 0).send);
  answer(rd, first.rid, [1, 2, 3], 1);
  assert.equal(asked(rd.step({ type: 'bounds', id: 2 }, timing.readQuorumFreshMs).send).to.length, 2, 'still fresh');
  const later = rd.step({ type: 'bounds', id: 3 }, timing.readQuorumFreshMs + 2);
  assert.deepEqual(asked(later.send).to, [1, 2, 3]);
});
