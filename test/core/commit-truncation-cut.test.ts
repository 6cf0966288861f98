// R14 on the commit path (replica.ts, truncationCut): a commit that would teach a TRUNCATE past a config
// entry this replica holds unlearned and out of its chain is cut just below the TRUNCATE, so `begin`
// never passes a position whose governing configuration the replica has not learned. The learned path
// has its own test (attack5-truncate-past-entry); these state the commit's, which the full mutation run
// of replica.ts found untested (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import { replicaStep } from '../../src/core/replica.js';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { Action, PersistRecord } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const m = (id: number) => ({ id, address: `h${id}:1` });
const c0: PlacedConfiguration = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
const move: Action = { kind: 'config', config: { epoch: 1, voters: [m(1), m(2), m(4)], learners: [], nextId: 5 } };
const append = (s: string): Action => ({ kind: 'append', data: new TextEncoder().encode(s) });

/**
 * r1 (chain [C0]) accepted a config entry at 3 under proposal 1 (a change whose writer died), then, under
 * proposal 2, 'x' at 4 and TRUNCATE(to 5) at 5; the new writer's value at 3 never reached it.
 */
function replicaWithPendingEntryBelowTruncate(truncateTo = 5): MemoryStore {
  return accepting([3, 1, move], [4, 2, append('x')], [5, 2, { kind: 'truncate', to: truncateTo }]);
}

/** A replica (chain [C0], promised 2) that accepted each [position, proposal, action] given. */
function accepting(...accepted: readonly (readonly [number, number, Action])[]): MemoryStore {
  const store = new MemoryStore({ status: 'VOTING', promised: 2, incarnation: 'x', configs: [c0] });
  store.append(accepted.map(([position, proposal, action]) => ({ type: 'accept', position, proposal, action })));
  store.checkInvariants();
  return store;
}

function commit(store: MemoryStore, from: number, to: number, rules: SafetyRules = ALL_RULES_ON): readonly PersistRecord[] {
  return replicaStep(store, { type: 'commit', proposal: 2, from, to }, rules, { self: 1 }).records;
}

test('R14 commit: a commit teaching a TRUNCATE past an unchained config entry stops just below the TRUNCATE', () => {
  const store = replicaWithPendingEntryBelowTruncate();
  assert.deepEqual(commit(store, 3, 5), [{ type: 'commit', from: 3, to: 4, proposal: 2 }]);
});

test('R14 commit: a commit from above the TRUNCATE, or a TRUNCATE that reaches no unchained entry, is not cut', () => {
  // The TRUNCATE at 5 only to 3: nothing governed by the entry at 3 is dropped.
  assert.deepEqual(commit(replicaWithPendingEntryBelowTruncate(3), 3, 5), [{ type: 'commit', from: 3, to: 5, proposal: 2 }]);
  // A commit of [4, 4] teaches no TRUNCATE.
  assert.deepEqual(commit(replicaWithPendingEntryBelowTruncate(), 4, 4), [{ type: 'commit', from: 4, to: 4, proposal: 2 }]);
});

test('chainBeforeTruncate: off, the commit teaches the TRUNCATE past the unchained entry', () => {
  const store = replicaWithPendingEntryBelowTruncate();
  assert.deepEqual(commit(store, 3, 5, { ...ALL_RULES_ON, chainBeforeTruncate: false }), [{ type: 'commit', from: 3, to: 5, proposal: 2 }]);
});

test('R14 commit: a TRUNCATE the commit does not teach (accepted under another proposal) cuts nothing', () => {
  const store = accepting([3, 1, move], [4, 2, append('x')], [5, 1, { kind: 'truncate', to: 5 }], [6, 2, append('y')]);
  assert.deepEqual(commit(store, 3, 6), [{ type: 'commit', from: 3, to: 6, proposal: 2 }]);
});

