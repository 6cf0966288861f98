/**
 * Segments that are missing, empty or cut never pass as clean (issue 17 case
 * 1), records found inside entry bytes never fool the scanner or lower the
 * alarm (case 2), the highest proposal survives the deletion of old segments
 * (case 6), and files that are not ours are refused (symlinks, other
 * owners' files, non-regular files), with private permissions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { FileStore } from '../../src/storage/file-store.js';
import { DataDirUnsafeError } from '../../src/storage/errors.js';
import { encodeFrame } from '../../src/storage/record-codec.js';
import { scanFrames } from '../../src/storage/frame-scan.js';
import { findFrame, flipBit, saltOf, segmentPaths } from './disk-helpers.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

test.after(removeTempDirs);

const opts = { segmentBytesMax: 1024, replicaId: 1, clusterId: 'c' };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** 40 acknowledged accepts over several segments, a promise of 50 among them. */
async function filled(): Promise<string> {
  const dir = tempDir();
  const s = await FileStore.open(dir, opts);
  s.append([{ type: 'metadata', metadata: { status: 'VOTING', promised: 3, incarnation: 'i' } }]);
  await s.sync();
  for (let p = 0; p < 40; p++) {
    s.append([{ type: 'accept', position: p, proposal: 3 + Math.floor(p / 10), action: { kind: 'append', data: enc('x'.repeat(100) + p) } }]);
    if (p === 15) s.append([{ type: 'metadata', metadata: { status: 'VOTING', promised: 50, incarnation: 'i' } }]);
    await s.sync();
  }
  await s.close();
  assert.ok(segmentPaths(dir).length >= 5);
  return dir;
}

/** Opens and asserts that the loss was reported and the replica does not vote. */
async function assertReported(dir: string, what: string): Promise<void> {
  const s = await FileStore.open(dir, opts);
  assert.ok(s.openReport.corruptRegions.length > 0, `${what}: damage reported`);
  assert.equal(s.openReport.metadataCorrupted, true, `${what}: may have lost a vote`);
  assert.equal(s.metadata().status, 'RECOVERING', `${what}: not voting`);
  await s.close();
  const again = await FileStore.open(dir, opts);
  assert.equal(again.metadata().status, 'RECOVERING', `${what}: still not voting after another restart`);
  await again.close();
}

test('a zero-length middle segment is damage, not a clean log', async () => {
  const dir = await filled();
  const paths = segmentPaths(dir);
  truncateSync(paths[Math.floor(paths.length / 2)]!, 0);
  await assertReported(dir, 'zero-length middle');
});

test('a middle segment cut at a frame boundary is damage (the next header names its size)', async () => {
  const dir = await filled();
  const paths = segmentPaths(dir);
  const mid = paths[Math.floor(paths.length / 2)]!;
  const buf = readFileSync(mid);
  const items = scanFrames(buf, buf.length, saltOf(dir));
  truncateSync(mid, items[1]!.end);
  await assertReported(dir, 'cut middle');
});

test('a deleted last segment is damage: its predecessor is sealed', async () => {
  const dir = await filled();
  const paths = segmentPaths(dir);
  unlinkSync(paths[paths.length - 1]!);
  await assertReported(dir, 'missing last');
});

test('a last segment truncated to zero is damage, and the file is kept, not deleted', async () => {
  const dir = await filled();
  const paths = segmentPaths(dir);
  const last = paths[paths.length - 1]!;
  truncateSync(last, 0);
  await assertReported(dir, 'zero-length last');
  assert.ok(statSync(last).isFile(), 'the evidence stays (sealed, never deleted)');
});

test('a missing first segment that still held live positions is damage', async () => {
  const dir = await filled();
  unlinkSync(segmentPaths(dir)[0]!);
  await assertReported(dir, 'missing first');
});

test('the highest proposal seen survives the deletion of old segments', async () => {
  const dir = tempDir();
  const s = await FileStore.open(dir, opts);
  s.append([{ type: 'metadata', metadata: { status: 'VOTING', promised: 3, incarnation: 'i' } }, { type: 'promise', position: 5, promised: 90 }]);
  await s.sync();
  for (let p = 0; p < 30; p++) {
    s.append([{ type: 'learn', position: p, action: { kind: 'append', data: enc('y'.repeat(100)) } }]);
    await s.sync();
  }
  s.append([{ type: 'learn', position: 30, action: { kind: 'truncate', to: 25 } }]);
  await s.sync();
  const before = s.highestProposal();
  assert.equal(before, 90);
  await s.close();
  const r = await FileStore.open(dir, opts);
  assert.ok(r.segmentCount() < 5, 'old segments were deleted');
  assert.equal(r.highestProposal(), before, 'a number once granted stays granted');
  await r.close();
});

