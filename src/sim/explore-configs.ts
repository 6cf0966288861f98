/**
 * The exhaustive search's configurations, by name (explore.ts): each a
 * bounded case of its own, chosen so that one class of hole found by the
 * adversarial review of autorecovery (issue 10) lies inside it, kept small
 * enough to finish (one or two writers, two positions, a few ticks).
 *
 * `breaks` lists the switches that make the configuration fail: a safety
 * rule (src/core/rules.ts) switched off, or a world option that models the
 * fix switched off where no rule covers it (the restart check, the storage
 * layer's reading of a damaged tail). Each is shown to find a violation in
 * test/sim/explore-configs.test.ts; `extra` options narrow the case for it.
 */
import { ALL_RULES_ON, type SafetyRules } from '../core/rules.js';
import type { ExploreOptions, Fault } from './explore.js';
import type { WorldWriter } from './world.js';

export interface ExploreBreak {
  /** What is switched off, as the docs say it. */
  readonly name: string;
  /** 'rule': a safety rule off; 'fix': a world option modelling a fix off. */
  readonly kind: 'rule' | 'fix';
  /** The options that switch it off (and narrow the case, if needed). */
  readonly options: ExploreOptions;
}

export interface ExploreConfig {
  readonly name: string;
  /** The hole of issue 10 it holds, and its bounds, in words. */
  readonly what: string;
  readonly options: ExploreOptions;
  /** The search stops after this many states in `npm test` (undefined: complete there too). */
  readonly testCap?: number;
  readonly breaks: readonly ExploreBreak[];
  /** Why no switch of SafetyRules applies, when none does. */
  readonly noRule?: string;
  /** Switches the design lists for this configuration that the search did not break within its bounds, and what was tried. */
  readonly unreached?: string;
}

const off = (rule: keyof SafetyRules): SafetyRules => ({ ...ALL_RULES_ON, [rule]: false });
const rule = (r: keyof SafetyRules, extra: ExploreOptions = {}): ExploreBreak => ({ name: r, kind: 'rule', options: { ...extra, rules: off(r) } });
const NO_START_RULE =
  'no safety rule covers the two-phase start: its guard (recovery.ts, decideInit: every member answered, none holds data, fewer than a quorum may have voted) ' +
  'has no switch in SafetyRules, and the rules that exist act on promises and writes, which a writer sends only once a quorum is VOTING. ' +
  'The start-over-data invariant is shown to fire where the protocol says it cannot hold (every disk lost): explore-configs.test.ts';

const ONE_WRITER = [{ name: 'w1', floor: 0, appends: ['a1'] }] as const;

/** Settings every configuration shares (see docs/simulator.md, "Exhaustive search"). */
const COMMON: ExploreOptions = {
  // Chosen = what a proposer counted (core-regressions.test.ts has the classic definition, which the search breaks).
  chosenBy: 'counted',
  // Promise requests and replies arriving after their writer's election are dropped (see explore.ts).
  latePromises: false,
};

// ------------------------------------------------------------ configuration changes (docs/reconfiguration.md, section 9)

/** w1 of `swap`: appends a1, then swaps voter 3 for learner 4, then appends b1 (held back by R2 until the swap is installed). */
const SWAP_W1: WorldWriter = { name: 'w1', floor: 0, appends: ['a1'], change: { id: 'swap', ifEpoch: 0, change: { kind: 'replace', old: 3, replacement: 4 } }, after: ['b1'] };
/** A second writer of the bootstrap configuration, with a higher ballot: it elects at any point of the change. */
const W2: WorldWriter = { name: 'w2', floor: 1, appends: ['a2'] };
/** Learner 4 catches up (copies what r1 learned: its repair, gossip aside) at any point at which r1 learned more, or never. */
const CATCH_UP_4: Fault = { kind: 'copy', id: 4, from: 1 };

/** Voters 1..3 and learner 4 holding the bootstrap chain; commits delivered (a learned prefix is what R3 asks of a new voter). */
const CHAINED: ExploreOptions = { ...COMMON, learners: [4], commits: true };

/** `duel`'s writers: w1 promotes learner 4, w2 removes voter 3, both from epoch 0, neither with an append. */
const DUEL_WRITERS: readonly WorldWriter[] = [
  { name: 'w1', floor: 0, appends: [], change: { id: 'promote', ifEpoch: 0, change: { kind: 'promote', id: 4 } } },
  { name: 'w2', floor: 1, appends: [], change: { id: 'remove', ifEpoch: 0, change: { kind: 'remove', id: 3 } } },
];

