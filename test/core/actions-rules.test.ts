// Issue 11 (mutation testing of src/core/actions.ts): the small helpers over actions, one rule each:
// equality per kind (a tombstone equals any NOP; a TRUNCATE by its `to`; an APPEND byte for byte; a config
// entry by its configuration), the entry bytes an action counts, and how actions are described in messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionBytes, actionsEqual, bytesEqual, describeAction, NOP, TOMBSTONE } from '../../src/core/actions.js';
import type { Configuration } from '../../src/core/membership.js';
import type { Action } from '../../src/core/types.js';

const bytes = (...xs: number[]) => new Uint8Array(xs);
const append = (...xs: number[]): Action => ({ kind: 'append', data: bytes(...xs) });
const config: Configuration = { epoch: 1, voters: [{ id: 1, address: 'h1:1' }], learners: [], nextId: 2 };
const kinds: Action[] = [NOP, { kind: 'truncate', to: 3 }, append(1), { kind: 'config', config }];

test('NOP and TOMBSTONE are frozen NOPs; only TOMBSTONE marks a truncated position', () => {
  assert.deepEqual(NOP, { kind: 'nop' });
  assert.deepEqual(TOMBSTONE, { kind: 'nop', tombstone: true });
  assert.ok(Object.isFrozen(NOP) && Object.isFrozen(TOMBSTONE));
});

test('actions of different kinds are never equal', () => {
  for (const a of kinds) for (const b of kinds) assert.equal(actionsEqual(a, b), a === b, `${describeAction(a)} vs ${describeAction(b)}`);
});

test('a tombstone equals any NOP, both ways', () => {
  assert.equal(actionsEqual(TOMBSTONE, NOP), true);
  assert.equal(actionsEqual(NOP, TOMBSTONE), true);
  assert.equal(actionsEqual({ kind: 'nop' }, NOP), true);
});

test('TRUNCATEs are equal iff they truncate to the same position', () => {
  assert.equal(actionsEqual({ kind: 'truncate', to: 3 }, { kind: 'truncate', to: 3 }), true);
  assert.equal(actionsEqual({ kind: 'truncate', to: 3 }, { kind: 'truncate', to: 4 }), false);
});

test('APPENDs are equal iff their bytes are', () => {
  assert.equal(actionsEqual(append(1, 2, 3), append(1, 2, 3)), true);
  assert.equal(actionsEqual(append(1, 2, 3), append(1, 2, 4)), false);
  assert.equal(actionsEqual(append(), append()), true);
});

test('config entries are equal iff their configurations are', () => {
  assert.equal(actionsEqual({ kind: 'config', config }, { kind: 'config', config: { ...config } }), true);
  assert.equal(actionsEqual({ kind: 'config', config }, { kind: 'config', config: { ...config, nextId: 3 } }), false);
});

test('bytes are equal iff the lengths and every byte are, the first and the last included', () => {
  assert.equal(bytesEqual(bytes(), bytes()), true);
  assert.equal(bytesEqual(bytes(1, 2, 3), bytes(1, 2, 3)), true);
  assert.equal(bytesEqual(bytes(1, 2, 3), bytes(1, 2)), false, 'a prefix');
  assert.equal(bytesEqual(bytes(1, 2), bytes(1, 2, 3)), false);
  assert.equal(bytesEqual(bytes(0, 2, 3), bytes(1, 2, 3)), false);
  assert.equal(bytesEqual(bytes(1, 2, 3), bytes(1, 2, 4)), false);
});

test("entry bytes: an APPEND's data length; nothing else counts", () => {
  assert.equal(actionBytes(append(1, 2, 3)), 3);
  assert.equal(actionBytes(append()), 0);
  assert.equal(actionBytes(NOP), 0);
  assert.equal(actionBytes({ kind: 'truncate', to: 9 }), 0);
  assert.equal(actionBytes({ kind: 'config', config }), 0);
});

test('each kind is described by name, with what tells one from another', () => {
  assert.equal(describeAction(NOP), 'NOP');
  assert.equal(describeAction(TOMBSTONE), 'NOP(tombstone)');
  assert.equal(describeAction({ kind: 'truncate', to: 7 }), 'TRUNCATE(7)');
  assert.equal(describeAction(append(1, 2, 3)), 'APPEND(3B)');
  assert.equal(describeAction({ kind: 'config', config }), 'CONFIG(epoch 1)');
});
