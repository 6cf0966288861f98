// Attack on quorum-first reads (4aa3ebf): a member that answers VOTING but always slowly is ranked the
// "freshest" by its late replies (Liveness.heard on any VOTING answer, even to a decided round), so every
// next round asks it as part of the quorum and waits for it (or for the retransmission) although two fast
// members could answer at once. Before 4aa3ebf every member was asked and the two fast ones decided.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReaderCore } from '../../src/core/reader.js';
import type { ReadReply, ReplicaId } from '../../src/core/types.js';

function reply(rid: number): ReadReply {
  return { type: 'readReply', rid, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1, lost: [], writerActive: false };
}

test('attack-reads: a slow but answering member does not slow every read down to its latency (or a retransmission)', () => {
  const latency: Record<number, number> = { 1: 1, 2: 1, 3: 300 }; // member 3 answers, always 300 ms late
  const rd = new ReaderCore({ members: [1, 2, 3], random: () => 0.5 });
  type Ev = { at: number; from: ReplicaId; rid: number };
  let queue: Ev[] = [];
  let now = 0;
  const sendAll = (send: readonly { to: ReplicaId; msg: { type: string; rid?: number } }[]): void => {
    for (const s of send) if (s.msg.type === 'read') queue.push({ at: now + latency[s.to]!, from: s.to, rid: (s.msg as { rid: number }).rid });
  };
  const durations: number[] = [];
  for (let id = 1; id <= 12; id++) {
    const start = now;
    let out = rd.step({ type: 'bounds', id }, now);
    sendAll(out.send);
    let finished = out.done.length > 0;
    while (!finished) {
      queue.sort((a, b) => a.at - b.at);
      const nextEv = queue[0];
      const nextTick = Math.floor(now / 10) * 10 + 10;
      if (nextEv !== undefined && nextEv.at <= nextTick) {
        queue.shift();
        now = nextEv.at;
        out = rd.step({ type: 'reply', from: nextEv.from, msg: reply(nextEv.rid) }, now);
      } else {
        now = nextTick;
        out = rd.step({ type: 'tick' }, now);
      }
      sendAll(out.send);
      if (out.done.some((d) => d.id === id)) finished = true;
      assert.ok(now - start < 5_000, 'the read finishes');
    }
    durations.push(now - start);
    // The application reads again a little later; the slow member's late answers arrive meanwhile.
    const until = now + 120;
    while (queue.length > 0 && queue.sort((a, b) => a.at - b.at)[0]!.at <= until) {
      const ev = queue.shift()!;
      now = ev.at;
      rd.step({ type: 'reply', from: ev.from, msg: reply(ev.rid) }, now);
    }
    now = until;
  }
  const slow = durations.filter((d) => d > 50);
  assert.deepEqual(slow, [], `reads took ${durations.join(', ')} ms with two members answering within 1 ms`);
});
