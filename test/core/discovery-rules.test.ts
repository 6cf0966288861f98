// Issue 11 (mutation testing of src/core/discovery.ts): R13's discovery alone, one rule each. From the
// recover replies a replica gathered: which configuration is the latest (heads resolved through the
// asker's own chain, the links and the `removed` configurations the replies carry), whether a quorum of
// it (and of each live pending one) answered, which voters to ask next, the chain that leads there (link
// by link for a stored chain, a whole consecutive chain for an asker with none), and whether the asker
// was removed (R7: a reply's word, else the chain's). `removedBy` is tested directly as well (the
// replica node answers removed members with it). Pure functions: no clock, no randomness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverFromReplies, removedBy, type Discovered } from '../../src/core/discovery.js';
import type { Configuration, PendingConfig, PlacedConfiguration } from '../../src/core/membership.js';
import type { RecoverReply } from '../../src/core/types.js';
import { config0, member } from './reconfig-harness.js';

function placed(epoch: number, position: number, voters: number[], learners: number[], nextId: number): PlacedConfiguration {
  return { epoch, position, voters: voters.map(member), learners: learners.map(member), nextId, floor: 0 };
}

function reply(o: Partial<RecoverReply> = {}): RecoverReply {
  return {
    type: 'recoverReply', rid: 1, status: 'VOTING', begin: 0, end: 5, incarnation: 'p', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0,
    recorded: [], ...o,
  };
}

const head = (c: PlacedConfiguration) => ({ epoch: c.epoch, position: c.position });
const epochs = (cs: readonly PlacedConfiguration[] | undefined) => cs?.map((c) => c.epoch);
const pendingEntry = (position: number, config: Configuration): PendingConfig => ({ position, proposal: 9, config });

/** Voters 1..3 at epoch 0; epoch 1 removes 2 and adds voter 4 and learner 5; epoch 2 promotes 5. */
const c0 = config0([1, 2, 3]);
const c1 = placed(1, 2, [1, 3, 4], [5], 6);
const c2 = placed(2, 5, [1, 3, 4, 5], [], 6);
/** Five voters at epoch 0 (a quorum is three: one or two answers leave discovery not done). */
const f0 = config0([1, 2, 3, 4, 5]);

function fields(d: Discovered): string[] {
  return Object.keys(d).sort();
}

// ------------------------------------------------------------------ heads and quorums

test('an answer without a head names the bootstrap configuration: two of three voters answering is done', () => {
  const d = discoverFromReplies(1, [c0], true, [[2, reply()], [3, reply()]]);
  assert.equal(d.done, true);
  assert.equal(d.latest, c0);
  assert.deepEqual(d.pending, []);
  assert.deepEqual(d.ask, [2, 3]);
  assert.deepEqual(fields(d), ['ask', 'done', 'latest', 'pending'], 'no chain (nothing newer), no removed key');
});

test('one answer of three voters is not a quorum', () => {
  const d = discoverFromReplies(1, [c0], true, [[2, reply()]]);
  assert.equal(d.done, false);
  assert.equal(d.latest, c0);
});

test('the newest head wins; its voters are asked (not its learners, not the asker); the answers connect the chain', () => {
  const d = discoverFromReplies(1, [c0], true, [[2, reply({ config: head(c1), links: [c1] })]]);
  assert.equal(d.latest, c1);
  assert.equal(d.done, false, 'r2 is no voter of epoch 1: no quorum of it answered');
  assert.deepEqual(d.ask, [3, 4]);
  assert.deepEqual(d.chain, [c0, c1]);
});

test('a quorum of the latest configuration answering is done, whoever carried the links', () => {
  const d = discoverFromReplies(1, [c0], true, [[3, reply({ config: head(c1) })], [4, reply({ config: head(c1), links: [c1] })]]);
  assert.equal(d.done, true);
  assert.equal(d.latest, c1);
  assert.deepEqual(d.chain, [c0, c1]);
});

test('a head no answer carried the configuration of is unresolved: the asker stays at what it knows, not done even with a quorum', () => {
  const d = discoverFromReplies(1, [c0], true, [[2, reply({ config: head(c1) })], [3, reply()]]);
  assert.equal(d.done, false);
  assert.equal(d.latest, c0);
  assert.deepEqual(d.ask, [2, 3]);
});

