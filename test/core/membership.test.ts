// The pure membership rules of docs/reconfiguration.md: quorums of a configuration, valid changes,
// the liveness guard (R10), the joint caught-up count (R3), and the chain (config(q), roles, pruning).
// Each refusal and each rule has a case that fails if the rule is dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyChange,
  chainProblem,
  checkLiveness,
  configQuorum,
  configurationProblem,
  failuresTolerated,
  governing,
  heldBelow,
  initialConfiguration,
  jointAccepted,
  pruneChain,
  roleOf,
  sameConfiguration,
  type Configuration,
  type MemberView,
  type MembershipChange,
  type PlacedConfiguration,
} from '../../src/core/membership.js';
import type { Member } from '../../src/core/types.js';
import { AssertionError } from '../../src/core/assert.js';

const m = (id: number): Member => ({ id, address: `h${id}:70${String(id).padStart(2, '0')}` });
const ms = (...ids: number[]): Member[] => ids.map(m);
const three = initialConfiguration(ms(1, 2, 3));

/** Applies changes in turn, each expected to pass. */
function run(start: Configuration, ...changes: MembershipChange[]): Configuration {
  let c = start;
  for (const ch of changes) {
    const r = applyChange(c, ch);
    assert.ok(r.ok, `${JSON.stringify(ch)} refused: ${r.ok ? '' : r.refusal.message}`);
    c = r.next;
  }
  return c;
}

function refusedWith(c: Configuration, ch: MembershipChange, reason: string, opts = {}): void {
  const r = applyChange(c, ch, opts);
  assert.equal(r.ok, false, `${JSON.stringify(ch)} should be refused`);
  if (!r.ok) assert.equal(r.refusal.reason, reason, r.refusal.message);
}

const everyoneUp = (): MemberView => ({ reachable: true, caughtUp: true });
const view = (down: number[], lagging: number[] = []) => (id: number): MemberView => ({ reachable: !down.includes(id), caughtUp: !lagging.includes(id) });
const ids = (list: readonly Member[]): number[] => list.map((x) => x.id);

test('quorums count voters only: a learner neither raises the quorum nor tolerates a failure (etcd #7820)', () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => configQuorum(initialConfiguration(ms(...Array.from({ length: n }, (_, i) => i + 1))))), [1, 2, 2, 3, 3]);
  const withLearner = run(three, { kind: 'add', member: m(4) });
  assert.equal(configQuorum(withLearner), 2, 'adding a learner keeps the quorum');
  assert.equal(failuresTolerated(withLearner), 1);
  assert.deepEqual(ids(withLearner.learners), [4]);
  assert.equal(withLearner.epoch, 1);
});

test('the bootstrap configuration: epoch 0, every member a voter, ids ascending, nextId above them', () => {
  const c = initialConfiguration([m(3), m(1), m(2)]);
  assert.deepEqual(ids(c.voters), [1, 2, 3]);
  assert.equal(c.epoch, 0);
  assert.equal(c.nextId, 4);
  assert.throws(() => initialConfiguration([]), /voter/);
  assert.throws(() => initialConfiguration([m(1), { id: 2, address: m(1).address }]), /two members/);
  assert.throws(() => initialConfiguration([{ id: 0, address: 'h:1' }]), /positive/);
  assert.match(configurationProblem({ ...c, nextId: 3 }) ?? '', /nextId/);
  assert.match(configurationProblem({ ...c, learners: [c.voters[0]!] }) ?? '', /both a voter and a learner/);
});

test('ids are never reused: a removed id, or any id below nextId, cannot come back', () => {
  const c = run(three, { kind: 'add', member: m(4) }, { kind: 'remove', id: 4 });
  assert.equal(c.nextId, 5);
  refusedWith(c, { kind: 'add', member: m(4) }, 'id-used');
  refusedWith(c, { kind: 'add', member: { id: 2, address: 'new:1' } }, 'id-used');
  const later = run(c, { kind: 'add', member: m(9) });
  assert.equal(later.nextId, 10, 'nextId follows the highest id used');
  refusedWith(later, { kind: 'add', member: m(5) }, 'id-used');
});

