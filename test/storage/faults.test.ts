/**
 * Fault tests: torn writes, bit flips, a full disk, failed fsyncs and a
 * locked directory, each giving the behaviour docs/storage.md promises.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { FileStore, type OpenReport } from '../../src/storage/file-store.js';
import type { FileStoreOptions } from '../../src/storage/open-store.js';
import { DataDirLockedError, DataDirMismatchError, StorageFatalError, StorageFullError, StorageIOError } from '../../src/storage/errors.js';
import { accept, append, learn, META, snapshot } from './contract.js';
import { findFrame, flipBit, segmentPaths } from './disk-helpers.js';
import { FaultyLayer } from './faulty-layer.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

const value = (p: number): string => `value-of-${p}-`.repeat(10);

/** A directory holding metadata and positions [0, n), one sync per position. */
async function filled(n: number, options: FileStoreOptions = {}): Promise<string> {
  const dir = tempDir();
  const s = await FileStore.open(dir, options);
  s.append([{ type: 'metadata', metadata: META }]);
  for (let p = 0; p < n; p++) {
    s.append([accept(p, 3, append(value(p)))]);
    await s.sync();
  }
  await s.close();
  return dir;
}

function assertIntact(s: FileStore, positions: Iterable<number>): void {
  for (const p of positions) assert.deepEqual(s.action(p), append(value(p)), `position ${p}`);
}

const clean = (r: OpenReport): void => {
  assert.deepEqual(r.corruptRegions, []);
  assert.equal(r.metadataCorrupted, false);
  assert.deepEqual(r.lostPositions, []);
};

test('a torn last record is cut at every byte offset, and the store writes on after it', async () => {
  const dir = await filled(10);
  const last = findFrame(dir, 'accept', 9);
  const original = readFileSync(last.path);
  assert.equal(last.end, original.length);
  for (let k = 0; k < last.end - last.offset; k++) {
    writeFileSync(last.path, original.subarray(0, last.offset + k));
    const s = await FileStore.open(dir);
    assert.equal(s.openReport.tornBytesCut, k);
    clean(s.openReport);
    assert.equal(s.slot(9), undefined);
    assertIntact(s, [0, 1, 8]);
    s.append([accept(9, 3, append(value(9)))]);
    await s.sync();
    await s.close();
    assert.deepEqual(readFileSync(last.path), original, `after a cut at ${k} the rewrite is byte-identical`);
  }
});

test('a zero-filled tail (size grew, data never reached the disk) is cut', async () => {
  const dir = await filled(5);
  const last = findFrame(dir, 'accept', 4);
  const original = readFileSync(last.path);
  const torn = Buffer.concat([original.subarray(0, last.offset), Buffer.alloc(last.end - last.offset)]);
  writeFileSync(last.path, torn);
  const s = await FileStore.open(dir);
  assert.equal(s.openReport.tornBytesCut, last.end - last.offset);
  clean(s.openReport);
  assert.equal(s.slot(4), undefined);
  await s.close();
});

test('a complete last frame whose key holds but whose entry bytes do not is corruption, not a torn write: the position is lost, the acceptance kept', async () => {
  const dir = await filled(5);
  const last = findFrame(dir, 'accept', 4);
  const original = readFileSync(last.path);
  // The entry bytes zeroed (or rotted) after the key: a complete frame, as durable and acknowledged as any.
  const keyEnd = last.offset + 8 + 1 + 16 + 1 + 4;
  writeFileSync(last.path, Buffer.concat([original.subarray(0, keyEnd), Buffer.alloc(last.end - keyEnd)]));
  const s = await FileStore.open(dir);
  assert.equal(s.openReport.tornBytesCut, 0, 'not cut');
  assert.equal(s.slot(4)?.accepted, 3, 'the acceptance is remembered');
  assert.equal(s.action(4), 'lost');
  assert.equal(s.metadata().status, 'VOTING');
  await s.close();
});

