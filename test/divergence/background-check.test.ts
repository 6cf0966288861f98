// The background divergence check (src/server/divergence-check.ts) against peers simulated in memory:
// incremental (only what was learned since the last check is compared), a mismatch reported with its
// position and logged once, a peer that drops the link on digest requests left alone, and no metric
// or status that claims a mismatch on healthy copies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { Action } from '../../src/core/types.js';
import { decodeDigestMessage } from '../../src/net/digest-codec.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { DivergenceCheck, type DivergencePeer } from '../../src/server/divergence-check.js';
import { DigestService, answerDigest } from '../../src/server/digest-service.js';

const value = (p: number): Action => ({ kind: 'append', data: Buffer.from(`entry-${p}`) });

function learn(s: MemoryStore, from: number, to: number, override: Record<number, Action> = {}): void {
  s.append(Array.from({ length: to - from }, (_, i) => ({ type: 'learn' as const, position: from + i, action: override[from + i] ?? value(from + i) })));
}

function newStore(): MemoryStore {
  const s = new MemoryStore();
  s.append([{ type: 'metadata', metadata: { status: 'VOTING', promised: 0, incarnation: 't' } }]);
  return s;
}

interface Logged { level: string; obj: object; msg: string }

function setup(peerStores: Map<number, MemoryStore>, self: MemoryStore) {
  const logs: Logged[] = [];
  const asked = new Map<number, number>();
  let check!: DivergenceCheck;
  const behaviour = new Map<number, 'answer' | 'drop-link'>();
  const peers = new Map<number, DivergencePeer & { up: boolean }>();
  for (const [id, store] of peerStores) {
    const peer = {
      up: true,
      get connected() {
        return this.up;
      },
      sendFrame(frame: Buffer) {
        const req = decodeDigestMessage(frame.subarray(4));
        assert.equal(req.type, 'digest');
        if (req.type !== 'digest') return false;
        asked.set(id, (asked.get(id) ?? 0) + Math.max(0, Math.min(req.to, store.learnedThrough() + 1) - req.from));
        if (behaviour.get(id) === 'drop-link') {
          setImmediate(() => check.onPeerDisconnect(id, 'bad input: unknown message type 16'));
          return true;
        }
        setImmediate(() => check.onReply(id, answerDigest(store, 'VOTING', req)));
        return true;
      },
    };
    peers.set(id, peer);
  }
  const registry = new Registry();
  check = new DivergenceCheck({
    self: 1,
    peers,
    service: new DigestService({ store: () => self, status: () => 'VOTING' }),
    store: () => self,
    log: { info: (obj, msg) => logs.push({ level: 'info', obj, msg }), warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }), error: (obj, msg) => logs.push({ level: 'error', obj, msg }) },
    registry,
    periodMs: 0,
    span: 100,
    timeoutMs: 200,
    spanPauseMs: 0,
  });
  return { check, logs, asked, behaviour, peers, registry };
}

test('background check: healthy peers agree, incrementally; a planted value is found and logged once; never repaired', async () => {
  const self = newStore();
  const p2 = newStore();
  const p3 = newStore();
  learn(self, 0, 1000);
  learn(p2, 0, 1000);
  learn(p3, 0, 700); // behind
  const { check, logs, asked, registry } = setup(new Map([[2, p2], [3, p3]]), self);
  let s = await check.runOnce();
  assert.equal(s.result, 'ok', JSON.stringify(s));
  assert.deepEqual(s.peers.map((p) => [p.id, p.result, p.verifiedThrough]), [[2, 'ok', 1000], [3, 'ok', 700]]);
  // Nothing new: the next check compares nothing but the empty tail.
  asked.clear();
  s = await check.runOnce();
  assert.equal(s.result, 'ok');
  assert.ok((asked.get(2) ?? 0) === 0 && (asked.get(3) ?? 0) === 0, `asked ${JSON.stringify([...asked])}`);
  // Peer 3 catches up, with a different value at 850 (a byte that storage could not see).
  learn(p3, 700, 1000, { 850: { kind: 'append', data: Buffer.from('entry-85O') } });
  asked.clear();
  s = await check.runOnce();
  assert.equal(s.result, 'mismatch');
  assert.deepEqual(s.firstMismatch, { position: 850, peer: 3 });
  assert.equal(s.peers.find((p) => p.id === 3)!.verifiedThrough, 800, 'verified up to the span before the mismatch');
  assert.ok((asked.get(3) ?? 0) <= 300 * 3, 'only what was learned since was compared (plus the bisection)');
  const errors = logs.filter((l) => l.level === 'error');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.msg, /DIVERGENCE: replica 1 and replica 3 hold different chosen values at position 850/);
  // Again: still found, not logged again (within 10 minutes), counted once.
  s = await check.runOnce();
  assert.deepEqual(s.firstMismatch, { position: 850, peer: 3 });
  assert.equal(logs.filter((l) => l.level === 'error').length, 1);
  const text = await registry.metrics();
  assert.match(text, /replog_divergence_mismatches_total 1\b/);
  assert.match(text, /replog_divergence_mismatch\{peer="3"\} 1/);
  assert.match(text, /replog_divergence_mismatch\{peer="2"\} 0/);
  assert.match(text, /replog_divergence_first_mismatch_position 850/);
  assert.match(text, /replog_divergence_checks_total\{result="mismatch"\} 2/);
  // Never repaired: both copies are as they were.
  assert.equal(Buffer.from((p3.action(850) as { data: Uint8Array }).data).toString(), 'entry-85O');
  assert.equal(Buffer.from((self.action(850) as { data: Uint8Array }).data).toString(), 'entry-850');
});

test('background check: an unreachable peer makes it incomplete; a peer that drops the link on digests is left alone', async () => {
  const self = newStore();
  const p2 = newStore();
  const p3 = newStore();
  for (const s of [self, p2, p3]) learn(s, 0, 300);
  const { check, logs, behaviour, peers } = setup(new Map([[2, p2], [3, p3]]), self);
  peers.get(2)!.up = false;
  behaviour.set(3, 'drop-link');
  let s = await check.runOnce();
  assert.equal(s.result, 'incomplete');
  assert.deepEqual(s.peers.map((p) => p.result), ['unreachable', 'incomplete']);
  s = await check.runOnce();
  assert.ok(logs.some((l) => l.level === 'warn' && /dropped the link during digest requests 2 times/.test(l.msg)));
  s = await check.runOnce();
  assert.match(s.peers.find((p) => p.id === 3)!.note ?? '', /not asked until/);
  assert.equal(s.firstMismatch, null);
});
