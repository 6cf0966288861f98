// The reader's rules, one at a time, on ReaderCore alone (src/core/reader.ts): hand-made replies at
// injected times, assertions on what the reader sends and answers. Which members a round asks and with
// what range and limit; that only VOTING replies count, and for how long a member counts as alive;
// paging; the wait before a fill, under an active writer and not; a fill's range; the truncation hint
// and its probe; R5's stop sign and the stale-config answers. Each test fails with one or more of
// Stryker's survivors in reader.ts planted by hand (issue 11; docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReaderCore, readRetransmitMaxMs, type ReaderEvent, type ReaderOutbound, type ReadResult } from '../../src/core/reader.js';
import { limits, timing } from '../../src/core/constants.js';
import { bootstrapConfiguration, chainView, type ConfigView } from '../../src/core/config-view.js';
import type { ConfigHead, Configuration, PendingConfig, PlacedConfiguration } from '../../src/core/membership.js';
import type { Action, PromiseReply, PromiseRequest, ReadReply, ReadRequest, ReplicaId, Slot, Status, WriteReply, WriteRequest } from '../../src/core/types.js';

// ------------------------------------------------------------------ helpers

type Out = { send: ReaderOutbound[]; done: { id: number; result: ReadResult }[] };
type Sent<M> = { to: ReplicaId; msg: M };

const app = (n: number): Action => ({ kind: 'append', data: new Uint8Array([n]) });
const NOP: Action = { kind: 'nop' };
const learned = (position: number, action: Action = app(position)): Slot => ({ position, promised: 0, accepted: 1, learned: true, action });
const held = (position: number, action: Action = app(position), proposal = 1): Slot => ({ position, promised: 0, accepted: proposal, learned: false, action });
const voters = (ids: readonly number[]) => ids.map((id) => ({ id, address: '' }));
/** The next configuration of members 1..3 (epoch 1), as a config entry's value. */
const cfg1: Configuration = { epoch: 1, voters: voters([1, 2, 3]), learners: [], nextId: 4 };
const pendingAt = (position: number): PendingConfig => ({ position, proposal: 1, config: cfg1 });

/** What a member holds; `serve` answers a read request from it as a replica would. */
interface Member {
  readonly status?: Status;
  readonly begin?: number;
  readonly end?: number;
  readonly slots?: readonly Slot[];
  /** The reply is cut after this position (its byte bound). */
  readonly cut?: number;
  readonly lost?: readonly number[];
  readonly writerActive?: boolean;
  readonly pendingTruncate?: { position: number; to: number };
  readonly config?: ConfigHead;
  readonly pending?: PendingConfig;
}
type Members = Readonly<Record<number, Member>>;

function serve(m: Member, req: ReadRequest): ReadReply {
  let covered = Math.min(req.to, m.cut ?? Number.MAX_SAFE_INTEGER);
  let slots = (m.slots ?? []).filter((s) => s.position >= req.from && s.position <= covered);
  if (slots.length > req.limit) {
    slots = slots.slice(0, req.limit);
    covered = slots[slots.length - 1]!.position;
  }
  const end = m.end ?? Math.max(-1, ...(m.slots ?? []).map((s) => s.position));
  return {
    type: 'readReply',
    rid: req.rid,
    status: m.status ?? 'VOTING',
    begin: m.begin ?? 0,
    end,
    learnedThrough: -1,
    slots,
    coveredThrough: covered,
    lost: (m.lost ?? []).filter((p) => p >= req.from && p <= covered),
    writerActive: m.writerActive ?? false,
    ...(m.pendingTruncate === undefined ? {} : { pendingTruncate: m.pendingTruncate }),
    ...(m.config === undefined ? {} : { config: m.config }),
    ...(m.pending === undefined ? {} : { pending: m.pending }),
  };
}

const reads = (send: readonly ReaderOutbound[]) => send.filter((s): s is Sent<ReadRequest> => s.msg.type === 'read');
const promises = (send: readonly ReaderOutbound[]) => send.filter((s): s is Sent<PromiseRequest> => s.msg.type === 'promise');
const writes = (send: readonly ReaderOutbound[]) => send.filter((s): s is Sent<WriteRequest> => s.msg.type === 'write');
const ids = (sent: readonly { to: ReplicaId }[]) => sent.map((s) => s.to).sort((a, b) => a - b);
/** The one range a step's read requests ask for (every member asked gets the same request). */
function range(send: readonly ReaderOutbound[]): { from: number; to: number; limit: number } | undefined {
  const r = reads(send);
  if (r.length === 0) return undefined;
  for (const s of r) assert.deepEqual(s.msg, r[0]!.msg, 'one request per round');
  return { from: r[0]!.msg.from, to: r[0]!.msg.to, limit: r[0]!.msg.limit };
}
/** The range of the fill a step started (its promise requests). */
function fillRange(send: readonly ReaderOutbound[]): { from: number; to: number } | undefined {
  const p = promises(send);
  return p.length === 0 ? undefined : { from: p[0]!.msg.from!, to: p[0]!.msg.to! };
}

class Drive {
  readonly rd: ReaderCore;
  constructor(opts: { members?: readonly ReplicaId[]; view?: ConfigView; proposalFloor?: () => number } = {}) {
    this.rd = new ReaderCore({
      ...(opts.view === undefined ? { members: opts.members ?? [1, 2, 3] } : { view: opts.view }),
      random: () => 0.5,
      ...(opts.proposalFloor === undefined ? {} : { proposalFloor: opts.proposalFloor }),
    });
  }
  step(event: ReaderEvent, now: number): Out {
    return this.rd.step(event, now);
  }
  read(id: number, from: number, to: number, now: number): Out {
    return this.step({ type: 'read', id, from, to }, now);
  }
  bounds(id: number, now: number): Out {
    return this.step({ type: 'bounds', id }, now);
  }
  tick(now: number): Out {
    return this.step({ type: 'tick' }, now);
  }
  reply(from: ReplicaId, msg: ReadReply | PromiseReply | WriteReply, now: number): Out {
    return this.step({ type: 'reply', from, msg }, now);
  }
  /** Answers the read requests of `send` from `members` (in the order given, default ascending), at `now`. */
  answer(send: readonly ReaderOutbound[], members: Members, now: number, order?: readonly ReplicaId[]): Out {
    const out: Out = { send: [], done: [] };
    const reqs = reads(send);
    for (const id of order ?? Object.keys(members).map(Number)) {
      if (members[id] === undefined) continue;
      for (const s of reqs.filter((r) => r.to === id)) {
        const o = this.reply(id, serve(members[id]!, s.msg), now);
        out.send.push(...o.send);
        out.done.push(...o.done);
      }
    }
    return out;
  }
  /** Answers round after round at `now` until the read answers or asks for something other than a read. */
  settle(send: readonly ReaderOutbound[], members: Members, now: number): Out {
    let out = this.answer(send, members, now);
    const all: Out = { send: [...out.send], done: [...out.done] };
    for (let k = 0; k < 20 && all.done.length === 0 && reads(out.send).length > 0; k++) {
      out = this.answer(out.send, members, now);
      all.send.push(...out.send);
      all.done.push(...out.done);
    }
    return all;
  }
}

