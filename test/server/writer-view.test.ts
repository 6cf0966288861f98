// `/status` says who holds the writer and how many more replica losses it survives (issue 10, item 7):
// three replicas in this process, a writer appending, then one replica stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LogClient } from '../../src/client/log-client.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from '../integration/helpers.js';

interface WriterStatus {
  proposal: number;
  counted: number[];
  reachable: number[];
  quorum: number;
  survives: number;
}

async function writerStatus(r: Replica): Promise<WriterStatus | null> {
  const res = await fetch(`http://${r.adminAddress}/status`);
  return ((await res.json()) as { writer: WriterStatus | null }).writer;
}

test('/status shows the writer\'s counted members and how many more losses it survives', async () => {
  const root = mkdtempSync(join(tmpdir(), 'replog-writer-view-'));
  const ports = await freePorts(6);
  const members = [1, 2, 3].map((id, i) => `${id}=127.0.0.1:${ports[i]}`).join(',');
  const replicas = await Promise.all(
    [1, 2, 3].map((id, i) =>
      startReplica({ id, dir: join(root, `r${id}`), listen: `127.0.0.1:${ports[i]}`, admin: `127.0.0.1:${ports[i + 3]}`, members, logger: pino({ level: 'silent' }) }),
    ),
  );
  const log = await LogClient.connect(replicas.map((r) => r.address));
  try {
    await waitFor('every replica VOTING', async () => replicas.every((r) => r.host.status === 'VOTING'), 30_000);
    assert.equal(await writerStatus(replicas[0]!), null, 'no writer yet');
    const doc = (await (await fetch(`http://${replicas[0]!.adminAddress}/status`)).json()) as { role: string; config: unknown };
    assert.deepEqual({ role: doc.role, config: doc.config }, { role: 'voter', config: { epoch: 0, voters: [1, 2, 3], learners: [] } });
    const w = await log.writer();
    await waitFor('the writer counts all three', async () => {
      await w.append('x');
      const s = await writerStatus(replicas[0]!);
      return s !== null && s.counted.length === 3 && s.reachable.length === 3;
    }, 30_000);
    const s = (await writerStatus(replicas[0]!))!;
    assert.deepEqual({ counted: s.counted, quorum: s.quorum, survives: s.survives }, { counted: [1, 2, 3], quorum: 2, survives: 1 });
    await replicas[2]!.stop();
    await waitFor('replica 1 sees the writer at its last quorum', async () => {
      await w.append('y');
      const v = await writerStatus(replicas[0]!);
      return v !== null && v.survives === 0 && v.reachable.join() === '1,2';
    }, 30_000);
  } finally {
    await log.close();
    await Promise.all(replicas.slice(0, 2).map((r) => r.stop()));
    rmSync(root, { recursive: true, force: true });
  }
});