test('the configuration a reply names as removing the asker resolves heads of its epoch too', () => {
  const d = discoverFromReplies(2, [c0], true, [[1, reply({ config: head(c1), removed: c1 })], [3, reply({ config: head(c1) })]]);
  assert.equal(d.latest, c1);
  assert.equal(d.done, true, 'r1 and r3 are a quorum of epoch 1');
  assert.equal(d.removed, c1);
  assert.equal(d.chain, undefined, 'a removed configuration is no link');
});

test("the asker's own chain resolves a head before a copy a reply carries", () => {
  const other = placed(1, 2, [1, 2, 3], [], 4);
  const d = discoverFromReplies(1, [c0, c1], true, [[3, reply({ config: head(c1), links: [other] })]]);
  assert.equal(d.latest, c1);
  assert.equal(d.chain, undefined, 'nothing above the own head');
});

test('the latest configuration is the head of the chain the links connect, whatever copy of that epoch another reply carries', () => {
  const copy = placed(1, 2, [1, 2, 3], [], 4);
  const d = discoverFromReplies(1, [c0], true, [[2, reply({ config: head(c1), links: [c1] })], [3, reply({ config: head(c1), links: [copy] })]]);
  assert.deepEqual(d.chain, [c0, c1]);
  assert.equal(d.latest, c1);
});

test('the voters to ask are ascending, those of a live pending configuration included', () => {
  const base = placed(1, 2, [1, 5, 6], [], 7);
  const p = placed(2, 0, [1, 2, 5], [], 7);
  const d = discoverFromReplies(1, [c0, base], true, [[5, reply({ config: head(base), pending: pendingEntry(4, p) })]]);
  assert.equal(d.done, false);
  assert.deepEqual(d.pending, [p]);
  assert.deepEqual(d.ask, [2, 5, 6]);
});

// ------------------------------------------------------------------ pending configurations

test('not done: a pending entry of the next epoch above the head counts while no answer reported its position learned', () => {
  const p = placed(1, 0, [1, 2, 6], [], 7);
  const d = discoverFromReplies(1, [f0], true, [[2, reply({ pending: pendingEntry(1, p) })]]);
  assert.equal(d.done, false);
  assert.deepEqual(d.pending, [p], 'no answer reported a learned prefix: position 1 is not learned');
  assert.deepEqual(d.ask, [2, 3, 4, 5, 6]);
  const below = discoverFromReplies(1, [f0], true, [[2, reply({ pending: pendingEntry(7, p), learnedThrough: 6 })]]);
  assert.deepEqual(below.pending, [p], 'learned through 6 leaves position 7 open');
});

test('not done: a pending entry at a position some answer learned is dead', () => {
  const p = placed(1, 0, [1, 2, 6], [], 7);
  const d = discoverFromReplies(1, [f0], true, [[2, reply({ pending: pendingEntry(7, p), learnedThrough: 6 })], [3, reply({ learnedThrough: 7 })]]);
  assert.equal(d.done, false);
  assert.deepEqual(d.pending, []);
  assert.deepEqual(d.ask, [2, 3, 4, 5]);
});

test('not done: a pending entry not above the head, or not of the next epoch, does not count', () => {
  const g1 = placed(1, 2, [1, 2, 3, 4, 6], [], 7);
  const next = placed(2, 0, [1, 2, 3, 4, 7], [], 8);
  const atHead = discoverFromReplies(1, [f0, g1], true, [[2, reply({ config: head(g1), pending: pendingEntry(2, next) })]]);
  assert.deepEqual(atHead.pending, [], 'at the head position itself');
  const above = discoverFromReplies(1, [f0, g1], true, [[2, reply({ config: head(g1), pending: pendingEntry(3, next) })]]);
  assert.deepEqual(above.pending, [next], 'one above it counts');
  const skip = placed(3, 0, [1, 2, 3, 4, 7], [], 8);
  assert.deepEqual(discoverFromReplies(1, [f0, g1], true, [[2, reply({ config: head(g1), pending: pendingEntry(3, skip) })]]).pending, [], 'two epochs on');
  const old = placed(1, 0, [1, 2, 3, 4, 7], [], 8);
  assert.deepEqual(discoverFromReplies(1, [f0, g1], true, [[2, reply({ config: head(g1), pending: pendingEntry(3, old) })]]).pending, [], 'the head epoch itself');
});