test('records inside an entry never pass for records: neither the salt nor, after damage, the alarm', async () => {
  const dir = tempDir();
  const s = await FileStore.open(dir, opts);
  s.append([{ type: 'metadata', metadata: { status: 'VOTING', promised: 3, incarnation: 'i' } }]);
  await s.sync();
  // An entry that holds a STARTING metadata record and an accept, framed with this very directory's salt.
  const salt = saltOf(dir);
  const inner = Buffer.concat([
    encodeFrame({ type: 'metadata', metadata: { status: 'STARTING', promised: 0, incarnation: 'i' } }, salt),
    encodeFrame({ type: 'accept', position: 77, proposal: 99, action: { kind: 'append', data: enc('forged') } }, salt),
  ]);
  s.append([{ type: 'accept', position: 1, proposal: 3, action: { kind: 'append', data: new Uint8Array(inner) } }]);
  s.append([{ type: 'accept', position: 2, proposal: 3, action: { kind: 'append', data: enc('plain') } }]);
  await s.sync();
  await s.close();
  const f = findFrame(dir, 'accept', 1);
  flipBit(f.path, f.offset + 10, 1); // the key of the accept at position 1: the scanner resynchronises inside its entry
  const r = await FileStore.open(dir, opts);
  assert.equal(r.openReport.metadataCorrupted, true, 'a record found by resynchronising never lowers the alarm');
  assert.equal(r.metadata().status, 'RECOVERING');
  await r.close();
  // With another directory's salt (an application storing a log in the log), nothing inside checks out at all.
  const other = tempDir();
  const o = await FileStore.open(other, opts);
  o.append([{ type: 'accept', position: 1, proposal: 3, action: { kind: 'append', data: new Uint8Array(inner) } }]);
  await o.sync();
  await o.close();
  const buf = readFileSync(segmentPaths(other)[0]!);
  const frames = scanFrames(buf, buf.length, saltOf(other)).filter((i) => i.kind === 'frame');
  assert.equal(frames.length, 2, 'the header and the one accept: nothing found inside its entry');
});

test('a symlink named like a segment is refused, and its target is never touched', async () => {
  const dir = await filled();
  const paths = segmentPaths(dir);
  const next = paths[paths.length - 1]!.replace(/(\d{10})/, (m) => String(Number(m) + 1).padStart(10, '0'));
  const target = join(tempDir(), 'precious');
  writeFileSync(target, 'do not cut me');
  symlinkSync(target, next);
  await assert.rejects(FileStore.open(dir, opts), DataDirUnsafeError);
  assert.equal(readFileSync(target, 'utf8'), 'do not cut me');
});

test('a directory named like a segment, or a file of another user, is refused', async () => {
  const dir = await filled();
  const paths = segmentPaths(dir);
  const next = paths[paths.length - 1]!.replace(/(\d{10})/, (m) => String(Number(m) + 1).padStart(10, '0'));
  mkdirSync(next);
  await assert.rejects(FileStore.open(dir, opts), DataDirUnsafeError);
  if (process.getuid?.() === 0) {
    const other = await filled();
    const last = segmentPaths(other).pop()!;
    chownSync(last, 12345, 12345);
    await assert.rejects(FileStore.open(other, opts), /owned by user 12345/);
  }
});

test('a file with no valid segment header is never cut: it is damage unless it is the debris of an unsealed roll-over', async () => {
  const dir = await filled();
  const paths = segmentPaths(dir);
  const next = paths[paths.length - 1]!.replace(/(\d{10})/, (m) => String(Number(m) + 1).padStart(10, '0'));
  writeFileSync(next, Buffer.from('not a segment, but a regular file of ours'.repeat(3)));
  // The previous last segment is not sealed (no roll-over happened): no intact frame in it, so it is debris: deleted, never cut.
  const s = await FileStore.open(dir, opts);
  assert.equal(s.openReport.metadataCorrupted, false);
  await s.close();
  assert.throws(() => statSync(next), /ENOENT/);
});

test('data directories are created 0700 and segment files 0600', async () => {
  const dir = join(tempDir(), 'a', 'b');
  const s = await FileStore.open(dir, opts);
  await s.close();
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, '..')).mode & 0o777, 0o700);
  for (const p of segmentPaths(dir)) assert.equal(statSync(p).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'LOCK')).mode & 0o777, 0o600);
  chmodSync(dir, 0o700);
});
