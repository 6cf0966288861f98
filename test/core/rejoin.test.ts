// The pieces of autorecovery, one rule at a time: a replica records a rejoining
// member's new disk and refuses writes counting an older one; a writer counts
// only the very disk that promised it; the recovery protocol takes a
// generation above every one recorded (and refused), adopts what its peers
// remember of the others, and catches up to the range reported after
// recording, not before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecoveryCore, type RecoveryOutput } from '../../src/core/recovery.js';
import { replicaStep, type AcceptorMessage, type ReplicaContext } from '../../src/core/replica.js';
import type { Metadata, Named, PromiseReply, RecoverReply, RejoinReply, WriteReply, WriteRequest } from '../../src/core/types.js';
import { WriterCore } from '../../src/core/writer.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

function voting(meta: Partial<Metadata> = {}): MemoryStore {
  return new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x', ...meta });
}
function step(store: MemoryStore, msg: AcceptorMessage, ctx: ReplicaContext = { self: 1 }) {
  const s = replicaStep(store, msg, undefined, ctx);
  store.append(s.records);
  return s.reply;
}
const nop = { kind: 'nop' } as const;
const named = (id: number, generation: number, disk = generation === 0 ? 0 : 100 + generation): Named => ({ id, generation, disk });

test('rejoin: records the new disk; refuses an older one; ignores a sender other than the member, and when not VOTING', () => {
  const r = voting();
  const ok = step(r, { type: 'rejoin', rid: 1, member: 2, generation: 3, disk: 33 }, { self: 1, from: 2 }) as RejoinReply;
  assert.deepEqual([ok.outcome, ok.generation, ok.disk], ['accept', 3, 33]);
  assert.deepEqual(r.metadata().recorded?.[2], { generation: 3, disk: 33 });
  const again = step(r, { type: 'rejoin', rid: 2, member: 2, generation: 3, disk: 33 }, { self: 1, from: 2 }) as RejoinReply;
  assert.equal(again.outcome, 'accept', 'the same disk again is fine (a rejoin retried after a crash)');
  const older = step(r, { type: 'rejoin', rid: 3, member: 2, generation: 2, disk: 5 }, { self: 1, from: 2 }) as RejoinReply;
  assert.deepEqual([older.outcome, older.generation], ['reject', 3]);
  const twin = step(r, { type: 'rejoin', rid: 3, member: 2, generation: 3, disk: 34 }, { self: 1, from: 2 }) as RejoinReply;
  assert.deepEqual([twin.outcome, twin.generation, twin.disk], ['reject', 3, 33], 'the same generation on another disk is refused, never confused');
  const forged = step(r, { type: 'rejoin', rid: 4, member: 3, generation: 9, disk: 1 }, { self: 1, from: 2 }) as RejoinReply;
  assert.equal(forged.outcome, 'ignored', 'a member records only its own new disk');
  assert.equal(r.metadata().recorded?.[3], undefined);
  const client = step(r, { type: 'rejoin', rid: 4, member: 3, generation: 9, disk: 1 }, { self: 1 }) as RejoinReply;
  assert.equal(client.outcome, 'ignored', 'a client may not record a disk for anyone');
  const empty = new MemoryStore({ status: 'EMPTY', promised: 0, incarnation: 'y' });
  assert.equal((step(empty, { type: 'rejoin', rid: 4, member: 2, generation: 1, disk: 1 }, { self: 1, from: 2 }) as RejoinReply).outcome, 'ignored');
});

