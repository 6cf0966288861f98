// Attack on "slow is not dead for writes" (ac5c6d6): the evidence that a named member is alive
// (role.acceptedAt) came only from acceptances the writer counted, that is, that arrived while their
// batch was still in flight. A member that is always a little slower than the quorum that chooses
// (its acceptance arrives after the batch was resolved) is never heard of, although it accepts every
// write. When the fast member dies, the two slow ones are the quorum; both answer every write within
// 12.5 s, but the writer counts only one of them as alive and fails every append with no-quorum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, type Envelope } from './harness.js';

/** Runs the cluster for `ms`, releasing held replies when due; `each` runs every 50 ms step first. */
function runHeld(c: Cluster, held: { at: number; e: Envelope }[], ms: number, each: (now: number) => void = () => {}): void {
  const until = c.now + ms;
  while (c.now < until) {
    each(c.now);
    held.sort((a, b) => a.at - b.at);
    while (held.length > 0 && held[0]!.at <= c.now) c.inflight.push(held.shift()!.e);
    while (c.deliverOne());
    c.tick(50);
  }
}

test('two slow members that accept every write are alive even when their acceptances come after the batch was chosen', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  const start = c.now;
  // r2 answers at once; r1 ever later (0.5 s at first, growing by half a second a second, up to 12 s);
  // r3 half a second after r1: the batch is always chosen (r2 and r1) before r3's acceptance arrives.
  const held: { at: number; e: Envelope }[] = [];
  c.dropIf = (e) => {
    if (e.msg.type !== 'writeReply' || e.from === 'r2') return false;
    const latency = Math.min(12_000, 500 + (c.now - start) / 2) + (e.from === 'r3' ? 500 : 0);
    held.push({ at: c.now + latency, e });
    return true;
  };
  const ids: number[] = [];
  let crashedAt: number | undefined;
  runHeld(c, held, 120_000, (now) => {
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
