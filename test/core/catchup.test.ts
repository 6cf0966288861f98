/**
 * CatchUp with several reads in flight: replies arrive in any order, from
 * either peer, some from a peer that is not VOTING, and a gap no peer learned
 * is settled by a fill; the learned entries still come out once each, in
 * position order, with the chosen values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatchUp, type CatchUpOutput } from '../../src/core/catchup.js';
import { timing } from '../../src/core/constants.js';
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

// ---------------------------------------------------------------------------
// Liveness: the catch-up must reach the peers that learned what it needs (simulator
// seeds 96 and 147 --open successiveLosses, default seeds 800 and 976).

interface Peer {
  readonly store: MemoryStore;
  /** The peer reports an active writer (ReadReply.writerActive): an idle elected writer keeps recommitting its own term. */
  readonly writerActive: boolean;
}

/** A peer that learned positions [0, n) except `unlearned`, where it holds the value accepted under proposal 1 only. */
function peerWith(n: number, unlearned: ReadonlySet<number>, writerActive: boolean): Peer {
  const store = new MemoryStore({ status: 'VOTING', promised: 1, incarnation: 'p' });
  const records = [];
  for (let p = 0; p < n; p++) {
    records.push(unlearned.has(p) ? { type: 'accept' as const, position: p, proposal: 1, action: value(p) } : { type: 'learn' as const, position: p, action: value(p) });
  }
  store.append(records);
  return { store, writerActive };
}

/** Runs a catch-up against peers that answer at once; every `tickMs` the catch-up ticks. Returns what it learned and sent. */
function drive(c: CatchUp, peers: Map<ReplicaId, Peer>, untilMs: number, tickMs = 50): { learned: Entry[]; sent: Message[]; doneAt?: number } {
  const learned: Entry[] = [];
  const sent: Message[] = [];
  const queue: { from: ReplicaId; msg: Message }[] = [];
  const take = (out: CatchUpOutput): void => {
    learned.push(...out.learned);
    for (const s of out.send) {
      sent.push(s.msg);
      const p = peers.get(s.to)!;
      const step = replicaStep(p.store, s.msg as never, undefined, { writerActive: p.writerActive });
      p.store.append(step.records);
      if (step.reply !== undefined) queue.push({ from: s.to, msg: step.reply });
    }
  };
  let now = 0;
  take(c.start(now));
  while (!c.done && now < untilMs) {
    const q = queue.shift();
    if (q !== undefined) {
      take(c.onReply(q.from, q.msg as never, now));
      continue;
    }
    now += tickMs;
    take(c.tick(now));
  }
  return { learned, sent, doneAt: c.done ? now : undefined };
}

test('a rejoin does not wait on a peer that reports an idle writer: it copies from the peer that learned the positions', () => {
  // Peer 1 (asked first) never learned 3..5 and reports a writer active; peer 2 learned everything.
  const peers = new Map<ReplicaId, Peer>([
    [1, peerWith(10, new Set([3, 4, 5]), true)],
    [2, peerWith(10, new Set(), true)],
  ]);
  let rid = 1;
  const c = new CatchUp(0, 9, { peers: [1, 2], quorum: 2, random: prng(1), rid: () => rid++ });
  const r = drive(c, peers, 5_000);
  assert.ok(c.done, 'the catch-up finished (it asked peer 1 again and again before)');
  assert.deepEqual(r.learned.map((e) => e.position), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const e of r.learned) assert.deepEqual(e.action, value(e.position));
  assert.ok(!r.sent.some((m) => m.type === 'promise'), 'no fill: learned values were enough');
});

test('a repair copies a learned value from the second peer when the first has not learned it', () => {
  const peers = new Map<ReplicaId, Peer>([
    [1, peerWith(10, new Set([4]), false)],
    [2, peerWith(10, new Set(), false)],
  ]);
  let rid = 1;
  const c = new CatchUp(0, 9, { peers: [1, 2], quorum: 2, random: prng(2), rid: () => rid++, fillGaps: false });
  const r = drive(c, peers, 5_000);
  assert.ok(c.done);
  assert.deepEqual(r.learned.map((e) => e.position), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'position 4 was copied, not skipped');
  // Where no peer learned a position, a repair skips it (a writer or reader settles it), and it asked both.
  const peers2 = new Map<ReplicaId, Peer>([
    [1, peerWith(10, new Set([4]), false)],
    [2, peerWith(10, new Set([4]), false)],
  ]);
  const c2 = new CatchUp(0, 9, { peers: [1, 2], quorum: 2, random: prng(2), rid: () => rid++, fillGaps: false });
  const r2 = drive(c2, peers2, 5_000);
  assert.ok(c2.done);
  assert.deepEqual(r2.learned.map((e) => e.position), [0, 1, 2, 3, 5, 6, 7, 8, 9]);
  assert.ok(!r2.sent.some((m) => m.type === 'promise'), 'a repair never fills');
});

test('under an idle writer that never commits a position, the rejoin fills it after timing.activeWriterWaitMs, not before', () => {
  // Position 2 was learned only on a replica that lost it: both peers hold it accepted, unlearned,
  // and report a writer active (it recommits its own term above, never position 2).
  const peers = new Map<ReplicaId, Peer>([
    [1, peerWith(6, new Set([2]), true)],
    [2, peerWith(6, new Set([2]), true)],
  ]);
  let rid = 1;
  const c = new CatchUp(0, 5, { peers: [1, 2], quorum: 2, random: prng(3), rid: () => rid++ });
  const early = drive(c, peers, timing.activeWriterWaitMs - 100);
  assert.ok(!c.done);
  assert.ok(!early.sent.some((m) => m.type === 'promise'), 'no fill while the writer may still commit');
  assert.deepEqual(early.learned.map((e) => e.position), [0, 1]);
  const c2 = new CatchUp(0, 5, { peers: [1, 2], quorum: 2, random: prng(3), rid: () => rid++ });
  const r = drive(c2, peers, timing.activeWriterWaitMs + 2_000);
  assert.ok(c2.done, 'the catch-up finished');
  assert.ok(r.doneAt! >= timing.activeWriterWaitMs);
  assert.deepEqual(r.learned.map((e) => e.position), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(r.learned[2]!.action, value(2), 'the fill learned the accepted value');
});
