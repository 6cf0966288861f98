// Divergence checks, unit level: range digests of a store (src/storage/range-digest.ts), the digest
// messages' codec (src/net/digest-codec.ts), the bounded digest service, and the comparison and its
// bisection (src/server/divergence-compare.ts). Healthy copies must agree whatever their learned prefix
// or beginning (no false positive); a copy that differs in one byte is found at that position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Action } from '../../src/core/types.js';
import { decodeMessage } from '../../src/net/codec.js';
import { decodeDigestMessage, decodeWireMessage, encodeDigestFrame, encodeDigestMessage, type DigestMessage } from '../../src/net/digest-codec.js';
import { WireError } from '../../src/net/errors.js';
import { wireLimits } from '../../src/net/limits.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { digestRange } from '../../src/storage/range-digest.js';
import { compareSpan, firstDivergence, fullDigest, type DigestSide } from '../../src/server/divergence-compare.js';
import { DigestService, answerDigest, localSide } from '../../src/server/digest-service.js';

const append = (s: string): Action => ({ kind: 'append', data: Buffer.from(s) });
const value = (p: number) => append(`entry-${p}-${'x'.repeat(p % 50)}`);

/** A store that learned `count` positions from 0 (value(p) at p), with overrides. */
function storeWith(count: number, override: Record<number, Action> = {}): MemoryStore {
  const s = new MemoryStore();
  s.append([{ type: 'metadata', metadata: { status: 'VOTING', promised: 0, incarnation: 'test' } }]);
  s.append(Array.from({ length: count }, (_, p) => ({ type: 'learn' as const, position: p, action: override[p] ?? value(p) })));
  return s;
}

/** A comparison side over a store, with small bounds so that digests are chained over many calls. */
function side(id: number, store: MemoryStore, positionsMax = 37, bytesMax = 300): DigestSide {
  return localSide(id, new DigestService({ store: () => store, status: () => 'VOTING', positionsMax, bytesMax }));
}

test('range digest: equal copies agree; one byte, a kind, a truncate target or a position apart differ', () => {
  const a = digestRange(storeWith(100), 0, 100);
  assert.equal(a.stop, 'end');
  assert.equal(a.count, 100);
  assert.equal(a.through, 100);
  assert.deepEqual(digestRange(storeWith(100), 0, 100), a);
  const flipped = Buffer.from(`entry-42-${'x'.repeat(42)}`);
  flipped[3] ^= 1;
  assert.notEqual(digestRange(storeWith(100, { 42: { kind: 'append', data: flipped } }), 0, 100).crc, a.crc);
  assert.notEqual(digestRange(storeWith(100, { 42: { kind: 'nop' } }), 0, 100).crc, a.crc);
  assert.notEqual(digestRange(storeWith(100, { 42: append('') }), 0, 100).crc, digestRange(storeWith(100, { 42: { kind: 'nop' } }), 0, 100).crc);
  // Two appends whose bytes concatenate the same way must still differ (the length is in the digest).
  const ab = digestRange(storeWith(2, { 0: append('ab'), 1: append('c') }), 0, 2);
  const a_bc = digestRange(storeWith(2, { 0: append('a'), 1: append('bc') }), 0, 2);
  assert.notEqual(ab.crc, a_bc.crc);
  // A tombstone is a NOP.
  assert.equal(digestRange(storeWith(100, { 42: { kind: 'nop', tombstone: true } }), 0, 100).crc, digestRange(storeWith(100, { 42: { kind: 'nop' } }), 0, 100).crc);
  // The same values at other positions differ.
  assert.notEqual(digestRange(storeWith(100), 0, 50).crc, digestRange(storeWith(100), 50, 100).crc);
  // A truncate's target and the head of config(to) it carries (R14) are both in the digest.
  const cut = (a: Action) => digestRange(storeWith(100, { 99: a }), 11, 100); // above both targets tried
  const bare = cut({ kind: 'truncate', to: 10 });
  assert.notEqual(bare.crc, cut({ kind: 'truncate', to: 11 }).crc);
  const headed = cut({ kind: 'truncate', to: 10, config: { epoch: 0, position: -1 } });
  assert.notEqual(headed.crc, bare.crc);
  assert.notEqual(headed.crc, cut({ kind: 'truncate', to: 10, config: { epoch: 1, position: -1 } }).crc);
  assert.notEqual(headed.crc, cut({ kind: 'truncate', to: 10, config: { epoch: 0, position: 3 } }).crc);
  assert.deepEqual(cut({ kind: 'truncate', to: 10, config: { epoch: 0, position: -1 } }), headed);
});

