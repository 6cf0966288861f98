/**
 * The fault schedule of a run, from its seed alone (pure: same seed, same
 * schedule). Two lanes run side by side: link faults (partitions of several
 * shapes) and process faults (kill, pause, wipe, corrupt, power-loss,
 * disk-full), each fault held
 * for a while and then healed before the next one in its lane. The last
 * stretch of the run is calm, so the log recovers before the final read.
 */
import { Prng } from '../sim/prng.js';
import type { Cuts, Host } from './bed.js';

/** The faults a run injects unless told otherwise. */
export const FAULT_KINDS = ['partition', 'pause', 'kill', 'wipe', 'corrupt', 'power-loss', 'disk-full'] as const;
/**
 * Every fault a run knows: the defaults, and `replace` (a membership change: the member of a slot is
 * removed, its disk wiped, and a new member added at its address, caught up and promoted, with the
 * CLI), asked for by name so that the default schedules of the seeds stay what they were.
 */
export const ALL_FAULT_KINDS = [...FAULT_KINDS, 'replace'] as const;
export type FaultKind = (typeof ALL_FAULT_KINDS)[number];

export type Fault =
  | { readonly kind: 'partition'; readonly shape: string; readonly cuts: Cuts }
  | { readonly kind: 'pause'; readonly target: Host }
  /** SIGKILL, then a restart when healed: one replica, or now and then a majority at once (a power cut). */
  | { readonly kind: 'kill'; readonly targets: readonly number[] }
  | { readonly kind: 'wipe'; readonly target: number }
  /** `replog member remove` of the slot's member, its disk wiped, `replog member add NEW --voter` at the same address. */
  | { readonly kind: 'replace'; readonly target: number }
  /** SIGKILL, every file cut back to what was fsynced (power-loss.ts), a restart when healed: one replica, or all. */
  | { readonly kind: 'power-loss'; readonly targets: readonly number[] }
  /** The replica's disk (a small tmpfs, disks.ts) filled to the last byte, emptied when healed. */
  | { readonly kind: 'disk-full'; readonly target: number }
  | { readonly kind: 'corrupt'; readonly target: number; readonly file: number; readonly at: number; readonly bytes: number };

export interface ScheduledFault {
  /** ms after the run's start. */
  readonly at: number;
  /** How long it is held before it is healed, ms. */
  readonly holdMs: number;
  readonly fault: Fault;
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly timeMs: number;
  readonly replicaIds: readonly number[];
  readonly faults: readonly FaultKind[];
  /** No fault starts before this (the cluster forms, writers elect). */
  readonly warmupMs?: number;
  /** No fault is held past timeMs - calmMs. */
  readonly calmMs?: number;
}

