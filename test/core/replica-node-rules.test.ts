// Issue 11 (mutation testing of src/core/replica-node.ts): the rules of the pure replica node, one at a time,
// on ReplicaNodeCore over a MemoryStore: the restart check's held votes (no vote, RECOVERING in its gossip, a
// metadata record keeps the disk's real status), what the acceptor's steps feed back (the writer seen active,
// the members its writes counted, the disks they witnessed), which records may ride lazily and which wait for
// a reply, the recover reply as discovery needs it, a removed member's rejoin, the state gossip (when, to whom,
// what, a stranger's newer head), a peer that recorded another disk of this member, the witnessed table's
// persistence, the recovery's status changes, the repair of lost records and holes, and the catch-up's results
// (learned values, a peer's beginning, a rejoin's end). Each test names the rule it protects and fails with one
// or more of Stryker's mutants of replica-node.ts planted by hand (docs/testing.md). No wall clock: every
// `now` is given. Checked against every compiling mutant of Stryker's own instrumented replica-node.ts, switched
// on one at a time in a copy of dist/: 395 of 431 detected; the 36 left are 34 equivalent and 2 undecided
// (docs/testing.md lists them with their reasons).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limits, timing } from '../../src/core/constants.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import { ReplicaNodeCore, type NodeEvent, type NodeOutput, type ReplicaNodeConfig } from '../../src/core/replica-node.js';
import type {
  Action, Message, Metadata, PeerStateMessage, PersistRecord, PromiseReply, ReadReply, ReadRequest, RecoverReply, RecoverRequest, RejoinReply, ReplicaId,
  WriteReply, WriteRequest,
} from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { config0, member } from './reconfig-harness.js';

// ------------------------------------------------------------------ helpers

const app = (p: number): Action => ({ kind: 'append', data: new Uint8Array([p % 251]) });

/** A node over a MemoryStore that appends every step's records (the shell, with every record durable at once). */
class N {
  readonly store: MemoryStore;
  readonly node: ReplicaNodeCore;
  readonly outs: NodeOutput[] = [];
  constructor(meta: Partial<Metadata> = {}, cfg: Partial<ReplicaNodeConfig> = {}, records: PersistRecord[] = []) {
    this.store = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: 'i1', ...meta });
    if (records.length > 0) this.store.append(records);
    this.node = new ReplicaNodeCore({ id: 1, members: [1, 2, 3], store: this.store, random: () => 0.5, restartCheck: false, now: 0, ...cfg });
  }
  step(e: NodeEvent, now: number): NodeOutput {
    const out = this.node.step(e, now);
    this.store.append(out.records);
    this.outs.push(out);
    return out;
  }
  tick(now: number): NodeOutput {
    return this.step({ type: 'tick' }, now);
  }
  msg(msg: Message, from: ReplicaId | undefined, now: number): NodeOutput {
    return this.step(from === undefined ? { type: 'message', msg } : { type: 'message', msg, from }, now);
  }
}

const gossip = (o: Partial<PeerStateMessage> = {}): PeerStateMessage => ({
  type: 'peerState', incarnation: 'p', generation: 0, disk: 0, status: 'VOTING', promised: 0, begin: 0, end: -1, learnedThrough: -1, ...o,
});

const write = (proposal: number, from: number, n: number, named: WriteRequest['named'] = [], rid = 1): WriteRequest => ({
  type: 'write', rid, proposal, from, actions: Array.from({ length: n }, (_, k) => app(from + k)), named,
});
const named = (...ids: number[]): WriteRequest['named'] => ids.map((id) => ({ id, generation: 0, disk: 0 }));

/** Accepted-and-learned records for positions [0, n). */
function learnedRecords(n: number, proposal = 1): PersistRecord[] {
  const out: PersistRecord[] = [];
  for (let p = 0; p < n; p++) out.push({ type: 'accept', position: p, proposal, action: app(p) });
  if (n > 0) out.push({ type: 'commit', from: 0, to: n - 1, proposal });
  return out;
}

const readsOf = (out: NodeOutput): { to: ReplicaId; msg: ReadRequest }[] =>
  out.send.filter((s): s is { to: ReplicaId; msg: ReadRequest } => s.msg.type === 'read');
const recoversOf = (out: NodeOutput): { to: ReplicaId; msg: RecoverRequest }[] =>
  out.send.filter((s): s is { to: ReplicaId; msg: RecoverRequest } => s.msg.type === 'recover');
const metadataOf = (out: NodeOutput): Metadata[] => out.records.flatMap((r) => (r.type === 'metadata' ? [r.metadata] : []));

function readReplyTo(req: ReadRequest, o: Partial<ReadReply> = {}): ReadReply {
  return { type: 'readReply', rid: req.rid, status: 'VOTING', begin: 0, end: req.to, learnedThrough: req.to, slots: [], coveredThrough: req.to, lost: [], writerActive: false, ...o };
}

function recoverReply(rid: number, o: Partial<RecoverReply> = {}): RecoverReply {
  return {
    type: 'recoverReply', rid, status: 'VOTING', begin: 0, end: -1, incarnation: 'p', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0, recorded: [], ...o,
  };
}

/** The writerActive flag of a read reply at `now` (the acceptor reports the node's view of the writer). */
function writerActive(n: N, now: number): boolean {
  const out = n.msg({ type: 'read', rid: 99, from: 0, to: 0, limit: 1 }, 7, now);
  return (out.reply as ReadReply).writerActive;
}

// ------------------------------------------------------------------ the restart check holds the votes

test('a VOTING disk started with the restart check (the default) holds its votes: promises and writes are answered IGNORED and nothing is recorded', () => {
  const n = new N({ promised: 2 }, { restartCheck: undefined });
  assert.equal(n.node.holdsVotes, true);
  assert.equal(n.node.waiting, 'checking with the peers that this disk did not go back in time');
  const p = n.msg({ type: 'promise', rid: 1, proposal: 5 }, 4, 10);
  assert.equal((p.reply as PromiseReply).outcome, 'ignored');
  assert.deepEqual(p.records, []);
  const w = n.msg(write(2, 0, 1, named(1, 2)), 4, 20);
  assert.equal((w.reply as WriteReply).outcome, 'ignored');
  assert.deepEqual(w.records, []);
  assert.equal(n.store.metadata().promised, 2);
});

test('a replica started without the restart check votes at once: holdsVotes is false, waiting empty, and a promise is granted', () => {
  const n = new N({ promised: 2 });
  assert.equal(n.node.holdsVotes, false);
  assert.equal(n.node.removed, false);
  assert.equal(n.node.waiting, '');
  const p = n.msg({ type: 'promise', rid: 1, proposal: 5 }, 4, 10);
  assert.equal((p.reply as PromiseReply).outcome, 'accept');
  assert.equal(n.store.metadata().promised, 5);
});

test('a replica that is not VOTING waits for the recovery protocol, and says so', () => {
  const n = new N({ status: 'EMPTY' }, { restartCheck: true });
  assert.equal(n.node.waiting, 'starting the recovery protocol');
  assert.equal(n.node.holdsVotes, false, 'an EMPTY disk holds nothing: it is simply not VOTING');
  assert.equal(n.node.status, 'EMPTY');
  const p = n.msg({ type: 'promise', rid: 1, proposal: 5 }, 4, 10);
  assert.equal((p.reply as PromiseReply).outcome, 'ignored');
});

test('while the restart check runs, a metadata record the acceptor writes (a config entry learned) keeps the status the disk really has', () => {
  const c0 = config0([1, 2, 3]);
  const n = new N({ configs: [c0] }, { restartCheck: true, bootstrap: c0 });
  assert.equal(n.node.holdsVotes, true);
  const cfg1 = { epoch: 1, voters: [1, 2, 3].map(member), learners: [], nextId: 4 };
  const out = n.msg({ type: 'learned', entries: [{ position: 0, action: { kind: 'config', config: cfg1 } }], floors: [{ position: 0, floor: 3 }] }, 2, 10);
  const metas = metadataOf(out);
  assert.ok(metas.length > 0, 'the chain grows in a metadata record');
  for (const m of metas) assert.equal(m.status, 'VOTING', 'not the RECOVERING the held store shows the acceptor');
  assert.equal(n.store.metadata().status, 'VOTING');
  assert.equal(n.store.metadata().configs?.at(-1)?.epoch, 1);
});

test('a replica in its restart check gossips RECOVERING although its disk says VOTING; once voting it gossips VOTING', () => {
  const held = new N({}, { restartCheck: true });
  const out = held.tick(0);
  assert.deepEqual(out.announce.map((a) => (a.msg as PeerStateMessage).status), ['RECOVERING', 'RECOVERING']);
  const free = new N();
  assert.deepEqual(free.tick(0).announce.map((a) => (a.msg as PeerStateMessage).status), ['VOTING', 'VOTING']);
});

// ------------------------------------------------------------------ the state gossip

test('gossip: every peerStateMs, to every other member in ascending order, as announcements (released once durable), never to itself', () => {
  const c = { ...config0([1, 3], [2]), voters: [member(3), member(1)] };
  const n = new N({ configs: [c], promised: 4, generation: 2, disk: 6, incarnation: 'inc' }, {}, learnedRecords(3));
  const out = n.tick(0);
  assert.deepEqual(out.send, [], 'gossip is no request to send now');
  assert.deepEqual(out.announce.map((a) => a.to), [2, 3], 'voters and learners, ascending, not itself');
  const msg = out.announce[0]!.msg as PeerStateMessage;
  assert.deepEqual(msg, {
    type: 'peerState', incarnation: 'inc', generation: 2, disk: 6, status: 'VOTING', promised: 4, begin: 0, end: 2, learnedThrough: 2,
    config: { epoch: 0, position: -1 }, address: 'h1:1',
  });
  assert.deepEqual(n.tick(timing.peerStateMs - 1).announce, [], 'not again before peerStateMs');
  assert.equal(n.tick(timing.peerStateMs).announce.length, 2, 'again at peerStateMs');
  assert.deepEqual(n.tick(timing.peerStateMs + 1).announce, []);
});