function promiseReply(req: PromiseRequest, more: Partial<PromiseReply> = {}): PromiseReply {
  return {
    type: 'promiseReply', rid: req.rid, outcome: 'accept', proposal: req.proposal, status: 'VOTING', begin: 0, end: req.to!, learnedThrough: -1,
    slots: [], coveredThrough: req.to!, generation: 0, disk: 0, ...more,
  };
}
function writeReply(req: WriteRequest, more: Partial<WriteReply> = {}): WriteReply {
  return {
    type: 'writeReply', rid: req.rid, outcome: 'accept', proposal: req.proposal, from: req.from, count: req.actions.length, generation: 0, disk: 0,
    retired: [], learnedThrough: req.from - 1, lostBelow: false, ...more,
  };
}
/** Runs a fill to its end: `by` promise (offering `slots`) and accept; returns everything the reader did meanwhile. */
function runFill(d: Drive, send: readonly ReaderOutbound[], now: number, by: readonly ReplicaId[] = [1, 2], slots: readonly Slot[] = []): Out {
  const all: Out = { send: [], done: [] };
  const push = (o: Out) => {
    all.send.push(...o.send);
    all.done.push(...o.done);
  };
  for (const p of promises(send)) if (by.includes(p.to)) push(d.reply(p.to, promiseReply(p.msg, { slots: slots.filter((s) => s.position >= p.msg.from! && s.position <= p.msg.to!) }), now));
  for (const w of writes(all.send)) if (by.includes(w.to)) push(d.reply(w.to, writeReply(w.msg), now));
  return all;
}

const ok = (entries: readonly number[], begin: number, end: number, through: number): ReadResult => ({
  ok: true,
  entries: entries.map((position) => ({ position, action: app(position) })),
  begin,
  end,
  through,
});
const all3 = (m: Member): Members => ({ 1: m, 2: m, 3: m });

// ------------------------------------------------------------------ guards

test('misuse is refused: a reader takes exactly one of a view and a member list, time never goes back, an unknown event throws', () => {
  assert.throws(() => new ReaderCore({ members: [1, 2, 3], view: chainView([bootstrapConfiguration([1, 2, 3])]), random: () => 0.5 }), /view or a member list/);
  assert.throws(() => new ReaderCore({ random: () => 0.5 }), /view or a member list/);
  const d = new Drive();
  d.tick(5);
  assert.throws(() => d.tick(4), /time never goes back/);
  assert.throws(() => d.step({ type: 'bogus' } as unknown as ReaderEvent, 6));
});

// ------------------------------------------------------------------ what a round asks

test('a read round asks every member for at most readSlotsMax positions from the cursor; a bounds round asks for one slot', () => {
  const d = new Drive();
  const r = d.read(1, 0, 100_000, 0);
  assert.deepEqual(ids(reads(r.send)), [1, 2, 3]);
  assert.deepEqual(range(r.send), { from: 0, to: limits.readSlotsMax - 1, limit: limits.readSlotsMax });
  const b = d.bounds(2, 0);
  assert.deepEqual(range(b.send), { from: 0, to: 0, limit: 1 });
});

test('an unanswered round is sent again to the members that did not answer, with its own range and limit, backing off by doubling up to readRetransmitMaxMs', () => {
  const d = new Drive();
  const b = d.bounds(1, 0);
  const r = d.read(2, 3, 9, 0);
  // Member 2 answers both rounds; neither is decided.
  d.answer(b.send, { 2: {} }, 1);
  d.answer(r.send, { 2: {} }, 1);
  assert.deepEqual(d.tick(timing.retransmitMs - 1).send, []);
  const again = d.tick(timing.retransmitMs).send;
  const bAgain = again.filter((s) => s.msg.type === 'read' && s.msg.rid === reads(b.send)[0]!.msg.rid);
  const rAgain = again.filter((s) => s.msg.type === 'read' && s.msg.rid === reads(r.send)[0]!.msg.rid);
  assert.deepEqual(ids(bAgain), [1, 3]);
  assert.deepEqual(range(bAgain), { from: 0, to: 0, limit: 1 }, 'a bounds round still asks for one slot');
  assert.deepEqual(ids(rAgain), [1, 3]);
  assert.deepEqual(range(rAgain), { from: 3, to: 9, limit: limits.readSlotsMax });
  // Then after 400, 800, 1600, 1600 ms (readRetransmitMaxMs).
  assert.equal(readRetransmitMaxMs, 1600);
  let t = timing.retransmitMs;
  for (const wait of [400, 800, 1600, 1600]) {
    assert.deepEqual(d.tick(t + wait - 1).send, [], `not before ${wait} ms`);
    assert.equal(reads(d.tick(t + wait).send).length, 4, `again after ${wait} ms`);
    t += wait;
  }
});

test('a round asks only the quorum that decided the last one while that is fresh (less than readQuorumFreshMs ago), then every member', () => {
  const d = new Drive();
  d.answer(d.bounds(1, 0).send, all3({}), 1, [1, 2]);
  assert.deepEqual(ids(reads(d.bounds(2, 1 + timing.readQuorumFreshMs - 1).send)), [1, 2]);
  assert.deepEqual(ids(reads(d.bounds(3, 1 + timing.readQuorumFreshMs).send)), [1, 2, 3]);
});

test('after the view changes, a round asks the last quorum only if it is all voters of the latest configuration and still a quorum there', () => {
  const c0 = bootstrapConfiguration([1, 2, 3]);
  let chain: PlacedConfiguration[] = [c0];
  const view: ConfigView = (q) => chainView(chain)(q);
  const d = new Drive({ view });
  d.answer(d.bounds(1, 0).send, all3({}), 1, [1, 2]);
  // 1 is no voter any more: every voter of the new configuration is asked.
  chain = [c0, { epoch: 1, voters: voters([2, 3, 4]), learners: [], nextId: 5, position: 5, floor: 0 }];
  assert.deepEqual(ids(reads(d.bounds(2, 2).send)), [2, 3, 4]);
  // Five voters: 1 and 2 are voters still, but two are no quorum of five.
  chain = [c0, { epoch: 1, voters: voters([1, 2, 3, 4, 5]), learners: [], nextId: 6, position: 5, floor: 0 }];
  assert.deepEqual(ids(reads(d.bounds(3, 3).send)), [1, 2, 3, 4, 5]);
});

