// Adversarial review of the Paxos core: each test drives the in-memory
// cluster message by message into a corner. The review's other cases are
// scenario files now (test/scenarios: explicit-then-implicit-promise,
// fill-and-writer-share-a-number, truncated-replica-no-fence,
// read-over-truncated-append, proposal-zero, far-explicit-promise,
// different-learned-prefixes, late-write-reply); these two stay here because
// they count records and bytes over thousands of appends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limits, timing } from '../../src/core/constants.js';
import type { PromiseReply } from '../../src/core/types.js';
import { Cluster } from './harness.js';
import { step } from './review-harness.js';

test('liveness: one lost commit is repaired by the repeated commit, so promise replies stay small', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  c.dropIf = (e) => e.msg.type === 'commit' && e.to === 'r1';
  c.append('w', 'gap');
  c.run();
  c.dropIf = () => false;
  const n = limits.readSlotsMax + 10;
  for (let i = 0; i < n; i++) c.append('w', `e${i}`);
  c.run();
  // The writer repeats its term's commit every recommitMs: the gap heals.
  c.tick(timing.recommitMs);
  c.run();
  assert.equal(c.store(1).learnedThrough(), c.store(2).learnedThrough(), 'the repeated commit repaired the gap');
  const reply = step(c.store(1), { type: 'promise', rid: 99, proposal: 100 }) as PromiseReply;
  assert.ok(
    reply.slots.length <= limits.readSlotsMax,
    `an implicit promise reply carries ${reply.slots.length} slots (with their bytes), above readSlotsMax = ${limits.readSlotsMax}`,
  );
});

test('ok: a duplicated commit and a duplicated learned message change nothing', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  const dup: typeof c.inflight = [];
  c.dropIf = (e) => {
    if (e.msg.type === 'commit') dup.push(e);
    return false;
  };
  c.append('w', 'a');
  c.run();
  c.dropIf = () => false;
  const before = c.store(1).records.length;
  c.inflight.push(...dup, ...dup);
  c.run();
  assert.equal(c.store(1).records.length, before, 'no record for a repeated commit');
  c.checkAgreement();
});
