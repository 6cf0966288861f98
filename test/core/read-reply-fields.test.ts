// What a read reply tells a reader and a catch-up besides the slots (replica.ts, read): the pending
// TRUNCATE (the accepted, unlearned one with the highest `to` above the beginning: a reader's R14
// bound) and the stored chain exactly when the reader needs it (the beginning lies above the range
// asked, or a learned config entry is among the slots). The full mutation run of replica.ts found
// these fields unasserted (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import { replicaStep } from '../../src/core/replica.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import type { Action, PersistRecord, ReadReply } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const m = (id: number) => ({ id, address: `h${id}:1` });
const c0: PlacedConfiguration = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
const nop: Action = { kind: 'nop' };
const truncate = (to: number): Action => ({ kind: 'truncate', to });

function replica(accepted: readonly Action[], commitThrough = -1): MemoryStore {
  const store = new MemoryStore({ status: 'VOTING', promised: 1, incarnation: 'x', configs: [c0] });
  const records: PersistRecord[] = accepted.map((action, position) => ({ type: 'accept', position, proposal: 1, action }));
  store.append(records);
  if (commitThrough >= 0) store.append(replicaStep(store, { type: 'commit', proposal: 1, from: 0, to: commitThrough }, ALL_RULES_ON, { self: 1 }).records);
  store.checkInvariants();
  return store;
}

function read(store: MemoryStore, from: number, to: number): ReadReply {
  const reply = replicaStep(store, { type: 'read', rid: 1, from, to, limit: 100 }, ALL_RULES_ON, { self: 1 }).reply;
  assert.equal(reply?.type, 'readReply');
  return reply as ReadReply;
}

test('a read reply names the pending TRUNCATE with the highest target above the beginning', () => {
  // Unlearned TRUNCATEs at 2 (to 1), 4 (to 3) and 5 (to 2): the one to 3 reaches furthest.
  const r = read(replica([nop, nop, truncate(1), nop, truncate(3), truncate(2)]), 0, 5);
  assert.deepEqual(r.pendingTruncate, { position: 4, to: 3 });
});

test('of two pending TRUNCATEs with the same target, a read reply names the lower position, whatever order they were accepted in', () => {
  for (const order of [[4, 2], [2, 4]]) {
    const store = new MemoryStore({ status: 'VOTING', promised: 1, incarnation: 'x', configs: [c0] });
    store.append([0, 1, 3].map((position) => ({ type: 'accept', position, proposal: 1, action: nop })));
    store.append(order.map((position) => ({ type: 'accept', position, proposal: 1, action: truncate(2) })));
    assert.deepEqual(read(store, 0, 4).pendingTruncate, { position: 2, to: 2 }, `accepted in the order ${order}`);
  }
});

test('a TRUNCATE that moves nothing past the beginning is no pending truncation; none, no field', () => {
  assert.equal('pendingTruncate' in read(replica([nop, truncate(0)]), 0, 1), false);
  assert.equal('pendingTruncate' in read(replica([nop, nop]), 0, 1), false);
  // Learned already (begin moved to 2): nothing pending.
  const learned = replica([nop, nop, truncate(2)], 2);
  assert.equal(learned.begin(), 2);
  assert.equal('pendingTruncate' in read(learned, 2, 2), false);
});

test('the chain comes with a reply whose beginning lies above the range asked, and only then', () => {
  const store = replica([nop, nop, truncate(2), nop], 3);
  assert.equal(store.begin(), 2);
  assert.deepEqual(read(store, 0, 3).chain, [c0], 'begin 2 above from 0');
  assert.equal('chain' in read(store, 2, 3), false, 'from at the beginning, no config entry among the slots');
  assert.equal('chain' in read(store, 3, 3), false);
});

test('the chain comes with a reply holding a learned config entry, not with an unlearned one', () => {
  const move: Action = { kind: 'config', config: { epoch: 1, voters: [m(1), m(2), m(4)], learners: [], nextId: 5 } };
  const learned = replica([nop, move], 1);
  const chain = read(learned, 0, 1).chain;
  assert.ok(chain !== undefined && chain.length === 2, `the chain with the learned entry: ${JSON.stringify(chain)}`);
  assert.equal('chain' in read(replica([nop, move]), 0, 1), false, 'the entry is only accepted');
});
