// The state store on real replica processes, through LogClient and through the
// `replog state` command line (issue 16; interfaces.md, "State").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { LogClient } from '../../src/client/log-client.js';
import { WriterFencedError } from '../../src/core/errors.js';
import { StateStore } from '../../src/state/store.js';
import { checkHistory } from './lincheck.js';
import { recordHistory } from './history.js';
import { BIN, runCli, TestCluster, waitFor } from '../integration/helpers.js';

let cluster: TestCluster;
const clients: LogClient[] = [];
const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString('utf8'));

before(async () => {
  cluster = await TestCluster.create(3);
  await cluster.startAll();
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await cluster.stop();
});

async function connect(): Promise<LogClient> {
  const log = await LogClient.connect(cluster.addresses);
  clients.push(log);
  return log;
}

test('on a real cluster: compare-and-set, a second store fences the first, a follower keeps up', async () => {
  const a = await StateStore.open(await connect());
  const r = await a.put('lib/leader', 'a', { ifModRevision: 0 });
  assert.ok(r.ok);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => a.put(`lib/k${i % 4}`, `v${i}`)));
  assert.ok(results.every((x) => x.ok));
  const follower = await StateStore.follow(await connect());
  const b = await StateStore.open(await connect());
  assert.equal(b.digest, a.digest, 'the new writer replayed to the same state');
  const err = await a.put('lib/leader', 'a2').then(() => assert.fail('the fenced store wrote'), (e: unknown) => e);
  assert.ok(err instanceof WriterFencedError, String(err));
  const won = await b.put('lib/leader', 'b', { ifModRevision: r.revision });
  assert.ok(won.ok);
  assert.equal(text((await follower.get('lib/leader'))?.value), 'b', 'a linearizable read on a follower sees the new writer\'s put');
  await waitFor('the follower to tail to the writer\'s revision', () => follower.revision >= won.revision);
  await Promise.all([a.close(), b.close(), follower.close()]);
});

test('the replog state command: put, get, conditions (exit 4 naming the current revision), missing keys (exit 1), list, watch', async () => {
  const env = { REPLOG_LOG: cluster.addresses.join(',') };
  const put = await runCli(['state', 'put', 'cli/a', 'hello'], { env });
  assert.equal(put.code, 0, put.stderr);
  const rev = Number(put.stdout.trim());
  assert.ok(Number.isSafeInteger(rev) && rev > 0, put.stdout);

  const get = await runCli(['state', 'get', 'cli/a'], { env });
  assert.deepEqual([get.code, get.stdout], [0, 'hello\n']);
  const getJson = await runCli(['state', 'get', 'cli/a', '--json'], { env });
  assert.deepEqual(JSON.parse(getJson.stdout), { key: 'cli/a', value: Buffer.from('hello').toString('base64'), revision: rev, version: 1 });

  const stale = await runCli(['state', 'put', 'cli/a', 'x', '--if-revision', '0'], { env });
  assert.equal(stale.code, 4, stale.stderr);
  assert.match(stale.stderr, new RegExp(`revision ${rev}\\b`));
  assert.equal(stale.stderr.trim().split('\n').length, 1, 'one line');
  const fresh = await runCli(['state', 'put', 'cli/b', 'x', '--if-revision', '0'], { env });
  assert.equal(fresh.code, 0, fresh.stderr);

  const missing = await runCli(['state', 'get', 'cli/none'], { env });
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  const delMissing = await runCli(['state', 'delete', 'cli/none'], { env });
  assert.equal(delMissing.code, 1);

  const list = await runCli(['state', 'list', '--prefix', 'cli/'], { env });
  assert.deepEqual([list.code, list.stdout], [0, 'cli/a\ncli/b\n']);
  const del = await runCli(['state', 'delete', 'cli/a', '--if-revision', String(rev)], { env });
  assert.equal(del.code, 0, del.stderr);
  const delRev = Number(del.stdout.trim());

  // watch from the first revision: the put, then the delete; then a live change.
  const watcher = spawn(process.execPath, [BIN, 'state', 'watch', '--prefix', 'cli/a', '--from-revision', String(rev)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = '';
  let stderr = '';
  watcher.stdout.on('data', (d: Buffer) => (lines += d.toString()));
  watcher.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((res) => watcher.on('exit', (code) => res(code)));
  await waitFor('the past changes', () => lines.split('\n').length >= 3);
  const again = await runCli(['state', 'put', 'cli/a', 'back'], { env });
  assert.equal(again.code, 0, again.stderr);
  await waitFor('the live change', () => lines.split('\n').length >= 4, 30_000);
  watcher.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
  assert.deepEqual(
    lines.trim().split('\n').map((l) => JSON.parse(l)),
    [
      { type: 'put', key: 'cli/a', value: Buffer.from('hello').toString('base64'), revision: rev },
      { type: 'delete', key: 'cli/a', revision: delRev },
      { type: 'put', key: 'cli/a', value: Buffer.from('back').toString('base64'), revision: Number(again.stdout.trim()) },
    ],
  );
});

test('concurrent clients on separate connections (a writer, two followers, a second writer taking over) give a linearizable history', async () => {
  const ops = await recordHistory({
    writers: [await StateStore.open(await connect())],
    openWriter: async () => StateStore.open(await connect()),
    readers: [await StateStore.follow(await connect()), await StateStore.follow(await connect())],
    keys: ['lin/x', 'lin/y'],
    opsPerClient: 25,
  });
  const writes = ops.filter((o) => o.call.kind !== 'read').length;
  assert.ok(writes > 10, `${ops.length} operations, ${writes} writes`);
  const result = checkHistory(ops);
  assert.ok(result.ok, `not linearizable on key ${result.key}`);
});
