// Attack on "slow is not dead for writes" (ac5c6d6): the evidence that a named member is alive
// (role.acceptedAt) came only from acceptances the writer counted, that is, that arrived while their
// batch was still in flight. A member that is always a little slower than the quorum that chooses
// (its acceptance arrives after the batch was resolved) is never heard of, although it accepts every
// write. When the fast member dies, the two slow ones are the quorum; both answer every write within
// 12.5 s, but the writer counts only one of them as alive and fails every append with no-quorum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';


test('two slow members that accept every write are alive even when their acceptances come after the batch was chosen', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  const start = c.now;
  // r2 answers at once; r1 ever later (0.5 s at first, growing by half a second a second, up to 12 s);
  // r3 half a second after r1: the batch is always chosen (r2 and r1) before r3's acceptance arrives.
  const held = c.delayWriteReplies((from, elapsed) => (from === 'r2' ? undefined : Math.min(12_000, 500 + elapsed / 2) + (from === 'r3' ? 500 : 0)));
  const ids: number[] = [];
  let crashedAt: number | undefined;
  c.runHeld(held, 120_000, (now) => {
    if (now - start < 60_000 && (now - start) % 500 === 0) ids.push(c.append('w', `e${ids.length}`));
    // The fast member dies: the two slow ones are the quorum from now on.
    if (crashedAt === undefined && now - start >= 40_000) {
      crashedAt = now;
      c.crash(2);
    }
  });
  assert.equal(ids.length, 120);
  const failed = ids.filter((id) => c.results.get(id)?.ok !== true);
  assert.deepEqual(
    failed.map((id) => c.results.get(id)),
    [],
    `no append failed (r1 and r3 answer every write within 12.5 s); the first failure: op ${failed[0]} of ${ids.length}`,
  );
  c.checkAgreement();
});
