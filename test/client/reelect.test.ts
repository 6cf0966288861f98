// reelect() verdicts are final (a review of issue 18): a write in doubt ABOVE the new election's marker sits on a
// position nobody chose yet; if reelect() called it "not written" and left it open, a later writer meeting the
// minority that accepted it would choose it after all. And a truncation in doubt is judged by what the log holds
// (reads return appends only, so its own record was never found).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NoQuorumError } from '../../src/core/errors.js';
import type { Writer } from '../../src/client/writer.js';
import { appendsInDoubtOnOne, failNextReads, failsInDoubt, FakeCluster, writerInDoubt } from './fake-cluster.js';

test('a write in doubt above the new marker is settled by reelect(): "not written" stays true for later writers', async () => {
  const c = new FakeCluster(3);
  const ca = c.client();
  const a: Writer = await ca.writer();
  assert.equal(a.position, 0);
  assert.equal(await c.drive(a.append('x')), 1);

  // Two appends reach replica 1 only: both fail with an unknown outcome at positions 2 and 3.
  const [e2, e3] = await appendsInDoubtOnOne(c, ca, a, ['u1', 'u2']);
  assert.deepEqual([e2!.outcome, e2!.position, e3!.outcome, e3!.position], ['unknown', 2, 'unknown', 3]);
  assert.equal(a.state, 'in-doubt');

  // Re-elected without replica 1: the quorum {2, 3} holds nothing above 1, so the marker lands at 2.
  c.down.add(1);
  const r = await c.drive(a.reelect());
  assert.equal(r.position, 2);
  assert.deepEqual(r.settled.map((s) => [s.position, s.written]), [[2, false], [3, false]]);

  // Another writer elected by {1, 2} meets replica 1's old 'u2' at 3. The verdict must hold.
  c.down.delete(1);
  c.down.add(3);
  const cb = c.client();
  const b = await cb.writer();
  assert.ok(b.position > 3);
  const log = await c.drive(cb.readActions(0, b.position));
  const at = new Map(log.map((e) => [e.position, e.action.kind === 'append' ? Buffer.from(e.action.data).toString() : e.action.kind]));
  for (const s of r.settled) assert.equal(at.get(s.position) === (s.position === 2 ? 'u1' : 'u2'), s.written, `position ${s.position}: verdict ${s.written}, log holds ${at.get(s.position)}`);
  assert.equal(at.get(1), 'x');
});

test('a truncation in doubt that a quorum accepted is reported written; the append beside it too', async () => {
  const c = new FakeCluster(3);
  const ca = c.client();
  const a = await ca.writer();
  await c.drive(Promise.all([a.append('a'), a.append('b')]));
  // Replicas 1 and 2 accept, but replica 2's replies are lost and replica 3 gets nothing: the writer cannot know.
  c.dropIf = (to, msg) => msg.type === 'write' && to === 3;
  c.dropReplyIf = (from) => from === 2;
  const [t, x] = await Promise.all([failsInDoubt(c, a.truncate(2)), failsInDoubt(c, a.append('c'))]);
  assert.deepEqual([t.position, x.position], [3, 4]);
  c.dropIf = () => false;
  c.dropReplyIf = () => false;
  c.down.add(1);
  const r = await c.drive(a.reelect());
  assert.deepEqual(r.settled.map((s) => [s.kind, s.position, s.written]), [['truncate', 3, true], ['append', 4, true]]);
  assert.equal(await c.drive(ca.beginning()), 2);
});

test('a truncation in doubt that only a minority took is not written, and writes wait while reelect() settles', async () => {
  const c = new FakeCluster(3);
  const ca = c.client();
  const a = await ca.writer();
  await c.drive(Promise.all([a.append('a'), a.append('b')]));
  c.dropIf = (to, msg) => msg.type === 'write' && to !== 1;
  const [t] = await Promise.all([failsInDoubt(c, a.truncate(2)), failsInDoubt(c, a.append('c'))]);
  assert.equal(t.position, 3);
  c.dropIf = () => false;
  c.down.add(1);
  const pending = a.reelect();
  await assert.rejects(a.append('during'), { code: 'WRITER_IN_DOUBT' });
  const r = await c.drive(pending);
  assert.deepEqual(r.settled.map((s) => [s.kind, s.position, s.written]), [['truncate', 3, false], ['append', 4, false]]);
  assert.equal(await c.drive(ca.beginning()), 0);
  assert.equal(await c.drive(a.append('after')), 5, 'the settled positions are behind the writer: it goes on after them');
});

test('reelect() whose election won but whose read of the positions in doubt failed leaves the writer in doubt; the next reelect() settles them', async () => {
  const { c, ca, a } = await writerInDoubt(['u']);
  // The verdicts' read fails once (no quorum for it): the writes are still unknown, and the writer must say so.
  failNextReads(ca);
  await assert.rejects(c.drive(a.reelect()), NoQuorumError);
  assert.equal(a.state, 'in-doubt', 'the writes are still unknown: the writer is in doubt, so reelect() can settle them');
  const r = await c.drive(a.reelect());
  assert.deepEqual(r.settled.map((s) => [s.position, s.written]), [[2, true]]);
  assert.equal(a.state, 'elected');
});
