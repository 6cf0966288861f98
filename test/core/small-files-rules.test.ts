// Issue 11 (mutation testing of the small files of src/core): one rule each of invariants.ts (the delta
// checker and StepInvariants), liveness.ts (who answered within the window), recent-map.ts (maps bounded by
// recency), errors.ts (what a write error carries) and assert.ts (assertions, natural numbers). The rules the
// existing tests left unstated; constants.ts, rules.ts and errors.ts's set of retriable codes run only at load
// (Stryker's static mutants) and store.ts, types.ts, writer-types.ts hold types only (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssertionError, assert as check, assertNat, assertNever, isNat } from '../../src/core/assert.js';
import { AbortedError, NoQuorumError, TimeoutError, WriteFailureError, WriterFencedError } from '../../src/core/errors.js';
import { AcceptorInvariants, StepInvariants } from '../../src/core/invariants.js';
import { timing } from '../../src/core/constants.js';
import { Liveness } from '../../src/core/liveness.js';
import { keepRecent } from '../../src/core/recent-map.js';
import { HandStore } from './hand-store.js';
import type { Action, PersistRecord } from '../../src/core/types.js';

// ------------------------------------------------------------------ invariants.ts

const data = (b: number): Action => ({ kind: 'append', data: new Uint8Array([b]) });

const accept = (position: number, action: Action = { kind: 'nop' }): PersistRecord => ({ type: 'accept', position, proposal: 9, action });

test('invariants: a new generation alone (the same disk number) is a new acceptor, whose promise starts afresh', () => {
  const s = new HandStore();
  s.meta = { ...s.meta, generation: 1, disk: 5 };
  const inv = new AcceptorInvariants(s.view(), 'r1');
  inv.around([], () => (s.meta = { ...s.meta, generation: 2, promised: 0 }));
});

test('invariants: a new disk number alone (the same generation) is a new acceptor, whose promise starts afresh', () => {
  const s = new HandStore();
  s.meta = { ...s.meta, generation: 1, disk: 5 };
  const inv = new AcceptorInvariants(s.view(), 'r1');
  inv.around([], () => (s.meta = { ...s.meta, disk: 6, promised: 0 }));
});

test('invariants: a learn record may not change the action learned at its position', () => {
  const s = new HandStore();
  const inv = new AcceptorInvariants(s.view(), 'r1');
  const learn: PersistRecord[] = [{ type: 'learn', position: 4, action: { kind: 'nop' } }];
  assert.throws(() => inv.around(learn, () => s.learned.set(4, { kind: 'nop' })), /r1: learned .* at 4 became NOP/);
});

test('invariants: a learned position at the very beginning keeps its action', () => {
  const s = new HandStore();
  s.first = 4;
  const inv = new AcceptorInvariants(s.view(), 'r1');
  assert.throws(() => inv.around([accept(4)], () => s.learned.set(4, { kind: 'nop' })), /learned .* at 4 became NOP/);
});

test('invariants: a position the step cuts below the new beginning is gone, which is no change of value', () => {
  const s = new HandStore();
  const inv = new AcceptorInvariants(s.view(), 'r1');
  inv.around([accept(4)], () => {
    s.first = 5;
    s.learned.delete(4);
  });
});

test('invariants: a position below the beginning before the step is not compared, whatever the store still says of it', () => {
  const s = new HandStore();
  s.first = 6;
  const inv = new AcceptorInvariants(s.view(), 'r1');
  // A new disk (a rejoin) starts again at 0; the stale answer for position 4 is gone.
  inv.around([accept(4)], () => {
    s.meta = { ...s.meta, generation: 1, disk: 9, promised: 0, recorded: {} };
    s.first = 0;
    s.learned.delete(4);
  });
});

test('invariants: an accepted value not learned may change (a higher proposal re-accepts the position)', () => {
  const s = new HandStore();
  s.accepted.set(7, data(2));
  const inv = new AcceptorInvariants(s.view(), 'r1');
  inv.around([accept(7)], () => s.accepted.set(7, { kind: 'nop' }));
});

