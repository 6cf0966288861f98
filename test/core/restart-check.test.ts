// The restart check and the start decisions of recovery.ts, one finding at a time
// (docs/simulator.md, "Open findings"): what a peer answers a restart check with,
// the check never voting on silence, a STARTING backup restored after its disk
// voted, RECOVERING members during a two-phase start, and generation ties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limits, timing } from '../../src/core/constants.js';
import { RecoveryCore, type RecoveryOutput } from '../../src/core/recovery.js';
import { ReplicaNodeCore, type NodeOutput } from '../../src/core/replica-node.js';
import type { Metadata, Named, PeerStateMessage, PromiseReply, RecoverReply, RecoverRequest, Status, Witness } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

function recoverReply(rid: number, o: { status?: Status; member?: { generation: number; disk: number }; witness?: Witness; recorded?: Named[]; end?: number; incarnation?: string; startView?: RecoverReply['startView']; generation?: number } = {}): RecoverReply {
  return {
    type: 'recoverReply', rid, status: o.status ?? 'VOTING', begin: 0, end: o.end ?? 10, incarnation: o.incarnation ?? 'p', generation: o.generation ?? 0, disk: 0,
    memberGeneration: o.member?.generation ?? 0, memberDisk: o.member?.disk ?? 0, recorded: o.recorded ?? [],
    ...(o.witness === undefined ? {} : { witness: o.witness }),
    ...(o.startView === undefined ? {} : { startView: o.startView }),
  };
}

function core(meta: Metadata, end = -1, members = [1, 2, 3]): { core: RecoveryCore; rid: () => number } {
  let rid = 0;
  const c = new RecoveryCore({ self: 1, members, metadata: meta, end, random: () => 0.25, rid: () => ++rid }, 0);
  return { core: c, rid: () => rid };
}

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

// ------------------------------------------------------------------ finding 4: the check never votes on silence

test('restart check: with no answer it never votes, however long it waits, and keeps asking', () => {
  const { core: c } = core({ status: 'VOTING', promised: 3, incarnation: 'a' }, 20);
  let out: RecoveryOutput = c.step({ type: 'tick' }, 0);
  assert.equal(out.send.length, 2);
  let asked = 0;
  for (let t = 100; t <= 10 * timing.restartCheckMs; t += 100) {
    out = c.step({ type: 'tick' }, t);
    assert.notEqual(out.checked, true, `no vote at ${t} ms`);
    asked += out.send.length;
  }
  assert.ok(c.checking, 'still checking: not voting');
  assert.ok(asked >= 10, 'it keeps asking its peers');
});

test('restart check: after its time it passes only with answers from a quorum (itself counted); EMPTY peers do not count', () => {
  const { core: c, rid } = core({ status: 'VOTING', promised: 3, incarnation: 'a' }, 20, [1, 2, 3, 4, 5]);
  c.step({ type: 'tick' }, 0);
  let out = c.step({ type: 'reply', from: 2, msg: recoverReply(rid(), { witness: { generation: 0, disk: 0, promised: 3, end: 20 } }) }, 10);
  out = c.step({ type: 'reply', from: 3, msg: recoverReply(rid(), { status: 'EMPTY' }) }, 10);
  out = c.step({ type: 'tick' }, timing.restartCheckMs + 1);
  assert.notEqual(out.checked, true, 'one peer that knows something and one EMPTY one: two of five with itself, below a quorum');
  c.step({ type: 'tick' }, timing.restartCheckMs + 2_000);
  out = c.step({ type: 'reply', from: 4, msg: recoverReply(rid()) }, timing.restartCheckMs + 2_001);
  assert.equal(out.checked, true, 'r2 and r4 (from two rounds) with itself are a quorum of five');
});

test('restart check: the highest witness over every answer unmasks an older copy, whichever peer holds it', () => {
  const { core: c, rid } = core({ status: 'VOTING', promised: 3, incarnation: 'a' }, 20);
  c.step({ type: 'tick' }, 0);
  c.step({ type: 'reply', from: 2, msg: recoverReply(rid(), { witness: { generation: 0, disk: 0, promised: 3, end: 20 } }) }, 10);
  const out = c.step({ type: 'reply', from: 3, msg: recoverReply(rid(), { witness: { generation: 0, disk: 0, promised: 3, end: 21 } }) }, 11);
  assert.equal(out.become?.status, 'RECOVERING');
  assert.equal(c.phaseKind, 'query');
});

