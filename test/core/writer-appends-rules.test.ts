// Issue 11 (mutation testing of src/core/writer-appends.ts and src/core/writer-state.ts): scripted tests of the
// elected writer's append pipeline, one rule each, driven through WriterCore's entry point alone (events in,
// messages and results out; no replica, no wall clock: every `now` is given). The rules: the window (positions
// and bytes), how batches are cut, the positions and results operations get, a truncation's bounds and head
// (R14), which write replies count, commits and the election's report, a stale disk, the evidence a write reply
// gives that a member is alive (writeTimedOut), candidates named by write acceptances, R2's barrier and R3's
// sends of a change's entry, stopping (fenced, a newer configuration, no quorum) and what the state reports.
// Each test fails with one or more of Stryker's survivors of the two files (part writer-appends), or mutants of
// the same kind, planted by hand in the compiled file (docs/testing.md, "The full run, a part at a time").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limits, timing } from '../../src/core/constants.js';
import { chainView } from '../../src/core/config-view.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import type { Action, Slot, WriteReply, WriteRequest } from '../../src/core/types.js';
import { WriterCore, type Outbound, type WriterOutput } from '../../src/core/writer.js';
import { config0, member } from './reconfig-harness.js';
import { ElectedWriter, batches, commits, merged, promiseReply, promises, results, to, view3, writeReply, writes } from './writer-kit.js';



const one = new Uint8Array([7]);
const append = (data: Uint8Array = one): Action => ({ kind: 'append', data });
const MiB = 1024 * 1024;

/** The elected writer of writer-kit.ts, with submits of any action, flushes and merged acceptances. */
class Driver extends ElectedWriter {
  submit(id: number, action: Action = append()): WriterOutput {
    return this.step({ type: 'submit', op: { id, action } });
  }
  flush(): WriterOutput {
    return this.step({ type: 'flush' });
  }
  /** Submits the operations and flushes: the flush's output. */
  send(ops: [number, Action][]): WriterOutput {
    for (const [id, a] of ops) this.submit(id, a);
    return this.flush();
  }
  reply(from: number, msg: WriteReply): WriterOutput {
    return this.step({ type: 'reply', from, msg });
  }
  /** Every member in `from` accepts `m`: the outputs of the steps, merged. */
  acceptBy(from: number[], m: WriteRequest): WriterOutput {
    return merged(from.map((f) => this.accept(f, m)));
  }
}

// ------------------------------------------------------------------ positions and results

test('positions: operations take the positions after the election NOP, contiguous across flushes; each result names its position, an op id 0 included', () => {
  const d = new Driver();
  const a = batches(d.send([[0, append()], [5, append()]]).send);
  const b = batches(d.send([[6, append()]]).send);
  assert.deepEqual(a.map((m) => [m.from, m.actions.length]), [[1, 2]]);
  assert.deepEqual(b.map((m) => [m.from, m.actions.length]), [[3, 1]]);
  assert.equal(d.w.inflightPositions, 3);
  d.accept(1, a[0]!);
  const done = d.accept(2, a[0]!);
  assert.deepEqual(results(done), [[0, { ok: true, position: 1 }], [5, { ok: true, position: 2 }]]);
  assert.deepEqual(results(d.acceptBy([1, 2], b[0]!)), [[6, { ok: true, position: 3 }]]);
  assert.equal(d.w.inflightPositions, 0);
});

test('positions: the writer\'s own positions (id -1: the election NOP) report no result; the election is reported once, when its NOP is chosen', () => {
  const d = new Driver({}, [1, 2, 3], false);
  assert.deepEqual(d.nop.actions, [{ kind: 'nop' }]);
  assert.equal(d.nop.from, 0);
  const first = d.accept(1, d.nop);
  assert.equal(first.election, undefined, 'one acceptance chooses nothing');
  const out = d.accept(2, d.nop);
  assert.deepEqual(out.done, [], 'the NOP is the writer\'s own: no operation to report');
  assert.deepEqual(out.election, { ok: true, position: 0 });
  // Later commits do not report the election again.
  const m = batches(d.send([[1, append()]]).send)[0]!;
  const later = d.acceptBy([1, 2], m);
  assert.deepEqual(results(later), [[1, { ok: true, position: 1 }]]);
  assert.equal(later.election, undefined);
});

test('resolution: batches resolve strictly in position order; one commit covers every batch resolved in the step', () => {
  const d = new Driver();
  const a = batches(d.send([[1, append()]]).send)[0]!;
  const b = batches(d.send([[2, append()], [3, append()]]).send)[0]!;
  const early = d.acceptBy([1, 2], b);
  assert.deepEqual(early.done, [], 'b is chosen, but a below it is not: nothing resolves');
  assert.deepEqual(commits(early.send), []);
  const out = d.acceptBy([1, 3], a);
  assert.deepEqual(results(out), [[1, { ok: true, position: 1 }], [2, { ok: true, position: 2 }], [3, { ok: true, position: 3 }]]);
  const c = commits(out.send);
  assert.deepEqual(to(c), [1, 2, 3]);
  assert.deepEqual(c[0]!.msg, { type: 'commit', proposal: 1, from: 1, to: 3 });
});

test('commits: the recommit covers the whole term, from its first chosen position (the election NOP) through the last', () => {
  const d = new Driver();
  const a = batches(d.send([[1, append()]]).send)[0]!;
  d.acceptBy([1, 2], a);
  const b = batches(d.send([[2, append()]]).send)[0]!;
  d.acceptBy([1, 2], b);
  const c = commits(d.tick(timing.recommitMs).send);
  assert.deepEqual(to(c), [1, 2, 3]);
  assert.deepEqual(c[0]!.msg, { type: 'commit', proposal: 1, from: 0, to: 2 });
});

test('commits and writes go to the members that promised only (named or candidates), with the ballot, its head and the named disks', () => {
  // Members 1..5, elected by 1, 2, 3 (no grace): 4 and 5 never promised.
  const d = new Driver({ members: [1, 2, 3, 4, 5], electionGraceMs: 0 }, [1, 2, 3]);
  const out = d.send([[1, append()]]);
  assert.deepEqual(to(writes(out.send)), [1, 2, 3]);
  const m = writes(out.send)[0]!.msg;
  assert.deepEqual(
    { ...m, actions: m.actions.length },
    { type: 'write', rid: m.rid, proposal: 1, from: 1, actions: 1, config: { epoch: 0, position: -1 }, named: [1, 2, 3].map((id) => ({ id, generation: 0, disk: 0 })) },
  );
  const done = d.acceptBy([1, 2, 3], m);
  assert.deepEqual(to(commits(done.send)), [1, 2, 3]);
  // Member 4 promises late: a candidate, so commits go to it too.
  d.step({ type: 'reply', from: 4, msg: promiseReply(d.electionRid) });
  const n = batches(d.send([[2, append()]]).send)[0]!;
  assert.deepEqual(to(commits(d.acceptBy([1, 2, 3], n).send)), [1, 2, 3, 4]);
});

// ------------------------------------------------------------------ the window and the batches