test('gossip names no address when the configuration lists no entry for this replica', () => {
  const n = new N({}, { id: 4 });
  const out = n.tick(0);
  assert.deepEqual(out.announce.map((a) => a.to), [1, 2, 3]);
  assert.equal('address' in out.announce[0]!.msg, false);
});

test('gossip: a replica alone in its configuration tells nobody; two members do; a removed replica tells the members of the configuration that removed it, one member too', () => {
  assert.deepEqual(new N({}, { members: [1] }).tick(0).announce, []);
  assert.deepEqual(new N({}, { members: [1, 2] }).tick(0).announce.map((a) => a.to), [2]);
  assert.deepEqual(new N({}, { members: [2, 3] }).tick(0).announce.map((a) => a.to), [2, 3]);
  assert.deepEqual(new N({}, { members: [2] }).tick(0).announce.map((a) => a.to), [2]);
});

test('gossip tells each peer which of its disks this replica recorded (yours), and only that peer', () => {
  const n = new N({ recorded: { 2: { generation: 3, disk: 4 } } });
  const out = n.tick(0);
  const to2 = out.announce.find((a) => a.to === 2)!.msg as PeerStateMessage;
  const to3 = out.announce.find((a) => a.to === 3)!.msg as PeerStateMessage;
  assert.deepEqual(to2.yours, { generation: 3, disk: 4 });
  assert.equal('yours' in to3, false);
});

test('peer state is taken from members only, with the time heard; a message with no sender, from itself or from a non-member naming no newer head is dropped', () => {
  const n = new N();
  n.msg(gossip({ promised: 3 }), 2, 100);
  n.msg(gossip({ promised: 4 }), undefined, 110);
  n.msg(gossip({ promised: 5 }), 1, 120);
  n.msg(gossip({ promised: 6 }), 9, 130);
  assert.deepEqual([...n.node.peerStates().keys()], [2]);
  assert.equal(n.node.peerStates().get(2)!.at, 100);
  assert.equal(n.node.peerStates().get(2)!.state.promised, 3);
});

test('the highest promise any member gossiped lets this replica follow a proposal that far above its own (saneProposal), not only the latest gossip', () => {
  const step = limits.proposalStepMax;
  const n = new N();
  n.msg(gossip({ promised: 1000 }), 2, 10);
  n.msg(gossip({ promised: 10 }), 3, 20);
  const p = n.msg({ type: 'promise', rid: 1, proposal: 1000 + step }, 4, 30);
  assert.equal((p.reply as PromiseReply).outcome, 'accept');
  const m = new N();
  const q = m.msg({ type: 'promise', rid: 1, proposal: 1000 + step }, 4, 30);
  assert.notEqual((q.reply as PromiseReply).outcome, 'accept', 'without the gossip the jump is refused');
});

test('a member gossiping a newer disk of its own is recorded, lazily (no reply waits); the same disk again records nothing', () => {
  const n = new N();
  const out = n.msg(gossip({ generation: 2, disk: 7 }), 2, 10);
  assert.deepEqual(metadataOf(out).map((m) => m.recorded), [{ 2: { generation: 2, disk: 7 } }]);
  assert.equal(out.lazy, true);
  assert.equal(out.reply, undefined);
  const again = n.msg(gossip({ generation: 2, disk: 7 }), 2, 20);
  assert.deepEqual(again.records, []);
  assert.equal(again.lazy, false);
});

/** The witness of member `m` a recover reply gives (the node's in-memory table). */
function witnessOf(n: N, m: number, now: number): RecoverReply['witness'] {
  return (n.msg({ type: 'recover', rid: 5, member: m }, m, now).reply as RecoverReply).witness;
}

test('witnessed progress: the same disk keeps the highest promise and end seen, each on its own', () => {
  const n = new N();
  n.msg(gossip({ promised: 7, end: 12 }), 2, 10);
  assert.deepEqual(witnessOf(n, 2, 11), { generation: 0, disk: 0, promised: 7, end: 12 });
  n.msg(gossip({ promised: 5, end: 15 }), 2, 20);
  assert.deepEqual(witnessOf(n, 2, 21), { generation: 0, disk: 0, promised: 7, end: 15 });
  n.msg(gossip({ promised: 9, end: 3 }), 2, 30);
  assert.deepEqual(witnessOf(n, 2, 31), { generation: 0, disk: 0, promised: 9, end: 15 });
});

test('witnessed progress: a newer disk replaces the old one with its own figures; an older disk is ignored', () => {
  const n = new N();
  n.msg(gossip({ generation: 1, disk: 1, promised: 7, end: 12 }), 2, 10);
  n.msg(gossip({ generation: 0, disk: 0, promised: 20, end: 30 }), 2, 20);
  assert.deepEqual(witnessOf(n, 2, 21), { generation: 1, disk: 1, promised: 7, end: 12 }, 'an older generation is no news');
  n.msg(gossip({ generation: 2, disk: 3, promised: 2, end: 4 }), 2, 30);
  assert.deepEqual(witnessOf(n, 2, 31), { generation: 2, disk: 3, promised: 2, end: 4 }, 'not the old disk\'s higher figures');
});

test('the witnessed table is written down at most every 5 s from the start, only when it changed, lazily', () => {
  const n = new N({}, { now: 1000 });
  n.msg(gossip({ promised: 7, end: 12 }), 2, 1100);
  assert.deepEqual(metadataOf(n.tick(5999)).filter((m) => m.witnessed !== undefined), [], 'not before 5 s from the start');
  const out = n.tick(6000);
  const metas = metadataOf(out);
  assert.equal(metas.length, 1);
  assert.deepEqual(metas[0]!.witnessed, { 2: { generation: 0, disk: 0, promised: 7, end: 12 } });
  assert.equal(out.lazy, true);
  assert.deepEqual(n.store.metadata().witnessed, { 2: { generation: 0, disk: 0, promised: 7, end: 12 } });
  // Nothing new: nothing written, however long after.
  n.msg(gossip({ promised: 7, end: 12 }), 2, 6100);
  assert.deepEqual(metadataOf(n.tick(20_000)), [], 'the same figures again change nothing');
  const m = new N();
  m.msg(gossip({ promised: 7 }), 2, 100);
  assert.equal(metadataOf(m.tick(5000)).length, 1);
  m.msg(gossip({ promised: 8 }), 2, 5100);
  assert.deepEqual(metadataOf(m.tick(9999)), [], '5 s from the last write');
  assert.equal(metadataOf(m.tick(10_000)).length, 1);
});

test('the witnessed table starts from the persisted copy', () => {
  const w = { 3: { generation: 1, disk: 2, promised: 9, end: 4 } };
  const n = new N({ witnessed: w });
  n.msg(gossip({ promised: 1 }), 2, 10);
  const metas = metadataOf(n.tick(6000));
  assert.deepEqual(metas.at(-1)!.witnessed, { ...w, 2: { generation: 0, disk: 0, promised: 1, end: -1 } });
});

// ------------------------------------------------------------------ a peer recorded another disk of this member

test('a VOTING replica told by a peer that it recorded a newer disk of this member stops voting and rejoins (RECOVERING, durable, at once)', () => {
  const n = new N({ generation: 1, disk: 4 });
  n.msg(gossip({ promised: 3, end: 5 }), 3, 5);
  const out = n.msg(gossip({ yours: { generation: 2, disk: 9 } }), 2, 10);
  assert.equal(out.status, 'RECOVERING');
  const metas = metadataOf(out);
  assert.equal(metas[0]!.status, 'RECOVERING');
  assert.deepEqual(metas[0]!.witnessed?.[3], { generation: 0, disk: 0, promised: 3, end: 5 }, 'with the witnessed table');
  assert.match(n.node.waiting, /^rejoining/);
  assert.equal(out.notes.length > 0, true);
  assert.ok(out.send.length > 0, 'the recovery starts at once (its first round goes out)');
  assert.equal(n.store.metadata().status, 'RECOVERING');
  const p = n.msg({ type: 'promise', rid: 1, proposal: 5 }, 4, 20);
  assert.equal((p.reply as PromiseReply).outcome, 'ignored');
});

test('a disk of the same generation but another number recorded for this member also makes it rejoin (a generation drawn twice)', () => {
  const n = new N({ generation: 1, disk: 4 });
  assert.equal(n.msg(gossip({ yours: { generation: 1, disk: 5 } }), 2, 10).status, 'RECOVERING');
});

test('a peer that recorded this very disk, or an older one, changes nothing', () => {
  const n = new N({ generation: 1, disk: 4 });
  assert.equal(n.msg(gossip({ yours: { generation: 1, disk: 4 } }), 2, 10).status, undefined);
  assert.equal(n.msg(gossip({ yours: { generation: 0, disk: 0 } }), 2, 20).status, undefined);
  assert.equal(n.store.metadata().status, 'VOTING');
  assert.equal(n.node.waiting, '');
});

test('a replica still in its recovery (the restart check) does not start a second one when a peer recorded a newer disk', () => {
  const n = new N({ generation: 1, disk: 4 }, { restartCheck: true });
  const out = n.msg(gossip({ yours: { generation: 2, disk: 9 } }), 2, 10);
  assert.equal(out.status, undefined);
  assert.deepEqual(metadataOf(out).filter((m) => m.status !== 'VOTING'), []);
});

// ------------------------------------------------------------------ what the acceptor's steps feed back

test('the holder of the implicit promise writing or committing here is a writer at work for writerActiveMs (read replies say so)', () => {
  const n = new N({ promised: 5 }, {}, learnedRecords(1, 5));
  assert.equal(writerActive(n, 0), false);
  n.msg({ type: 'commit', proposal: 5, from: 0, to: 0 }, 2, 100);
  assert.equal(writerActive(n, 100 + timing.writerActiveMs - 1), true);
  assert.equal(writerActive(n, 100 + timing.writerActiveMs), false);
  const w = new N({ promised: 5 });
  w.msg(write(5, 0, 1, named(1, 2)), 2, 200);
  assert.equal(writerActive(w, 201), true);
});

test('a write or commit under another proposal than the promise in force, or under no promise at all (0), is no sign of the writer', () => {
  const n = new N({ promised: 5 }, {}, learnedRecords(1, 4));
  n.msg({ type: 'commit', proposal: 4, from: 0, to: 0 }, 2, 100);
  assert.equal(writerActive(n, 101), false);
  const z = new N({ promised: 0 });
  z.msg({ type: 'commit', proposal: 0, from: 0, to: 0 }, 2, 100);
  assert.equal(writerActive(z, 101), false);
});

