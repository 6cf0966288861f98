// A config entry learned but not in the stored chain ("held back", acceptor-chain.ts heldBackLinks) is chained
// only by a step that brings a link (an install, a commit or a copy of a config entry), never by a step that
// learns none: the one floor the replica has for it is the ballot its slot was accepted under, and that may be
// another value's. Held-back entries come from commits (learned under the ballot that chose them), but also
// from a damaged open: FileStore keeps the last intact metadata (stored-config.ts, recoveringMetadata), whose
// chain may be older than the config entries the records after it learned from copies. Here a copy taught the
// entry at 2 with floor 7 over an append the replica had accepted there under 3; the metadata record that
// chained it is lost. A TRUNCATE past it waits (R14) until a link brings the entry again with its floor.
// Found by an adversarial review of a change that chained held-back entries eagerly (reverted, docs/testing.md);
// each test fails with replica.ts's `links.length === 0` made false in `learned` and in `truncationCut`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainOf } from '../../src/core/acceptor-chain.js';
import type { Configuration } from '../../src/core/membership.js';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import type { Action } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { recoveringMetadata } from '../../src/storage/stored-config.js';
import { config0, member } from './reconfig-harness.js';

const c0 = config0([1, 2, 3]);
const e1: Configuration = { epoch: 1, voters: [1, 2, 3].map(member), learners: [], nextId: 4 };
const truncateTo4: Action = { kind: 'truncate', to: 4, config: { epoch: 1, position: 2 } };

/** The replica after the damaged open: the entry at 2 learned, its link lost, a TRUNCATE to 4 accepted under 9. */
function damaged(): MemoryStore {
  const store = new MemoryStore();
  store.append([{ type: 'metadata', metadata: { status: 'VOTING', promised: 0, incarnation: 'i1', configs: [c0] } }]);
  const step = (m: AcceptorMessage) => void store.append(replicaStep(store, m, undefined, { self: 1 }).records);
  step({ type: 'write', rid: 1, proposal: 3, from: 2, actions: [{ kind: 'append', data: new Uint8Array([7]) }], named: [], config: { epoch: 0, position: -1 } });
  step({ type: 'learned', entries: [{ position: 2, action: { kind: 'config', config: e1 } }], floors: [{ position: 2, floor: 7 }] });
  assert.deepEqual(store.metadata().configs?.map((c) => [c.epoch, c.floor]), [[0, 0], [1, 7]], 'chained with the copy\'s floor');
  step({ type: 'write', rid: 2, proposal: 9, from: 4, actions: [truncateTo4], named: [], config: { epoch: 1, position: 2 } });
  assert.equal(store.slot(4)?.accepted, 9);
  // The metadata record that chained the entry is lost; the records after it are read on.
  const kept = store.records.filter((r) => !(r.type === 'metadata' && (r.metadata.configs?.length ?? 0) > 1));
  const after = MemoryStore.replay(kept);
  after.append([{ type: 'metadata', metadata: recoveringMetadata(after.metadata()) }]);
  assert.deepEqual(chainOf(after.metadata(), undefined)?.map((c) => c.epoch), [0]);
  assert.deepEqual([after.slot(2)?.learned, after.slot(2)?.accepted], [true, 3], 'learned, over another value\'s ballot');
  return after;
}

test('held back after a damaged open: a learned TRUNCATE past the unchained entry is not taken, and the chain is not extended by it', () => {
  const step = replicaStep(damaged(), { type: 'learned', entries: [{ position: 4, action: truncateTo4 }] }, undefined, { self: 1 });
  assert.deepEqual(step.records, [], 'the TRUNCATE waits for the chain');
});

test('held back after a damaged open: a commit stops before a TRUNCATE past the unchained entry', () => {
  const step = replicaStep(damaged(), { type: 'commit', proposal: 9, from: 4, to: 4 }, undefined, { self: 1 });
  assert.deepEqual(step.records, [], 'the TRUNCATE waits for the chain');
});