test('the window: at most writerWindowMax positions in flight, in batches of writeBatchPositionsMax; the rest goes when a batch resolves', () => {
  const d = new Driver();
  const n = limits.writerWindowMax + 1;
  for (let id = 1; id <= n; id++) d.submit(id);
  const sent = batches(d.flush().send);
  assert.deepEqual(
    sent.map((m) => [m.from, m.actions.length]),
    Array.from({ length: limits.writerWindowMax / limits.writeBatchPositionsMax }, (_, k) => [1 + k * limits.writeBatchPositionsMax, limits.writeBatchPositionsMax]),
  );
  assert.equal(d.w.inflightPositions, limits.writerWindowMax);
  assert.equal(d.w.queued, 1);
  assert.deepEqual(d.flush().send, [], 'a full window sends nothing');
  const out = d.acceptBy([1, 2], sent[0]!);
  assert.equal(out.done.length, limits.writeBatchPositionsMax);
  assert.deepEqual(batches(out.send).map((m) => [m.from, m.actions.length]), [[n, 1]], 'the last one goes once the first batch resolved');
  assert.equal(d.w.queued, 0);
});

test('the window in bytes: writerWindowBytesMax fits exactly, one byte more waits; each entry above writeBatchBytesMax travels alone', () => {
  const d = new Driver();
  const big = new Uint8Array(8 * MiB);
  const out = d.send([1, 2, 3, 4, 5].map((id) => [id, append(big)]));
  const sent = batches(out.send);
  assert.deepEqual(sent.map((m) => [m.from, m.actions.length]), [[1, 1], [2, 1], [3, 1], [4, 1]], '4 x 8 MiB = the window');
  assert.equal(d.w.inflightBytes, limits.writerWindowBytesMax);
  assert.equal(d.w.queued, 1);
  const next = d.acceptBy([1, 2], sent[0]!);
  assert.deepEqual(batches(next.send).map((m) => [m.from, m.actions.length]), [[5, 1]]);
  assert.equal(d.w.inflightBytes, limits.writerWindowBytesMax);
});

test('the window in bytes: an operation larger than the whole window goes alone when nothing is in flight, and only then', () => {
  const huge = new Uint8Array(limits.writerWindowBytesMax + 1);
  // Nothing in flight: it goes; the byte that follows waits for it.
  let d = new Driver();
  let sent = batches(d.send([[1, append(huge)], [2, append()]]).send);
  assert.deepEqual(sent.map((m) => [m.from, m.actions.length]), [[1, 1]]);
  assert.equal(d.w.queued, 1);
  assert.deepEqual(batches(d.acceptBy([1, 2], sent[0]!).send).map((m) => m.from), [2]);
  // One byte in flight: it waits for that.
  d = new Driver();
  const small = batches(d.send([[1, append()]]).send)[0]!;
  assert.deepEqual(d.send([[2, append(huge)]]).send, []);
  assert.equal(d.w.queued, 1);
  sent = batches(d.acceptBy([1, 2], small).send);
  assert.deepEqual(sent.map((m) => [m.from, m.actions.length]), [[2, 1]]);
});

test('batches in bytes: a batch holds writeBatchBytesMax exactly, closes before an entry that would pass it, and an entry above it goes alone', () => {
  const half = new Uint8Array(MiB / 2);
  const twice = new Uint8Array(2 * MiB);
  const d = new Driver();
  const sent = batches(d.send([[1, append(half)], [2, append(half)], [3, append(half)], [4, append(twice)], [5, append()], [6, append()]]).send);
  assert.deepEqual(sent.map((m) => [m.from, m.actions.length]), [[1, 2], [3, 1], [4, 1], [5, 2]]);
  assert.equal(d.w.inflightBytes, 3.5 * MiB + 2);
});

// ------------------------------------------------------------------ truncations

test('truncation: one to its own position goes; one past it fails as invalid naming the position it would have taken, within a batch too', () => {
  const d = new Driver(); // next position 1
  const out = d.send([[1, append()], [2, { kind: 'truncate', to: 2 }], [3, { kind: 'truncate', to: 4 }], [4, append()]]);
  assert.deepEqual(results(out), [[3, { ok: false, error: 'invalid', position: 3 }]]);
  const m = batches(out.send);
  assert.deepEqual(m.map((b) => [b.from, b.actions.map((a) => a.kind)]), [[1, ['append', 'truncate', 'append']]]);
  assert.deepEqual(results(d.acceptBy([1, 2], m[0]!)), [[1, { ok: true, position: 1 }], [2, { ok: true, position: 2 }], [4, { ok: true, position: 3 }]]);
});

test('truncation (R14): a client\'s TRUNCATE carries the head of config(to) as the writer\'s view has it, whatever the client sent', () => {
  const c1: PlacedConfiguration = { epoch: 1, voters: [1, 2, 3].map(member), learners: [], nextId: 4, position: 5, floor: 1 };
  const view = chainView([config0([1, 2, 3]), c1]);
  const w = new WriterCore({ view, random: () => 0.5, electionGraceMs: 1000 });
  const rid = promises(w.step({ type: 'elect' }, 0).send)[0]!.msg.rid;
  let out: WriterOutput = { send: [], done: [] };
  for (const from of [1, 2, 3]) out = w.step({ type: 'reply', from, msg: promiseReply(rid, { learnedThrough: 9, end: 9, coveredThrough: 9 }) }, 0);
  const nop = batches(out.send)[0]!;
  assert.equal(nop.from, 10);
  assert.deepEqual(nop.config, { epoch: 1, position: 5 });
  const bogus = { epoch: 7, position: 1 };
  w.step({ type: 'submit', op: { id: 1, action: { kind: 'truncate', to: 7, config: bogus } } }, 0);
  w.step({ type: 'submit', op: { id: 2, action: { kind: 'truncate', to: 3, config: bogus } } }, 0);
  const m = batches(w.step({ type: 'flush' }, 0).send);
  assert.deepEqual(m.map((b) => [b.from, b.actions]), [
    [11, [{ kind: 'truncate', to: 7, config: { epoch: 1, position: 5 } }, { kind: 'truncate', to: 3, config: { epoch: 0, position: -1 } }]],
  ]);
});

test('truncation: a TRUNCATE an election found goes out byte for byte (another head would be another value where the first may be chosen)', () => {
  const found: Action = { kind: 'truncate', to: 0, config: { epoch: 3, position: 2 } };
  const slot: Slot = { position: 0, promised: 1, accepted: 1, learned: false, action: found };
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 1000 });
  const rid = promises(w.step({ type: 'elect' }, 0).send)[0]!.msg.rid;
  let out: WriterOutput = { send: [], done: [] };
  for (const from of [1, 2, 3]) out = w.step({ type: 'reply', from, msg: promiseReply(rid, from === 1 ? { end: 0, slots: [slot], coveredThrough: 0 } : {}) }, 0);
  const m = batches(out.send);
  assert.deepEqual(m.map((b) => [b.from, b.actions]), [[0, [found, { kind: 'nop' }]]]);
});

// ------------------------------------------------------------------ which write replies count

test('write replies: a quorum of named members\' acceptances chooses a batch; a repeated answer, a non-member\'s, another proposal\'s or another request\'s counts for nothing', () => {
  const d = new Driver();
  const m = batches(d.send([[1, append()]]).send)[0]!;
  assert.deepEqual(d.accept(1, m).done, []);
  assert.deepEqual(d.accept(1, m).done, [], 'the same member twice is one acceptance');
  assert.deepEqual(d.accept(9, m).done, [], 'member 9 is no member');
  assert.deepEqual(d.accept(2, m, { proposal: 2 }).done, [], 'an acceptance of another proposal is no answer to this request');
  assert.deepEqual(d.accept(2, m, { rid: m.rid + 100 }).done, [], 'nor one of another request');
  assert.deepEqual(d.accept(2, m, { disk: 5 }).done.filter((r) => r.result.ok), [], 'nor one by another disk than the named one');
});