test('an implicit promise granted is a writer at work (its election settles every open position); a refused one, or an explicit promise (a fill), is not', () => {
  const n = new N({ promised: 5 });
  n.msg({ type: 'promise', rid: 1, proposal: 4 }, 2, 10);
  assert.equal(writerActive(n, 11), false, 'refused');
  n.msg({ type: 'promise', rid: 2, proposal: 5, from: 0, to: 3 }, 2, 20);
  assert.equal(writerActive(n, 21), false, 'an explicit promise at the number in force');
  n.msg({ type: 'promise', rid: 3, proposal: 6, from: 0, to: 3 }, 2, 30);
  assert.equal(writerActive(n, 31), false, 'an explicit promise granted');
  n.msg({ type: 'promise', rid: 4, proposal: 7 }, 2, 40);
  assert.equal(writerActive(n, 41), true);
});

test('writerView: the members the writer counted in its latest write accepted here, ascending, who of them was heard lately, the quorum and what may still be lost', () => {
  const n = new N({ promised: 5 });
  assert.equal(n.node.writerView(), null, 'no write yet');
  n.msg(gossip(), 2, 50);
  n.msg(write(5, 0, 1, named(3, 1, 2)), 2, 100);
  let v = n.node.writerView()!;
  assert.deepEqual(v, { proposal: 5, counted: [1, 2, 3], reachable: [1, 2], quorum: 2, survives: 0, lastWriteAgoMs: 0, active: true });
  n.msg(gossip(), 3, 60);
  n.tick(50 + 3 * timing.peerStateMs);
  v = n.node.writerView()!;
  assert.deepEqual(v.reachable, [1, 2, 3], 'heard exactly 3 gossip periods ago still counts');
  assert.equal(v.survives, 1);
  assert.equal(v.lastWriteAgoMs, 50 + 3 * timing.peerStateMs - 100);
  n.tick(51 + 3 * timing.peerStateMs);
  assert.deepEqual(n.node.writerView()!.reachable, [1, 3], 'r2 not heard for more than 3 gossip periods');
  n.tick(100 + timing.writerActiveMs);
  assert.equal(n.node.writerView()!.active, false);
});

test('writerView is null once the promise moved past the writer that wrote here', () => {
  const n = new N({ promised: 5 });
  n.msg(write(5, 0, 1, named(1, 2)), 2, 100);
  n.msg({ type: 'promise', rid: 1, proposal: 6 }, 3, 200);
  assert.equal(n.node.writerView(), null);
});

test('a write accepted under a proposal above the promise in force counts no members for the writer view', () => {
  const n = new N({ promised: 5 });
  const out = n.msg(write(6, 0, 1, named(1, 2)), 2, 100);
  assert.equal((out.reply as WriteReply).outcome, 'accept');
  assert.equal(n.node.writerView(), null);
});

test('an accepted write witnesses the promise of every other disk it names; this replica itself is not witnessed', () => {
  const n = new N({ promised: 5 });
  n.msg(write(5, 0, 1, named(1, 2, 3)), 2, 100);
  assert.deepEqual(witnessOf(n, 2, 101), { generation: 0, disk: 0, promised: 5, end: -1 });
  assert.deepEqual(witnessOf(n, 3, 102), { generation: 0, disk: 0, promised: 5, end: -1 });
  assert.equal(witnessOf(n, 1, 103), undefined);
});

test('a write witnesses a known disk only upward: a lower proposal keeps the figure, a higher one raises it and keeps the end', () => {
  const n = new N({ promised: 5 });
  n.msg(gossip({ promised: 9, end: 12 }), 2, 10);
  n.msg(write(5, 0, 1, named(2)), 3, 100);
  assert.deepEqual(witnessOf(n, 2, 101), { generation: 0, disk: 0, promised: 9, end: 12 });
  const m = new N({ promised: 5 });
  m.msg(gossip({ promised: 3, end: 12 }), 2, 10);
  m.msg(write(5, 0, 1, named(2)), 3, 100);
  assert.deepEqual(witnessOf(m, 2, 101), { generation: 0, disk: 0, promised: 5, end: 12 });
});

test('a write naming a newer disk of a member replaces the witness of its old one; an older disk named is ignored', () => {
  const n = new N({ promised: 5 });
  n.msg(gossip({ generation: 1, disk: 1, promised: 9, end: 12 }), 2, 10);
  n.msg(write(5, 0, 1, [{ id: 2, generation: 0, disk: 0 }]), 3, 100);
  assert.deepEqual(witnessOf(n, 2, 101), { generation: 1, disk: 1, promised: 9, end: 12 });
  n.msg(write(5, 1, 1, [{ id: 2, generation: 2, disk: 4 }]), 3, 110);
  assert.deepEqual(witnessOf(n, 2, 111), { generation: 2, disk: 4, promised: 5, end: -1 });
});

test('a refused write witnesses nothing', () => {
  const n = new N({ promised: 5 });
  const out = n.msg(write(4, 0, 1, named(2)), 3, 100);
  assert.equal((out.reply as WriteReply).outcome, 'reject');
  assert.equal(witnessOf(n, 2, 101), undefined);
});

test('a witness from a write is written down with the table (it marks the table changed)', () => {
  const n = new N({ promised: 5 });
  n.msg(write(5, 0, 1, named(2)), 3, 100);
  assert.deepEqual(metadataOf(n.tick(5000)).at(-1)?.witnessed, { 2: { generation: 0, disk: 0, promised: 5, end: -1 } });
  n.msg(write(5, 1, 1, named(2)), 3, 5100);
  assert.deepEqual(metadataOf(n.tick(10_000)), [], 'the same witness again changes nothing');
});

test('learned values with no reply waiting may ride on a later sync (lazy); a step with a reply, or with no record, is not lazy', () => {
  const n = new N();
  const learned = n.msg({ type: 'learned', entries: [{ position: 0, action: app(0) }] }, 2, 10);
  assert.ok(learned.records.length > 0);
  assert.equal(learned.lazy, true);
  const nothing = n.msg({ type: 'learned', entries: [{ position: 0, action: app(0) }] }, 2, 20);
  assert.deepEqual(nothing.records, []);
  assert.equal(nothing.lazy, false);
  const p = n.msg({ type: 'promise', rid: 1, proposal: 3 }, 2, 30);
  assert.ok(p.records.length > 0 && p.reply !== undefined);
  assert.equal(p.lazy, false, 'the reply waits for the promise to be durable');
});

// ------------------------------------------------------------------ the recover reply, a removed member's rejoin

const c0 = config0([1, 2, 3]);
const cfg1 = { epoch: 1, voters: [1, 2, 3].map(member), learners: [], nextId: 4 };
/** Epoch 1 removes member 3. */
const c1Without3: PlacedConfiguration = { epoch: 1, voters: [1, 2].map(member), learners: [], nextId: 4, position: 0, floor: 1 };

test('a recover reply carries the learned prefix and the cluster id, and no links while the chain is the bootstrap one', () => {
  const n = new N({ configs: [c0], clusterId: 'cl-1' }, { bootstrap: c0 }, learnedRecords(3));
  const r = n.msg({ type: 'recover', rid: 5, member: 2 }, 2, 10).reply as RecoverReply;
  assert.equal(r.learnedThrough, 2);
  assert.equal(r.clusterId, 'cl-1');
  assert.equal('links' in r, false);
  assert.equal('removed' in r, false);
  const m = new N();
  const s = m.msg({ type: 'recover', rid: 5, member: 2 }, 2, 10).reply as RecoverReply;
  assert.equal('clusterId' in s, false);
  assert.equal('links' in s, false);
  assert.equal(s.learnedThrough, -1);
});

test('a recover reply gives the links above the asker\'s head, or the whole chain to an asker that stores none once past epoch 0', () => {
  const c1: PlacedConfiguration = { ...cfg1, position: 0, floor: 1 };
  const n = new N({ configs: [c0, c1] }, { bootstrap: c0 });
  const whole = n.msg({ type: 'recover', rid: 5, member: 2 }, 2, 10).reply as RecoverReply;
  assert.deepEqual(whole.links, [c0, c1]);
  const above0 = n.msg({ type: 'recover', rid: 6, member: 2, config: { epoch: 0, position: -1 } }, 2, 10).reply as RecoverReply;
  assert.deepEqual(above0.links, [c1]);
  const above1 = n.msg({ type: 'recover', rid: 7, member: 2, config: { epoch: 1, position: 0 } }, 2, 10).reply as RecoverReply;
  assert.equal('links' in above1, false);
});

test('R7: a recover reply to a member this replica\'s chain removed names the configuration that removed it; to others, or with removedStaysOut off, none', () => {
  const n = new N({ configs: [c0, c1Without3] }, { bootstrap: c0 });
  assert.deepEqual((n.msg({ type: 'recover', rid: 5, member: 3 }, 3, 10).reply as RecoverReply).removed, c1Without3);
  assert.equal('removed' in (n.msg({ type: 'recover', rid: 6, member: 2 }, 2, 10).reply as RecoverReply), false);
  assert.equal('removed' in (n.msg({ type: 'recover', rid: 7 }, 3, 10).reply as RecoverReply), false, 'an asker naming no member');
  const off = new N({ configs: [c0, c1Without3] }, { bootstrap: c0, rules: { ...ALL_RULES_ON, removedStaysOut: false } });
  assert.equal('removed' in (off.msg({ type: 'recover', rid: 5, member: 3 }, 3, 10).reply as RecoverReply), false);
});

test('R7: a removed member asking to record a new disk is answered IGNORED with the configuration that removed it and the disk recorded; nothing is recorded', () => {
  const n = new N({ configs: [c0, c1Without3], recorded: { 3: { generation: 1, disk: 2 } } }, { bootstrap: c0 });
  const out = n.msg({ type: 'rejoin', rid: 4, member: 3, generation: 5, disk: 9 }, 3, 10);
  assert.deepEqual(out.records, []);
  assert.deepEqual(out.reply, { type: 'rejoinReply', rid: 4, outcome: 'ignored', status: 'VOTING', begin: 0, end: -1, generation: 1, disk: 2, removed: c1Without3 });
  const none = new N({ configs: [c0, c1Without3] }, { bootstrap: c0 });
  assert.deepEqual((none.msg({ type: 'rejoin', rid: 4, member: 3, generation: 5, disk: 9 }, 3, 10).reply as RejoinReply).generation, 0, 'no disk recorded: the original one');
});

