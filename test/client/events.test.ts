// Client events (issue 18): election, fenced, slow operations and retransmissions, over the fake network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriterFencedError } from '../../src/core/errors.js';
import type { ElectionEvent, FencedEvent, RetransmitEvent, SlowOperationEvent } from '../../src/client/events.js';
import { FakeCluster } from './fake-cluster.js';

test('election and fenced events: a writer elected, then fenced by another client', async () => {
  const c = new FakeCluster(3);
  const ca = c.client();
  const elections: ElectionEvent[] = [];
  const fenced: FencedEvent[] = [];
  ca.on('election', (e) => elections.push(e));
  ca.on('fenced', (e) => fenced.push(e));
  const a = await ca.writer();
  assert.deepEqual(elections, [{ position: 0, reelected: false }]);
  await c.client().writer();
  await assert.rejects(c.drive(a.append('late')), WriterFencedError);
  assert.equal(fenced.length, 1);
  assert.ok(fenced[0]!.error instanceof WriterFencedError);
});

test('a slow operation is reported once while it waits', async () => {
  const c = new FakeCluster(3);
  const ca = c.client();
  const a = await ca.writer();
  const slow: SlowOperationEvent[] = [];
  (ca as { callDefaults: unknown }).callDefaults = { timeoutMs: undefined, slowMs: 1, onSlow: (e: SlowOperationEvent) => slow.push(e) };
  c.dropIf = (to, msg) => msg.type === 'write' && to !== 1;
  const pending = a.append('stuck').catch((e: unknown) => e);
  while (slow.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(slow, [{ operation: 'append()', elapsedMs: 1 }]);
  await c.drive(pending);
  assert.equal(slow.length, 1);
});

test('the LogClient reports a request sent again to a member as a retransmission', async () => {
  // LogClient.send counts requests by member and rid; drive it through its private method as the cores would.
  const { LogClient } = await import('../../src/client/log-client.js');
  const log = await LogClient.connect(['127.0.0.1:1']);
  try {
    const seen: RetransmitEvent[] = [];
    log.on('retransmit', (e) => seen.push(e));
    const msg = { type: 'write', rid: 7, proposal: 1, from: 0, actions: [], named: [] } as const;
    log.send([{ to: 1, msg }]);
    log.send([{ to: 1, msg }, { to: 2, msg }]);
    assert.deepEqual(seen, [{ type: 'write', replica: 1, count: 1 }]);
  } finally {
    await log.close();
  }
});
