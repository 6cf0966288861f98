/**
 * The read-only surfaces of membership report the configuration a replica's
 * disk holds (docs/reconfiguration.md, step 2): `replog config show`, the
 * config reply clients read, and `/status`'s role and config. Before any
 * change (every directory today) that is the members it was started with,
 * all voters, at epoch 0; a stored chain wins over the flags.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import { startReplica } from '../../src/server/replica-server.js';
import { clusterIdFor } from '../../src/server/members.js';
import { FileStore } from '../../src/storage/file-store.js';
import { removeTempDirs, tempDir } from '../storage/tmp-dirs.js';
import { runCli } from './helpers.js';

test.after(removeTempDirs);

const quiet = pino({ level: 'silent' });

async function statusOf(admin: string): Promise<{ role: string; config: unknown }> {
  const r = await fetch(`http://${admin}/status`);
  return (await r.json()) as { role: string; config: unknown };
}

test('config show on a directory without a stored chain: the members, all voters, epoch 0', async () => {
  await using replica = await startReplica({ id: 1, dir: tempDir(), listen: '127.0.0.1:0', members: { 1: '127.0.0.1:7001' }, admin: '127.0.0.1:0', logger: quiet, processMetrics: false });
  const r = await runCli(['config', 'show', '--json', '--log', replica.address]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { epoch: 0, voters: [{ id: 1, address: '127.0.0.1:7001' }], learners: [], quorum: 1, failuresTolerated: 0, pending: null });
  const text = await runCli(['config', 'show', '--log', replica.address]);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(
    text.stdout,
    `epoch               0\nvoters              1=127.0.0.1:7001\nlearners            (none)\nquorum              1 of 1\nfailures tolerated  0\npending change      none\n`,
  );
  const s = await statusOf(replica.adminAddress!);
  assert.equal(s.role, 'voter');
  assert.deepEqual(s.config, { epoch: 0, voters: [1], learners: [] });
});

test('a stored chain is what the replica reports (epoch, members; /status roles)', async () => {
  const dir = tempDir();
  const members = { 1: '127.0.0.1:7001' };
  const c0: PlacedConfiguration = { epoch: 0, voters: [{ id: 1, address: '127.0.0.1:7001' }], learners: [], nextId: 2, position: -1, floor: 0 };
  const c1: PlacedConfiguration = { ...c0, epoch: 1, learners: [{ id: 2, address: '127.0.0.1:7002' }], nextId: 3, position: 5, floor: 1 };
  // A directory as a later step will leave it: a chain in the metadata (written here directly).
  const s = await FileStore.open(dir, { replicaId: 1, clusterId: clusterIdFor(members) });
  s.append([{ type: 'metadata', metadata: { ...s.metadata(), status: 'VOTING', configs: [c0, c1] } }]);
  await s.sync();
  await s.close();
  await using replica = await startReplica({ id: 1, dir, listen: '127.0.0.1:0', members, admin: '127.0.0.1:0', logger: quiet, processMetrics: false });
  const st = await statusOf(replica.adminAddress!);
  assert.equal(st.role, 'voter');
  assert.deepEqual(st.config, { epoch: 1, voters: [1], learners: [2] });
  // The config reply names voters and learners (wire version 3 on), and config show shows them apart.
  const r = await runCli(['config', 'show', '--json', '--log', replica.address]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { epoch: number; voters: { id: number }[]; learners: { id: number }[]; quorum: number };
  assert.equal(doc.epoch, 1);
  assert.deepEqual(doc.voters.map((m) => m.id), [1]);
  assert.deepEqual(doc.learners.map((m) => m.id), [2]);
  assert.equal(doc.quorum, 1);
});
