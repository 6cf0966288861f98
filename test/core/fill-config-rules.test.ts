// The fill's configuration rules (src/core/fill.ts; docs/reconfiguration.md), driving the Fill class by
// hand (fill-harness.ts): R5's stop sign (a config entry of the next epoch found in phase 1 cuts the
// range; a fill starting at it settles it alone), R3's joint count for that entry (a quorum of the
// promised voters and a caught-up quorum of the next configuration's voters), where its write goes,
// and R6's links for a replica that lacks the fill's configuration. Written for the mutants of
// fill.ts that only the simulator seeds or nothing detected (issue 11, docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timing } from '../../src/core/constants.js';
import { chainView } from '../../src/core/config-view.js';
import type { Configuration, PlacedConfiguration } from '../../src/core/membership.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import type { Slot } from '../../src/core/types.js';
import { accepted, FillRun, sent, text } from './fill-harness.js';

const m = (id: number) => ({ id, address: '' });
/** The change {1, 2, 3} -> {1, 4, 5}: 1 is a voter of both, 2 and 3 of the old one only, 4 and 5 of the new one only. */
const NEXT: Configuration = { epoch: 1, voters: [m(1), m(4), m(5)], learners: [], nextId: 6 };
const entry = (position: number, proposal = 7, config: Configuration = NEXT): Slot => ({ position, promised: proposal, accepted: proposal, learned: false, action: { kind: 'config', config } });

/**
 * A fill in epoch 0 (voters 1, 2, 3) starting at a pending entry of epoch 1 at position 2, promised by
 * `promised` (by default 2 and 3, the old configuration's voters only): its write is under way.
 */
function jointWrite(opts: Parameters<typeof newRun>[0] = {}, promised: readonly [number, number] = [2, 3]): FillRun {
  const run = newRun(opts);
  run.promise(promised[0], { slots: [entry(2)] }, 0);
  run.promise(promised[1], {}, 0);
  assert.deepEqual(run.writeReq.actions.map(text), ['config1'], 'the entry alone is settled');
  return run;
}
function newRun(opts: { rules?: typeof ALL_RULES_ON } = {}): FillRun {
  return new FillRun(2, 6, { members: [1, 2, 3], ...opts }, 0);
}
/** A next voter's acceptance from a replica that lacks positions below the entry. */
const behind = { learnedThrough: 0 };

// ---------------------------------------------------------------------------------------------
// R5: the stop sign
// ---------------------------------------------------------------------------------------------

test('R5: a config entry of the next epoch inside the range cuts it just below the entry', () => {
  for (const at of [3, 5, 6]) {
    const run = new FillRun(2, 6);
    run.promise(1, { slots: [accepted(2, 4, 'a'), entry(at)] });
    run.promise(2);
    assert.deepEqual([run.writeReq.from, run.writeReq.actions.length], [2, at - 2], `entry at ${at}: positions 2..${at - 1}`);
  }
});

test('R5: a config entry of any other epoch is no stop sign (only the next configuration\'s)', () => {
  for (const epoch of [0, 2]) {
    const run = new FillRun(2, 4);
    run.promise(1, { slots: [entry(3, 7, { ...NEXT, epoch })] });
    run.promise(2);
    assert.deepEqual(run.writeReq.actions.map(text), ['nop', `config${epoch}`, 'nop'], `epoch ${epoch}`);
  }
});

test('R5: a fill starting at the entry settles it alone, and writes it to the next configuration\'s voters too', () => {
  const run = newRun();
  const mark = run.out.length;
  run.promise(1, { slots: [entry(2), accepted(3, 7, 'above')] }, 0);
  run.promise(2, {}, 0);
  assert.deepEqual([run.writeReq.from, run.writeReq.actions.map(text)], [2, ['config1']]);
  assert.deepEqual(sent(run, mark).filter((s) => s.startsWith('write')), ['write>1', 'write>2', 'write>3', 'write>4', 'write>5'], 'once to each, 1 (a voter of both) included');
});

// ---------------------------------------------------------------------------------------------
// R3: the joint count
// ---------------------------------------------------------------------------------------------

test('R3: the entry is chosen only once a quorum of the old voters and a caught-up quorum of the next voters accepted it', () => {
  const run = jointWrite();
  const wr = run.writeReq;
  assert.equal(run.write(2), undefined);
  assert.equal(run.write(3), undefined, 'a quorum of the old voters is not enough');
  assert.equal(run.write(4), undefined, 'one of the next voters is not their quorum');
  const mark = run.out.length;
  const r = run.write(5);
  assert.deepEqual(r, { ok: true, floor: wr.proposal, entries: [{ position: 2, action: wr.actions[0] }] });
  assert.deepEqual(sent(run, mark), ['commit>2', 'commit>3'], 'committed to the members that promised');
});