test('write replies: an acceptance by a disk that is not the one named drops the member; the two left are a quorum that still chooses the batch, sent again naming them', () => {
  const d = new Driver();
  const m = batches(d.send([[1, append()]]).send)[0]!;
  const dropped = d.accept(3, m, { generation: 1, disk: 4 });
  assert.deepEqual(dropped.done, []);
  assert.deepEqual([...d.w.namedMembers.keys()], [1, 2]);
  assert.equal(d.w.roleKind, 'elected');
  const again = batches(dropped.send)[0]!;
  d.accept(1, again);
  assert.deepEqual(results(d.accept(2, again)), [[1, { ok: true, position: 1 }]]);
});

test('write replies: a refusal at or below the writer\'s proposal is no vote and fences nothing; one above fences the writer', () => {
  const d = new Driver();
  const m = batches(d.send([[1, append()]]).send)[0]!;
  assert.deepEqual(d.accept(1, m, { outcome: 'reject', proposal: 1 }).done, []);
  assert.deepEqual(d.accept(2, m, { outcome: 'reject', proposal: 0 }).done, []);
  assert.equal(d.w.roleKind, 'elected');
  assert.deepEqual(d.accept(3, m).done, [], 'one acceptance of three: nothing chosen');
  // A later write, refused above the ballot: every operation fails as fenced, those in flight with the position they took.
  d.submit(2);
  d.submit(3);
  const out = d.accept(1, m, { outcome: 'reject', proposal: 4, rid: m.rid });
  assert.deepEqual(out.done, [], 'member 1 answered this batch already: its second answer is ignored');
  const n = batches(d.send([[4, append()]]).send);
  assert.deepEqual(n.map((b) => [b.from, b.actions.length]), [[2, 3]]);
  const fenced = d.accept(2, n[0]!, { outcome: 'reject', proposal: 4 });
  assert.deepEqual(results(fenced), [
    [1, { ok: false, error: 'fenced', proposal: 4, unknownAt: 1 }],
    [2, { ok: false, error: 'fenced', proposal: 4, unknownAt: 2 }],
    [3, { ok: false, error: 'fenced', proposal: 4, unknownAt: 3 }],
    [4, { ok: false, error: 'fenced', proposal: 4, unknownAt: 4 }],
  ]);
  assert.equal(d.w.roleKind, 'fenced');
  assert.equal(d.w.highestProposalSeen, 4);
  assert.deepEqual(results(d.submit(5)), [[5, { ok: false, error: 'fenced', proposal: 4 }]], 'a fenced writer fails an operation at once');
  assert.deepEqual(d.step({ type: 'elect' }).election, { ok: false, error: 'fenced', proposal: 4 });
});

test('write replies: a refusal above the ballot fails the queued operations as fenced too, without a position (they never left)', () => {
  const d = new Driver();
  const m = batches(d.send([[1, append()]]).send)[0]!;
  d.submit(2);
  const out = d.accept(3, m, { outcome: 'reject', proposal: 9 });
  assert.deepEqual(results(out), [
    [1, { ok: false, error: 'fenced', proposal: 9, unknownAt: 1 }],
    [2, { ok: false, error: 'fenced', proposal: 9 }],
  ]);
  assert.equal(out.election, undefined, 'the election was reported already');
});

test('write replies: a refusal raises the highest proposal seen even when the writer is no longer elected; the next election goes above it', () => {
  const d = new Driver();
  const m = batches(d.send([[1, append()]]).send)[0]!;
  d.step({ type: 'abandon' });
  assert.equal(d.w.roleKind, 'idle');
  d.accept(1, m, { outcome: 'reject', proposal: 6 });
  assert.equal(d.w.highestProposalSeen, 6);
  assert.equal(promises(d.step({ type: 'elect' }).send)[0]!.msg.proposal, 7);
});

test('write replies: not-ready is neither a vote nor a refusal: the member\'s acceptance afterwards counts', () => {
  const d = new Driver();
  const m = batches(d.send([[1, append()]]).send)[0]!;
  d.accept(1, m, { outcome: 'not-ready' });
  d.accept(1, m);
  assert.deepEqual(results(d.accept(2, m)), [[1, { ok: true, position: 1 }]]);
});

test('write replies: an ignored answer (a replica not voting) counts as no vote; the retransmission asks that member again, and its acceptance then counts', () => {
  const d = new Driver();
  const m = batches(d.send([[1, append()]]).send)[0]!;
  d.accept(1, m, { outcome: 'ignored' });
  d.accept(2, m);
  assert.deepEqual(to(writes(d.tick(timing.retransmitMs).send)), [1, 3], 'sent again to 1 (it answered without a vote) and 3 (no answer)');
  assert.deepEqual(results(d.accept(1, m)), [[1, { ok: true, position: 1 }]]);
});

test('write replies: stale-config naming a newer head stops the writer as fenced by that configuration; one naming its own head or none is ignored', () => {
  const d = new Driver();
  const m = batches(d.send([[1, append()]]).send)[0]!;
  assert.deepEqual(d.accept(1, m, { outcome: 'stale-config', config: { epoch: 0, position: -1 } }).done, []);
  assert.deepEqual(d.accept(2, m, { outcome: 'stale-config' }).done, []);
  assert.equal(d.w.roleKind, 'elected');
  const out = d.accept(3, m, { outcome: 'stale-config', config: { epoch: 1, position: 4 } });
  assert.deepEqual(results(out), [[1, { ok: false, error: 'fenced', proposal: 1, config: { epoch: 1, position: 4 }, unknownAt: 1 }]]);
  assert.equal(d.w.roleKind, 'fenced');
  assert.deepEqual(results(d.submit(2)), [[2, { ok: false, error: 'fenced', proposal: 1 }]]);
});

test('write replies: a stale-config answer is no vote (the two others must accept)', () => {
  const d = new Driver();
  const m = batches(d.send([[1, append()]]).send)[0]!;
  d.accept(1, m, { outcome: 'stale-config', config: { epoch: 0, position: -1 } });
  assert.deepEqual(d.accept(2, m).done, []);
  assert.deepEqual(results(d.accept(3, m)), [[1, { ok: true, position: 1 }]]);
});

// ------------------------------------------------------------------ a stale disk

test('stale: a named disk retired drops the member; batches not chosen that named it go again with a new request naming the rest, counted afresh', () => {
  const d = new Driver();
  const a = batches(d.send([[1, append()]]).send)[0]!;
  const b = batches(d.send([[2, append()]]).send)[0]!;
  d.acceptBy([1, 2], b); // b chosen, behind a
  d.accept(1, a);
  const out = d.accept(2, a, { outcome: 'stale', retired: [{ id: 3, generation: 1, disk: 7 }] });
  assert.deepEqual([...d.w.namedMembers.keys()], [1, 2]);
  const again = writes(out.send);
  assert.deepEqual(to(again), [1, 2], 'a again, to the named members; b is chosen: not sent again');
  const m = again[0]!.msg;
  assert.notEqual(m.rid, a.rid);
  assert.deepEqual([m.from, m.named], [1, [{ id: 1, generation: 0, disk: 0 }, { id: 2, generation: 0, disk: 0 }]]);
  assert.deepEqual(d.accept(2, a).done, [], 'an answer to the old request counts for nothing');
  assert.deepEqual(d.accept(2, m).done, [], 'member 1\'s acceptance of the old request does not count for the new one');
  assert.deepEqual(results(d.accept(1, m)), [[1, { ok: true, position: 1 }], [2, { ok: true, position: 2 }]]);
});