test('a new member needs a free address and a well-formed one', () => {
  refusedWith(three, { kind: 'add', member: { id: 4, address: m(2).address } }, 'address-used');
  refusedWith(three, { kind: 'add', member: { id: 4, address: 'no-port' } }, 'invalid');
  refusedWith(three, { kind: 'add', member: { id: 4, address: 'h:70000' } }, 'invalid');
  refusedWith(three, { kind: 'add', member: { id: -1, address: 'h:1' } }, 'invalid');
  assert.ok(applyChange(three, { kind: 'add', member: { id: 4, address: '[::1]:7004' } }).ok, 'IPv6 in brackets');
});

test('S1: a member becomes a voter only from learner (promote, replace, set)', () => {
  refusedWith(three, { kind: 'promote', id: 4 }, 'unknown-member');
  refusedWith(three, { kind: 'promote', id: 2 }, 'no-change');
  const withLearner = run(three, { kind: 'add', member: m(4) });
  const promoted = run(withLearner, { kind: 'promote', id: 4 });
  assert.deepEqual(ids(promoted.voters), [1, 2, 3, 4]);
  assert.deepEqual(promoted.learners, []);
  // replace: the replacement must be a learner already
  refusedWith(run(three, { kind: 'add', member: m(4) }, { kind: 'promote', id: 4 }), { kind: 'replace', old: 3, replacement: 4 }, 'not-a-learner');
  refusedWith(three, { kind: 'replace', old: 3, replacement: 9 }, 'unknown-member');
  // set: a voter listed must be a voter or a learner now, and no id may be new
  refusedWith(three, { kind: 'set', voters: [1, 2, 5], learners: [] }, 'unknown-member');
  refusedWith(three, { kind: 'set', voters: [1, 1], learners: [] }, 'invalid');
});

test('replace swaps a voter for a caught-up learner in one change, keeping the voter count', () => {
  const c = run(three, { kind: 'add', member: m(4) }, { kind: 'replace', old: 3, replacement: 4 });
  assert.deepEqual(ids(c.voters), [1, 2, 4]);
  assert.deepEqual(c.learners, []);
  assert.equal(c.epoch, 2);
  // replacing a learner by a learner is removing the old one
  const l = run(three, { kind: 'add', member: m(4) }, { kind: 'add', member: m(5) }, { kind: 'replace', old: 4, replacement: 5 });
  assert.deepEqual(ids(l.voters), [1, 2, 3]);
  assert.deepEqual(ids(l.learners), [5]);
});

test('remove: any member, but never the last voter; unknown ids refused', () => {
  const c = run(three, { kind: 'remove', id: 3 });
  assert.deepEqual(ids(c.voters), [1, 2]);
  refusedWith(c, { kind: 'remove', id: 3 }, 'unknown-member');
  const one = run(c, { kind: 'remove', id: 2 });
  refusedWith(one, { kind: 'remove', id: 1 }, 'no-voters');
  refusedWith(three, { kind: 'set', voters: [], learners: [1, 2, 3] }, 'no-voters');
});

test('address change: the member keeps its id and role; a used address or no change is refused', () => {
  const c = run(three, { kind: 'address', id: 2, address: 'elsewhere:7002' });
  assert.equal(c.voters.find((x) => x.id === 2)!.address, 'elsewhere:7002');
  refusedWith(three, { kind: 'address', id: 2, address: m(3).address }, 'address-used');
  refusedWith(three, { kind: 'address', id: 2, address: m(2).address }, 'no-change');
  refusedWith(three, { kind: 'address', id: 7, address: 'x:1' }, 'unknown-member');
});

test('R2: one change at a time, by the epoch a change expects (Raft 2015, BookKeeper #1591)', () => {
  const c = run(three, { kind: 'add', member: m(4) }, { kind: 'add', member: m(5) });
  // Two changes prepared from the same configuration (epoch 2): add-voter 4 and remove 3.
  const first = applyChange(c, { kind: 'promote', id: 4 }, { ifEpoch: 2, changeId: 'a' });
  const second = applyChange(c, { kind: 'remove', id: 3 }, { ifEpoch: 2, changeId: 'b' });
  assert.ok(first.ok && second.ok, 'each alone is valid');
  // Once the first is chosen, the second, still expecting epoch 2, is refused instead of applied on top.
  refusedWith(first.ok ? first.next : c, { kind: 'remove', id: 3 }, 'epoch-changed', { ifEpoch: 2 });
  assert.equal(first.ok && first.next.changeId, 'a');
});

