// Step 4 of docs/reconfiguration.md, the acceptor's side: R14 (the chain follows what is learned, in
// order, even when entries are learned out of order), R4's install and R6's missing links, R6's floor,
// R6/R7's voter checks and R3's not-ready. Each switch is shown to matter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Configuration, PlacedConfiguration } from '../../src/core/membership.js';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import { limits } from '../../src/core/constants.js';
import type { PromiseReply, WriteReply } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { changed, config0, member, ReconfigCluster } from './reconfig-harness.js';

const c0 = config0([1, 2, 3], [4]);
const cfg1: Configuration = { epoch: 1, voters: [member(1), member(2), member(4)], learners: [], nextId: 5 };
const cfg2: Configuration = { epoch: 2, voters: [member(1), member(2), member(4)], learners: [member(5)], nextId: 6 };
const placed = (c: Configuration, position: number, floor: number): PlacedConfiguration => ({ ...c, position, floor });
const nop = { kind: 'nop' as const };
const off = (rule: keyof SafetyRules): SafetyRules => ({ ...ALL_RULES_ON, [rule]: false });

function replica(self: number, chain: PlacedConfiguration[] = [c0]): { store: MemoryStore; step: (m: AcceptorMessage, rules?: SafetyRules) => ReturnType<typeof replicaStep> } {
  const store = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: `i${self}`, configs: chain });
  return {
    store,
    step: (m, rules = ALL_RULES_ON) => {
      const s = replicaStep(store, m, rules, { self });
      store.append(s.records);
      store.checkInvariants();
      return s;
    },
  };
}

const write = (proposal: number, from: number, actions: AcceptorMessage extends never ? never : unknown[], head = { epoch: 0, position: -1 }): AcceptorMessage =>
  ({ type: 'write', rid: 1, proposal, from, actions, named: [], config: head }) as AcceptorMessage;

/** A replica that learned positions 0..n-1 (NOPs), as a catch-up copies them. */
function filled(r: ReturnType<typeof replica>, n: number): void {
  r.step({ type: 'learned', entries: Array.from({ length: n }, (_, position) => ({ position, action: nop })) });
}

test('R14: a config entry learned before its predecessor is held back, and chained with it when the predecessor is learned', () => {
  const r = replica(1);
  filled(r, 3);
  r.step(write(5, 3, [{ kind: 'config', config: cfg1 }]));
  r.step(write(5, 4, [nop, nop]));
  r.step(write(9, 6, [{ kind: 'config', config: cfg2 }], { epoch: 0, position: -1 }));
  // Epoch 2's commit arrives first: learned in the log, but the chain cannot skip epoch 1.
  r.step({ type: 'commit', proposal: 9, from: 6, to: 6 });
  assert.equal(r.store.slot(6)?.learned, true);
  assert.deepEqual(r.store.metadata().configs!.map((c) => c.epoch), [0]);
  assert.equal(r.store.learnedThrough(), 2, 'the learned prefix stops below the unlearned epoch-1 entry');
  // Then epoch 1's: both links, in order, each with the ballot that taught it as its floor.
  const s = r.step({ type: 'commit', proposal: 5, from: 3, to: 5 });
  assert.equal(s.records[0]!.type, 'metadata', 'the chain is written before the learn (a crash between leaves it ahead, never behind)');
  assert.deepEqual(r.store.metadata().configs!.map((c) => [c.epoch, c.position, c.floor]), [[0, -1, 0], [1, 3, 5], [2, 6, 9]]);
  assert.equal(r.store.learnedThrough(), 6);
});

test('R14: through learned messages (catch-up copies) an entry whose predecessor is missing is not taken until it can be chained with its floor', () => {
  const r = replica(1);
  const e = (position: number, config: Configuration) => ({ position, action: { kind: 'config' as const, config } });
  r.step({ type: 'learned', entries: [e(6, cfg2)], floors: [{ position: 6, floor: 9 }] });
  assert.deepEqual(r.store.metadata().configs!.map((c) => c.epoch), [0]);
  assert.equal(r.store.slot(6), undefined, 'held back: not learned (its floor would be lost)');
  r.step({ type: 'learned', entries: [e(6, cfg2)], floors: [{ position: 6, floor: 9 }] });
  assert.equal(r.store.slot(6), undefined);
  // In one message with its predecessor, both are taken, in order.
  r.step({ type: 'learned', entries: [e(6, cfg2)], floors: [{ position: 6, floor: 9 }] });
  r.step({ type: 'learned', entries: [...[0, 1, 2, 4, 5].map((position) => ({ position, action: nop })), e(3, cfg1), e(6, cfg2)], floors: [{ position: 3, floor: 5 }, { position: 6, floor: 9 }] });
  assert.deepEqual(r.store.metadata().configs!.map((c) => [c.epoch, c.position, c.floor]), [[0, -1, 0], [1, 3, 5], [2, 6, 9]]);
});

