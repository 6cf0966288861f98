// Attack on reconfig3 (attack3), compatibility: `--members` accepted any safe positive id, so
// 9007199254740991 (2^53 - 1) was a member id; from wire version 3 the config reply carries the
// placement's nextId (max id + 1 = 2^53, not a safe integer), encoding it failed an assertion on every
// config request and no client could connect. Fix: member ids are bounded where they are parsed and
// checked (MEMBER_ID_MAX = 2^53 - 2, membership.ts), so nextId stays a safe integer. The highest id
// serves a client; the one above is refused at startup with a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { MEMBER_ID_MAX } from '../../src/core/membership.js';
import { parseMembers } from '../../src/server/members.js';
import { LogClient } from '../../src/client/log-client.js';
import { startReplica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from '../integration/helpers.js';

test('a one-replica cluster whose member id is the highest allowed (2^53 - 2) serves a client', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'replog-bigid-'));
  const [port] = await freePorts(1);
  const id = MEMBER_ID_MAX;
  assert.equal(id, 2 ** 53 - 2);
  const internal: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void (/internal error/.test(line) && internal.push(line.slice(0, 200))) });
  const replica = await startReplica({ id, dir, listen: `127.0.0.1:${port}`, members: `${id}=127.0.0.1:${port}`, logger });
  try {
    await waitFor('the replica votes', () => replica.host.status === 'VOTING' && replica.host.waiting === '', 30_000);
    const client = await LogClient.connect([`127.0.0.1:${port}`]);
    try {
      const w = await client.writer();
      const p = await w.append('served');
      assert.equal(Buffer.from((await client.read(p, p))[0]!.data).toString(), 'served');
    } finally {
      await client.close();
    }
    assert.deepEqual(internal, [], 'no internal error');
  } finally {
    await replica.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('member id 2^53 - 1 is refused where members are parsed, with a clear error', () => {
  assert.throws(() => parseMembers(`${Number.MAX_SAFE_INTEGER}=127.0.0.1:7001`), /bad member id '9007199254740991': ids are integers from 1 to 9007199254740990/);
  assert.throws(() => parseMembers('0=127.0.0.1:7001'), /bad member id/);
});