test('stale: a retired disk that is not the named one (older, or another member\'s not named) changes nothing', () => {
  const d = new Driver();
  const a = batches(d.send([[1, append()]]).send)[0]!;
  const out = d.accept(2, a, { outcome: 'stale', retired: [{ id: 3, generation: 0, disk: 0 }, { id: 9, generation: 5, disk: 1 }] });
  assert.deepEqual(out.send, []);
  assert.deepEqual([...d.w.namedMembers.keys()], [1, 2, 3]);
  d.accept(1, a);
  assert.deepEqual(results(d.accept(3, a)), [[1, { ok: true, position: 1 }]]);
});

test('stale: with fewer than a quorum of named disks left the writer gives up: in flight as no-quorum at their positions, queued without', () => {
  const d = new Driver();
  const a = batches(d.send([[1, append()]]).send)[0]!;
  d.submit(2);
  const out = d.accept(1, a, { outcome: 'stale', retired: [{ id: 2, generation: 1, disk: 1 }, { id: 3, generation: 1, disk: 1 }] });
  assert.deepEqual(results(out), [[1, { ok: false, error: 'no-quorum', unknownAt: 1 }], [2, { ok: false, error: 'no-quorum' }]]);
  assert.equal(d.w.roleKind, 'idle');
  assert.deepEqual(out.send, []);
});

// ------------------------------------------------------------------ stopping: fenced, a newer configuration, no quorum

test('stopping: an operation id 0 fails like any other, in flight and queued; the writer\'s own positions (id -1) report nothing', () => {
  const d = new Driver({}, [1, 2, 3], false); // the election NOP (id -1) still in flight
  const m = batches(d.send([[0, append()]]).send)[0]!;
  d.submit(0);
  const out = d.accept(1, m, { outcome: 'reject', proposal: 3 });
  assert.deepEqual(results(out), [
    [0, { ok: false, error: 'fenced', proposal: 3, unknownAt: 1 }],
    [0, { ok: false, error: 'fenced', proposal: 3 }],
  ]);
  assert.deepEqual(out.election, { ok: false, error: 'fenced', proposal: 3 }, 'the election NOP was not chosen: the election fails too');
});

test('stopping: an election its owner asked for fails with the writer (electing or backing off); one a submit started reports nothing', () => {
  // Electing, asked for: a newer configuration stops it.
  let w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  let rid = promises(w.step({ type: 'elect' }, 0).send)[0]!.msg.rid;
  let out = w.step({ type: 'reply', from: 1, msg: promiseReply(rid, { outcome: 'stale-config', config: { epoch: 2, position: 3 } }) }, 0);
  assert.deepEqual(out.election, { ok: false, error: 'fenced', proposal: 1, config: { epoch: 2, position: 3 } });
  // Electing, started by a submit: the operation fails, no election is reported.
  w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  rid = promises(w.step({ type: 'submit', op: { id: 4, action: append() } }, 0).send)[0]!.msg.rid;
  out = w.step({ type: 'reply', from: 1, msg: promiseReply(rid, { outcome: 'stale-config', config: { epoch: 2, position: 3 } }) }, 0);
  assert.equal(out.election, undefined);
  assert.deepEqual(results(out), [[4, { ok: false, error: 'fenced', proposal: 1, config: { epoch: 2, position: 3 } }]]);
  // Backing off, asked for, then abandoned.
  w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  rid = promises(w.step({ type: 'elect' }, 0).send)[0]!.msg.rid;
  for (const from of [1, 2]) w.step({ type: 'reply', from, msg: promiseReply(rid, { outcome: 'reject', proposal: 5 }) }, 0);
  assert.equal(w.roleKind, 'backoff');
  assert.deepEqual(w.step({ type: 'abandon' }, 1).election, { ok: false, error: 'no-quorum' });
  // Backing off, started by a submit.
  w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  rid = promises(w.step({ type: 'submit', op: { id: 4, action: append() } }, 0).send)[0]!.msg.rid;
  for (const from of [1, 2]) w.step({ type: 'reply', from, msg: promiseReply(rid, { outcome: 'reject', proposal: 5 }) }, 0);
  assert.equal(w.roleKind, 'backoff');
  out = w.step({ type: 'abandon' }, 1);
  assert.equal(out.election, undefined);
  assert.deepEqual(results(out), [[4, { ok: false, error: 'no-quorum' }]]);
});

test('stopping: an election asked for is reported once; a later election a submit starts is not the owner\'s', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  w.step({ type: 'elect' }, 0);
  assert.deepEqual(w.step({ type: 'abandon' }, 1).election, { ok: false, error: 'no-quorum' });
  w.step({ type: 'submit', op: { id: 1, action: append() } }, 2);
  assert.equal(w.roleKind, 'electing');
  const out = w.step({ type: 'abandon' }, 3);
  assert.equal(out.election, undefined);
  assert.deepEqual(results(out), [[1, { ok: false, error: 'no-quorum' }]]);
});

test('stopping: a change counted chosen keeps the operations queued behind it through a give-up (its install election runs again); fenced, they fail', () => {
  const chosenChange = (): { d: Driver; rid: number; proposal: number } => {
    const d = new Driver({ view: view3 });
    const out = d.step({ type: 'change', request: { id: 'c', ifEpoch: 0, change: { kind: 'add', member: member(4) } } });
    const entry = batches(out.send)[0]!;
    assert.deepEqual([entry.from, entry.actions[0]!.kind], [1, 'config']);
    d.accept(1, entry, { learnedThrough: 0, lostBelow: false });
    const install = promises(d.accept(2, entry, { learnedThrough: 0, lostBelow: false }).send)[0]!.msg;
    assert.equal(d.w.roleKind, 'electing', 'the install election');
    // The install election is in the new configuration, and its request installs it (R4).
    assert.deepEqual(install.config, { epoch: 1, position: 1 });
    assert.deepEqual(install.install && [install.install.epoch, install.install.position, install.install.floor], [1, 1, 1]);
    d.submit(7);
    d.submit(0);
    assert.equal(d.w.queued, 2);
    return { d, rid: install.rid, proposal: install.proposal };
  };
  let { d } = chosenChange();
  const out = d.step({ type: 'abandon' });
  assert.deepEqual(out.done, [], 'kept (an op id 0 too)');
  assert.equal(d.w.queued, 2);
  assert.equal(d.w.changing, true);
  const c = chosenChange();
  d = c.d;
  const fenced = d.step({ type: 'reply', from: 1, msg: promiseReply(c.rid, { outcome: 'stale-config', proposal: c.proposal, config: { epoch: 3, position: 9 } }) });
  const f = { ok: false, error: 'fenced', proposal: c.proposal, config: { epoch: 3, position: 9 } };
  assert.deepEqual(results(fenced), [[7, f], [0, f]]);
  assert.equal(d.w.queued, 0);
});

// ------------------------------------------------------------------ what the state reports

