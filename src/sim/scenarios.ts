/**
 * The two races of autorecovery (issue 6, docs/protocol.md "Replicas that lost
 * their disk"), built deterministically over the real cores (world.ts): every
 * message is delivered, held or dropped by the script.
 *
 * Replicas: r1 = A (loses its disk), r2 = X, r3 = B.
 *
 * (a) Forgotten promise. W6 (proposal 6) is elected by A and X; its promise
 *     request to B is held back. A's disk is wiped; A rejoins (X and B record
 *     its new generation) while W6's writes are still in flight. W5 (proposal
 *     5, lower) is elected by the new A and B, and gets u chosen at 1 with
 *     them. Then B receives W6's held promise request (a late promise: B
 *     promises 6 and reports u, which W6 does not look at), and W6 writes v at
 *     1 with X and B: two values chosen at 1.
 * (b) Forgotten acceptance. A accepted W6's v at 1 just before its disk was
 *     wiped. X accepts the same write only after the rejoining A read X's end
 *     (catchUpAfterRecording off: between the query and the rejoin; refuseRetired
 *     off: after X recorded A's new generation). v is chosen (by old A and X),
 *     but A's catch-up misses it; W7 is then elected by A and B and chooses x
 *     at 1: two values chosen at 1, and W6's acknowledged append is lost.
 */
import type { SafetyRules } from '../core/rules.js';
import type { Message } from '../core/types.js';
import { World, type InFlight } from './world.js';

/** A message filter: from, to, type (any may be '*'). */
export function msg(from: string, to: string, type: Message['type'] | '*'): (m: InFlight) => boolean {
  return (m) => (from === '*' || m.from === from) && (to === '*' || m.to === to) && (type === '*' || m.msg.type === type);
}

const betweenReplicas = (m: InFlight) => m.from.startsWith('r') && m.to.startsWith('r');

/** After the script: everything in flight is delivered and every node ticks, a few rounds (a calm network). */
export function settle(w: World, rounds = 8): void {
  for (let k = 0; k < rounds; k++) {
    w.deliverAll(() => true, 5_000);
    for (const id of w.members) w.tick(`r${id}`);
    for (const name of w.writers.keys()) w.tick(name);
  }
  w.deliverAll(() => true, 5_000);
}

/** Wipes r1 and lets it rejoin, delivering only replica-to-replica messages (writers' messages stay in flight). */
function rejoinA(w: World, between?: () => void): void {
  w.wipe(1);
  w.tick('r1');
  if (between === undefined) {
    w.deliverAll(betweenReplicas);
    return;
  }
  // Up to the query replies (r1 is RECOVERING with its new generation, rejoin requests in flight).
  for (let k = 0; k < 100 && w.status(1) !== 'RECOVERING'; k++) w.deliverWhere(betweenReplicas, 'recovery message');
  between();
  w.deliverAll(betweenReplicas);
}

export interface ScenarioResult {
  readonly world: World;
  readonly violations: readonly string[];
  readonly trace: readonly string[];
}

/**
 * Starts `writer` and elects it by the replicas `by` (their promise requests
 * delivered in that order); the promise to `lost`, if given, is dropped before
 * the replies arrive.
 */
function elect(w: World, writer: string, by: readonly string[], lost?: string): void {
  w.start(writer);
  for (const r of by) w.deliverWhere(msg(writer, r, 'promise'));
  if (lost !== undefined) w.drop(msg(writer, lost, 'promise'));
  w.deliverAll(msg('*', writer, 'promiseReply'));
}

function result(w: World): ScenarioResult {
  return { world: w, violations: w.violations, trace: w.lines };
}

/** Race (a), the forgotten promise. */
export function forgottenPromise(rules: SafetyRules): ScenarioResult {
  const w = new World({
    replicas: 3,
    rules,
    trace: true,
    writers: [
      { name: 'w6', floor: 5, appends: ['v'] },
      { name: 'w5', floor: 4, appends: ['u'] },
    ],
  });
  // W6 elected by A and X; its promise request to B is held back.
  elect(w, 'w6', ['r1', 'r2']);
  // A's disk is lost; it rejoins while W6's writes are in flight.
  rejoinA(w);
  // W5 (lower) elected by the new A and B; u chosen at 1 by them. Its commits are held.
  elect(w, 'w5', ['r1', 'r3']);
  w.deliverWhere(msg('w5', 'r1', 'write'));
  w.deliverWhere(msg('w5', 'r3', 'write'));
  w.deliverAll(msg('*', 'w5', 'writeReply'));
  w.drop(msg('w5', '*', 'promise'));
  w.drop(msg('w5', '*', 'commit'));
  // B gets W6's held promise request: a late promise, W6 now counts B.
  w.deliverWhere(msg('w6', 'r3', 'promise'));
  w.deliverAll(msg('r3', 'w6', 'promiseReply'));
  // W6 writes v at 1: X (stale if refuseRetired: W6 drops A and resends), then X and B.
  w.drop(msg('w6', 'r1', 'write'));
  w.deliverAll((m) => (m.from === 'w6' && (m.to === 'r2' || m.to === 'r3') && m.msg.type === 'write') || (m.to === 'w6' && m.msg.type === 'writeReply'));
  settle(w);
  return result(w);
}

/**
 * Race (b), the forgotten acceptance. `late`: when X accepts W6's write —
 * 'afterQuery' (between the rejoin's query and X recording A's new generation;
 * caught by catchUpAfterRecording), 'afterRecording' (after X recorded it;
 * caught by refuseRetired), or 'beforeRejoin' (A was wiped and W7 asks it to
 * vote before it rejoined at all; caught by nonVotingIgnores).
 */
export function forgottenAcceptance(rules: SafetyRules, late: 'afterQuery' | 'afterRecording' | 'beforeRejoin'): ScenarioResult {
  const w = new World({
    replicas: 3,
    rules,
    trace: true,
    writers: [
      { name: 'w6', floor: 5, appends: ['v'] },
      { name: 'w7', floor: 6, appends: ['x'] },
    ],
  });
  // W6 elected by A and X (its promise to B is lost).
  elect(w, 'w6', ['r1', 'r2'], 'r3');
  // A accepts [NOP@0, v@1] just before its disk is lost; the write to B is lost.
  w.deliverWhere(msg('w6', 'r1', 'write'));
  w.deliverAll(msg('r1', 'w6', 'writeReply'));
  w.drop(msg('w6', 'r3', 'write'));
  const xAccepts = () => {
    w.deliverWhere(msg('w6', 'r2', 'write'));
    w.deliverAll((m) => m.to === 'w6' && m.msg.type === 'writeReply');
    // W6's commits and retransmissions are lost: only A (wiped) and X hold v.
    w.drop(msg('w6', '*', '*'));
  };
  if (late === 'beforeRejoin') {
    // The wiped A has not even started its rejoin: X accepts now, and A (EMPTY) is asked to vote at once.
    w.wipe(1);
    xAccepts();
  } else if (late === 'afterQuery') rejoinA(w, xAccepts);
  else {
    // X records A's new generation, then accepts W6's write (naming A's old disk).
    rejoinA(w, () => {
      w.deliverWhere(msg('r1', 'r2', 'rejoin'));
      xAccepts();
    });
  }
  // W7 elected by the new A and B: neither holds v.
  w.start('w7');
  w.drop(msg('w7', 'r2', '*'));
  w.deliverAll((m) => (m.from === 'w7' && m.to !== 'r2') || m.to === 'w7');
  settle(w);
  return result(w);
}
