/**
 * The configuration a data directory holds, read from its metadata
 * (docs/reconfiguration.md, R11 and R14), with the migration of directories
 * written before reconfiguration: one without a stored chain reads as the
 * members it is started with, all voters, at epoch 0; one without a stored
 * cluster id has the id derived from those members, as before. Reading
 * changes nothing on disk.
 */
import { roleOf, type PlacedConfiguration, type Role } from '../core/membership.js';
import type { Member, Metadata, ReplicaId } from '../core/types.js';

/** The chain, oldest first: the stored one, or epoch 0 made of `members` (the flags) if none is stored. */
export function storedChain(metadata: Metadata, members: readonly Member[]): readonly PlacedConfiguration[] {
  if (metadata.configs !== undefined && metadata.configs.length > 0) return metadata.configs;
  // Built as membership.ts's initialConfiguration would, without its address check: the flags were
  // checked when parsed, and a replica started on port 0 (tests, embedded logs) lists itself at :0.
  const voters = [...members].sort((a, b) => a.id - b.id).map((m) => ({ id: m.id, address: m.address }));
  return [{ epoch: 0, voters, learners: [], nextId: Math.max(0, ...voters.map((m) => m.id)) + 1, position: -1, floor: 0 }];
}

/** The cluster id: the stored one, or `derived` (today's id from the members) if none is stored. */
export function storedClusterId(metadata: Metadata, derived: string): string {
  return metadata.clusterId ?? derived;
}

/** What the read-only surfaces (/status, config replies) say of a chain. */
export interface ConfigurationSummary {
  readonly epoch: number;
  readonly position: number;
  readonly voters: readonly Member[];
  readonly learners: readonly Member[];
  /** Voters and learners, by ascending id. */
  readonly members: readonly Member[];
  /** The role of `self` (membership.ts roleOf). */
  readonly role: Role;
}

export function summarise(chain: readonly PlacedConfiguration[], self: ReplicaId): ConfigurationSummary {
  const head = chain[chain.length - 1]!;
  const members = [...head.voters, ...head.learners].sort((a, b) => a.id - b.id);
  return { epoch: head.epoch, position: head.position, voters: head.voters, learners: head.learners, members, role: roleOf(chain, self) };
}
