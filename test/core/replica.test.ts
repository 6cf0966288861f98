// The acceptor's rules, ported from Mesos's ReplicaTest and the reference's
// appendix of invariants: promise needs a strictly greater proposal, write
// needs one at least as great, non-VOTING replicas ignore, learned values stick.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limits } from '../../src/core/constants.js';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import type { Action, PromiseReply, ReadReply, RecoverReply, WriteReply } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const hello: Action = { kind: 'append', data: new TextEncoder().encode('hello world') };

function voting(): MemoryStore {
  return new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x' });
}

function step(store: MemoryStore, msg: AcceptorMessage) {
  const s = replicaStep(store, msg);
  store.append(s.records);
  store.checkInvariants();
  return s.reply;
}

test('implicit promise: accepted only above the promise in force (ReplicaTest.Promise)', () => {
  const r = voting();
  let reply = step(r, { type: 'promise', rid: 1, proposal: 2 }) as PromiseReply;
  assert.equal(reply.outcome, 'accept');
  assert.equal(reply.proposal, 2);
  assert.equal(reply.end, -1);
  reply = step(r, { type: 'promise', rid: 2, proposal: 1 }) as PromiseReply;
  assert.deepEqual([reply.outcome, reply.proposal], ['reject', 2]);
  reply = step(r, { type: 'promise', rid: 3, proposal: 2 }) as PromiseReply;
  assert.deepEqual([reply.outcome, reply.proposal], ['reject', 2], 'an equal proposal is refused: one number, one proposer');
  reply = step(r, { type: 'promise', rid: 4, proposal: 3 }) as PromiseReply;
  assert.deepEqual([reply.outcome, reply.proposal], ['accept', 3]);
  assert.equal(r.metadata().promised, 3);
});

test('write after promise is accepted and stored unlearned (ReplicaTest.Append)', () => {
  const r = voting();
  step(r, { type: 'promise', rid: 1, proposal: 1 });
  const reply = step(r, { type: 'write', rid: 2, proposal: 1, from: 1, actions: [hello], named: [] }) as WriteReply;
  assert.deepEqual([reply.outcome, reply.proposal, reply.from, reply.count], ['accept', 1, 1, 1]);
  const slot = r.slot(1)!;
  assert.deepEqual([slot.accepted, slot.learned, slot.kind], [1, false, 'append']);
  assert.deepEqual(r.action(1), hello);
});

test('a write below the promise in force is rejected with that promise', () => {
  const r = voting();
  step(r, { type: 'promise', rid: 1, proposal: 5 });
  const reply = step(r, { type: 'write', rid: 2, proposal: 4, from: 0, actions: [hello], named: [] }) as WriteReply;
  assert.deepEqual([reply.outcome, reply.proposal], ['reject', 5]);
  assert.equal(r.slot(0), undefined, 'nothing stored');
});

test('an explicit promise on one position binds later writes there, not elsewhere', () => {
  const r = voting();
  step(r, { type: 'promise', rid: 1, proposal: 1 });
  const p = step(r, { type: 'promise', rid: 2, proposal: 7, from: 3, to: 3 }) as PromiseReply;
  assert.equal(p.outcome, 'accept');
  const w3 = step(r, { type: 'write', rid: 3, proposal: 1, from: 3, actions: [hello], named: [] }) as WriteReply;
  assert.deepEqual([w3.outcome, w3.proposal], ['reject', 7]);
  const w4 = step(r, { type: 'write', rid: 4, proposal: 1, from: 4, actions: [hello], named: [] }) as WriteReply;
  assert.equal(w4.outcome, 'accept');
});

test('an explicit promise reports the value accepted before it', () => {
  const r = voting();
  step(r, { type: 'promise', rid: 1, proposal: 1 });
  step(r, { type: 'write', rid: 2, proposal: 1, from: 0, actions: [hello], named: [] });
  const p = step(r, { type: 'promise', rid: 3, proposal: 2, from: 0, to: 1 }) as PromiseReply;
  assert.equal(p.outcome, 'accept');
  assert.equal(p.slots.length, 1);
  assert.deepEqual([p.slots[0]!.position, p.slots[0]!.accepted, p.slots[0]!.action], [0, 1, hello]);
});

