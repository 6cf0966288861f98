// A fill's commit names only its proposal number, and a replica that receives it learns whatever it
// accepted under that number. After a disk loss two proposers can hold the same number (a replaced disk
// forgot the promise it gave), so a replica that did not promise this fill may hold another fill's value
// under the very same number: a commit sent to it would make it learn that value, and two values would be
// learned at one position. The fill therefore commits only to the members that promised it (as the writer
// does). Found by an adversarial review (docs/reviews/core-changes-2026-12-04.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fill, type FillOutbound } from '../../src/core/fill.js';
import type { PromiseReply, PromiseRequest, WriteReply, WriteRequest } from '../../src/core/types.js';

const promiseReply = (rid: number, proposal: number): PromiseReply => ({
  type: 'promiseReply', rid, outcome: 'accept', proposal, status: 'VOTING', begin: 0, end: 0,
  learnedThrough: -1, slots: [], coveredThrough: 0, generation: 0, disk: 0,
});
const writeReply = (rid: number, proposal: number): WriteReply => ({ type: 'writeReply', rid, outcome: 'accept', proposal, from: 0, count: 1, generation: 0, disk: 0, retired: [] });

test('fill: the commit goes only to the members that promised it, never to one that answered nothing in phase 1', () => {
  let rid = 1;
  const members = [1, 2, 3, 4, 5];
  const send: FillOutbound[] = [];
  const fill = new Fill(0, 0, 10, { members, random: () => 0.5, rid: () => rid++ }, 0, send);
  const promise = send[0]!.msg as PromiseRequest;
  const phase2: FillOutbound[] = [];
  for (const from of [1, 2, 3]) fill.onPromiseReply(from, promiseReply(promise.rid, promise.proposal), 1, phase2);
  const write = phase2.find((o) => o.msg.type === 'write')!.msg as WriteRequest;
  assert.deepEqual(write.named.map((n) => n.id), [1, 2, 3]);
  // r4 and r5 never promised this fill (one of them may hold another fill's value under the same number).
  const commits: FillOutbound[] = [];
  let result;
  for (const from of [1, 2, 3]) result ??= fill.onWriteReply(from, writeReply(write.rid, write.proposal), 2, commits);
  assert.equal(result?.ok, true, 'chosen once a quorum of the promised members accepted');
  const to = commits.filter((o) => o.msg.type === 'commit').map((o) => o.to).sort();
  assert.deepEqual(to, [1, 2, 3], 'committed to the promised members only');
});

test('fill: a value accepted but not learned is chosen only by phase 2 (a write to a quorum); all learned needs no write', () => {
  const run = (learned: boolean) => {
    let rid = 1;
    const send: FillOutbound[] = [];
    const fill = new Fill(0, 0, 10, { members: [1, 2, 3], random: () => 0.5, rid: () => rid++ }, 0, send);
    const promise = send[0]!.msg as PromiseRequest;
    const phase2: FillOutbound[] = [];
    const slot = { position: 0, promised: 4, accepted: 4, learned, action: { kind: 'append' as const, data: new Uint8Array([1]) } };
    let result;
    for (const from of [1, 2]) result ??= fill.onPromiseReply(from, { ...promiseReply(promise.rid, promise.proposal), slots: [slot] }, 1, phase2);
    return { result, writes: phase2.filter((o) => o.msg.type === 'write').length };
  };
  const accepted = run(false);
  assert.equal(accepted.result, undefined, 'not settled by phase 1 alone: one acceptance proves nothing chosen');
  assert.equal(accepted.writes, 3, 'phase 2 writes it to every member');
  const learned = run(true);
  assert.equal(learned.result?.ok, true, 'a learned value is chosen: settled at once');
  assert.equal(learned.writes, 0);
});
