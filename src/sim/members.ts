/**
 * Membership in the simulator (docs/reconfiguration.md, step 7): the
 * addresses replicas are known by, and the configuration a run that changes
 * its members starts from. A configuration needs HOST:PORT addresses
 * (membership.ts); the simulated network routes by `r<id>`, so the address
 * is only a name here.
 */
import type { PlacedConfiguration } from '../core/membership.js';
import type { ReplicaId } from '../core/types.js';

/** The address a configuration lists for a replica of the simulator. */
export function simAddress(id: ReplicaId): string {
  return `r${id}:7000`;
}

/** Epoch 0 of a run that changes its members: these ids, all voters, with addresses (R11's stored first configuration). */
export function simBootstrap(ids: readonly ReplicaId[]): PlacedConfiguration {
  const sorted = [...ids].sort((a, b) => a - b);
  return { epoch: 0, voters: sorted.map((id) => ({ id, address: simAddress(id) })), learners: [], nextId: sorted[sorted.length - 1]! + 1, position: -1, floor: 0 };
}

/** Voters and learners of a configuration, ascending. */
export function memberIdsOf(c: PlacedConfiguration): ReplicaId[] {
  return [...c.voters, ...c.learners].map((m) => m.id).sort((a, b) => a - b);
}