test('invariants: the disk recorded for a member may stay the same; losing it is going back, named "none"', () => {
  const s = new HandStore();
  const inv = new AcceptorInvariants(s.view(), 'r1');
  inv.around([accept(8)], () => s.accepted.set(8, { kind: 'nop' }));
  assert.throws(
    () => inv.around([accept(8)], () => (s.meta = { ...s.meta, recorded: {} })),
    (e: unknown) => e instanceof AssertionError && /recorded for member 2 went back from generation 3 to none/.test(e.message),
  );
});

test('invariants: a recorded disk going back names the older generation it went back to', () => {
  const s = new HandStore();
  const inv = new AcceptorInvariants(s.view(), 'r1');
  assert.throws(
    () => inv.around([accept(8)], () => (s.meta = { ...s.meta, recorded: { 2: { generation: 2, disk: 1 } } })),
    /went back from generation 3 to 2$/,
  );
});

test('StepInvariants: the step is applied, and a violation within it is caught', () => {
  const s = new HandStore();
  const steps = new StepInvariants('r1');
  let applied = 0;
  steps.around(s.view(), [accept(8)], () => applied++);
  assert.equal(applied, 1);
  assert.throws(() => steps.around(s.view(), [accept(8)], () => (s.highest = 4)), /r1: highest proposal went back/);
});

test('StepInvariants: a step that writes no record is applied and not checked (only records change an acceptor)', () => {
  const s = new HandStore();
  const steps = new StepInvariants('r1');
  let applied = 0;
  steps.around(s.view(), [], () => {
    applied++;
    s.highest = 4;
  });
  assert.equal(applied, 1);
});

test('StepInvariants: one store is checked across steps: a change between two steps is caught at the next', () => {
  const s = new HandStore();
  const view = s.view();
  const steps = new StepInvariants('r1');
  steps.around(view, [accept(8)], () => {});
  s.meta = { ...s.meta, promised: 4 };
  assert.throws(() => steps.around(view, [accept(8)], () => {}), /promise went back from 5 to 4/);
});

test('StepInvariants: a store it has not seen (replaced by a crash) is checked against its own state', () => {
  const a = new HandStore();
  const steps = new StepInvariants('r1');
  steps.around(a.view(), [accept(8)], () => {});
  const b = new HandStore();
  b.meta = { ...b.meta, promised: 3 };
  steps.around(b.view(), [accept(8)], () => {});
  assert.throws(() => steps.around(b.view(), [accept(8)], () => (b.meta = { ...b.meta, promised: 2 })), /promise went back from 3 to 2/);
});

test('StepInvariants: after reset (a new process on the same disk) what the disk holds is the new baseline', () => {
  const s = new HandStore();
  const view = s.view();
  const steps = new StepInvariants('r1');
  steps.around(view, [accept(8)], () => {});
  // Records that were never durable are gone after the restart: no step, no violation.
  s.meta = { ...s.meta, promised: 4 };
  steps.reset();
  steps.around(view, [accept(8)], () => {});
});

// ------------------------------------------------------------------ liveness.ts

test('liveness: a member counts as heard for strictly less than the window (operationTimeoutMs by default)', () => {
  const l = new Liveness(2);
  l.heard(1, 1000);
  l.heard(2, 1000);
  assert.equal(l.quorumHeard(1000 + timing.operationTimeoutMs - 1), true);
  assert.equal(l.quorumHeard(1000 + timing.operationTimeoutMs), false);
  assert.equal(l.quorumHeard(1099, 100), true);
  assert.equal(l.quorumHeard(1100, 100), false);
  assert.equal(l.heardOf([1, 2], 1000 + timing.operationTimeoutMs - 1), 2);
  assert.equal(l.heardOf([1, 2], 1000 + timing.operationTimeoutMs), 0);
  assert.equal(l.heardOf([1, 2], 1099, 100), 2);
  assert.equal(l.heardOf([1, 2], 1100, 100), 0);
});

test('liveness: heardOf counts only the named members heard within the window, never one never heard', () => {
  const l = new Liveness(2);
  l.heard(1, 0);
  l.heard(2, 50);
  l.heard(3, 90);
  assert.equal(l.heardOf([1, 2, 4], 100, 60), 1);
  assert.equal(l.heardOf([2, 3], 100, 60), 2);
  assert.equal(l.heardOf([4, 5], 100), 0);
});