test('a write naming a replaced disk is answered stale, with the current one: older generation, same generation on another disk, or this replica\'s own old disk', () => {
  const r = voting({ generation: 2, disk: 202, recorded: { 2: { generation: 1, disk: 101 } } });
  const write = (list: Named[]): WriteReply => step(r, { type: 'write', rid: 2, proposal: 5, from: 0, actions: [nop], named: list }) as WriteReply;
  const old = write([named(1, 2, 202), named(2, 0)]);
  assert.equal(old.outcome, 'stale');
  assert.deepEqual(old.retired, [{ id: 2, generation: 1, disk: 101 }]);
  const twin = write([named(1, 2, 202), named(2, 1, 999)]);
  assert.deepEqual(twin.retired, [{ id: 2, generation: 1, disk: 101 }], 'a generation drawn twice is still told apart by its disk number');
  const self = write([named(1, 1, 101), named(2, 1, 101)]);
  assert.deepEqual(self.retired, [{ id: 1, generation: 2, disk: 202 }], 'this replica\'s own earlier disk is retired too');
  assert.equal(r.slot(0), undefined, 'nothing accepted');
  const fresh = write([named(1, 2, 202), named(2, 1, 101)]);
  assert.equal(fresh.outcome, 'accept');
  assert.deepEqual([fresh.generation, fresh.disk], [2, 202]);
});

test('a writer counts only the disks that promised it, drops a replaced disk on stale, and gives up below a quorum', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  let out = w.step({ type: 'elect' }, 0);
  const rid = (out.send[0]!.msg as { rid: number }).rid;
  const promise = (generation: number, disk: number): PromiseReply => ({
    type: 'promiseReply', rid, outcome: 'accept', proposal: 1, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1, generation, disk,
  });
  w.step({ type: 'reply', from: 1, msg: promise(0, 0) }, 1);
  out = w.step({ type: 'reply', from: 2, msg: promise(1, 11) }, 1);
  const write = out.send.find((s) => s.msg.type === 'write')!.msg as WriteRequest;
  assert.deepEqual(write.named, [named(1, 0), named(2, 1, 11)]);
  const reply = (outcome: WriteReply['outcome'], generation: number, disk: number, retired: WriteReply['retired'] = []): WriteReply => ({
    type: 'writeReply', rid: write.rid, outcome, proposal: 1, from: write.from, count: write.actions.length, generation, disk, retired,
  });
  // Replica 3 never promised: its acceptance does not count; replica 2 answers from another disk of generation 1: neither.
  w.step({ type: 'reply', from: 3, msg: reply('accept', 0, 0) }, 2);
  out = w.step({ type: 'reply', from: 2, msg: reply('accept', 1, 12) }, 2);
  assert.deepEqual(out.election, { ok: false, error: 'no-quorum' }, 'not chosen: only replica 1 counts');
  assert.equal(w.roleKind, 'idle', 'replica 2\'s named disk is gone: one named member is below a quorum, the writer gives up');
});

test('a writer drops a stale member and resends naming the current ones', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  let out = w.step({ type: 'elect' }, 0);
  const rid = (out.send[0]!.msg as { rid: number }).rid;
  let write: WriteRequest | undefined;
  for (const from of [1, 2, 3]) {
    out = w.step({ type: 'reply', from, msg: { type: 'promiseReply', rid, outcome: 'accept', proposal: 1, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1, generation: 0, disk: 0 } }, 1);
    write ??= out.send.find((s) => s.msg.type === 'write')?.msg as WriteRequest | undefined;
  }
  // Replica 3 promised after the election: named once the others confirm (see the named-set tests); here it is not yet.
  assert.ok(write !== undefined);
  // Replica 3 confirmed by 1 and 2 (a round after its promise): named.
  const round = out.send.find((s) => s.msg.type === 'promise')!.msg as { rid: number };
  for (const from of [1, 2]) {
    w.step({ type: 'reply', from, msg: { type: 'promiseReply', rid: round.rid, outcome: 'accept', proposal: 1, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1, generation: 0, disk: 0 } }, 2);
  }
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2, 3]);
  out = w.step({ type: 'reply', from: 1, msg: { type: 'writeReply', rid: write.rid, outcome: 'stale', proposal: 1, from: write.from, count: 2, generation: 0, disk: 0, retired: [named(2, 1, 7)] } }, 3);
  const again = out.send.filter((s) => s.msg.type === 'write').map((s) => s.msg as WriteRequest);
  assert.deepEqual(again.map((s) => s.rid).length, 2, 'the batch goes out again to the members that promised (1 and 3), not to the one whose disk is gone');
  assert.deepEqual(again[0]!.named, [named(1, 0), named(3, 0)]);
  assert.equal(w.roleKind, 'elected');
});

