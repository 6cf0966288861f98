// The simulator passes every message through the real codec (src/sim/network.ts, checkWire): a core
// that made a message production could not send or would refuse fails the run at that step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssertionError } from '../../src/core/assert.js';
import { limits } from '../../src/core/constants.js';
import type { PromiseReply } from '../../src/core/types.js';
import { checkWire } from '../../src/sim/network.js';

const reply = (slots: number): PromiseReply => ({
  type: 'promiseReply', rid: 1, outcome: 'accept', proposal: 3, status: 'VOTING', begin: 0, end: slots - 1, learnedThrough: -1,
  slots: Array.from({ length: slots }, (_, p) => ({ position: p, promised: 0, accepted: 2, learned: false, action: { kind: 'nop' } as const })),
  coveredThrough: slots - 1, generation: 0, disk: 0,
});

test('checkWire: a message within the bounds passes; one the decoder refuses is an assertion', () => {
  checkWire(reply(limits.readSlotsMax));
  assert.throws(() => checkWire(reply(limits.readSlotsMax + 1)), (e: unknown) => e instanceof AssertionError && /promiseReply message the wire would refuse/.test(e.message));
  assert.throws(() => checkWire({ type: 'commit', proposal: 1, from: 0, to: 2 ** 53 - 1 }), AssertionError);
});