test('range digest: chained over bounded calls, it equals the digest computed whole', () => {
  const s = storeWith(1000, { 500: append('y'.repeat(10_000)) });
  const whole = digestRange(s, 0, 1000, { positionsMax: 1_000_000, bytesMax: 1 << 30 });
  for (const [positionsMax, bytesMax] of [[1, 1 << 30], [7, 1 << 30], [1000, 100], [64, 5000]] as const) {
    let at = 0;
    let crc = 0;
    let calls = 0;
    for (;;) {
      const d = digestRange(s, at, 1000, { seed: crc, positionsMax, bytesMax });
      calls++;
      assert.ok(d.through > at, 'progress');
      assert.ok(d.through - at <= positionsMax, 'positions bound');
      crc = d.crc;
      at = d.through;
      if (d.stop === 'end') break;
      assert.equal(d.stop, 'bound');
    }
    assert.equal(crc, whole.crc, `positionsMax ${positionsMax}, bytesMax ${bytesMax}`);
    assert.ok(calls > 1);
  }
});

test('range digest: stops at the learned prefix, at an unreadable record, below the beginning', () => {
  const s = storeWith(50);
  const d = digestRange(s, 10, 80);
  assert.deepEqual([d.through, d.stop, d.count], [50, 'unlearned', 40]);
  s.markLost(20);
  const l = digestRange(s, 10, 80);
  assert.deepEqual([l.through, l.stop], [20, 'lost']);
  assert.equal(l.crc, digestRange(storeWith(50), 10, 20).crc, 'the part before the lost record is the same');
  // A learned truncation moves the beginning: below it nothing is covered.
  const t = storeWith(50, { 49: { kind: 'truncate', to: 30 } });
  assert.equal(t.begin(), 30);
  const b = digestRange(t, 10, 40);
  assert.deepEqual([b.through, b.stop, b.count], [10, 'begin', 0]);
  assert.equal(digestRange(t, 30, 40).stop, 'end');
});

test('digest service: a request over 2^40 positions is answered for a bounded span; the queue is bounded', async () => {
  const s = storeWith(200_000 > wireLimits.digestPositionsMax ? wireLimits.digestPositionsMax + 100 : 200_000);
  const r = answerDigest(s, 'VOTING', { type: 'digest', rid: 1, from: 0, to: 2 ** 40, seed: 0, limit: 0 });
  assert.equal(r.stop, 'bound');
  assert.ok(r.through - r.from <= wireLimits.digestPositionsMax);
  const limited = answerDigest(s, 'VOTING', { type: 'digest', rid: 1, from: 0, to: 2 ** 40, seed: 0, limit: 10 });
  assert.equal(limited.through, 10);
  const queued: (() => void)[] = [];
  const service = new DigestService({ store: () => s, status: () => 'VOTING', queueMax: 3, defer: (run) => queued.push(run) });
  const sent: Buffer[] = [];
  const target = { id: 1, closed: false, sendFrame: (f: Buffer) => sent.push(f) > 0 };
  const results = [1, 2, 3, 4, 5].map((rid) => service.push({ type: 'digest', rid, from: 0, to: 100, seed: 0, limit: 0 }, target));
  assert.deepEqual(results, [true, true, true, false, false]);
  assert.equal(service.push({ type: 'digest', rid: 1, from: 0, to: 100, seed: 0, limit: 0 }, target), false, 'a repeat is not queued twice');
  // One request per turn.
  while (queued.length > 0) {
    const before = sent.length;
    queued.shift()!();
    assert.ok(sent.length - before <= 1);
  }
  assert.equal(sent.length, 3);
  const reply = decodeWireMessage(sent[0]!.subarray(4)) as DigestMessage;
  assert.equal(reply.type, 'digestReply');
});