test('restart check: a promise witnessed from a fill (explicit, per position) does not unmask a disk whose highest proposal holds it', () => {
  let rid = 0;
  const c = new RecoveryCore({ self: 1, members: [1, 2, 3], metadata: { status: 'VOTING', promised: 0, incarnation: 'a' }, end: 20, highestProposal: 3, random: () => 0.25, rid: () => ++rid }, 0);
  c.step({ type: 'tick' }, 0);
  c.step({ type: 'reply', from: 2, msg: recoverReply(rid, { witness: { generation: 0, disk: 0, promised: 3, end: 20 } }) }, 10);
  const out = c.step({ type: 'reply', from: 3, msg: recoverReply(rid) }, 10);
  assert.equal(out.checked, true, 'not a restored copy: it votes (a needless rejoin of two replicas of three at once would wait forever)');
});

// ------------------------------------------------------------------ finding 2: restoreStartingBackup

test('a STARTING disk that sees a VOTING member rejoins if a peer saw this disk promise or hold more (a STARTING backup restored after it voted)', () => {
  const starting: Metadata = { status: 'STARTING', promised: 0, incarnation: 'a', startView: { 1: 'a', 2: 'b', 3: 'c' } };
  const { core: c, rid } = core(starting);
  c.step({ type: 'tick' }, 0);
  const out = c.step({ type: 'reply', from: 2, msg: recoverReply(rid(), { witness: { generation: 0, disk: 0, promised: 4, end: 7 } }) }, 5);
  assert.equal(out.become?.status, 'RECOVERING', 'not VOTING: it rejoins as a new disk');
  assert.equal(c.phaseKind, 'query');
  // The same with a newer disk of this member recorded by a peer.
  const other = core(starting);
  other.core.step({ type: 'tick' }, 0);
  const out2 = other.core.step({ type: 'reply', from: 3, msg: recoverReply(other.rid(), { member: { generation: 2, disk: 9 } }) }, 5);
  assert.equal(out2.become?.status, 'RECOVERING');
});

test('a STARTING disk that sees a VOTING member and that no peer saw vote joins as VOTING once the peers answered', () => {
  const { core: c, rid } = core({ status: 'STARTING', promised: 0, incarnation: 'a', startView: { 1: 'a', 2: 'b', 3: 'c' } });
  c.step({ type: 'tick' }, 0);
  let out = c.step({ type: 'reply', from: 2, msg: recoverReply(rid(), { witness: { generation: 0, disk: 0, promised: 0, end: -1 }, recorded: [{ id: 3, generation: 1, disk: 5 }] }) }, 5);
  assert.equal(out.become, undefined, 'waits for the other peer (or the check time with a quorum)');
  assert.equal(c.checking, false, 'a STARTING disk does not vote anyway: nothing to hold');
  out = c.step({ type: 'reply', from: 3, msg: recoverReply(rid(), { status: 'STARTING', startView: [{ id: 1, incarnation: 'a' }, { id: 2, incarnation: 'b' }, { id: 3, incarnation: 'c' }] }) }, 6);
  assert.deepEqual(out.become, { status: 'VOTING', patch: { recorded: { 3: { generation: 1, disk: 5 } } } });
});

test('a status the recovery persists on a tick is not undone by the witnessed table written in the same tick', () => {
  const a = node(1, { status: 'STARTING', promised: 0, incarnation: 'a', startView: { 1: 'a', 2: 'b', 3: 'c' } });
  const first = a.step({ type: 'tick' }, 0);
  const ask = first.send.find((s) => s.to === 2)!.msg as RecoverRequest;
  a.step({ type: 'message', from: 2, msg: gossip({ incarnation: 'b', promised: 0, end: -1 }) }, 10);
  a.step({ type: 'message', from: 2, msg: recoverReply(ask.rid, { incarnation: 'b' }) }, 20);
  // Peer 3 never answers: the join passes on the tick after the check time, with r2 and itself a quorum.
  const out = a.step({ type: 'tick' }, 6_000);
  assert.equal(out.status, 'VOTING');
  assert.ok(out.records.filter((r) => r.type === 'metadata').length >= 2, 'the witnessed table is written in the same step');
  assert.equal(a.store.metadata().status, 'VOTING');
});