// ------------------------------------------------------------------ what counts

test('only VOTING replies count: a recovering member that answers first neither decides the round nor adds entries or an end', () => {
  const d = new Drive();
  const r = d.read(1, 0, 10, 0);
  const m: Members = { 3: { status: 'RECOVERING', slots: [learned(0), learned(1)] }, 1: { slots: [learned(0)] }, 2: { slots: [learned(0)] } };
  assert.deepEqual(d.answer(r.send, m, 1, [3, 1]).done, [], 'one VOTING reply of three is no quorum');
  const out = d.answer(r.send, m, 2, [2]);
  assert.deepEqual(out.done, [{ id: 1, result: ok([0], 0, 0, 0) }]);
});

test('no-quorum: a read that makes no progress fails exactly operationTimeoutMs after it started when no quorum of members answered VOTING meanwhile', () => {
  const d = new Drive();
  const r = d.read(1, 0, 10, 0);
  // Members 1 and 2 answer, but not VOTING (a recovering replica is not alive for the read's purpose).
  d.answer(r.send, { 1: { status: 'RECOVERING' }, 2: { status: 'STARTING' } }, 5_000);
  assert.deepEqual(d.tick(timing.operationTimeoutMs - 1).done, []);
  assert.deepEqual(d.tick(timing.operationTimeoutMs).done, [{ id: 1, result: { ok: false, error: 'no-quorum' } }]);
});

test('no-quorum is judged in the configuration of now: grown from three voters to five, two answering are no quorum', () => {
  const c0 = bootstrapConfiguration([1, 2, 3]);
  let chain: PlacedConfiguration[] = [c0];
  const d = new Drive({ view: (q) => chainView(chain)(q) });
  chain = [c0, { epoch: 1, voters: voters([1, 2, 3, 4, 5]), learners: [], nextId: 6, position: 5, floor: 0 }];
  const r = d.read(1, 0, 10, 0);
  // Members 1 and 2 answer, 3 to 5 are down: two of five decide nothing, and are no quorum alive either.
  d.answer(r.send, { 1: {}, 2: {} }, 5_000);
  assert.deepEqual(d.tick(timing.operationTimeoutMs - 1).done, []);
  assert.deepEqual(d.tick(timing.operationTimeoutMs).done, [{ id: 1, result: { ok: false, error: 'no-quorum' } }]);
});

test('slow is not dead: a read answered by too few goes on while a quorum answers anything, a late reply to a decided round included', () => {
  const d = new Drive();
  const a = d.read(1, 0, 10, 0);
  const b = d.bounds(2, 0);
  assert.equal(d.answer(b.send, all3({}), 0, [1, 2]).done.length, 1);
  // At 5 s: member 1 answers read 1 (one of three), member 3 answers the bounds round it was late for.
  d.answer(a.send, { 1: {} }, 5_000);
  d.answer(b.send, { 3: {} }, 5_000);
  const t = timing.operationTimeoutMs;
  const on = d.tick(t);
  assert.deepEqual(on.done, [], 'members 1 and 3 answered within operationTimeoutMs');
  assert.deepEqual(ids(reads(on.send)), [2, 3], 'the round goes out again instead');
  assert.deepEqual(d.tick(5_000 + t).done, [{ id: 1, result: { ok: false, error: 'no-quorum' } }], 'nobody answered since 5 s');
});

/** Read 2 waits on position 0, held unlearned by member 1 only; its fill starts at readSettleMs. */
function fillStarted(d: Drive): Out {
  const m: Members = { 1: { slots: [held(0)] }, 2: {} };
  d.answer(d.read(2, 0, 0, 0).send, m, 0);
  const fill = d.answer(d.tick(timing.readSettleMs).send, m, timing.readSettleMs);
  assert.deepEqual(fillRange(fill.send), { from: 0, to: 0 });
  return fill;
}


/**
 * Answers `out` from `m` at `t`, then ticks every 50 ms (answering each round) until the read starts a
 * fill or answers; returns how long after `t0` that was, the fill's range, and the answer.
 */
function wait(d: Drive, m: Members, out: Out, t: number, t0: number, horizon = 8_000): { after: number; fill?: { from: number; to: number }; done: Out['done']; send: ReaderOutbound[] } {
  for (let now = t; now <= t0 + horizon; now += 50) {
    const a = d.answer(now === t ? out.send : d.tick(now).send, m, now);
    const fill = fillRange(a.send);
    if (fill !== undefined || a.done.length > 0) return { after: now - t0, ...(fill === undefined ? {} : { fill }), done: a.done, send: a.send };
  }
  return { after: -1, done: [], send: [] };
}

test("slow is not dead: a fill's accepted writes show their members alive to every read of the reader; ignored answers do not", () => {
  for (const [outcome, alive] of [['accept', true], ['ignored', false]] as const) {
    const d = new Drive();
    d.read(1, 0, 10, 0); // never answered
    const fill = fillStarted(d);
    const got: ReaderOutbound[] = [];
    for (const p of promises(fill.send)) if (p.to !== 1) got.push(...d.reply(p.to, promiseReply(p.msg), timing.readSettleMs).send);
    const w = writes(got);
    assert.deepEqual(ids(w), [1, 2, 3]);
    for (const s of w) if (s.to !== 1) d.reply(s.to, writeReply(s.msg, { outcome }), 5_000);
    // Past operationTimeoutMs since the promises (and read 1's start), within it since the writes.
    const done = d.tick(timing.operationTimeoutMs + 500).done.filter((x) => x.id === 1);
    assert.deepEqual(done, alive ? [] : [{ id: 1, result: { ok: false, error: 'no-quorum' } }], outcome);
  }
});

test('a fill that times out while a quorum still answers the reader met slowness: the read asks again, its next fill proposing above the last; with no quorum heard it fails', () => {
  const d = new Drive();
  const fill = fillStarted(d); // never answered
  assert.deepEqual(promises(fill.send).map((p) => p.msg.proposal), [1, 1, 1]);
  d.answer(d.bounds(3, 6_000).send, all3({}), 6_000);
  const t = timing.readSettleMs + timing.operationTimeoutMs;
  const on = d.tick(t);
  assert.deepEqual(on.done, []);
  assert.deepEqual(range(on.send), { from: 0, to: 0, limit: limits.readSlotsMax });
  const next = d.answer(on.send, { 1: { slots: [held(0)] }, 2: {} }, t);
  assert.deepEqual(promises(next.send).map((p) => p.msg.proposal), [2, 2, 2], 'above the ballot of the fill that timed out');
  const e = new Drive();
  fillStarted(e);
  assert.deepEqual(e.tick(t).done, [{ id: 2, result: { ok: false, error: 'no-quorum' } }]);
});