test('not done: a pending configuration reported twice is listed once; two different ones are both listed', () => {
  const p = placed(1, 0, [1, 2, 6], [], 7);
  const same = { ...p };
  const twice = discoverFromReplies(1, [f0], true, [[2, reply({ pending: pendingEntry(7, p) })], [3, reply({ pending: pendingEntry(8, same) })]]);
  assert.equal(twice.done, false);
  assert.deepEqual(twice.pending, [p]);
  const pairs: [PlacedConfiguration, PlacedConfiguration][] = [
    [p, placed(1, 0, [1, 3, 6], [], 7)], // voters
    [p, placed(1, 0, [1, 2, 6], [], 8)], // nextId
    [placed(1, 0, [1, 2], [], 7), placed(1, 0, [1, 2], [6], 7)], // learners
    [placed(1, 0, [1, 23, 4], [], 35), placed(1, 0, [1, 2, 34], [], 35)], // ids, not digits
  ];
  for (const [a, b] of pairs) {
    const both = discoverFromReplies(1, [f0], true, [[2, reply({ pending: pendingEntry(7, a) })], [3, reply({ pending: pendingEntry(8, b) })]]);
    assert.deepEqual(both.pending, [a, b], `${JSON.stringify(b)} differs from ${JSON.stringify(a)}`);
  }
});

test('done needs a quorum of a live pending configuration too; then pending lists it', () => {
  const p = placed(1, 0, [1, 2, 4], [], 5);
  const c = config0([1, 2, 3], [4]);
  const waiting = discoverFromReplies(1, [c], true, [[2, reply({ pending: pendingEntry(1, p) })], [3, reply()]]);
  assert.equal(waiting.done, false, 'only r2 of {1, 2, 4} answered');
  assert.deepEqual(waiting.pending, [p]);
  const d = discoverFromReplies(1, [c], true, [[2, reply({ pending: pendingEntry(1, p) })], [3, reply()], [4, reply()]]);
  assert.equal(d.done, true);
  assert.deepEqual(d.pending, [p], 'no answer reported a learned prefix: position 1 is open');
  assert.deepEqual(d.ask, [2, 3, 4]);
  const dead = discoverFromReplies(1, [c], true, [[2, reply({ pending: pendingEntry(1, p) })], [3, reply({ learnedThrough: 1 })]]);
  assert.equal(dead.done, true, 'the entry is dead: the latest configuration alone counts');
  assert.deepEqual(dead.pending, []);
});

// ------------------------------------------------------------------ the chain: stored

test('stored: the chain grows link by link from the asker\'s head, the links taken from any answer', () => {
  const d = discoverFromReplies(1, [c0], true, [[2, reply({ config: head(c2), links: [c2] })], [3, reply({ config: head(c1), links: [c1] })], [4, reply()]]);
  assert.deepEqual(d.chain, [c0, c1, c2]);
  assert.equal(d.latest, c2);
});

test('stored: a link must be of the next epoch and above the head position, or the chain stops there', () => {
  const gap = discoverFromReplies(1, [c0], true, [[3, reply({ config: head(c2), links: [c2] })]]);
  assert.equal(gap.chain, undefined, 'epoch 2 does not follow epoch 0');
  assert.equal(gap.latest, c2, 'its head still resolves');
  const samePos = placed(2, c1.position, [1, 3, 4, 5], [], 6);
  const flat = discoverFromReplies(1, [c0, c1], true, [[3, reply({ config: head(samePos), links: [samePos] })]]);
  assert.equal(flat.chain, undefined, 'epoch 2 at the position of epoch 1 is no link');
});

// ------------------------------------------------------------------ the chain: not stored

test('not stored: the asker takes the whole chain of the newest head a replier sent', () => {
  const boot = config0([1, 2, 3]);
  const d = discoverFromReplies(1, [boot], false, [
    [4, reply()],
    [2, reply({ config: head(c1), links: [c0, c1] })],
    [3, reply({ config: head(c2), links: [c0, c1, c2] })],
    [5, reply({ config: head(c1), links: [c0, c1] })],
  ]);
  assert.deepEqual(epochs(d.chain), [0, 1, 2]);
  assert.deepEqual(d.chain?.slice(1), [c1, c2]);
  assert.equal(d.latest, c2);
});

test('not stored: a chain cut by a truncation (not from epoch 0) is taken as it is', () => {
  const d = discoverFromReplies(1, [config0([1, 2, 3])], false, [[3, reply({ config: head(c2), links: [c1, c2] })]]);
  assert.deepEqual(d.chain, [c1, c2]);
});

