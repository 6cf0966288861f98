// The configuration view's building blocks (src/core/config-view.ts), stated directly: written from the
// survivors of a Stryker run over the file (issue 11; docs/testing.md, "The full run, a part at a time").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapConfiguration, extendView, oneLinkView, type ConfigView } from '../../src/core/config-view.js';
import { sameConfiguration, type PlacedConfiguration } from '../../src/core/membership.js';

test('bootstrapConfiguration: the voters in ascending order whatever order they are given (every replica builds the same configuration)', () => {
  const a = bootstrapConfiguration([3, 1, 2]);
  assert.deepEqual(a.voters.map((m) => m.id), [1, 2, 3]);
  assert.ok(sameConfiguration(a, bootstrapConfiguration([2, 3, 1])), 'configurations compare by their canonical text, voters in order');
});

test('bootstrapConfiguration: the next member id is one above the highest (ids below it are taken: a member added later gets a new one)', () => {
  assert.equal(bootstrapConfiguration([5, 2, 9]).nextId, 10);
  assert.equal(oneLinkView([1])(0).nextId, 2);
});

test('extendView: of the writer\'s own link and its owner\'s view\'s link of one epoch, the view\'s is taken (its floor is never lower); a newer own link wins above its position', () => {
  const c0 = bootstrapConfiguration([1, 2, 3]);
  const placed = (epoch: number, position: number, floor: number): PlacedConfiguration => ({ ...c0, epoch, nextId: 4, position, floor });
  // The one entry of epoch 1 at 4: chosen under the writer's ballot 3; the owner's view has it from a replica that
  // also accepted it under 5 (another proposer re-proposed it), so its floor is 5 (R6 takes the higher).
  const viewed = placed(1, 4, 5);
  const view: ConfigView = (q) => (q > 4 ? viewed : c0);
  const own = placed(1, 4, 3);
  const ext = extendView(view, [own]);
  assert.equal(ext(9), viewed, 'the same epoch: the view\'s link, floor 5');
  assert.equal(ext(4), c0, 'at or below the entry: the configuration before it');
  const newer = placed(2, 7, 6);
  const ext2 = extendView(view, [own, newer]);
  assert.equal(ext2(8), newer, 'above a newer own link: the own link');
  assert.equal(ext2(6), viewed);
});
