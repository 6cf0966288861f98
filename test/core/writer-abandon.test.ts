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