test('bulk set: voters and learners among current members, the rest removed', () => {
  const c = run(three, { kind: 'add', member: m(4) }, { kind: 'add', member: m(5) });
  const s = run(c, { kind: 'set', voters: [1, 4, 5], learners: [2] });
  assert.deepEqual(ids(s.voters), [1, 4, 5]);
  assert.deepEqual(ids(s.learners), [2], 'a voter may be demoted to learner');
  assert.equal(roleOf(chainOf(three, c, s), 3), 'removed');
});

test('grow 1 to 3 and 3 to 5, shrink 5 to 3, move 3 to three new machines: every step passes the guard with everyone up', () => {
  const one = initialConfiguration(ms(1));
  let c: Configuration = one;
  const step = (ch: MembershipChange): void => {
    const r = applyChange(c, ch);
    assert.ok(r.ok, r.ok ? '' : r.refusal.message);
    assert.equal(checkLiveness(c, r.next, everyoneUp), undefined, JSON.stringify(ch));
    c = r.next;
  };
  for (const id of [2, 3]) { step({ kind: 'add', member: m(id) }); step({ kind: 'promote', id }); }
  assert.deepEqual(ids(c.voters), [1, 2, 3]);
  step({ kind: 'add', member: m(4) });
  step({ kind: 'add', member: m(5) });
  step({ kind: 'set', voters: [1, 2, 3, 4, 5], learners: [] }); // 3 to 5 in one change
  assert.equal(configQuorum(c), 3);
  step({ kind: 'set', voters: [1, 2, 3], learners: [] }); // 5 to 3
  for (const id of [6, 7, 8]) step({ kind: 'add', member: m(id) });
  step({ kind: 'set', voters: [6, 7, 8], learners: [] }); // move, in one change (R3 needs both quorums)
  assert.deepEqual(ids(c.voters), [6, 7, 8]);
  assert.equal(c.nextId, 9);
});

test('R10 guard: a removal that leaves too few reachable voters is refused; removing the dead one is not', () => {
  const minus = (id: number): Configuration => run(three, { kind: 'remove', id });
  assert.equal(checkLiveness(three, minus(3), view([3])), undefined, 'remove the member that is down');
  assert.equal(checkLiveness(three, minus(2), view([3]))?.reason, 'would-lose-quorum', 'remove a live one while another is down');
  // etcd: "unsafe to remove a member from a two member cluster": with the other one down, no change can be chosen.
  const two = initialConfiguration(ms(1, 2));
  assert.equal(checkLiveness(two, run(two, { kind: 'remove', id: 2 }), view([2]))?.reason, 'would-lose-quorum');
});

test('R10 guard: a promotion waits for the learner to catch up (named), then passes', () => {
  const c = run(three, { kind: 'add', member: m(4) });
  const p = run(c, { kind: 'promote', id: 4 });
  const r = checkLiveness(c, p, view([], [4]));
  assert.equal(r?.reason, 'not-caught-up');
  assert.match(r!.message, /4/);
  assert.equal(checkLiveness(c, p, everyoneUp), undefined);
  // etcd #11633: 1 -> 2 by promotion counts the promoted member in the new quorum
  const one = initialConfiguration(ms(1));
  const added = run(one, { kind: 'add', member: m(2) });
  const promoted = run(added, { kind: 'promote', id: 2 });
  assert.equal(configQuorum(promoted), 2);
  assert.equal(checkLiveness(added, promoted, everyoneUp), undefined);
  assert.equal(checkLiveness(added, promoted, view([2]))?.reason, 'would-lose-quorum', 'an unreachable promoted member cannot complete it');
});

test('R3: the entry counts only with a quorum of the old voters and a caught-up quorum of the new ones', () => {
  const c = run(three, { kind: 'add', member: m(4) }, { kind: 'add', member: m(5) });
  const move = run(c, { kind: 'set', voters: [1, 4, 5], learners: [] }); // {1,2,3} -> {1,4,5}
  const acc = (id: number, caughtUp = true) => ({ id, caughtUp });
  assert.equal(jointAccepted(c, move, [acc(1), acc(2)]), false, 'old quorum alone');
  assert.equal(jointAccepted(c, move, [acc(4), acc(5)]), false, 'new quorum alone');
  assert.equal(jointAccepted(c, move, [acc(1), acc(2), acc(4, false), acc(5, false)]), false, 'new voters that have not caught up do not count');
  assert.equal(jointAccepted(c, move, [acc(1, false), acc(2), acc(4)]), false, 'member 1 counts for the old part only when behind');
  assert.equal(jointAccepted(c, move, [acc(1), acc(2), acc(4)]), true, 'member 1, in both, counts in both');
  assert.equal(jointAccepted(c, move, [acc(2), acc(3), acc(4), acc(5)]), true);
  assert.equal(jointAccepted(c, move, [acc(2), acc(9), acc(4), acc(5)]), false, 'a non-member counts for nothing');
});