test('state: a writer takes exactly one of a view and a member list', () => {
  assert.throws(() => new WriterCore({ random: () => 0.5 }));
  assert.throws(() => new WriterCore({ members: [1, 2, 3], view: chainView([config0([1, 2, 3])]), random: () => 0.5 }));
});

test('state: the proposal floor is the highest proposal seen before any answer; the first election goes above it', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, proposalFloor: 5 });
  assert.equal(w.highestProposalSeen, 5);
  assert.equal(promises(w.step({ type: 'elect' }, 0).send)[0]!.msg.proposal, 6);
});

test('state: without an allocator, request ids count up from 1; with one, it gives them', () => {
  const d = new Driver();
  assert.equal(d.electionRid, 1);
  assert.equal(d.nop.rid, 2);
  assert.equal(batches(d.send([[1, append()]]).send)[0]!.rid, 3);
  let n = 100;
  const e = new Driver({ rid: () => (n += 10) });
  assert.deepEqual([e.electionRid, e.nop.rid], [110, 120]);
});

test('state: an idle or electing writer has no named members, no proposal and nothing in flight', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5 });
  for (let k = 1; k <= 2; k++) {
    assert.equal(w.namedMembers.size, 0);
    assert.equal(w.proposal, undefined);
    assert.equal(w.inflightPositions, 0);
    assert.equal(w.inflightBytes, 0);
    assert.equal(w.changing, false);
    w.step({ type: 'submit', op: { id: 1, action: append() } }, 0);
    assert.equal(w.roleKind, 'electing');
    assert.equal(w.queued, k);
  }
  const d = new Driver();
  assert.equal(d.w.proposal, 1);
  d.send([[1, append(new Uint8Array(3))], [2, append(new Uint8Array(4))]]);
  assert.deepEqual([d.w.inflightPositions, d.w.inflightBytes], [2, 7]);
  d.send([[3, append(new Uint8Array(5))]]);
  assert.deepEqual([d.w.inflightPositions, d.w.inflightBytes], [3, 12]);
});

// ------------------------------------------------------------------ the change's place in the pipeline (R2)

test('R2: the operations queued before a change go first, the change once they are all chosen, and those queued after it wait for it', () => {
  const d = new Driver({ view: view3 });
  d.submit(1);
  d.submit(2);
  const out = d.step({ type: 'change', request: { id: 'c', ifEpoch: 0, change: { kind: 'add', member: member(4) } } });
  const before = batches(out.send);
  assert.deepEqual(before.map((b) => [b.from, b.actions.map((a) => a.kind)]), [[1, ['append', 'append']]]);
  assert.deepEqual(batches(d.send([[3, append()]]).send), [], 'queued after the change: it waits');
  const next = d.acceptBy([1, 2], before[0]!);
  assert.deepEqual(batches(next.send).map((b) => [b.from, b.actions.map((a) => a.kind)]), [[3, ['config']]], 'the change, alone, and nothing behind it (R2\'s barrier)');
  assert.deepEqual(batches(d.flush().send), []);
});

test('R2: operations queued before a change that the byte window holds back still go before it', () => {
  const d = new Driver({ view: view3 });
  const big = new Uint8Array(8 * MiB);
  for (const id of [1, 2, 3, 4, 5]) d.submit(id, append(big));
  const out = d.step({ type: 'change', request: { id: 'c', ifEpoch: 0, change: { kind: 'add', member: member(4) } } });
  const first = batches(out.send);
  assert.deepEqual(first.map((b) => b.from), [1, 2, 3, 4]);
  let sent: WriteRequest[] = [];
  for (const b of first) sent = sent.concat(batches(d.acceptBy([1, 2], b).send));
  assert.deepEqual(sent.map((b) => [b.from, b.actions[0]!.kind]), [[5, 'append']], 'the fifth, then nothing until it is chosen');
  const last = batches(d.acceptBy([1, 2], sent[0]!).send);
  assert.deepEqual(last.map((b) => [b.from, b.actions[0]!.kind]), [[6, 'config']]);
});

test('configBarrier off (tests only): what is queued behind a proposed change goes out behind the entry at once', () => {
  const d = new Driver({ view: view3, rules: { ...ALL_RULES_ON, configBarrier: false } });
  d.submit(1);
  const out = d.step({ type: 'change', request: { id: 'c', ifEpoch: 0, change: { kind: 'add', member: member(4) } } });
  assert.deepEqual(batches(out.send).map((b) => [b.from, b.actions.map((a) => a.kind)]), [[1, ['append']], [2, ['config']]], 'no wait for the first to be chosen');
  assert.deepEqual(batches(d.send([[2, append()]]).send).map((b) => [b.from, b.actions.map((a) => a.kind)]), [[3, ['append']]]);
});

// ------------------------------------------------------------------ before the election, and the election's report

test('a flush before the election sends nothing: the queue waits, and goes right after the election NOP', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 1000 });
  const rid = promises(w.step({ type: 'submit', op: { id: 1, action: append() } }, 0).send)[0]!.msg.rid;
  assert.deepEqual(w.step({ type: 'flush' }, 0), { send: [], done: [] });
  assert.equal(w.queued, 1);
  let out: WriterOutput = { send: [], done: [] };
  for (const from of [1, 2, 3]) out = w.step({ type: 'reply', from, msg: promiseReply(rid) }, 0);
  assert.deepEqual(batches(out.send).map((b) => [b.from, b.actions.map((a) => a.kind)]), [[0, ['nop', 'append']]]);
});

test('the election is reported when its NOP is chosen, not when a settled position below it is', () => {
  // Member 1 holds a value of 2 MiB at 0: the settle batch [0] and the NOP's batch [1] are cut apart (writeBatchBytesMax).
  const value: Action = append(new Uint8Array(2 * MiB));
  const slot: Slot = { position: 0, promised: 1, accepted: 1, learned: false, action: value };
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 1000 });
  const rid = promises(w.step({ type: 'elect' }, 0).send)[0]!.msg.rid;
  let out: WriterOutput = { send: [], done: [] };
  for (const from of [1, 2, 3]) out = w.step({ type: 'reply', from, msg: promiseReply(rid, from === 1 ? { end: 0, slots: [slot], coveredThrough: 0 } : {}) }, 0);
  const [settle, nop] = batches(out.send);
  assert.deepEqual([settle!.from, nop!.from, nop!.actions], [0, 1, [{ kind: 'nop' }]]);
  for (const from of [1, 2]) assert.equal(w.step({ type: 'reply', from, msg: writeReply(settle!) }, 0).election, undefined);
  w.step({ type: 'reply', from: 1, msg: writeReply(nop!) }, 0);
  assert.deepEqual(w.step({ type: 'reply', from: 2, msg: writeReply(nop!) }, 0).election, { ok: true, position: 1 });
});

