// A replica that was rejoining, or merely down, while the members moved on without it, finds the cluster
// again (R13's seeds; finding L1 of the review of R9f, open until this fix, gated then as ATTACK=1).
//
// The shape: {1,2,3} -> +4 -> +5 -> {1,4,5} completes while r1 is away, and 2 and 3 are retired. Every
// member r1 knows is gone. Before the fix it never voted again:
// - L1: a wiped r1 catching up from {2,3}: CatchUp's reads had no end (a silent peer was benched and the
//   read asked of the next one, round and round); now a catch-up that hears no VOTING answer for
//   timing.operationTimeoutMs fails (no-quorum), and the recovery queries again.
// - L1b: r1 still being recorded: the four-round re-discovery asked {2,3} (the stale configuration) again.
// - L1c: r1 merely down (disk intact): its restart check asked only {2,3}. 4 and 5 list r1 and gossip to
//   it, but ReplicaNodeCore dropped peerState from ids outside its view.
// Now gossip from a non-member with a newer head makes it a seed (recovery.ts, `newerHead`): recover
// rounds ask it too, discovery learns the newer chain from its answer (RecoverReply.links) and moves to
// {1,4,5}. The gossip carries the sender's address (wire version 6) so that the server can reach it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatchUp } from '../../src/core/catchup.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import { NodeNet, ReconfigCluster, awayWhileMovedOn, config0, moveTo145 } from './reconfig-harness.js';

test('a catch-up whose peers never answer ends (no-quorum) after operationTimeoutMs of silence, once its owner knows of a newer configuration', () => {
  const run = (mayGiveUp?: () => boolean): string | undefined => {
    let rid = 0;
    const cu = new CatchUp(0, 10, { peers: [2, 3], quorum: 2, random: () => 0.5, rid: () => ++rid, ...(mayGiveUp === undefined ? {} : { mayGiveUp }) });
    cu.start(0);
    let done: string | undefined;
    for (let now = 50; now <= 600_000 && done === undefined; now += 50) done = cu.tick(now).done;
    return done;
  };
  assert.equal(run(() => true), 'no-quorum', 'ten minutes of silence from every peer, a newer configuration known, and the catch-up still waits');
  // Without that evidence it waits (a partition of a healthy configuration: attack-seeds F1).
  assert.equal(run(() => false), undefined);
  assert.equal(run(), undefined);
});

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

test('L1: r1, wiped, catches up from {2,3}; meanwhile {1,2,3} -> +4 -> +5 -> {1,4,5} completes and 2, 3 are retired: r1 finds {1,4,5} through their gossip and votes', () => {
  movedOnDuring('read', 'r1: catching up positions');
});

test('L1b: the same while r1 is still being recorded: the re-discovery asks the seeds 4 and 5 besides {2,3}, and r1 votes', () => {
  movedOnDuring('rejoin', 'r1: replica is now RECOVERING');
});

test('L1c: r1 merely down (disk intact) while {1,2,3} -> +4 -> +5 -> {1,4,5} completes and 2, 3 are retired: restarted, its restart check asks 4 and 5 (their gossip makes them seeds) and passes', () => {
  const c = awayWhileMovedOn();
  const net = new NodeNet(c);
  for (const id of [4, 5]) net.start(id, [1, 2, 3], { restartCheck: false });
  const r1 = net.start(1, [1, 2, 3]);
  net.run(120_000);
  assert.ok(!r1.holdsVotes, `r1 still holds its votes after two minutes: ${net.notes.filter((n) => n.startsWith('r1')).slice(-3).join(' | ')}`);
  // And it learns where the members went: its hole repair copies the learned values from 4 and 5 (the
  // config entries among them), though they are not members of the configuration it restarted with.
  const chain = c.chain(1).map((l) => l.epoch);
  assert.equal(chain.at(-1), 3, `r1's chain has epochs ${chain.join(',')}: ${net.notes.filter((n) => n.startsWith('r1')).slice(-3).join(' | ')}`);
});
