// The writer core's `abandon` event (its owner stopped waiting, e.g. an abandoned reelect()): the writer gives
// up as when no quorum answers, ignores what comes back for the election it gave up, and elects afresh only
// when asked again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config0, ReconfigCluster } from './reconfig-harness.js';

test('abandon: an election in progress fails as no-quorum, its late promises elect nothing, the next elect goes above it', () => {
  const c = new ReconfigCluster(config0([1, 2, 3]));
  const w = c.writer('w');
  c.elect('w');
  const first = w.highestProposalSeen;
  // The promise requests reach the replicas; their replies are still on the way when the owner gives up.
  for (let i = 0; i < 3; i++) c.deliverOne();
  const out = w.step({ type: 'abandon' }, c.now);
  assert.equal(out.election?.ok, false);
  assert.equal(out.election?.ok === false && out.election.error, 'no-quorum');
  assert.equal(w.roleKind, 'idle');
  while (c.deliverOne());
  assert.equal(w.roleKind, 'idle', 'the replies to the abandoned election elect nothing');
  // Ticks do not elect either: only the owner does.
  c.tick(5_000);
  assert.equal(w.roleKind, 'idle');
  c.elect('w');
  c.run();
  assert.equal(w.roleKind, 'elected');
  assert.ok(w.proposal! > first, 'the new election is above the abandoned one');
  const p = c.append('w', 'a');
  c.run();
  assert.equal(c.results.get(p)?.ok, true);
});

test('abandon: an idle writer ignores it', () => {
  const c = new ReconfigCluster(config0([1, 2, 3]));
  const w = c.writer('w');
  const out = w.step({ type: 'abandon' }, c.now);
  assert.deepEqual(out, { send: [], done: [] });
  assert.equal(w.roleKind, 'idle');
});

test('abandon: a writer backing off after a lost round gives up (no-quorum) and goes idle', () => {
  const c = new ReconfigCluster(config0([1, 2, 3]));
  const v = c.writer('v');
  c.elect('w');
  c.elect('v'); // v's promise requests arrive after w's: v loses its round and backs off
  while (v.roleKind !== 'backoff' && c.deliverOne());
  assert.equal(v.roleKind, 'backoff');
  const out = v.step({ type: 'abandon' }, c.now);
  assert.equal(out.election?.ok === false && out.election.error, 'no-quorum');
  assert.equal(v.roleKind, 'idle');
});

test('abandon: an elected writer gives up: its append in flight fails as no-quorum and it goes idle', () => {
  const c = new ReconfigCluster(config0([1, 2, 3]));
  const w = c.writer('w');
  c.elect('w');
  c.run();
  assert.equal(w.roleKind, 'elected');
  const a = c.append('w', 'a'); // sent, no answer delivered yet
  const out = w.step({ type: 'abandon' }, c.now);
  assert.equal(w.roleKind, 'idle');
  const r = out.done.find((d) => d.id === a)?.result;
  assert.ok(r !== undefined && !r.ok && r.error === 'no-quorum', JSON.stringify(out.done));
});

test('abandon: a fenced writer stays fenced (a newer writer holds the log; it never elects again)', () => {
  const c = new ReconfigCluster(config0([1, 2, 3]));
  const w = c.writer('w');
  c.elect('w');
  c.run();
  c.elect('v');
  c.run();
  c.append('w', 'x');
  c.run();
  assert.equal(w.roleKind, 'fenced');
  const out = w.step({ type: 'abandon' }, c.now);
  assert.deepEqual(out, { send: [], done: [] });
  assert.equal(w.roleKind, 'fenced');
});
