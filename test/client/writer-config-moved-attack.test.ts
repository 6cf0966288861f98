// Attacks on R12's restart of an application's election in a newer configuration (src/client/writer.ts,
// configMoved / restartIn): the restart must not let a core that had already won its election (its marker
// not yet chosen) or that held a change (R4's install) fence a writer elected after it, and a reelect()
// asked again while an abandoned one is still refreshing must not find the old, fenced core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainView } from '../../src/core/config-view.js';
import { WriterFencedError } from '../../src/core/errors.js';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import type { Message } from '../../src/core/types.js';
import { Writer } from '../../src/client/writer.js';
import type { LogClient } from '../../src/client/log-client.js';
import { appendsInDoubtOnOne, outcome, until } from './fake-cluster.js';
import { add4, clientKnowing, cluster } from './config-moved-kit.js';

const add5 = { id: 'add-5', ifEpoch: 1, change: { kind: 'add' as const, member: { id: 5, address: 'h5:1' } } };

function coreOf(w: Writer): { roleKind: string } {
  return (w as unknown as { core: { roleKind: string } }).core;
}

test('a core that won its election (marker not chosen yet) and meets a configuration a later writer installed is fenced, not restarted over that writer', async () => {
  const { c, c0 } = cluster();
  let c1: PlacedConfiguration | undefined;
  const b = clientKnowing(c, [c0], () => (c1 === undefined ? [c0] : [c0, c1]));
  // b's election: 1 and 2 promise (3 does not hear it); its marker's writes are lost for now.
  c.dropIf = (to, msg: Message, from) => from === b.client && (msg.type === 'write' || (msg.type === 'promise' && to === 3));
  const wb = Writer.create(b.client as unknown as LogClient, c.ids);
  (b.client as unknown as { writers: Writer[] }).writers.push(wb);
  const elected = outcome(wb.elect());
  await until(c, () => coreOf(wb).roleKind === 'elected', 5_000);
  assert.equal(elected.settled, false, "b's core won its promise quorum; its marker is not chosen yet");

  // a is elected after b (above b's proposal) and adds a learner: configuration 1.
  const a = clientKnowing(c, [c0], () => [c0]);
  const wa = await a.client.writer();
  c1 = await c.drive(wa.change(add4));
  assert.equal(c1.epoch, 1);

  // b asks 3 again (a late promise round): 3 holds configuration 1 and answers 'stale-config'.
  let stale = 0;
  c.dropReplyIf = (_from, msg, to) => {
    if (to === b.client && msg.type === 'promiseReply' && msg.outcome === 'stale-config') stale++;
    return false;
  };
  c.dropIf = (_to, msg: Message, from) => from === b.client && msg.type === 'write';
  await until(c, () => stale > 0 || elected.settled, 5_000);
  c.dropIf = () => false;
  await until(c, () => elected.settled, 30_000);
  assert.ok(elected.error instanceof WriterFencedError, `b's election fails as fenced (a superseded it), got ${String(elected.error ?? elected.value)}`);
  assert.equal(b.refreshes(), 0, 'no restart over the later writer');
  assert.ok((await c.drive(wa.append('a goes on'))) > c1.position, 'a is still the writer');
});

