/**
 * Disk identity: how the protocol tells one disk of a member from another.
 *
 * A member keeps its id for life; its disk may be replaced (wiped, corrupted,
 * restored from an old copy). Each replacement rejoins as a new acceptor with a
 * new DiskId: a generation above every one a quorum recorded for the member,
 * and a random `disk` number. Proposers count an acceptance only from the disk
 * that promised them (generation and disk both equal), and a replica that
 * knows a newer disk of a member refuses writes that name an older one. Two
 * disks of one member are never taken for each other: generations are drawn
 * above what a quorum remembers (and rejoining replicas adopt what the others
 * remember), and the random number separates them even if that failed.
 */
import type { DiskId, Metadata, Named, ReplicaId, Witness } from './types.js';

/** The disk every member starts a cluster with. */
export const ORIGINAL_DISK: DiskId = Object.freeze({ generation: 0, disk: 0 });

/** This replica's own disk. */
export function ownDisk(meta: Metadata): DiskId {
  return { generation: meta.generation ?? 0, disk: meta.disk ?? 0 };
}

/** The disk this replica knows member `id` has (its own if `id` is itself). */
export function recordedDisk(meta: Metadata, id: ReplicaId): DiskId {
  return meta.recorded?.[id] ?? ORIGINAL_DISK;
}

export function sameDisk(a: DiskId, b: DiskId): boolean {
  return a.generation === b.generation && a.disk === b.disk;
}

/**
 * True if a proposer naming `named` counts a disk that `known` replaced: an
 * older generation, or the same generation on another disk (which can only
 * happen if a generation was drawn twice; either way the two must never be
 * confused, and refusing is the safe answer).
 */
export function isRetired(known: DiskId, named: DiskId): boolean {
  return known.generation > named.generation || (known.generation === named.generation && known.disk !== named.disk);
}

/**
 * Merges disks heard of into a recorded table, keeping the newest disk per
 * member (ties keep what is there). Returns the new table, or undefined if
 * nothing changed. `self` is left out: a replica's own disk is its metadata.
 */
export function mergeRecorded(
  table: Readonly<Record<number, DiskId>> | undefined,
  heard: readonly Named[],
  self: ReplicaId,
): Record<number, DiskId> | undefined {
  let out: Record<number, DiskId> | undefined;
  for (const h of heard) {
    if (h.id === self) continue;
    const cur = (out ?? table)?.[h.id] ?? ORIGINAL_DISK;
    if (h.generation <= cur.generation) continue;
    out ??= { ...table };
    out[h.id] = { generation: h.generation, disk: h.disk };
  }
  return out;
}

/** Every disk this replica knows of, itself included, as a list (recover replies). */
export function knownDisks(meta: Metadata, self: ReplicaId): Named[] {
  const out: Named[] = [{ id: self, ...ownDisk(meta) }];
  for (const [id, d] of Object.entries(meta.recorded ?? {})) if (Number(id) !== self) out.push({ id: Number(id), ...d });
  return out;
}

/** A random disk number: 52 bits from two draws of the injected generator (never 0, which marks an original disk). */
export function drawDiskNumber(random: () => number): number {
  const hi = Math.floor(random() * 2 ** 20);
  const lo = Math.floor(random() * 2 ** 32);
  return hi * 2 ** 32 + lo || 1;
}

/**
 * What two witness records together say a member's disk reached: for one disk,
 * the higher promise and end of both (each was durable on that disk when seen);
 * for two different disks, the one of the newer generation (on a tie, `b`,
 * the fresher source). Either may be missing.
 */
export function mergeWitness(a: Witness | undefined, b: Witness | undefined): Witness | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (sameDisk(a, b)) return { generation: a.generation, disk: a.disk, promised: Math.max(a.promised, b.promised), end: Math.max(a.end, b.end) };
  return a.generation > b.generation ? a : b;
}
