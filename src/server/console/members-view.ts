/**
 * The member table: one row per member, built from what this replica knows
 * of each. Pure (the clock is an argument), so the 5-second rule is tested
 * without a cluster.
 *
 * Sources, freshest first:
 * - itself: its store and host;
 * - a probe reply: the `recover` request the console sends each peer over
 *   the replica port, the question `replog status` asks (status, begin, end,
 *   catch-up progress);
 * - state gossip: the `peerState` each peer sends every 500 ms (status,
 *   generation, begin, end, learned prefix).
 * A peer is UNREACHABLE when nothing came from it within UNREACHABLE_AFTER_MS
 * and the probe's connection to it is down (a stopped process closes it at
 * once), or when nothing came for SILENT_LIMIT_MS even though the connection
 * stays open (a hung process, a machine gone without closing its sockets). An
 * overloaded peer whose answers wait for slow syncs keeps its connection and
 * is not declared down for a few seconds of silence.
 */
import type { PeerStateMessage, Status } from '../../core/types.js';

/** Silence after which a peer whose connection is down is UNREACHABLE: gossip comes every 500 ms and a probe answer every second; plus one refresh period it stays under the 5 s promised (interfaces.md). */
export const UNREACHABLE_AFTER_MS = 2500;
/** Silence after which a peer is UNREACHABLE even with its connection open. */
export const SILENT_LIMIT_MS = 10_000;

export type MemberStatus = Status | 'UNREACHABLE';

export interface RecoveryRow {
  /** Positions of the catch-up range learned so far, and the range's size. */
  readonly done: number;
  readonly total: number;
  /** Bytes copied (known for this replica only). */
  readonly bytes: number | null;
  /** Positions a second over the last samples, and the time left at that rate; null until measured. */
  readonly ratePerSec: number | null;
  readonly etaSeconds: number | null;
}

export interface MemberRow {
  readonly id: number;
  readonly address: string;
  /** Its role in the configuration this replica holds: only voters count for the quorum. */
  readonly role: 'voter' | 'learner';
  /** The replica serving this view. */
  readonly self: boolean;
  readonly status: MemberStatus;
  readonly generation: number | null;
  readonly begin: number | null;
  readonly end: number | null;
  readonly learnedThrough: number | null;
  /** Positions behind the highest end known in the cluster, and how long ago the cluster passed this member's end (s). */
  readonly lagPositions: number | null;
  readonly lagSeconds: number | null;
  /** Time since this replica last heard from the member (0 for itself), null if never. */
  readonly lastContactMs: number | null;
  readonly recovery: RecoveryRow | null;
}

export interface ProbeReply {
  /** When it arrived, on the same clock as `now`. */
  readonly at: number;
  readonly status: Status;
  readonly begin: number;
  readonly end: number;
  readonly generation: number;
  readonly progress: { readonly done: number; readonly total: number } | null;
}

export interface SelfState {
  readonly id: number;
  readonly status: Status;
  readonly generation: number;
  readonly begin: number;
  readonly end: number;
  readonly learnedThrough: number;
  readonly progress: { readonly done: number; readonly total: number; readonly bytes: number } | null;
}

export interface ViewInputs {
  readonly now: number;
  /** Every member of the configuration this replica holds (voters and learners), by id. */
  readonly members: Readonly<Record<number, string>>;
  /** Those of them that are learners (none before a change adds one). */
  readonly learners?: ReadonlySet<number>;
  readonly self: SelfState;
  readonly gossip: ReadonlyMap<number, { readonly state: PeerStateMessage; readonly at: number }>;
  readonly probes: ReadonlyMap<number, ProbeReply>;
  /** Peers the probe is connected to now. */
  readonly connected?: ReadonlySet<number>;
  /** Progress rate per member (see RecoveryRates). */
  readonly rates?: ReadonlyMap<number, number>;
  /** Seconds since the cluster's highest end first exceeded `end` (see EndHistory). */
  readonly lagSecondsFor?: (end: number) => number | null;
}

interface Known {
  status: Status;
  generation: number | null;
  begin: number;
  end: number;
  learnedThrough: number | null;
  at: number;
  progress: { done: number; total: number; bytes: number | null } | null;
}

function knownOf(id: number, inp: ViewInputs): Known | undefined {
  const s = inp.self;
  if (id === s.id) return { ...s, at: inp.now, progress: s.progress };
  const g = inp.gossip.get(id);
  const p = inp.probes.get(id);
  const fresh = (at: number | undefined) => at !== undefined && inp.now - at <= UNREACHABLE_AFTER_MS;
  const gossip: Known | undefined = g && { status: g.state.status, generation: g.state.generation, begin: g.state.begin, end: g.state.end, learnedThrough: g.state.learnedThrough, at: g.at, progress: null };
  if (p !== undefined && fresh(p.at)) {
    // The probe answers `replog status`'s question; gossip adds what the probe lacks.
    return { status: p.status, generation: p.generation, begin: p.begin, end: p.end, learnedThrough: gossip?.learnedThrough ?? null, at: Math.max(p.at, g?.at ?? -Infinity), progress: p.progress && { ...p.progress, bytes: null } };
  }
  if (gossip !== undefined) return gossip;
  return p && { status: p.status, generation: p.generation, begin: p.begin, end: p.end, learnedThrough: null, at: p.at, progress: null };
}

export function memberRows(inp: ViewInputs): MemberRow[] {
  const ids = Object.keys(inp.members).map(Number).sort((a, b) => a - b);
  const known = new Map(ids.map((id) => [id, knownOf(id, inp)]));
  const silentLimit = (id: number) => (id === inp.self.id || inp.connected?.has(id) ? SILENT_LIMIT_MS : UNREACHABLE_AFTER_MS);
  const reachable = (id: number) => {
    const k = known.get(id);
    return k !== undefined && inp.now - k.at <= silentLimit(id);
  };
  const ends = ids.filter(reachable).map((id) => known.get(id)!.end);
  const highest = ends.length === 0 ? null : Math.max(...ends);
  return ids.map((id) => {
    const k = known.get(id);
    const up = reachable(id);
    const lastContactMs = k === undefined ? null : Math.max(0, inp.now - k.at);
    const role = inp.learners?.has(id) === true ? ('learner' as const) : ('voter' as const);
    const base = { id, address: inp.members[id]!, role, self: id === inp.self.id, lastContactMs };
    if (!up || k === undefined) {
      return { ...base, status: 'UNREACHABLE', generation: k?.generation ?? null, begin: null, end: null, learnedThrough: null, lagPositions: null, lagSeconds: null, recovery: null };
    }
    const lagPositions = highest === null ? 0 : Math.max(0, highest - k.end);
    const rate = inp.rates?.get(id) ?? null;
    const recovery: RecoveryRow | null =
      k.progress === null
        ? null
        : { ...k.progress, ratePerSec: rate, etaSeconds: rate !== null && rate > 0 ? Math.max(0, k.progress.total - k.progress.done) / rate : null };
    return {
      ...base,
      status: k.status,
      generation: k.generation,
      begin: k.begin,
      end: k.end,
      learnedThrough: k.learnedThrough,
      lagPositions,
      lagSeconds: lagPositions === 0 ? 0 : (inp.lagSecondsFor?.(k.end) ?? null),
      recovery,
    };
  });
}
