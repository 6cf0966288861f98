// The restart check and the start decisions of recovery.ts, one finding at a time
// (docs/simulator.md, "Open findings"): what a peer answers a restart check with,
// the check never voting on silence, a STARTING backup restored after its disk
// voted, RECOVERING members during a two-phase start, and generation ties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicaNodeCore, type NodeOutput } from '../../src/core/replica-node.js';
import type { Metadata, PeerStateMessage, RecoverReply, RecoverRequest } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

function node(id: number, meta: Metadata): { node: ReplicaNodeCore; store: MemoryStore; step: (e: Parameters<ReplicaNodeCore['step']>[0], now: number) => NodeOutput } {
  const store = new MemoryStore(meta);
  const n = new ReplicaNodeCore({ id, members: [1, 2, 3], store, random: () => 0.5, restartCheck: false, now: 0 });
  return {
    node: n,
    store,
    step: (e, now) => {
      const out = n.step(e, now);
      store.append(out.records);
      return out;
    },
  };
}

const gossip = (o: Partial<PeerStateMessage> = {}): PeerStateMessage => ({
  type: 'peerState', incarnation: 'i1', generation: 0, disk: 0, status: 'VOTING', promised: 0, begin: 0, end: -1, learnedThrough: -1, ...o,
});

// ------------------------------------------------------------------ finding 1: restoreUnwitnessed

test('a recover reply carries what the replica has seen of the disk, not only the copy it writes down every few seconds', () => {
  const b = node(2, { status: 'VOTING', promised: 0, incarnation: 'i2' });
  b.step({ type: 'message', from: 1, msg: gossip({ promised: 7, end: 12, learnedThrough: 12 }) }, 100);
  assert.equal(b.store.metadata().witnessed, undefined, 'not yet written down (WITNESS_PERSIST_MS)');
  const out = b.step({ type: 'message', from: 1, msg: { type: 'recover', rid: 1, member: 1 } satisfies RecoverRequest }, 200);
  assert.equal(out.reply?.type, 'recoverReply');
  assert.deepEqual((out.reply as RecoverReply).witness, { generation: 0, disk: 0, promised: 7, end: 12 });
});

test('the witness answered is the highest of the in-memory table and the persisted copy', () => {
  const b = node(2, { status: 'VOTING', promised: 0, incarnation: 'i2', witnessed: { 1: { generation: 0, disk: 0, promised: 9, end: 3 } } });
  b.step({ type: 'message', from: 1, msg: gossip({ promised: 4, end: 12 }) }, 100);
  const out = b.step({ type: 'message', from: 1, msg: { type: 'recover', rid: 1, member: 1 } satisfies RecoverRequest }, 200);
  assert.deepEqual((out.reply as RecoverReply).witness, { generation: 0, disk: 0, promised: 9, end: 12 });
});
