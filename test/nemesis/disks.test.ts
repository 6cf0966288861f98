// The bed's small disks (disks.ts): a tmpfs per data directory, filled to ENOSPC by ballast, emptied, and
// unmounted with its files copied back. Needs root (mount); skipped, and says so, without.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DISK_MIB, Disks, disksUnavailable } from '../../src/nemesis/disks.js';

const why = disksUnavailable();

const mounted = (dir: string) => spawnSync('mountpoint', ['-q', dir]).status === 0;

test('a small disk fills to ENOSPC, empties, and keeps its files when unmounted', { skip: why === undefined ? false : `!!! no small disks: ${why}` }, () => {
  const root = mkdtempSync(join(tmpdir(), 'replog-disks-'));
  const dir = join(root, 'r1');
  const disks = new Disks();
  try {
    disks.mount(dir);
    assert.ok(mounted(dir), 'the disk is mounted');
    writeFileSync(join(dir, 'segment'), 'kept');
    const ballast = disks.fill(dir);
    assert.ok(ballast > (DISK_MIB - 1) * 2 ** 20, `ballast ${ballast}`);
    assert.equal(Disks.freeBytes(dir), 0, 'nothing left');
    assert.throws(() => writeFileSync(join(dir, 'more'), 'x'.repeat(8192)), /ENOSPC/);
    disks.empty(dir);
    assert.ok(Disks.freeBytes(dir) > (DISK_MIB - 1) * 2 ** 20, 'room again');
    disks.unmountAll();
    assert.equal(mounted(dir), false, 'unmounted');
    assert.equal(readFileSync(join(dir, 'segment'), 'utf8'), 'kept');
    disks.unmountAll();
  } finally {
    disks.dropAll();
    rmSync(root, { recursive: true, force: true });
  }
});