test('R2: an election that finds a change asked for and operations on both sides of it sends the settled positions and those before it, the change next', () => {
  const w = new WriterCore({ view: view3, random: () => 0.5, electionGraceMs: 1000 });
  const rid = promises(w.step({ type: 'submit', op: { id: 1, action: append() } }, 0).send)[0]!.msg.rid;
  w.step({ type: 'change', request: { id: 'c', ifEpoch: 0, change: { kind: 'add', member: member(4) } } }, 0);
  w.step({ type: 'submit', op: { id: 2, action: append() } }, 0);
  let out: WriterOutput = { send: [], done: [] };
  for (const from of [1, 2, 3]) out = w.step({ type: 'reply', from, msg: promiseReply(rid) }, 0);
  const first = batches(out.send);
  assert.deepEqual(first.map((b) => [b.from, b.actions.map((a) => a.kind)]), [[0, ['nop', 'append']]], 'the election NOP and op 1; op 2 waits for the change');
  let next: WriterOutput = { send: [], done: [] };
  for (const from of [1, 2]) next = w.step({ type: 'reply', from, msg: writeReply(first[0]!) }, 0);
  assert.deepEqual(batches(next.send).map((b) => [b.from, b.actions.map((a) => a.kind)]), [[2, ['config']]]);
});

// ------------------------------------------------------------------ the barrier switched off (tests only)

const barrierOff = { ...ALL_RULES_ON, configBarrier: false };
const addFour = { type: 'change', request: { id: 'c', ifEpoch: 0, change: { kind: 'add', member: member(4) } } } as const;

test('configBarrier off: the change still waits for every operation queued before it to leave (here held back by the byte window)', () => {
  const d = new Driver({ view: view3, rules: barrierOff });
  const big = new Uint8Array(8 * MiB);
  for (const id of [1, 2, 3, 4, 5]) d.submit(id, append(big));
  const first = batches(d.step(addFour).send);
  assert.deepEqual(first.map((b) => [b.from, b.actions[0]!.kind]), [[1, 'append'], [2, 'append'], [3, 'append'], [4, 'append']], 'no config entry yet: op 5 goes before it');
  const next = batches(d.acceptBy([1, 2], first[0]!).send);
  assert.deepEqual(next.map((b) => [b.from, b.actions[0]!.kind]), [[5, 'append'], [6, 'config']]);
});

test('configBarrier off: once the entry is counted chosen, nothing more goes out under the old ballot, and its install waits for what is in flight above it', () => {
  const d = new Driver({ view: view3, rules: barrierOff });
  d.submit(1);
  const [a, entry] = batches(d.step(addFour).send);
  assert.deepEqual([a!.from, entry!.from, entry!.actions[0]!.kind], [1, 2, 'config']);
  const b = batches(d.send([[2, append()]]).send)[0]!;
  assert.equal(b.from, 3);
  d.acceptBy([1, 2], a!);
  for (const from of [1, 2]) d.accept(from, entry!, { learnedThrough: 1, lostBelow: false });
  assert.equal(d.w.roleKind, 'elected', 'b is still in flight: the install waits');
  assert.deepEqual(batches(d.send([[3, append()]]).send), [], 'the change is chosen: op 3 waits for its install');
  d.acceptBy([1, 2], b);
  assert.equal(d.w.roleKind, 'electing', 'the install election');
});

// ------------------------------------------------------------------ R3: a change's entry and the next configuration's voters

/** Voters 1, 2, 3 and learner 4, elected by 1, 2, 3; the change promotes 4. Returns the entry's request (position 1). */
function promoting(): { d: Driver; entry: WriteRequest; sent: Outbound[] } {
  const d = new Driver({ view: chainView([config0([1, 2, 3], [4])]) });
  const out = d.step({ type: 'change', request: { id: 'p', ifEpoch: 0, change: { kind: 'promote', id: 4 } } });
  const entry = batches(out.send)[0]!;
  assert.deepEqual([entry.from, entry.actions[0]!.kind], [1, 'config']);
  return { d, entry, sent: writes(out.send) };
}
const caughtUp = { learnedThrough: 0, lostBelow: false };

test('R3: the entry goes to the named voters and to the next configuration\'s new voter, once each', () => {
  const { sent } = promoting();
  assert.deepEqual(to(sent), [1, 2, 3, 4]);
});

test('R3: a retransmission of the entry goes to the members that have not answered and to the next voters not yet caught up (an old member that accepted behind too), once each', () => {
  const { d, entry } = promoting();
  d.accept(1, entry, { learnedThrough: -1, lostBelow: false }); // accepted, not caught up
  d.accept(2, entry, caughtUp);
  assert.deepEqual(to(writes(d.tick(timing.retransmitMs).send)), [1, 3, 4]);
});

test('R3: the acceptance of a voter of the next configuration only can complete the joint count, and the entry is chosen at once', () => {
  const { d, entry } = promoting();
  for (const from of [1, 2]) d.accept(from, entry, caughtUp);
  assert.equal(d.w.roleKind, 'elected', 'ready: 1, 2 of the next four voters; three needed');
  d.accept(4, entry, caughtUp);
  assert.equal(d.w.roleKind, 'electing', 'chosen: the install election started');
});

test('R3: a member that accepted the entry behind and answers again caught up completes the joint count', () => {
  const { d, entry } = promoting();
  d.accept(1, entry, { learnedThrough: -1, lostBelow: false });
  d.accept(2, entry, caughtUp);
  d.accept(3, entry, caughtUp);
  d.accept(4, entry, { outcome: 'not-ready' });
  assert.equal(d.w.roleKind, 'elected', 'ready: 2, 3; three needed');
  d.accept(1, entry, caughtUp);
  assert.equal(d.w.roleKind, 'electing');
});

test('R3: a voter of the next configuration only that refuses the entry above the ballot fences the writer; at or below it, nothing', () => {
  let { d, entry } = promoting();
  d.accept(4, entry, { outcome: 'reject', proposal: 1 });
  assert.equal(d.w.roleKind, 'elected');
  ({ d, entry } = promoting());
  d.accept(4, entry, { outcome: 'reject', proposal: 3 });
  assert.equal(d.w.roleKind, 'fenced');
  assert.equal(d.w.highestProposalSeen, 3);
});

// ------------------------------------------------------------------ slow is not dead (writer.ts, writeTimedOut): the evidence a write reply gives

/** Driver at time 1000 with op 1 at position 1 sent and never answered (its batch `a`); the election NOP was accepted by all at 0. */
function unanswered(): { d: Driver; a: WriteRequest } {
  const d = new Driver();
  d.now = 1000;
  const a = batches(d.send([[1, append()]]).send)[0]!;
  return { d, a };
}
const deadline = 1000 + timing.operationTimeoutMs;

test('slow is not dead: a batch past operationTimeoutMs waits on while a quorum of named members accepted something within that long (a late copy too)', () => {
  const { d } = unanswered();
  d.now = 5000;
  for (const from of [1, 2]) d.accept(from, d.nop); // late copies of the NOP's acceptances: alive
  assert.deepEqual(d.tick(deadline - 1).done, []);
  assert.deepEqual(d.tick(deadline).done, [], 'alive: it waits');
  assert.equal(d.w.roleKind, 'elected');
  assert.deepEqual(results(d.tick(5000 + timing.operationTimeoutMs)), [[1, { ok: false, error: 'no-quorum', unknownAt: 1 }]], 'their evidence is as old as the deadline: it gives up');
});

test('slow is not dead: only an acceptance under this ballot by the named disk is evidence (not another proposal\'s, another disk\'s, nor a non-vote)', () => {
  for (const late of [{ proposal: 2 }, { generation: 1, disk: 9 }, { outcome: 'ignored' as const }]) {
    const { d } = unanswered();
    d.now = 5000;
    for (const from of [1, 2]) d.accept(from, d.nop, late);
    assert.deepEqual(results(d.tick(deadline)), [[1, { ok: false, error: 'no-quorum', unknownAt: 1 }]], JSON.stringify(late));
  }
});