test('digest codec: round trips; hostile bytes fail with WireError only; the core codec does not know the codes', () => {
  const msgs: DigestMessage[] = [
    { type: 'digest', rid: 7, from: 3, to: 2 ** 40, seed: 0xdeadbeef, limit: 0 },
    { type: 'digestReply', rid: 7, status: 'RECOVERING', begin: 3, learnedThrough: -1, from: 3, through: 90, count: 87, crc: 0xffffffff, stop: 'lost' },
  ];
  for (const m of msgs) {
    assert.deepEqual(decodeDigestMessage(encodeDigestMessage(m)), m);
    assert.deepEqual(decodeWireMessage(encodeDigestFrame(m).subarray(4)), m);
    assert.throws(() => decodeMessage(encodeDigestMessage(m)), (e: unknown) => e instanceof WireError && e.reason === 'unknown-type');
  }
  // A reply claiming more positions than a reply may cover, a backwards range, a bad stop code.
  const bad = encodeDigestMessage({ ...msgs[1]!, through: 3 + wireLimits.digestPositionsMax + 1, count: 0 } as DigestMessage);
  assert.throws(() => decodeDigestMessage(bad), WireError);
  const back = encodeDigestMessage(msgs[0]!);
  back.writeUInt32LE(0, 17); // to := 0 < from
  back.writeUInt32LE(0, 21);
  assert.throws(() => decodeDigestMessage(back), WireError);
  const stop = encodeDigestMessage(msgs[1]!);
  stop[stop.length - 1] = 9;
  assert.throws(() => decodeDigestMessage(stop), WireError);
  fc.assert(
    fc.property(fc.constantFrom(16, 17), fc.uint8Array({ maxLength: 80 }), (code, rest) => {
      try {
        decodeWireMessage(Buffer.concat([Buffer.from([code]), rest]));
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
      }
    }),
    { numRuns: 5000 },
  );
});

test('bisection: finds the first divergent position, whatever the range and the bounds', async () => {
  const good = storeWith(3000);
  for (const at of [0, 1, 637, 2047, 2999]) {
    const bad = storeWith(3000, { [at]: append('planted') });
    for (const parts of [2, 16]) {
      assert.equal(await firstDivergence(side(1, good), side(2, bad), 0, 3000, parts), at, `at ${at}, ${parts} parts`);
    }
  }
  // Two differences: the first is found.
  assert.equal(await firstDivergence(side(1, good), side(2, storeWith(3000, { 100: append('a'), 90: append('b') })), 0, 3000), 90);
  // No difference: none.
  assert.equal(await firstDivergence(side(1, good), side(2, storeWith(3000)), 0, 3000), undefined);
});

test('compareSpan: three copies, one differs: it is named with its first divergent position', async () => {
  const sides = [side(1, storeWith(3000)), side(2, storeWith(3000)), side(3, storeWith(3000, { 1234: append('planted') }))];
  const o = await compareSpan(sides, 0, 3000);
  assert.deepEqual(o.divergences, [{ position: 1234, reference: 1, side: 3 }]);
  const first = await compareSpan([sides[2]!, sides[0]!, sides[1]!], 0, 3000);
  assert.deepEqual(first.divergences, [{ position: 1234, reference: 1, side: 3 }], 'the majority is the reference, whoever checks');
});

