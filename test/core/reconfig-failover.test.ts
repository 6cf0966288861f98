// Section 8 of docs/reconfiguration.md, "A writer deposed in the middle of a change": writer w proposes
// the entry at p and is deposed by w2 at each of the six moments; every case ends with one chain on every
// replica (I3), every acknowledged append held by a quorum of its configuration's voters (I1), no removed
// replica accepting above its entry (I7), and the change either complete or never made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import type { Action } from '../../src/core/types.js';
import { appendAction, changed, config0, ReconfigCluster } from './reconfig-harness.js';

const swap = { id: 'swap', ifEpoch: 0, change: { kind: 'set' as const, voters: [1, 4, 5], learners: [] } };
const P = 2; // the entry's position: the election NOP at 0, 'a' at 1

/** Voters 1..3, learners 4 and 5 caught up; w appended 'a'. `during` filters w's messages while the change runs. */
function start(during: (to: string, type: string) => boolean, copy = true): { c: ReconfigCluster; ops: Map<number, Action> } {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]));
  const ops = new Map<number, Action>();
  c.elect('w');
  c.run();
  ops.set(c.append('w', 'a'), appendAction('a'));
  c.run();
  if (copy) {
    c.copyLearned(1, 4);
    c.copyLearned(1, 5);
  }
  c.dropIf = (e) => e.from === 'w' && during(e.to, e.msg.type);
  c.change('w', swap);
  c.run(2_000);
  c.writers.delete('w'); // w is deposed (it stops here)
  c.dropIf = () => false;
  return { c, ops };
}

/** w2 with `chain` as its view elects and appends 'x'; returns whether x was acknowledged. */
function takeOver(c: ReconfigCluster, ops: Map<number, Action>, chain: readonly PlacedConfiguration[], name = 'w2'): boolean {
  c.writer(name, chain);
  c.elect(name);
  const x = c.append(name, 'x');
  ops.set(x, appendAction('x'));
  c.run();
  return c.results.get(x)?.ok === true;
}

function checkAll(c: ReconfigCluster, ops: Map<number, Action>, truth?: readonly PlacedConfiguration[]): void {
  c.oneChain();
  assert.deepEqual(c.misplacedAcks(ops, truth), []);
  assert.deepEqual(c.removedAccepted(), []);
}

test('case 1: deposed before any acceptance: w2 sees nothing, the change did not happen', () => {
  const { c, ops } = start((_to, type) => type === 'write');
  assert.ok(takeOver(c, ops, [c.c0]));
  for (const id of [1, 2, 3, 4, 5]) assert.equal(c.chain(id).length, 1);
  assert.notEqual(c.store(1).action(P), undefined);
  assert.notEqual((c.store(1).action(P) as Action).kind, 'config');
  checkAll(c, ops);
});

test('case 2: accepted by a minority of the old voters: rolled back when w2 does not see it, finished when it does', () => {
  // Only r1 and the new voters accepted; w2's quorum is {2, 3}: it never sees the entry and writes its own value at p.
  const back = start((to, type) => type === 'write' && (to === 'r2' || to === 'r3'));
  back.c.up.delete(1);
  assert.ok(takeOver(back.c, back.ops, [back.c.c0]));
  back.c.up.add(1);
  assert.notEqual((back.c.store(2).action(P) as Action).kind, 'config', 'rolled back: another value chosen at p');
  for (const id of [2, 3]) assert.equal(back.c.chain(id).length, 1);
  checkAll(back.c, back.ops);
  // The same, but w2's quorum includes r1: the entry is the highest-ballot value at p, and w2 finishes it (rolls forward).
  const fwd = start((to, type) => type === 'write' && (to === 'r2' || to === 'r3'));
  fwd.c.up.delete(3);
  takeOver(fwd.c, fwd.ops, [fwd.c.c0]);
  assert.equal(fwd.c.chain(1).length, 2, 'rolled forward: the change was finished and installed');
  assert.equal(fwd.c.chain(4).length, 2);
  checkAll(fwd.c, fwd.ops);
});

test('case 3: accepted by a quorum of the old voters, new voters not caught up: w2 must finish it, and waits for them (not-ready) until they are', () => {
  const { c, ops } = start((_to, type) => type === 'commit' || type === 'promise', false);
  c.writer('w2', [c.c0]);
  c.elect('w2');
  const x = c.append('w2', 'x');
  ops.set(x, appendAction('x'));
  c.run(3_000);
  assert.equal(c.results.get(x), undefined, 'x waits behind the entry');
  assert.equal(c.store(2).slot(P)?.learned ?? false, false, 'the entry is not counted chosen while the new voters lag');
  c.copyLearned(1, 4);
  c.run();
  assert.equal(c.results.get(x)?.ok, true);
  assert.equal(c.chain(4).length, 2);
  checkAll(c, ops);
});

test('case 4: chosen but learned by nobody w2 asks: w2 proposes it again (harmless) and installs it', () => {
  const { c, ops } = start((_to, type) => type === 'commit' || type === 'promise');
  assert.ok(takeOver(c, ops, [c.c0]));
  for (const id of [1, 4, 5]) assert.equal(c.chain(id).length, 2);
  checkAll(c, ops);
});

test('case 5: learned by a member of w2\'s quorum: it answers stale-config; w2 stops, and a writer in the new configuration takes over', () => {
  // The commit reaches r1 and r2 only (they learn the entry; r2 is removed by it); no install.
  const { c, ops } = start((to, type) => type === 'promise' || (type === 'commit' && to === 'r3'));
  const cfg = c.chain(1)[1]!;
  assert.ok(cfg !== undefined && cfg.epoch === 1);
  c.up.delete(3);
  assert.equal(takeOver(c, ops, [c.c0]), false, 'w2, in the old configuration, gets nothing acknowledged');
  const r = [...c.results.values()].pop();
  assert.ok(r !== undefined && !r.ok && r.error === 'fenced' && r.config?.epoch === 1, JSON.stringify(r));
  c.up.add(3);
  assert.ok(takeOver(c, ops, [c.c0, cfg], 'w3'));
  for (const id of [1, 4, 5]) assert.equal(c.chain(id).length, 2);
  checkAll(c, ops);
});

test('case 6: after the install: an ordinary failover in the new configuration', () => {
  const { c, ops } = start(() => false);
  const cfg = c.chain(1)[1]!;
  assert.ok(changed(c.changes.get('swap')));
  c.up.delete(4);
  assert.ok(takeOver(c, ops, [c.c0, cfg]));
  checkAll(c, ops);
});
