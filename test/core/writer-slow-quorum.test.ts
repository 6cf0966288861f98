// Slow is not dead, for writes: an overloaded quorum whose answers come later and later (a deep fsync
// queue) still answers, and the writer's appends wait for it instead of failing with no-quorum after
// operationTimeoutMs (which puts every append in flight in doubt). Silence still fails in that time,
// and a write the quorum never accepts while it accepts others fails after slowWriteMaxMs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, type Envelope } from './harness.js';
import { timing } from '../../src/core/constants.js';


test('a quorum that answers later and later (up to 20 s) is slow, not dead: every append succeeds', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  const start = c.now;
  // Each write's answer leaves the replica `latency` after the write arrived: 0.5 s at first, growing
  // by half a second a second, so the last appends wait about 20 s, twice operationTimeoutMs.
  const held = c.delayWriteReplies((_from, elapsed) => 500 + elapsed / 2);
  const ids: number[] = [];
  c.runHeld(held, 90_000, (now) => {
    if (now - start < 40_000 && (now - start) % 500 === 0) ids.push(c.append('w', `e${ids.length}`));
  });
  assert.equal(ids.length, 80);
  const failed = ids.filter((id) => c.results.get(id)?.ok !== true);
  assert.deepEqual(failed.map((id) => c.results.get(id)), [], 'no append failed');
  c.checkAgreement();
});

test('silence still fails a write in operationTimeoutMs: two of three members stop answering', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  const before = c.append('w', 'before');
  c.run();
  assert.equal(c.results.get(before)?.ok, true);
  c.crash(2);
  c.crash(3);
  const sentAt = c.now;
  const a = c.append('w', 'lost?');
  const held: { at: number; e: Envelope }[] = [];
  c.runHeld(held, timing.operationTimeoutMs - 100);
  assert.equal(c.results.get(a), undefined, 'not failed before the timeout');
  c.runHeld(held, 200 + (c.now - sentAt < timing.operationTimeoutMs ? timing.operationTimeoutMs - (c.now - sentAt) : 0));
  assert.deepEqual(c.results.get(a), { ok: false, error: 'no-quorum', unknownAt: 2 });
});

test('a write the quorum never accepts, while it accepts the others, fails after slowWriteMaxMs', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  const held: { at: number; e: Envelope }[] = [];
  // Every copy of the stuck write (position 1) is lost; later writes go through.
  c.dropIf = (e) => e.msg.type === 'write' && e.msg.from <= 1;
  const stuck = c.append('w', 'stuck');
  const later: number[] = [];
  const sentAt = c.now;
  c.runHeld(held, timing.slowWriteMaxMs - 500, (now) => {
    if ((now - sentAt) % 1_000 === 0) later.push(c.append('w', `later${later.length}`));
  });
  assert.equal(c.results.get(stuck), undefined, `still waiting after ${c.now - sentAt} ms: the quorum answers`);
  c.runHeld(held, 1_000);
  assert.deepEqual(c.results.get(stuck), { ok: false, error: 'no-quorum', unknownAt: 1 });
});
