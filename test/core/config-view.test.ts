// The configuration view's building blocks (src/core/config-view.ts), stated directly: written from the
// survivors of a Stryker run over the file (issue 11; docs/testing.md, "The full run, a part at a time").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapConfiguration, oneLinkView } from '../../src/core/config-view.js';
import { sameConfiguration } from '../../src/core/membership.js';

test('bootstrapConfiguration: the voters in ascending order whatever order they are given (every replica builds the same configuration)', () => {
  const a = bootstrapConfiguration([3, 1, 2]);
  assert.deepEqual(a.voters.map((m) => m.id), [1, 2, 3]);
  assert.ok(sameConfiguration(a, bootstrapConfiguration([2, 3, 1])), 'configurations compare by their canonical text, voters in order');
});

test('bootstrapConfiguration: the next member id is one above the highest (ids below it are taken: a member added later gets a new one)', () => {
  assert.equal(bootstrapConfiguration([5, 2, 9]).nextId, 10);
  assert.equal(oneLinkView([1])(0).nextId, 2);
});
