// Step 3 of docs/reconfiguration.md: the acceptor's configuration checks (R6) and how proposers take
// their answers. Each rule has a switch (src/core/rules.ts); every test here fails with it off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fill, type FillOutbound } from '../../src/core/fill.js';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { Metadata, PromiseReply, ReadReply, WriteReply } from '../../src/core/types.js';
import { WriterCore } from '../../src/core/writer.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { seededRandom } from '../helpers/seeded-random.js';

const m = (id: number) => ({ id, address: `h${id}:1` });
const c0: PlacedConfiguration = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
const c1: PlacedConfiguration = { epoch: 1, voters: [m(1), m(2), m(4)], learners: [], nextId: 5, position: 5, floor: 3 };
const OLD = { epoch: 0, position: -1 };
const NEW = { epoch: 1, position: 5 };
const nop = { kind: 'nop' as const };

/** A replica whose chain has learned epoch 1 at position 5 (written by hand: nothing proposes a change before step 4). */
function learnedEpoch1(): MemoryStore {
  const meta: Metadata = { status: 'VOTING', promised: 0, incarnation: 'x', configs: [c0, c1] };
  return new MemoryStore(meta);
}
const bootstrap = (): MemoryStore => new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'y' });

function step(store: MemoryStore, msg: AcceptorMessage, rules: SafetyRules = ALL_RULES_ON) {
  const s = replicaStep(store, msg, rules, { self: 1 });
  store.append(s.records);
  store.checkInvariants();
  return { reply: s.reply, records: s.records };
}
const staleOff: SafetyRules = { ...ALL_RULES_ON, staleConfig: false };
const unknownOff: SafetyRules = { ...ALL_RULES_ON, unknownConfig: false };

test('R6 stale-config: a replica that learned a newer configuration refuses an older ballot above its entry, with its head', () => {
  const r = learnedEpoch1();
  const p = step(r, { type: 'promise', rid: 1, proposal: 4, nonce: 9, config: OLD }).reply as PromiseReply;
  assert.deepEqual([p.outcome, p.config], ['stale-config', NEW]);
  assert.equal(r.metadata().promised, 0, 'nothing promised');
  const w = step(r, { type: 'write', rid: 2, proposal: 4, from: 6, actions: [nop], named: [{ id: 1, generation: 0, disk: 0 }], config: OLD }).reply as WriteReply;
  assert.deepEqual([w.outcome, w.config], ['stale-config', NEW]);
  assert.equal(r.slot(6), undefined, 'nothing accepted above the entry');
  // A request without a head names the bootstrap configuration: stale too.
  assert.equal((step(r, { type: 'promise', rid: 3, proposal: 4, from: 6, to: 7 }).reply as PromiseReply).outcome, 'stale-config');
});

test('R6 stale-config: positions the older configuration still governs are voted on; the newer ballot everywhere', () => {
  const r = learnedEpoch1();
  assert.equal((step(r, { type: 'promise', rid: 1, proposal: 4, from: 3, to: 5, config: OLD }).reply as PromiseReply).outcome, 'accept');
  assert.equal((step(r, { type: 'write', rid: 2, proposal: 4, from: 4, actions: [nop, nop], named: [], config: OLD }).reply as WriteReply).outcome, 'accept');
  assert.equal((step(r, { type: 'promise', rid: 3, proposal: 5, nonce: 7, config: NEW }).reply as PromiseReply).outcome, 'accept');
  assert.equal((step(r, { type: 'write', rid: 4, proposal: 5, from: 6, actions: [nop], named: [], config: NEW }).reply as WriteReply).outcome, 'accept');
});

test('staleConfig off: the older ballot is promised and accepted above the entry (what the rule prevents)', () => {
  const r = learnedEpoch1();
  assert.equal((step(r, { type: 'promise', rid: 1, proposal: 4, nonce: 9, config: OLD }, staleOff).reply as PromiseReply).outcome, 'accept');
  assert.equal((step(r, { type: 'write', rid: 2, proposal: 4, from: 6, actions: [nop], named: [], config: OLD }, staleOff).reply as WriteReply).outcome, 'accept');
  assert.equal(r.slot(6)?.accepted, 4);
});

test('R6 unknown-config: a ballot of a configuration this replica has not learned gets no vote (unknownConfig off: it does)', () => {
  for (const rules of [ALL_RULES_ON, unknownOff]) {
    const r = bootstrap();
    const p = step(r, { type: 'promise', rid: 1, proposal: 4, nonce: 9, config: NEW }, rules).reply as PromiseReply;
    const w = step(r, { type: 'write', rid: 2, proposal: 5, from: 6, actions: [nop], named: [], config: NEW }, rules).reply as WriteReply;
    if (rules.unknownConfig) {
      assert.deepEqual([p.outcome, p.config], ['unknown-config', OLD]);
      assert.equal(w.outcome, 'ignored', 'a write carries no configuration to learn');
      assert.deepEqual([r.metadata().promised, r.slot(6)], [0, undefined]);
    } else {
      assert.deepEqual([p.outcome, w.outcome], ['accept', 'accept']);
    }
  }
});

