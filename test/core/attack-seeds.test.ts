// Adversarial review of fdbd369 ("R13 seeds"): its findings, each a test that failed before its fix (fixed:
// F1, the catch-up gives up on silent peers only with evidence of a newer configuration, CatchUpConfig.mayGiveUp;
// F2, seeds are kept by recency and forgotten when silent, recent-map.ts).
//
// F1 (liveness regression): CatchUp now gives up ('no-quorum') after timing.operationTimeoutMs without a
// VOTING read answer while a read waits (`heardUsefulAt`). The recovery answers catchUpFailed with a new
// query: a new generation, a new recording, and a catch-up from the peers' `begin` again (decideRejoin),
// so every position already copied is read over again. A rejoining disk partitioned from its (healthy,
// unchanged) configuration for a little over 10 s in the middle of a big catch-up thus starts over; with
// partitions (or peer stalls) more frequent than the catch-up's length it never finishes. Before the change
// the catch-up simply resumed when the peers answered again. The give-up is meant for peers "gone for
// good (retired by a change made meanwhile)", but nothing ties it to any evidence of a change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import { NodeNet, ReconfigCluster, awayWhileMovedOn, config0 } from './reconfig-harness.js';

type Inflight = { from: number; to: number; msg: { type: string } }[];

test('F1: a rejoin partitioned from its unchanged configuration for 11 s mid-catch-up resumes; it does not start over with a new generation and re-read the log', () => {
  const c = new ReconfigCluster(config0([1, 2, 3]), ALL_RULES_ON, [1, 2, 3]);
  c.elect('w');
  c.run();
  for (let i = 0; i < 600; i++) c.append('w', `a${i}`);
  c.run();
  c.copyLearned(1, 3);
  c.writers.delete('w');
  const net = new NodeNet(c);
  for (const id of [2, 3]) net.start(id, [1, 2, 3], { restartCheck: false });
  let partitioned = false;
  let armed = true;
  let reads = 0;
  const step = net.stepNode.bind(net);
  net.stepNode = (id, event) => {
    const out = step(id, event);
    const q = (net as unknown as { inflight: Inflight }).inflight;
    // The partition starts once r1 copied a first chunk of the log (its catch-up is under way).
    if (armed && net.nodes.get(1)?.status === 'RECOVERING' && c.store(1).learnedThrough() >= 100) {
      armed = false;
      partitioned = true;
    }
    for (let i = q.length - 1; i >= 0; i--) {
      const e = q[i]!;
      if (partitioned && (e.from === 1 || e.to === 1)) q.splice(i, 1);
    }
    return out;
  };
  const r1 = net.start(1, [1, 2, 3], { wipe: true });
  net.run(3_000);
  assert.ok(partitioned, net.notes.join('\n'));
  const generation = c.store(1).metadata().generation;
  const copied = c.store(1).learnedThrough();
  // 11 s without a word from the peers (a network partition, a switch reboot), then the network heals.
  net.run(11_000);
  partitioned = false;
  const mark = net.notes.length;
  const step2 = net.stepNode;
  net.stepNode = (id, event) => {
    const out = step2(id, event);
    if (id === 1) for (const s of out.send) if (s.msg.type === 'read' && s.msg.from <= copied) reads++;
    return out;
  };
  net.run(30_000);
  const after = net.notes.slice(mark).filter((n) => n.startsWith('r1'));
  assert.equal(r1.status, 'VOTING', after.join('\n'));
  const failed = net.notes.filter((n) => n.startsWith('r1: catch-up failed'));
  assert.deepEqual(failed, [], `the catch-up gave up on peers that never left: ${failed.join(' | ')}; then: ${after.join(' | ')}`);
  assert.equal(c.store(1).metadata().generation, generation, `r1 started its rejoin over with a new generation: ${after.join(' | ')}`);
  assert.equal(reads, 0, `r1 read positions it had already copied (<= ${copied}) again: ${reads} reads`);
});

// F2 (hostile, liveness): the recovery's seed table (RecoveryCore.seeds, SEEDS_MAX = 16) is filled by the
// first 16 non-members that gossip a newer head, and a seed leaves it only when `latest.epoch` reaches the
// epoch it claimed (setLatest). A burst of 16 peerStates from unknown ids claiming epoch 2^40 (once each,
// never repeated, never answering) fills it for good: the real members of the newer configuration (4, 5),
// whose gossip arrives afterwards, are never taken as seeds, and the replica that was away while every
// member it knew was retired holds its votes for ever, as before the fix. (ReplicaNodeCore.strangers
// forgets a stranger after STRANGER_HEARD_MS of silence; the recovery's seeds never are.) Fix: forget a
// seed that did not answer a round (or after a few rounds), prefer the newest-heard ones, and/or evict the
// oldest rather than refusing newcomers.
test('F2: sixteen forged strangers gossiping a huge head once do not keep r1 (away while {1,2,3} -> {1,4,5}) from finding 4 and 5', () => {
  const c = awayWhileMovedOn();
  const net = new NodeNet(c);
  const r1 = net.start(1, [1, 2, 3]);
  // Before 4 and 5 are up (or before their first gossip reaches r1): one peerState from each of 16 ids.
  for (let i = 0; i < 16; i++) {
    const msg = {
      type: 'peerState', incarnation: 'x', generation: 0, disk: 0, status: 'VOTING', promised: 0, begin: 0, end: -1, learnedThrough: -1,
      config: { epoch: 2 ** 40, position: 2 ** 40 }, address: `evil:${i}`,
    } as const;
    net.stepNode(1, { type: 'message', msg, from: 100 + i });
  }
  for (const id of [4, 5]) net.start(id, [1, 2, 3], { restartCheck: false });
  net.run(120_000);
  assert.ok(!r1.holdsVotes, `r1 still holds its votes after two minutes: ${net.notes.filter((n) => n.startsWith('r1')).slice(-3).join(' | ')}`);
});
