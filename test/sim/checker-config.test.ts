// The checker's configuration-aware definitions (docs/reconfiguration.md, section 8 and I1, I5 of
// section 9): chosen at q needs a quorum of config(q)'s voters under a ballot in config(q); an
// acceptance a proposer may count (its write named the disk) by a non-voter of config(q) is a violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainView, oneLinkView } from '../../src/core/config-view.js';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import { Checker } from '../../src/sim/checker.js';

const m = (id: number) => ({ id, address: `h${id}:1` });
const c0: PlacedConfiguration = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
const c1: PlacedConfiguration = { epoch: 1, voters: [m(1), m(2), m(4)], learners: [], nextId: 5, position: 5, floor: 3 };
const NEW = { epoch: 1, position: 5 };
const append = { kind: 'append' as const, data: new Uint8Array([7]) };
const named = [1, 2, 3, 4].map((id) => ({ id, generation: 0, disk: 0 }));
const disk = (id: number) => `inc-${id}/0/0`;
const checker = (q: number, view: Parameters<typeof chainView>[0] | number[]): Checker => {
  const c = new Checker(q, Array.isArray(view) && typeof view[0] === 'number' ? oneLinkView(view as number[]) : chainView(view as PlacedConfiguration[]));
  c.noteSubmitted(append);
  return c;
};

test('I1: with one configuration, a quorum of the members under one ballot is chosen, as before', () => {
  const c = checker(2, [1, 2, 3]);
  c.noteDurableAccept(1, 0, 1, append, { disk: disk(1), named });
  assert.equal(c.chosenCount, 0);
  c.noteDurableAccept(2, 0, 1, append, { disk: disk(2), named });
  assert.equal(c.chosenCount, 1);
  assert.ok(c.ok);
});

test('I1: above a configuration entry, only its voters under its ballots choose; a leftover of the older configuration is not chosen', () => {
  const c = checker(2, [c0, c1]);
  // A ballot of epoch 0 at 6 (a writer that never saw the entry at 5): a leftover.
  for (const id of [1, 2]) c.noteDurableAccept(id, 6, 2, append, { disk: disk(id), named });
  assert.equal(c.chosenCount, 0, 'a ballot of another configuration chooses nothing');
  // The same replicas under a ballot of epoch 1: chosen.
  for (const id of [1, 2]) c.noteDurableAccept(id, 6, 3, append, { disk: disk(id), named, config: NEW });
  assert.equal(c.chosenCount, 1);
  // Below the entry, epoch 0's voters choose.
  for (const id of [2, 3]) c.noteDurableAccept(id, 4, 1, append, { disk: disk(id), named });
  assert.equal(c.chosenCount, 2);
  assert.ok(c.ok, c.violations.map((v) => v.message).join('; '));
});

test('I5: a counted acceptance by a replica that is not a voter of config(q) is a violation', () => {
  const c = checker(2, [c0, c1]);
  c.noteDurableAccept(3, 6, 3, append, { disk: disk(3), named, config: NEW });
  assert.deepEqual(c.violations.map((v) => v.kind), ['counted-non-voter']);
  // Not named: an acceptance nobody counts is no violation.
  const d = checker(2, [c0, c1]);
  d.noteDurableAccept(3, 6, 3, append, { disk: disk(3), named: [], config: NEW });
  assert.ok(d.ok);
});

// Step 4: I3 (one chain), I4 (one change pending), I7 (removed stays removed).

test('I3: chains that disagree on an epoch, or skip one, are violations; prefixes of one chain are not', () => {
  const ok = checker(2, [c0, c1]);
  ok.noteChains(new Map([[1, [c0, c1]], [2, [c0]], [4, [c1]]]));
  assert.ok(ok.ok, ok.violations.map((v) => v.message).join('; '));
  const other = { ...c1, position: 7 };
  const bad = checker(2, [c0, c1]);
  bad.noteChains(new Map([[1, [c0, c1]], [2, [c0, other]]]));
  assert.deepEqual(bad.violations.map((v) => v.kind), ['chain']);
  const gap = checker(2, [c0, c1]);
  gap.noteChains(new Map([[1, [c0, { ...c1, epoch: 2 }]]]));
  assert.deepEqual(gap.violations.map((v) => v.kind), ['chain']);
});

test('I4: entries of one epoch accepted by a quorum of voters at two positions are a violation', () => {
  const entry = (nextId: number) => ({ kind: 'config' as const, config: { epoch: 1, voters: [m(1), m(2), m(4)], learners: [], nextId } });
  const c = checker(2, [1, 2, 3]);
  for (const id of [1, 2]) c.noteDurableAccept(id, 3, 1, entry(5), { disk: disk(id), named });
  assert.ok(c.ok);
  c.noteDurableAccept(2, 4, 2, entry(6), { disk: disk(2), named });
  assert.ok(c.ok, 'one acceptance is no quorum');
  c.noteDurableAccept(3, 4, 2, entry(6), { disk: disk(3), named });
  assert.ok(c.violations.some((v) => v.kind === 'config-pending'), c.violations.map((v) => v.message).join('; '));
});

test('I7: a replica accepting above the entry that removed it from its own chain is a violation', () => {
  const c = checker(2, [c0, c1]);
  // r3 is not in c1: removed at 5.
  c.noteDurableAccept(3, 5, 2, append, { disk: disk(3), named: [], chain: [c0, c1] });
  assert.ok(c.ok, 'the entry\'s own position is the old configuration\'s');
  c.noteDurableAccept(3, 6, 4, append, { disk: disk(3), named: [], chain: [c0, c1], config: NEW });
  assert.deepEqual(c.violations.map((v) => v.kind), ['removed-voted']);
});
