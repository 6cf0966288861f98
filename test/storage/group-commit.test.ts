/**
 * Group commit: many syncs share one fdatasync, and none resolves before its
 * fdatasync returned, on either path (small batches written and synced on the
 * main thread, large ones on the thread pool).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { FileStore } from '../../src/storage/file-store.js';
import { accept, append } from './contract.js';
import { FaultyLayer } from './faulty-layer.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

/** A layer whose thread-pool fdatasyncs wait until the test opens the gate. */
class GatedLayer extends FaultyLayer {
  private readonly gate: (() => void)[] = [];
  held = false;
  constructor() {
    super({ synchronous: false });
  }
  override async datasync(fd: number): Promise<void> {
    if (this.held) await new Promise<void>((r) => this.gate.push(r));
    return super.datasync(fd);
  }
  open(): void {
    this.held = false;
    for (const r of this.gate.splice(0)) r();
  }
}

test('100 append+sync calls made in one turn of the event loop share one write and one fdatasync', async () => {
  for (const synchronous of [true, false]) {
    const layer = new FaultyLayer({ synchronous });
    const s = await FileStore.open(tempDir(), { fileLayer: layer });
    const before = layer.datasyncs;
    const writesBefore = layer.writes.length;
    const syncs: Promise<number>[] = [];
    for (let p = 0; p < 100; p++) {
      s.append([accept(p, 1, append(`v${p}`))]);
      syncs.push(s.sync());
    }
    await Promise.all(syncs);
    assert.equal(layer.datasyncs - before, 1, `synchronous: ${synchronous}`);
    assert.equal(layer.writes.length - writesBefore, 1);
    await s.close();
  }
});

test('syncs made while a batch is in flight share the next batch', async () => {
  const layer = new GatedLayer();
  const s = await FileStore.open(tempDir(), { fileLayer: layer });
  layer.held = true;
  const before = layer.datasyncs;
  s.append([accept(0, 1, append('v0'))]);
  const syncs: Promise<number>[] = [s.sync()];
  // Until the first batch is in flight (its fdatasync waits at the gate).
  const writesBefore = layer.writes.length;
  while (layer.writes.length === writesBefore) await tick();
  for (let p = 1; p < 100; p++) {
    s.append([accept(p, 1, append(`v${p}`))]);
    syncs.push(s.sync());
  }
  layer.open();
  await Promise.all(syncs);
  assert.equal(layer.datasyncs - before, 2);
  assert.equal(s.durableSeq(), 100);
  await s.close();
});

test('a sync does not resolve before its fdatasync returned (thread pool)', async () => {
  const layer = new GatedLayer();
  const s = await FileStore.open(tempDir(), { fileLayer: layer });
  layer.held = true;
  s.append([accept(0, 1, append('x'))]);
  let resolved = false;
  const done = s.sync().then(() => (resolved = true));
  for (let i = 0; i < 20; i++) await tick();
  assert.equal(resolved, false);
  assert.equal(s.durableSeq(), 0);
  assert.deepEqual(s.action(0), append('x'), 'served from memory meanwhile');
  layer.open();
  await done;
  assert.equal(s.durableSeq(), 1);
  await s.close();
});

test('a sync does not resolve before its fdatasync returned (main thread)', async () => {
  const layer = new FaultyLayer();
  const s = await FileStore.open(tempDir(), { fileLayer: layer });
  const real = layer.datasyncSync!;
  const seen: number[] = [];
  layer.datasyncSync = (fd) => {
    seen.push(s.durableSeq());
    real(fd);
  };
  s.append([accept(0, 1, append('x'))]);
  assert.equal(await s.sync(), 1);
  assert.deepEqual(seen, [0], 'not durable while its fdatasync ran');
  assert.deepEqual(layer.paths.slice(-1), ['sync']);
  await s.close();
});

test('small batches go through the main thread, large ones and roll-overs through the thread pool', async () => {
  const layer = new FaultyLayer();
  const s = await FileStore.open(tempDir(), { fileLayer: layer, syncWriteBytesMax: 4096, segmentBytesMax: 64 * 1024 });
  const last = (): string[] => layer.paths.splice(0);
  layer.paths.length = 0;
  s.append([accept(0, 1, append('small'))]);
  await s.sync();
  assert.deepEqual(last(), ['sync', 'sync'], 'a small batch: write and fdatasync on the main thread');
  s.append([accept(1, 1, append('x'.repeat(5000)))]);
  await s.sync();
  assert.deepEqual(last(), ['async', 'async'], 'above syncWriteBytesMax: the thread pool');
  // Fill the segment until a batch rolls over: the new segment is created on the thread pool.
  const segments = s.segmentCount();
  for (let p = 2; s.segmentCount() === segments; p++) {
    s.append([accept(p, 1, append('y'.repeat(1000)))]);
    layer.paths.length = 0;
    await s.sync();
  }
  assert.equal(last()[0], 'async', 'a roll-over batch');
  await s.close();
  const off = new FaultyLayer();
  const t = await FileStore.open(tempDir(), { fileLayer: off, syncWriteBytesMax: 0 });
  off.paths.length = 0;
  t.append([accept(0, 1, append('small'))]);
  await t.sync();
  assert.deepEqual(off.paths, ['async', 'async'], 'syncWriteBytesMax 0: always the thread pool');
  await t.close();
});

test.after(removeTempDirs);