test('not stored: a chain with a gap in its epochs or positions that do not rise is not taken', () => {
  const boot = config0([1, 2, 3]);
  assert.equal(discoverFromReplies(1, [boot], false, [[3, reply({ links: [c0, c2] })]]).chain, undefined, 'epochs 0, 2');
  const flat = placed(1, c0.position, [1, 3, 4], [5], 6);
  assert.equal(discoverFromReplies(1, [boot], false, [[3, reply({ links: [c0, flat] })]]).chain, undefined, 'epoch 1 at position -1');
  assert.equal(discoverFromReplies(1, [boot], false, [[3, reply({ links: [c0, c1, c2, c2] })]]).chain, undefined, 'epoch 2 twice');
});

test('not stored: a chain no newer than what the asker knows is not taken', () => {
  assert.equal(discoverFromReplies(1, [config0([1, 2, 3])], false, [[3, reply({ links: [c0] })]]).chain, undefined);
  const d = discoverFromReplies(1, [c1], false, [[3, reply({ config: head(c1), links: [c0, c1] })]]);
  assert.equal(d.chain, undefined);
  assert.deepEqual(fields(d).includes('chain'), false);
});

// ------------------------------------------------------------------ removed (R7)

test("a reply naming the configuration that removed the asker is believed, even if the asker's chain does not know it", () => {
  const d = discoverFromReplies(2, [c0], true, [[1, reply({ removed: c1 })]]);
  assert.equal(d.removed, c1);
  assert.equal(d.latest, c0);
});

test('of several replies naming the removing configuration, the oldest wins, in any order', () => {
  const later = placed(2, 5, [1, 3, 4], [], 6);
  assert.equal(discoverFromReplies(2, [c0], true, [[1, reply({ removed: later })], [3, reply({ removed: c1 })]]).removed, c1);
  assert.equal(discoverFromReplies(2, [c0], true, [[1, reply({ removed: c1 })], [3, reply({ removed: later })]]).removed, c1);
});

test('without a reply saying so, the chain says removed: the first configuration not listing the asker', () => {
  const d = discoverFromReplies(2, [c0], true, [[1, reply({ config: head(c2), links: [c1, c2] })]]);
  assert.deepEqual(d.chain, [c0, c1, c2]);
  assert.equal(d.removed, c1);
  const member1 = discoverFromReplies(1, [c0], true, [[3, reply({ config: head(c2), links: [c1, c2] })]]);
  assert.equal(member1.removed, undefined);
  assert.equal(fields(member1).includes('removed'), false);
});

test('removedBy: the first link that no longer lists the member after one that did', () => {
  const c3 = placed(3, 8, [1, 3, 5], [], 6);
  assert.equal(removedBy(2, [c0, c1, c2, c3], c3), c1, 'not the latest');
  assert.equal(removedBy(4, [c0, c1, c2, c3], c3), c3, 'a member that joined after epoch 0');
  assert.equal(removedBy(5, [c0, c1, c2, c3], c3), undefined, 'a learner, then a voter: never removed');
  assert.equal(removedBy(1, [c0, c1, c2, c3], c3), undefined);
  const e1 = placed(1, 2, [1, 2], [], 4);
  const e2 = placed(2, 4, [1, 2], [4], 5);
  const e3 = placed(3, 6, [1, 2], [], 5);
  assert.equal(removedBy(4, [c0, e1, e2, e3], e3), e3, 'not the first configuration that never listed it');
});

test('removedBy: a latest configuration newer than the chain counts as its last link', () => {
  assert.equal(removedBy(2, [c0], c1), c1);
  assert.equal(removedBy(3, [c0], c1), undefined);
});

test('removedBy: an id the chain never listed is removed if it is below the latest nextId after epoch 0', () => {
  const boot = config0([1, 2, 3]);
  const later = placed(1, 4, [1, 2, 3], [], 6);
  assert.equal(removedBy(4, [boot], later), later, 'ids 4 and 5 were given out and removed');
  assert.equal(removedBy(5, [boot], later), later);
  assert.equal(removedBy(6, [boot], later), undefined, 'nextId itself was never given out: a joiner-to-be');
  assert.equal(removedBy(9, [boot], later), undefined);
  const gaps = config0([1, 3]);
  assert.equal(gaps.nextId, 4);
  assert.equal(removedBy(2, [gaps], gaps), undefined, 'at epoch 0 an id below nextId may be a gap in the bootstrap list');
});
