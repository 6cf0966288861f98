// The two races of autorecovery, built deterministically over the real cores
// (src/sim/scenarios.ts): each finds two values chosen at one position with
// the rule that prevents it switched off, and nothing with every rule on.
// Race (a) with every rule on is a core bug: see core-regressions.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import { forgottenAcceptance, forgottenPromise, type ScenarioResult } from '../../src/sim/scenarios.js';
import { World } from '../../src/sim/world.js';

const off = (rule: keyof SafetyRules): SafetyRules => ({ ...ALL_RULES_ON, [rule]: false });

function twoValues(r: ScenarioResult): void {
  assert.ok(r.violations.some((v) => v.startsWith('agreement: two values chosen at 1')), `expected two values chosen at 1, got: ${r.violations.join('; ') || 'none'}\n${r.trace.join('\n')}`);
}

function safe(r: ScenarioResult): void {
  assert.deepEqual(r.violations, [], r.trace.join('\n'));
  // Whatever was chosen at 1 is learned by the rejoined A, which is VOTING again.
  const a = r.world.replicas.get(1)!.store;
  assert.equal(a.metadata().status, 'VOTING');
  const chosen = r.world.chosen.get(1);
  if (chosen !== undefined) assert.ok(a.slot(1)?.learned, 'A learned position 1');
}

test('(a) forgotten promise: closed by the writer itself, even with refuseRetired off (its write never reaches B before B promised)', () => {
  // Writes go only to members whose disk promised the writer: W6's write to B, sent before B's late promise,
  // no longer exists. refuseRetired keeps its own test below ((b) after recording).
  assert.deepEqual(forgottenPromise(off('refuseRetired')).violations, []);
});

test('(b) forgotten acceptance, X accepts between the query and the recording: catchUpAfterRecording off finds two values', () => {
  twoValues(forgottenAcceptance(off('catchUpAfterRecording'), 'afterQuery'));
});

test('(b) forgotten acceptance, X accepts between the query and the recording: safe with every rule on (A catches v up)', () => {
  const r = forgottenAcceptance(ALL_RULES_ON, 'afterQuery');
  safe(r);
  assert.equal(r.world.chosen.get(1)?.key, 'a:v');
});

test('(b) forgotten acceptance, X accepts after recording A\'s new generation: refuseRetired off finds two values', () => {
  twoValues(forgottenAcceptance(off('refuseRetired'), 'afterRecording'));
});

test('(b) forgotten acceptance, X accepts after recording: safe with every rule on (X answers stale, W6 gives up)', () => {
  safe(forgottenAcceptance(ALL_RULES_ON, 'afterRecording'));
});

test('(b) forgotten acceptance, the wiped A votes before it rejoined: nonVotingIgnores off finds two values', () => {
  twoValues(forgottenAcceptance(off('nonVotingIgnores'), 'beforeRejoin'));
});

test('(b) forgotten acceptance, the wiped A is asked to vote before it rejoined: safe with every rule on', () => {
  const r = forgottenAcceptance(ALL_RULES_ON, 'beforeRejoin');
  safe(r);
  assert.equal(r.world.chosen.get(1)?.key, 'a:v');
});

test('the scripted world gives each writer its own seeded randomness: distinct nonces, the same for the same seed', () => {
  const writers = [
    { name: 'w1', floor: 0, appends: [] },
    { name: 'w2', floor: 0, appends: [] },
    { name: 'w3', floor: 5, appends: [] },
  ];
  const nonces = (seed?: number): number[] => [...new World({ replicas: 3, writers, seed }).writers.values()].map((w) => w.core.nonce);
  const a = nonces();
  assert.equal(new Set(a).size, 3, `distinct nonces: ${a.join(', ')}`);
  assert.deepEqual(nonces(), a, 'deterministic');
  assert.deepEqual(nonces(7), nonces(7));
  assert.notDeepEqual(nonces(7), a, 'another seed, other nonces');
});