function recoverReply(rid: number, end: number, member: { generation: number; disk: number }, recorded: Named[] = []): RecoverReply {
  return {
    type: 'recoverReply', rid, status: 'VOTING', begin: 0, end, incarnation: 'p', generation: 0, disk: 0,
    memberGeneration: member.generation, memberDisk: member.disk, recorded,
  };
}

test('recovery: an EMPTY replica among VOTING peers takes a new disk above every generation recorded, adopts what the peers know, and catches up to the range reported after recording', () => {
  let rid = 0;
  const meta: Metadata = { status: 'EMPTY', promised: 0, incarnation: 'new' };
  const core = new RecoveryCore({ self: 1, members: [1, 2, 3], metadata: meta, end: -1, random: () => 0.25, rid: () => ++rid }, 0);
  let out: RecoveryOutput = core.step({ type: 'tick' }, 0);
  assert.deepEqual(out.send.map((s) => s.msg.type), ['recover', 'recover']);
  core.step({ type: 'reply', from: 2, msg: recoverReply(rid, 10, { generation: 0, disk: 0 }) }, 1);
  out = core.step({ type: 'reply', from: 3, msg: recoverReply(rid, 10, { generation: 0, disk: 0 }) }, 1);
  assert.equal(core.phaseKind, 'query');
  // A new round of the query: replica 2 recorded generation 1 for us; replica 3 knows replica 2's disk of generation 4.
  core.step({ type: 'tick' }, 2000);
  core.step({ type: 'reply', from: 2, msg: recoverReply(rid, 10, { generation: 1, disk: 5 }, [named(2, 0)]) }, 2001);
  out = core.step({ type: 'reply', from: 3, msg: recoverReply(rid, 10, { generation: 0, disk: 0 }, [named(3, 0), named(2, 4, 44)]) }, 2001);
  assert.equal(out.become?.status, 'RECOVERING');
  const patch = out.become!.patch;
  assert.equal(patch.generation, 2, 'above every generation recorded for it');
  assert.ok(patch.disk !== undefined && patch.disk > 0, 'a random disk number');
  assert.deepEqual(patch.recorded, { 2: { generation: 4, disk: 44 } }, 'the newest disk of every other member, adopted');
  out = core.step({ type: 'status', metadata: { ...meta, status: 'RECOVERING', ...patch } }, 2002);
  const rejoin = { type: 'rejoin', rid, member: 1, generation: 2, disk: patch.disk! };
  assert.deepEqual(out.send.map((s) => s.msg), [rejoin, rejoin]);
  const rejoinReply = (end: number): RejoinReply => ({ type: 'rejoinReply', rid, outcome: 'accept', status: 'VOTING', begin: 3, end, generation: 2, disk: patch.disk! });
  core.step({ type: 'reply', from: 2, msg: rejoinReply(14) }, 2003);
  out = core.step({ type: 'reply', from: 3, msg: rejoinReply(17) }, 2003);
  assert.deepEqual(out.catchUp, { from: 3, to: 17 }, 'the end reported after recording (17), not the queried one (10)');
  out = core.step({ type: 'caughtUp' }, 3000);
  assert.deepEqual(out.become, { status: 'VOTING', patch: {} });
});