test('R3 caught up: the whole log below the entry, with its bytes', () => {
  assert.equal(heldBelow(10, 9, false), true);
  assert.equal(heldBelow(10, 8, false), false);
  assert.equal(heldBelow(10, 12, true), false, 'a lost position below the entry');
  assert.equal(heldBelow(0, -1, false), true, 'an entry at position 0 needs nothing below');
});

function chainOf(...cs: Configuration[]): PlacedConfiguration[] {
  return cs.map((c, i) => ({ ...c, position: i === 0 ? -1 : 10 * i, floor: i }));
}

test('config(q): an entry governs the positions after it, not its own', () => {
  const c1 = run(three, { kind: 'add', member: m(4) });
  const c2 = run(c1, { kind: 'promote', id: 4 });
  const chain = chainOf(three, c1, c2); // entries at 10 and 20
  assert.equal(governing(chain, 0)!.epoch, 0);
  assert.equal(governing(chain, 10)!.epoch, 0, 'the entry at 10 belongs to the configuration before it');
  assert.equal(governing(chain, 11)!.epoch, 1);
  assert.equal(governing(chain, 20)!.epoch, 1);
  assert.equal(governing(chain, 21)!.epoch, 2);
  const pruned = pruneChain(chain, 15);
  assert.deepEqual(pruned.map((c) => c.epoch), [1, 2], 'keeps config(begin) onward');
  assert.equal(governing(pruned, 5), undefined, 'a pruned chain does not answer for truncated positions');
  assert.deepEqual(pruneChain(chain, 0).map((c) => c.epoch), [0, 1, 2]);
  assert.deepEqual(pruneChain(chain, 25).map((c) => c.epoch), [2]);
});

test('one chain: consecutive epochs, increasing positions, no reused id, new voters were learners', () => {
  const c1 = run(three, { kind: 'add', member: m(4) });
  const c2 = run(c1, { kind: 'promote', id: 4 });
  assert.equal(chainProblem(chainOf(three, c1, c2)), undefined);
  const [a, b, c] = chainOf(three, c1, c2);
  assert.match(chainProblem([a!, c!]) ?? '', /follows/);
  assert.match(chainProblem([a!, b!, { ...c!, position: 5 }]) ?? '', /not above/);
  assert.match(chainProblem([a!, { ...b!, voters: [...b!.voters, m(4)], learners: [] }]) ?? '', /without it being a learner/);
  const removed = run(c1, { kind: 'remove', id: 4 });
  const reused: PlacedConfiguration = { ...removed, epoch: 3, position: 30, floor: 3, learners: [m(4)] };
  assert.match(chainProblem([a!, b!, { ...removed, position: 20, floor: 2 }, reused]) ?? '', /reuses id 4/);
  assert.match(chainProblem([{ ...a!, position: 0 }]) ?? '', /-1/);
  assert.match(chainProblem([]) ?? '', /empty/);
});

test('roles come from the chain: voter, learner, removed, none', () => {
  const c1 = run(three, { kind: 'add', member: m(4) });
  const c2 = run(c1, { kind: 'replace', old: 3, replacement: 4 });
  const chain = [three, c1, c2];
  assert.equal(roleOf(chain, 4), 'voter');
  assert.equal(roleOf([three, c1], 4), 'learner');
  assert.equal(roleOf(chain, 3), 'removed');
  assert.equal(roleOf(chain, 7), 'none');
  assert.ok(sameConfiguration(c2, { ...c2 }));
  assert.ok(!sameConfiguration(c1, c2));
});

