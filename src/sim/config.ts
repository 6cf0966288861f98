/**
 * The shape of one run, drawn from its seed: cluster size, clients, how
 * hostile the network is and how often each fault strikes. Rates are per
 * second of simulated time during the fault phase; after it, faults stop, the
 * network calms down and liveness is checked.
 */
import { ALL_RULES_ON, type SafetyRules } from '../core/rules.js';
import type { NetworkFaults } from './network.js';
import type { Prng } from './prng.js';

export interface SimConfig {
  readonly replicas: 3 | 5;
  /** Writer clients (the first appends most; others take over at random times). */
  readonly writers: number;
  readonly readers: number;
  /** How long faults are injected, in ms. */
  readonly faultPhaseMs: number;
  readonly network: NetworkFaults;
  /** Mean ms between two actions of one client. */
  readonly clientGapMs: number;
  /** Faults per second of the fault phase. */
  readonly crashRate: number;
  readonly partitionRate: number;
  readonly takeoverRate: number;
  /** Probability that a crashed replica's disk is wiped / a record corrupted (within the damage budget). */
  readonly wipeChance: number;
  readonly corruptChance: number;
  /** Probability that a crashed replica's metadata is damaged (it restarts RECOVERING and rejoins). */
  readonly corruptMetaChance: number;
  /** fsync latency range [min, max] ms. */
  readonly syncMinMs: number;
  readonly syncMaxMs: number;
  readonly rules: SafetyRules;
}

/** The rules that only a lost disk can break: with one of them off, runs lean toward wipes and contention. */
const REJOIN_RULES = ['nonVotingIgnores', 'refuseRetired', 'catchUpAfterRecording'] as const;

/** Draws a configuration; `rules` is for the rule-switch tests only. */
export function drawConfig(prng: Prng, rules: SafetyRules = ALL_RULES_ON): SimConfig {
  if (REJOIN_RULES.some((r) => !rules[r])) return drawRejoinConfig(prng, rules);
  const replicas = prng.chance(0.6) ? 3 : 5;
  const delayMaxMs = prng.pick([2, 5, 20, 60]);
  return {
    replicas,
    writers: prng.pick([1, 2, 2, 3]),
    readers: prng.int(1, 2),
    faultPhaseMs: prng.int(2_000, 8_000),
    network: {
      lossRate: prng.pick([0, 0.01, 0.05, 0.15]),
      dupRate: prng.pick([0, 0.01, 0.05]),
      delayMinMs: 1,
      delayMaxMs,
      slowRate: prng.pick([0, 0.02, 0.1]),
      slowMaxMs: delayMaxMs + prng.pick([100, 500, 1500]),
    },
    clientGapMs: prng.pick([20, 60, 150]),
    crashRate: prng.pick([0, 0.3, 1, 3]),
    partitionRate: prng.pick([0, 0.3, 1, 3]),
    takeoverRate: prng.pick([0.2, 1, 3]),
    wipeChance: prng.pick([0, 0.1, 0.3]),
    corruptChance: prng.pick([0, 0, 0.1]),
    corruptMetaChance: prng.pick([0, 0, 0.1]),
    syncMinMs: 0,
    syncMaxMs: prng.pick([1, 5, 20]),
    rules,
  };
}

/**
 * With a rejoin rule off: three replicas, several writers taking over often,
 * frequent crashes that usually wipe the disk, slow and reordered messages.
 * Runs with every rule on never use this shape (their seeds are unchanged).
 */
function drawRejoinConfig(prng: Prng, rules: SafetyRules): SimConfig {
  const delayMaxMs = prng.pick([5, 20, 60]);
  return {
    replicas: 3,
    writers: prng.pick([2, 3]),
    readers: 1,
    faultPhaseMs: prng.int(4_000, 8_000),
    network: { lossRate: prng.pick([0.05, 0.15, 0.3]), dupRate: 0.01, delayMinMs: 1, delayMaxMs, slowRate: prng.pick([0.2, 0.4]), slowMaxMs: delayMaxMs + prng.pick([1500, 3000]) },
    clientGapMs: prng.pick([20, 60]),
    crashRate: prng.pick([1, 3]),
    partitionRate: prng.pick([0, 1, 3]),
    takeoverRate: prng.pick([1, 3]),
    wipeChance: prng.pick([0.5, 0.8]),
    corruptChance: 0,
    corruptMetaChance: prng.pick([0, 0.2]),
    syncMinMs: 0,
    syncMaxMs: prng.pick([5, 20]),
    rules,
  };
}

export function describeConfig(c: SimConfig): string {
  const n = c.network;
  return (
    `replicas=${c.replicas} writers=${c.writers} readers=${c.readers} faults=${c.faultPhaseMs}ms ` +
    `loss=${n.lossRate} dup=${n.dupRate} delay=${n.delayMinMs}-${n.delayMaxMs}ms slow=${n.slowRate}/${n.slowMaxMs}ms ` +
    `crash=${c.crashRate}/s partition=${c.partitionRate}/s takeover=${c.takeoverRate}/s wipe=${c.wipeChance} ` +
    `corrupt=${c.corruptChance} corruptMeta=${c.corruptMetaChance} fsync=${c.syncMinMs}-${c.syncMaxMs}ms gap=${c.clientGapMs}ms`
  );
}