test('no false positive: a copy behind, one whose prefix is truncated, and one with an unreadable record agree', async () => {
  const full = storeWith(3000);
  const behind = storeWith(1700);
  // Truncated to 1000 (learned at position 2999: the learned truncate is itself a value every copy holds).
  const truncate: Action = { kind: 'truncate', to: 1000 };
  const truncated = storeWith(3000, { 2999: truncate });
  const fullT = storeWith(3000, { 2999: truncate });
  const damaged = storeWith(3000, { 2999: truncate });
  damaged.markLost(1500);
  const sides = [side(1, fullT), side(2, truncated), side(3, damaged)];
  // The range every side holds: from the highest beginning to the lowest learned prefix.
  const o = await compareSpan(sides, 1000, 3000);
  assert.deepEqual(o.divergences, []);
  assert.deepEqual(o.skipped, [1500]);
  assert.equal(o.through, 3000);
  // A copy that has not learned the truncation yet (begin 0, behind) agrees on what both hold.
  const o2 = await compareSpan([side(1, full), side(2, behind)], 0, 1700);
  assert.deepEqual([o2.divergences, o2.stop, o2.through], [[], undefined, 1700]);
  const o3 = await compareSpan([side(1, fullT), side(2, behind)], 1000, 1700);
  assert.deepEqual([o3.divergences, o3.stop, o3.through], [[], undefined, 1700]);
  // Asked past a side's learned prefix or below its beginning, the comparison stops: it never reports a divergence.
  const o4 = await compareSpan([side(1, full), side(2, behind)], 0, 3000);
  assert.deepEqual([o4.divergences, o4.stop, o4.through], [[], 'unlearned', 1700]);
  const o5 = await compareSpan([side(1, full), side(2, truncated)], 0, 3000);
  assert.deepEqual([o5.divergences, o5.stop], [[], 'begin']);
  // fullDigest chains a side's bounded replies.
  const d = await fullDigest(side(1, full, 5, 50), 0, 3000);
  assert.equal(d.crc, digestRange(full, 0, 3000, { positionsMax: 1e9, bytesMax: 1e12 }).crc);
});

test('digest service: a complete digest is computed once and reused for the same request (and for a longer range past its bound), never across a truncation', () => {
  const store = storeWith(200);
  let reads = 0;
  let begin: number | undefined;
  // The store as the service sees it: reads counted, the beginning movable.
  const view = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'begin' && begin !== undefined) return () => begin;
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'action' || prop === 'readActions') return (...args: unknown[]) => (reads++, (v as (...a: unknown[]) => unknown).apply(target, args));
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
  const service = new DigestService({ store: () => view, status: () => 'VOTING', positionsMax: 50 });
  const ask = (rid: number, from: number, to: number, seed = 0) => service.answer({ type: 'digest', rid, from, to, seed, limit: 0 });
  const first = ask(1, 0, 120);
  assert.equal(first.stop, 'bound');
  assert.equal(first.through, 50);
  assert.ok(reads > 0);
  const fresh = answerDigest(store, 'VOTING', { type: 'digest', rid: 2, from: 0, to: 120, seed: 0, limit: 0 }, 50);
  reads = 0;
  assert.deepEqual(ask(2, 0, 120), fresh);
  // Cut by its bound at 50: the same answer for any range that goes past 50.
  assert.deepEqual(ask(3, 0, 199), { ...fresh, rid: 3 });
  assert.equal(reads, 0);
  // A range that ends at 50 is computed (it ends there: 'end', not 'bound').
  assert.equal(ask(4, 0, 50).stop, 'end');
  assert.ok(reads > 0);
  // Another seed is another request.
  reads = 0;
  ask(5, 0, 120, 7);
  assert.ok(reads > 0);
  // Truncated past `from` here: computed again, and it says so.
  begin = 10;
  assert.equal(ask(6, 0, 120).stop, 'begin');
});
