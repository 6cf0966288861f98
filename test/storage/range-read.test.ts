/**
 * FileStore.readActions (the catch-up's range read): the same answers as
 * action() position by position, large entries included, damage caught and
 * never served, unwritten and missing positions handled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FileStore } from '../../src/storage/file-store.js';
import { RANGE_SPAN_BYTES, RANGE_TAIL_BYTES } from '../../src/storage/record-reader.js';
import { accept, append, learn, META } from './contract.js';
import { findFrame, flipBit } from './disk-helpers.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

const sizeOf = (p: number): number => (p % 97 === 5 ? RANGE_TAIL_BYTES + 1000 : p % 13 === 0 ? 0 : 1 + ((p * 37) % 3000));
const valueOf = (p: number): string => String.fromCharCode(65 + (p % 26)).repeat(sizeOf(p));

/** Positions [0, n): accepted, some learned by learn records, several segments and batches. */
async function filled(n: number): Promise<string> {
  const dir = tempDir();
  const s = await FileStore.open(dir, { segmentBytesMax: RANGE_SPAN_BYTES * 2 });
  s.append([{ type: 'metadata', metadata: META }]);
  for (let p = 0; p < n; p++) {
    s.append([p % 5 === 0 ? learn(p, append(valueOf(p))) : accept(p, 3, append(valueOf(p)))]);
    if (p % 50 === 49) await s.sync();
  }
  await s.sync();
  await s.close();
  return dir;
}

test.after(removeTempDirs);

test('readActions answers as action() does, across runs, segments and large entries', async () => {
  const n = 1500;
  const dir = await filled(n);
  const s = await FileStore.open(dir);
  assert.ok(s.segmentCount() > 1);
  const all = Array.from({ length: n + 3 }, (_, p) => p); // the last three have no slot
  const got = s.readActions(all);
  for (const p of all) assert.deepEqual(got[p], p < n ? append(valueOf(p)) : undefined, `position ${p}`);
  // Not yet durable: served from memory.
  s.append([accept(n, 3, append('fresh'))]);
  assert.deepEqual(s.readActions([n - 1, n]), [append(valueOf(n - 1)), append('fresh')]);
  await s.close();
});

test('readActions never serves a damaged frame: the position is lost, its neighbours intact', async () => {
  const dir = await filled(200);
  const s = await FileStore.open(dir);
  const f = findFrame(dir, 'accept', 42);
  flipBit(f.path, f.end - 1, 3);
  const k = findFrame(dir, 'accept', 43);
  flipBit(k.path, k.offset + 10, 1); // the key: not even the position can be trusted
  const got = s.readActions(Array.from({ length: 200 }, (_, p) => p));
  assert.equal(got[42], 'lost');
  assert.equal(got[43], 'lost');
  for (let p = 0; p < 200; p++) if (p !== 42 && p !== 43) assert.deepEqual(got[p], append(valueOf(p)), `position ${p}`);
  assert.deepEqual(s.lostPositions(), [42, 43]);
  assert.equal(s.action(42), 'lost');
  await s.close();
});