test('a complete last frame with a damaged key is corruption, not a torn write: the replica opens RECOVERING, nothing is cut', async () => {
  const dir = await filled(5);
  const last = findFrame(dir, 'accept', 4);
  flipBit(last.path, last.offset + 12, 3);
  const size = readFileSync(last.path).length;
  const s = await FileStore.open(dir);
  assert.equal(s.openReport.tornBytesCut, 0);
  assert.equal(s.openReport.metadataCorrupted, true);
  assert.equal(s.metadata().status, 'RECOVERING');
  assertIntact(s, [0, 3]);
  await s.close();
  assert.equal(readFileSync(last.path).length >= size, true, 'the damaged bytes are kept');
  const r = await FileStore.open(dir);
  assert.equal(r.metadata().status, 'RECOVERING');
  assert.equal(r.openReport.metadataCorrupted, false, 'the forced status, in a new segment, is trusted');
  await r.close();
});

// Found by the simulator (--changes seed 6 on branch seed69; seed 32 on another): after a membership change,
// a replica whose metadata or tail was damaged wrote a RECOVERING record without the chain, fell back to the
// flags' members (a configuration that no longer existed) and never rejoined.
test('damage that forces RECOVERING keeps the chain and the cluster id still readable', async () => {
  const m = (id: number) => ({ id, address: `r${id}:7000` });
  const c0 = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
  const c1 = { epoch: 1, voters: [m(1), m(2), m(3)], learners: [m(4)], nextId: 5, position: 2, floor: 1 };
  const dir = tempDir();
  const w = await FileStore.open(dir);
  w.append([{ type: 'metadata', metadata: { ...META, clusterId: 'c-1', configs: [c0, c1] } }]);
  for (let p = 0; p < 5; p++) {
    w.append([accept(p, 3, append(value(p)))]);
    await w.sync();
  }
  await w.close();
  flipBit(findFrame(dir, 'accept', 4).path, findFrame(dir, 'accept', 4).offset + 12, 3);
  const s = await FileStore.open(dir);
  assert.equal(s.openReport.metadataCorrupted, true);
  assert.equal(s.metadata().status, 'RECOVERING');
  assert.equal(s.metadata().promised, 0);
  assert.deepEqual(s.metadata().configs, [c0, c1], 'the chain is kept');
  assert.equal(s.metadata().clusterId, 'c-1');
  await s.close();
  const r = await FileStore.open(dir);
  assert.equal(r.metadata().status, 'RECOVERING');
  assert.deepEqual(r.metadata().configs, [c0, c1], 'durably');
  await r.close();
});

test('a flipped bit in the length field of the last frame is not taken for a torn write', async () => {
  const dir = await filled(5);
  const last = findFrame(dir, 'accept', 4);
  flipBit(last.path, last.offset + 1, 4); // the length grows by 4096: "runs past the end of the file"
  const s = await FileStore.open(dir);
  assert.equal(s.openReport.tornBytesCut, 0);
  assert.equal(s.openReport.metadataCorrupted, false);
  assert.equal(s.slot(4)?.accepted, 3, 'the acceptance is remembered');
  assert.equal(s.action(4), 'lost', 'its bytes are fetched again from the others');
  assertIntact(s, [0, 3]);
  await s.close();
});

test('flipped entry bytes in the middle: that position is lost, never served; the replica still votes', async () => {
  const dir = await filled(30, { segmentBytesMax: 1024 });
  assert.ok(segmentPaths(dir).length > 3);
  const f = findFrame(dir, 'accept', 5);
  flipBit(f.path, f.end - 3);
  const s = await FileStore.open(dir, { segmentBytesMax: 1024 });
  assert.equal(s.action(5), 'lost');
  assert.deepEqual(s.lostPositions(), [5]);
  assert.deepEqual(s.openReport.lostPositions, [5]);
  assert.equal(s.openReport.corruptRegions[0]?.position, 5);
  assert.equal(s.openReport.metadataCorrupted, false);
  assert.equal(s.metadata().status, 'VOTING');
  assert.equal(s.slot(5)?.accepted, 3, 'the Paxos facts of the damaged record are kept');
  assertIntact(s, [0, 4, 6, 29]);
  // Repair (as autorecovery will): a new value for the position clears the mark.
  s.append([learn(5, append(value(5)))]);
  await s.sync();
  assert.deepEqual(s.lostPositions(), []);
  assertIntact(s, [5]);
  await s.close();
  const r = await FileStore.open(dir, { segmentBytesMax: 1024 });
  assertIntact(r, [5]);
  assert.deepEqual(r.lostPositions(), []);
  await r.close();
});

