// Attack on reconfig3, target 1: can a 'stale-config' or 'unknown-config' answer be counted as a
// promise or an acceptance? Not on reconfig3, but nothing checked it: each test below passes on
// reconfig3 and fails with one planted mutation of dist/src/core that config-rules, writer, reader,
// catchup, fill-commit and highest-accepted all let through (and the simulator cannot see: with one
// configuration no replica ever gives these answers). The mutation each one kills is named above it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fill, type FillOutbound } from '../../src/core/fill.js';
import type { PromiseReply, WriteReply } from '../../src/core/types.js';
import { WriterCore } from '../../src/core/writer.js';
import { seededRandom } from '../helpers/seeded-random.js';

const OLD = { epoch: 0, position: -1 };
const NEW = { epoch: 1, position: 5 };

function promiseReply(rid: number, outcome: PromiseReply['outcome'], config = OLD, proposal = 1): PromiseReply {
  return {
    type: 'promiseReply', rid, outcome, proposal, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1,
    slots: [], coveredThrough: -1, generation: 0, disk: 0, config,
  };
}
/** An explicit promise's answer for [0, 0] (a fill's): it covers position 0, where it holds nothing. */
const fillPromise = (rid: number, outcome: PromiseReply['outcome']): PromiseReply => ({ ...promiseReply(rid, outcome), coveredThrough: 0 });

function writeReply(rid: number, outcome: WriteReply['outcome'], from: number, count: number, config = OLD, proposal = 1): WriteReply {
  return { type: 'writeReply', rid, outcome, proposal, from, count, generation: 0, disk: 0, retired: [], config };
}

// Mutation W1 (writer-election.js): `msg.outcome === 'unknown-config' ? 'ignored' : msg.outcome` -> 'accept', and the
// reply kept as a promise (`if (msg.outcome === 'accept' || msg.outcome === 'unknown-config')`).
test('writer: an unknown-config answer is no promise: one real promise of three does not elect', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: seededRandom(7) });
  const out = w.step({ type: 'elect' }, 0);
  const rid = (out.send[0]!.msg as { rid: number }).rid;
  w.step({ type: 'reply', from: 1, msg: promiseReply(rid, 'unknown-config') }, 1);
  const res = w.step({ type: 'reply', from: 2, msg: promiseReply(rid, 'accept') }, 2);
  assert.equal(w.roleKind, 'electing', 'not elected on one promise and one unknown-config');
  assert.equal(res.election, undefined);
  assert.ok(!res.send.some((s) => s.msg.type === 'write'), 'nothing written');
  // The third member's promise elects it, naming the two that promised, never the one that did not.
  w.step({ type: 'reply', from: 3, msg: promiseReply(rid, 'accept') }, 3);
  assert.equal(w.roleKind, 'elected');
  assert.deepEqual([...w.namedMembers.keys()].sort(), [2, 3]);
});

// Mutation F1 (fill.js): an unknown-config promise answer recorded as 'accept' and kept among the replies.
test('fill: an unknown-config answer is no promise: the fill does not write on one real promise of three', () => {
  const send: FillOutbound[] = [];
  let rid = 1;
  const f = new Fill(0, 0, 0, { members: [1, 2, 3], random: seededRandom(2), rid: () => rid++ }, 0, send);
  const req = send[0]!.msg as { rid: number };
  send.length = 0;
  assert.equal(f.onPromiseReply(1, fillPromise(req.rid, 'unknown-config'), 1, send), undefined);
  assert.equal(f.onPromiseReply(2, fillPromise(req.rid, 'accept'), 2, send), undefined);
  assert.ok(!send.some((s) => s.msg.type === 'write'), `no phase 2 on one promise: ${JSON.stringify(send.map((s) => s.msg.type))}`);
  f.onPromiseReply(3, fillPromise(req.rid, 'accept'), 3, send);
  assert.ok(send.some((s) => s.msg.type === 'write'), 'two real promises start phase 2');
});

// Mutation F2 (fill.js): `const counts = (msg.outcome === 'accept' || msg.outcome === 'stale-config') && ...`.
test('fill: a stale-config write answer that names no newer head is no acceptance', () => {
  const send: FillOutbound[] = [];
  let rid = 1;
  const f = new Fill(0, 0, 0, { members: [1, 2, 3], random: seededRandom(2), rid: () => rid++ }, 0, send);
  const p = (send[0]!.msg as { rid: number }).rid;
  send.length = 0;
  f.onPromiseReply(1, fillPromise(p, 'accept'), 1, send);
  f.onPromiseReply(2, fillPromise(p, 'accept'), 2, send);
  const write = send.find((s) => s.msg.type === 'write')?.msg as { rid: number } | undefined;
  assert.ok(write, 'phase 2 starts on two promises');
  send.length = 0;
  assert.equal(f.onWriteReply(1, writeReply(write.rid, 'accept', 0, 1), 3, send), undefined);
  // A confused (or hostile) replica answers stale-config with the fill's own head: neither fencing nor a vote.
  const r = f.onWriteReply(2, writeReply(write.rid, 'stale-config', 0, 1, OLD), 4, send);
  assert.equal(r, undefined, `not chosen on one acceptance: ${JSON.stringify(r)}`);
  assert.ok(!send.some((s) => s.msg.type === 'commit'), 'no commit');
});

// Mutation W3 (writer-appends.js): the write path's `if (msg.outcome === 'stale-config') return this.onStaleConfig(...)` deleted.
test('writer: a stale-config write answer naming a newer head ends the ballot at once, failing what is in flight as fenced', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: seededRandom(7) });
  const e = w.step({ type: 'elect' }, 0);
  const rid = (e.send[0]!.msg as { rid: number }).rid;
  const outs = [1, 2, 3].map((id) => w.step({ type: 'reply', from: id, msg: promiseReply(rid, 'accept') }, 1));
  assert.equal(w.roleKind, 'elected');
  // The election's marker NOP at 0 is in flight: one member has learned a newer configuration.
  const marker = [e, ...outs].flatMap((o) => o.send).find((s) => s.msg.type === 'write')?.msg as { rid: number; from: number; actions: unknown[] } | undefined;
  assert.ok(marker, 'the marker NOP is sent');
  const res = w.step({ type: 'reply', from: 1, msg: writeReply(marker.rid, 'stale-config', marker.from, marker.actions.length, NEW) }, 2);
  assert.equal(w.roleKind, 'fenced');
  assert.deepEqual(res.election, { ok: false, error: 'fenced', proposal: 1, config: NEW });
});