test('R4: an implicit promise carrying the chosen configuration installs it (chain, learned entry) with the promise; without the predecessor: unknown-config, then the links', () => {
  const r = replica(4);
  filled(r, 3);
  const s = r.step({ type: 'promise', rid: 1, proposal: 7, nonce: 3, config: { epoch: 1, position: 3 }, install: placed(cfg1, 3, 5) });
  assert.equal((s.reply as PromiseReply).outcome, 'accept');
  assert.deepEqual(s.records.map((x) => x.type), ['metadata', 'learn', 'metadata'], 'chain, entry, promise in one step');
  assert.deepEqual((s.reply as PromiseReply).config, { epoch: 1, position: 3 });
  assert.equal(r.store.slot(3)?.learned, true);
  assert.equal(r.store.metadata().promised, 7);

  // Epoch 2 offered to a replica that has only epoch 0: it does not skip a link.
  const q = replica(4);
  const head2 = { epoch: 2, position: 6 };
  const a = q.step({ type: 'promise', rid: 1, proposal: 8, nonce: 3, config: head2, install: placed(cfg2, 6, 7) }).reply as PromiseReply;
  assert.deepEqual([a.outcome, a.config], ['unknown-config', { epoch: 0, position: -1 }]);
  assert.deepEqual(q.store.metadata().configs!.map((c) => c.epoch), [0]);
  const b = q.step({ type: 'promise', rid: 1, proposal: 8, nonce: 3, config: head2, install: placed(cfg2, 6, 7), links: [placed(cfg1, 3, 5)] }).reply as PromiseReply;
  assert.equal(b.outcome, 'accept');
  assert.deepEqual(q.store.metadata().configs!.map((c) => c.epoch), [0, 1, 2]);
});

test('R4: an install writes the entry\'s learn record only where the replica holds the position (not below its beginning, not far beyond its end)', () => {
  const kinds = (s: ReturnType<typeof replicaStep>) => s.records.map((x) => (x.type === 'learn' ? `learn ${x.position}` : x.type));
  const promise = (install: PlacedConfiguration): AcceptorMessage => ({ type: 'promise', rid: 1, proposal: 7, nonce: 3, config: { epoch: 1, position: install.position }, install });
  // Truncated past the entry: the chain takes it, the log does not.
  const truncated = replica(4);
  filled(truncated, 10);
  truncated.step({ type: 'learned', entries: [{ position: 10, action: { kind: 'truncate', to: 8 } }] });
  assert.equal(truncated.store.begin(), 8);
  assert.deepEqual(kinds(truncated.step(promise(placed(cfg1, 3, 5)))), ['metadata', 'metadata']);
  // Far beyond the end (an empty log): the chain only, no walk towards a far position.
  const far = 2 * limits.positionsBeyondEndMax;
  assert.deepEqual(kinds(replica(4).step(promise(placed(cfg1, far, 5)))), ['metadata', 'metadata']);
  // Where the position is held, learned with the chain.
  const held = replica(4);
  filled(held, 3);
  assert.deepEqual(kinds(held.step(promise(placed(cfg1, 3, 5)))), ['metadata', 'learn 3', 'metadata']);
  // At the beginning itself (an empty log begins at 0): held.
  assert.deepEqual(kinds(replica(4).step(promise(placed(cfg1, 0, 5)))), ['metadata', 'learn 0', 'metadata']);
  // At the far bound itself (an empty log: end -1, plus positionsBeyondEndMax): held.
  const farEnd = -1 + limits.positionsBeyondEndMax;
  assert.deepEqual(kinds(replica(4).step(promise(placed(cfg1, farEnd, 5)))), ['metadata', `learn ${farEnd}`, 'metadata']);
});