for (const [what, at] of [
  ['position field', 9],
  ['type byte', 8],
] as const) {
  test(`a flipped bit in a record's ${what}: unknown damage, the replica opens RECOVERING and reads on past it`, async () => {
    const dir = await filled(30, { segmentBytesMax: 1024 });
    const f = findFrame(dir, 'accept', 5);
    flipBit(f.path, f.offset + at, 2);
    const s = await FileStore.open(dir);
    assert.equal(s.openReport.metadataCorrupted, true);
    assert.deepEqual(s.metadata(), { status: 'RECOVERING', promised: 0, incarnation: META.incarnation });
    assert.ok(s.openReport.corruptRegions.length >= 1);
    assert.equal(s.action(5), undefined, 'the unknown record is not served');
    assertIntact(s, [0, 4, 6, 29]);
    await s.close();
    // The forced status is durable: the next start-up stays RECOVERING without forcing again.
    const r = await FileStore.open(dir);
    assert.equal(r.metadata().status, 'RECOVERING');
    assert.equal(r.openReport.metadataCorrupted, false);
    await r.close();
  });
}

test('a flipped bit in a metadata record: the replica may have forgotten a promise and opens RECOVERING', async () => {
  const dir = tempDir();
  const s = await FileStore.open(dir);
  s.append([{ type: 'metadata', metadata: { ...META, promised: 7 } }, accept(0, 7, append('x')), accept(1, 7, append('y'))]);
  await s.sync();
  await s.close();
  const f = findFrame(dir, 'metadata');
  flipBit(f.path, f.offset + 12, 5);
  const r = await FileStore.open(dir);
  assert.equal(r.openReport.metadataCorrupted, true);
  assert.equal(r.metadata().status, 'RECOVERING');
  assert.equal(r.metadata().promised, 0);
  assert.deepEqual(r.action(1), append('y'));
  await r.close();
});

test('a flipped bit in a middle record\'s length field: the key checksum finds its true length, nothing is lost', async () => {
  const dir = await filled(30, { segmentBytesMax: 1024 });
  const f = findFrame(dir, 'accept', 5);
  flipBit(f.path, f.offset + 1, 2);
  const s = await FileStore.open(dir);
  assert.equal(s.openReport.metadataCorrupted, false);
  assert.equal(s.openReport.corruptRegions.length, 1);
  assert.equal(s.metadata().status, 'VOTING');
  assert.equal(s.slot(5)?.accepted, 3);
  assert.deepEqual(s.lostPositions(), [5]);
  assertIntact(s, [0, 4, 6, 29]);
  await s.close();
});

test('a bit flipped after start-up is caught when the position is read', async () => {
  const dir = await filled(10);
  const s = await FileStore.open(dir);
  const f = findFrame(dir, 'accept', 3);
  flipBit(f.path, f.end - 1, 7);
  assert.equal(s.action(3), 'lost');
  assert.deepEqual(s.lostPositions(), [3]);
  assertIntact(s, [2, 4]);
  await s.close();
});