test("a fill proposes above the highest proposal any reply showed the reader, and above the owner's floor", () => {
  const d = new Drive();
  // A stray reply (to a fill long done) names proposal 77.
  d.reply(1, { type: 'writeReply', rid: 999, outcome: 'reject', proposal: 77, from: 0, count: 1, generation: 0, disk: 0, retired: [] }, 0);
  assert.equal(promises(fillStarted(d).send)[0]!.msg.proposal, 78);
  const e = new Drive({ proposalFloor: () => 40 });
  assert.equal(promises(fillStarted(e).send)[0]!.msg.proposal, 41);
});

// ------------------------------------------------------------------ scanning

test('a reply cut short (coveredThrough) is read on from right after it, up to the highest end heard; the answer is through the last position resolved', () => {
  const d = new Drive();
  const slots = [0, 1, 2, 3, 4, 5].map((p) => learned(p));
  const first = d.answer(d.read(1, 0, 10, 0).send, all3({ slots, cut: 4 }), 0);
  assert.deepEqual(first.done, []);
  assert.deepEqual(range(first.send), { from: 5, to: 10, limit: limits.readSlotsMax });
  assert.deepEqual(d.answer(first.send, all3({ slots }), 1).done, [{ id: 1, result: ok([0, 1, 2, 3, 4, 5], 0, 5, 5) }]);
});

test('a read stops at the first position no replica of the quorum holds, without a fill; a position a replica lost (corrupted) counts as held, and is filled', () => {
  const d = new Drive();
  const m: Members = { 1: { slots: [learned(0), learned(1)] }, 2: { slots: [learned(0), learned(1), held(3)] } };
  assert.deepEqual(d.answer(d.read(1, 0, 10, 0).send, m, 0).done, [{ id: 1, result: ok([0, 1], 0, 3, 1) }]);
  const e = new Drive();
  const lost: Members = { 1: { slots: [learned(0), learned(1)], lost: [2], end: 2 }, 2: { slots: [learned(0), learned(1)] } };
  const r = wait(e, lost, e.read(1, 0, 10, 0), 0, 0);
  assert.deepEqual(r.done, []);
  assert.deepEqual([r.after, r.fill], [timing.readSettleMs, { from: 2, to: 2 }]);
});

test('a chosen TRUNCATE the replicas have not applied yet, or a beginning a fill finds moved, fails the read it cuts, with that beginning', () => {
  const d = new Drive();
  const m = all3({ slots: [learned(0), learned(1), learned(2, { kind: 'truncate', to: 2 }), learned(3)] });
  assert.deepEqual(d.answer(d.read(1, 0, 10, 0).send, m, 0).done, [{ id: 1, result: { ok: false, error: 'truncated', begin: 2 } }]);
  // A fill that finds the beginning moved above its start meanwhile: truncated, with that beginning.
  const e = new Drive();
  const r = wait(e, { 1: { slots: [held(0)] }, 2: {} }, e.read(1, 0, 10, 0), 0, 0);
  const out: Out = { send: [], done: [] };
  for (const p of promises(r.send)) if (p.to !== 1) out.done.push(...e.reply(p.to, promiseReply(p.msg, { begin: 3 }), r.after).done);
  assert.deepEqual(out.done, [{ id: 1, result: { ok: false, error: 'truncated', begin: 3 } }]);
});

// ------------------------------------------------------------------ waiting and filling

test('no active writer: a held, unlearned position is re-asked every retransmitMs/4, then filled readSettleMs after it was first seen, over the run up to the highest position covered', () => {
  const t0 = 1_000;
  const m: Members = { 1: { slots: [learned(0), held(1), held(2), learned(3), held(4)] }, 2: { slots: [learned(0), learned(3)] } };
  const d = new Drive();
  const first = d.answer(d.read(1, 0, 10, t0).send, m, t0);
  assert.deepEqual(first.send, [], 'not filled at once, nor asked again at once');
  assert.deepEqual(d.tick(t0 + timing.retransmitMs / 4 - 1).send, []);
  const again = d.tick(t0 + timing.retransmitMs / 4);
  assert.deepEqual(range(again.send), { from: 1, to: 10, limit: limits.readSlotsMax });
  const r = wait(d, m, again, t0 + 50, t0);
  assert.deepEqual([r.after, r.fill], [timing.readSettleMs, { from: 1, to: 4 }]);
});

test('an active writer: a pending position is re-asked, not filled, until the read made no progress for activeWriterWaitMs; the late fill covers only the run not proven chosen', () => {
  const t0 = 5_000;
  const cases: [Members, { from: number; to: number }][] = [
    // One member of the quorum reports the writer; 1 and 2 held, 3 learned, 4 held: the fill stops before 3.
    [{ 1: { slots: [learned(0), held(1), held(2), learned(3), held(4)], writerActive: true }, 2: { slots: [learned(0), learned(3)] } }, { from: 1, to: 2 }],
    // The run reaches the highest position covered.
    [{ 1: { slots: [learned(0), held(1), held(2)], writerActive: true }, 2: { slots: [learned(0)] } }, { from: 1, to: 2 }],
  ];
  for (const [m, fill] of cases) {
    const d = new Drive();
    const r = wait(d, m, d.read(1, 0, 10, t0), t0, t0);
    assert.deepEqual([r.after, r.fill], [timing.activeWriterWaitMs, fill]);
  }
});

// ------------------------------------------------------------------ the truncation hint

const trunc = (to: number): Action => ({ kind: 'truncate', to });
/** Members that learned 0 and 1 and hold, unlearned, a TRUNCATE to 1 at 2 (reported as the hint). */
const hinted: Member = { slots: [learned(0), learned(1), held(2, trunc(1))], pendingTruncate: { position: 2, to: 1 } };
const probe = (position: number) => ({ from: position, to: position, limit: limits.readSlotsMax });

test('truncation hint: a TRUNCATE accepted above the range that would cut it is probed before the read answers; chosen, the read is truncated, not chosen, the read answers as it was', () => {
  const d = new Drive();
  const first = d.answer(d.read(1, 0, 1, 0).send, all3(hinted), 0);
  assert.deepEqual(first.done, []);
  assert.deepEqual(range(first.send), probe(2));
  assert.deepEqual(d.answer(first.send, all3({ slots: [learned(0), learned(1), learned(2, trunc(1))] }), 1).done, [
    { id: 1, result: { ok: false, error: 'truncated', begin: 1 } },
  ]);
  const e = new Drive();
  const f = e.answer(e.read(1, 0, 1, 0).send, all3(hinted), 0);
  assert.deepEqual(e.answer(f.send, all3({ slots: [learned(0), learned(1), learned(2, NOP)] }), 1).done, [{ id: 1, result: ok([0, 1], 0, 2, 1) }]);
});