test('recovery: a rejoin refused with a newer generation queries again and goes above it', () => {
  let rid = 0;
  const meta: Metadata = { status: 'RECOVERING', promised: 0, incarnation: 'r' };
  const core = new RecoveryCore({ self: 1, members: [1, 2, 3], metadata: meta, end: -1, random: () => 0.25, rid: () => ++rid }, 0);
  core.step({ type: 'tick' }, 0);
  core.step({ type: 'reply', from: 2, msg: recoverReply(rid, 5, { generation: 0, disk: 0 }) }, 1);
  let out = core.step({ type: 'reply', from: 3, msg: recoverReply(rid, 5, { generation: 0, disk: 0 }) }, 1);
  assert.ok(out.become !== undefined);
  const first = out.become!.patch;
  assert.equal(first.generation, 1);
  core.step({ type: 'status', metadata: { ...meta, ...first } }, 2);
  out = core.step({ type: 'reply', from: 2, msg: { type: 'rejoinReply', rid, outcome: 'reject', status: 'VOTING', begin: 0, end: 5, generation: 6, disk: 66 } }, 3);
  assert.equal(core.phaseKind, 'query');
  core.step({ type: 'tick' }, 5000);
  core.step({ type: 'reply', from: 2, msg: recoverReply(rid, 5, { generation: 0, disk: 0 }) }, 5001);
  out = core.step({ type: 'reply', from: 3, msg: recoverReply(rid, 5, { generation: 0, disk: 0 }) }, 5001);
  assert.equal(out.become?.patch.generation, 7, 'above the generation it was refused with, even if the quorum asked does not know it');
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

test('a disk that rejoined after the election is counted again by the current writer: no write reaches it before it promised, so it can promise the same number', () => {
  // Three real acceptors; member 3's disk is replaced (generation 1) after the writer was elected.
  const stores = new Map<number, MemoryStore>([[1, voting()], [2, voting()], [3, voting()]]);
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  let now = 0;
  const deliver = (sends: readonly { to: number; msg: unknown }[], drop: (to: number) => boolean = () => false) => {
    const queue = [...sends];
    while (queue.length > 0) {
      const { to, msg } = queue.shift()!;
      if (drop(to)) continue;
      const reply = step(stores.get(to)!, msg as AcceptorMessage, { self: to, from: undefined });
      if (reply === undefined) continue;
      const out = w.step({ type: 'reply', from: to, msg: reply as PromiseReply | WriteReply }, now);
      queue.push(...out.send);
    }
  };
  deliver(w.step({ type: 'elect' }, now).send);
  assert.equal(w.roleKind, 'elected');
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2, 3]);
  // Member 3 loses its disk; 1 and 2 record the new one (generation 1), which is VOTING after its catch-up.
  stores.set(3, voting({ generation: 1, disk: 101 }));
  for (const id of [1, 2]) step(stores.get(id)!, { type: 'rejoin', rid: 9, member: 3, generation: 1, disk: 101 }, { self: id, from: 3 });
  // Appends: 1 and 2 answer stale for 3's old disk; the writer drops it and goes on with 1 and 2.
  w.step({ type: 'submit', op: { id: 1, action: { kind: 'append', data: new Uint8Array([1]) } } }, ++now);
  const first = w.step({ type: 'flush' }, now).send;
  deliver(first);
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2], 'the replaced disk is no longer counted');
  w.step({ type: 'submit', op: { id: 2, action: { kind: 'append', data: new Uint8Array([2]) } } }, ++now);
  const second = w.step({ type: 'flush' }, now).send;
  assert.deepEqual(second.filter((s) => s.msg.type === 'write').map((s) => s.to).sort(), [1, 2], 'no write to a member that has not promised');
  deliver(second);
  // Within timing.repromiseMs the writer asks member 3 again; its new disk promises, 1 and 2 confirm: counted.
  now += 1_000;
  deliver(w.step({ type: 'tick' }, now).send);
  now += 300;
  deliver(w.step({ type: 'tick' }, now).send);
  assert.deepEqual(w.namedMembers.get(3), { generation: 1, disk: 101 }, 'the new disk of member 3 is counted');
  // With member 1 gone, 2 and the new disk of 3 carry the appends.
  w.step({ type: 'submit', op: { id: 3, action: { kind: 'append', data: new Uint8Array([3]) } } }, ++now);
  let done = false;
  const out = w.step({ type: 'flush' }, now);
  const queue = [...out.send];
  while (queue.length > 0) {
    const { to, msg } = queue.shift()!;
    if (to === 1) continue;
    const reply = step(stores.get(to)!, msg as AcceptorMessage, { self: to });
    if (reply === undefined) continue;
    const o = w.step({ type: 'reply', from: to, msg: reply as PromiseReply | WriteReply }, now);
    if (o.done.some((d) => d.id === 3 && d.result.ok)) done = true;
    queue.push(...o.send);
  }
  assert.ok(done, 'the append is chosen by 2 and the rejoined 3');
});