// Each write and sync failure, on both paths: a small batch written and synced
// on the main thread (writeSync, fdatasyncSync) must fail exactly as one on the
// thread pool does.
for (const [synchronous, path] of [
  [true, 'main thread'],
  [false, 'thread pool'],
] as const) {
  /** Every write and fdatasync of the store under test took this loop's path. */
  const tookPath = (layer: FaultyLayer): void => assert.deepEqual(new Set(layer.paths), new Set([synchronous ? 'sync' : 'async']));

  test(`a write torn by an I/O error fails the sync; reopening cuts the torn bytes (${path})`, async () => {
    const dir = await filled(3);
    const layer = new FaultyLayer({ synchronous });
    const s = await FileStore.open(dir, { fileLayer: layer });
    layer.tornWriteBytes = 17;
    s.append([accept(3, 3, append(value(3)))]);
    await assert.rejects(s.sync(), StorageIOError);
    tookPath(layer);
    await s.close();
    const r = await FileStore.open(dir);
    assert.equal(r.openReport.tornBytesCut, 17);
    assert.equal(r.slot(3), undefined);
    assertIntact(r, [0, 1, 2]);
    await r.close();
  });

  test(`ENOSPC fails the sync; appends are kept (never dropped) and written with the batch once a sync succeeds (${path})`, async () => {
    const dir = await filled(2);
    const layer = new FaultyLayer({ synchronous });
    const s = await FileStore.open(dir, { fileLayer: layer });
    s.append([accept(2, 3, append(value(2)))]);
    layer.writeFaults.push('ENOSPC', 'ENOSPC');
    const err = await s.sync().then(
      () => assert.fail('sync must fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StorageFullError);
    assert.equal(err.code, 'STORAGE_FULL');
    assert.equal(err.errno, 'ENOSPC');
    assert.equal(s.append([accept(3, 3, append(value(3)))]), 2, 'a failed write refuses nothing: the records wait in memory');
    assert.equal(s.durableSeq(), 0);
    await assert.rejects(s.retry(), StorageFullError, 'still full');
    // Space is back: the next sync writes the kept batch again, then the rest.
    assert.equal(await s.sync(), 2);
    assert.equal(s.failedWith(), null);
    tookPath(layer);
    await s.close();
    const r = await FileStore.open(dir);
    clean(r.openReport);
    assertIntact(r, [0, 1, 2, 3]);
    await r.close();
  });

  test(`a failed write (EIO) is retried by writing the same bytes at the same offset, never by trusting the page cache (${path})`, async () => {
    const dir = await filled(2);
    const layer = new FaultyLayer({ synchronous });
    const s = await FileStore.open(dir, { fileLayer: layer });
    s.append([accept(2, 3, append(value(2))), accept(3, 3, append(value(3)))]);
    layer.writeFaults.push('EIO');
    const err = await s.sync().then(
      () => assert.fail('sync must fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StorageIOError);
    assert.equal(err.code, 'STORAGE_IO');
    assert.equal(err.errno, 'EIO');
    assert.equal(s.durableSeq(), 0, 'nothing counted durable after a failed write');
    assert.equal(await s.sync(), 2);
    const [first, second] = layer.writes;
    assert.ok(first !== undefined && second !== undefined);
    assert.deepEqual(second, first, 'the same bytes at the same offset again');
    assert.equal(layer.datasyncs, 1);
    tookPath(layer);
    await s.close();
    const r = await FileStore.open(dir);
    assertIntact(r, [2, 3]);
    await r.close();
  });

  test(`a failed fdatasync is fatal (fsyncgate): the store refuses every append and sync from then on (${path})`, async () => {
    const dir = await filled(2);
    const layer = new FaultyLayer({ synchronous });
    const s = await FileStore.open(dir, { fileLayer: layer });
    s.append([accept(2, 3, append(value(2)))]);
    layer.syncFaults.push('EIO');
    await assert.rejects(s.sync(), (e: unknown) => e instanceof StorageFatalError && e.code === 'STORAGE_FATAL' && e.errno === 'EIO');
    assert.equal(s.durableSeq(), 0);
    assert.throws(() => s.append([accept(3, 3, append('z'))]), StorageFatalError);
    await assert.rejects(s.sync(), StorageFatalError, 'no retry: the page cache may have dropped what it held');
    assert.equal(layer.datasyncs, 1, 'never fsynced again');
    assert.ok(s.failedWith() instanceof StorageFatalError);
    tookPath(layer);
    await s.close();
  });
}

test('a failed directory fsync while deleting truncated segments is fatal, not swallowed', async () => {
  const options = { segmentBytesMax: 1024 };
  const dir = await filled(40, options);
  const layer = new FaultyLayer();
  const s = await FileStore.open(dir, { ...options, fileLayer: layer });
  layer.dirSyncFaults.push('EIO');
  s.append([learn(40, { kind: 'truncate', to: 35 })]);
  await s.sync();
  // The deletion runs after the sync: the next sync reports the fatal failure.
  await assert.rejects(
    (async () => {
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setImmediate(r));
        s.append([accept(41 + i, 3, append('x'))]);
        await s.sync();
      }
    })(),
    StorageFatalError,
  );
  await s.close();
});

test('a failed directory fsync at a roll-over is fatal', async () => {
  const options = { segmentBytesMax: 1024 };
  const dir = await filled(3, options);
  const layer = new FaultyLayer();
  const s = await FileStore.open(dir, { ...options, fileLayer: layer });
  layer.dirSyncFaults.push('EIO');
  await assert.rejects(
    (async () => {
      for (let p = 3; p < 40; p++) {
        s.append([accept(p, 3, append(value(p)))]);
        await s.sync();
      }
    })(),
    StorageFatalError,
  );
  await s.close();
});

test('a second open of a locked directory fails at once, naming the directory and the owner', async () => {
  const dir = tempDir();
  const a = await FileStore.open(dir);
  await assert.rejects(FileStore.open(dir), (e: unknown) => {
    assert.ok(e instanceof DataDirLockedError);
    assert.equal(e.code, 'DATA_DIR_LOCKED');
    assert.match(e.message, new RegExp(`${dir}.*${process.pid}`));
    return true;
  });
  await a.close();
  const b = await FileStore.open(dir);
  await b.close();
});

test('a directory of another replica is refused', async () => {
  const dir = tempDir();
  await (await FileStore.open(dir, { replicaId: 1, clusterId: 'c' })).close();
  await assert.rejects(FileStore.open(dir, { replicaId: 2 }), DataDirMismatchError);
  const s = await FileStore.open(dir);
  assert.equal(s.replicaId, 1);
  assert.equal(s.clusterId, 'c');
  await s.close();
});

test('a learned truncate deletes whole segments below it; reopening gives the same state', async () => {
  const options = { segmentBytesMax: 1024 };
  const dir = await filled(60, options);
  const before = segmentPaths(dir).length;
  const s = await FileStore.open(dir, options);
  s.append([learn(60, { kind: 'truncate', to: 50 })]);
  await s.sync();
  const state = snapshot(s);
  await s.close();
  const after = segmentPaths(dir).length;
  assert.ok(after < before - 5, `${before} segments before, ${after} after`);
  const r = await FileStore.open(dir, options);
  clean(r.openReport);
  assert.equal(r.begin(), 50);
  assert.deepEqual(snapshot(r), state);
  assert.equal(r.metadata().promised, META.promised, 'metadata survives in the segment header checkpoint');
  assert.equal(r.slot(49), undefined);
  assertIntact(r, [50, 59]);
  await r.close();
});

test('a segment created but never written (crash during roll-over) is removed at start-up', async () => {
  const dir = await filled(20, { segmentBytesMax: 1024 });
  const paths = segmentPaths(dir);
  const next = paths[paths.length - 1]!.replace(/(\d{10})/, (m) => String(Number(m) + 1).padStart(10, '0'));
  writeFileSync(next, Buffer.alloc(0));
  const s = await FileStore.open(dir, { segmentBytesMax: 1024 });
  clean(s.openReport);
  assertIntact(s, [0, 19]);
  s.append([accept(20, 3, append(value(20)))]);
  await s.sync();
  await s.close();
  assert.equal(segmentPaths(dir).length >= paths.length, true);
});

test.after(removeTempDirs);

test('a bit flipped at any byte of a middle record is detected, never served, never a crash', async () => {
  const dir = await filled(12);
  const f = findFrame(dir, 'accept', 6);
  const original = readFileSync(f.path);
  for (let at = f.offset; at < f.end; at++) {
    flipBit(f.path, at, at % 8);
    const s = await FileStore.open(dir);
    const a = s.action(6);
    assert.ok(a === 'lost' || a === undefined, `byte ${at - f.offset}: position 6 served ${JSON.stringify(a)}`);
    assert.ok(s.openReport.corruptRegions.length > 0, `byte ${at - f.offset}: damage not reported`);
    assert.ok(s.openReport.metadataCorrupted || s.lostPositions().includes(6));
    assertIntact(s, [0, 5, 7, 11]);
    await s.close();
    // Back to the directory as it was (the forced RECOVERING record went to a new segment).
    for (const p of segmentPaths(dir)) if (p !== f.path) rmSync(p);
    writeFileSync(f.path, original);
  }
});
