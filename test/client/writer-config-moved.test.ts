// R12 in the client's writer: an election the application asked for that meets a configuration installed
// meanwhile ('stale-config': the client had not heard of it yet) starts again in that configuration and
// wins, instead of failing as fenced with nothing written (the flake of attack7-join-impostor: a CLI
// append right after `member promote`). An elected writer that meets a newer configuration is still
// fenced: that configuration was installed by a writer elected after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriterFencedError } from '../../src/core/errors.js';
import type { Message } from '../../src/core/types.js';
import { appendsInDoubtOnOne } from './fake-cluster.js';
import { add4, clientKnowing, cluster } from './config-moved-kit.js';

test("an election that meets a configuration installed meanwhile starts again in it and wins; the appends then go out in it", async () => {
  const { c, c0 } = cluster();
  const a = clientKnowing(c, [c0], () => [c0]);
  const wa = await a.client.writer();
  const c1 = await c.drive(wa.change(add4));
  assert.equal(c1.epoch, 1, 'the change is installed');
  assert.equal(await c.drive(wa.resign()), undefined);

  // b learned the configuration before the change: its promises meet replicas that hold epoch 1.
  const b = clientKnowing(c, [c0], () => [c0, c1]);
  const staleAnswers: Message[] = [];
  const dropReply = c.dropReplyIf;
  c.dropReplyIf = (from, msg, to) => {
    if (to === b.client && msg.type === 'promiseReply' && msg.outcome === 'stale-config') staleAnswers.push(msg);
    return dropReply(from, msg, to);
  };
  const wb = await b.client.writer();
  assert.ok(staleAnswers.length > 0, 'the first election met the newer configuration');
  assert.equal(b.refreshes(), 1, 'the writer asked the replicas for it');
  assert.equal(wb.state, 'elected');
  const p = await c.drive(wb.append('after the change'));
  assert.ok(p > c1.position, `the append is written in the newer configuration (at ${p})`);
  const entry = c.stores.get(1)!.slot(p);
  assert.equal(entry?.kind, 'append');
});

test('reelect() that meets a configuration installed while the writer was in doubt starts again in it and settles the writes in doubt', async () => {
  const { c, c0 } = cluster();
  // What the replicas would tell b when it asks (configuration 1 once it exists).
  let onReplicas = [c0];
  const b = clientKnowing(c, [c0], () => onReplicas);
  const wb = await b.client.writer();
  assert.equal(await c.drive(wb.append('x')), 1);
  await appendsInDoubtOnOne(c, b.client, wb, ['maybe']);
  assert.equal(wb.state, 'in-doubt');
  // Meanwhile another writer adds a learner (settling position 2 on its way).
  const a = clientKnowing(c, [c0], () => [c0]);
  const wa = await a.client.writer();
  const c1 = await c.drive(wa.change(add4));
  onReplicas = [c0, c1];
  await c.drive(wa.resign());
  const r = await c.drive(wb.reelect());
  assert.equal(b.refreshes(), 1, 'the election met the newer configuration and asked for it');
  assert.equal(wb.state, 'elected');
  assert.deepEqual(
    r.settled.map((x) => ({ position: x.position, written: x.written })),
    [{ position: 2, written: c.stores.get(1)!.slot(2)?.kind === 'append' }],
    'the write in doubt has its verdict',
  );
  assert.ok((await c.drive(wb.append('after'))) > c1.position);
});

test('an elected writer that meets a configuration installed by a writer elected after it is fenced, not restarted', async () => {
  const { c, c0 } = cluster();
  const b = clientKnowing(c, [c0], () => [c0]);
  const wb = await b.client.writer();
  assert.equal(await c.drive(wb.append('b first')), 1);
  // a is elected after b (fencing it) and adds a learner; b has sent nothing since.
  const a = clientKnowing(c, [c0], () => [c0]);
  const wa = await a.client.writer();
  const c1 = await c.drive(wa.change(add4));
  assert.equal(c1.epoch, 1);
  // b's next append meets the newer configuration first ('stale-config' comes before the proposal check).
  const err = await c.drive(wb.append('b again').then(() => undefined, (e: unknown) => e));
  assert.ok(err instanceof WriterFencedError, String(err));
  assert.equal(wb.state, 'fenced');
  assert.equal(b.refreshes(), 0, 'no attempt to start again');
  // a is still the writer.
  assert.ok((await c.drive(wa.append('a goes on'))) > c1.position);
});

test('a configuration that keeps moving ends the election as fenced after a bounded number of restarts', async () => {
  const { c, c0 } = cluster();
  const a = clientKnowing(c, [c0], () => [c0]);
  const wa = await a.client.writer();
  const c1 = await c.drive(wa.change(add4));
  await c.drive(wa.resign());
  // b never learns the newer configuration: every election meets it again.
  const b = clientKnowing(c, [c0], () => [c0]);
  const err = await c.drive(b.client.writer().then(() => undefined, (e: unknown) => e));
  assert.ok(err instanceof WriterFencedError, String(err));
  assert.ok(b.refreshes() > 0 && b.refreshes() <= 3 * 8, `asked ${b.refreshes()} times, bounded`);
  assert.ok(c1.epoch === 1);
});