// ------------------------------------------------------------------ finding 3: recoveringDuringStart

test('start: a RECOVERING member holding nothing (metadata damaged during the start) joins the start with a new disk; the EMPTY ones start', () => {
  // The damaged replica: every member answered, none VOTING, nobody holds a record.
  const damaged = core({ status: 'RECOVERING', promised: 0, incarnation: 'a' });
  damaged.core.step({ type: 'tick' }, 0);
  damaged.core.step({ type: 'reply', from: 2, msg: recoverReply(damaged.rid(), { status: 'EMPTY', end: -1, incarnation: 'b' }) }, 1);
  const out = damaged.core.step({ type: 'reply', from: 3, msg: recoverReply(damaged.rid(), { status: 'EMPTY', end: -1, incarnation: 'c' }) }, 1);
  assert.equal(out.become?.status, 'STARTING');
  assert.deepEqual(out.become?.patch.startView, { 1: 'a', 2: 'b', 3: 'c' });
  assert.ok((out.become?.patch.generation ?? 0) >= 1 && (out.become?.patch.disk ?? 0) > 0, 'a new disk: a promise its damaged metadata made is never counted for it');
  // An EMPTY member that sees it does not wait for a VOTING quorum that never was.
  const empty = core({ status: 'EMPTY', promised: 0, incarnation: 'b' });
  empty.core.step({ type: 'tick' }, 0);
  empty.core.step({ type: 'reply', from: 2, msg: recoverReply(empty.rid(), { status: 'RECOVERING', end: -1, incarnation: 'a' }) }, 1);
  const out2 = empty.core.step({ type: 'reply', from: 3, msg: recoverReply(empty.rid(), { status: 'EMPTY', end: -1, incarnation: 'c' }) }, 1);
  assert.equal(out2.become?.status, 'STARTING');
});

test('start: never over data: a member holding a record, or a RECOVERING one with a generation, keeps every other from starting', () => {
  const cases: [string, RecoverReply['status'], number, number][] = [
    ['a RECOVERING member holding records', 'RECOVERING', 5, 0],
    ['an EMPTY member that learned values', 'EMPTY', 0, 0],
    ['a RECOVERING member in a rejoin (a generation)', 'RECOVERING', -1, 2],
  ];
  for (const [what, status, end, generation] of cases) {
    for (const self of ['EMPTY', 'RECOVERING'] as const) {
      const c = core({ status: self, promised: 0, incarnation: 'a' });
      c.core.step({ type: 'tick' }, 0);
      c.core.step({ type: 'reply', from: 2, msg: recoverReply(c.rid(), { status, end, generation, incarnation: 'b' }) }, 1);
      const out = c.core.step({ type: 'reply', from: 3, msg: recoverReply(c.rid(), { status: 'EMPTY', end: -1, incarnation: 'c' }) }, 1);
      assert.equal(out.become, undefined, `${self}, with ${what}: no start`);
    }
  }
  // Its own records count too.
  const c = core({ status: 'RECOVERING', promised: 0, incarnation: 'a' }, 3);
  c.core.step({ type: 'tick' }, 0);
  c.core.step({ type: 'reply', from: 2, msg: recoverReply(c.rid(), { status: 'EMPTY', end: -1, incarnation: 'b' }) }, 1);
  assert.equal(c.core.step({ type: 'reply', from: 3, msg: recoverReply(c.rid(), { status: 'EMPTY', end: -1, incarnation: 'c' }) }, 1).become, undefined);
});

