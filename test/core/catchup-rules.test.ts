// Issue 11 (mutation testing of src/core/catchup.ts): the catch-up's rules, one at a time, on CatchUp alone
// (the class ReplicaNodeCore drives for a rejoin or a repair): hand-made peer replies at injected times,
// assertions on what it sends, learns and reports. Which peers a read is asked of and with what range and
// limit; what a reply counts for (VOTING only, learned values only, within what it covered); silence, the
// bench and giving up; the wait under an active writer; the range, members and results of a fill; the
// adoption of a peer's beginning and chain; the chunk size and the rate limit. Each test fails with one or
// more of Stryker's survivors in catchup.ts planted by hand (docs/testing.md). No wall clock: every `now`
// is given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatchUp, type CatchUpConfig, type CatchUpOutput } from '../../src/core/catchup.js';
import { limits, timing } from '../../src/core/constants.js';
import { chainView } from '../../src/core/config-view.js';
import { BOOTSTRAP_HEAD, type Configuration, type PlacedConfiguration } from '../../src/core/membership.js';
import type { Action, Entry, PromiseReply, PromiseRequest, ReadReply, ReadRequest, ReplicaId, Slot, WriteReply, WriteRequest } from '../../src/core/types.js';
import { config0, member } from './reconfig-harness.js';

// ------------------------------------------------------------------ helpers

const app = (p: number, size = 1): Action => ({ kind: 'append', data: new Uint8Array(size).fill(p % 251) });
const NOP: Action = { kind: 'nop' };
/** A learned slot (a chosen value the peer knows). */
const L = (position: number, action: Action = app(position)): Slot => ({ position, promised: 0, accepted: 1, learned: true, action });
/** An accepted, not learned, slot. */
const A = (position: number, action: Action = app(position), proposal = 1): Slot => ({ position, promised: 0, accepted: proposal, learned: false, action });
/** Learned slots for every position of [from, to]. */
const all = (from: number, to: number, action?: (p: number) => Action): Slot[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, k) => L(from + k, action?.(from + k)));
/** The next configuration of members 1..3 (epoch 1), as a config entry's value. */
const cfg1: Configuration = { epoch: 1, voters: [1, 2, 3].map(member), learners: [], nextId: 4 };
const CONFIG: Action = { kind: 'config', config: cfg1 };
const chain1: PlacedConfiguration[] = [config0([1, 2, 3])];
const chain2: PlacedConfiguration[] = [config0([1, 2, 3]), { ...cfg1, position: 3, floor: 2 }];

type Read = { to: ReplicaId; msg: ReadRequest };
type Prom = { to: ReplicaId; msg: PromiseRequest };
type Write = { to: ReplicaId; msg: WriteRequest };

const readsOf = (out: CatchUpOutput): Read[] => out.send.filter((s): s is Read => s.msg.type === 'read');
const promisesOf = (out: CatchUpOutput): Prom[] => out.send.filter((s): s is Prom => s.msg.type === 'promise');
const writesOf = (out: CatchUpOutput): Write[] => out.send.filter((s): s is Write => s.msg.type === 'write');
/** A read as [peer, from, to, limit]. */
const shape = (r: Read): [number, number, number, number] => [r.to, r.msg.from, r.msg.to, r.msg.limit];

/** A VOTING peer's answer to `req`, covering it all, holding nothing, unless told otherwise. */
function rr(req: ReadRequest, o: Partial<ReadReply> = {}): ReadReply {
  return { type: 'readReply', rid: req.rid, status: 'VOTING', begin: 0, end: req.to, learnedThrough: -1, slots: [], coveredThrough: req.to, lost: [], writerActive: false, ...o };
}

function promiseOk(req: PromiseRequest, o: Partial<PromiseReply> = {}): PromiseReply {
  return {
    type: 'promiseReply', rid: req.rid, outcome: 'accept', proposal: req.proposal, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [],
    coveredThrough: req.to!, generation: 0, disk: 0, ...o,
  };
}

function writeOk(req: WriteRequest, o: Partial<WriteReply> = {}): WriteReply {
  return { type: 'writeReply', rid: req.rid, outcome: 'accept', proposal: req.proposal, from: req.from, count: req.actions.length, generation: 0, disk: 0, retired: [], ...o };
}

/** A catch-up with its shell: request ids count up; every output is kept, its learned entries collected. */
class D {
  rid = 0;
  readonly c: CatchUp;
  readonly learned: Entry[] = [];
  readonly outs: CatchUpOutput[] = [];
  constructor(from: number, to: number, cfg: Partial<CatchUpConfig> = {}) {
    // No rate limit unless the test sets one (the default would pause the reads at any byte copied at time 0).
    this.c = new CatchUp(from, to, { peers: [1, 2, 3], quorum: 2, random: () => 0, rid: () => ++this.rid, bytesPerSecMax: Infinity, ...cfg });
  }
  private take(out: CatchUpOutput): CatchUpOutput {
    this.learned.push(...out.learned);
    this.outs.push(out);
    return out;
  }
  start(now = 0): CatchUpOutput {
    return this.take(this.c.start(now));
  }
  tick(now: number): CatchUpOutput {
    return this.take(this.c.tick(now));
  }
  reply(from: ReplicaId, msg: ReadReply | PromiseReply | WriteReply, now = 0): CatchUpOutput {
    return this.take(this.c.onReply(from, msg, now));
  }
  /** The peer of `r` answers it (VOTING, covering it all, holding `slots`). */
  answer(r: Read, slots: readonly Slot[], now = 0, o: Partial<ReadReply> = {}): CatchUpOutput {
    return this.reply(r.to, rr(r.msg, { slots, ...o }), now);
  }
  /** The peer of `r` answers with every position of it learned. */
  full(r: Read, now = 0, o: Partial<ReadReply> = {}): CatchUpOutput {
    return this.answer(r, all(r.msg.from, r.msg.to), now, o);
  }
  positions(): number[] {
    return this.learned.map((e) => e.position);
  }
  /** Every read sent so far. */
  allReads(): Read[] {
    return this.outs.flatMap(readsOf);
  }
}

/** Answers the promises of `out` from `voters` (accepting, holding `slots`), then the writes that follow: the output that ends the fill. */
function runFill(d: D, out: CatchUpOutput, voters: readonly ReplicaId[], now = 0, slots: readonly Slot[] = []): CatchUpOutput {
  const proms = promisesOf(out).filter((p) => voters.includes(p.to));
  assert.ok(proms.length > 0, `no promise to answer in ${JSON.stringify(out.send)}`);
  let last: CatchUpOutput | undefined;
  const writes: Write[] = [];
  for (const p of proms) {
    last = d.reply(p.to, promiseOk(p.msg, { slots }), now);
    writes.push(...writesOf(last));
  }
  for (const w of writes.filter((x) => voters.includes(x.to))) last = d.reply(w.to, writeOk(w.msg, { learnedThrough: w.msg.from - 1, lostBelow: false }), now);
  return last!;
}