test('R13 discovery: follows newer heads, needs a quorum of the latest, and of a live pending configuration', async () => {
  const { discover } = await import('../../src/core/membership.js');
  const c1 = run(three, { kind: 'add', member: m(4) }, { kind: 'add', member: m(5) });
  const p0 = chainOf(three)[0]!;
  const p1: PlacedConfiguration = { ...c1, position: 10, floor: 3 }; // epoch 2 (two adds), learned at 10
  const moved = run(c1, { kind: 'set', voters: [1, 4, 5], learners: [] });
  const p2: PlacedConfiguration = { ...moved, position: 20, floor: 7 };
  const ans = (from: number, head: PlacedConfiguration, learnedThrough: number, pending?: { position: number; config: Configuration }) =>
    ({ from, head, learnedThrough, ...(pending === undefined ? {} : { pending }) });

  // A wiped replica seeded with its old flags starts from epoch 0 and hears of a newer head from one seed.
  let d = discover(p0, [ans(2, p1, 15)]);
  assert.equal(d.done, false);
  assert.equal(d.latest.epoch, c1.epoch);
  if (!d.done) assert.deepEqual(d.ask, [1, 3, 4, 5], 'asks the rest of the newest configuration, learners included');
  // A quorum of that configuration answers with nothing newer: done.
  d = discover(p0, [ans(2, p1, 15), ans(3, p1, 15)]);
  assert.ok(d.done && d.latest.epoch === c1.epoch && d.pending.length === 0);

  // One of them holds the move accepted at 20, learned by nobody who answered: it is live, so its voters must answer too.
  const pend = { position: 20, config: moved };
  d = discover(p0, [ans(2, p1, 19, pend), ans(3, p1, 19)]);
  assert.equal(d.done, false, 'a live pending configuration needs a quorum of its own');
  if (!d.done) assert.deepEqual(d.ask, [1, 4, 5]);
  d = discover(p0, [ans(2, p1, 19, pend), ans(3, p1, 19), ans(4, p1, 19), ans(5, p1, 19)]);
  assert.ok(d.done && d.pending.length === 1 && sameConfiguration(d.pending[0]!, moved), 'recorded in the pending one too (R9b)');

  // Someone learned position 20: the pending entry is dead (or learned, and a head says so).
  d = discover(p0, [ans(2, p1, 19, pend), ans(3, p1, 25)]);
  assert.ok(d.done && d.pending.length === 0, 'a dead pending entry is ignored');
  // A removed replica answers with the configuration that removed it, which points onward.
  d = discover(p0, [ans(2, p2, 30), ans(3, p2, 30)]);
  assert.equal(d.done, false, 'members of the removing configuration must be asked, not the removed ones');
  if (!d.done) assert.deepEqual(d.ask, [1, 4, 5]);
  d = discover(p0, [ans(2, p2, 30), ans(4, p2, 30), ans(5, p2, 30)]);
  assert.ok(d.done && d.latest.epoch === moved.epoch);
  // A pending entry that is not for the next epoch, or not above the head, does not count.
  d = discover(p0, [ans(2, p1, 5, { position: 8, config: moved }), ans(3, p1, 5)]);
  assert.ok(d.done && d.pending.length === 0);
});

// The tests below came from the mutation run of membership.ts (issue 11, docs/testing.md): each states a
// rule that a surviving mutant broke without any test failing.

test('a well-formed configuration: an epoch that is a non-negative integer, each member once, HOST:PORT addresses', () => {
  // applyChange makes none of these: they come from a corrupt disk (the storage codec reads and writes
  // only what configurationProblem passes) or a hostile client's config entry (admission.ts checks it with
  // chainProblem, which calls configurationProblem; the wire decoder checks ids and nextId, not addresses).
  assert.equal(configurationProblem(three), undefined);
  assert.match(configurationProblem({ ...three, epoch: -1 }) ?? '', /epoch -1 is not a non-negative integer/);
  assert.match(configurationProblem({ ...three, epoch: 1.5 }) ?? '', /epoch 1.5 is not a non-negative integer/);
  // A member listed twice in one list is refused as such (not as "both a voter and a learner").
  assert.match(configurationProblem({ ...three, voters: ms(1, 2, 2, 3) }) ?? '', /ascending id, each once/);
  assert.match(configurationProblem({ ...three, voters: [m(1), { id: 2, address: 'no-port' }, m(3)] }) ?? '', /'no-port' is not HOST:PORT/);
});

test('a port is 1..65535, both ends included', () => {
  assert.equal(configurationProblem({ ...three, voters: [m(1), m(2), { id: 3, address: 'h:65535' }] }), undefined);
  assert.ok(applyChange(three, { kind: 'add', member: { id: 4, address: 'h:65535' } }).ok, 'the highest port');
  assert.ok(applyChange(three, { kind: 'add', member: { id: 4, address: 'h:1' } }).ok, 'the lowest port');
  refusedWith(three, { kind: 'add', member: { id: 4, address: 'h:65536' } }, 'invalid');
  refusedWith(three, { kind: 'add', member: { id: 4, address: 'h:0' } }, 'invalid');
});

