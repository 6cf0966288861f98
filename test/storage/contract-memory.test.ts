import { MemoryStore } from '../../src/storage/memory-store.js';
import { runStoreContract } from './contract.js';

runStoreContract('MemoryStore', {
  create: async () => new MemoryStore(),
  reopen: async (s) => MemoryStore.replay((s as MemoryStore).records),
});