/**
 * `floor`'s writers: w1 (b2) appends a1 and b1 and is deposed before the change (its values, accepted by a
 * minority, are leftovers above the entry); w2 (b3) moves {1, 2, 3} to {1, 4, 5}; w3, a writer of the new
 * configuration (it reads r2's chain when it starts) with a low floor (b1, below w1's ballot).
 */
const FLOOR_WRITERS: readonly WorldWriter[] = [
  { name: 'w1', floor: 1, appends: ['a1', 'b1'] },
  { name: 'w2', floor: 2, appends: [], change: { id: 'move', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } } },
  { name: 'w3', floor: 0, appends: ['c3'], seed: 2 },
];
/** Learners 4 and 5 catch up from r2 (their repair) at any point at which r2 learned more, or never: twice each (below the entry, then the entry). */
const CATCH_UP_45_TWICE: readonly Fault[] = [4, 5, 4, 5].map((id) => ({ kind: 'copy', id, from: 2 }) as const);

/** w1 of `truncate-past`: as `swap`'s w1, then TRUNCATE(3) at 5, past the entry at 2 (the writer names config(3)'s head on it, R14). */
const TRUNCATE_W1: WorldWriter = { ...SWAP_W1, truncate: 3 };
/** The removed voter 3 catches up from r1 (its repair: a copy of r1's learned values, from r1's beginning) at any point at which r1 learned more, or never. */
const CATCH_UP_3: Fault = { kind: 'copy', id: 3, from: 1 };