test('truncation hint in a bounds read: chosen, it raises the beginning (through just below it); not chosen, the beginning is the highest heard meanwhile', () => {
  const d = new Drive();
  const first = d.answer(d.bounds(1, 0).send, all3(hinted), 0);
  assert.deepEqual(range(first.send), probe(2));
  assert.deepEqual(d.answer(first.send, all3({ slots: [learned(0), learned(1), learned(2, trunc(1))] }), 1).done, [
    { id: 1, result: { ok: true, entries: [], begin: 1, end: 2, through: 0 } },
  ]);
  // A TRUNCATE to 4 at 5, probed; meanwhile another truncation (to 2) was learned, and 5 turned out a NOP.
  const e = new Drive();
  const f = e.answer(e.bounds(1, 0).send, all3({ slots: [learned(4), held(5, trunc(4))], pendingTruncate: { position: 5, to: 4 } }), 0);
  assert.deepEqual(range(f.send), probe(5));
  const res = e.answer(f.send, all3({ begin: 2, slots: [learned(4), learned(5, NOP)] }), 1).done;
  assert.equal(res.length, 1);
  const r = res[0]!.result;
  assert.ok(r.ok);
  assert.deepEqual([r.begin, r.end], [2, 5]);
});

test('truncation hint dropped because the beginning passed its target meanwhile: a bounds read answers with that beginning', () => {
  const d = new Drive();
  const first = d.answer(d.bounds(1, 0).send, all3(hinted), 0);
  const res = d.answer(first.send, all3({ begin: 1, slots: [learned(1), learned(2, trunc(1))] }), 1).done;
  assert.equal(res.length, 1);
  const r = res[0]!.result;
  assert.ok(r.ok);
  assert.deepEqual([r.begin, r.end], [1, 2]);
  assert.equal(r.through, 0, 'a bounds read resolves through the position before its beginning, the new one');
});

test('truncation hint dropped in a scan round because the beginning reached its target (the TRUNCATE applied): the read answers truncated, never the positions it removed', () => {
  const d = new Drive();
  const cutShort: Member = { slots: [learned(0), learned(1), learned(2), learned(3), held(5, trunc(2))], pendingTruncate: { position: 5, to: 2 }, cut: 1, end: 5 };
  const first = d.answer(d.read(1, 0, 3, 0).send, all3(cutShort), 0);
  assert.deepEqual(range(first.send), { from: 2, to: 3, limit: limits.readSlotsMax }, 'cut after 1: read on from 2, the hint (at 5, to 2) noted');
  const out = d.answer(first.send, all3({ begin: 2, slots: [learned(2), learned(3), learned(5, trunc(2))], end: 5 }), 1);
  assert.deepEqual(reads(out.send), [], 'no probe of 5: the beginning (2) reached the hint\'s target');
  assert.deepEqual(out.done, [{ id: 1, result: { ok: false, error: 'truncated', begin: 2 } }]);
});

test('truncation hint still pending at its probe: the probe is asked again until readSettleMs, then the position is filled, and the read answers by what the fill chose', () => {
  const d = new Drive();
  const first = d.answer(d.read(1, 0, 1, 0).send, all3(hinted), 0);
  const still = d.answer(first.send, all3(hinted), 0);
  assert.deepEqual(still, { send: [], done: [] }, 'held, not learned: not answered yet');
  const again = d.tick(timing.retransmitMs / 4);
  assert.deepEqual(again.done, []);
  assert.deepEqual(range(again.send), probe(2));
  const r = wait(d, all3(hinted), again, 50, 0);
  assert.deepEqual([r.after, r.fill], [timing.readSettleMs, { from: 2, to: 2 }]);
  const filled = runFill(d, r.send, r.after, [1, 2], [held(2, trunc(1))]);
  assert.deepEqual(filled.done, []);
  assert.deepEqual(range(filled.send), probe(2), 'the probe again, answered by what the fill learned');
  assert.deepEqual(d.answer(filled.send, all3(hinted), r.after).done, [{ id: 1, result: { ok: false, error: 'truncated', begin: 1 } }]);
});

test('truncation hint replaced by a higher target during its probe: the reader probes the new one', () => {
  const d = new Drive();
  const first = d.answer(d.read(1, 0, 1, 0).send, all3(hinted), 0);
  const mid: Member = { slots: [learned(0), learned(1), learned(2, NOP), held(3, trunc(2))], pendingTruncate: { position: 3, to: 2 } };
  const second = d.answer(first.send, all3(mid), 1);
  assert.deepEqual(second.done, []);
  assert.deepEqual(range(second.send), probe(3));
  assert.deepEqual(d.answer(second.send, all3({ slots: [learned(0), learned(1), learned(2, NOP), learned(3, trunc(2))] }), 2).done, [
    { id: 1, result: { ok: false, error: 'truncated', begin: 2 } },
  ]);
});

test('of the truncation hints the replies report, the one with the highest target is probed, whatever order they came in', () => {
  const m: Members = {
    1: { slots: [learned(0), learned(1), held(2, trunc(1))], pendingTruncate: { position: 2, to: 1 } },
    2: { slots: [learned(0), learned(1), held(3, trunc(2))], pendingTruncate: { position: 3, to: 2 } },
  };
  for (const order of [[1, 2], [2, 1]]) {
    const d = new Drive();
    assert.deepEqual(range(d.answer(d.read(1, 0, 1, 0).send, m, 0, order).send), probe(3), `order ${order}`);
  }
});

test('a truncation hint is ignored when it removes nothing the read covers, or once the scan resolved its position, and not taken again below the cursor', () => {
  // A TRUNCATE to 3 cuts nothing of a read from 3.
  const d = new Drive();
  const m = all3({ slots: [learned(3), learned(4), held(5, trunc(3))], pendingTruncate: { position: 5, to: 3 } });
  assert.deepEqual(d.answer(d.read(1, 3, 4, 0).send, m, 0).done, [{ id: 1, result: ok([3, 4], 0, 5, 4) }]);
  // Member 2 holds a TRUNCATE at 1 that member 1 learned was not chosen (a NOP was): the scan settles 1, and
  // member 2 reporting the hint again in the next round (the first was cut at 1) changes nothing.
  const e = new Drive();
  const two: Members = {
    1: { slots: [learned(0), learned(1, NOP), learned(2), learned(3)] },
    2: { slots: [learned(0), held(1, trunc(1)), learned(2), learned(3)], pendingTruncate: { position: 1, to: 1 } },
  };
  const f = e.answer(e.read(1, 0, 3, 0).send, { 1: { ...two[1], cut: 1 }, 2: { ...two[2], cut: 1 } }, 0);
  assert.deepEqual(range(f.send), { from: 2, to: 3, limit: limits.readSlotsMax });
  assert.deepEqual(e.answer(f.send, two, 1).done, [{ id: 1, result: ok([0, 2, 3], 0, 3, 3) }]);
});

