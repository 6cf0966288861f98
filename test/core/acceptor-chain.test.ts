// The acceptor's chain functions (src/core/acceptor-chain.ts) stated directly: how learned links extend a
// chain, and which acceptance may serve as a config entry's floor. Written from the survivors of a Stryker
// run over the file (docs/testing.md); each test names what it protects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainHead, chainOf, extendChain, holdsHead, ownAcceptance, truncationCovered, type LearnedLink } from '../../src/core/acceptor-chain.js';
import type { Configuration, PlacedConfiguration } from '../../src/core/membership.js';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { config0, member } from './reconfig-harness.js';

const c0 = config0([1, 2, 3], [4]);
const cfg = (epoch: number, voters: number[]): Configuration => ({ epoch, voters: voters.map(member), learners: [], nextId: 5 });
const link = (epoch: number, position: number, voters = [1, 2, 4]): LearnedLink => ({ position, config: cfg(epoch, voters), floor: 7 });

test('extendChain: nothing to add gives back the very chain (callers skip the metadata write by identity)', () => {
  const chain = [c0];
  assert.equal(extendChain(chain, []), chain);
  assert.equal(extendChain(chain, [link(2, 9)]), chain, 'a link that is not the next one adds nothing');
});

test('extendChain: links are chained in epoch order whatever order they come in, each above the previous head', () => {
  const out = extendChain([c0], [link(2, 9), link(1, 4)]);
  assert.deepEqual(out?.map((c) => [c.epoch, c.position, c.floor]), [[0, -1, 0], [1, 4, 7], [2, 9, 7]]);
});

test('extendChain: a next-epoch link at or below the head position is not chained', () => {
  const chain = extendChain([c0], [link(1, 4)])!;
  assert.equal(extendChain(chain, [link(2, 4)]), chain, 'at the head position');
  assert.equal(extendChain(chain, [link(2, 3)]), chain, 'below it');
});

test('extendChain: without a chain, only epoch 1 can start one', () => {
  assert.equal(extendChain(undefined, [link(2, 9)]), undefined);
  assert.deepEqual(extendChain(undefined, [link(2, 9), link(1, 4)])?.map((c) => c.epoch), [1, 2]);
});

function acceptor(): { store: MemoryStore; step: (m: AcceptorMessage) => void } {
  const store = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'i4', configs: [c0] });
  return { store, step: (m) => void store.append(replicaStep(store, m, undefined, { self: 4 }).records) };
}

test('ownAcceptance: the ballot this replica accepted that very entry under, ballot 1 included; another configuration of the same epoch is not it', () => {
  const { store, step } = acceptor();
  step({ type: 'learned', entries: [{ position: 0, action: { kind: 'nop' } }] });
  step({ type: 'write', rid: 1, proposal: 1, from: 1, actions: [{ kind: 'config', config: cfg(1, [1, 2, 4]) }], named: [], config: { epoch: 0, position: -1 } });
  assert.equal(store.slot(1)?.accepted, 1, 'the joint write was accepted');
  assert.equal(ownAcceptance(store, 1, cfg(1, [1, 2, 4])), 1);
  assert.equal(ownAcceptance(store, 1, cfg(1, [1, 3, 4])), undefined, 'a competing entry of the same epoch');
  assert.equal(ownAcceptance(store, 0, cfg(1, [1, 2, 4])), undefined, 'a position holding another kind of value');
  assert.equal(ownAcceptance(store, 2, cfg(1, [1, 2, 4])), undefined, 'a position holding nothing');
});

// The contracts below are stated on the functions: through the replica, several of their cases are reached
// only by states R14 keeps out (a chain that starts above the configuration governing a position it still
// holds), or by a replica built without any configuration (tests): the functions answer for them all the same.
const placedAt = (epoch: number, position: number): PlacedConfiguration => ({ ...cfg(epoch, [1, 2, 4]), position, floor: 7 });

test('chainOf: a replica that stores no chain holds its bootstrap configuration (a directory written before reconfiguration), else none', () => {
  const meta = { status: 'VOTING' as const, promised: 0, incarnation: 'x' };
  assert.deepEqual(chainOf(meta, c0), [c0]);
  assert.deepEqual(chainOf({ ...meta, configs: [] }, c0), [c0], 'an empty stored chain is none');
  assert.equal(chainOf(meta, undefined), undefined);
  const stored = [c0, placedAt(1, 4)];
  assert.equal(chainOf({ ...meta, configs: stored }, c0), stored, 'a stored chain wins');
});

test('chainHead: no chain reads as the bootstrap head (epoch 0 at -1)', () => {
  assert.deepEqual(chainHead(undefined), { epoch: 0, position: -1 });
  assert.deepEqual(chainHead([c0, placedAt(1, 4)]), { epoch: 1, position: 4 });
});

test('holdsHead: a head older than the chain\'s first link is held (the chain starts at config(begin)); without a chain only the bootstrap head', () => {
  const chain = [placedAt(2, 9), placedAt(3, 12)];
  assert.equal(holdsHead(chain, { epoch: 1, position: 4 }), true, 'below what the chain reaches');
  assert.equal(holdsHead(chain, { epoch: 3, position: 12 }), true);
  assert.equal(holdsHead(chain, { epoch: 3, position: 13 }), false, 'another entry of a held epoch');
  assert.equal(holdsHead(chain, { epoch: 4, position: 20 }), false, 'above the head');
  assert.equal(holdsHead(undefined, { epoch: 0, position: -1 }), true);
  assert.equal(holdsHead(undefined, { epoch: 1, position: 4 }), false);
});

test('truncationCovered: a TRUNCATE that does not move the beginning is covered, whatever head it names', () => {
  // The chain reaches only -1; the head named is not held, and an unchained entry lies below `to`: covered all the same.
  assert.equal(truncationCovered(10, [c0], 5, { epoch: 1, position: 3 }, [3]), true);
  assert.equal(truncationCovered(10, [c0], 10, undefined, [3]), true, 'to at the beginning itself');
  // Past the beginning the same TRUNCATE is not covered.
  assert.equal(truncationCovered(4, [c0], 5, { epoch: 1, position: 3 }, [3]), false);
  assert.equal(truncationCovered(4, [c0], 5, undefined, [3]), false);
});