test('liveness: a member never heard counts as heard when first expected, so it has a full window to answer', () => {
  const l = new Liveness(2);
  l.heard(1, 0);
  l.expect([1, 2], 500);
  assert.equal(l.heardOf([2], 500 + 99, 100), 1);
  assert.equal(l.heardOf([2], 500 + 100, 100), 0);
  // A member already heard keeps when it was heard: expecting it is no answer.
  assert.equal(l.heardOf([1], 500, 100), 0);
  assert.equal(l.quorumHeard(550, 100), false);
});

// ------------------------------------------------------------------ recent-map.ts

const at = (t: number): { at: number } => ({ at: t });

test('keepRecent: a bounded map holds at least one entry', () => {
  assert.throws(() => keepRecent(new Map(), 1, at(0), 0), AssertionError);
  const m = new Map<number, { at: number }>();
  keepRecent(m, 1, at(0), 1);
  keepRecent(m, 2, at(1), 1);
  assert.deepEqual([...m.keys()], [2]);
});

test('keepRecent: below the bound nothing makes room; at the bound the entry heard from longest ago does, not the first set', () => {
  const m = new Map<number, { at: number }>();
  keepRecent(m, 1, at(30), 3);
  keepRecent(m, 2, at(10), 3);
  keepRecent(m, 3, at(20), 3);
  assert.deepEqual([...m.keys()], [1, 2, 3]);
  keepRecent(m, 4, at(40), 3);
  assert.deepEqual([...m.keys()].sort(), [1, 3, 4]);
  assert.equal(m.size, 3);
});

test('keepRecent: a key already held is updated in place, making no room even when the map is full', () => {
  const m = new Map<number, { at: number }>([[1, at(1)], [2, at(2)]]);
  keepRecent(m, 2, at(9), 2);
  assert.deepEqual([...m.entries()], [[1, at(1)], [2, at(9)]]);
});

test('keepRecent: among entries heard at the same time, the one set first makes room', () => {
  const m = new Map<number, { at: number }>([[1, at(5)], [2, at(5)]]);
  keepRecent(m, 3, at(6), 2);
  assert.deepEqual([...m.keys()], [2, 3]);
});

// ------------------------------------------------------------------ errors.ts

test('errors: a write error carries the outcome and position it was given, and none it was not given', () => {
  for (const E of [WriteFailureError, WriterFencedError, NoQuorumError, AbortedError, TimeoutError]) {
    const e = new E('x', { outcome: 'unknown', position: 0 });
    assert.equal(e.outcome, 'unknown', E.name);
    assert.equal(e.position, 0, E.name);
    const n = new E('x', { outcome: 'not-written' });
    assert.equal(n.outcome, 'not-written', E.name);
    assert.equal(n.position, undefined, E.name);
    assert.equal(new E('x').outcome, undefined, E.name);
  }
});

// ------------------------------------------------------------------ assert.ts

test('assert: a falsy condition throws an AssertionError with the message; a truthy one passes', () => {
  check(1, 'never');
  check('x', 'never');
  for (const c of [false, 0, '', null, undefined]) assert.throws(() => check(c, 'broken'), (e: unknown) => e instanceof AssertionError && e.message === 'broken' && e.name === 'AssertionError');
});

test('assertNever: always throws, naming the unexpected value', () => {
  assert.throws(() => assertNever({ kind: 'x' } as never, 'action'), (e: unknown) => e instanceof AssertionError && e.message === 'unexpected action: {"kind":"x"}');
});

test('isNat: a position or proposal is a non-negative safe integer, and nothing else', () => {
  for (const n of [0, 1, 7, Number.MAX_SAFE_INTEGER]) assert.equal(isNat(n), true, String(n));
  for (const n of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity, -Infinity, '5', '0', 5n, null, undefined, true]) assert.equal(isNat(n), false, String(n));
  assert.doesNotThrow(() => assertNat(3, 'p'));
  assert.throws(() => assertNat(-1, 'position'), (e: unknown) => e instanceof AssertionError && e.message === 'position must be a non-negative safe integer, got -1');
});
