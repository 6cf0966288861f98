// Embedded mode (issue 18): a replica in the application's process reports when it is ready, the ports it bound
// when asked for port 0, and its storage failures as events, not only in its log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/log-client.js';
import { startReplica } from '../../src/server/replica-server.js';
import { ReplicaHost, type StorageEvent } from '../../src/server/replica-host.js';
import { FileStore } from '../../src/storage/file-store.js';
import { StorageFatalError, StorageFullError } from '../../src/server/index.js';
import { FaultyLayer } from '../storage/faulty-layer.js';
import { removeTempDirs, tempDir } from '../storage/tmp-dirs.js';

test.after(removeTempDirs);

const quiet = { info() {}, warn() {}, error() {} };

async function until(cond: () => boolean, what: string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('a one-replica log on port 0: ready, the bound addresses, and a client that uses them', async () => {
  const replica = await startReplica({ id: 1, dir: tempDir(), listen: '127.0.0.1:0', admin: '127.0.0.1:0', members: { 1: '127.0.0.1:0' }, logger: quiet });
  try {
    await replica.ready;
    assert.equal(replica.status, 'VOTING');
    assert.match(replica.address, /^127\.0\.0\.1:[1-9]\d*$/);
    assert.match(replica.adminAddress ?? '', /^127\.0\.0\.1:[1-9]\d*$/);
    const log = await LogClient.connect([replica.address], { waitForQuorum: true, connectTimeoutMs: 20_000 });
    try {
      assert.deepEqual((await log.configuration()).voters, [{ id: 1, address: replica.address }]);
      const w = await log.writer();
      const p = await w.append('embedded');
      assert.equal(Buffer.from((await log.read(p, p))[0]!.data).toString(), 'embedded');
    } finally {
      await log.close();
    }
  } finally {
    await replica.stop();
  }
});

test('ready rejects when the replica stops before it is VOTING (a member of a cluster that is not there)', async () => {
  const replica = await startReplica({ id: 1, dir: tempDir(), listen: '127.0.0.1:0', members: { 1: '127.0.0.1:0', 2: '127.0.0.1:9', 3: '127.0.0.1:9' }, logger: quiet });
  assert.notEqual(replica.status, 'VOTING', 'its peers are not there to recover from');
  const ready = replica.ready.then(() => 'ready', () => 'rejected');
  await replica.stop();
  assert.equal(await ready, 'rejected');
});

test('storage failures reach the application: paused, resumed, fatal', async () => {
  const dir = tempDir();
  const s0 = await FileStore.open(dir);
  s0.append([{ type: 'metadata', metadata: { status: 'VOTING', promised: 3, incarnation: 'i' } }]);
  await s0.sync();
  await s0.close();
  const layer = new FaultyLayer();
  const store = await FileStore.open(dir, { fileLayer: layer });
  const events: StorageEvent['state'][] = [];
  const errors: (Error | undefined)[] = [];
  let fatal: Error | undefined;
  const host = new ReplicaHost({ id: 1, members: [1], store, log: quiet, sendToPeer() {}, onStorage: (e) => {
    events.push(e.state);
    errors.push(e.error);
  }, onFatal: (e) => (fatal = e) });
  layer.writeFaults.push('ENOSPC', 'ENOSPC', 'ENOSPC');
  host.handle({ type: 'promise', rid: 1, proposal: 9 }, { send: () => true });
  await until(() => events.includes('paused'), 'the paused event');
  layer.writeFaults.length = 0;
  for (let i = 0; i < 2000 && !events.includes('resumed'); i++) {
    host.tick();
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.deepEqual(events, ['paused', 'resumed']);
  layer.syncFaults.push('EIO');
  host.handle({ type: 'promise', rid: 2, proposal: 10 }, { send: () => true });
  await until(() => fatal !== undefined, 'the fatal failure');
  assert.deepEqual(events, ['paused', 'resumed', 'fatal']);
  // The errors are the package's exported classes (instanceof from `replog` or `replog/server`).
  assert.ok(errors[0] instanceof StorageFullError, String(errors[0]));
  assert.equal(errors[1], undefined);
  assert.ok(errors[2] instanceof StorageFatalError, String(errors[2]));
  await store.close();
});