// ------------------------------------------------------------------ construction, progress

test('a catch-up needs peers to copy from', () => {
  assert.throws(() => new CatchUp(0, 5, { peers: [], random: () => 0, rid: () => 1 }), /peers/);
});

test('total counts the positions of [from, to], none for an empty range', () => {
  assert.equal(new D(3, 7).c.total, 5);
  assert.equal(new D(4, 4).c.total, 1);
  assert.equal(new D(5, 4).c.total, 0);
  assert.equal(new D(5, 2).c.total, 0);
});

test('an empty range is caught up at once: no read, done ok', () => {
  const d = new D(5, 4);
  const out = d.start();
  assert.equal(out.done, 'ok');
  assert.deepEqual(out.send, []);
  assert.equal(d.c.done, true);
});

test('progress counts every position copied and the append bytes only', () => {
  const d = new D(0, 2, { peers: [1] });
  const [r] = readsOf(d.start());
  const out = d.answer(r!, [L(0, app(0, 3)), L(1, NOP), L(2, app(2, 5))]);
  assert.equal(out.done, 'ok');
  assert.equal(d.c.positionsDone, 3);
  assert.equal(d.c.bytesDone, 8);
});

// ------------------------------------------------------------------ the reads sent

test('the first reads: a window of timing.catchUpReadsInFlight reads of 256 positions, consecutive, to the peers in turn, limit = the range', () => {
  const d = new D(0, 99_999);
  const reads = readsOf(d.start());
  assert.equal(reads.length, timing.catchUpReadsInFlight);
  assert.deepEqual(
    reads.map(shape),
    reads.map((_, k) => [[1, 2, 3][k % 3], 256 * k, 256 * k + 255, 256]),
  );
});

test('the last read ends at the range\'s end, and no read goes past it', () => {
  const d = new D(10, 300);
  assert.deepEqual(readsOf(d.start()).map(shape), [
    [1, 10, 265, 256],
    [2, 266, 300, 35],
  ]);
});

test('inFlight bounds the reads out at once; 0 still allows one', () => {
  assert.equal(readsOf(new D(0, 9999, { inFlight: 3 }).start()).length, 3);
  assert.equal(readsOf(new D(0, 9999, { inFlight: 0 }).start()).length, 1);
});

test('a read asks `chunk` positions at most, at least one, never more than limits.readSlotsMax', () => {
  assert.deepEqual(readsOf(new D(0, 9999, { chunk: 10, inFlight: 2 }).start()).map(shape), [
    [1, 0, 9, 10],
    [2, 10, 19, 10],
  ]);
  assert.deepEqual(readsOf(new D(0, 9999, { chunk: 0, inFlight: 2 }).start()).map(shape), [
    [1, 0, 0, 1],
    [2, 1, 1, 1],
  ]);
  // Above the read limit: the first read asks 256, the next (tiny entries) limits.readSlotsMax.
  const d = new D(0, 99_999, { chunk: 100_000, inFlight: 1 });
  const [r] = readsOf(d.start());
  assert.equal(r!.msg.limit, 256);
  const [next] = readsOf(d.full(r!));
  assert.deepEqual(shape(next!), [2, 256, 256 + limits.readSlotsMax - 1, limits.readSlotsMax]);
});

test('after the first read, a read asks about chunkBytes of entries at the mean entry size so far', () => {
  const d = new D(0, 99_999, { inFlight: 1, chunkBytes: 1000 });
  const [r] = readsOf(d.start());
  const [next] = readsOf(d.answer(r!, all(0, 255, (p) => app(p, 100))));
  assert.deepEqual(shape(next!), [2, 256, 265, 10], '1000 bytes of 100-byte entries');
  // Entries larger than chunkBytes: one position per read.
  const d2 = new D(0, 99_999, { inFlight: 1, chunkBytes: 10 });
  const [r2] = readsOf(d2.start());
  assert.deepEqual(shape(readsOf(d2.answer(r2!, all(0, 255, (p) => app(p, 100))))[0]!), [2, 256, 256, 1]);
  // Only NOPs so far: the mean counts as one byte.
  const d3 = new D(0, 99_999, { inFlight: 1, chunkBytes: 1000 });
  const [r3] = readsOf(d3.start());
  assert.deepEqual(shape(readsOf(d3.answer(r3!, all(0, 255, () => NOP)))[0]!), [2, 256, 1255, 1000]);
  // By default timing.catchUpChunkBytes.
  const d4 = new D(0, 99_999, { inFlight: 1 });
  const [r4] = readsOf(d4.start());
  const size = 2048;
  assert.deepEqual(readsOf(d4.answer(r4!, all(0, 255, (p) => app(p, size))))[0]!.msg.limit, timing.catchUpChunkBytes / size);
});

test('the reads are spread over the peers in turn as the window moves', () => {
  const d = new D(0, 99, { chunk: 10, inFlight: 1 });
  const seen: number[] = [];
  let [r] = readsOf(d.start());
  for (let k = 0; k < 5; k++) {
    seen.push(r!.to);
    [r] = readsOf(d.full(r!));
  }
  assert.deepEqual(seen, [1, 2, 3, 1, 2]);
});

// ------------------------------------------------------------------ what a reply counts for

test('learned values are copied in position order: a later read answered first waits for the reads before it', () => {
  const d = new D(0, 29, { chunk: 10, inFlight: 3 });
  const [a, b, c] = readsOf(d.start());
  assert.deepEqual(d.full(c!).learned, []);
  assert.deepEqual(d.full(b!).learned, []);
  const out = d.full(a!);
  assert.deepEqual(d.positions(), Array.from({ length: 30 }, (_, p) => p));
  assert.equal(out.done, 'ok');
  for (const e of d.learned) assert.deepEqual(e.action, app(e.position));
});

