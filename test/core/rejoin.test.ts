// The pieces of autorecovery, one rule at a time: a replica records a rejoining
// member's generation and refuses writes counting the old disk; a writer stops
// counting a replaced disk; the recovery protocol catches up to the range
// reported after recording, not before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecoveryCore, type RecoveryOutput } from '../../src/core/recovery.js';
import { replicaStep } from '../../src/core/replica.js';
import type { PromiseReply, RecoverReply, RejoinReply, ReplicaOneWay, ReplicaRequest, WriteReply, WriteRequest } from '../../src/core/types.js';
import { WriterCore } from '../../src/core/writer.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

function voting(): MemoryStore {
  return new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x' });
}
function step(store: MemoryStore, msg: ReplicaRequest | ReplicaOneWay) {
  const s = replicaStep(store, msg);
  store.append(s.records);
  return s.reply;
}
const nop = { kind: 'nop' } as const;

test('rejoin: a VOTING replica records the new generation, refuses an older one, ignores when not VOTING', () => {
  const r = voting();
  const ok = step(r, { type: 'rejoin', rid: 1, member: 2, generation: 3 }) as RejoinReply;
  assert.deepEqual([ok.outcome, ok.generation], ['accept', 3]);
  assert.equal(r.metadata().memberGenerations?.[2], 3);
  const again = step(r, { type: 'rejoin', rid: 2, member: 2, generation: 3 }) as RejoinReply;
  assert.equal(again.outcome, 'accept', 'the same generation again is fine (a rejoin retried after a crash)');
  const older = step(r, { type: 'rejoin', rid: 3, member: 2, generation: 2 }) as RejoinReply;
  assert.deepEqual([older.outcome, older.generation], ['reject', 3]);
  const empty = new MemoryStore({ status: 'EMPTY', promised: 0, incarnation: 'y' });
  assert.equal((step(empty, { type: 'rejoin', rid: 4, member: 2, generation: 1 }) as RejoinReply).outcome, 'ignored');
});

test('a write that names a replaced generation is answered stale, with the current one', () => {
  const r = voting();
  step(r, { type: 'rejoin', rid: 1, member: 2, generation: 1 });
  const w = step(r, { type: 'write', rid: 2, proposal: 5, from: 0, actions: [nop], named: [{ id: 1, generation: 0 }, { id: 2, generation: 0 }] }) as WriteReply;
  assert.equal(w.outcome, 'stale');
  assert.deepEqual(w.retired, [{ id: 2, generation: 1 }]);
  assert.equal(r.slot(0), undefined, 'nothing accepted');
  const fresh = step(r, { type: 'write', rid: 3, proposal: 5, from: 0, actions: [nop], named: [{ id: 1, generation: 0 }, { id: 2, generation: 1 }] }) as WriteReply;
  assert.equal(fresh.outcome, 'accept');
});

test('a writer counts only named generations, drops a replaced disk on stale and resends', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  let out = w.step({ type: 'elect' }, 0);
  const rid = (out.send[0]!.msg as { rid: number }).rid;
  const promise = (generation: number): PromiseReply => ({
    type: 'promiseReply', rid, outcome: 'accept', proposal: 1, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], generation,
  });
  w.step({ type: 'reply', from: 1, msg: promise(0) }, 1);
  out = w.step({ type: 'reply', from: 2, msg: promise(0) }, 1);
  const write = out.send.find((s) => s.msg.type === 'write')!.msg as WriteRequest;
  assert.deepEqual(write.named, [{ id: 1, generation: 0 }, { id: 2, generation: 0 }]);
  const reply = (from: number, outcome: WriteReply['outcome'], generation: number, retired: WriteReply['retired'] = []): WriteReply => ({
    type: 'writeReply', rid: write.rid, outcome, proposal: 1, from: write.from, count: write.actions.length, generation, retired,
  });
  // Replica 3 never promised: its acceptance does not count; replica 2's disk answers with a new generation: neither.
  w.step({ type: 'reply', from: 3, msg: reply(3, 'accept', 0) }, 2);
  out = w.step({ type: 'reply', from: 2, msg: reply(2, 'accept', 1) }, 2);
  assert.equal(out.election, undefined, 'not chosen: only replica 1 counted');
  // Replica 1 recorded replica 2's new generation: stale; the writer drops 2 and is left with 1 named < quorum.
  out = w.step({ type: 'reply', from: 1, msg: reply(1, 'stale', 0, [{ id: 2, generation: 1 }]) }, 3);
  assert.equal(w.roleKind, 'idle', 'fewer than a quorum named: the writer gives up and will elect again');
  assert.deepEqual(out.election, { ok: false, error: 'no-quorum' });
});