test('a rejoin is refused as a removed member\'s only when the member itself asks; a member still in the configuration is recorded', () => {
  const n = new N({ configs: [c0, c1Without3] }, { bootstrap: c0 });
  const other = n.msg({ type: 'rejoin', rid: 4, member: 3, generation: 5, disk: 9 }, 2, 10).reply as RejoinReply;
  assert.equal('removed' in other, false, 'asked by another replica: the acceptor\'s own answer');
  const ok = n.msg({ type: 'rejoin', rid: 5, member: 2, generation: 5, disk: 9 }, 2, 20);
  assert.equal((ok.reply as RejoinReply).outcome, 'accept');
  assert.deepEqual(n.store.metadata().recorded, { 2: { generation: 5, disk: 9 } });
});

// ------------------------------------------------------------------ the recovery: restart check, rejoin, status

/** Peers that answer every recover, rejoin and read request as VOTING replicas holding [0, end] learned. */
function answer(s: { to: ReplicaId; msg: Message }, end = 4, o: { readSlots?: (req: ReadRequest) => ReadReply['slots']; read?: Partial<ReadReply> } = {}): Message | undefined {
  const m = s.msg;
  if (m.type === 'recover') return recoverReply(m.rid, { end, learnedThrough: end, incarnation: `p${s.to}` });
  if (m.type === 'rejoin') return { type: 'rejoinReply', rid: m.rid, outcome: 'accept', status: 'VOTING', begin: 0, end, generation: m.generation, disk: m.disk };
  if (m.type === 'read') {
    const slots = o.readSlots?.(m) ?? [];
    return readReplyTo(m, { end, learnedThrough: end, slots, ...o.read });
  }
  return undefined;
}
const learnedSlots = (req: ReadRequest, end: number): ReadReply['slots'] =>
  Array.from({ length: Math.max(0, Math.min(req.to, end) - req.from + 1) }, (_, k) => ({ position: req.from + k, promised: 0, accepted: 1, learned: true, action: app(req.from + k) }));

/** Runs a tick and answers what is sent (and what that sends) until a read comes, if `stopAtRead`. */
function round(n: N, now: number, reply: (s: { to: ReplicaId; msg: Message }) => Message | undefined, stopAtRead = false): { outs: NodeOutput[]; read?: { to: ReplicaId; msg: ReadRequest } } {
  const outs = [n.tick(now)];
  const queue = [...outs[0]!.send];
  while (queue.length > 0) {
    const s = queue.shift()!;
    if (stopAtRead && s.msg.type === 'read') return { outs, read: s as { to: ReplicaId; msg: ReadRequest } };
    const a = reply(s);
    if (a === undefined) continue;
    const o = n.msg(a, s.to, now);
    outs.push(o);
    queue.push(...o.send);
  }
  return { outs };
}

test('an EMPTY replica joining a running cluster: RECOVERING with a new generation (durable, with the witnessed table), a catch-up of what the peers hold, then VOTING', () => {
  const n = new N({ status: 'EMPTY' }, { restartCheck: true });
  const { outs } = round(n, 0, (s) => answer(s, 4, { readSlots: (r) => learnedSlots(r, 4) }));
  const statuses = outs.flatMap((o) => (o.status === undefined ? [] : [o.status]));
  assert.deepEqual(statuses, ['RECOVERING', 'VOTING']);
  const rec = outs.find((o) => o.status === 'RECOVERING')!;
  const meta = metadataOf(rec).at(-1)!;
  assert.equal(meta.status, 'RECOVERING');
  assert.deepEqual(meta.witnessed, {});
  assert.equal(meta.generation, 1);
  assert.ok(rec.notes.includes('replica is now RECOVERING (generation 1)'));
  assert.equal(n.store.metadata().status, 'VOTING');
  assert.equal(n.store.learnedThrough(), 4, 'the catch-up copied [0, 4]');
  assert.equal(n.node.waiting, '');
  assert.equal(n.node.progress(), null);
  const p = n.msg({ type: 'promise', rid: 1, proposal: 3 }, 2, 100);
  assert.equal((p.reply as PromiseReply).outcome, 'accept', 'the recovery is over: it votes');
});

test('a rejoin\'s catch-up reports its progress (positions of the range, bytes), also in recover replies; a repair\'s does not', () => {
  const n = new N({ status: 'EMPTY' }, { restartCheck: true });
  const { read } = round(n, 0, (s) => answer(s, 4), true);
  assert.ok(read);
  assert.deepEqual(n.node.progress(), { done: 0, total: 5, bytes: 0 });
  const r = n.msg({ type: 'recover', rid: 9, member: 2 }, 2, 10).reply as RecoverReply;
  assert.deepEqual(r.progress, { done: 0, total: 5 });
  const voting = new N({}, {}, learnedRecords(2));
  voting.store.markLost(1);
  const rep = voting.tick(0);
  assert.equal(readsOf(rep).length, 1, 'a repair runs');
  assert.equal(voting.node.progress(), null);
  assert.equal('progress' in (voting.msg({ type: 'recover', rid: 9, member: 2 }, 2, 10).reply as RecoverReply), false);
});

test('recover and rejoin replies count only from a named peer (a hello named it)', () => {
  const n = new N({ status: 'EMPTY' }, { restartCheck: true });
  const first = n.tick(0);
  const rid = recoversOf(first)[0]!.msg.rid;
  for (const s of recoversOf(first)) {
    const o = n.msg(recoverReply(rid, { end: 4, learnedThrough: 4 }), undefined, 5);
    assert.deepEqual(o, { records: [], announce: [], send: [], lazy: false, notes: [] }, `an anonymous reply for r${s.to}`);
  }
  const o = n.msg(recoverReply(rid, { end: 4, learnedThrough: 4 }), 2, 6);
  assert.ok(o.notes.length + o.send.length > 0, 'a named reply moves the recovery');
});

test('the restart check passes once its peers answered: the replica votes, and its gossip says VOTING', () => {
  const n = new N({ promised: 2 }, { restartCheck: true }, learnedRecords(3, 2));
  const { outs } = round(n, 0, (s) => (s.msg.type === 'recover' ? recoverReply(s.msg.rid, { end: 2, learnedThrough: 2, witness: { generation: 0, disk: 0, promised: 2, end: 2 } }) : undefined));
  assert.equal(n.node.holdsVotes, false);
  assert.equal(n.node.waiting, '');
  assert.ok(outs.every((o) => o.status === undefined), 'the status stays VOTING: nothing to persist');
  assert.equal((n.msg({ type: 'promise', rid: 1, proposal: 3 }, 2, 10).reply as PromiseReply).outcome, 'accept');
  assert.equal((n.tick(1000).announce[0]!.msg as PeerStateMessage).status, 'VOTING');
});

test('a restart check that finds this disk behind what a peer saw of it makes it RECOVERING (persisted, reported) and it rejoins', () => {
  const n = new N({ promised: 2 }, { restartCheck: true }, learnedRecords(3, 2));
  const first = n.tick(0);
  const rid = recoversOf(first)[0]!.msg.rid;
  const o = n.msg(recoverReply(rid, { end: 9, witness: { generation: 0, disk: 0, promised: 2, end: 9 } }), 2, 10);
  assert.equal(o.status, 'RECOVERING');
  assert.equal(metadataOf(o).at(-1)!.status, 'RECOVERING');
  assert.equal(n.store.metadata().status, 'RECOVERING');
  assert.ok(o.send.length > 0, 'the recovery goes on at once (status fed back): its next round goes out');
  assert.equal(n.node.holdsVotes, false);
  assert.equal((n.msg({ type: 'promise', rid: 1, proposal: 3 }, 2, 20).reply as PromiseReply).outcome, 'ignored');
});

test('a replica whose stored chain says the cluster removed it (R7) waits as removed and never votes', () => {
  const n = new N({ configs: [c0, c1Without3] }, { id: 3, bootstrap: c0, restartCheck: true });
  assert.equal(n.node.removed, true);
  assert.match(n.node.waiting, /^removed from the cluster/);
});

// ------------------------------------------------------------------ the repair of lost records and holes

/** Answers every read the node sends (and the reads that sends) with `reply`, at `now`; returns the reads. */
function answerReads(n: N, out: NodeOutput, now: number, reply: (r: ReadRequest) => Partial<ReadReply> = () => ({})): ReadRequest[] {
  const asked: ReadRequest[] = [];
  const queue = readsOf(out);
  while (queue.length > 0) {
    const { to, msg } = queue.shift()!;
    asked.push(msg);
    const o = n.msg(readReplyTo(msg, reply(msg)), to, now);
    queue.push(...readsOf(o));
  }
  return asked;
}

test('a VOTING replica repairs the positions storage found corrupted: it copies the learned values of [first lost, last lost] from its peers', () => {
  const n = new N({}, {}, learnedRecords(5));
  n.store.markLost(1);
  n.store.markLost(3);
  const out = n.tick(0);
  assert.deepEqual(readsOf(out).map((r) => [r.msg.from, r.msg.to]), [[1, 3]]);
  assert.ok(out.notes.includes('repairing 2 corrupted position(s) in [1, 3] from the other replicas'));
  answerReads(n, out, 10, (r) => ({ slots: learnedSlots(r, 4) }));
  assert.deepEqual(n.store.lostPositions(), []);
});

test('a repair of corrupted records covers at most 4 × readSlotsMax positions from the first lost one', () => {
  const far = 4 * limits.readSlotsMax + 5;
  const n = new N({}, {}, [...learnedRecords(1), { type: 'accept', position: far, proposal: 1, action: app(far) }]);
  n.store.markLost(0);
  n.store.markLost(far);
  const reads = answerReads(n, n.tick(0), 10);
  assert.equal(reads[0]!.from, 0);
  assert.equal(Math.max(...reads.map((r) => r.to)), 4 * limits.readSlotsMax);
});