test('a reply is taken only from the peer asked, with the request id of the request out, once', () => {
  const d = new D(0, 19, { chunk: 10, inFlight: 2 });
  const [a, b] = readsOf(d.start());
  // The right id from another peer, then a wrong id from the right peer: both ignored.
  assert.deepEqual(d.reply(3, rr(a!.msg, { slots: all(0, 9) })), { send: [], learned: [] });
  assert.deepEqual(d.reply(a!.to, rr({ ...a!.msg, rid: 99 }, { slots: all(0, 9) })), { send: [], learned: [] });
  // b answered (it waits behind a); a second answer to it (not VOTING now) is no answer: nothing benched or resent.
  d.full(b!);
  assert.deepEqual(d.reply(b!.to, rr(b!.msg, { status: 'RECOVERING' })).send, []);
  const out = d.full(a!);
  assert.deepEqual(d.positions(), Array.from({ length: 20 }, (_, p) => p));
  assert.equal(out.done, 'ok');
});

test('only learned slots with a value are copied: an accepted value is not, nor a learned slot without its value', () => {
  const d = new D(0, 3, { peers: [1, 2] });
  const [r] = readsOf(d.start());
  const out = d.answer(r!, [L(0), A(1), { position: 2, promised: 0, accepted: 1, learned: true }, L(3)]);
  assert.deepEqual(d.positions(), [0]);
  assert.deepEqual(readsOf(out).map(shape), [[2, 1, 3, 3]], 'position 1 is asked of the next peer');
  // Peer 2 holds nothing either: a fill, over 1..2 (3 is learned), not stopped at 2 by the valueless slot.
  const fill = d.answer(readsOf(out)[0]!, []);
  assert.deepEqual(promisesOf(fill).map((p) => [p.msg.from, p.msg.to]), [[1, 2], [1, 2]]);
});