test('add: a malformed address is refused as invalid before the id is looked up; a member id says it is one already', () => {
  refusedWith(three, { kind: 'add', member: { id: 2, address: 'no-port' } }, 'invalid');
  const r = applyChange(three, { kind: 'add', member: { id: 2, address: 'new:7' } });
  assert.ok(!r.ok);
  assert.equal(r.refusal.reason, 'id-used');
  assert.match(r.refusal.message, /member 2 is already in the configuration/);
});

test('R10 guard: only a member that becomes a voter must have caught up; a lagging voter that stays one blocks nothing', () => {
  // Member 3 is behind: adding a learner still leaves two reachable, caught-up voters of three, a quorum.
  const added = run(three, { kind: 'add', member: m(4) });
  assert.equal(checkLiveness(three, added, view([], [3])), undefined);
  // With another voter down as well, the new configuration has one caught-up voter: refused, for quorum.
  assert.equal(checkLiveness(three, added, view([2], [3]))?.reason, 'would-lose-quorum');
});

test('R10 guard: the refusal names every lagging member (the CLI waits for them)', () => {
  const c = run(three, { kind: 'add', member: m(4) }, { kind: 'add', member: m(5) });
  const one = run(c, { kind: 'promote', id: 4 });
  assert.equal(checkLiveness(c, one, view([], [4]))?.message, 'member 4 has not caught up yet');
  const both = run(c, { kind: 'set', voters: [1, 2, 3, 4, 5], learners: [] });
  assert.equal(checkLiveness(c, both, view([], [4, 5]))?.message, 'members 4, 5 have not caught up yet');
});

test('one chain: each link well formed and placed (position 0 is a place), positions strictly increasing, nextId never lowered', () => {
  const c1 = run(three, { kind: 'add', member: m(4) });
  const c2 = run(c1, { kind: 'promote', id: 4 });
  const [a, b, c] = chainOf(three, c1, c2); // entries at -1, 10, 20
  // A change may be chosen at the first position of the log (admission.ts checks a writer's config
  // entry with chainProblem([config(p), entry]) and must not refuse it).
  assert.equal(chainProblem([a!, { ...b!, position: 0 }]), undefined);
  // The rest are crafted (a corrupt disk; for a malformed link or a lowered nextId, also a hostile
  // client's config entry, which admission.ts checks this way): applyChange makes none of them.
  assert.match(chainProblem([{ ...a!, voters: [{ id: 1, address: 'no-port' }, m(2), m(3)] }]) ?? '', /epoch 0: .*HOST:PORT/);
  assert.match(chainProblem([{ ...c!, position: -1 }]) ?? '', /epoch 2 has no position/, 'the oldest link kept needs a position too');
  assert.match(chainProblem([a!, b!, { ...c!, position: 10 }]) ?? '', /not above/, 'two entries at one position');
  const removed: PlacedConfiguration = { ...run(c1, { kind: 'remove', id: 4 }), position: 20, floor: 2 };
  assert.equal(chainProblem([a!, b!, removed]), undefined);
  assert.match(chainProblem([a!, b!, { ...removed, nextId: 4 }]) ?? '', /lowers nextId/, 'id 4 would become free again');
});

test('pruning keeps config(begin): an entry at begin itself belongs to the configuration before it; the oldest link kept is never dropped', () => {
  const c1 = run(three, { kind: 'add', member: m(4) });
  const c2 = run(c1, { kind: 'promote', id: 4 });
  const chain = chainOf(three, c1, c2); // entries at -1, 10, 20
  const at20 = pruneChain(chain, 20);
  assert.deepEqual(at20.map((c) => c.epoch), [1, 2], 'the log begins at the entry at 20: position 20 is governed by epoch 1');
  assert.equal(governing(at20, 20)!.epoch, 1);
  // A begin at or below the first link kept (not reached by the system: pruneChain has no caller in
  // src/ now): the chain is kept whole.
  assert.deepEqual(pruneChain(chain, -1).map((c) => c.epoch), [0, 1, 2]);
  assert.deepEqual(pruneChain(at20, 10).map((c) => c.epoch), [1, 2]);
});

test('a role needs a chain: an empty one is a programmer error, stopped by the assertion', () => {
  // Not reached: every chain holds at least the bootstrap configuration (the decoders refuse an empty one).
  assert.throws(() => roleOf([], 1), AssertionError);
});