test('R14 commit: a config entry this replica accepted under another proposal is not chained by the commit', () => {
  // The commit under 2 chose 2's value at 3, which this replica never saw: its entry under 1 may differ.
  const store = accepting([3, 1, move], [4, 2, append('x')]);
  assert.deepEqual(commit(store, 3, 4), [{ type: 'commit', from: 3, to: 4, proposal: 2 }]);
  // Accepted under 2 itself, it is chained first, floored at 2.
  const own = accepting([3, 2, move]);
  const records = commit(own, 3, 3);
  assert.equal(records[0]?.type, 'metadata');
  assert.deepEqual(records[0]?.type === 'metadata' && records[0].metadata.configs, [c0, { ...(move as { config: object }).config, position: 3, floor: 2 }]);
  assert.deepEqual(records[1], { type: 'commit', from: 3, to: 3, proposal: 2 });
});

test('R14 commit: of two TRUNCATEs past the unchained entry, the commit stops below the first', () => {
  const store = accepting([3, 1, move], [4, 2, append('x')], [5, 2, { kind: 'truncate', to: 5 }], [6, 2, append('y')], [7, 2, { kind: 'truncate', to: 6 }]);
  assert.deepEqual(commit(store, 3, 7), [{ type: 'commit', from: 3, to: 4, proposal: 2 }]);
});

test('R14 commit: an entry whose predecessor is not chained is learned without a metadata record (held back)', () => {
  const later: Action = { kind: 'config', config: { epoch: 2, voters: [m(1), m(2), m(4)], learners: [], nextId: 5 } };
  const store = accepting([3, 2, later]);
  assert.deepEqual(commit(store, 3, 3), [{ type: 'commit', from: 3, to: 3, proposal: 2 }]);
});

test('R14 commit: a TRUNCATE below the commit\'s range cuts nothing; a commit from the TRUNCATE itself is cut to nothing', () => {
  // The commit of [6, 6] does not teach the TRUNCATE at 5, whatever it would remove.
  const store = accepting([3, 1, move], [4, 2, append('x')], [5, 2, { kind: 'truncate', to: 5 }], [6, 2, append('y')]);
  assert.deepEqual(commit(store, 6, 6), [{ type: 'commit', from: 6, to: 6, proposal: 2 }]);
  // The commit of [5, 5] would: it stops just below 5, so it teaches nothing.
  assert.deepEqual(commit(replicaWithPendingEntryBelowTruncate(), 5, 5), []);
});

test('R14 commit: TRUNCATEs are checked in position order, not in the order they were accepted', () => {
  // The TRUNCATE at 7 was accepted before the one at 5: the commit still stops below 5, the first it would teach.
  const store = accepting([3, 1, move], [4, 2, append('x')], [7, 2, { kind: 'truncate', to: 6 }], [5, 2, { kind: 'truncate', to: 5 }], [6, 2, append('y')]);
  assert.deepEqual(commit(store, 3, 7), [{ type: 'commit', from: 3, to: 4, proposal: 2 }]);
});

test('R14 commit: the config entries a commit teaches below the TRUNCATE count for it; one above the commit\'s range does not', () => {
  // The entry at 3 accepted under the commit's own proposal: the commit chains it, so the TRUNCATE past it is taught.
  const own = accepting([3, 2, move], [4, 2, append('x')], [5, 2, { kind: 'truncate', to: 5 }]);
  const records = commit(own, 3, 5);
  assert.deepEqual(records.map((r) => r.type), ['metadata', 'commit']);
  assert.deepEqual(records[1], { type: 'commit', from: 3, to: 5, proposal: 2 });
  // An epoch-1 entry at 6 under 2 is not taught by a commit of [3, 5] (it may never be chosen): the cut stays.
  const later = accepting([3, 1, move], [4, 2, append('x')], [5, 2, { kind: 'truncate', to: 5 }], [6, 2, move]);
  assert.deepEqual(commit(later, 3, 5), [{ type: 'commit', from: 3, to: 4, proposal: 2 }]);
});

test('R14 commit: a commit chains only the config entries in its range (one below it, under the same proposal, is not taught)', () => {
  const store = accepting([3, 2, move], [4, 2, append('x')]);
  assert.deepEqual(commit(store, 4, 4), [{ type: 'commit', from: 4, to: 4, proposal: 2 }]);
});