export function makeSchedule(o: ScheduleOptions): ScheduledFault[] {
  const rng = new Prng(o.seed);
  const warm = o.warmupMs ?? 3000;
  const end = o.timeMs - (o.calmMs ?? 12_000);
  const out: ScheduledFault[] = [];
  const link = o.faults.filter((k) => k === 'partition');
  const proc = o.faults.filter((k) => k !== 'partition');
  // Each lane draws from its own generator, so turning one lane off does not change the other's faults.
  for (const [lane, kinds] of [[0, link], [1, proc]] as const) {
    const r = new Prng((rng.next32() ^ (lane * 0x9e3779b9)) >>> 0);
    if (kinds.length === 0) continue;
    let t = warm + r.int(0, 2000);
    while (true) {
      // Mostly short; now and then longer than a client's 10 s quorum deadline, so writers end up in doubt.
      const holdMs = r.chance(0.25) ? r.int(6000, 14_000) : r.int(1000, 6000);
      if (t + holdMs > end) break;
      const fault = drawFault(r, r.pick(kinds), o.replicaIds);
      // A full disk is held 2-6 s: long enough for writes to fail and the replica to pause, short enough to
      // leave room for other faults (derived from the draw, so the other kinds' schedules stay as they were).
      const hold = fault.kind === 'disk-full' ? 2000 + (holdMs % 4000) : holdMs;
      if (t + hold > end) break;
      out.push({ at: t, holdMs: hold, fault });
      t += hold + r.int(500, 3000);
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

function drawFault(r: Prng, kind: FaultKind, ids: readonly number[]): Fault {
  const target = r.pick(ids);
  switch (kind) {
    case 'partition':
      return drawPartition(r, ids);
    case 'pause':
      // A paused writer: the whole workload process (every client) now and then.
      return { kind, target: r.chance(0.2) ? 'client' : target };
    case 'kill':
      return { kind, targets: r.chance(0.3) ? r.shuffle(ids).slice(0, Math.floor(ids.length / 2) + 1).sort() : [target] };
    case 'wipe':
    case 'disk-full':
    case 'replace':
      return { kind, target };
    case 'power-loss':
      // All at once is the case that matters most: no replica remembers what the others forgot.
      return { kind, targets: r.chance(0.5) ? [...ids] : [target] };
    case 'corrupt':
      return { kind, target, file: r.next32(), at: r.float(), bytes: r.pick([16, 512, 4096]) };
  }
}

/** Every pair with one host in `a` and the other in `b`. */
function across(a: readonly Host[], b: readonly Host[]): [Host, Host][] {
  return a.flatMap((x) => b.map((y): [Host, Host] => [x, y]));
}

function drawPartition(r: Prng, ids: readonly number[]): Fault {
  const order = r.shuffle(ids);
  const shapes = ['isolate-one', 'minority-majority', 'bridge', 'ring', 'client-cut', 'client-minority'];
  const shape = r.pick(shapes);
  const half = Math.floor(ids.length / 2);
  switch (shape) {
    case 'isolate-one':
      // One replica cut from every other host, the clients included.
      return { kind: 'partition', shape, cuts: across([order[0]!], [...order.slice(1), 'client']) };
    case 'minority-majority': {
      // The clients stay with the minority or the majority at random.
      const minority: Host[] = order.slice(0, half);
      const majority: Host[] = order.slice(half);
      (r.chance(0.5) ? minority : majority).push('client');
      return { kind: 'partition', shape, cuts: across(minority, majority) };
    }
    case 'bridge': {
      // order[0] sees both halves; the halves do not see each other.
      const rest = order.slice(1);
      const a = rest.slice(0, Math.ceil(rest.length / 2));
      const b = rest.slice(Math.ceil(rest.length / 2));
      return { kind: 'partition', shape, cuts: across(a, b) };
    }
    case 'ring': {
      // Each replica sees only its neighbours in a shuffled ring; three replicas make a line (the ends cut).
      const n = order.length;
      const cuts: [Host, Host][] = [];
      if (n === 3) cuts.push([order[0]!, order[2]!]);
      else
        for (let i = 0; i < n; i++)
          for (let j = i + 1; j < n; j++) if (Math.min(j - i, n - (j - i)) > 1) cuts.push([order[i]!, order[j]!]);
      return { kind: 'partition', shape, cuts };
    }
    case 'client-cut':
      // The clients lose one replica (a writer's quorum is still reachable).
      return { kind: 'partition', shape, cuts: [['client', order[0]!]] };
    default:
      // The clients lose a majority: nothing can be written or read until it heals.
      return { kind: 'partition', shape, cuts: order.slice(0, half + 1).map((id): [Host, Host] => ['client', id]) };
  }
}

/** One line per fault, for the summary and the replay check. */
export function describe(f: Fault): string {
  switch (f.kind) {
    case 'partition':
      return `partition ${f.shape}: ${f.cuts.map(([a, b]) => `${a}-x-${b}`).join(' ')}`;
    case 'kill':
    case 'power-loss':
      return `${f.kind} ${f.targets.map((t) => `r${t}`).join(' ')}`;
    case 'corrupt':
      return `corrupt r${f.target} (file #${f.file % 997}, at ${(f.at * 100).toFixed(0)}%, ${f.bytes} bytes)`;
    default:
      return `${f.kind} ${f.target === 'client' ? 'client' : `r${f.target}`}`;
  }
}

/** schedule.json: a run's fault schedule with what replays it (`npm run nemesis -- --schedule FILE`). */
export interface ScheduleFile {
  readonly seed: number;
  readonly timeMs: number;
  readonly replicaIds: readonly number[];
  /** The fault kinds the run was asked for (some may not have run: see the summary). */
  readonly faults: readonly FaultKind[];
  readonly schedule: readonly ScheduledFault[];
}

/**
 * Reads a schedule.json, checking what a replay relies on: known fault kinds, replica ids among the
 * run's, times inside the run. An edited file (faults removed to find the one that matters) is fine.
 */
export function parseScheduleFile(text: string): ScheduleFile {
  const bad = (why: string): never => {
    throw new Error(`schedule file: ${why}`);
  };
  const j = JSON.parse(text) as Partial<ScheduleFile>;
  if (!Number.isSafeInteger(j.seed) || !Number.isSafeInteger(j.timeMs) || j.timeMs! <= 0) bad('seed and timeMs must be integers');
  if (!Array.isArray(j.replicaIds) || j.replicaIds.length === 0 || !j.replicaIds.every((i) => Number.isSafeInteger(i) && i > 0)) bad('replicaIds must be positive integers');
  if (!Array.isArray(j.schedule)) bad('no schedule');
  const ids = new Set(j.replicaIds!);
  const host = (h: unknown) => h === 'client' || ids.has(h as number);
  for (const [i, f] of j.schedule!.entries()) {
    const at = `fault #${i}`;
    if (typeof f?.at !== 'number' || typeof f.holdMs !== 'number' || f.at < 0 || f.holdMs < 0 || f.at + f.holdMs > j.timeMs!) bad(`${at}: at and holdMs must lie inside the run`);
    const k = f.fault as Fault & Record<string, unknown>;
    if (!(ALL_FAULT_KINDS as readonly string[]).includes(k?.kind)) bad(`${at}: unknown kind ${String(k?.kind)}`);
    const ok =
      k.kind === 'partition' ? Array.isArray(k.cuts) && k.cuts.every((c) => Array.isArray(c) && c.length === 2 && host(c[0]) && host(c[1]))
      : k.kind === 'pause' ? host(k.target)
      : k.kind === 'kill' || k.kind === 'power-loss' ? Array.isArray(k.targets) && k.targets.length > 0 && k.targets.every((t) => ids.has(t))
      : ids.has(k.target);
    if (!ok) bad(`${at}: ${k.kind} names hosts that are not in the run`);
  }
  const faults = Array.isArray(j.faults) && j.faults.every((k) => (ALL_FAULT_KINDS as readonly string[]).includes(k)) ? j.faults : [...new Set(j.schedule!.map((f) => f.fault.kind))];
  return { seed: j.seed!, timeMs: j.timeMs!, replicaIds: j.replicaIds!, faults, schedule: [...j.schedule!].sort((a, b) => a.at - b.at) };
}
