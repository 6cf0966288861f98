// The writer's flush (issue 21): appends go out on a microtask, before the event loop's next phase, so a
// commit and the next write leave together (one packet, one wake-up of each replica per append).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster } from './fake-cluster.js';

test('an append is sent before the event loop moves on to its next phase (a microtask, not setImmediate)', async () => {
  const c = new FakeCluster(3);
  const a = await (c.client()).writer();
  const sentAfterImmediate: boolean[] = [];
  let immediateRan = false;
  const send = c.send.bind(c);
  c.send = (e) => {
    if (e.msg.type === 'write') sentAfterImmediate.push(immediateRan);
    send(e);
  };
  // Queued before the append: a flush on setImmediate would run after it.
  setImmediate(() => (immediateRan = true));
  const p = a.append('x');
  assert.equal(await c.drive(p), 1);
  assert.ok(sentAfterImmediate.length > 0, 'the write was sent');
  assert.equal(sentAfterImmediate[0], false, 'the write waited for the next phase of the event loop');
});

test('appends made in one turn still go out in one write request per replica, in order', async () => {
  const c = new FakeCluster(3);
  const a = await (c.client()).writer();
  const writes: { to: number; from: number; n: number }[] = [];
  const send = c.send.bind(c);
  c.send = (e) => {
    if (e.msg.type === 'write') writes.push({ to: e.to, from: e.msg.from, n: e.msg.actions.length });
    send(e);
  };
  const ps = Array.from({ length: 50 }, (_, i) => a.append(`v${i}`));
  const positions = await c.drive(Promise.all(ps));
  assert.deepEqual(positions, Array.from({ length: 50 }, (_, i) => i + 1));
  assert.deepEqual(writes.map((w) => w.n), [50, 50, 50], 'one request of 50 to each replica');
});