test('R4: an install writes records only for what it adds: nothing for a configuration the chain holds, no learn record for a link it held before', () => {
  const kinds = (s: ReturnType<typeof replicaStep>) => s.records.map((x) => (x.type === 'learn' ? `learn ${x.position}` : x.type));
  const r = replica(4);
  filled(r, 3);
  const install = placed(cfg1, 3, 5);
  assert.deepEqual(kinds(r.step({ type: 'promise', rid: 1, proposal: 7, nonce: 3, config: { epoch: 1, position: 3 }, install })), ['metadata', 'learn 3', 'metadata']);
  // The same install again, with a higher proposal: the promise's record alone; asked again under the same number: none.
  assert.deepEqual(kinds(r.step({ type: 'promise', rid: 2, proposal: 8, nonce: 3, config: { epoch: 1, position: 3 }, install })), ['metadata']);
  assert.deepEqual(kinds(r.step({ type: 'promise', rid: 3, proposal: 8, nonce: 3, config: { epoch: 1, position: 3 }, install })), []);
  // A chain that holds epoch 1 at 3 without the position learned (installed when 3 lay far beyond the end, say):
  // installing epoch 2 learns 6, not 3 again.
  const q = replica(4, [c0, placed(cfg1, 3, 5)]);
  assert.deepEqual(kinds(q.step({ type: 'promise', rid: 1, proposal: 8, nonce: 3, config: { epoch: 2, position: 6 }, install: placed(cfg2, 6, 7) })), ['metadata', 'learn 6', 'metadata']);
});

test('configFloor: a ballot not above the floor of the configuration governing a position is rejected, naming the floor', () => {
  for (const rules of [ALL_RULES_ON, off('configFloor')]) {
    const r = replica(1, [c0, placed(cfg1, 3, 5)]);
    const head = { epoch: 1, position: 3 };
    const p = r.step({ type: 'promise', rid: 1, proposal: 4, from: 7, to: 8, config: head }, rules).reply as PromiseReply;
    const w = r.step(write(5, 9, [nop], head), rules).reply as WriteReply;
    if (rules.configFloor) {
      assert.deepEqual([p.outcome, p.proposal, w.outcome, w.proposal], ['reject', 5, 'reject', 5]);
      assert.equal(r.store.slot(9), undefined);
    } else {
      assert.deepEqual([p.outcome, w.outcome], ['accept', 'accept']);
    }
    // Positions the old configuration governs keep their old floor (0).
    assert.equal((r.step({ type: 'promise', rid: 2, proposal: 4, from: 1, to: 2, config: { epoch: 0, position: -1 } }, rules).reply as PromiseReply).outcome, 'accept');
  }
});

test('removedStaysOut: a replica removed by the chain votes on nothing above the entry (stale-config); a learner on nothing but R3\'s write', () => {
  for (const rules of [ALL_RULES_ON, off('removedStaysOut')]) {
    const head = { epoch: 1, position: 3 };
    const gone = replica(3, [c0, placed(cfg1, 3, 5)]);
    const w = gone.step(write(6, 4, [nop], head), rules).reply as WriteReply;
    const p = gone.step({ type: 'promise', rid: 1, proposal: 7, nonce: 1, config: head }, rules).reply as PromiseReply;
    const learner = replica(5, [c0, placed(cfg1, 3, 5), placed(cfg2, 6, 6)]);
    const l = learner.step(write(7, 7, [nop], { epoch: 2, position: 6 }), rules).reply as WriteReply;
    if (rules.removedStaysOut) {
      assert.deepEqual([w.outcome, p.outcome, l.outcome], ['stale-config', 'stale-config', 'ignored']);
      assert.deepEqual([gone.store.slot(4), gone.store.metadata().promised, learner.store.slot(7)], [undefined, 0, undefined]);
    } else {
      assert.deepEqual([w.outcome, p.outcome, l.outcome], ['accept', 'accept', 'accept']);
    }
  }
});

test('R3: a learner named a voter by the entry accepts that one write, once it holds everything below it (not-ready before; caughtUpToAccept off: at once)', () => {
  for (const rules of [ALL_RULES_ON, off('caughtUpToAccept')]) {
    const r = replica(4);
    const entry = write(5, 3, [{ kind: 'config', config: cfg1 }]);
    const first = (r.step(entry, rules).reply as WriteReply).outcome;
    assert.equal(first, rules.caughtUpToAccept ? 'not-ready' : 'accept');
    assert.equal((r.step(write(5, 4, [nop]), rules).reply as WriteReply).outcome, 'ignored', 'nothing else');
    filled(r, 3);
    const again = r.step(entry, rules).reply as WriteReply;
    assert.deepEqual([again.outcome, again.learnedThrough, again.lostBelow], ['accept', 2, false]);
  }
});