test('start: a RECOVERING member counts as one that may have voted: with a STARTING view and a lost disk, a quorum of them refuses', () => {
  const view = [{ id: 1, incarnation: 'a' }, { id: 2, incarnation: 'b' }, { id: 3, incarnation: 'c-old' }];
  const c = core({ status: 'RECOVERING', promised: 0, incarnation: 'a' });
  c.core.step({ type: 'tick' }, 0);
  c.core.step({ type: 'reply', from: 2, msg: recoverReply(c.rid(), { status: 'STARTING', end: -1, incarnation: 'b', startView: view }) }, 1);
  const out = c.core.step({ type: 'reply', from: 3, msg: recoverReply(c.rid(), { status: 'EMPTY', end: -1, incarnation: 'c-new' }) }, 1);
  assert.equal(out.become, undefined, 'r1 (RECOVERING) and r3 (a new disk) may both have voted: a quorum of three');
});

// ------------------------------------------------------------------ generation ties

test('a peer never replaces a recorded disk by another of the same generation (which is newer is unknown), and tells the member which one it recorded', () => {
  const b = node(2, { status: 'VOTING', promised: 0, incarnation: 'i2', recorded: { 1: { generation: 2, disk: 11 } } });
  b.step({ type: 'message', from: 1, msg: gossip({ generation: 2, disk: 22 }) }, 10);
  assert.deepEqual(b.store.metadata().recorded?.[1], { generation: 2, disk: 11 }, 'the tie keeps what was recorded');
  const told = b.step({ type: 'tick' }, 1_000).announce.find((a) => a.to === 1)?.msg as PeerStateMessage;
  assert.deepEqual(told.yours, { generation: 2, disk: 11 });
  b.step({ type: 'message', from: 1, msg: gossip({ generation: 3, disk: 33 }) }, 1_010);
  assert.deepEqual(b.store.metadata().recorded?.[1], { generation: 3, disk: 33 }, 'a newer generation replaces it');
});

test('generation tie: a VOTING replica told that a peer recorded another disk of its generation rejoins above it (no livelock of stale answers)', () => {
  const a = node(1, { status: 'VOTING', promised: 4, incarnation: 'i1', generation: 2, disk: 22 });
  assert.equal(a.step({ type: 'message', from: 2, msg: gossip({ incarnation: 'i2', yours: { generation: 1, disk: 5 } }) }, 10).status, undefined, 'an older disk recorded: nothing to do');
  assert.equal(a.step({ type: 'message', from: 2, msg: gossip({ incarnation: 'i2', yours: { generation: 2, disk: 22 } }) }, 20).status, undefined, 'its own disk: nothing to do');
  const out = a.step({ type: 'message', from: 2, msg: gossip({ incarnation: 'i2', yours: { generation: 2, disk: 11 } }) }, 30);
  assert.equal(out.status, 'RECOVERING', 'stops voting');
  assert.equal(a.store.metadata().status, 'RECOVERING');
  const asks = out.send.filter((s) => s.msg.type === 'recover');
  assert.equal(asks.length, 2, 'and queries its peers at once');
  const rid = (asks[0]!.msg as RecoverRequest).rid;
  a.step({ type: 'message', from: 2, msg: recoverReply(rid, { member: { generation: 2, disk: 11 } }) }, 40);
  const q = a.step({ type: 'message', from: 3, msg: recoverReply(rid, { member: { generation: 2, disk: 22 } }) }, 40);
  assert.equal(q.status, 'RECOVERING');
  assert.equal(a.store.metadata().generation, 3, 'a generation above the tie');
  assert.notEqual(a.store.metadata().disk, 22);
});

// ------------------------------------------------------------------ the proposal bound (attack: a lagging replica)

test('a replica that lagged behind its peers measures the proposal bound from their gossiped promises, so real proposers are not refused forever', () => {
  // r3 was down (or is a new disk) while r1 and r2 counted up past limits.proposalStepMax.
  const c = node(3, { status: 'VOTING', promised: 1, incarnation: 'i3' });
  const far = 1 + limits.proposalStepMax + 5;
  const ask = (rid: number, proposal: number) =>
    (c.step({ type: 'message', msg: { type: 'promise', rid, proposal, nonce: 7 } }, 100 + rid).reply as PromiseReply).outcome;
  assert.equal(ask(1, far), 'ignored', 'alone, the number looks like a hostile jump');
  c.step({ type: 'message', from: 1, msg: gossip({ promised: far - 1 }) }, 200);
  assert.equal(ask(2, far), 'accept', 'a peer promised just below it: a real proposer counting up');
  assert.equal(ask(3, far + limits.proposalStepMax + 1), 'ignored', 'a jump beyond the peers is still refused');
});