test('no repair while the restart check runs, or for a replica alone in its configuration; two members are enough', () => {
  const held = new N({}, { restartCheck: true }, learnedRecords(3));
  held.store.markLost(1);
  assert.deepEqual(readsOf(held.tick(0)), []);
  const alone = new N({}, { members: [1] }, learnedRecords(3));
  alone.store.markLost(1);
  assert.deepEqual(readsOf(alone.tick(0)), []);
  const two = new N({}, { members: [1, 2] }, learnedRecords(3));
  two.store.markLost(1);
  assert.deepEqual(readsOf(two.tick(0)).map((r) => r.to), [2]);
});

test('no repair while a catch-up runs, and at most one repair every repairEveryMs', () => {
  const n = new N({}, {}, learnedRecords(3));
  n.store.markLost(1);
  const first = n.tick(0);
  assert.equal(readsOf(first).length, 1);
  assert.deepEqual(readsOf(n.tick(100)).filter((r) => r.msg.rid !== readsOf(first)[0]!.msg.rid), [], 'the running catch-up is not replaced');
  answerReads(n, first, 200);
  assert.deepEqual(n.store.lostPositions(), [1], 'the peer held nothing to copy');
  assert.deepEqual(readsOf(n.tick(timing.repairEveryMs - 1)), []);
  assert.equal(readsOf(n.tick(timing.repairEveryMs)).length, 1);
});

test('a hole below what a VOTING peer learned is copied once the learned prefix has not moved for holeRepairAfterMs', () => {
  const n = new N({}, {}, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 9 }), 2, 10);
  n.msg(gossip({ status: 'RECOVERING', learnedThrough: 30 }), 3, 10);
  assert.deepEqual(readsOf(n.tick(timing.holeRepairAfterMs - 1)), []);
  const out = n.tick(timing.holeRepairAfterMs);
  assert.deepEqual(readsOf(out).map((r) => [r.msg.from, r.msg.to]), [[5, 9]], 'up to the VOTING peer\'s prefix, not the RECOVERING one\'s');
  assert.ok(out.notes.includes('copying learned positions [5, 9] from the other replicas (a peer learned them; this replica did not)'));
});

test('no hole repair when no VOTING peer learned more than this replica', () => {
  const n = new N({}, {}, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 4 }), 2, 10);
  assert.deepEqual(readsOf(n.tick(5000)), []);
});

test('the hole repair\'s clock restarts whenever the learned prefix moves', () => {
  const n = new N({}, {}, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 9 }), 2, 10);
  n.msg({ type: 'learned', entries: [{ position: 5, action: app(5) }] }, 2, 500);
  assert.deepEqual(readsOf(n.tick(timing.holeRepairAfterMs)), [], 'the prefix moved since the start: seen now');
  assert.deepEqual(readsOf(n.tick(2 * timing.holeRepairAfterMs - 1)), []);
  assert.deepEqual(readsOf(n.tick(2 * timing.holeRepairAfterMs)).map((r) => r.msg.from), [6]);
});

test('a hole repair copies at most 64 × readSlotsMax positions at a time', () => {
  const n = new N({}, {}, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 10_000_000 }), 2, 10);
  const out = n.tick(timing.holeRepairAfterMs);
  const to = 5 + 64 * limits.readSlotsMax - 1;
  assert.ok(out.notes.includes(`copying learned positions [5, ${to}] from the other replicas (a peer learned them; this replica did not)`), out.notes.join('\n'));
});

test('a hole repair starts at the beginning when everything below it was truncated', () => {
  const n = new N({}, {}, [{ type: 'metadata', metadata: { status: 'VOTING', promised: 0, incarnation: 'i1', begin: 10 } }]);
  n.msg(gossip({ learnedThrough: 12 }), 2, 10);
  assert.deepEqual(readsOf(n.tick(timing.holeRepairAfterMs)).map((r) => [r.msg.from, r.msg.to]), [[10, 12]]);
});

test('the values a repair copies are stored as learned, lazily, and the catch-up ends', () => {
  const n = new N({}, {}, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 7 }), 2, 10);
  const out = n.tick(timing.holeRepairAfterMs);
  const r = readsOf(out)[0]!;
  const got = n.msg(readReplyTo(r.msg, { slots: learnedSlots(r.msg, 7) }), r.to, 1100);
  assert.deepEqual(got.records.map((x) => x.type), ['learn', 'learn', 'learn']);
  assert.equal(got.lazy, true);
  assert.ok(got.notes.includes('catch-up finished: 3 positions, 3 bytes'), got.notes.join('\n'));
  assert.equal(n.store.learnedThrough(), 7);
});

test('read replies from an unnamed sender, or with no catch-up running, are dropped', () => {
  const n = new N({}, {}, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 7 }), 2, 10);
  const r = readsOf(n.tick(timing.holeRepairAfterMs))[0]!;
  const anon = n.msg(readReplyTo(r.msg, { slots: learnedSlots(r.msg, 7) }), undefined, 1100);
  assert.deepEqual(anon.records, []);
  const idle = new N({}, {}, learnedRecords(5));
  assert.deepEqual(idle.msg(readReplyTo(r.msg, { slots: learnedSlots(r.msg, 7) }), 2, 10).records, []);
});

// ------------------------------------------------------------------ strangers (R13)

const newer = (o: Partial<PeerStateMessage> = {}): PeerStateMessage => gossip({ config: { epoch: 1, position: 3 }, learnedThrough: 9, ...o });

test('R13: a non-member gossiping a newer head is a stranger a lone replica copies learned values from', () => {
  const n = new N({}, { members: [1] }, learnedRecords(5));
  n.msg(newer(), 9, 0);
  const out = n.tick(timing.holeRepairAfterMs);
  assert.deepEqual(readsOf(out).map((r) => [r.to, r.msg.from, r.msg.to]), [[9, 5, 9]]);
});

test('R13: a stranger is asked besides the members by a repair', () => {
  const n = new N({}, { members: [1, 2] }, learnedRecords(5));
  n.msg(newer(), 9, 0);
  n.msg(gossip({ learnedThrough: 9 }), 2, 0);
  const out = n.tick(timing.holeRepairAfterMs);
  const r = readsOf(out)[0]!;
  assert.equal(r.to, 2);
  // r2 answers that it is not VOTING: the read goes to the stranger.
  const o = n.msg(readReplyTo(r.msg, { status: 'RECOVERING' }), 2, timing.holeRepairAfterMs + 1);
  assert.deepEqual(readsOf(o).map((x) => x.to), [9]);
});

test('R13: no stranger with gossipSeeds off, nor one whose head is not newer, nor one not VOTING', () => {
  const off = new N({}, { members: [1], rules: { ...ALL_RULES_ON, gossipSeeds: false } }, learnedRecords(5));
  off.msg(newer(), 9, 0);
  assert.deepEqual(readsOf(off.tick(timing.holeRepairAfterMs)), []);
  const same = new N({}, { members: [1] }, learnedRecords(5));
  same.msg(newer({ config: { epoch: 0, position: -1 } }), 9, 0);
  assert.deepEqual(readsOf(same.tick(timing.holeRepairAfterMs)), []);
  const noHead = new N({}, { members: [1] }, learnedRecords(5));
  noHead.msg(gossip({ learnedThrough: 9 }), 9, 0);
  assert.deepEqual(readsOf(noHead.tick(timing.holeRepairAfterMs)), []);
  const recovering = new N({}, { members: [1] }, learnedRecords(5));
  recovering.msg(newer({ status: 'RECOVERING' }), 9, 0);
  assert.deepEqual(readsOf(recovering.tick(timing.holeRepairAfterMs)), []);
});

test('R13: a stranger not heard from for 10 gossip periods is forgotten', () => {
  const heard = 10 * timing.peerStateMs;
  const kept = new N({}, { members: [1] }, learnedRecords(5));
  kept.msg(newer(), 9, 0);
  assert.equal(readsOf(kept.tick(heard)).length, 1);
  const gone = new N({}, { members: [1] }, learnedRecords(5));
  gone.msg(newer(), 9, 0);
  assert.deepEqual(readsOf(gone.tick(heard + 1)), []);
});

test('R13: a stranger is no longer one once this replica learned a configuration as new as its head', () => {
  const c1: PlacedConfiguration = { ...cfg1, position: 3, floor: 1 };
  const n = new N({ configs: [c0] }, { members: [1], bootstrap: c0 }, learnedRecords(5));
  n.msg(newer(), 9, 0);
  n.store.append([{ type: 'metadata', metadata: { ...n.store.metadata(), configs: [c0, c1] } }]);
  assert.deepEqual(readsOf(n.tick(timing.holeRepairAfterMs)).map((r) => r.to), [2, 3].slice(0, 0), 'c1 has members 2 and 3 but they reported nothing, and the stranger is gone');
});

test('R13: a stranger\'s newer head is told to the recovery, which asks it too', () => {
  const n = new N({ status: 'EMPTY' }, { restartCheck: true });
  n.tick(0);
  const out = n.msg(newer(), 9, 10);
  const later = [...recoversOf(out), ...recoversOf(n.tick(5000))];
  assert.ok(later.some((s) => s.to === 9), JSON.stringify(later));
});

// ------------------------------------------------------------------ the catch-up's results

test('a peer\'s beginning above the catch-up\'s cursor is adopted with the chain up to config(begin) (R14), in one metadata record', () => {
  const n = new N({ configs: [c0] }, { bootstrap: c0 }, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 20 }), 2, 10);
  const r = readsOf(n.tick(timing.holeRepairAfterMs))[0]!;
  const out = n.msg(readReplyTo(r.msg, { begin: 10, config: { epoch: 0, position: -1 }, chain: [c0], slots: learnedSlots({ ...r.msg, from: 10 }, 20) }), r.to, 1100);
  const metas = metadataOf(out);
  assert.equal(metas.length, 1);
  assert.equal(metas[0]!.begin, 10);
  assert.deepEqual(metas[0]!.configs, [c0]);
  assert.ok(out.notes.includes('positions below 10 were truncated (a peer\'s beginning): dropped here too'));
  assert.equal(out.lazy, true);
  assert.equal(n.store.begin(), 10);
  assert.equal(n.store.learnedThrough(), 20);
});