test('a reply counts up to its coveredThrough only; a peer whose answer stopped short is asked again from there', () => {
  const d = new D(0, 9, { peers: [1, 2] });
  const [r] = readsOf(d.start());
  // Cut at 4 (its byte bound); a learned slot listed past the cut does not count.
  const out = d.answer(r!, [...all(0, 4), L(6)], 0, { coveredThrough: 4 });
  assert.deepEqual(d.positions(), [0, 1, 2, 3, 4]);
  assert.deepEqual(readsOf(out).map(shape), [[1, 5, 9, 5]], 'the same peer, from the cut, limit for the rest');
  // Peer 1 answers the rest without 6: peer 2 is asked from 6.
  const out2 = d.answer(readsOf(out)[0]!, [L(5), ...all(7, 9)]);
  assert.deepEqual(readsOf(out2).map(shape), [[2, 6, 9, 4]]);
  d.answer(readsOf(out2)[0]!, [L(6)]);
  assert.deepEqual(d.positions(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(d.c.done, true);
});

test('a slot at the read\'s first and last position counts (the bounds are inclusive)', () => {
  const d = new D(0, 9, { peers: [1, 2] });
  const [r] = readsOf(d.start());
  const out = d.answer(r!, [L(0)], 0, { coveredThrough: 9 });
  const [again] = readsOf(out);
  assert.deepEqual(shape(again!), [2, 1, 9, 9]);
  d.answer(again!, [L(1), ...all(2, 8), L(9)]);
  assert.deepEqual(d.positions(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('a peer answering not VOTING: nothing it lists is copied, its read goes to the next peer at once, and it is set aside for 5 x retransmitMs', () => {
  const d = new D(0, 99, { chunk: 10, inFlight: 1 });
  const [r] = readsOf(d.start());
  const out = d.answer(r!, all(0, 9), 100, { status: 'RECOVERING' });
  assert.deepEqual(out.learned, []);
  assert.deepEqual(readsOf(out).map(shape), [[2, 0, 9, 10]]);
  // Peer 1 is skipped while set aside...
  const [r2] = readsOf(d.full(readsOf(out)[0]!, 100));
  const [r3] = readsOf(d.full(r2!, 100));
  assert.deepEqual([r2!.to, r3!.to], [3, 2]);
  // ... until 100 + 5 x retransmitMs exactly.
  const [r4] = readsOf(d.full(r3!, 100 + timing.retransmitMs * 5 - 1));
  assert.equal(r4!.to, 3);
  const [r5] = readsOf(d.full(r4!, 100 + timing.retransmitMs * 5));
  assert.equal(r5!.to, 1);
});

test('when every peer is set aside, reads still go to them in turn', () => {
  const d = new D(0, 99, { chunk: 10, inFlight: 1 });
  const [r] = readsOf(d.start());
  const o1 = d.answer(r!, [], 0, { status: 'RECOVERING' }); // 1 benched, ask 2
  const o2 = d.answer(readsOf(o1)[0]!, [], 0, { status: 'RECOVERING' }); // 2 benched, ask 3
  const o3 = d.answer(readsOf(o2)[0]!, [], 0, { status: 'RECOVERING' }); // 3 benched: all are
  const o4 = d.answer(readsOf(o3)[0]!, [], 0, { status: 'RECOVERING' });
  const o5 = d.answer(readsOf(o4)[0]!, [], 0, { status: 'RECOVERING' });
  assert.deepEqual([o1, o2, o3, o4, o5].map((o) => readsOf(o)[0]!.to), [2, 3, 1, 2, 3]);
});

// ------------------------------------------------------------------ asking the other peers, then a fill

test('a position the peer has not learned is asked of the next peer in turn after it, until every peer answered; then a fill', () => {
  const d = new D(0, 9, { chunk: 10, inFlight: 2, peers: [1, 2, 3] });
  // The first read goes to peer 1; make the read about 0..9 go to peer 2 first by a non-VOTING answer.
  const [r] = readsOf(d.start());
  const o1 = d.answer(r!, [], 0, { status: 'RECOVERING' }); // to 2 now, 1 set aside
  assert.equal(readsOf(o1)[0]!.to, 2);
  const o2 = d.answer(readsOf(o1)[0]!, [L(0)], 1500); // 1 is back at 1500: next after 2 is 3
  assert.deepEqual(readsOf(o2).map(shape), [[3, 1, 9, 9]]);
  const o3 = d.answer(readsOf(o2)[0]!, [L(1)], 1500); // 2 and 3 answered about 2 without it: then 1 (wrapping)
  assert.deepEqual(readsOf(o3).map(shape), [[1, 2, 9, 8]]);
  const o4 = d.answer(readsOf(o3)[0]!, [], 1500);
  assert.deepEqual(readsOf(o4), [], 'every peer answered about 2: no more reads');
  assert.deepEqual(promisesOf(o4).map((p) => [p.to, p.msg.from, p.msg.to]), [
    [1, 2, 9],
    [2, 2, 9],
    [3, 2, 9],
  ]);
});

test('the turn wraps: a read the last peer answered without the cursor goes to the first peer next, not the second', () => {
  const d = new D(0, 29, { chunk: 10, inFlight: 3, peers: [1, 2, 3] });
  const [a, b, c] = readsOf(d.start());
  assert.deepEqual([a, b, c].map((r) => r!.to), [1, 2, 3]);
  d.answer(c!, all(21, 29)); // 3 has not learned 20
  d.full(b!);
  const out = d.full(a!);
  assert.deepEqual(d.positions(), Array.from({ length: 20 }, (_, p) => p));
  assert.deepEqual(readsOf(out).map(shape), [[1, 20, 29, 10]]);
});

test('a repair (fillGaps false) skips a position no peer learned, and never fills; by default a catch-up fills', () => {
  const d = new D(0, 3, { peers: [1, 2], fillGaps: false });
  const [r] = readsOf(d.start());
  const o = d.answer(r!, [L(0), L(2), L(3)]);
  const o2 = d.answer(readsOf(o)[0]!, [L(0), L(2)]);
  assert.equal(o2.done, 'ok');
  assert.deepEqual(d.positions(), [0, 2, 3]);
  assert.ok(!d.outs.some((x) => promisesOf(x).length > 0));
  const f = new D(0, 3, { peers: [1, 2] });
  const [fr] = readsOf(f.start());
  const fo = f.answer(readsOf(f.answer(fr!, [L(0), L(2), L(3)]))[0]!, [L(0)]);
  assert.deepEqual(promisesOf(fo).map((p) => [p.msg.from, p.msg.to]), [[1, 1], [1, 1]]);
});

test('a peer set aside is not asked about a position while another is free; with every other one set aside, the answers so far decide (a fill)', () => {
  const d = new D(0, 9, { peers: [1, 2, 3] });
  d.start(); // to 1
  // 1 silent: benched at 400, the read goes to 2.
  const t = d.tick(timing.retransmitMs * 2);
  assert.deepEqual(readsOf(t).map((x) => x.to), [2]);
  // 2 answers without 0: 1 is set aside, so 3 is asked, not 1.
  const o = d.answer(readsOf(t)[0]!, [], 500);
  assert.deepEqual(readsOf(o).map((x) => x.to), [3]);
  // 3 answers without 0 too: 1 is still set aside, the answers of 2 and 3 decide: a fill.
  const o2 = d.answer(readsOf(o)[0]!, [], 600);
  assert.deepEqual(readsOf(o2), []);
  assert.equal(promisesOf(o2).length, 3);
});

test('when every peer is set aside and none answered about the cursor, one is asked anyway: never a fill on no answers', () => {
  const d = new D(0, 9, { peers: [1, 2] });
  d.start(); // to 1
  const t = d.tick(timing.retransmitMs * 2); // 1 benched, to 2
  const o = d.answer(readsOf(t)[0]!, [], 400, { status: 'RECOVERING' }); // 2 benched: all are; to 1
  assert.equal(readsOf(o)[0]!.to, 1);
  // 1 answers, cut at 4: the cursor moves to 5, which nobody answered about; both are set aside.
  const o2 = d.answer(readsOf(o)[0]!, all(0, 4), 500, { coveredThrough: 4 });
  assert.deepEqual(d.positions(), [0, 1, 2, 3, 4]);
  assert.deepEqual(promisesOf(o2), []);
  assert.deepEqual(readsOf(o2).map((x) => [x.msg.from, x.msg.to]), [[5, 9]]);
});

// ------------------------------------------------------------------ silence

test('a read unanswered for 2 x retransmitMs goes to the next peer, and the silent one is set aside', () => {
  const d = new D(0, 99, { chunk: 10, inFlight: 1 });
  const [r] = readsOf(d.start(0));
  assert.deepEqual(d.tick(timing.retransmitMs * 2 - 1).send, []);
  const t = d.tick(timing.retransmitMs * 2);
  assert.deepEqual(readsOf(t).map(shape), [[2, 0, 9, 10]]);
  // The first peer's late answer is no answer any more; 2's is, and the next read skips 1 (set aside) and goes to 3.
  assert.deepEqual(d.full(r!, 450).learned, []);
  const o = d.full(readsOf(t)[0]!, 450);
  assert.deepEqual(d.positions(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(readsOf(o).map((x) => x.to), [3]);
});

test('silence is counted from the read\'s last sending', () => {
  const d = new D(0, 99, { chunk: 10, inFlight: 1 });
  d.start(0);
  const t = d.tick(400); // resent to 2 at 400
  assert.equal(readsOf(t).length, 1);
  assert.deepEqual(d.tick(799).send, [], 'not silent yet: sent at 400');
  assert.deepEqual(readsOf(d.tick(800)).map((x) => x.to), [3]);
});

test('a peer that answers other reads keeps its slower read alive', () => {
  const d = new D(0, 99, { chunk: 10, inFlight: 2, peers: [1] });
  const [, b] = readsOf(d.start(0));
  d.full(b!, 300); // peer 1 answered b at 300; a is still out
  assert.deepEqual(d.tick(699).send, [], 'heard from at 300: not silent');
  assert.deepEqual(readsOf(d.tick(700)).map((x) => [x.msg.from, x.msg.to]), [[0, 9]]);
});

// ------------------------------------------------------------------ giving up

test('with mayGiveUp, a catch-up gives up (no-quorum) operationTimeoutMs after the last VOTING answer, not before', () => {
  const d = new D(0, 99, { chunk: 10, inFlight: 1, mayGiveUp: () => true });
  const [r] = readsOf(d.start(0));
  const o = d.full(r!, 1000);
  d.answer(readsOf(o)[0]!, [], 2000, { status: 'RECOVERING' }); // not VOTING: not useful
  assert.equal(d.tick(1000 + timing.operationTimeoutMs - 1).done, undefined);
  const end = d.tick(1000 + timing.operationTimeoutMs);
  assert.equal(end.done, 'no-quorum');
  assert.deepEqual(end.send, []);
  assert.equal(d.c.done, true);
  assert.deepEqual(d.tick(1000 + timing.operationTimeoutMs + 1000), { send: [], learned: [] });
});

test('without mayGiveUp, or while it says no, a catch-up waits its peers out', () => {
  for (const mayGiveUp of [undefined, () => false]) {
    const d = new D(0, 99, { chunk: 10, inFlight: 1, ...(mayGiveUp === undefined ? {} : { mayGiveUp }) });
    d.start(0);
    for (let t = 400; t <= 3 * timing.operationTimeoutMs; t += 400) assert.equal(d.tick(t).done, undefined);
    assert.equal(d.c.done, false);
  }
});

test('a catch-up paused by its rate limit has no read out: it does not give up', () => {
  const d = new D(0, 99, { chunk: 10, inFlight: 1, bytesPerSecMax: 100, mayGiveUp: () => true });
  const [r] = readsOf(d.start(0));
  const o = d.answer(r!, all(0, 9, (p) => app(p, 300))); // 3000 bytes: paused until 30 s
  assert.deepEqual(o.send, []);
  assert.equal(d.tick(timing.operationTimeoutMs + 1).done, undefined);
  assert.deepEqual(d.tick(29_999).send, []);
  const t = d.tick(30_000);
  assert.equal(t.done, undefined);
  assert.deepEqual(readsOf(t).map((x) => x.msg.from), [10]);
});

test('starting again after a pause keeps the clock of the first start (the give-up and the rate limit)', () => {
  const d = new D(0, 99, { chunk: 10, inFlight: 1, mayGiveUp: () => true });
  d.start(0);
  d.start(9000);
  assert.equal(d.tick(timing.operationTimeoutMs).done, 'no-quorum');
});

test('a stray promise or write reply with no fill running is ignored, and is not an answer that keeps the catch-up alive', () => {
  const d = new D(0, 99, { chunk: 10, inFlight: 1, mayGiveUp: () => true });
  d.start(0);
  const p: PromiseRequest = { type: 'promise', rid: 1, proposal: 1, from: 0, to: 0 };
  assert.deepEqual(d.reply(1, promiseOk(p), 5000), { send: [], learned: [] });
  const w: WriteRequest = { type: 'write', rid: 1, proposal: 1, from: 0, actions: [NOP], named: [] };
  assert.deepEqual(d.reply(1, writeOk(w), 5000), { send: [], learned: [] });
  assert.equal(d.tick(timing.operationTimeoutMs).done, 'no-quorum');
});

test('a fill\'s answers count as heard: the give-up clock starts again after them', () => {
  const d = new D(0, 99, { peers: [1, 2], chunk: 10, inFlight: 1, mayGiveUp: () => true });
  const [r] = readsOf(d.start(0));
  const o = d.answer(r!, all(1, 9));
  const f = d.answer(readsOf(o)[0]!, all(1, 9)); // nobody learned 0: a fill
  assert.equal(promisesOf(f).length, 2);
  const done = runFill(d, f, [1, 2], 8000);
  assert.deepEqual(d.positions(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(readsOf(done).length, 1, 'the next read is out');
  assert.equal(d.tick(timing.operationTimeoutMs + 500).done, undefined, 'heard from at 8000');
  assert.equal(d.tick(8000 + timing.operationTimeoutMs).done, 'no-quorum');
});

// ------------------------------------------------------------------ an active writer

/** A catch-up of [0, 9] from peers 1 and 2 where neither learned position 2; `active` says which report a writer active. */
function stalledAt2(active: { 1: boolean; 2: boolean }, cfg: Partial<CatchUpConfig> = {}): { d: D; out: CatchUpOutput } {
  const d = new D(0, 9, { peers: [1, 2], ...cfg });
  const [r] = readsOf(d.start(0));
  const o = d.answer(r!, [L(0), L(1), ...all(3, 9)], 0, { writerActive: active[1] });
  const out = d.answer(readsOf(o)[0]!, all(3, 9), 0, { writerActive: active[2] });
  return { d, out };
}

test('under an active writer (one peer says so is enough) the catch-up waits and asks again after retransmitMs, not before', () => {
  for (const active of [{ 1: true, 2: false }, { 1: false, 2: true }] as const) {
    const { d, out } = stalledAt2(active);
    assert.deepEqual(out.send, [], 'no fill, no read yet');
    assert.deepEqual(d.tick(timing.retransmitMs - 1).send, []);
    const t = d.tick(timing.retransmitMs);
    assert.deepEqual(readsOf(t).map((x) => [x.msg.from, x.msg.to]), [[2, 9]]);
    assert.deepEqual(d.tick(timing.retransmitMs + 1).send, [], 'asked once: the read waits for its answer');
  }
});

test('no writer active: the gap is filled at once', () => {
  const { out } = stalledAt2({ 1: false, 2: false });
  assert.deepEqual(promisesOf(out).map((p) => [p.to, p.msg.from, p.msg.to]), [[1, 2, 2], [2, 2, 2]]);
});

test('while it waits for an active writer, the read is asked of every peer again in turn', () => {
  const { d } = stalledAt2({ 1: true, 2: true });
  const t = d.tick(timing.retransmitMs);
  const [again] = readsOf(t);
  // That peer still has not learned 2: the other one is asked too before anything else.
  const o = d.answer(again!, all(3, 9), timing.retransmitMs, { writerActive: true });
  assert.deepEqual(readsOf(o).map((x) => [x.msg.from, x.msg.to]), [[2, 9]]);
  assert.notEqual(readsOf(o)[0]!.to, again!.to);
  // It has learned it now: copied.
  d.answer(readsOf(o)[0]!, all(2, 9), timing.retransmitMs);
  assert.deepEqual(d.positions(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('the read waiting for an active writer is not applied by other replies before its time', () => {
  const d = new D(0, 19, { peers: [1, 2], chunk: 10, inFlight: 2 });
  const [a, b] = readsOf(d.start(0));
  const o = d.answer(a!, [L(0), L(1), ...all(3, 9)], 0, { writerActive: true });
  const o2 = d.answer(readsOf(o)[0]!, all(3, 9), 0, { writerActive: true });
  assert.deepEqual(o2.send, []);
  // b's answer comes in meanwhile: the head read still waits until retransmitMs.
  assert.deepEqual(d.full(b!, 50).send, []);
  assert.deepEqual(d.positions(), [0, 1]);
});

test('an active writer is waited for at most activeWriterWaitMs at one position; then a fill', () => {
  const { d } = stalledAt2({ 1: true, 2: true });
  let out: CatchUpOutput | undefined;
  let last = 0;
  // Peers answer at once, always without position 2, always with a writer active.
  for (let t = timing.retransmitMs; t < timing.activeWriterWaitMs + 1000; t += timing.retransmitMs) {
    const [r] = readsOf(d.tick(t));
    if (r === undefined) continue;
    out = d.answer(r, all(3, 9), t, { writerActive: true });
    const [r2] = readsOf(out);
    if (r2 !== undefined) out = d.answer(r2, all(3, 9), t, { writerActive: true });
    last = t;
    if (promisesOf(out).length > 0) break;
  }
  assert.equal(last, timing.activeWriterWaitMs, 'the fill starts at activeWriterWaitMs exactly');
  assert.deepEqual(promisesOf(out!).map((p) => [p.msg.from, p.msg.to]), [[2, 2], [2, 2]]);
});

test('the wait under an active writer is counted per position: a later stalled position waits again', () => {
  const d = new D(0, 9, { peers: [1, 2] });
  const [r] = readsOf(d.start(0));
  const holes = (from: number): Slot[] => all(from, 9).filter((s) => s.position !== 2 && s.position !== 5);
  let o = d.answer(r!, [L(0), L(1), ...holes(3)], 0, { writerActive: true });
  o = d.answer(readsOf(o)[0]!, holes(3), 0, { writerActive: true });
  // At activeWriterWaitMs, still no peer learned 2: the next answers with a writer active lead to a fill of 2 alone.
  const t = timing.activeWriterWaitMs;
  const [again] = readsOf(d.tick(t));
  o = d.answer(again!, holes(2), t, { writerActive: true });
  o = d.answer(readsOf(o)[0]!, holes(2), t, { writerActive: true });
  assert.deepEqual(promisesOf(o).map((p) => [p.msg.from, p.msg.to]), [[2, 2], [2, 2]]);
  runFill(d, o, [1, 2], t, [A(2)]);
  assert.deepEqual(d.positions(), [0, 1, 2, 3, 4]);
  // Position 5 has its own wait (the answers about it named a writer active): no fill, the read is asked again later.
  assert.deepEqual(d.outs.at(-1)!.send.filter((x) => x.msg.type !== 'commit'), [], 'position 5 waits for the writer too');
  assert.deepEqual(readsOf(d.tick(t + timing.retransmitMs)).map((x) => [x.msg.from, x.msg.to]), [[5, 9]]);
});

// ------------------------------------------------------------------ fills

test('a fill covers the gap up to the next position a peer learned', () => {
  const d = new D(0, 9, { peers: [1, 2] });
  const [r] = readsOf(d.start());
  const slots = [L(0), L(1), L(4), L(5), L(6), L(7), L(8), L(9)];
  const o = d.answer(readsOf(d.answer(r!, slots))[0]!, slots);
  assert.deepEqual(promisesOf(o).map((p) => [p.msg.from, p.msg.to]), [[2, 3], [2, 3]]);
});

test('a fill goes no further than every answer covered', () => {
  const d = new D(0, 9, { peers: [1, 2] });
  const [r] = readsOf(d.start());
  const o = d.answer(r!, [L(0)]); // 1 covers 0..9
  const o2 = d.answer(readsOf(o)[0]!, [], 0, { coveredThrough: 4 }); // 2 covers 1..4 only
  assert.deepEqual(promisesOf(o2).map((p) => [p.msg.from, p.msg.to]), [[1, 4], [1, 4]]);
});

test('a fill covers limits.fillRangeMax positions at most', () => {
  const d = new D(0, 999, { peers: [1, 2], chunk: 1000 });
  const [r] = readsOf(d.start()); // the first read asks 256 positions
  const o = d.answer(readsOf(d.answer(r!, [L(0)]))[0]!, []);
  assert.deepEqual(promisesOf(o).map((p) => [p.msg.from, p.msg.to])[0], [1, Math.min(255, limits.fillRangeMax)]);
  const d2 = new D(0, 9999, { peers: [1, 2], inFlight: 1 });
  const [x] = readsOf(d2.start());
  const [y] = readsOf(d2.answer(x!, all(0, 255, () => NOP)));
  assert.equal(y!.msg.limit, limits.readSlotsMax);
  const f = d2.answer(readsOf(d2.answer(y!, []))[0]!, []);
  assert.deepEqual(promisesOf(f).map((p) => [p.msg.from, p.msg.to])[0], [256, 256 + limits.fillRangeMax - 1]);
});

test('a fill reaches as far as the answers covered, the last covered position included', () => {
  const d = new D(0, 9, { peers: [1], quorum: 1 });
  const [r] = readsOf(d.start());
  // The only peer answers through 5 (its byte bound), without 5.
  const o = d.answer(r!, all(0, 4), 0, { coveredThrough: 5 });
  assert.deepEqual(d.positions(), [0, 1, 2, 3, 4]);
  assert.deepEqual(readsOf(o), []);
  assert.deepEqual(promisesOf(o).map((p) => [p.msg.from, p.msg.to]), [[5, 5]]);
  // Its writer-active flag counts too: the same answer naming a writer active waits instead.
  const w = new D(0, 9, { peers: [1], quorum: 1 });
  const [wr] = readsOf(w.start());
  assert.deepEqual(w.answer(wr!, all(0, 4), 0, { coveredThrough: 5, writerActive: true }).send, []);
});

test('a peer set aside whose answer stopped short of the cursor is not waited for: the answers about the cursor decide the fill', () => {
  const d = new D(0, 9, { peers: [1, 2] });
  const [r] = readsOf(d.start(0));
  // 1 answers through 4, with a writer active, and is asked again from 5 (its answer stopped short)...
  const o = d.answer(r!, all(0, 4), 0, { coveredThrough: 4, writerActive: true });
  assert.deepEqual(readsOf(o).map(shape), [[1, 5, 9, 5]]);
  // ... but falls silent: set aside at 400, the read goes to 2, which has not learned 5..9 (no writer active there).
  const t = d.tick(timing.retransmitMs * 2);
  assert.deepEqual(readsOf(t).map(shape), [[2, 5, 9, 5]]);
  const o2 = d.answer(readsOf(t)[0]!, [], 400);
  // 1 is set aside and never answered about 5: 2's answer decides: a fill of 5..9 at once (1's old answer is about 0..4 only).
  assert.deepEqual(readsOf(o2), []);
  assert.deepEqual(promisesOf(o2).map((p) => [p.to, p.msg.from, p.msg.to]), [[1, 5, 9], [2, 5, 9]]);
});

test('without a view a fill asks the peers and needs `quorum`; with one it asks config(q)\'s voters but self', () => {
  const d = new D(0, 0, { peers: [1, 2], quorum: 2 });
  const [r] = readsOf(d.start());
  const o = d.answer(readsOf(d.answer(r!, []))[0]!, []);
  assert.deepEqual(promisesOf(o).map((p) => p.to), [1, 2]);
  // One promise is no quorum of 2; both are.
  assert.deepEqual(writesOf(d.reply(1, promiseOk(promisesOf(o)[0]!.msg))), []);
  assert.deepEqual(writesOf(d.reply(2, promiseOk(promisesOf(o)[1]!.msg))).map((w) => w.to), [1, 2]);
  const v = new D(0, 0, { peers: [1, 2], view: chainView([config0([1, 2, 3, 4])]), self: 4 });
  const [vr] = readsOf(v.start());
  const vo = v.answer(readsOf(v.answer(vr!, []))[0]!, []);
  assert.deepEqual(promisesOf(vo).map((p) => p.to), [1, 2, 3]);
});

test('a fill\'s entries are learned in order with the rest of the read after them; no new read goes out while it runs', () => {
  const d = new D(0, 5, { peers: [1], quorum: 1, chunk: 2, inFlight: 2 });
  const [a, b] = readsOf(d.start());
  d.answer(b!, [L(3)]); // 2 unlearned
  const o = d.full(a!); // 0, 1 copied; b is the head: a fill of 2
  assert.deepEqual(d.positions(), [0, 1]);
  assert.deepEqual(readsOf(o), [], 'no read while the fill runs');
  assert.deepEqual(promisesOf(o).map((p) => [p.msg.from, p.msg.to]), [[2, 2]]);
  const done = runFill(d, o, [1], 0, [A(2, app(2))]);
  assert.deepEqual(d.positions(), [0, 1, 2, 3]);
  assert.deepEqual(d.learned[2]!.action, app(2), 'the accepted value is chosen');
  assert.equal(done.floors, undefined, 'no config entry chosen: no floor');
  assert.deepEqual(readsOf(done).map((x) => [x.msg.from, x.msg.to]), [[4, 5]]);
});

test('a fill that settles a prefix of its range (a promise reply cut) goes on after the prefix', () => {
  const d = new D(0, 9, { peers: [1], quorum: 1 });
  const [r] = readsOf(d.start());
  const o = d.answer(r!, [L(0), ...all(6, 9)]); // a fill of 1..5
  const [p] = promisesOf(o);
  assert.deepEqual([p!.msg.from, p!.msg.to], [1, 5]);
  const o2 = d.reply(1, promiseOk(p!.msg, { coveredThrough: 2 }));
  const [w] = writesOf(o2);
  assert.equal(w!.msg.actions.length, 2);
  const o3 = d.reply(1, writeOk(w!.msg));
  assert.deepEqual(d.positions(), [0, 1, 2]);
  // The rest of the gap: a read of it first (the peer's cover goes on), then a fill from 3.
  const next = promisesOf(o3).length > 0 ? o3 : d.answer(readsOf(o3)[0]!, all(6, 9));
  assert.deepEqual(promisesOf(next).map((x) => [x.msg.from, x.msg.to]), [[3, 5]]);
});

test('a fill that fails ends the catch-up with no-quorum; a fill unanswered times out on a tick; its retransmissions go out on ticks', () => {
  const d = new D(0, 9, { peers: [1], quorum: 1 });
  const [r] = readsOf(d.start(0));
  const o = d.answer(r!, [L(0)]);
  const [p] = promisesOf(o);
  // A peer that truncated the range: the fill fails.
  const fail = d.reply(1, promiseOk(p!.msg, { begin: 5 }));
  assert.equal(fail.done, 'no-quorum');
  assert.equal(d.c.done, true);
  const d2 = new D(0, 9, { peers: [1], quorum: 1 });
  const [r2] = readsOf(d2.start(0));
  d2.answer(r2!, [L(0)], 100);
  assert.deepEqual(d2.tick(100 + timing.retransmitMs - 1).send, []);
  assert.deepEqual(promisesOf(d2.tick(100 + timing.retransmitMs)).map((x) => x.to), [1], 'the promise is sent again');
  assert.equal(d2.tick(100 + timing.operationTimeoutMs - 1).done, undefined);
  const end = d2.tick(100 + timing.operationTimeoutMs);
  assert.equal(end.done, 'no-quorum');
  assert.deepEqual(d2.tick(100 + timing.operationTimeoutMs + 500), { send: [], learned: [] });
});

test('a fill starts above the highest proposal an earlier fill met', () => {
  const d = new D(0, 9, { peers: [1], quorum: 1 });
  const [r] = readsOf(d.start(0));
  const o = d.answer(r!, [L(0), L(2), L(3), ...all(5, 9)]); // gaps at 1 and 4
  const [p] = promisesOf(o);
  assert.deepEqual([p!.msg.from, p!.msg.to, p!.msg.proposal], [1, 1, 1]);
  // Refused: a higher proposal (7) holds the peer. The fill backs off and tries again above it.
  d.reply(1, promiseOk(p!.msg, { outcome: 'reject', proposal: 7 }));
  let retry: Prom | undefined;
  let t = 0;
  while (retry === undefined && t < timing.operationTimeoutMs) [retry] = promisesOf(d.tick((t += 100)));
  assert.equal(retry!.msg.proposal, 8);
  const [w] = writesOf(d.reply(1, promiseOk(retry!.msg), t));
  const after = d.reply(1, writeOk(w!.msg), t);
  assert.deepEqual(d.positions(), [0, 1, 2, 3]);
  // The gap at 4: its fill starts above 8, not at 1 again.
  assert.deepEqual(promisesOf(after).map((x) => [x.msg.from, x.msg.to, x.msg.proposal]), [[4, 4, 9]]);
});

test('R9f: a config entry a fill chose names its floor (the fill\'s proposal), with the peers\' chain; one the fill found learned names none', () => {
  const d = new D(0, 3, { peers: [1, 2] });
  const [r] = readsOf(d.start());
  const o = d.answer(readsOf(d.answer(r!, [L(0), L(2), L(3)], 0, { chain: chain1 }))[0]!, [L(0), L(2), L(3)]);
  const [p1, p2] = promisesOf(o);
  // Both hold a config entry of epoch 1 at 1, accepted under 1: the fill chooses it jointly (R3).
  d.reply(1, promiseOk(p1!.msg, { slots: [A(1, CONFIG)] }));
  const ws = writesOf(d.reply(2, promiseOk(p2!.msg, { slots: [A(1, CONFIG)] })));
  assert.ok(ws.length >= 2);
  let done: CatchUpOutput | undefined;
  for (const w of ws.filter((x) => x.to !== 3)) done = d.reply(w.to, writeOk(w.msg, { learnedThrough: 0, lostBelow: false }));
  assert.deepEqual(done!.learned.map((e) => e.position), [1, 2, 3]);
  assert.deepEqual(done!.floors, [{ position: 1, floor: ws[0]!.msg.proposal }]);
  assert.deepEqual(done!.chain, chain1, 'a config entry learned: the chain goes with it');
  // The fill finds it learned at a peer: chosen already, no floor of the fill's.
  const e = new D(0, 3, { peers: [1, 2] });
  const [er] = readsOf(e.start());
  const eo = e.answer(readsOf(e.answer(er!, [L(0), L(2), L(3)]))[0]!, [L(0), L(2), L(3)]);
  const [q1, q2] = promisesOf(eo);
  assert.deepEqual(e.reply(1, promiseOk(q1!.msg, { slots: [L(1, CONFIG)] })).learned, []);
  const fin = e.reply(2, promiseOk(q2!.msg));
  assert.deepEqual(fin.learned.map((x) => x.position), [1, 2, 3]);
  assert.equal(fin.floors, undefined);
  assert.equal(fin.chain, undefined, 'no peer sent a chain');
});

// ------------------------------------------------------------------ a peer's beginning, the chain

test('a peer\'s beginning inside the range is adopted with its head and chain; the positions from it are copied', () => {
  const d = new D(0, 9, { peers: [1, 2] });
  const [r] = readsOf(d.start());
  const out = d.answer(r!, all(4, 9), 0, { begin: 4, config: { epoch: 1, position: 3 }, chain: chain2 });
  assert.equal(out.begin, 4);
  assert.deepEqual(out.beginHead, { epoch: 1, position: 3 });
  assert.deepEqual(out.chain, chain2);
  assert.deepEqual(d.positions(), [4, 5, 6, 7, 8, 9]);
  assert.equal(out.done, 'ok');
});

test('a peer\'s beginning without a head names the bootstrap head', () => {
  const d = new D(0, 9, { peers: [1, 2] });
  const [r] = readsOf(d.start());
  const out = d.answer(r!, all(4, 9), 0, { begin: 4 });
  assert.equal(out.begin, 4);
  assert.deepEqual(out.beginHead, BOOTSTRAP_HEAD);
  assert.equal(out.chain, undefined, 'no peer sent a chain');
});

test('a beginning past the range: done, the beginning adopted, nothing copied', () => {
  const d = new D(0, 9, { peers: [1, 2] });
  const [r] = readsOf(d.start());
  const out = d.answer(r!, [], 0, { begin: 50 });
  assert.equal(out.begin, 50);
  assert.equal(out.done, 'ok');
  assert.deepEqual(d.positions(), []);
});

test('of two beginnings past the range, the higher is adopted, whichever read reported it', () => {
  const d = new D(0, 19, { peers: [1, 2], chunk: 10, inFlight: 2 });
  const [a, b] = readsOf(d.start());
  // The later read's peer truncated to 30 only; the first read's peer to 50 (it learned a later TRUNCATE).
  d.answer(b!, [], 0, { begin: 30, config: { epoch: 0, position: -1 } });
  const out = d.answer(a!, [], 0, { begin: 50, config: { epoch: 1, position: 3 } });
  assert.equal(out.done, 'ok');
  assert.equal(out.begin, 50);
  assert.deepEqual(out.beginHead, { epoch: 1, position: 3 });
  assert.deepEqual(d.positions(), []);
});

test('a beginning at the cursor truncated nothing the catch-up needs: no beginning adopted', () => {
  const d = new D(5, 9, { peers: [1, 2] });
  const [r] = readsOf(d.start());
  const out = d.answer(r!, all(5, 9), 0, { begin: 5, chain: chain2 });
  assert.equal(out.begin, undefined);
  assert.equal(out.chain, undefined, 'no beginning, no config entry: no chain');
  assert.deepEqual(d.positions(), [5, 6, 7, 8, 9]);
});

test('a later read\'s beginning is adopted when the copy reaches it, after the entries below it', () => {
  const d = new D(0, 19, { peers: [1, 2], chunk: 10, inFlight: 2 });
  const [a, b] = readsOf(d.start());
  d.answer(b!, all(15, 19), 0, { begin: 15, config: { epoch: 1, position: 3 }, chain: chain2 });
  const out = d.full(a!);
  assert.deepEqual(out.learned.map((e) => e.position), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 19]);
  assert.equal(out.begin, 15);
  assert.deepEqual(out.beginHead, { epoch: 1, position: 3 });
});

test('the longest chain a peer sent is kept, and goes out with a copied config entry', () => {
  const d = new D(0, 19, { peers: [1, 2], chunk: 10, inFlight: 2 });
  const [a, b] = readsOf(d.start());
  const o = d.full(a!, 0, { chain: chain2 });
  assert.equal(o.chain, undefined, 'appends only: no chain');
  // A shorter chain later does not replace it.
  const o2 = d.answer(b!, [L(10, CONFIG), ...all(11, 19)], 0, { chain: chain1 });
  assert.deepEqual(o2.chain, chain2);
  // A first chain of one link is kept too.
  const e = new D(0, 9, { peers: [1, 2] });
  const [er] = readsOf(e.start());
  assert.deepEqual(e.answer(er!, [L(0, CONFIG), ...all(1, 9)], 0, { chain: chain1 }).chain, chain1);
});

// ------------------------------------------------------------------ the rate limit

test('the rate limit: no read until the bytes copied are paid for at bytesPerSecMax since the start; a tick resumes', () => {
  const d = new D(0, 99, { peers: [1], chunk: 10, inFlight: 1, bytesPerSecMax: 1000 });
  const [r] = readsOf(d.start(1000));
  assert.deepEqual(d.answer(r!, all(0, 9, (p) => app(p, 50)), 1000).send, []); // 500 bytes: until 1500
  assert.deepEqual(d.tick(1499).send, []);
  assert.deepEqual(readsOf(d.tick(1500)).map((x) => x.msg.from), [10]);
  // A second start does not move the clock's origin.
  const e = new D(0, 99, { peers: [1], chunk: 10, inFlight: 1, bytesPerSecMax: 1000 });
  const [er] = readsOf(e.start(0));
  e.answer(er!, all(0, 9, (p) => app(p, 50)), 0); // until 500
  assert.deepEqual(readsOf(e.start(400)), []);
  assert.deepEqual(readsOf(e.tick(500)).map((x) => x.msg.from), [10]);
});

test('by default the rate limit is timing.catchUpBytesPerSecMax', () => {
  const d = new D(0, 99, { peers: [1], chunk: 10, inFlight: 1, bytesPerSecMax: undefined });
  const [r] = readsOf(d.start(0));
  const bytes = timing.catchUpBytesPerSecMax / 8; // 125 ms worth
  const o = d.answer(r!, [L(0, { kind: 'append', data: new Uint8Array(bytes) }), ...all(1, 9, () => NOP)], 0);
  assert.deepEqual(o.send, []);
  assert.deepEqual(d.tick(124).send, []);
  assert.equal(readsOf(d.tick(125)).length, 1);
});