// ------------------------------------------------------------------ a wiped disk among peers still checking theirs

test('start: with no start under way, a quorum of RECOVERING members (peers holding their votes in the restart check, or damaged metadata) keeps a wiped member from starting a new log', () => {
  // r1 was wiped (EMPTY, a new incarnation); r2 and r3 restarted VOTING and answer RECOVERING while their
  // restart check holds their votes. They hold no record here, but a quorum of them may have voted: were r1 to
  // start (STARTING), r2 and r3 would count its answer, pass their check, and r1 would join as VOTING with an
  // empty disk whose previous incarnation accepted values; that quorum of r1 and a laggard could choose again.
  for (const self of ['EMPTY', 'RECOVERING'] as const) {
    const c = core({ status: self, promised: 0, incarnation: 'a-new' });
    c.core.step({ type: 'tick' }, 0);
    c.core.step({ type: 'reply', from: 2, msg: recoverReply(c.rid(), { status: 'RECOVERING', end: -1, incarnation: 'b' }) }, 1);
    const out = c.core.step({ type: 'reply', from: 3, msg: recoverReply(c.rid(), { status: 'RECOVERING', end: -1, incarnation: 'c' }) }, 1);
    assert.equal(out.become, undefined, `${self}: no start while two members may have voted`);
    if (self === 'EMPTY') assert.match(out.waiting ?? '', /may have voted/);
  }
  // One such member is fewer than a quorum: with two new disks beside it nothing can have been chosen (that
  // would take a second lost disk), and the start goes on, as before.
  const c = core({ status: 'EMPTY', promised: 0, incarnation: 'a' });
  c.core.step({ type: 'tick' }, 0);
  c.core.step({ type: 'reply', from: 2, msg: recoverReply(c.rid(), { status: 'RECOVERING', end: -1, incarnation: 'b' }) }, 1);
  assert.equal(c.core.step({ type: 'reply', from: 3, msg: recoverReply(c.rid(), { status: 'EMPTY', end: -1, incarnation: 'c' }) }, 1).become?.status, 'STARTING');
});

// ------------------------------------------------------------------ step 6 (R13) with one configuration

test('one configuration: a recover asks no links and its reply carries none, only the learned prefix; nobody is removed', () => {
  const { core: c } = core({ status: 'VOTING', promised: 3, incarnation: 'a' }, 20);
  const out = c.step({ type: 'tick' }, 0);
  for (const s of out.send) assert.deepEqual(s.msg, { type: 'recover', rid: (s.msg as RecoverRequest).rid, member: 1 }, 'no head without a stored chain');
  const b = node(2, { status: 'VOTING', promised: 0, incarnation: 'i2' });
  const r = b.step({ type: 'message', from: 1, msg: { type: 'recover', rid: 1, member: 1 } satisfies RecoverRequest }, 10).reply as RecoverReply;
  assert.equal(r.learnedThrough, -1);
  assert.equal(r.links, undefined);
  assert.equal(r.removed, undefined);
});

// ------------------------------------------------------------------ seed 7275: what a replica in its check gossips