// ------------------------------------------------------------------ R5: the stop sign

const cfgEntry: Action = { kind: 'config', config: cfg1 };

test('R5: a pending config entry below the read (at 1, the lowest it can be above the bootstrap head) is a stop sign: a position nobody holds above it is not the end, the read fills from the entry', () => {
  const m: Members = { 1: { slots: [held(1, cfgEntry), learned(5)], pending: pendingAt(1) }, 2: { slots: [learned(5), held(8)] } };
  const d = new Drive();
  const r = wait(d, m, d.read(1, 5, 10, 0), 0, 0);
  assert.deepEqual(r.done, []);
  assert.deepEqual([r.after, r.fill], [timing.readSettleMs, { from: 1, to: 6 }]);
  // Members 2 and 3 promise (without the entry): NOPs but at 5. The read goes on, and stops at 7.
  const filled = runFill(d, r.send, r.after, [2, 3], [learned(5)]);
  assert.deepEqual(d.settle(filled.send, m, r.after).done, [{ id: 1, result: ok([5], 0, 8, 6) }]);
});

test('R5: a stop sign below the rest of the range holds the read at the highest end heard until the entry is settled; a read whose range ends there answers', () => {
  const m: Members = { 1: { slots: [held(1, cfgEntry), learned(5), learned(6)], pending: pendingAt(1) }, 2: { slots: [learned(5), learned(6)] } };
  for (const to of [10, 7]) {
    const d = new Drive();
    const r = wait(d, m, d.read(1, 5, to, 0), 0, 0);
    assert.deepEqual([r.after, r.fill], [timing.readSettleMs, { from: 1, to: 7 }], `read to ${to}`);
  }
  const d = new Drive();
  assert.deepEqual(d.answer(d.read(1, 5, 6, 0).send, m, 0).done, [{ id: 1, result: ok([5, 6], 0, 6, 6) }]);
  // An entry heard only after the end was fixed, right above it: nothing of the range lies above it.
  const e = new Drive();
  const cut: Members = { 1: { slots: [learned(5), learned(6)], cut: 5 }, 2: { slots: [learned(5), learned(6)], cut: 5 } };
  const f = e.answer(e.read(1, 5, 10, 0).send, cut, 0);
  const later: Members = { 1: { slots: [learned(5), learned(6), held(7, cfgEntry)], pending: pendingAt(7) }, 2: { slots: [learned(5), learned(6)] } };
  assert.deepEqual(e.answer(f.send, later, 1).done, [{ id: 1, result: ok([5, 6], 0, 6, 6) }]);
});

test('R5: a fill from a stop sign far below covers at most fillRangeMax positions from the entry', () => {
  const d = new Drive();
  const m: Members = { 1: { slots: [held(1, cfgEntry)], pending: pendingAt(1) }, 2: {} };
  const r = wait(d, m, d.read(1, 300, 400, 0), 0, 0);
  assert.deepEqual(r.fill, { from: 1, to: limits.fillRangeMax });
});

test('R5: a stop sign the scan found resolved (a NOP chosen at the entry) is lifted, and a lagging member reporting it again in a later round does not restore it', () => {
  const base = [learned(3), learned(4), learned(5)];
  const m: Members = { 1: { slots: [held(2, cfgEntry), ...base], pending: pendingAt(2) }, 2: { slots: [learned(2, NOP), ...base, held(7)] } };
  const d = new Drive();
  const first = d.answer(d.read(1, 2, 10, 0).send, { 1: { ...m[1], cut: 3 }, 2: { ...m[2], cut: 3 } }, 0);
  assert.deepEqual(range(first.send), { from: 4, to: 10, limit: limits.readSlotsMax });
  assert.deepEqual(d.answer(first.send, m, 1).done, [{ id: 1, result: ok([3, 4, 5], 0, 7, 5) }]);
});

test("R5: a stop sign reported at or below what the read's own fills settled does not stop the read again", () => {
  const m: Members = { 1: { slots: [held(4)] }, 2: {} };
  const d = new Drive();
  const r = wait(d, m, d.read(1, 4, 10, 0), 0, 0);
  assert.deepEqual(r.fill, { from: 4, to: 4 });
  const filled = runFill(d, r.send, r.after, [1, 2], [held(4)]);
  const req = reads(filled.send)[0]!.msg;
  // Member 3, not in the first quorum, reports an entry at 2 pending.
  d.reply(1, serve(m[1]!, req), r.after);
  const out = d.reply(3, serve({ slots: [held(2, cfgEntry)], pending: pendingAt(2) }, req), r.after);
  assert.deepEqual(out.done, [{ id: 1, result: ok([4], 0, 4, 4) }]);
});

test('R5: a fill from a stop sign lifts it when it starts: if the fill fails (slow, not dead), the next round decides afresh whether one holds, and none reported lets the read answer', () => {
  const m: Members = { 1: { slots: [held(1, cfgEntry), learned(5)], pending: pendingAt(1) }, 2: { slots: [learned(5)] } };
  const d = new Drive();
  const r = wait(d, m, d.read(1, 5, 10, 0), 0, 0);
  assert.deepEqual([r.after, r.fill], [timing.readSettleMs, { from: 1, to: 6 }]);
  // The fill is never answered; the members still answer the reader (a bounds read), so the read asks again.
  d.answer(d.bounds(2, 6_000).send, all3({}), 6_000);
  const t = timing.readSettleMs + timing.operationTimeoutMs;
  const again = d.tick(t);
  assert.deepEqual(again.done, []);
  assert.deepEqual(range(again.send), { from: 6, to: 10, limit: limits.readSlotsMax }, 'on from the first position not settled');
  // Meanwhile the entry at 1 was settled (nobody reports it pending): position 6, held by nobody, is the end.
  const settled: Members = { 1: { slots: [learned(5)] }, 2: { slots: [learned(5)] } };
  assert.deepEqual(d.answer(again.send, settled, t).done, [{ id: 1, result: ok([5], 0, 5, 5) }]);
});