test('a peer\'s beginning past a configuration this replica does not hold is not adopted (R14); with chainBeforeTruncate off it is', () => {
  const reply = (n: N): NodeOutput => {
    n.msg(gossip({ learnedThrough: 20 }), 2, 10);
    const r = readsOf(n.tick(timing.holeRepairAfterMs))[0]!;
    return n.msg(readReplyTo(r.msg, { begin: 10, config: { epoch: 1, position: 7 }, slots: learnedSlots({ ...r.msg, from: 10 }, 20) }), r.to, 1100);
  };
  const on = new N({ configs: [c0] }, { bootstrap: c0 }, learnedRecords(5));
  const out = reply(on);
  assert.ok(out.notes.includes('positions below 10 were truncated by a peer, but this replica does not hold config(10): not adopted yet (R14)'), out.notes.join('\n'));
  assert.equal(on.store.begin(), 0);
  const off = new N({ configs: [c0] }, { bootstrap: c0, rules: { ...ALL_RULES_ON, chainBeforeTruncate: false } }, learnedRecords(5));
  reply(off);
  assert.equal(off.store.begin(), 10);
  assert.deepEqual(off.store.metadata().configs, [c0], 'the chain it has is kept');
});

test('a copied config entry names the floor of the peers\' chain (R6), so it is chained; without it the entry would be held back', () => {
  const c1: PlacedConfiguration = { ...cfg1, position: 6, floor: 7 };
  const n = new N({ configs: [c0] }, { bootstrap: c0 }, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 7 }), 2, 10);
  const r = readsOf(n.tick(timing.holeRepairAfterMs))[0]!;
  const slots = learnedSlots(r.msg, 7).map((s) => (s.position === 6 ? { ...s, action: { kind: 'config', config: cfg1 } as Action } : s));
  n.msg(readReplyTo(r.msg, { slots, chain: [c0, c1] }), r.to, 1100);
  assert.deepEqual(n.store.metadata().configs, [c0, c1]);
  assert.equal(n.store.learnedThrough(), 7);
});

/**
 * A rejoin whose catch-up copies config entries (`entries`: position -> configuration) from peers whose chain is
 * `chain`: the catch-up's step moves the chain. Returns the node after the first round (up to the catch-up's end).
 */
function rejoinMovingChain(meta: Partial<Metadata>, cfg: Partial<ReplicaNodeConfig>, entries: Map<number, typeof cfg1>, chain: PlacedConfiguration[]) {
  const n = new N({ status: 'EMPTY', ...meta }, { restartCheck: true, ...cfg });
  const slots = (r: ReadRequest) => learnedSlots(r, 4).map((s) => (entries.has(s.position) ? { ...s, action: { kind: 'config', config: entries.get(s.position)! } as Action } : s));
  const reply = (s: { to: ReplicaId; msg: Message }) => answer(s, 4, { readSlots: slots, read: { chain } });
  const { outs } = round(n, 0, reply);
  return { n, outs, reply };
}

function checkMovedChain(r: ReturnType<typeof rejoinMovingChain>, chain: PlacedConfiguration[]): void {
  const { n, outs, reply } = r;
  assert.deepEqual(n.store.metadata().configs, chain);
  assert.equal(n.store.metadata().status, 'RECOVERING', 'not VOTING in the step that moved the chain');
  assert.ok(outs.every((o) => o.status !== 'VOTING'));
  // The next tick: the recovery hears of the catch-up, records the disk in the new configuration (R9c) and
  // catches up again; while that catch-up runs, ticks do not tell it again that it caught up.
  const next = round(n, 100, reply, true);
  assert.ok(next.read, 'a second catch-up');
  assert.ok([...next.outs, n.tick(200), n.tick(300)].every((o) => o.status !== 'VOTING'), 'not VOTING before the second catch-up ended');
  const done = n.msg(reply(next.read)!, next.read.to, 400);
  assert.equal(done.status, 'VOTING');
  assert.equal(n.store.metadata().status, 'VOTING');
}

test('a rejoin whose catch-up moved the chain tells the recovery at the next tick (it reads the chain from the store), once; then it votes', () => {
  const c1: PlacedConfiguration = { ...cfg1, position: 2, floor: 1 };
  checkMovedChain(rejoinMovingChain({ configs: [c0] }, { bootstrap: c0 }, new Map([[2, cfg1]]), [c0, c1]), [c0, c1]);
});

test('the chain moved when its head moved, also from a chain of two links (a third learned)', () => {
  const cfg2 = { ...cfg1, epoch: 2 };
  const c1: PlacedConfiguration = { ...cfg1, position: 0, floor: 1 };
  const c2: PlacedConfiguration = { ...cfg2, position: 2, floor: 2 };
  checkMovedChain(rejoinMovingChain({ configs: [c0, c1] }, { bootstrap: c0 }, new Map([[0, cfg1], [2, cfg2]]), [c0, c1, c2]), [c0, c1, c2]);
});

test('the chain moved when a replica that stored none learned its first link', () => {
  const c1: PlacedConfiguration = { ...cfg1, position: 2, floor: 1 };
  checkMovedChain(rejoinMovingChain({}, {}, new Map([[2, cfg1]]), [c0, c1]), [c1]);
});

test('a rejoin whose catch-up adopted a beginning without moving the chain votes in that same step', () => {
  const n = new N({ status: 'EMPTY', configs: [c0] }, { restartCheck: true, bootstrap: c0 });
  const { outs } = round(n, 0, (s) => answer(s, 4, { readSlots: (r) => learnedSlots({ ...r, from: 3 }, 4), read: { begin: 3, config: { epoch: 0, position: -1 } } }));
  assert.equal(n.store.begin(), 3);
  assert.deepEqual(outs.flatMap((o) => (o.status === undefined ? [] : [o.status])), ['RECOVERING', 'VOTING']);
});

test('a peer\'s gossip in the step that stopped this replica\'s vote is recorded on top of the RECOVERING status, not over it', () => {
  const n = new N({ generation: 1, disk: 4 });
  const out = n.msg(gossip({ generation: 3, disk: 8, yours: { generation: 2, disk: 9 } }), 2, 10);
  assert.deepEqual(metadataOf(out).map((m) => m.status), ['RECOVERING', 'RECOVERING'].slice(0, metadataOf(out).length));
  assert.equal(n.store.metadata().status, 'RECOVERING');
  assert.deepEqual(n.store.metadata().recorded?.[2], { generation: 3, disk: 8 });
});

// ------------------------------------------------------------------ odds and ends of the entry point

test('the node\'s clock never goes back: a message stamped earlier than a tick already seen counts at the later time', () => {
  const n = new N({ promised: 5 }, {}, learnedRecords(1, 5));
  n.tick(10_000);
  n.msg({ type: 'commit', proposal: 5, from: 0, to: 0 }, 2, 0);
  assert.equal(writerActive(n, 10_000 + timing.writerActiveMs - 1), true);
});

test('configuration questions are the shell\'s: the node answers nothing and takes them for no gossip', () => {
  const n = new N();
  const out = n.msg({ type: 'config', rid: 1 }, 2, 10);
  assert.deepEqual(out, { records: [], announce: [], send: [], lazy: false, notes: [] });
  const reply = n.msg({ type: 'configReply', rid: 1, epoch: 0, members: [] }, 2, 20);
  assert.deepEqual(reply, { records: [], announce: [], send: [], lazy: false, notes: [] });
  assert.equal(n.node.peerStates().size, 0);
});

test('a read during the restart check is answered from the same store as after it (the held store hides only the status)', () => {
  const recs: PersistRecord[] = [
    ...learnedRecords(4, 2),
    { type: 'accept', position: 4, proposal: 3, action: { kind: 'truncate', to: 2 } },
    { type: 'accept', position: 5, proposal: 3, action: { kind: 'config', config: cfg1 } },
  ];
  const held = new N({ promised: 3, configs: [c0] }, { restartCheck: true, bootstrap: c0 }, recs);
  const free = new N({ promised: 3, configs: [c0] }, { bootstrap: c0 }, recs);
  held.store.markLost(1);
  free.store.markLost(1);
  const req: ReadRequest = { type: 'read', rid: 3, from: 0, to: 5, limit: 10 };
  const a = held.msg(req, 2, 10).reply as ReadReply;
  const b = free.msg(req, 2, 10).reply as ReadReply;
  assert.equal(a.status, 'RECOVERING');
  assert.deepEqual({ ...a, status: 'VOTING' }, b);
  assert.deepEqual(b.lost, [1]);
  assert.deepEqual(b.pendingTruncate, { position: 4, to: 2 });
  assert.equal(b.slots.length, 5);
  assert.equal(b.pending?.config.epoch, 1, 'the pending config entry is named');
});

test('a repair copies learned values only: a position no peer learned is left to a writer or reader (no fill)', () => {
  const n = new N({}, {}, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 7 }), 2, 10);
  const out = n.tick(timing.holeRepairAfterMs);
  const sent: Message[] = [];
  const queue = [...out.send];
  while (queue.length > 0) {
    const s = queue.shift()!;
    sent.push(s.msg);
    if (s.msg.type !== 'read') continue;
    const o = n.msg(readReplyTo(s.msg, { slots: learnedSlots(s.msg, 7).filter((x) => x.position !== 6) }), s.to, 1100);
    queue.push(...o.send);
  }
  assert.deepEqual(sent.filter((m) => m.type !== 'read'), []);
  assert.equal(n.store.slot(7)?.learned, true);
  assert.equal(n.store.slot(6), undefined);
});

test('a rejoin\'s catch-up fills a position no peer learned (the configuration settles it for the new disk)', () => {
  const n = new N({ status: 'EMPTY' }, { restartCheck: true });
  const sent: Message[] = [];
  round(n, 0, (s) => {
    sent.push(s.msg);
    return answer(s, 4, { readSlots: (r) => learnedSlots(r, 4).filter((x) => x.position !== 2) });
  });
  assert.ok(sent.some((m) => m.type === 'promise' && m.from === 2), JSON.stringify(sent.map((m) => m.type)));
});