test('non-VOTING replicas ignore promises and writes but learn (ReplicaTest.NonVoting)', () => {
  for (const status of ['EMPTY', 'STARTING', 'RECOVERING'] as const) {
    const r = new MemoryStore({ status, promised: 0, incarnation: 'x' });
    const p = step(r, { type: 'promise', rid: 1, proposal: 2 }) as PromiseReply;
    assert.deepEqual([p.outcome, p.proposal], ['ignored', 2]);
    const w = step(r, { type: 'write', rid: 2, proposal: 3, from: 1, actions: [hello], named: [] }) as WriteReply;
    assert.deepEqual([w.outcome, w.proposal, w.from], ['ignored', 3, 1]);
    step(r, { type: 'learned', entries: [{ position: 1, action: hello }] });
    assert.equal(r.slot(1)?.learned, true, `${status} replica learns`);
    const rec = step(r, { type: 'recover', rid: 3 });
    assert.equal(rec?.type === 'recoverReply' && rec.status, status, 'recover is answered in every status');
  }
});

test('a learned position keeps its value: a different write is rejected, the same one accepted (MESOS-1271)', () => {
  const r = voting();
  step(r, { type: 'learned', entries: [{ position: 0, action: hello }] });
  const other: Action = { kind: 'append', data: new TextEncoder().encode('other') };
  const w1 = step(r, { type: 'write', rid: 1, proposal: 9, from: 0, actions: [other], named: [] }) as WriteReply;
  assert.equal(w1.outcome, 'reject');
  const w2 = step(r, { type: 'write', rid: 2, proposal: 9, from: 0, actions: [hello], named: [] }) as WriteReply;
  assert.equal(w2.outcome, 'accept');
  assert.deepEqual(r.action(0), hello);
});

test('commit marks only the values accepted under its proposal', () => {
  const r = voting();
  step(r, { type: 'promise', rid: 1, proposal: 1 });
  step(r, { type: 'write', rid: 2, proposal: 1, from: 0, actions: [hello, hello], named: [] });
  step(r, { type: 'promise', rid: 3, proposal: 2, from: 1, to: 1 });
  step(r, { type: 'write', rid: 4, proposal: 2, from: 1, actions: [{ kind: 'nop' }], named: [] });
  step(r, { type: 'commit', proposal: 1, from: 0, to: 1 });
  assert.equal(r.slot(0)?.learned, true);
  assert.equal(r.slot(1)?.learned, false, 'position 1 holds proposal 2: not what was committed');
  assert.equal(r.learnedThrough(), 0);
});

test('a learned TRUNCATE moves begin; truncated positions answer as learned tombstones (LogStorageTest.Truncate)', () => {
  const r = voting();
  const entries = Array.from({ length: 10 }, (_, i) => ({ position: i, action: hello }));
  step(r, { type: 'learned', entries });
  step(r, { type: 'learned', entries: [{ position: 10, action: { kind: 'truncate', to: 3 } }] });
  assert.equal(r.begin(), 3);
  assert.equal(r.slot(2), undefined);
  assert.deepEqual(r.action(3), hello);
  assert.equal(r.learnedThrough(), 10);
  const p = step(r, { type: 'promise', rid: 1, proposal: 5, from: 1, to: 1 }) as PromiseReply;
  assert.deepEqual([p.outcome, p.slots[0]?.learned, p.slots[0]?.action?.kind], ['accept', true, 'nop']);
  const w = step(r, { type: 'write', rid: 2, proposal: 5, from: 2, actions: [hello], named: [] }) as WriteReply;
  assert.equal(w.outcome, 'ignored', 'no vote below begin (and no fencing of a writer the others still need)');
  step(r, { type: 'learned', entries: [{ position: 11, action: { kind: 'truncate', to: 10 } }] });
  assert.equal(r.begin(), 10);
  assert.equal(r.slot(10)?.kind, 'truncate');
});

test('a TRUNCATE far beyond the stored positions is cheap (LogStorageTest.TruncateWithManyHoles)', () => {
  const r = voting();
  // Straight into the store: a replica takes learned values this far beyond its end only through bulk catch-up.
  r.append([{ type: 'learn', position: 600_020_000, action: { kind: 'truncate', to: 600_000_000 } }]);
  assert.equal(r.begin(), 600_000_000);
  assert.equal(r.end(), 600_020_000);
  const read = step(r, { type: 'read', rid: 1, from: 600_020_000, to: 600_020_000, limit: 10 }) as ReadReply;
  assert.equal(read.slots.length, 1);
});

test('positions beyond 2^32 and up to MAX_SAFE_INTEGER work (LogStorageTest.Overflow)', () => {
  const r = voting();
  const ps = [0, 2 ** 31 - 1, 2 ** 32, 9_999_999_999, 10_000_000_000, Number.MAX_SAFE_INTEGER - 1];
  for (const position of ps) r.append([{ type: 'learn', position, action: hello }]);
  for (const p of ps) assert.deepEqual(r.action(p), hello);
  assert.equal(r.end(), Number.MAX_SAFE_INTEGER - 1);
});

