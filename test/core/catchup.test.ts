/**
 * CatchUp with several reads in flight: replies arrive in any order, from
 * either peer, some from a peer that is not VOTING, and a gap no peer learned
 * is settled by a fill; the learned entries still come out once each, in
 * position order, with the chosen values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatchUp, type CatchUpOutput } from '../../src/core/catchup.js';
import { replicaStep } from '../../src/core/replica.js';
import type { Action, Entry, Message, ReplicaId } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { seededRandom as prng } from '../helpers/seeded-random.js';

const value = (p: number): Action => ({ kind: 'append', data: new Uint8Array(1 + (p % 7)).fill(p % 251) });


function peer(n: number, gap: ReadonlySet<number>): MemoryStore {
  const s = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'p' });
  const records = [];
  for (let p = 0; p < n; p++) if (!gap.has(p)) records.push({ type: 'learn' as const, position: p, action: value(p) });
  s.append(records);
  return s;
}

for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
  test(`pipelined catch-up, replies in random order (seed ${seed})`, () => {
    const random = prng(seed);
    const n = 3000;
    const gap = new Set([17, 18, 1500, 2999]);
    const peers = new Map<ReplicaId, MemoryStore>([
      [1, peer(n, gap)],
      [2, peer(n, gap)],
    ]);
    let rid = 1;
    const c = new CatchUp(0, n - 1, { peers: [1, 2], quorum: 2, random, rid: () => rid++, chunk: 300, inFlight: 4, chunkBytes: 1000 });
    const learned: Entry[] = [];
    const queue: { from: ReplicaId; msg: Message }[] = [];
    let notVoting = 3; // peer 2 answers its first reads as a non-VOTING replica
    const take = (out: CatchUpOutput): void => {
      learned.push(...out.learned);
      for (const s of out.send) {
        const store = peers.get(s.to)!;
        const step = replicaStep(store, s.msg as never);
        store.append(step.records);
        if (step.reply === undefined) continue;
        let reply = step.reply;
        if (s.to === 2 && reply.type === 'readReply' && notVoting-- > 0) reply = { ...reply, status: 'RECOVERING', slots: [] };
        queue.push({ from: s.to, msg: reply });
      }
    };
    let now = 0;
    take(c.start(now));
    let maxInFlight = 0;
    for (let steps = 0; !c.done && steps < 100_000; steps++) {
      maxInFlight = Math.max(maxInFlight, queue.filter((q) => q.msg.type === 'readReply').length);
      now += 1;
      if (queue.length === 0 || random() < 0.05) {
        take(c.tick(now));
        continue;
      }
      const [q] = queue.splice(Math.floor(random() * queue.length), 1);
      take(c.onReply(q!.from, q!.msg as never, now));
    }
    assert.ok(c.done, 'catch-up finished');
    assert.ok(maxInFlight > 1, 'several reads were in flight');
    assert.deepEqual(
      learned.map((e) => e.position),
      Array.from({ length: n }, (_, p) => p),
    );
    for (const e of learned) {
      if (gap.has(e.position)) assert.equal(e.action.kind, 'nop', `gap ${e.position} filled with a NOP`);
      else assert.deepEqual(e.action, value(e.position), `position ${e.position}`);
    }
  });
}
