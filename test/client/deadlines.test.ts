// Deadlines and cancellation on the writer (issue 18): an aborted or timed-out write says honestly whether it may
// have been written, and an abandoned reelect() leaves the writer in doubt with the same writes unknown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbortedError, NoQuorumError, TimeoutError } from '../../src/core/errors.js';
import { FakeCluster } from './fake-cluster.js';

test('an append aborted before it is made is not written; one aborted after it was queued is unknown', async () => {
  const c = new FakeCluster(3);
  const ca = c.client();
  const a = await ca.writer();
  const before = a.append('never', { signal: AbortSignal.abort('changed my mind') });
  await assert.rejects(before, (e: unknown) => e instanceof AbortedError && e.outcome === 'not-written' && e.name === 'AbortError' && e.cause === 'changed my mind');

  const ctl = new AbortController();
  const queued = a.append('maybe', { signal: ctl.signal });
  ctl.abort();
  await assert.rejects(queued, (e: unknown) => e instanceof AbortedError && e.outcome === 'unknown');
  // It went on: it is chosen at 1, and the writer goes on after it.
  assert.equal(await c.drive(a.append('next')), 2);
  assert.equal(a.state, 'elected');
});

test('an append whose deadline passes rejects with TimeoutError (outcome unknown, retriable)', async () => {
  const c = new FakeCluster(3);
  const ca = c.client();
  const a = await ca.writer();
  c.dropIf = (_to, msg) => msg.type === 'write';
  const err = await a.append('slow', { timeoutMs: 1 }).catch((e: unknown) => e);
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(err.outcome, 'unknown');
  assert.equal(err.retriable, true);
});

test('an aborted reelect() leaves the writer in doubt with the same writes unknown; the next one settles them', async () => {
  const c = new FakeCluster(3);
  const ca = c.client();
  const a = await ca.writer();
  c.dropIf = (to, msg) => msg.type === 'write' && to !== 1;
  const lost = await c.drive(a.append('u').catch((e: unknown) => e));
  assert.ok(lost instanceof NoQuorumError);
  assert.equal(a.state, 'in-doubt');
  // No promise gets through: the election waits, and the caller gives up on it.
  c.dropIf = (_to, msg) => msg.type === 'promise';
  const ctl = new AbortController();
  const first = a.reelect({ signal: ctl.signal });
  ctl.abort();
  await assert.rejects(first, AbortedError);
  assert.equal(a.state, 'in-doubt');
  c.dropIf = () => false;
  const r = await c.drive(a.reelect());
  assert.equal(a.state, 'elected');
  assert.deepEqual(r.settled.map((s) => [s.position, s.written]), [[1, true]]);
});