test('sanity bounds: no message makes a replica take a position far beyond its end, a truncation past its own position, or a number nobody can exceed', () => {
  const r = voting();
  const far = limits.positionsBeyondEndMax + 10;
  step(r, { type: 'learned', entries: [{ position: far, action: hello }, { position: 3, action: { kind: 'truncate', to: 2 ** 40 } }] });
  assert.equal(r.end(), -1, 'neither a far-out learned value nor a truncation reaching past itself is taken');
  const w = step(r, { type: 'write', rid: 1, proposal: 2, from: far, actions: [hello], named: [] }) as WriteReply;
  assert.equal(w.outcome, 'ignored');
  const t = step(r, { type: 'write', rid: 2, proposal: 2, from: 0, actions: [{ kind: 'truncate', to: 5 }], named: [] }) as WriteReply;
  assert.equal(t.outcome, 'ignored', 'a TRUNCATE(5) at position 0 would empty the log for good');
  const p = step(r, { type: 'promise', rid: 3, proposal: limits.proposalMax + 1 }) as PromiseReply;
  assert.equal(p.outcome, 'ignored', 'a promise no one could ever exceed is not granted');
  assert.equal(r.metadata().promised, 0);
  const ok = step(r, { type: 'promise', rid: 4, proposal: 7 }) as PromiseReply;
  assert.equal(ok.outcome, 'accept');
});

test('sanity bounds, their edges: a write ending at the far bound itself is voted on; one insane action anywhere makes the whole write ignored', () => {
  const r = voting();
  const far = -1 + limits.positionsBeyondEndMax; // an empty log: end -1
  assert.equal((step(r, { type: 'write', rid: 1, proposal: 2, from: far - 1, actions: [hello, hello], named: [] }) as WriteReply).outcome, 'accept');
  const q = voting();
  const w = step(q, { type: 'write', rid: 2, proposal: 2, from: 0, actions: [hello, { kind: 'truncate', to: 5 }, hello], named: [] }) as WriteReply;
  assert.equal(w.outcome, 'ignored', 'the TRUNCATE(5) at 1 spoils the write, its sane actions included');
  assert.equal(q.end(), -1);
});

test('a recover reply lists every disk the replica knows of, its own first (a rejoining member adopts the newest of each); a replica that does not know its own id lists none', () => {
  const r = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x', generation: 2, disk: 9, recorded: { 3: { generation: 1, disk: 5 } } });
  const asked = (self?: number) => (replicaStep(r, { type: 'recover', rid: 1, member: 3 }, undefined, self === undefined ? {} : { self }).reply as RecoverReply).recorded;
  assert.deepEqual(asked(2), [{ id: 2, generation: 2, disk: 9 }, { id: 3, generation: 1, disk: 5 }]);
  assert.deepEqual(asked(), []);
});

test('a commit reaching far beyond the end costs what the slots cost, not a walk to its end', { timeout: 60_000 }, () => {
  const r = voting();
  step(r, { type: 'promise', rid: 1, proposal: 1 });
  step(r, { type: 'write', rid: 2, proposal: 1, from: 0, actions: [hello], named: [] });
  // A walk over 2^52 positions would take days: the test's deadline catches it.
  step(r, { type: 'commit', proposal: 1, from: 0, to: 2 ** 52 });
  assert.equal(r.learnedThrough(), 0);
});

test('a corrupted record makes the replica ignore requests that depend on it', () => {
  const r = voting();
  step(r, { type: 'promise', rid: 1, proposal: 1 });
  step(r, { type: 'write', rid: 2, proposal: 1, from: 0, actions: [hello], named: [] });
  r.markLost(0);
  const p = step(r, { type: 'promise', rid: 3, proposal: 2 }) as PromiseReply;
  assert.equal(p.outcome, 'ignored');
  const read = step(r, { type: 'read', rid: 4, from: 0, to: 0, limit: 10 }) as ReadReply;
  assert.deepEqual([read.slots.length, read.lost], [0, [0]], 'never served');
});

test('accepting a proposal promises it: a late write under a lower one does not overwrite (sim seed 159)', () => {
  const r = voting();
  // Accepted under 15 without a promise (a writer's write needs none), then a delayed write under 14.
  step(r, { type: 'write', rid: 1, proposal: 15, from: 7, actions: [{ kind: 'nop' }], named: [] });
  const late = step(r, { type: 'write', rid: 2, proposal: 14, from: 7, actions: [hello], named: [] }) as WriteReply;
  assert.deepEqual([late.outcome, late.proposal], ['reject', 15]);
  assert.equal(r.slot(7)?.kind, 'nop');
});