test('restart check: an entry learned during the check is not gossiped as this disk\'s end, so its peers\' witness cannot unmask the disk itself (seed 7275)', () => {
  const learn = (position: number) => ({ type: 'learn' as const, position, action: { kind: 'nop' as const } });
  const store = new MemoryStore({ status: 'VOTING', promised: 2, incarnation: 'i1' });
  store.append([0, 1, 2, 3, 4].map(learn));
  const a = new ReplicaNodeCore({ id: 1, members: [1, 2, 3], store, random: () => 0.5, now: 0 });
  const stepA = (e: Parameters<ReplicaNodeCore['step']>[0], now: number): NodeOutput => {
    const out = a.step(e, now);
    store.append(out.records);
    return out;
  };
  const ask = stepA({ type: 'tick' }, 0).send.find((s) => s.to === 2 && s.msg.type === 'recover');
  assert.ok(a.holdsVotes, 'restarted VOTING: in its restart check');
  assert.ok(ask !== undefined, 'the check asks r2');
  // A chosen value reaches it meanwhile (a writer's commit, a hole repair): it is stored, not voted on.
  stepA({ type: 'message', from: 2, msg: { type: 'learned', entries: [{ position: 5, action: { kind: 'nop' } }] } }, 10);
  assert.equal(store.end(), 5, 'the learned entry is on the disk');
  const out = stepA({ type: 'tick' }, 10 + timing.peerStateMs);
  const told = out.announce.map((x) => x.msg).filter((m): m is PeerStateMessage => m.type === 'peerState');
  assert.ok(told.length > 0, 'it gossips');
  for (const m of told) {
    assert.equal(m.end, 4, 'the end it started with, which the check compares with');
    assert.ok(m.learnedThrough === undefined || m.learnedThrough <= 4);
  }
  // A peer that took that gossip answers the check with a witness the disk holds: no rejoin.
  const b = node(2, { status: 'VOTING', promised: 2, incarnation: 'i2' });
  b.step({ type: 'message', from: 1, msg: told[0]! }, 20 + timing.peerStateMs);
  const rid = (ask.msg as RecoverRequest).rid;
  const answer = b.step({ type: 'message', from: 1, msg: { type: 'recover', rid, member: 1 } satisfies RecoverRequest }, 30 + timing.peerStateMs);
  assert.equal((answer.reply as RecoverReply).witness?.end, 4);
  const after = stepA({ type: 'message', from: 2, msg: answer.reply! }, 40 + timing.peerStateMs);
  assert.notEqual(after.notes.join(' ').includes('went back in time'), true, after.notes.join(' | '));
  assert.equal(store.metadata().status, 'VOTING', 'still VOTING (its check goes on)');
});

test('a STARTING disk in its join check does not unmask itself either: what it stores during the check is not gossiped as its end', () => {
  // r1 STARTING, r2 and r3 VOTING: r1 checks before it joins (then 'join'), comparing with the end it started with.
  const store = new MemoryStore({ status: 'STARTING', promised: 0, incarnation: 'i1' });
  const a = new ReplicaNodeCore({ id: 1, members: [1, 2, 3], store, random: () => 0.5, now: 0 });
  const stepA = (e: Parameters<ReplicaNodeCore['step']>[0], now: number): NodeOutput => {
    const out = a.step(e, now);
    store.append(out.records);
    return out;
  };
  const b = node(2, { status: 'VOTING', promised: 2, incarnation: 'i2' });
  const c = node(3, { status: 'VOTING', promised: 2, incarnation: 'i3' });
  const start = stepA({ type: 'tick' }, 0);
  const askB = start.send.find((s) => s.to === 2 && s.msg.type === 'recover');
  const askC = start.send.find((s) => s.to === 3 && s.msg.type === 'recover');
  assert.ok(askB !== undefined && askC !== undefined, 'it asks its peers');
  stepA({ type: 'message', from: 2, msg: b.step({ type: 'message', from: 1, msg: askB.msg }, 5).reply! }, 6);
  // A chosen value reaches it during the check (an install election's config entry does the same).
  stepA({ type: 'message', from: 2, msg: { type: 'learned', entries: [{ position: 0, action: { kind: 'nop' } }] } }, 10);
  assert.equal(store.end(), 0, 'stored');
  const told = stepA({ type: 'tick' }, 10 + timing.peerStateMs).announce.map((x) => x.msg).filter((m): m is PeerStateMessage => m.type === 'peerState');
  assert.ok(told.length > 0, 'it gossips');
  for (const m of told) assert.equal(m.end, -1, 'the end it started with');
  for (const m of told) c.step({ type: 'message', from: 1, msg: m }, 20 + timing.peerStateMs);
  const answer = c.step({ type: 'message', from: 1, msg: askC.msg }, 30 + timing.peerStateMs).reply!;
  const after = stepA({ type: 'message', from: 3, msg: answer }, 40 + timing.peerStateMs);
  assert.equal(after.notes.join(' ').includes('went back in time'), false, after.notes.join(' | '));
});
