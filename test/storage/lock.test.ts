/**
 * The data directory lock is held by the kernel for the life of a descriptor
 * (flock), not judged from a pid: a pid in the lock file that looks alive
 * (pid 1 in a container, our own pid reused) does not keep a restarted
 * replica out, and a live holder keeps everyone else out whatever the file
 * says (another pid namespace sees other pids).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDirLockedError } from '../../src/storage/errors.js';
import { FileStore } from '../../src/storage/file-store.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

test.after(removeTempDirs);

test('a lock file naming a live pid that holds no lock does not keep the replica out (pid 1 after a crash)', async () => {
  const dir = tempDir();
  // As a replica that ran as pid 1 in a container and crashed leaves it; pid 1 is alive here too.
  writeFileSync(join(dir, 'LOCK'), '1\n');
  const s = await FileStore.open(dir);
  assert.match(readFileSync(join(dir, 'LOCK'), 'utf8'), new RegExp(`pid ${process.pid} `));
  await s.close();
});

test('a live holder keeps others out whatever its lock file says (another pid namespace)', async () => {
  const dir = tempDir();
  const child = spawn(process.execPath, [new URL('./lock-holder.js', import.meta.url).pathname, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('open\n')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
    // Seen from another pid namespace, the holder's pid means nothing: say it is a dead one.
    writeFileSync(join(dir, 'LOCK'), '999999999\n');
    await assert.rejects(FileStore.open(dir), (e: unknown) => {
      assert.ok(e instanceof DataDirLockedError);
      assert.equal(e.code, 'DATA_DIR_LOCKED');
      assert.match(e.message, new RegExp(dir));
      return true;
    });
  } finally {
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
  }
  // The holder is gone: the kernel released its lock.
  const s = await FileStore.open(dir);
  await s.close();
});

test('a holder that is killed releases the lock with its process', async () => {
  const dir = tempDir();
  const child = spawn(process.execPath, [new URL('./lock-holder.js', import.meta.url).pathname, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.on('data', (b: Buffer) => b.toString().includes('open') && resolve()));
  await assert.rejects(FileStore.open(dir), DataDirLockedError);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const s = await FileStore.open(dir);
  await s.close();
});
