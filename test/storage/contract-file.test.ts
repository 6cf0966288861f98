import type { ReplicaStore } from '../../src/core/store.js';
import { FileStore } from '../../src/storage/file-store.js';
import { runStoreContract } from './contract.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

// Small segments and batches, so that the contract also crosses segment
// boundaries and splits syncs into several batches.
const options = { segmentBytesMax: 2048, batchBytesMax: 1024 };

runStoreContract('FileStore', {
  create: async () => FileStore.open(tempDir(), options),
  reopen: async (s: ReplicaStore) => {
    const dir = (s as FileStore).dir;
    await s.close();
    return FileStore.open(dir, options);
  },
  cleanup: async () => removeTempDirs(),
});