export const EXPLORE_CONFIGS: readonly ExploreConfig[] = [
  {
    name: 'classic',
    what: 'ids 1..3; w1 (b1, a1) at once, w2 (b2, a2) once r1 is VOTING again; one wipe of r1 at any point',
    options: { ...COMMON, startedAtOnce: ['w1'], startAfter: { w2: 'rejoined' } },
    breaks: [rule('catchUpAfterRecording'), rule('refuseRetired'), rule('nonVotingIgnores', { startAfter: { w2: 'wiped' } })],
  },
  {
    name: 'successive',
    what: 'two successive disk losses, the second a peer\'s: r1 wiped at any point, r2 wiped once r1 is VOTING again; w1 at once, w2 once r2 was wiped',
    options: { ...COMMON, startedAtOnce: ['w1'], startAfter: { w2: 'wiped' }, faults: [{ kind: 'wipe', id: 1 }, { kind: 'wipe', id: 2, after: 'settled' }] },
    breaks: [rule('catchUpAfterRecording'), rule('refuseRetired')],
  },
  {
    name: 'ids',
    what: 'member ids 2, 5, 9, every core (replicas, writers, each restart) given the members in an order of its own; one wipe of r5; w1 at once, w2 once r5 is VOTING again',
    options: { ...COMMON, ids: [2, 5, 9], shuffledMembers: true, startedAtOnce: ['w1'], startAfter: { w2: 'rejoined' }, faults: [{ kind: 'wipe', id: 5 }] },
    breaks: [rule('catchUpAfterRecording'), rule('refuseRetired'), rule('honourPromise')],
  },
  {
    name: 'start-late',
    what: 'a cluster born from empty disks, r3 down at time 0 and started at any point; r1 wiped at any point after; w1 (a1) once a quorum is VOTING',
    options: { ...COMMON, writers: ONE_WRITER, startEmpty: true, down: [3], startAfter: { w1: 'voting' }, faults: [{ kind: 'up', id: 3 }, { kind: 'wipe', id: 1 }], replicaTicks: 3 },
    breaks: [],
    noRule: NO_START_RULE,
  },
  {
    name: 'start-loss',
    what: 'a cluster born from empty disks; r1 wiped at any point (during the start or after), then r2 wiped at any point; w1 (a1) once a quorum is VOTING',
    options: { ...COMMON, writers: ONE_WRITER, startEmpty: true, startAfter: { w1: 'voting' }, faults: [{ kind: 'wipe', id: 1 }, { kind: 'wipe', id: 2 }], replicaTicks: 3 },
    breaks: [],
    noRule: NO_START_RULE,
  },
  {
    name: 'restore',
    what: 'a backup of r1 taken at any point, restored at any later point at which its peers can unmask it; w1 at once, w2 once it was restored',
    options: { ...COMMON, startedAtOnce: ['w1'], startAfter: { w2: 'wiped' }, faults: [{ kind: 'backup', id: 1 }, { kind: 'restore', id: 1 }] },
    breaks: [
      { name: 'restart check (world option restartCheck: false)', kind: 'fix', options: { restartCheck: false } },
      rule('nonVotingIgnores'),
      rule('honourPromise'),
    ],
  },
  {
    name: 'tail',
    what: 'the last record of r1 damaged at any point (key holding or not) and r1 restarted on it; w1 at once, w2 after the damage; three positions (w2 settles a position r1 forgot with a NOP, then appends)',
    options: { ...COMMON, startedAtOnce: ['w1'], startAfter: { w2: 'wiped' }, faults: [{ kind: 'corruptTail', id: 1 }], positionLimit: 3 },
    breaks: [
      { name: 'damaged tail cut as a torn write (world option tailDamage: \'torn\')', kind: 'fix', options: { tailDamage: 'torn' } },
      rule('honourPromise'),
    ],
  },
  {
    name: 'swap',
    what:
      'voters 1..3, learner 4; w1 (b1) at once: a1, then replaces 3 by 4, then b1; learner 4 catches up from r1 at any point (or never); ' +
      'w2 (b2, a2) elects at any point; five positions (NOP, a1, the entry, the marker NOP, b1); commits delivered',
    options: { ...CHAINED, writers: [SWAP_W1, W2], startedAtOnce: ['w1'], faults: [CATCH_UP_4], positionLimit: 5 },
    breaks: [
      // One writer is enough for each (w1 alone breaks the rule); two make the first violation a long way down the search.
      rule('configBarrier', { writers: [SWAP_W1] }),
      rule('freshElection', { writers: [SWAP_W1] }),
      // Learner 4 never catches up: the entry is counted chosen by the old voters alone (I6).
      rule('jointAcceptance', { writers: [SWAP_W1], faults: [] }),
      // Learner 4 never catches up but accepts the entry all the same, and is counted ready (I6).
      rule('caughtUpToAccept', { writers: [SWAP_W1], faults: [] }),
    ],
  },
  {
    name: 'duel',
    what:
      'voters 1..3, learner 4; w1 (b1) promotes 4, w2 (b2) removes 3, both from epoch 0, each starting at any point (the Raft 2015 single-server bug); ' +
      'learner 4 catches up from r1 at any point (or never); four positions; commits delivered',
    options: { ...CHAINED, writers: DUEL_WRITERS, faults: [CATCH_UP_4], positionLimit: 4 },
    breaks: [
      // w2 finds w1's entry and re-proposes it as any value, counting it without the joint count (I6); learner 4 never catches up.
      rule('followPending', { faults: [], commits: false, startedAtOnce: ['w1'] }),
      // w2, stale (b2 in epoch 0), starts once a replica learned w1's promotion and writes above it through replicas that learned it.
      rule('staleConfig', { startAfter: { w2: 'changed' } }),
    ],
  },
  {
    name: 'swap-wipe',
    what: 'as swap, and r1 (a voter of both configurations) wiped at any point after learner 4 caught up (or never); it rejoins',
    options: { ...CHAINED, writers: [SWAP_W1, W2], startedAtOnce: ['w1'], faults: [CATCH_UP_4, { kind: 'wipe', id: 1 }], positionLimit: 5 },
    breaks: [],
    unreached:
      'rejoinInPending (R9b): not found within 8,000 states with w1 alone; with w2 reading r2\'s chain (a writer of the new configuration) and six positions, ' +
      'a run stopped after 10 minutes without a result; caughtUpToAccept not found with the wipe within 20,000 (it breaks swap). ' +
      'The scripted core test (test/core/reconfig-recovery.test.ts) shows R9b\'s effect on the rejoin; an end-to-end violation is deeper than these bounds',
  },
  {
    name: 'stale-fill',
    what:
      'as swap with w1 alone (a1, the swap of 3 for 4 at 2, then b1), learner 4 not caught up; once a replica learned the swap, reader rd1, ' +
      'with the chain r3 (the removed voter) holds then, reads [3, 4] above the entry at any point, one tick: its quorum of old voters may hold nothing there',
    options: {
      ...CHAINED,
      writers: [SWAP_W1],
      readers: [{ name: 'rd1', from: 3, to: 4, seed: 3, floor: 2 }],
      startedAtOnce: ['w1'],
      startAfter: { rd1: 'changed' },
      faults: [],
      positionLimit: 5,
    },
    // R5 (reads wait for a pending entry's fate): the read answers through 2, without b1 acknowledged at 4 by r1 and r4
    // (test/sim/stale-reader-above-entry.test.ts scripts it; the search found it with the rule on, before the reader's fix).
    breaks: [rule('followPending')],
    unreached:
      'fillFromLearned (R5): not found (9,245 states, complete, no catch-up; 60,000 with learner 4 catching up): the read\'s own fill ' +
      'starts at the stop sign the replies report, which this world\'s replies always carry',
  },
  {
    name: 'restore-across',
    what:
      'as swap without a1 (w1: the swap, then b1), a backup of r1 taken at any point and restored at any later point at which its peers can unmask it; ' +
      'w2 (b4, a2) starts once r1 was restored, reading r2\'s chain (it elects in the new configuration if r2 learned it)',
    options: {
      ...CHAINED,
      writers: [{ ...SWAP_W1, appends: [] }, { name: 'w2', floor: 3, appends: ['a2'], seed: 2 }],
      startedAtOnce: ['w1'],
      startAfter: { w2: 'wiped' },
      faults: [CATCH_UP_4, { kind: 'backup', id: 1 }, { kind: 'restore', id: 1 }],
      positionLimit: 5,
    },
    breaks: [],
    unreached:
      'restartCheckLatest (R9d): not found within 15,000 states (with a1 as well, within 15,000): a violation needs r1 restored across the change to pass a check ' +
      'that only the removed r3 and r2 answer while r4 alone saw its newer promise, then w2 to elect over r1 and r2 in the new configuration: deeper than these bounds',
  },
  {
    name: 'floor',
    what:
      'voters 1..3, learners 4 and 5; opening: w1 (b2) is elected by r1 and r2, writes NOP, a1, b1 at 0..2 to r1 only, and is deposed (leftovers on r1, ' +
      'a voter of both configurations); w2 (b3) moves {1,2,3} to {1,4,5} (from the start; its messages delivered in any order); learners 4 and 5 ' +
      'catch up from r2 at any point, twice each (or never); once a replica learned the move, w3 (b1, below w1\'s ballot; c3), reading r2\'s chain, ' +
      'elects in the new configuration; five positions; commits delivered',
    options: {
      ...COMMON,
      learners: [4, 5],
      commits: true,
      writers: FLOOR_WRITERS,
      startedAtOnce: ['w2'],
      deposed: [{ w: 'w1', electedBy: [1, 2], wroteTo: [1] }],
      startAfter: { w3: 'changed' },
      faults: CATCH_UP_45_TWICE,
      positionLimit: 5,
    },
    // Five replicas and three writers: 2,000 states take about 12 s of CPU; the whole search completes in 29,347 states (about 350 s).
    testCap: 2_000,
    // R6's floor off: w2 chooses its entry at 1 under b3 (r2, r3 and, jointly, r4, r5); r4 and r5 learn it (copy); w3 (b1) elects over
    // r4 and r5 and chooses a NOP at 2 under b1, below w1's leftover b1@2 (b2) on r1; w2's install election (b4) over r1 and r4 takes the
    // leftover (b2 > b1) and chooses it: two values at 2 (I1; 637 states). Narrowed: w2's election promise to r1 is lost, so w2 elects
    // without the leftovers (else it re-proposes them below its entry); without this loss the search finds it after 23,824 states.
    breaks: [rule('configFloor', { lost: [{ from: 'w2', to: 'r1', type: 'promise' }] })],
  },
  {
    name: 'truncate-past',
    what:
      'as swap (w1: a1, the swap of 3 for 4 at 2, b1; w2 elects at any point), then w1 truncates to 3 (TRUNCATE at 5, past the entry); ' +
      'learner 4 catches up from r1 at any point (or never), then the removed voter 3 copies r1\'s learned values at any point (or never); ' +
      'a copy taken after r1 learned the TRUNCATE starts at r1\'s beginning (3): it holds the TRUNCATE but not the entry; six positions; commits delivered',
    options: { ...CHAINED, writers: [TRUNCATE_W1, W2], startedAtOnce: ['w1'], faults: [CATCH_UP_4, CATCH_UP_3], positionLimit: 6 },
    // R14 (docs: chainWithBegin; SafetyRules.chainBeforeTruncate) off, w1 alone: r1 and r2 learn everything through the TRUNCATE at 5
    // (begin 3); learner 4, which never learned the entry at 2, copies r1's learned values 3..5 and takes the TRUNCATE: it begins at 3
    // with the bootstrap chain alone (I8; 19 states). With the rule on it keeps the TRUNCATE waiting until it holds config(3).
    breaks: [rule('chainBeforeTruncate', { writers: [TRUNCATE_W1] })],
  },
];

export function exploreConfig(name: string): ExploreConfig {
  const c = EXPLORE_CONFIGS.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no exploration configuration '${name}' (known: ${EXPLORE_CONFIGS.map((x) => x.name).join(', ')})`);
  return c;
}
