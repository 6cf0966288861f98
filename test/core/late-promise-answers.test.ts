// Which answers to a promise round after the election (writer-counted-members.ts, onLatePromise) the
// writer acts on, and how: a refusal fences it only above its proposal; an answer naming another
// proposal than the round's is no answer to it; 'stale-config' stops it; 'unknown-config' gets the
// links the member lacks, with the same round, when they join its head; a member not VOTING does not
// promise. Each test fails with one or more of Stryker's survivors in writer-counted-members.ts planted
// by hand (issue 11; docs/testing.md, "The full run, a part at a time").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainView } from '../../src/core/config-view.js';
import type { ConfigHead, PlacedConfiguration } from '../../src/core/membership.js';
import type { PromiseReply, PromiseRequest } from '../../src/core/types.js';
import { WriterCore, type Outbound } from '../../src/core/writer.js';

const voters = [1, 2, 3, 4, 5].map((id) => ({ id, address: '' }));
const placed = (epoch: number, position: number, floor: number): PlacedConfiguration => ({ epoch, voters, learners: [], nextId: 6, position, floor });
/** The writer's view starts at epoch 2 (its chain kept from config(begin) on, R14): it cannot give epoch 1. */
const C2 = placed(2, 5, 3);
const C3 = placed(3, 9, 4);

function reply(rid: number, proposal: number, outcome: PromiseReply['outcome'] = 'accept', more: Partial<PromiseReply> = {}): PromiseReply {
  return {
    type: 'promiseReply', rid, outcome, proposal, status: 'VOTING', begin: 0, end: 9, learnedThrough: 9, slots: [], coveredThrough: 9,
    generation: 0, disk: 0, config: { epoch: 3, position: 9 }, ...more,
  };
}
const promises = (send: readonly Outbound[]) => send.filter((s): s is Outbound & { msg: PromiseRequest } => s.msg.type === 'promise');

/** Voters 1..5 in epoch 3, elected by 1, 2, 3 at time 1 (no grace: 4 and 5 not named); `rid` is the election's. */
function elected(): { w: WriterCore; rid: number; p: number } {
  const w = new WriterCore({ view: chainView([C2, C3]), random: () => 0.5, electionGraceMs: 0, proposalFloor: 10 });
  const req = w.step({ type: 'elect' }, 0).send[0]!.msg as PromiseRequest;
  for (const from of [1, 2, 3]) w.step({ type: 'reply', from, msg: reply(req.rid, req.proposal) }, 1);
  assert.equal(w.roleKind, 'elected');
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2, 3]);
  return { w, rid: req.rid, p: req.proposal };
}

test('late promise: a counted member refusing at or below the writer\'s proposal does not fence it; above it does', () => {
  const { w, rid, p } = elected();
  // A replica refuses at the writer's own number when it holds a binding acceptance of that number, or
  // when its configuration's floor is that number (R6): it cannot vote, but no one came after the writer.
  for (const refused of [p, p - 1]) {
    const out = w.step({ type: 'reply', from: 1, msg: reply(rid, refused, 'reject') }, 2);
    assert.equal(w.roleKind, 'elected', `a refusal at ${refused} (writer at ${p})`);
    assert.deepEqual(out.done, []);
  }
  w.step({ type: 'reply', from: 1, msg: reply(rid, p + 1, 'reject') }, 3);
  assert.equal(w.roleKind, 'fenced');
});

test('late promise: an answer naming another proposal than its round\'s is no answer to it (another writer\'s request with the same id)', () => {
  // Request ids restart at 1 in every WriterCore unless its owner gives a counter (the simulator's clients
  // do not): an answer to an earlier writer's request can carry an id of this writer's rounds.
  const { w, rid, p } = elected();
  // Not a promise of this number: member 4 is no candidate (no confirm round is sent) ...
  assert.deepEqual(w.step({ type: 'reply', from: 4, msg: reply(rid, p - 1) }, 2).send, []);
  // ... not a stale-config that stops the writer ...
  w.step({ type: 'reply', from: 4, msg: reply(rid, p - 1, 'stale-config', { config: { epoch: 4, position: 20 } }) }, 3);
  assert.equal(w.roleKind, 'elected');
  // ... not an unknown-config that gets links ...
  assert.deepEqual(w.step({ type: 'reply', from: 5, msg: reply(rid, p - 1, 'unknown-config', { config: { epoch: 2, position: 5 } }) }, 4).send, []);
  // ... and, from a counted member, neither a refusal nor a confirmation, whichever side of the writer's number.
  assert.deepEqual(w.step({ type: 'reply', from: 1, msg: reply(rid, p + 1) }, 5).send, []);
  assert.equal(w.roleKind, 'elected');
  // The same answer naming the round's own number is one: 4 becomes a candidate, and the named members are asked to confirm.
  const confirm = promises(w.step({ type: 'reply', from: 4, msg: reply(rid, p) }, 6).send);
  assert.deepEqual(confirm.map((s) => s.to).sort(), [1, 2, 3]);
});

test('late promise: an answer stale-config naming a newer head stops the writer (fenced with that head, what it has in flight in doubt)', () => {
  const { w, rid, p } = elected();
  const out = w.step({ type: 'reply', from: 4, msg: reply(rid, p, 'stale-config', { config: { epoch: 4, position: 20 } }) }, 2);
  assert.equal(w.roleKind, 'fenced');
  assert.ok(out.election !== undefined && !out.election.ok && out.election.error === 'fenced', JSON.stringify(out.election));
  assert.deepEqual((out.election as { config?: ConfigHead }).config, { epoch: 4, position: 20 });
});

test('late promise: a member lacking the writer\'s configuration gets the links it lacks with the same round, only when they join its head (R6)', () => {
  const { w, rid, p } = elected();
  const links = (head: ConfigHead | undefined) => {
    const out = w.step({ type: 'reply', from: 4, msg: reply(rid, p, 'unknown-config', { config: head }) }, 2);
    const sent = promises(out.send);
    assert.ok(sent.every((s) => s.to === 4 && s.msg.rid === rid && s.msg.proposal === p), JSON.stringify(sent));
    return sent.map((s) => (s.msg.links ?? []).map((l) => l.epoch));
  };
  assert.deepEqual(links({ epoch: 2, position: 5 }), [[3]], 'at epoch 2: the link of epoch 3');
  assert.deepEqual(links({ epoch: 1, position: 2 }), [[2, 3]], 'at epoch 1: both links, the first right above its head');
  assert.deepEqual(links({ epoch: 0, position: -1 }), [], 'at epoch 0: the writer lacks epoch 1, and links that do not join its head are of no use');
  assert.deepEqual(links({ epoch: 3, position: 9 }), [], 'at the writer\'s own head: nothing to give');
  assert.deepEqual(links(undefined), [], 'no head named: nothing to give');
  assert.equal(w.roleKind, 'elected');
  assert.deepEqual([...w.namedMembers.keys()].sort(), [1, 2, 3], 'unknown-config is no promise');
});

test('late promise: a member that is not VOTING does not promise (a replica whose rule nonVotingIgnores is off answers accept)', () => {
  const { w, rid, p } = elected();
  assert.deepEqual(w.step({ type: 'reply', from: 4, msg: reply(rid, p, 'accept', { status: 'RECOVERING' }) }, 2).send, [], 'no candidate, no confirm round');
  assert.deepEqual(promises(w.step({ type: 'reply', from: 4, msg: reply(rid, p) }, 3).send).map((s) => s.to).sort(), [1, 2, 3], 'VOTING: a candidate');
});
