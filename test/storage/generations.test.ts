// Autorecovery's metadata (this disk's generation, the generations recorded for
// other members) survives a restart, in the log and in segment headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/storage/file-store.js';

test('generation and member generations are persisted and replayed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'replog-gen-'));
  try {
    const s = await FileStore.open(dir, { replicaId: 1, clusterId: 'c', segmentBytesMax: 4096 });
    const metadata = { status: 'VOTING' as const, promised: 4, incarnation: 'abc', generation: 3, memberGenerations: { 2: 5, 3: 1 } };
    s.append([{ type: 'metadata', metadata }]);
    // Enough records to roll over segments, so a header carries the metadata too.
    for (let p = 0; p < 200; p++) {
      s.append([{ type: 'learn', position: p, action: { kind: 'append', data: new Uint8Array(64) } }]);
      if (p % 20 === 19) await s.sync(); // segments roll over between batches
    }
    await s.sync();
    assert.ok(s.segmentCount() > 1, 'several segments');
    await s.close();
    const again = await FileStore.open(dir, { replicaId: 1, clusterId: 'c', segmentBytesMax: 4096 });
    assert.deepEqual(again.metadata(), metadata);
    again.append([{ type: 'learn', position: 200, action: { kind: 'truncate', to: 150 } }]);
    await again.sync();
    await again.close();
    const third = await FileStore.open(dir, { replicaId: 1, clusterId: 'c', segmentBytesMax: 4096 });
    assert.deepEqual(third.metadata(), metadata, 'after old segments were deleted, the header checkpoint holds it');
    await third.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