test('a catch-up whose peers fall silent gives up only once a newer configuration is known (a stranger heard lately): then it fails, and a later repair starts again', () => {
  const run = (stranger: boolean): string[] => {
    const n = new N({}, { members: [1, 2] }, learnedRecords(5));
    n.msg(gossip({ learnedThrough: 9 }), 2, 0);
    if (stranger) n.msg(newer(), 9, 0);
    const notes: string[] = [];
    for (let t = timing.holeRepairAfterMs; t <= timing.holeRepairAfterMs + 2 * timing.operationTimeoutMs; t += 250) {
      if (stranger && t % 2000 === 0) n.msg(newer(), 9, t);
      notes.push(...n.tick(t).notes);
    }
    return notes;
  };
  assert.ok(run(true).some((x) => x.startsWith('catch-up failed (no quorum)')), run(true).join('\n'));
  assert.ok(!run(false).some((x) => x.startsWith('catch-up failed')));
});

test('the recovery\'s waiting text is noted when it changes, not at every tick', () => {
  const n = new N({ status: 'EMPTY' }, { restartCheck: true });
  assert.ok(n.tick(0).notes.length > 0);
  assert.deepEqual(n.tick(100).notes, []);
  assert.match(n.node.waiting, /^waiting for the other replicas/);
});

test('R7: a replica told during its restart check that the cluster removed it notes so, and is removed', () => {
  const n = new N({ configs: [c0] }, { id: 3, bootstrap: c0, restartCheck: true });
  const first = n.tick(0);
  const outs = recoversOf(first).map((s) => n.msg(recoverReply(s.msg.rid, { links: [c0, c1Without3], removed: c1Without3, learnedThrough: 0 }), s.to, 10));
  const notes = outs.flatMap((o) => o.notes);
  assert.ok(notes.some((x) => x.startsWith('removed from the cluster at epoch 1 (position 0)')), notes.join('\n'));
  assert.equal(n.node.removed, true);
});

test('a stranger that became a member of this replica\'s configuration is no stranger: its old report is not taken for a member\'s', () => {
  const c0a = config0([1]);
  const c1a: PlacedConfiguration = { epoch: 1, voters: [member(1), member(4)], learners: [], nextId: 5, position: 0, floor: 1 };
  const n = new N({ configs: [c0a] }, { members: [1], bootstrap: c0a }, learnedRecords(5));
  n.msg(newer({ config: { epoch: 2, position: 9 } }), 4, 0);
  n.store.append([{ type: 'metadata', metadata: { ...n.store.metadata(), configs: [c0a, c1a] } }]);
  assert.deepEqual(readsOf(n.tick(timing.holeRepairAfterMs)), []);
});

test('a beginning adopted with no new link writes no chain (a replica that stores none keeps storing none)', () => {
  const n = new N({}, { bootstrap: c0 }, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 20 }), 2, 10);
  const r = readsOf(n.tick(timing.holeRepairAfterMs))[0]!;
  const out = n.msg(readReplyTo(r.msg, { begin: 10, config: { epoch: 0, position: -1 }, slots: learnedSlots({ ...r.msg, from: 10 }, 20) }), r.to, 1100);
  const metas = metadataOf(out);
  assert.equal(metas.length, 1);
  assert.equal(metas[0]!.begin, 10);
  assert.equal('configs' in metas[0]!, false);
});

test('values learned with an adopted beginning are learned against the adopted chain (a config entry above it is chained)', () => {
  const c1: PlacedConfiguration = { ...cfg1, position: 7, floor: 2 };
  const cfg2 = { epoch: 2, voters: [1, 2, 3].map(member), learners: [], nextId: 4 };
  const c2: PlacedConfiguration = { ...cfg2, position: 15, floor: 3 };
  const n = new N({ configs: [c0] }, { bootstrap: c0 }, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 20 }), 2, 10);
  const r = readsOf(n.tick(timing.holeRepairAfterMs))[0]!;
  const slots = learnedSlots({ ...r.msg, from: 10 }, 20).map((s) => (s.position === 15 ? { ...s, action: { kind: 'config', config: cfg2 } as Action } : s));
  n.msg(readReplyTo(r.msg, { begin: 10, config: { epoch: 1, position: 7 }, chain: [c0, c1, c2], slots }), r.to, 1100);
  assert.equal(n.store.begin(), 10);
  assert.deepEqual(n.store.metadata().configs, [c0, c1, c2]);
  assert.equal(n.store.learnedThrough(), 20, 'the entry at 15 is learned too: the acceptor saw the adopted chain');
});

// ------------------------------------------------------------------ from the survivors of the first planting

test('a fresh replica that heard nothing writes no witnessed table', () => {
  const n = new N();
  assert.deepEqual(metadataOf(n.tick(5000)), []);
  assert.deepEqual(metadataOf(n.tick(20_000)), []);
});

test('R11: a replica started with mayStart false never starts a new cluster, though every member answers EMPTY', () => {
  const run = (mayStart: boolean | undefined): (string | undefined)[] => {
    const n = new N({ status: 'EMPTY' }, { restartCheck: true, ...(mayStart === undefined ? {} : { mayStart }) });
    const statuses: (string | undefined)[] = [];
    for (let t = 0; t <= 20_000; t += 500) {
      const out = n.tick(t);
      statuses.push(out.status);
      for (const s of recoversOf(out)) statuses.push(n.msg(recoverReply(s.msg.rid, { status: 'EMPTY', incarnation: `p${s.to}` }), s.to, t).status);
    }
    return statuses.filter((s) => s !== undefined);
  };
  assert.deepEqual(run(false), []);
  assert.ok(run(undefined).length > 0, 'by default a replica whose members are all EMPTY starts the cluster');
});

test('writerView: the writer is active for writerActiveMs after its last write, whatever the clock reads', () => {
  const n = new N({ promised: 5 });
  n.msg(write(5, 0, 1, named(1, 2)), 2, 2000);
  assert.equal(n.node.writerView()!.active, true);
  n.tick(2000 + timing.writerActiveMs - 1);
  assert.equal(n.node.writerView()!.active, true);
});

test('only a newer head makes a non-member a stranger: sixteen gossiping at this replica\'s own epoch do not push out one that is ahead', () => {
  const n = new N({}, { members: [1] }, learnedRecords(5));
  n.msg(newer(), 9, 0);
  for (let id = 20; id < 36; id++) n.msg(gossip({ config: { epoch: 0, position: -1 }, learnedThrough: 9 }), id, 10);
  assert.deepEqual(readsOf(n.tick(timing.holeRepairAfterMs)).map((r) => r.to), [9]);
});

test('the acceptor builds its chain on the bootstrap configuration when the store holds none (R14)', () => {
  const n = new N({}, { bootstrap: c0 });
  n.msg({ type: 'learned', entries: [{ position: 0, action: { kind: 'config', config: cfg1 } }], floors: [{ position: 0, floor: 3 }] }, 2, 10);
  assert.deepEqual(n.store.metadata().configs, [c0, { ...cfg1, position: 0, floor: 3 }]);
});

test('the writer view counts members only from a write accepted under the promise in force then (strictPromise off, which grants the equal promise after)', () => {
  const n = new N({ promised: 5 }, { rules: { ...ALL_RULES_ON, strictPromise: false } });
  n.msg(write(6, 0, 1, named(1, 2)), 2, 100);
  n.msg({ type: 'promise', rid: 1, proposal: 6 }, 2, 110);
  assert.equal(n.store.metadata().promised, 6);
  assert.equal(n.node.writerView(), null, 'no write accepted under promise 6 yet');
});

test('witnessed progress: a member gossiping another disk of the same generation replaces the witness (the disk heard last is its current one)', () => {
  const n = new N();
  n.msg(gossip({ generation: 1, disk: 1, promised: 9, end: 12 }), 2, 10);
  n.msg(gossip({ generation: 1, disk: 2, promised: 3, end: 4 }), 2, 20);
  assert.deepEqual(witnessOf(n, 2, 21), { generation: 1, disk: 2, promised: 3, end: 4 });
});

test('a write naming an older disk, or another disk of the same generation, than the one witnessed leaves the witness', () => {
  const w = { 2: { generation: 1, disk: 1, promised: 9, end: 12 } };
  const older = new N({ promised: 5, witnessed: w });
  assert.equal((older.msg(write(5, 0, 1, [{ id: 2, generation: 0, disk: 0 }]), 3, 100).reply as WriteReply).outcome, 'accept');
  assert.deepEqual(witnessOf(older, 2, 101), w[2]);
  const tie = new N({ promised: 5, witnessed: w });
  assert.equal((tie.msg(write(5, 0, 1, [{ id: 2, generation: 1, disk: 7 }]), 3, 100).reply as WriteReply).outcome, 'accept');
  assert.deepEqual(witnessOf(tie, 2, 101), w[2]);
});

test('the status record of a restart check that found this disk behind carries the witnessed table', () => {
  const n = new N({ promised: 2 }, { restartCheck: true }, learnedRecords(3, 2));
  const first = n.tick(0);
  n.msg(gossip({ promised: 4, end: 6 }), 3, 5);
  const rid = recoversOf(first)[0]!.msg.rid;
  const o = n.msg(recoverReply(rid, { end: 9, witness: { generation: 0, disk: 0, promised: 2, end: 9 } }), 2, 10);
  assert.deepEqual(metadataOf(o).at(-1)!.witnessed, { 3: { generation: 0, disk: 0, promised: 4, end: 6 } });
});

test('with an empty store and no peer report there is nothing to copy: no hole repair', () => {
  const n = new N();
  const out = n.tick(timing.holeRepairAfterMs);
  assert.deepEqual(readsOf(out), []);
  assert.deepEqual(out.notes, []);
  const m = new N();
  m.msg(gossip({ learnedThrough: 0 }), 2, 0);
  assert.deepEqual(readsOf(m.tick(timing.holeRepairAfterMs)).map((r) => [r.msg.from, r.msg.to]), [[0, 0]]);
});

test('a peer that learned exactly as much as this replica starts no catch-up at all', () => {
  const n = new N({}, {}, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 4 }), 2, 10);
  const out = n.tick(timing.holeRepairAfterMs);
  assert.deepEqual(out.notes, []);
  assert.deepEqual(out.send, []);
});