test('R3: the learner\'s one write is exactly one entry, of the next epoch, naming it a voter; anything else is ignored', () => {
  const r = replica(4);
  filled(r, 3);
  const elsewhere: Configuration = { ...cfg1, voters: [member(1), member(2), member(3)], learners: [member(4)] };
  const cfg3: Configuration = { ...cfg1, epoch: 2 };
  for (const [what, actions] of [
    ['the entry with a NOP after it', [{ kind: 'config', config: cfg1 }, nop]],
    ['an entry that keeps it a learner', [{ kind: 'config', config: elsewhere }]],
    ['an entry two epochs ahead', [{ kind: 'config', config: cfg3 }]],
  ] as const) {
    assert.equal((r.step(write(5, 3, [...actions])).reply as WriteReply).outcome, 'ignored', what);
  }
  assert.equal((r.step(write(5, 3, [{ kind: 'config', config: cfg1 }])).reply as WriteReply).outcome, 'accept', 'the entry alone');
});

test('R6: an election in a configuration some voters have not learned completes: they are sent the links they lack', () => {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]));
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  c.copyLearned(1, 4);
  c.copyLearned(1, 5);
  c.change('w', { id: 'swap', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  c.run();
  const cfg = changed(c.changes.get('swap'));
  // A second writer knows the new chain; r5 lost its disk's chain (a store written before the change: only epoch 0).
  c.stores.set(5, new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'i5b', configs: [c.c0] }));
  c.copyLearned(4, 5);
  c.stores.set(5, new MemoryStore({ ...c.store(5).metadata(), configs: [c.c0] }));
  c.up.delete(4);
  c.writer('w2', [c.c0, cfg]);
  c.elect('w2');
  c.run(5_000);
  assert.equal(c.writers.get('w2')!.roleKind, 'elected', 'elected with r1 and r5 (r4 is down)');
  assert.equal(c.chain(5).length, 2, 'r5 took the link it lacked');
});

test('a chain that does not reach back to a position (truncated, or started at its first learned link) refuses nothing there; above, it checks', () => {
  const r = replica(3, [placed(cfg1, 3, 5)]);
  assert.equal((r.step(write(6, 2, [nop], { epoch: 0, position: -1 })).reply as WriteReply).outcome, 'accept', 'position 2: not reached by the chain');
  assert.equal((r.step(write(6, 4, [nop], { epoch: 1, position: 3 })).reply as WriteReply).outcome, 'ignored', 'position 4: epoch 1 does not list r3');
});

test('R3\'s exception is a learner\'s alone: a voter named again by the next entry still rejects a ballot not above its floor, and a removed replica named again stays out', () => {
  const cfg2Again: Configuration = { ...cfg2, voters: [member(1), member(2), member(3)], learners: [], nextId: 6 };
  for (const self of [1, 3]) {
    const r = replica(self, [c0, placed(cfg1, 3, 5)]);
    r.step({ type: 'learned', entries: Array.from({ length: 7 }, (_, position) => ({ position, action: position === 3 ? { kind: 'config' as const, config: cfg1 } : nop })), floors: [{ position: 3, floor: 5 }] });
    assert.equal(r.store.learnedThrough(), 6, 'caught up below the entry');
    // The epoch-2 entry lists r1 (a voter already) and r3 (removed by epoch 1) as voters.
    const w = r.step(write(5, 7, [{ kind: 'config', config: cfg2Again }], { epoch: 1, position: 3 })).reply as WriteReply;
    if (self === 1) assert.deepEqual([w.outcome, w.proposal], ['reject', 5], 'r1: not above the floor of epoch 1');
    else assert.equal(w.outcome, 'stale-config', 'r3: removed');
    assert.equal(r.store.slot(7), undefined);
  }
});

test('R3: a learner with a lost record below the entry is not caught up (not-ready, lostBelow); one lost above the entry, or at it, is no record below', () => {
  const below = replica(4);
  filled(below, 3);
  below.store.markLost(1);
  const entry = write(5, 3, [{ kind: 'config', config: cfg1 }]);
  const b = below.step(entry).reply as WriteReply;
  assert.deepEqual([b.outcome, b.learnedThrough, b.lostBelow], ['not-ready', 2, true]);
  assert.equal(below.store.slot(3), undefined);

  const above = replica(4);
  filled(above, 3);
  above.step({ type: 'learned', entries: [{ position: 5, action: nop }] });
  above.store.markLost(5);
  const a = above.step(entry).reply as WriteReply;
  assert.deepEqual([a.outcome, a.learnedThrough, a.lostBelow], ['accept', 2, false]);

  // A write at the lost position itself: not voted on, and nothing is lost below it.
  const at = replica(1);
  filled(at, 3);
  at.store.markLost(2);
  const w = at.step(write(5, 2, [nop])).reply as WriteReply;
  assert.deepEqual([w.outcome, w.lostBelow], ['ignored', false]);
});
