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

/**
 * R11, the write side: the metadata a data directory stores at its first
 * start under reconfiguration, if it stores no chain yet: the cluster id and
 * the bootstrap configuration (epoch 0, `members` all voters, with their
 * addresses). Undefined if it stores a chain already (then the log's
 * configuration wins over the flags). For a directory written before
 * reconfiguration this is what the read side (storedChain, storedClusterId)
 * already made of it: nothing changes in meaning, it is only written down.
 */
export function bootstrapMetadata(metadata: Metadata, members: readonly Member[], clusterId: string): Metadata | undefined {
  if (metadata.configs !== undefined && metadata.configs.length > 0) return undefined;
  return { ...metadata, clusterId: metadata.clusterId ?? clusterId, configs: storedChain(metadata, members) };
}

/**
 * Why the flags (`--members`) disagree with the stored chain's latest
 * configuration, or undefined if they agree (same ids at the same addresses,
 * voters and learners alike). A replica that disagrees logs it and follows
 * the log (R11: after the first start the flags are seeds only).
 */
export function flagsDisagreement(chain: readonly PlacedConfiguration[], members: readonly Member[]): string | undefined {
  const head = chain[chain.length - 1]!;
  const text = (ms: readonly Member[]) => [...ms].sort((a, b) => a.id - b.id).map((m) => `${m.id}=${m.address}`).join(',');
  const stored = text([...head.voters, ...head.learners]);
  const flags = text(members);
  if (stored === flags) return undefined;
  return `--members ${flags} disagrees with the configuration this data directory learned (epoch ${head.epoch}: ${stored}); following the log (the flags only find the cluster)`;
}

/**
 * The metadata a store writes when damage may have destroyed a promise or its
 * metadata (FileStore.open's poisoned case; the simulator's disk mirrors it):
 * status RECOVERING, promised 0, no generation and no member generations, so
 * the replica does not vote until its rejoin repaired it. The chain and the
 * cluster id still readable in `readable` (the metadata the intact records
 * give) are carried over: without them the replica would fall back to the
 * flags' members (storedChain) and, after a change, ask a configuration that
 * no longer exists, and never rejoin. The chain may be older than the one the
 * damage destroyed; the rejoin learns newer configurations from the members
 * of this one, as a joiner does from its seeds.
 */
export function recoveringMetadata(readable: Metadata): Metadata {
  const chain = readable.configs !== undefined && readable.configs.length > 0 ? { configs: readable.configs } : {};
  const cluster = readable.clusterId !== undefined ? { clusterId: readable.clusterId } : {};
  return { status: 'RECOVERING', promised: 0, incarnation: readable.incarnation, ...cluster, ...chain };
}