test('slow is not dead: a named member that refused this very batch (a lower reject, or an answer that does not vote) is not alive for it', () => {
  for (const refusal of [{ outcome: 'reject' as const, proposal: 0 }, { outcome: 'ignored' as const }]) {
    const { d, a } = unanswered();
    d.now = 2000;
    d.accept(1, a, refusal);
    d.now = 5000;
    for (const from of [1, 2]) d.accept(from, d.nop);
    assert.deepEqual(results(d.tick(deadline)), [[1, { ok: false, error: 'no-quorum', unknownAt: 1 }]], JSON.stringify(refusal));
  }
});

test('slow is not dead: a member that refused a batch and then accepted it is alive for it again', () => {
  const { d, a } = unanswered();
  d.now = 2000;
  d.accept(1, a, { outcome: 'reject', proposal: 0 });
  assert.deepEqual(to(writes(d.tick(2400).send)), [1, 2, 3], 'the retransmission asks member 1 again');
  d.now = 3000;
  d.accept(1, a);
  d.now = 5000;
  d.accept(2, d.nop);
  assert.deepEqual(d.tick(deadline).done, []);
  assert.equal(d.w.roleKind, 'elected');
});

// ------------------------------------------------------------------ candidates (writer-counted-members.ts) and the write replies that name them

/** Members 1..5 elected by 1, 2, 3 (no grace), the election NOP chosen. */
const fiveByThree = (): Driver => new Driver({ members: [1, 2, 3, 4, 5], electionGraceMs: 0 }, [1, 2, 3]);

test('slow is not dead: what a candidate answered a batch before it was named is forgotten with its vote (it is asked again); only its answers as a named member count', () => {
  // Members 1..5, named 1, 2, 3. Member 4 promises late, batches a and b go after its promise. 4 answers a as a
  // candidate (a refusal, a non-vote, or an acceptance that cannot count yet); b's acceptances by 1, 2, 3 name it,
  // and a goes to it again. 1, 2 and 4 are alive after (late copies of b); 3 was last heard at 0. Past a's
  // deadline three named members are alive for a: it waits. Recording 4's earlier answer as a refusal of a
  // would leave two and fail it (writer-appends.ts: refusals are recorded for named members only).
  for (const answer of [{ outcome: 'reject' as const, proposal: 0 }, { outcome: 'ignored' as const }, {}]) {
    const d = fiveByThree();
    d.step({ type: 'reply', from: 4, msg: promiseReply(d.electionRid) });
    const a = batches(d.send([[1, append()]]).send)[0]!;
    const b = batches(d.send([[2, append()]]).send)[0]!;
    d.acceptBy([1, 3], b);
    d.now = 100;
    d.accept(4, a, answer);
    d.now = 200;
    const named = d.accept(2, b);
    assert.deepEqual(results(named), [], 'b is chosen, and waits for a (results go in position order)');
    assert.deepEqual([...d.w.namedMembers.keys()].sort(), [1, 2, 3, 4], JSON.stringify(answer));
    assert.deepEqual(to(writes(named.send).filter((s) => s.msg.rid === a.rid)), [4], 'a goes to the newly named member again');
    d.now = 300;
    d.acceptBy([1, 2, 4], b);
    assert.deepEqual(d.tick(timing.operationTimeoutMs + 50).done, [], `${JSON.stringify(answer)}: 1, 2 and 4 are alive for a: it waits`);
    assert.equal(d.w.roleKind, 'elected');
  }
});

test('candidates: a candidate\'s acceptance does not count, even from a disk like a named one\'s, until it is named', () => {
  const d = fiveByThree();
  d.step({ type: 'reply', from: 4, msg: promiseReply(d.electionRid) });
  const a = writes(d.send([[1, append()]]).send);
  assert.deepEqual(to(a), [1, 2, 3, 4], 'writes go to the candidate too');
  const m = a[0]!.msg;
  for (const from of [4, 1]) assert.deepEqual(d.accept(from, m).done, []);
  assert.deepEqual(d.accept(2, m).done, [], 'two named acceptances of five members: not chosen');
  assert.deepEqual([...d.w.namedMembers.keys()], [1, 2, 3]);
  assert.deepEqual(results(d.accept(3, m)), [[1, { ok: true, position: 1 }]]);
  assert.deepEqual([...d.w.namedMembers.keys()].sort(), [1, 2, 3, 4], 'named by the acceptances of a write sent after its promise');
});

test('candidates: acceptances of a write sent before the promise do not name it; of one sent after, they do', () => {
  const d = fiveByThree();
  const a = batches(d.send([[1, append()]]).send)[0]!;
  d.step({ type: 'reply', from: 4, msg: promiseReply(d.electionRid) });
  const b = batches(d.send([[2, append()]]).send)[0]!;
  d.acceptBy([1, 2, 3], a);
  assert.deepEqual([...d.w.namedMembers.keys()], [1, 2, 3]);
  d.acceptBy([1, 2, 3], b);
  assert.deepEqual([...d.w.namedMembers.keys()].sort(), [1, 2, 3, 4]);
});

test('candidates: a batch sent again after a stale answer is a new request: its acceptances name a candidate that promised after its first sending', () => {
  const d = new Driver({ members: [1, 2, 3, 4, 5] }, [1, 2, 3, 4, 5]);
  const a = batches(d.send([[1, append()]]).send)[0]!;
  // Member 5's disk was replaced: its new disk answers the election request: the old one stops counting (a goes
  // again naming the rest, before the new disk is a candidate), the new one is a candidate.
  const first = batches(d.step({ type: 'reply', from: 5, msg: promiseReply(d.electionRid, { generation: 1, disk: 9 }) }).send)[0]!;
  assert.deepEqual([...d.w.namedMembers.keys()], [1, 2, 3, 4]);
  assert.notEqual(first.rid, a.rid);
  // Member 4's disk is retired too (a stale answer): a goes again, after the candidate's promise.
  const again = batches(d.accept(1, first, { outcome: 'stale', retired: [{ id: 4, generation: 1, disk: 7 }] }).send)[0]!;
  assert.notEqual(again.rid, first.rid);
  assert.deepEqual(again.named.map((n) => n.id), [1, 2, 3]);
  assert.deepEqual(results(d.acceptBy([1, 2, 3], again)), [[1, { ok: true, position: 1 }]]);
  assert.deepEqual([...d.w.namedMembers.keys()].sort(), [1, 2, 3, 5]);
});

test('a named member\'s other disk: only its acceptance drops the named one (a non-vote from it does not); below a quorum the writer gives up', () => {
  const d = new Driver();
  const m = batches(d.send([[1, append()]]).send)[0]!;
  d.accept(3, m, { outcome: 'ignored', generation: 1, disk: 9 });
  assert.deepEqual([...d.w.namedMembers.keys()], [1, 2, 3]);
  d.accept(3, m, { generation: 1, disk: 9 });
  assert.deepEqual([...d.w.namedMembers.keys()], [1, 2, 3], 'member 3 answered this batch already');
  const n = batches(d.send([[2, append()]]).send)[0]!;
  const again = batches(d.accept(3, n, { generation: 1, disk: 9 }).send).find((r) => r.from === 2)!;
  assert.deepEqual([...d.w.namedMembers.keys()], [1, 2]);
  const out = d.accept(2, again, { generation: 1, disk: 9 });
  assert.deepEqual(results(out), [[1, { ok: false, error: 'no-quorum', unknownAt: 1 }], [2, { ok: false, error: 'no-quorum', unknownAt: 2 }]]);
  assert.equal(d.w.roleKind, 'idle');
});