test('R13: a stranger is kept 10 gossip periods from when it was last heard, not from the start', () => {
  const heard = 10 * timing.peerStateMs;
  const kept = new N({}, { members: [1] }, learnedRecords(5));
  kept.msg(newer(), 9, 1000);
  assert.equal(readsOf(kept.tick(1000 + heard)).length, 1);
  const gone = new N({}, { members: [1] }, learnedRecords(5));
  gone.msg(newer(), 9, 1000);
  assert.deepEqual(readsOf(gone.tick(1001 + heard)), []);
});

test('a rejoin asks its configuration\'s members only, never a stranger (a repair may)', () => {
  const n = new N({ status: 'EMPTY' }, { restartCheck: true });
  n.msg(newer(), 9, 0);
  const { read } = round(n, 0, (s) => (s.to === 9 ? undefined : answer(s, 4)), true);
  assert.ok(read);
  const asked = new Set<number>([read.to]);
  let o = n.msg(readReplyTo(read.msg, { status: 'RECOVERING' }), read.to, 10);
  for (let t = 20; t < 3000; t += 100) {
    for (const r of readsOf(o)) {
      asked.add(r.to);
      o = n.msg(readReplyTo(r.msg, { status: 'RECOVERING' }), r.to, t);
    }
    for (const r of readsOf(o)) asked.add(r.to);
    o = n.tick(t);
    if (t % 1000 === 20) n.msg(newer(), 9, t);
  }
  assert.equal(asked.has(9), false, [...asked].join(','));
});

test('a catch-up reply that teaches nothing writes nothing and is not lazy', () => {
  const n = new N({}, {}, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 7 }), 2, 10);
  const r = readsOf(n.tick(timing.holeRepairAfterMs))[0]!;
  const o = n.msg(readReplyTo(r.msg, { status: 'RECOVERING' }), r.to, 1100);
  assert.deepEqual(o.records, []);
  assert.equal(o.lazy, false);
});

test('a beginning adopted alone (a peer truncated everything asked for) is recorded lazily', () => {
  const n = new N({ configs: [c0] }, { bootstrap: c0 }, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 20 }), 2, 10);
  const r = readsOf(n.tick(timing.holeRepairAfterMs))[0]!;
  const out = n.msg(readReplyTo(r.msg, { begin: 21, end: 20, learnedThrough: 20, config: { epoch: 0, position: -1 }, slots: [] }), r.to, 1100);
  assert.deepEqual(metadataOf(out).map((m) => m.begin), [21]);
  assert.deepEqual(out.records.filter((x) => x.type !== 'metadata'), []);
  assert.equal(out.lazy, true);
});

test('copies of config entries learned by a replica with no stored chain are chained on its bootstrap configuration', () => {
  const c1: PlacedConfiguration = { ...cfg1, position: 6, floor: 7 };
  const n = new N({}, { bootstrap: c0 }, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 7 }), 2, 10);
  const r = readsOf(n.tick(timing.holeRepairAfterMs))[0]!;
  const slots = learnedSlots(r.msg, 7).map((s) => (s.position === 6 ? { ...s, action: { kind: 'config', config: cfg1 } as Action } : s));
  n.msg(readReplyTo(r.msg, { slots, chain: [c0, c1] }), r.to, 1100);
  assert.deepEqual(n.store.metadata().configs, [c0, c1]);
});

test('a rejoin whose catch-up failed (no quorum) is not caught up: the recovery goes on without voting', () => {
  const n = new N({ status: 'EMPTY' }, { restartCheck: true });
  const notes: string[] = [];
  const statuses: string[] = [];
  const take = (o: NodeOutput): NodeOutput => {
    notes.push(...o.notes);
    if (o.status !== undefined) statuses.push(o.status);
    return o;
  };
  for (let t = 0; t <= 2 * timing.operationTimeoutMs; t += 250) {
    if (t % 2000 === 0) take(n.msg(newer(), 9, t));
    const queue = [...take(n.tick(t)).send];
    while (queue.length > 0) {
      const s = queue.shift()!;
      if (s.to === 9 || s.msg.type === 'read') continue;
      const a = answer(s, 4);
      if (a !== undefined) queue.push(...take(n.msg(a, s.to, t)).send);
    }
  }
  assert.ok(notes.some((x) => x.startsWith('catch-up failed (no quorum)')), notes.join('\n'));
  assert.equal(statuses.includes('VOTING'), false);
  assert.notEqual(n.store.metadata().status, 'VOTING');
});

test('R9f: a config entry a rejoin\'s own fill chose, which no peer\'s chain holds yet, is learned with the fill\'s ballot as its floor', () => {
  const n = new N({ status: 'EMPTY', configs: [c0] }, { restartCheck: true, bootstrap: c0 });
  const entry: Action = { kind: 'config', config: cfg1 };
  const sent: Message[] = [];
  const reply = (s: { to: ReplicaId; msg: Message }): Message | undefined => {
    const m = s.msg;
    sent.push(m);
    if (m.type === 'read') return readReplyTo(m, { learnedThrough: 1, end: 4, slots: learnedSlots(m, 4).filter((x) => x.position !== 2) });
    if (m.type === 'promise') {
      return {
        type: 'promiseReply', rid: m.rid, outcome: 'accept', proposal: m.proposal, status: 'VOTING', begin: 0, end: 4, learnedThrough: 1,
        slots: [{ position: 2, promised: m.proposal, accepted: 1, learned: false, action: entry }], coveredThrough: m.to!, generation: 0, disk: 0,
      } satisfies PromiseReply;
    }
    if (m.type === 'write' && s.to !== 1) {
      // Caught up below the entry: they count for its next configuration too (R3).
      const caughtUp = { learnedThrough: m.from - 1, lostBelow: false };
      return { type: 'writeReply', rid: m.rid, outcome: 'accept', proposal: m.proposal, from: m.from, count: m.actions.length, generation: 0, disk: 0, retired: [], ...caughtUp } satisfies WriteReply;
    }
    return answer(s, 4);
  };
  round(n, 0, reply);
  const fillWrite = sent.find((m): m is WriteRequest => m.type === 'write');
  assert.ok(fillWrite, `a fill: ${sent.map((m) => m.type).join(',')}`);
  assert.deepEqual(fillWrite.actions, [entry]);
  const link = n.store.metadata().configs?.find((c) => c.epoch === 1);
  assert.ok(link, `the entry is chained: ${JSON.stringify(n.store.metadata().configs?.map((c) => c.epoch))}`);
  assert.equal(link.position, 2);
  assert.equal(link.floor, fillWrite.proposal);
});

test('request ids are positive and rise, across the recovery and the catch-up (they travel as unsigned numbers)', () => {
  const rids = (msgs: Message[]): number[] => msgs.flatMap((m) => ('rid' in m && m.type !== 'readReply' ? [m.rid] : []));
  /** A round sends one request (one rid) to several peers: the ids, in order of first use, rise from 1. */
  const check = (all: number[], what: string): void => {
    const ids = [...new Set(all)];
    assert.ok(ids.length >= 2, `${what}: ${all.join(',')}`);
    assert.ok(ids.every((id, i) => Number.isSafeInteger(id) && id >= 1 && (i === 0 || id > ids[i - 1]!)), `${what}: ${all.join(',')}`);
  };
  // A join: recover rounds, the rejoin, the catch-up's reads (one peer not VOTING: the read goes again).
  const n = new N({ status: 'EMPTY' }, { restartCheck: true });
  const sent: Message[] = [];
  let first = true;
  round(n, 0, (s) => {
    sent.push(s.msg);
    if (s.msg.type === 'read' && first) {
      first = false;
      return readReplyTo(s.msg, { status: 'RECOVERING' });
    }
    return answer(s, 4, { readSlots: (r) => learnedSlots(r, 4) });
  });
  check(rids(sent.filter((m) => m.type === 'recover' || m.type === 'rejoin')), 'the recovery\'s requests');
  check(rids(sent), 'all requests');
  // A rejoin started because a peer recorded another disk of this member: its rounds.
  const v = new N({ generation: 1, disk: 4 });
  const again = [...v.msg(gossip({ yours: { generation: 2, disk: 9 } }), 2, 10).send];
  for (let t = 1000; t <= 4000; t += 1000) again.push(...v.tick(t).send);
  check(rids(again.map((s) => s.msg)), 'the second recovery\'s requests');
  // A repair's reads, asked again of the other peer.
  const r = new N({}, {}, learnedRecords(5));
  r.msg(gossip({ learnedThrough: 9 }), 2, 0);
  const reads: Message[] = [];
  let out = r.tick(timing.holeRepairAfterMs);
  for (let k = 0; k < 3; k++) {
    const q = readsOf(out)[0];
    if (q === undefined) break;
    reads.push(q.msg);
    out = r.msg(readReplyTo(q.msg, { status: 'RECOVERING' }), q.to, timing.holeRepairAfterMs + k);
  }
  check(rids(reads), 'the repair\'s reads');
});

for (const peerBegin of [10, 12]) test(`a peer's beginning at or below this replica's own (it rose while the catch-up ran) is not adopted again (${peerBegin}, the own at 12)`, () => {
  const n = new N({ configs: [c0] }, { bootstrap: c0 }, learnedRecords(5));
  n.msg(gossip({ learnedThrough: 20 }), 2, 10);
  const r = readsOf(n.tick(timing.holeRepairAfterMs))[0]!;
  // Meanwhile a writer's learned values arrive: [5, 12], a TRUNCATE to 12 at 12.
  const entries = Array.from({ length: 8 }, (_, k) => ({ position: 5 + k, action: k === 7 ? ({ kind: 'truncate', to: 12 } as Action) : app(5 + k) }));
  n.msg({ type: 'learned', entries }, 3, 1050);
  assert.equal(n.store.begin(), 12);
  const out = n.msg(readReplyTo(r.msg, { begin: peerBegin, config: { epoch: 0, position: -1 }, chain: [c0], slots: learnedSlots({ ...r.msg, from: peerBegin }, 20) }), r.to, 1100);
  assert.deepEqual(out.notes.filter((x) => x.startsWith('positions below')), []);
  assert.deepEqual(metadataOf(out).filter((m) => m.begin === peerBegin), []);
  assert.equal(n.store.begin(), 12);
});