test('R5: a stop sign at the first unsettled position is lifted once the fill that starts there settles it: the read answers, it does not fill on past the end', () => {
  const m: Members = { 1: { slots: [learned(0), learned(1), held(2, cfgEntry)], pending: pendingAt(2) }, 2: { slots: [learned(0), learned(1)] } };
  const d = new Drive();
  const r = wait(d, m, d.read(1, 0, 10, 0), 0, 0);
  assert.deepEqual([r.after, r.fill], [timing.readSettleMs, { from: 2, to: 2 }]);
  // Members 2 and 3 promise without the entry: a NOP is chosen at 2.
  const filled = runFill(d, r.send, r.after, [2, 3]);
  const now: Members = { 1: { slots: [learned(0), learned(1), learned(2, NOP)] }, 2: { slots: [learned(0), learned(1), learned(2, NOP)] } };
  const out = d.settle(filled.send, now, r.after);
  assert.deepEqual(fillRange(out.send), undefined, 'no fill above the end');
  assert.deepEqual(out.done, [{ id: 1, result: ok([0, 1], 0, 2, 2) }]);
});

test('R5: a stop sign below the beginning is lifted once the fill that starts at the beginning settles what it covers: the read answers, it does not fill on', () => {
  // Member 1 reports an entry pending at 1; member 2 truncated below 5 and holds nothing. The fill cannot start
  // below the beginning: it starts at 5, where nothing is held, and a NOP is chosen there.
  const m: Members = { 1: { slots: [held(1, cfgEntry)], pending: pendingAt(1) }, 2: { begin: 5, end: 4 } };
  const d = new Drive();
  const r = wait(d, m, d.read(1, 5, 10, 0), 0, 0);
  assert.deepEqual([r.after, r.fill], [timing.readSettleMs, { from: 5, to: 5 }]);
  const filled = runFill(d, r.send, r.after, [2, 3]);
  const out = d.settle(filled.send, m, r.after);
  assert.deepEqual(fillRange(out.send), undefined, 'no fill above what it settled');
  assert.deepEqual(out.done, [{ id: 1, result: ok([], 5, 4, 4) }]);
});

test('R5: a stop sign above the range of the fill that starts at the first unsettled position outlives that fill: nothing heard at the entry afterwards is still no end', () => {
  const chosen = Array.from({ length: 299 }, (_, k) => learned(k + 1));
  const m: Members = { 1: { slots: [held(0), ...chosen, held(300, cfgEntry)], pending: pendingAt(300) }, 2: { slots: chosen } };
  const d = new Drive();
  const r = wait(d, m, d.read(1, 0, 400, 0), 0, 0);
  assert.deepEqual([r.after, r.fill], [timing.readSettleMs, { from: 0, to: limits.fillRangeMax - 1 }]);
  const filled = runFill(d, r.send, r.after, [2, 3], chosen);
  // Member 1 (the only one that reported the entry) is silent from now on; 2 and 3 hold nothing at 300.
  const rest: Members = { 2: { slots: chosen }, 3: { slots: chosen } };
  const out = d.settle(filled.send, rest, r.after);
  assert.deepEqual(out.done, [], 'not the end: the entry at 300 may have been chosen');
  const next = wait(d, rest, d.tick(r.after + 50), r.after + 50, r.after);
  assert.deepEqual(next.fill, { from: 300, to: 300 });
});

// ------------------------------------------------------------------ R5: stale-config

const stale = (config: ConfigHead): ReadResult => ({ ok: false, error: 'stale-config', config });

test('R5: an entry found chosen for a configuration the view lacks ends the read with stale-config naming it, even where the range ends', () => {
  const d = new Drive();
  const m = all3({ slots: [learned(0), learned(1), learned(2, cfgEntry)], config: { epoch: 1, position: 2 } });
  assert.deepEqual(d.answer(d.read(1, 0, 2, 0).send, m, 0).done, [{ id: 1, result: stale({ epoch: 1, position: 2 }) }]);
});

test('R5: a position above the entry of a newer configuration a replica learned is not filled in the old one (stale-config); one at or below the entry is', () => {
  const d = new Drive();
  const m: Members = { 1: { slots: [held(5)], config: { epoch: 1, position: 2 } }, 2: {} };
  const r = wait(d, m, d.read(1, 5, 10, 0), 0, 0);
  assert.deepEqual([r.after, r.fill, r.done], [timing.readSettleMs, undefined, [{ id: 1, result: stale({ epoch: 1, position: 2 }) }]]);
  const e = new Drive();
  const n: Members = { 1: { slots: [held(5)] }, 2: {} };
  const first = e.read(1, 5, 10, 0);
  e.answer(first.send, n, 0);
  e.reply(3, serve({ config: { epoch: 1, position: 5 } }, reads(first.send)[0]!.msg), 0); // late, but it names a head
  const s = wait(e, n, e.tick(50), 50, 0);
  assert.deepEqual([s.after, s.fill], [timing.readSettleMs, { from: 5, to: 5 }]);
});

test('R5: a fill that finds chosen a configuration the view lacks ends the read with stale-config at once; one the view knows does not', () => {
  const m: Members = { 1: { slots: [learned(0), held(1, cfgEntry)], pending: pendingAt(1) }, 2: { slots: [learned(0)] } };
  const d = new Drive();
  const r = wait(d, m, d.read(1, 0, 10, 0), 0, 0);
  assert.deepEqual(r.fill, { from: 1, to: 1 });
  assert.deepEqual(runFill(d, r.send, r.after, [2, 3], [learned(1, cfgEntry)]).done, [{ id: 1, result: stale({ epoch: 1, position: 1 }) }]);
  // The view knows epoch 1 (its entry at 1); member 1 lags, holding it unlearned.
  const e = new Drive({ view: chainView([bootstrapConfiguration([1, 2, 3]), { ...cfg1, position: 1, floor: 0 }]) });
  const s = wait(e, m, e.read(1, 0, 10, 0), 0, 0);
  assert.deepEqual(s.fill, { from: 1, to: 1 });
  const filled = runFill(e, s.send, s.after, [2, 3], [learned(1, cfgEntry)]);
  assert.deepEqual(filled.done, []);
  assert.deepEqual(e.settle(filled.send, m, s.after).done, [{ id: 1, result: ok([0], 0, 1, 1) }]);
});

test('R5: a read that stops short answers stale-config if a newer head lies at or below where it stopped, or is more than one epoch ahead; a read that resolved its whole range answers', () => {
  const slots = [learned(0), learned(1), learned(2)];
  const cases: [number, number, ConfigHead, boolean][] = [
    [0, 10, { epoch: 1, position: 20 }, true], // one epoch ahead, above the stop at 2
    [0, 2, { epoch: 2, position: 20 }, true], // two ahead, but the whole range resolved
    [0, 10, { epoch: 2, position: 20 }, false], // two ahead, stopped short
    [3, 10, { epoch: 1, position: 2 }, false], // the entry right where it stopped
    [3, 10, { epoch: 1, position: 1 }, false], // below
  ];
  for (const [from, to, config, answers] of cases) {
    const d = new Drive();
    const done = d.answer(d.read(1, from, to, 0).send, all3({ slots, config, end: 20 }), 0).done;
    const want = answers ? ok(from === 0 ? [0, 1, 2] : [], 0, 20, 2) : stale(config);
    assert.deepEqual(done, [{ id: 1, result: want }], JSON.stringify([from, to, config]));
  }
});