test('a named member\'s other disk: the batches not chosen that named its old disk go again naming the rest, counted afresh (as for a retired disk); a late acceptance by the old disk counts for nothing', () => {
  const d = new Driver();
  const a = batches(d.send([[1, append()]]).send)[0]!;
  const b = batches(d.send([[2, append()]]).send)[0]!;
  d.accept(1, a);
  const out = d.accept(3, b, { generation: 1, disk: 9 });
  assert.deepEqual([...d.w.namedMembers.keys()], [1, 2]);
  const again = batches(out.send);
  assert.deepEqual(again.map((m) => [m.from, m.named.map((n) => n.id)]), [[1, [1, 2]], [2, [1, 2]]], 'both go again, naming 1 and 2');
  assert.ok(again.every((m) => m.rid !== a.rid && m.rid !== b.rid), 'under new requests');
  assert.deepEqual(to(writes(out.send)), [1, 1, 2, 2], 'to the named members');
  assert.deepEqual(d.accept(3, a).done, [], 'the old disk\'s late acceptance of the old request');
  assert.deepEqual(d.accept(2, a).done, [], 'nor member 2\'s: member 1\'s acceptance was of the old request');
  assert.deepEqual(d.accept(2, again[0]!).done, []);
  assert.deepEqual(results(d.accept(1, again[0]!)), [[1, { ok: true, position: 1 }]]);
});

test('retransmission: a batch sent again after a stale answer starts its backoff afresh', () => {
  const d = new Driver();
  const a = batches(d.send([[1, append()]]).send)[0]!;
  assert.deepEqual(to(writes(d.tick(timing.retransmitMs).send)), [1, 2, 3]);
  assert.deepEqual(to(writes(d.tick(3 * timing.retransmitMs).send)), [1, 2, 3]);
  assert.deepEqual(writes(d.tick(4 * timing.retransmitMs).send), [], 'backed off: the next one is due 4 x retransmitMs after');
  d.now = 5 * timing.retransmitMs;
  const again = batches(d.accept(1, a, { outcome: 'stale', retired: [{ id: 3, generation: 1, disk: 1 }] }).send)[0]!;
  assert.deepEqual(to(writes(d.tick(6 * timing.retransmitMs).send).filter((s) => s.msg.rid === again.rid)), [1, 2]);
});

test('retransmission: each backs off twice as long as the one before, from when it was sent', () => {
  const d = new Driver();
  d.send([[1, append()]]);
  assert.deepEqual(writes(d.tick(timing.retransmitMs - 1).send), []);
  assert.equal(writes(d.tick(timing.retransmitMs).send).length, 3);
  assert.deepEqual(writes(d.tick(2 * timing.retransmitMs).send), [], 'not retransmitMs after the first sending: after the retransmission');
  assert.deepEqual(writes(d.tick(3 * timing.retransmitMs - 1).send), []);
  assert.equal(writes(d.tick(3 * timing.retransmitMs).send).length, 3);
});

test('R4: an install request carries the writer\'s own link only while its ballot is in that configuration (not once its owner\'s view knows a newer one)', () => {
  const chain: PlacedConfiguration[] = [config0([1, 2, 3])];
  const d = new Driver({ view: (q) => chainView(chain)(q) });
  const entry = batches(d.step(addFour).send)[0]!;
  d.accept(1, entry, caughtUp);
  const install = promises(d.accept(2, entry, caughtUp).send)[0]!.msg;
  assert.equal(install.install?.epoch, 1);
  // The install election fails; meanwhile the owner's view learned epoch 2 (another writer's change above it).
  d.step({ type: 'abandon' });
  const next = { ...install.install!, epoch: 2, position: 4, floor: 3, changeId: 'other' };
  chain.push(install.install!, next);
  const again = promises(d.step({ type: 'elect' }).send)[0]!.msg;
  assert.deepEqual(again.config, { epoch: 2, position: 4 });
  assert.equal(again.install, undefined, 'its own link is not the configuration of this ballot');
});

test('an unknown-config answer naming no head gets no links: it counts as no vote', () => {
  const w = new WriterCore({ view: view3, random: () => 0.5 });
  const rid = promises(w.step({ type: 'elect' }, 0).send)[0]!.msg.rid;
  const out = w.step({ type: 'reply', from: 1, msg: promiseReply(rid, { outcome: 'unknown-config' }) }, 0);
  assert.deepEqual(out, { send: [], done: [] });
  for (const from of [2, 3]) w.step({ type: 'reply', from, msg: promiseReply(rid) }, 0);
  assert.equal(w.roleKind, 'elected');
  assert.deepEqual([...w.namedMembers.keys()], [2, 3]);
});

test('stopping: settling NOPs still queued beyond the window (the writer\'s own, id -1) fail silently', () => {
  // Member 1 holds a value at 9000: the election settles 0..9000 and writes its NOP at 9001, more than the window.
  const slot: Slot = { position: 9000, promised: 1, accepted: 1, learned: false, action: append() };
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, electionGraceMs: 1000 });
  const rid = promises(w.step({ type: 'elect' }, 0).send)[0]!.msg.rid;
  let out: WriterOutput = { send: [], done: [] };
  for (const from of [1, 2, 3]) out = w.step({ type: 'reply', from, msg: promiseReply(rid, from === 1 ? { end: 9000, slots: [slot], coveredThrough: 9000 } : {}) }, 0);
  assert.equal(w.inflightPositions, limits.writerWindowMax);
  assert.equal(w.queued, 9002 - limits.writerWindowMax);
  const m = batches(out.send)[0]!;
  const fenced = w.step({ type: 'reply', from: 1, msg: writeReply(m, { outcome: 'reject', proposal: 5 }) }, 0);
  assert.deepEqual(fenced.done, []);
  assert.deepEqual(fenced.election, { ok: false, error: 'fenced', proposal: 5 });
  assert.equal(w.queued, 0);
});

test('R3 and a named member\'s other disk: a change\'s entry sent again naming the rest keeps the joint readiness it had, and is chosen once the rest accept the new request', () => {
  const { d, entry } = promoting();
  d.accept(4, entry, caughtUp);
  d.accept(1, entry, caughtUp);
  // Member 3's other disk accepts (caught up): member 3 is dropped, the entry goes again under a new request.
  const out = d.accept(3, entry, { ...caughtUp, generation: 1, disk: 9 });
  assert.deepEqual([...d.w.namedMembers.keys()], [1, 2]);
  const again = batches(out.send);
  assert.equal(again.length, 1);
  assert.notEqual(again[0]!.rid, entry.rid);
  assert.deepEqual(to(writes(out.send)), [1, 2], 'to the named rest (4 is ready already)');
  assert.deepEqual(d.accept(1, entry, caughtUp).send.filter((s) => s.msg.type === 'promise'), [], 'the old request counts for nothing');
  d.accept(2, again[0]!, caughtUp);
  const done = d.accept(1, again[0]!, caughtUp);
  assert.ok(done.send.some((s) => s.msg.type === 'promise' && s.msg.install !== undefined), 'chosen: the install election starts');
});
