// A safety rule switched off (src/core/rules.ts, for tests only) must remove exactly that rule and
// nothing more, so that test/sim/rule-switch.test.ts shows what the rule prevents and not some other
// breakage. strictPromise off: a promise equal to the one in force is granted (one number, two
// proposers: the violation the simulator must find), a lower one is still refused, implicit or explicit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { PromiseReply } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const loose: SafetyRules = { ...ALL_RULES_ON, strictPromise: false };

function step(store: MemoryStore, msg: AcceptorMessage, rules: SafetyRules) {
  const s = replicaStep(store, msg, rules);
  store.append(s.records);
  return s.reply as PromiseReply;
}
const voting = () => new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'x' });
const outcome = (r: PromiseReply) => [r.outcome, r.proposal];

test('strictPromise off, implicit promise: an equal number is granted again, a lower one refused, a higher one granted', () => {
  for (const rules of [ALL_RULES_ON, loose]) {
    const r = voting();
    assert.deepEqual(outcome(step(r, { type: 'promise', rid: 1, proposal: 5, nonce: 11 }, rules)), ['accept', 5]);
    const equal = step(r, { type: 'promise', rid: 2, proposal: 5, nonce: 22 }, rules);
    assert.deepEqual(outcome(equal), rules.strictPromise ? ['reject', 5] : ['accept', 5]);
    assert.deepEqual(outcome(step(r, { type: 'promise', rid: 3, proposal: 4, nonce: 33 }, rules)), ['reject', 5]);
    assert.deepEqual(outcome(step(r, { type: 'promise', rid: 4, proposal: 6, nonce: 44 }, rules)), ['accept', 6]);
  }
});

test('strictPromise off, explicit promise: an equal number is granted again, a lower one refused, a higher one granted', () => {
  for (const rules of [ALL_RULES_ON, loose]) {
    const r = voting();
    assert.deepEqual(outcome(step(r, { type: 'promise', rid: 1, proposal: 5, from: 0, to: 1 }, rules)), ['accept', 5]);
    const equal = step(r, { type: 'promise', rid: 2, proposal: 5, from: 0, to: 1 }, rules);
    assert.deepEqual(outcome(equal), rules.strictPromise ? ['reject', 5] : ['accept', 5]);
    assert.deepEqual(outcome(step(r, { type: 'promise', rid: 3, proposal: 4, from: 1, to: 1 }, rules)), ['reject', 5]);
    assert.deepEqual(outcome(step(r, { type: 'promise', rid: 4, proposal: 6, from: 0, to: 1 }, rules)), ['accept', 6]);
  }
});