test('R5: a newer head heard is forgotten once the view holds it: bounds answer stale-config until the owner refreshed, then the bounds', () => {
  const c0 = bootstrapConfiguration([1, 2, 3]);
  const c1: PlacedConfiguration = { ...cfg1, position: 2, floor: 0 };
  let chain: PlacedConfiguration[] = [c0];
  const d = new Drive({ view: (q) => chainView(chain)(q) });
  const m = all3({ slots: [learned(0), learned(1), learned(2, cfgEntry)], config: { epoch: 1, position: 2 }, end: 2 });
  assert.deepEqual(d.answer(d.bounds(1, 0).send, m, 0).done, [{ id: 1, result: stale({ epoch: 1, position: 2 }) }]);
  assert.deepEqual(d.rd.newerConfig, { epoch: 1, position: 2 });
  // The owner refreshed its view (LogClient.refreshConfiguration): the same reader reads the bounds again.
  chain = [c0, c1];
  assert.equal(d.rd.newerConfig, undefined, 'the view holds it now');
  const done = d.answer(d.bounds(2, 10).send, m, 10).done;
  assert.equal(done.length, 1);
  assert.equal(done[0]!.result.ok, true, JSON.stringify(done[0]!.result));
});

test('a round sent in one configuration and answered after the view moved on counts only the latest voters toward the quorum', () => {
  // Voters {1,2,3,4}; the entry at 2 removes 1: {2,3,4}, quorum 2. The view moves on while the round is out.
  const c0 = bootstrapConfiguration([1, 2, 3, 4]);
  const c1: PlacedConfiguration = { epoch: 1, voters: voters([2, 3, 4]), learners: [], nextId: 5, position: 2, floor: 0 };
  let chain: PlacedConfiguration[] = [c0];
  const d = new Drive({ view: (q) => chainView(chain)(q) });
  const sent = d.bounds(1, 0).send;
  assert.deepEqual(d.answer(sent, { 1: { end: 1 } }, 0).done, []);
  chain = [c0, c1];
  // Removed member 1 and voter 2 are no quorum of {2,3,4}: 3 and 4 acknowledged position 3.
  assert.deepEqual(d.answer(sent, { 2: { end: 2 } }, 0).done, [], 'not yet: one voter of the latest configuration answered');
  const done = d.answer(sent, { 3: { end: 3 } }, 0).done;
  assert.equal(done.length, 1);
  const r = done[0]!.result;
  assert.ok(r.ok && r.end >= 3, JSON.stringify(r));
});

test('R5: a stop sign reported in a later round than the one that heard of its position still holds: nothing heard at the entry is no end until its fate is known', () => {
  // Round 1 (members 1, 2): member 1 reports the entry at 3 pending, its reply cut at 2.
  const d = new Drive();
  const first = d.read(1, 0, 10, 0);
  const low = [learned(0), learned(1), learned(2)];
  const next = d.answer(first.send, { 1: { slots: [...low, held(3, cfgEntry)], pending: pendingAt(3), cut: 2 }, 2: { slots: low } }, 0);
  assert.deepEqual(range(next.send), { from: 3, to: 10, limit: limits.readSlotsMax });
  // Round 2 is decided by members 2 and 3 (1 is slow): neither holds anything at 3.
  const req = reads(next.send)[0]!.msg;
  d.reply(2, serve({ slots: low }, req), 1);
  const out = d.reply(3, serve({ slots: low }, req), 1);
  assert.deepEqual(out.done, []);
  const r = wait(d, { 2: { slots: low }, 3: { slots: low } }, d.tick(50), 50, 0);
  assert.deepEqual([r.after, r.fill], [timing.readSettleMs + 50, { from: 3, to: 3 }]);
});

test('R5: a stop sign first reported by the replies to a truncation probe starts the fill of the probed position at the entry', () => {
  const hinted5: Member = { slots: [learned(0), learned(1), held(5, trunc(1))], pendingTruncate: { position: 5, to: 1 } };
  const d = new Drive();
  const first = d.answer(d.read(1, 0, 1, 0).send, all3(hinted5), 0);
  assert.deepEqual(range(first.send), probe(5));
  const m: Members = { 1: { ...hinted5, slots: [...hinted5.slots!, held(2, cfgEntry)], pending: pendingAt(2) }, 2: hinted5 };
  const r = wait(d, m, first, 0, 0);
  assert.deepEqual([r.after, r.fill], [timing.readSettleMs, { from: 2, to: 5 }]);
});

// ------------------------------------------------------------------ found writing these tests, fixed

test(
  'a read whose truncation hint is dropped because the beginning passed its target is truncated, as when the probe finds the TRUNCATE chosen (not ok with entries below that beginning)',
  () => {
    const d = new Drive();
    const first = d.answer(d.read(1, 0, 1, 0).send, all3(hinted), 0);
    assert.deepEqual(range(first.send), probe(2));
    // The TRUNCATE to 1 at 2 was chosen and applied meanwhile: the members' beginning is 1.
    const done = d.answer(first.send, all3({ begin: 1, slots: [learned(1), learned(2, trunc(1))] }), 1).done;
    assert.deepEqual(done, [{ id: 1, result: { ok: false, error: 'truncated', begin: 1 } }]);
  },
);

test('no-quorum: a voter the view adds counts as alive for a full window from when the reader first counts it, so a stalled read is not failed before the new voters were asked', () => {
  const c0 = bootstrapConfiguration([1, 2, 3]);
  let chain: PlacedConfiguration[] = [c0];
  const d = new Drive({ view: (q) => chainView(chain)(q) });
  const r = d.read(1, 0, 10, 0);
  // Nothing is decided, but 1 and 2 answer something late (accepted writes of a fill): 2 of 3 alive, no failure.
  d.answer(r.send, { 1: { status: 'RECOVERING' }, 2: { status: 'RECOVERING' } }, 9_000);
  for (const from of [1, 2]) d.reply(from, { type: 'writeReply', rid: 999, outcome: 'accept', proposal: 1, from: 0, count: 1, generation: 0, disk: 0, retired: [] }, 9_500);
  assert.deepEqual(d.tick(timing.operationTimeoutMs - 1).done, []);
  // The view grows to five at 10 s: 4 and 5 have not been asked yet.
  chain = [c0, { epoch: 1, voters: voters([1, 2, 3, 4, 5]), learners: [], nextId: 6, position: 5, floor: 0 }];
  assert.deepEqual(d.tick(timing.operationTimeoutMs).done, [], 'not failed the moment the view grew');
});
