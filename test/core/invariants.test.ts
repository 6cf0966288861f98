// The acceptor's delta checker (src/core/invariants.ts): each rule fails on a planted violation,
// and a new disk identity starts a new baseline. A fake store lets each rule be broken alone
// (the real stores assert some of them on their own first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AcceptorInvariants } from '../../src/core/invariants.js';
import { HandStore } from './hand-store.js';
import type { PersistRecord } from '../../src/core/types.js';


const accept4: PersistRecord[] = [{ type: 'accept', position: 4, proposal: 9, action: { kind: 'nop' } }];

const cases: { rule: RegExp; setup?: (s: HandStore) => void; plant: (s: HandStore) => void; records?: PersistRecord[] }[] = [
  { rule: /promise went back/, plant: (s) => (s.meta = { ...s.meta, promised: 4 }) },
  { rule: /highest proposal went back/, plant: (s) => (s.highest = 4) },
  { rule: /learned prefix went back/, plant: (s) => (s.through = 9) },
  { rule: /beginning went back/, setup: (s) => (s.first = 5), plant: (s) => (s.first = 3) },
  { rule: /recorded for member 2 went back/, plant: (s) => (s.meta = { ...s.meta, recorded: { 2: { generation: 2, disk: 1 } } }) },
  { rule: /learned .* at 4 became NOP/, plant: (s) => s.learned.set(4, { kind: 'nop' }), records: accept4 },
];

test('the delta checker: each rule fails on its planted violation', () => {
  for (const c of cases) {
    const s = new HandStore();
    c.setup?.(s);
    const inv = new AcceptorInvariants(s.view(), 'r1');
    assert.throws(() => inv.around(c.records ?? [], () => c.plant(s)), c.rule, c.rule.source);
  }
});

test('the delta checker: allowed changes pass, and a new disk starts a new baseline', () => {
  const s = new HandStore();
  const inv = new AcceptorInvariants(s.view(), 'r1');
  inv.around([], () => {
    s.meta = { ...s.meta, promised: 8, recorded: { 2: { generation: 4, disk: 1 } } };
    s.highest = 8;
    s.through = 12;
  });
  // A rejoin: a new generation forgets the promise (a new acceptor).
  inv.around([], () => (s.meta = { ...s.meta, promised: 0, generation: 1, disk: 99, recorded: {} }));
  // The same learned value stored again (a repair) is no change.
  inv.around(accept4, () => s.learned.set(4, { kind: 'append', data: new Uint8Array([1]) }));
});
