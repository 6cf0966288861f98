/** Group commit: many syncs share one fdatasync, and none resolves before its fdatasync returned. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { FileStore } from '../../src/storage/file-store.js';
import { accept, append } from './contract.js';
import { FaultyLayer } from './faulty-layer.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

test('100 concurrent append+sync calls take two fdatasyncs', async () => {
  const layer = new FaultyLayer();
  const s = await FileStore.open(tempDir(), { fileLayer: layer });
  const before = layer.datasyncs;
  const writesBefore = layer.writes.length;
  const syncs: Promise<number>[] = [];
  for (let p = 0; p < 100; p++) {
    s.append([accept(p, 1, append(`v${p}`))]);
    syncs.push(s.sync());
  }
  await Promise.all(syncs);
  // The first call starts a batch of one record; the 99 made while it was in
  // flight share the next one.
  assert.equal(layer.datasyncs - before, 2);
  assert.equal(layer.writes.length - writesBefore, 2);
  await s.close();
});

test('a sync does not resolve before its fdatasync returned', async () => {
  const layer = new FaultyLayer();
  const s = await FileStore.open(tempDir(), { fileLayer: layer });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const real = layer.datasync.bind(layer);
  layer.datasync = async (fd) => {
    await gate;
    return real(fd);
  };
  s.append([accept(0, 1, append('x'))]);
  let resolved = false;
  const done = s.sync().then(() => (resolved = true));
  for (let i = 0; i < 20; i++) await tick();
  assert.equal(resolved, false);
  assert.equal(s.durableSeq(), 0);
  assert.deepEqual(s.action(0), append('x'), 'served from memory meanwhile');
  release();
  await done;
  assert.equal(s.durableSeq(), 1);
  await s.close();
});

test.after(removeTempDirs);
