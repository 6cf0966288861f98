// A learned copy of a config entry (replica.ts, learned): taken with the higher of the floor its teller
// names and the ballot this replica accepted the same entry under; a copy naming no floor of an entry
// this replica never accepted is held back (attack5-weak-floor), and only that entry: the rest of the
// copy is learned. The full mutation run of replica.ts found both halves unasserted (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import { replicaStep } from '../../src/core/replica.js';
import type { Action, PersistRecord } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const m = (id: number) => ({ id, address: `h${id}:1` });
const c0: PlacedConfiguration = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
const config = { epoch: 1, voters: [m(1), m(2), m(4)], learners: [], nextId: 5 };
const move: Action = { kind: 'config', config };
const a: Action = { kind: 'append', data: new TextEncoder().encode('a') };

function replica(accepted: readonly PersistRecord[] = []): MemoryStore {
  const store = new MemoryStore({ status: 'VOTING', promised: 3, incarnation: 'x', configs: [c0] });
  store.append(accepted);
  return store;
}

test('a copy naming no floor of an entry this replica accepted is taken, floored at its own acceptance', () => {
  const store = replica([
    { type: 'accept', position: 0, proposal: 3, action: a },
    { type: 'accept', position: 1, proposal: 3, action: move },
  ]);
  const step = replicaStep(store, { type: 'learned', entries: [{ position: 0, action: a }, { position: 1, action: move }] }, undefined, { self: 1 });
  const meta = step.records.find((r) => r.type === 'metadata');
  assert.ok(meta !== undefined && meta.type === 'metadata', `the chain is extended: ${JSON.stringify(step.records.map((r) => r.type))}`);
  assert.deepEqual(meta.metadata.configs, [c0, { ...config, position: 1, floor: 3 }]);
  assert.deepEqual(step.records.filter((r) => r.type === 'learn').map((r) => r.type === 'learn' && r.position), [0, 1]);
});

test('a copy naming no floor of an entry this replica never accepted holds back that entry only', () => {
  const step = replicaStep(replica(), { type: 'learned', entries: [{ position: 0, action: a }, { position: 1, action: move }] }, undefined, { self: 1 });
  assert.deepEqual(step.records, [{ type: 'learn', position: 0, action: a }]);
  // Named, it is taken with that floor.
  const named = replicaStep(replica(), { type: 'learned', entries: [{ position: 1, action: move }], floors: [{ position: 1, floor: 7 }] }, undefined, { self: 1 });
  const meta = named.records.find((r) => r.type === 'metadata');
  assert.ok(meta !== undefined && meta.type === 'metadata');
  assert.deepEqual(meta.metadata.configs, [c0, { ...config, position: 1, floor: 7 }]);
});
