// A writer in doubt (an operation failed with an unknown outcome; state 'in-doubt') stays still until its
// application calls reelect(): its core is not ticked (a tick would retry a pending install election, an
// election behind the application's back), reelect() finishes what the core held (R4's install, the
// appends queued behind the change) even after an abandoned reelect(), and resign() fails the appends that
// never left instead of waiting for them forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/core/types.js';
import { chainView } from '../../src/core/config-view.js';
import { ClosedError } from '../../src/core/errors.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { FakeCluster, outcome, until, writerInDoubt, type FakeClient } from './fake-cluster.js';
import { config0 } from '../core/reconfig-harness.js';
import type { Writer } from '../../src/client/writer.js';

const add4 = { id: 'add-4', ifEpoch: 0, change: { kind: 'add' as const, member: { id: 4, address: 'h4:1' } } };

interface Doubt {
  c: FakeCluster;
  ca: FakeClient;
  a: Writer;
  change: Promise<unknown>;
  queued: Promise<number>;
}

/**
 * Writer a (voters 1..3 with addresses) adds a learner: its entry is counted chosen, and its install election
 * (R4) loses every promise until it gives up, with an append queued behind the change: a is in doubt.
 */
async function inDoubtWithInstall(): Promise<Doubt> {
  const c = new FakeCluster(3);
  const c0 = config0([1, 2, 3]);
  for (const id of c.ids) c.stores.set(id, new MemoryStore({ status: 'VOTING', promised: 0, incarnation: `inc-${id}`, configs: [c0] }));
  const ca = c.client();
  (ca as unknown as { configView: () => unknown }).configView = () => chainView([c0]);
  const a = await ca.writer();
  assert.equal(await c.drive(a.append('x')), 1);
  c.dropIf = (_to, msg: Message, from) => from === ca && msg.type === 'promise';
  const change = a.change(add4);
  change.catch(() => undefined);
  const queued = a.append('queued behind the change');
  queued.catch(() => undefined);
  await until(c, () => a.state === 'in-doubt');
  assert.equal(c.stores.get(1)!.slot(2)?.kind, 'config', 'the entry is at 2');
  return { c, ca, a, change, queued };
}

test('in doubt, the writer core is not ticked: it sends nothing (no install election) until reelect()', async () => {
  const { c, ca, a } = await inDoubtWithInstall();
  let sent = 0;
  c.dropIf = (_to, _msg, from) => {
    if (from === ca) sent++;
    return false;
  };
  for (let t = 0; t < 400; t++) {
    c.now += 50;
    ca.tick();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(sent, 0, 'an in-doubt writer sends nothing on its own');
  assert.equal(a.state, 'in-doubt');
});

test('reelect() after time passed in doubt, with a quorum back, installs the chosen change and completes', async () => {
  const { c, ca, a, change, queued } = await inDoubtWithInstall();
  const ch = outcome(change);
  const q = outcome(queued);
  c.dropIf = () => false;
  // Time passes (the ticks leave the core alone), then reelect() runs the install election itself.
  for (let t = 0; t < 400; t++) {
    c.now += 50;
    ca.tick();
    await c.drive(new Promise((r) => setImmediate(r)), 1_000);
  }
  const r = await c.drive(a.reelect(), 30_000);
  await until(c, () => ch.settled && q.settled, 30_000);
  assert.equal(a.state, 'elected');
  assert.equal((ch.value as { epoch: number } | undefined)?.epoch, 1, `the change completes: ${String(ch.error)}`);
  assert.ok(typeof q.value === 'number' && q.value > r.position, `the queued append is written after the marker: ${String(q.error)}`);
});

test('reelect() after an abandoned reelect() still installs the chosen change and sends the append queued behind it', async () => {
  const { c, a, change, queued } = await inDoubtWithInstall();
  const ch = outcome(change);
  const q = outcome(queued);
  // The first reelect() is abandoned while the promises are still lost.
  const abort = new AbortController();
  const first = outcome(a.reelect({ signal: abort.signal }));
  const start = c.now;
  await until(c, () => c.now >= start + 1_000, 5_000);
  assert.equal(first.settled, false, 'the first reelect() is still electing');
  abort.abort(new Error('given up'));
  await until(c, () => first.settled, 5_000);
  assert.ok(first.error !== undefined, 'the abandoned reelect() rejects');
  assert.equal(a.state, 'in-doubt');
  // The second one, with the promises through, finishes the install and the queued append.
  c.dropIf = () => false;
  const r = await c.drive(a.reelect(), 30_000);
  await until(c, () => ch.settled && q.settled, 30_000);
  assert.equal(a.state, 'elected');
  assert.ok(ch.error === undefined, `the change completes: ${String(ch.error)}`);
  assert.equal((ch.value as { epoch: number }).epoch, 1);
  assert.ok(q.error === undefined && typeof q.value === 'number' && q.value > r.position - 1, `the queued append is written: ${String(q.error)}`);
});

test('resign() in doubt fails the appends queued (never sent) with a clear error instead of waiting forever', async () => {
  const { c, a, queued } = await inDoubtWithInstall();
  const q = outcome(queued);
  await c.drive(a.resign(), 5_000);
  await until(c, () => q.settled, 1_000);
  assert.ok(q.error instanceof ClosedError, String(q.error));
  assert.match((q.error as Error).message, /not written/);
  assert.equal(a.state, 'resigned');
});

test('a writer fenced with its change in flight reports the change as of unknown outcome, not as fenced (not written)', async () => {
  const c = new FakeCluster(3);
  const c0 = config0([1, 2, 3]);
  for (const id of c.ids) c.stores.set(id, new MemoryStore({ status: 'VOTING', promised: 0, incarnation: `inc-${id}`, configs: [c0] }));
  const ca = c.client();
  const cb = c.client();
  for (const x of [ca, cb]) (x as unknown as { configView: () => unknown }).configView = () => chainView([c0]);
  const a = await ca.writer();
  assert.equal(await c.drive(a.append('x')), 1);
  // a's entry reaches replica 1 only: it is in flight, and may yet be chosen by a later writer.
  c.dropIf = (to, msg: Message, from) => from === ca && msg.type === 'write' && to !== 1;
  const ch = outcome(a.change(add4));
  const q = outcome(a.append('queued behind the change'));
  await until(c, () => c.stores.get(1)!.slot(2)?.kind === 'config', 5_000);
  // Another writer is elected without replica 1: a's next retransmission is rejected, a is fenced.
  c.down.add(1);
  await cb.writer();
  c.down.delete(1);
  c.dropIf = () => false;
  await until(c, () => ch.settled && q.settled && a.state === 'fenced', 30_000);
  const err = ch.error as Error;
  assert.ok(err !== undefined, 'the change fails');
  assert.match(err.message, /outcome is unknown/, `the change's own outcome: ${err.name}: ${err.message}`);
  assert.notEqual(err.name, 'WriterFencedError');
});

test('resign() while reelect() is still electing ends that reelect() too (ClosedError), instead of leaving it unanswered', async () => {
  const { c, ca, a } = await writerInDoubt(['maybe']);
  // The promises are lost: the re-election cannot finish.
  c.dropIf = (_to, msg: Message, from) => from === ca && msg.type === 'promise';
  const r = outcome(a.reelect());
  await until(c, () => c.now >= 1_000, 5_000);
  assert.equal(r.settled, false, 'still electing');
  await c.drive(a.resign(), 5_000);
  await until(c, () => r.settled, 1_000);
  assert.ok(r.error instanceof ClosedError, String(r.error));
  assert.equal(a.state, 'resigned');
});