test('recovery: an EMPTY replica among VOTING peers takes a new generation and catches up to the range reported after recording', () => {
  let rid = 0;
  const core = new RecoveryCore({ self: 1, members: [1, 2, 3], status: 'EMPTY', generation: 0, random: () => 0, rid: () => ++rid });
  const recoverReply = (r: number, end: number, memberGeneration: number): RecoverReply => ({
    type: 'recoverReply', rid: r, status: 'VOTING', begin: 0, end, generation: 0, memberGeneration,
  });
  let out: RecoveryOutput = core.step({ type: 'tick' }, 0);
  assert.deepEqual(out.send.map((s) => s.msg.type), ['recover', 'recover']);
  core.step({ type: 'reply', from: 2, msg: recoverReply(rid, 10, 0) }, 1);
  out = core.step({ type: 'reply', from: 3, msg: recoverReply(rid, 10, 0) }, 1);
  assert.equal(core.phaseKind, 'query');
  out.waiting = undefined;
  // Saw VOTING peers: go to query (new round) ...
  out = core.step({ type: 'tick' }, 2000);
  core.step({ type: 'reply', from: 2, msg: recoverReply(rid, 10, 1) }, 2001);
  out = core.step({ type: 'reply', from: 3, msg: recoverReply(rid, 10, 0) }, 2001);
  assert.deepEqual(out.become, { status: 'RECOVERING', generation: 2 }, 'above every generation recorded for it');
  out = core.step({ type: 'status', status: 'RECOVERING', generation: 2 }, 2002);
  assert.deepEqual(out.send.map((s) => s.msg), [
    { type: 'rejoin', rid, member: 1, generation: 2 },
    { type: 'rejoin', rid, member: 1, generation: 2 },
  ]);
  const rejoinReply = (end: number): RejoinReply => ({ type: 'rejoinReply', rid, outcome: 'accept', status: 'VOTING', begin: 3, end, generation: 2 });
  core.step({ type: 'reply', from: 2, msg: rejoinReply(14) }, 2003);
  out = core.step({ type: 'reply', from: 3, msg: rejoinReply(17) }, 2003);
  assert.deepEqual(out.catchUp, { from: 3, to: 17 }, 'the end reported after recording (17), not the queried one (10)');
  out = core.step({ type: 'caughtUp' }, 3000);
  assert.deepEqual(out.become, { status: 'VOTING', generation: 2 });
});

test('a corrupted learned position is repaired by learning the same value again, and only then', () => {
  const r = voting();
  const data = { kind: 'append', data: new TextEncoder().encode('v') } as const;
  step(r, { type: 'learned', entries: [{ position: 0, action: data }] });
  assert.equal(replicaStep(r, { type: 'learned', entries: [{ position: 0, action: data }] }).records.length, 0, 'a healthy learned position takes nothing');
  r.markLost(0);
  assert.equal(r.action(0), 'lost');
  step(r, { type: 'learned', entries: [{ position: 0, action: data }] });
  assert.deepEqual(r.action(0), data, 'repaired');
  assert.deepEqual(r.lostPositions(), []);
});