test('R3: the next voters\' acceptances alone do not choose the entry', () => {
  const run = jointWrite();
  assert.equal(run.write(4), undefined);
  assert.equal(run.write(5), undefined, 'two of {1, 4, 5} but no quorum of {1, 2, 3}');
  assert.equal(run.write(2)?.ok, undefined, 'one of the old voters');
  assert.equal(run.write(3)?.ok, true);
});

test('R3: a next voter\'s acceptance counts only if it holds every position below the entry (absent: it does not)', () => {
  const run = jointWrite();
  run.write(2);
  run.write(3);
  assert.equal(run.write(4, behind), undefined, 'learned only through 0, the entry is at 2');
  assert.equal(run.write(5, { lostBelow: true }), undefined, 'lost bytes below the entry');
  assert.equal(run.write(5, { lostBelow: undefined }), undefined, 'no word on its bytes below');
  assert.equal(run.write(5, { learnedThrough: undefined }), undefined, 'no word on its prefix');
  assert.equal(run.write(4, { learnedThrough: 1 }), undefined, 'caught up: one of two');
  assert.equal(run.write(5)?.ok, true);
});

test('R3: a voter of both configurations counts in both; its acceptance caught up later is counted then', () => {
  const run = jointWrite({}, [1, 2]);
  assert.equal(run.write(1, behind), undefined, 'an old voter\'s acceptance, not yet a caught-up next voter\'s');
  assert.equal(run.write(2), undefined);
  assert.equal(run.write(4), undefined, 'one caught-up next voter');
  assert.equal(run.write(1)?.ok, true, '1 caught up: two of {1, 4, 5}');
});

test('R3: a voter of both configurations that accepted caught up at once counts in both at once', () => {
  const run = jointWrite({}, [1, 2]);
  assert.equal(run.write(4), undefined);
  assert.equal(run.write(2), undefined);
  assert.equal(run.write(1)?.ok, true);
});

test('R3: an old voter\'s acceptance never counts for the next configuration', () => {
  const run = jointWrite();
  run.write(2);
  run.write(3);
  run.write(2);
  run.write(3);
  assert.equal(run.write(4), undefined, 'still one caught-up next voter');
});

test('R3: caughtUpToAccept off counts a next voter\'s acceptance whatever it holds', () => {
  const run = jointWrite({ rules: { ...ALL_RULES_ON, caughtUpToAccept: false } });
  run.write(2);
  run.write(3);
  assert.equal(run.write(4, { ...behind, lostBelow: true }), undefined);
  assert.equal(run.write(5, behind)?.ok, true);
});

test('R3: jointAcceptance off chooses the entry on the old voters\' quorum alone', () => {
  const run = jointWrite({ rules: { ...ALL_RULES_ON, jointAcceptance: false } });
  assert.equal(run.write(2), undefined);
  assert.equal(run.write(3)?.ok, true);
});

test('R3: a reject from a next voter sends the fill back to phase 1 above it', () => {
  const run = jointWrite();
  run.write(2, {}, 1);
  run.write(3, {}, 1);
  run.write(4, { outcome: 'reject', proposal: 80 }, 1);
  assert.equal(run.fill.highestSeen, 80);
  assert.equal(run.write(5, {}, 2), undefined, 'the round is over');
  const mark = run.out.length;
  run.tick(1 + timing.backoffMinMs * 1.5);
  assert.deepEqual(sent(run, mark), ['promise>1', 'promise>2', 'promise>3']);
  assert.equal(run.promiseReq.proposal, 81);
});

test('R3: not-ready from a next voter is no answer: it is asked again', () => {
  const run = jointWrite();
  run.write(2, {}, 1);
  run.write(3, {}, 1);
  assert.equal(run.write(4, { outcome: 'not-ready' }, 1), undefined);
  assert.equal(run.write(5, { outcome: 'not-ready' }, 1), undefined);
  const mark = run.out.length;
  run.tick(timing.retransmitMs);
  assert.deepEqual(sent(run, mark), ['write>1', 'write>4', 'write>5']);
  run.write(4, {}, timing.retransmitMs + 1);
  assert.equal(run.write(5, {}, timing.retransmitMs + 1)?.ok, true);
});

