// Review of R9f and the rejoin changes that landed with it (branch review9f).
//
// Finding L1 (liveness, open): a rejoin whose catch-up runs while the configuration moves on waits for
// good once every member of the configuration it caught up from is gone. CatchUp's reads have no end:
// a silent peer is benched and the read is asked of the next one, round and round, and only a fill
// gives up (no-quorum). RecoveryCore ignores ticks in 'catchingUp', so nothing looks for the latest
// configuration again: the four-round re-discovery added for the recording phase (R9, `--changes` seed
// 160) has no counterpart here. R9f makes the window longer (up to three more catch-ups of the pending
// entry's position, each with the peers of the stale view).
//
// L1b: the same while r1 is still being recorded: the new four-round re-discovery goes back to a query
// of the stale configuration's members, which never answer either. L1c (context, pre-existing): a replica
// merely down (disk intact) through the same changes never passes its restart check: the newer
// configuration's members list it and gossip to it, but ReplicaNodeCore drops peerState from ids not in
// its view (replica-node.ts, case 'peerState'), although R9d counts on that gossip.
//
// Checked and found sound (no reproduction): the floor a catch-up fill reports (R9f) is the fill's own
// proposal, under which a named C_k quorum (and R3's caught-up C_{k+1} quorum) accepted the entry, so it
// is >= t_min (section 8, step 3); a fill that wrote nothing reports none; followPending leaves a config
// entry alone in its fill. Simulator: --changes seeds 1000-1039, 3000-3039, 5000-5049, 7000-7049 clean;
// --changes --strict-liveness 2000-2089: seeds 2003 and 2067 fail (a writer fenced by a catch-up or
// reader fill), 2003 also with --off rejoinLearnsPending: not R9f's. Seed 47 fails with the switch off and
// passes with it on.
//
// Gated: run with ATTACK=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatchUp } from '../../src/core/catchup.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import { changed, config0, member, NodeNet, ReconfigCluster } from './reconfig-harness.js';

const open = { skip: process.env.ATTACK !== '1' && 'open finding' };

test('L1 (mechanism): a catch-up whose peers never answer never ends (no no-quorum, no done)', open, () => {
  let rid = 0;
  const cu = new CatchUp(0, 10, { peers: [2, 3], quorum: 2, random: () => 0.5, rid: () => ++rid });
  cu.start(0);
  let done: string | undefined;
  for (let now = 50; now <= 600_000 && done === undefined; now += 50) done = cu.tick(now).done;
  assert.notEqual(done, undefined, 'ten minutes of silence from every peer and the catch-up still waits');
});

/** With r1 away: writer v (w deposed) adds 4, then 5 (caught up from r2), then sets the voters to {1, 4, 5}. */
function moveTo145(c: ReconfigCluster): void {
  c.writers.delete('w');
  c.elect('v');
  c.run();
  c.change('v', { id: 'add4', ifEpoch: 0, change: { kind: 'add', member: member(4) } });
  c.run();
  assert.equal(changed(c.changes.get('add4')).epoch, 1);
  c.change('v', { id: 'add5', ifEpoch: 1, change: { kind: 'add', member: member(5) } });
  c.run();
  assert.equal(changed(c.changes.get('add5')).epoch, 2);
  c.copyLearned(2, 4);
  c.copyLearned(2, 5);
  c.change('v', { id: 'swap', ifEpoch: 2, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  c.run();
  assert.equal(changed(c.changes.get('swap')).epoch, 3);
}

function movedOnDuring(blocked: 'read' | 'rejoin', mark: string): void {
  const c = new ReconfigCluster(config0([1, 2, 3]), ALL_RULES_ON, [1, 2, 3, 4, 5]);
  c.elect('w');
  c.run();
  for (let i = 0; i < 5; i++) c.append('w', `a${i}`);
  c.run();
  c.copyLearned(1, 3);
  const net = new NodeNet(c);
  for (const id of [2, 3]) net.start(id, [1, 2, 3], { restartCheck: false });
  // r1's first catch-up reads are lost (a slow link: a big disk to copy), so that it is still catching up when the configuration moves on.
  let blockReads = true;
  const step = net.stepNode.bind(net);
  net.stepNode = (id, event) => {
    const out = step(id, event);
    const q = (net as unknown as { inflight: { from: number; msg: { type: string } }[] }).inflight;
    if (blockReads && id === 1) for (let i = q.length - 1; i >= 0; i--) if (q[i]!.from === 1 && q[i]!.msg.type === blocked) q.splice(i, 1);
    return out;
  };
  const r1 = net.start(1, [1, 2, 3], { wipe: true });
  for (let ms = 0; ms < 10_000 && !net.notes.some((n) => n.startsWith(mark)); ms += 50) net.run(50);
  assert.ok(net.notes.some((n) => n.startsWith(mark)), net.notes.join('\n'));
  // r1 is slow (a big disk to copy): it is frozen while the cluster changes without it (a minority of each configuration).
  net.nodes.delete(1);
  c.up.delete(1);
  // A writer elected now (the old one named r1's lost disk, which r2 and r3 no longer count).
  moveTo145(c);
  const x = c.append('v', 'x');
  c.run();
  assert.ok(c.results.get(x)?.ok, 'the new configuration {1,4,5} writes with 4 and 5');
  c.writers.delete('v');
  // The change is complete (R4 ran): 2 and 3 are retired, as the CLI allows. 4 and 5 run as processes.
  net.stop(2);
  net.stop(3);
  for (const id of [4, 5]) net.start(id, [1, 2, 3], { restartCheck: false });
  net.nodes.set(1, r1);
  c.up.add(1);
  blockReads = false;
  net.run(300_000);
  if (process.env.DBG) console.log(net.notes.filter((n) => n.startsWith('r1')).join('\n'));
  assert.equal(r1.status, 'VOTING', `r1 is ${r1.status} after five minutes: ${net.notes.filter((n) => n.startsWith('r1')).slice(-6).join(' | ')}`);
}

test('L1: r1, wiped, catches up from {2,3}; meanwhile {1,2,3} -> +4 -> +5 -> {1,4,5} completes and 2, 3 are retired: r1 never votes', open, () => {
  movedOnDuring('read', 'r1: catching up positions');
});

test('L1b: the same while r1 is still being recorded: the four-round re-discovery asks {2,3} again (the stale configuration), and r1 never votes', open, () => {
  movedOnDuring('rejoin', 'r1: replica is now RECOVERING');
});

test('L1c (context): r1 merely down (disk intact) while {1,2,3} -> +4 -> +5 -> {1,4,5} completes and 2, 3 are retired: restarted, it never votes either (4 and 5 list it, but their state gossip is dropped: not from a member of its view)', open, () => {
  const c = new ReconfigCluster(config0([1, 2, 3]), ALL_RULES_ON, [1, 2, 3, 4, 5]);
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  c.copyLearned(1, 3);
  c.up.delete(1);
  moveTo145(c);
  c.writers.delete('v');
  c.up.delete(2);
  c.up.delete(3);
  const net = new NodeNet(c);
  for (const id of [4, 5]) net.start(id, [1, 2, 3], { restartCheck: false });
  const r1 = net.start(1, [1, 2, 3]);
  net.run(120_000);
  assert.ok(!r1.holdsVotes, `r1 still holds its votes after two minutes: ${net.notes.filter((n) => n.startsWith('r1')).slice(-3).join(' | ')}`);
});