test('an implicit promise must exceed every explicit promise: one number, one proposer (sim seed 4113)', () => {
  const r = voting();
  const fill = step(r, { type: 'promise', rid: 1, proposal: 3, from: 5, to: 5 }) as PromiseReply;
  assert.equal(fill.outcome, 'accept');
  const writer = step(r, { type: 'promise', rid: 2, proposal: 3 }) as PromiseReply;
  assert.deepEqual([writer.outcome, writer.proposal], ['reject', 3]);
});

test('a promise or write far above the highest proposal known is not granted: one hostile number must not leave no room above it', () => {
  const r = voting();
  assert.equal((step(r, { type: 'promise', rid: 1, proposal: 5 }) as PromiseReply).outcome, 'accept');
  for (const proposal of [limits.proposalMax, 5 + limits.proposalStepMax + 1]) {
    assert.equal((step(r, { type: 'promise', rid: 2, proposal }) as PromiseReply).outcome, 'ignored', `promise ${proposal}`);
    assert.equal((step(r, { type: 'promise', rid: 3, proposal, from: 0, to: 0 }) as PromiseReply).outcome, 'ignored', `explicit promise ${proposal}`);
    assert.equal((step(r, { type: 'write', rid: 4, proposal, from: 0, actions: [{ kind: 'nop' }], named: [] }) as WriteReply).outcome, 'ignored', `write ${proposal}`);
  }
  assert.equal(r.metadata().promised, 5);
  assert.equal((step(r, { type: 'promise', rid: 5, proposal: 5 + limits.proposalStepMax }) as PromiseReply).outcome, 'accept', 'a step within the bound is fine');
});

test('a lost record anywhere in a write\'s range, the last position included, keeps the replica from voting there', () => {
  const r = voting();
  step(r, { type: 'promise', rid: 1, proposal: 1 });
  step(r, { type: 'write', rid: 2, proposal: 1, from: 0, actions: [hello, hello, hello], named: [] });
  r.markLost(2);
  for (const [from, n] of [[2, 1], [1, 2], [0, 3]] as const) {
    const w = step(r, { type: 'write', rid: 3, proposal: 1, from, actions: Array.from({ length: n }, () => hello), named: [] }) as WriteReply;
    assert.equal(w.outcome, 'ignored', `a write of [${from}, ${from + n - 1}]`);
  }
  assert.equal((step(r, { type: 'write', rid: 4, proposal: 1, from: 0, actions: [hello, hello], named: [] }) as WriteReply).outcome, 'accept', 'below it');
});

test('proposalMax bounds a promise even where the step allows it: a replica that knows a number near the bound', () => {
  const r = new MemoryStore({ status: 'VOTING', promised: limits.proposalMax - 10, incarnation: 'x' });
  assert.equal((step(r, { type: 'promise', rid: 1, proposal: limits.proposalMax + 1 }) as PromiseReply).outcome, 'ignored');
  assert.equal((step(r, { type: 'promise', rid: 2, proposal: limits.proposalMax }) as PromiseReply).outcome, 'accept');
});

test('a read of many small entries reads them in a few large batches, not one per 64 positions (issue 20, item 3)', () => {
  const r = voting();
  step(r, { type: 'promise', rid: 1, proposal: 1 });
  const n = limits.readSlotsMax;
  for (let from = 0; from < n; from += 1024) {
    step(r, { type: 'write', rid: 2, proposal: 1, from, actions: Array.from({ length: 1024 }, () => hello), named: [] });
  }
  const batches: number[] = [];
  const view = Object.assign(Object.create(r) as MemoryStore, {
    readActions: (ps: readonly number[]) => {
      batches.push(ps.length);
      return ps.map((p) => r.action(p));
    },
  });
  const reply = replicaStep(view, { type: 'read', rid: 3, from: 0, to: n - 1, limit: n }).reply as ReadReply;
  assert.equal(reply.slots.length, n);
  assert.equal(reply.coveredThrough, n - 1);
  assert.ok(batches.length <= 8, `read in ${batches.length} batches (${batches.join(',')})`);
});

test('a write under proposal 0 (no ballot: proposals start at 1) is ignored and writes nothing, whatever the floors say', () => {
  const s = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'i' });
  const step = replicaStep(s, { type: 'write', rid: 1, proposal: 0, from: 0, actions: [{ kind: 'nop' }], named: [] });
  assert.deepEqual(step.records, []);
  assert.equal(step.reply?.type === 'writeReply' && step.reply.outcome, 'ignored');
});
