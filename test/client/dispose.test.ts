// Lifecycle ends (issue 18): close(), resign() and stop() return the same promise on every call, and
// `await using` ends a LogClient, a Writer and an embedded Replica at the end of the block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/log-client.js';
import type { Writer } from '../../src/client/writer.js';
import { ClosedError } from '../../src/core/errors.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { removeTempDirs, tempDir } from '../storage/tmp-dirs.js';

test.after(removeTempDirs);

const quiet = { info() {}, warn() {}, error() {} };

function oneReplica(dir = tempDir()): Promise<Replica> {
  return startReplica({ id: 1, dir, listen: '127.0.0.1:0', members: { 1: '127.0.0.1:0' }, logger: quiet });
}

test('close(), resign() and stop() return the same promise on every call', async () => {
  const replica = await oneReplica();
  await replica.ready;
  const log = await LogClient.connect([replica.address], { waitForQuorum: true, connectTimeoutMs: 20_000 });
  const w = await log.writer();
  const appended = w.append('in flight');
  const resigned = w.resign();
  assert.equal(w.resign(), resigned, 'resign()');
  assert.equal(w[Symbol.asyncDispose](), resigned, 'a Writer disposes by resigning');
  assert.equal(typeof (await appended), 'number', 'resign() waited for the append in flight');
  await resigned;
  assert.equal(w.state, 'resigned');
  const closed = log.close();
  assert.equal(log.close(), closed, 'close()');
  assert.equal(log[Symbol.asyncDispose](), closed, 'a LogClient disposes by closing');
  await closed;
  const stopped = replica.stop();
  assert.equal(replica.stop(), stopped, 'stop()');
  assert.equal(replica[Symbol.asyncDispose](), stopped, 'a Replica disposes by stopping');
  await stopped;
});

test('await using ends a replica, a client and a writer at the end of the block, innermost first', async () => {
  const dir = tempDir();
  let client: LogClient | undefined;
  let writer: Writer | undefined;
  {
    await using replica = await oneReplica(dir);
    await replica.ready;
    await using log = await LogClient.connect([replica.address], { waitForQuorum: true, connectTimeoutMs: 20_000 });
    await using w = await log.writer();
    await w.append('scoped');
    client = log;
    writer = w;
  }
  assert.equal(writer.state, 'resigned');
  await assert.rejects(client.read(0, 0), ClosedError);
  // The replica stopped: its data directory (and its lock) is free for another.
  const again = await oneReplica(dir);
  await again.stop();
});
