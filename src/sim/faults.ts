/**
 * Fault injection: which fault strikes next and what it does. Every choice is
 * drawn from the run's PRNG. Process faults (crash, restart, wipe, corrupt)
 * act on ReplicaNodes; network faults (partitions that heal after a while)
 * block links in the SimNetwork. The damage budget keeps wiped or corrupted
 * replicas to a minority, so that a voting quorum can always come back.
 */
import { configQuorum, roleIn, type Configuration } from '../core/membership.js';
import type { ReplicaId } from '../core/types.js';
import type { Addr, SimNetwork } from './network.js';
import type { Prng } from './prng.js';
import type { ReplicaNode } from './replica-node.js';

/** How many times each kind of fault was injected. */
export type FaultCounts = Record<FaultKind, number>;

export const FAULT_KINDS = [
  'crash',
  'restart',
  'lostRecords',
  'wipe',
  'corrupt',
  'corruptMeta',
  'tailCorrupt',
  'diskLoss',
  'snapshot',
  'restore',
  'syncFault',
  'fsyncFault',
  'lateStart',
  'missedStart',
  'rejoin',
  'partition',
  'isolate',
  'oneway',
  'heal',
  'takeover',
  'renew',
  'drop',
  'duplicate',
  'delay',
  'blocked',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export function zeroCounts(): FaultCounts {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as FaultCounts;
}

/** A set of directed links blocked together, to unblock together. */
export type Links = readonly (readonly [Addr, Addr])[];

/** Draws a partition among `nodes`: a symmetric split, one node isolated, or random one-way links. */
export function drawPartition(prng: Prng, nodes: readonly Addr[]): { kind: 'partition' | 'isolate' | 'oneway'; links: Links } {
  const roll = prng.float();
  const links: [Addr, Addr][] = [];
  if (roll < 0.4) {
    const side = new Set(prng.subset(nodes, 0.5));
    for (const a of nodes) for (const b of nodes) if (side.has(a) !== side.has(b)) links.push([a, b]);
    return { kind: 'partition', links };
  }
  if (roll < 0.7) {
    const x = prng.pick(nodes);
    for (const b of nodes) if (b !== x) links.push([x, b], [b, x]);
    return { kind: 'isolate', links };
  }
  for (const a of nodes) for (const b of nodes) if (a !== b && prng.chance(0.25)) links.push([a, b]);
  return { kind: 'oneway', links };
}

export function block(net: SimNetwork, links: Links): void {
  for (const [a, b] of links) net.block(a, b);
}

export function unblock(net: SimNetwork, links: Links): void {
  for (const [a, b] of links) net.unblock(a, b);
}

export type Damage = 'wipe' | 'corrupt' | 'corruptMeta' | 'tailCorrupt';

function markDamaged(node: ReplicaNode, why: string): void {
  node.damaged = true;
  node.damage = why;
}

/** While a replica is down: maybe wipe its disk, corrupt one record, its metadata or its tail record, within the damage budget. */
export function damageWhileDown(
  prng: Prng,
  node: ReplicaNode,
  budgetLeft: number,
  wipeChance: number,
  corruptChance: number,
  corruptMetaChance: number,
  now: number,
  tailCorruptChance = 0,
  /** Damage that forces the disk RECOVERING (metadata, tail record) may be drawn. */
  mayForceRecovering = true,
): Damage | undefined {
  if (budgetLeft <= 0 && !node.damaged) return undefined;
  if (prng.chance(wipeChance)) {
    wipe(node, now);
    return 'wipe';
  }
  if (prng.chance(corruptChance)) {
    const positions = node.disk.actionPositions();
    if (positions.length === 0) return undefined;
    node.disk.corrupt(prng.pick(positions));
    markDamaged(node, 'a corrupted record');
    return 'corrupt';
  }
  if (!mayForceRecovering) return undefined;
  if (prng.chance(corruptMetaChance)) {
    node.disk.corruptMetadata();
    markDamaged(node, 'damaged metadata');
    return 'corruptMeta';
  }
  if (tailCorruptChance > 0 && prng.chance(tailCorruptChance)) {
    return corruptTail(node, prng.chance(0.5)) ? 'tailCorrupt' : undefined;
  }
  return undefined;
}

function wipe(node: ReplicaNode, now: number): void {
  node.disk.wipe(`inc-${node.id}-wiped-${now}`);
  markDamaged(node, 'a wipe');
}

/** SimDisk.corruptTail: the last durable record fails its checksum (its key holding or not). */
function corruptTail(node: ReplicaNode, keyHolds: boolean): boolean {
  const r = node.disk.corruptTail(keyHolds);
  if (r === undefined) return false;
  markDamaged(node, r === 'lost' ? 'a corrupted tail record (position lost)' : 'a corrupted tail record (forced RECOVERING)');
  return true;
}

/**
 * A disk loss of a down replica, one of a series (the budget is the caller's):
 * wiped, its metadata damaged, or its tail record unknown (forced RECOVERING).
 * Each makes the replica rejoin.
 */
export function loseDisk(prng: Prng, node: ReplicaNode, now: number, mayForceRecovering = true): Damage {
  const roll = mayForceRecovering ? prng.float() : 1;
  if (roll < 0.2) {
    node.disk.corruptMetadata();
    markDamaged(node, 'damaged metadata');
    return 'corruptMeta';
  }
  if (roll < 0.4 && corruptTail(node, false)) return 'tailCorrupt';
  wipe(node, now);
  return 'wipe';
}

/**
 * The configurations whose voters the damage budget of a run that changes
 * its members counts: the latest one chosen (`latest`, the true chain's
 * head), the newest one installed on a disk (the newest of `installed`, the
 * chain heads of the replicas still running: until the latest is installed,
 * elections, rejoins and restart checks still run in it) and the target of a
 * change in progress or of one whose outcome is unknown (`pending`: a later
 * writer may still choose it; left out once the latest is at its epoch or
 * above, chosen or lost to another change). Duplicates by epoch are left out.
 */
export function governingConfigs(latest: Configuration, installed: readonly (Configuration | undefined)[], pending: Configuration | undefined): Configuration[] {
  let newest: Configuration | undefined;
  for (const c of installed) if (c !== undefined && (newest === undefined || c.epoch > newest.epoch)) newest = c;
  const out = [latest];
  const open = pending !== undefined && pending.epoch > latest.epoch ? pending : undefined;
  for (const c of [newest, open]) if (c !== undefined && !out.some((o) => o.epoch === c.epoch)) out.push(c);
  return out;
}

/**
 * The damage budget left in a run that changes its members: at most a
 * minority (voters - quorum) of each governing configuration's voters may be
 * damaged at once; `damaged` lists the damaged replicas (the one about to be
 * damaged left out). Zero or less: no more damage now.
 */
export function changeBudgetLeft(governing: readonly Configuration[], damaged: readonly ReplicaId[]): number {
  return Math.min(...governing.map((c) => c.voters.length - configQuorum(c) - damaged.filter((id) => roleIn(c, id) === 'voter').length));
}