test('R5: replies carry the head, and the pending config entry above it whatever range was asked', () => {
  const r = bootstrap();
  const next = { epoch: 1, voters: [m(1)], learners: [], nextId: 5 };
  step(r, { type: 'write', rid: 1, proposal: 2, from: 0, actions: [nop, nop, { kind: 'config', config: next }], named: [] });
  const read = step(r, { type: 'read', rid: 2, from: 0, to: 0, limit: 10 }).reply as ReadReply;
  assert.deepEqual(read.config, OLD);
  assert.deepEqual(read.pending, { position: 2, proposal: 2, config: next });
  const promise = step(r, { type: 'promise', rid: 3, proposal: 3, from: 0, to: 0 }).reply as PromiseReply;
  assert.deepEqual(promise.pending?.position, 2);
  const write = step(r, { type: 'write', rid: 4, proposal: 3, from: 3, actions: [nop], named: [] }).reply as WriteReply;
  assert.deepEqual([write.config, write.learnedThrough, write.lostBelow], [OLD, -1, false]);
  step(r, { type: 'commit', proposal: 2, from: 0, to: 2 });
  assert.equal((step(r, { type: 'read', rid: 5, from: 0, to: 0, limit: 10 }).reply as ReadReply).pending, undefined, 'a learned entry is not pending');
});

test('writer: a stale-config answer ends its ballot as fencing does, naming the newer head; unknown-config is no vote', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: seededRandom(1) });
  const out = w.step({ type: 'elect' }, 0);
  const req = out.send[0]!.msg;
  assert.deepEqual((req as { config?: unknown }).config, OLD, 'requests carry the ballot configuration head');
  const reply = (outcome: PromiseReply['outcome'], config = OLD): PromiseReply => ({
    type: 'promiseReply', rid: req.type === 'promise' ? req.rid : 0, outcome, proposal: 1, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1,
    slots: [], coveredThrough: -1, generation: 0, disk: 0, config,
  });
  w.step({ type: 'reply', from: 1, msg: reply('unknown-config') }, 1);
  assert.equal(w.roleKind, 'electing', 'unknown-config is no vote and no refusal');
  const res = w.step({ type: 'reply', from: 2, msg: reply('stale-config', NEW) }, 2);
  assert.equal(w.roleKind, 'fenced');
  assert.deepEqual(res.election, { ok: false, error: 'fenced', proposal: 1, config: NEW });
});

test('writer: a stale-config answer naming no newer head is ignored', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: seededRandom(1) });
  const out = w.step({ type: 'elect' }, 0);
  const rid = (out.send[0]!.msg as { rid: number }).rid;
  w.step({ type: 'reply', from: 2, msg: { type: 'promiseReply', rid, outcome: 'stale-config', proposal: 1, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1, generation: 0, disk: 0, config: OLD } }, 1);
  assert.equal(w.roleKind, 'electing');
});

test('fill: runs in config(from) with its head; a stale-config answer ends it with the newer head', () => {
  const send: FillOutbound[] = [];
  let rid = 1;
  const f = new Fill(3, 4, 0, { members: [1, 2, 3], random: seededRandom(2), rid: () => rid++ }, 0, send);
  assert.deepEqual(send.map((s) => s.to), [1, 2, 3]);
  const req = send[0]!.msg as { rid: number; config?: unknown };
  assert.deepEqual(req.config, OLD);
  const r = f.onPromiseReply(1, {
    type: 'promiseReply', rid: req.rid, outcome: 'stale-config', proposal: 1, status: 'VOTING', begin: 0, end: 9, learnedThrough: 5, slots: [], coveredThrough: 4,
    generation: 0, disk: 0, config: NEW,
  }, 1, []);
  assert.deepEqual(r, { ok: false, error: 'stale-config', config: NEW });
});

test('fill: a range is cut at the next configuration entry (R1), and asks that configuration\'s voters', async () => {
  const { chainView } = await import('../../src/core/config-view.js');
  const send: FillOutbound[] = [];
  const f = new Fill(3, 9, 0, { view: chainView([c0, c1]), random: seededRandom(3), rid: () => 1 }, 0, send);
  assert.equal(f.to, 5, 'positions above 5 belong to epoch 1');
  assert.deepEqual(send.map((s) => s.to), [1, 2, 3]);
  const g = new Fill(6, 9, 0, { view: chainView([c0, c1]), self: 2, random: seededRandom(3), rid: () => 1 }, 0, (send.length = 0, send));
  assert.equal(g.to, 9);
  assert.deepEqual(send.map((s) => s.to), [1, 4], 'epoch 1 voters but the filler itself');
  assert.deepEqual((send[0]!.msg as { config?: unknown }).config, NEW);
});
