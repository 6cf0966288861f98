/**
 * Shared by the tests of R12's restart in a newer configuration (writer-config-moved*.test.ts): three
 * voters of configuration 0 with addresses, and clients whose view is a chain until they ask the replicas.
 */
import { chainView } from '../../src/core/config-view.js';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { FakeCluster, type FakeClient } from './fake-cluster.js';
import { config0 } from '../core/reconfig-harness.js';

export const add4 = { id: 'add-4', ifEpoch: 0, change: { kind: 'add' as const, member: { id: 4, address: 'h4:1' } } };
/** Three voters in configuration 0, with addresses. */
export function cluster(): { c: FakeCluster; c0: PlacedConfiguration } {
  const c = new FakeCluster(3);
  const c0 = config0([1, 2, 3]);
  for (const id of c.ids) c.stores.set(id, new MemoryStore({ status: 'VOTING', promised: 0, incarnation: `inc-${id}`, configs: [c0] }));
  return { c, c0 };
}

/**
 * A client that knows `chain` (its writers elect and its reader reads in it) and takes `later()` when a writer
 * asks the replicas (refreshConfiguration, counted; held until `hold()` resolves, if given).
 */
export function clientKnowing(
  c: FakeCluster,
  chain: PlacedConfiguration[],
  later: () => PlacedConfiguration[],
  hold?: () => Promise<void>,
): { client: FakeClient; refreshes: () => number } {
  const client = c.client();
  let view = chain;
  let refreshes = 0;
  const x = client as unknown as { configView: () => unknown; refreshConfiguration: () => Promise<void> };
  x.configView = () => chainView(view);
  client.readIn((q) => chainView(view)(q));
  Object.defineProperty(client, 'chain', { get: () => view });
  x.refreshConfiguration = async () => {
    refreshes++;
    if (hold !== undefined) await hold();
    view = later();
  };
  return { client, refreshes: () => refreshes };
}