test('R3: the entry\'s write is retransmitted to the members that did not answer and the next voters not yet counted caught up', () => {
  const run = jointWrite({}, [1, 2]);
  run.write(1, behind, 1);
  run.write(2, {}, 1);
  run.write(4, {}, 1);
  const mark = run.out.length;
  run.tick(timing.retransmitMs - 1);
  assert.deepEqual(sent(run, mark), []);
  run.tick(timing.retransmitMs);
  // 3 has not answered; 1 accepted but behind; 5 has not answered. 2 (old voter only) and 4 (caught up) are done.
  assert.deepEqual(sent(run, mark), ['write>1', 'write>3', 'write>5']);
});

// ---------------------------------------------------------------------------------------------
// R6: links for a replica that lacks the fill's configuration
// ---------------------------------------------------------------------------------------------

const c0: PlacedConfiguration = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
const c1: PlacedConfiguration = { epoch: 1, voters: [m(1), m(2), m(4)], learners: [], nextId: 5, position: 5, floor: 3 };
const c2: PlacedConfiguration = { epoch: 2, voters: [m(1), m(2), m(4)], learners: [m(5)], nextId: 6, position: 10, floor: 8 };

test('R6: an unknown-config promise answer is no vote; the replica is sent the links it lacks, up to the fill\'s configuration', () => {
  // The fill runs in epoch 1 (positions 6-10); the owner knows epoch 2 too.
  const run = new FillRun(6, 20, { view: chainView([c0, c1, c2]) });
  assert.equal(run.fill.to, 10);
  const req = run.promiseReq;
  const mark = run.out.length;
  assert.equal(run.promise(4, { outcome: 'unknown-config', config: { epoch: 0, position: -1 } }), undefined);
  assert.deepEqual(run.since(mark), [{ to: 4, msg: { ...req, links: [c1] } }], 'the same request, with epoch 1\'s link only');
  assert.equal(run.promise(1), undefined, 'one promise: 4\'s answer was no vote');
  // 4 answers the request with the links.
  run.promise(4);
  assert.deepEqual(run.writeReq.named.map((n) => n.id), [1, 4]);
});

test('R6: an unknown-config answer without a head reads as the bootstrap head', () => {
  const run = new FillRun(6, 10, { view: chainView([c0, c1]) });
  const req = run.promiseReq;
  const mark = run.out.length;
  run.promise(4, { outcome: 'unknown-config', config: undefined });
  assert.deepEqual(run.since(mark), [{ to: 4, msg: { ...req, links: [c1] } }]);
});

test('R6: when the owner lacks the link above the replica\'s head, the unknown-config answer is no vote and nothing is sent', () => {
  // The owner's chain starts at epoch 2 (it kept no older link); the replica is at epoch 0.
  const run = new FillRun(11, 12, { view: chainView([c2]), floor: 20 }, 0);
  const mark = run.out.length;
  assert.equal(run.promise(4, { outcome: 'unknown-config', config: { epoch: 0, position: -1 } }, 1), undefined);
  assert.deepEqual(sent(run, mark), []);
  run.promise(2, { outcome: 'unknown-config', config: { epoch: 0, position: -1 } }, 1);
  run.tick(1 + timing.backoffMinMs * 1.5);
  assert.deepEqual(sent(run, mark), ['promise>1', 'promise>2', 'promise>4'], 'two of three gave no vote: a new round');
  assert.equal(run.promiseReq.proposal, 22);
});

test('R6: an unknown-config answer naming a head at or above the fill\'s own is no vote and is sent no links', () => {
  const run = new FillRun(6, 10, { view: chainView([c0, c1]) });
  const mark = run.out.length;
  assert.equal(run.promise(4, { outcome: 'unknown-config', config: { epoch: 1, position: 5 } }), undefined);
  assert.equal(run.promise(2, { outcome: 'unknown-config', config: { epoch: 3, position: 20 } }), undefined);
  assert.deepEqual(sent(run, mark), []);
});

test('R6: only an unknown-config answer is sent links: an IGNORED one from a replica with an older head is no vote, and the round is lost', () => {
  // Replicas 1 and 2 are not VOTING (restarting, say) and have not learned epoch 1: they answer IGNORED, naming epoch 0.
  const run = new FillRun(6, 10, { view: chainView([c0, c1]), floor: 20 }, 0);
  const mark = run.out.length;
  run.promise(1, { outcome: 'ignored', status: 'RECOVERING', config: { epoch: 0, position: -1 } }, 1);
  run.promise(2, { outcome: 'ignored', status: 'RECOVERING', config: { epoch: 0, position: -1 } }, 1);
  assert.deepEqual(sent(run, mark), [], 'no links: they did not say they lack the configuration');
  run.tick(1 + timing.backoffMinMs * 1.5);
  assert.deepEqual(sent(run, mark), ['promise>1', 'promise>2', 'promise>4'], 'two of three gave no vote: a new round');
});