test("reelect() whose held change's install election (R4) meets a newer configuration is fenced, not restarted: the change is installed by this core or not at all", async () => {
  const { c, c0 } = cluster();
  let later: PlacedConfiguration[] = [];
  const ca = clientKnowing(c, [c0], () => [c0, ...later]);
  const a = await ca.client.writer();
  assert.equal(await c.drive(a.append('x')), 1);
  // a's change is counted chosen; its install election loses every promise: a is in doubt, holding it.
  c.dropIf = (_to, msg: Message, from) => from === ca.client && msg.type === 'promise';
  const change = outcome(a.change(add4));
  await until(c, () => a.state === 'in-doubt', 30_000);
  c.dropIf = () => false;
  assert.equal(change.settled, false, 'the change is held (counted chosen, not installed)');

  // The replicas learned configuration 1 (its entry's commit); b, elected in it, makes configuration 2.
  const onReplicas = (): PlacedConfiguration[] => [...c.stores.get(1)!.metadata().configs!];
  assert.equal(onReplicas().at(-1)!.epoch, 1);
  const b = clientKnowing(c, onReplicas(), onReplicas);
  const wb = await b.client.writer();
  const c2 = await c.drive(wb.change(add5));
  assert.equal(c2.epoch, 2);
  later = onReplicas().slice(1);

  const r = outcome(a.reelect());
  await until(c, () => r.settled, 30_000);
  assert.ok(r.error instanceof WriterFencedError, `a's install election is fenced, got ${String(r.error ?? JSON.stringify(r.value))}`);
  assert.equal(ca.refreshes(), 0, 'no restart over b');
  assert.ok((await c.drive(wb.append('b goes on'))) > c2.position, 'b is still the writer');
});
test('reelect() asked again while an abandoned one is still asking the replicas for the newer configuration starts again there, not on the fenced core', async () => {
  const { c, c0 } = cluster();
  let onReplicas = [c0];
  let release: (() => void) | undefined;
  const b = clientKnowing(c, [c0], () => onReplicas, () => new Promise<void>((r) => (release = r)));
  const wb = await b.client.writer();
  assert.equal(await c.drive(wb.append('x')), 1);
  await appendsInDoubtOnOne(c, b.client, wb, ['maybe']);
  assert.equal(wb.state, 'in-doubt');
  const a = clientKnowing(c, [c0], () => [c0]);
  const wa = await a.client.writer();
  const c1 = await c.drive(wa.change(add4));
  onReplicas = [c0, c1];
  await c.drive(wa.resign());

  const abort = new AbortController();
  const first = outcome(wb.reelect({ signal: abort.signal }));
  await until(c, () => b.refreshes() === 1, 5_000);
  abort.abort(new Error('given up'));
  await until(c, () => first.settled, 5_000);
  assert.ok(first.error !== undefined);
  assert.equal(wb.state, 'in-doubt');
  // Asked again while the refresh of the first is still out.
  const second = outcome(wb.reelect());
  await until(c, () => second.settled || release !== undefined, 1_000);
  release?.();
  // (A fresh reader for the verdicts: this stand-in feeds the writer's 'stale-config' replies to its reader,
  // which keeps the newer head it heard of even once its view holds it: see the reader test below.)
  b.client.readIn((q) => chainView(onReplicas)(q));
  await until(c, () => second.settled, 30_000);
  assert.equal(second.error, undefined, `the second reelect() wins in configuration 1: ${String(second.error)}`);
  assert.equal(wb.state, 'elected');
  assert.ok((await c.drive(wb.append('after'))) > c1.position);
});

// Not R12's writer, found on the way (src/core/reader.ts): ReaderCore.newerConfig was never cleared, so once
// a reader heard of a newer head, every `bounds` read (staleIfShort: boundsOnly) answered 'stale-config'
// even after its view held that configuration. LogClient keeps one reader for its lifetime and gives up
// after three refreshes (runRead): its beginning() then failed with NoQuorumError for good.
test('a reader whose view caught up with the newer configuration it heard of reads the bounds again', async () => {
  const { c, c0 } = cluster();
  const a = clientKnowing(c, [c0], () => [c0]);
  const wa = await a.client.writer();
  const c1 = await c.drive(wa.change(add4));
  await c.drive(wa.append('y'));
  const b = c.client();
  let view = [c0];
  b.readIn((q) => chainView(view)(q));
  await c.drive(b.beginning().then(() => undefined, () => undefined));
  view = [c0, c1];
  assert.equal(await c.drive(b.beginning()), 0, 'the view holds configuration 1 now');
});
