// A read of a range far larger than one round (issue 21's read figures): a whole log of 200,000 entries in
// one read() call. It threw "Maximum call stack size exceeded" when the client spread one read op's entries
// into its result as arguments (push(...entries)): ordinary use crashed the call, not the replicas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/log-client.js';
import { startReplica } from '../../src/server/replica-server.js';
import { removeTempDirs, tempDir } from '../storage/tmp-dirs.js';

test.after(removeTempDirs);

const quiet = { info() {}, warn() {}, error() {} };

test('read() returns a 200,000-entry range in one call, every entry in order', async () => {
  const replica = await startReplica({ id: 1, dir: tempDir(), listen: '127.0.0.1:0', members: { 1: '127.0.0.1:0' }, logger: quiet });
  try {
    await replica.ready;
    const log = await LogClient.connect([replica.address], { waitForQuorum: true, connectTimeoutMs: 20_000 });
    try {
      const w = await log.writer();
      const n = 200_000;
      let next = 0;
      await Promise.all(
        Array.from({ length: 1024 }, async () => {
          while (next < n) {
            const i = next++;
            await w.append(new Uint8Array([i & 0xff]));
          }
        }),
      );
      const end = await log.ending();
      const got = await log.read(0, end, { timeoutMs: 120_000 });
      assert.equal(got.length, n);
      for (let i = 1; i < got.length; i++) if (got[i]!.position <= got[i - 1]!.position) assert.fail(`positions out of order at ${i}`);
    } finally {
      await log.close();
    }
  } finally {
    await replica.stop();
  }
});
