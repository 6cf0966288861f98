// `replog bench --tls`: the benchmark's three replica processes over mutual TLS, driven by a client with the
// certificate made for the run, and their metrics read over HTTPS (bench/lib/replog-cluster.ts). The bench's
// own cluster ignores REPLOG_TLS_* from the shell: a plaintext run stays plaintext.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogClient } from '../../src/client/log-client.js';
import { adminGet, counterSum, startReplogCluster } from '../../bench/lib/replog-cluster.js';

test('bench --tls: the replicas run mutual TLS; the run\'s client certificate appends and reads the metrics over HTTPS; a plaintext client is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'replog-bench-tls-'));
  const cluster = await startReplogCluster({ dir, tls: true });
  let log: LogClient | undefined;
  try {
    assert.ok(cluster.clientTls !== undefined);
    log = await LogClient.connect(cluster.addresses, { tls: cluster.clientTls });
    const w = await log.writer();
    for (let i = 0; i < 10; i++) await w.append(`entry ${i}`);
    assert.ok((await counterSum(cluster.admins, 'replog_write_positions_total', cluster.clientTls)) >= 10);
    await assert.rejects(adminGet(cluster.admins[0]!, '/status'), 'the admin endpoint is not plain HTTP');
    const plain = await LogClient.connect(cluster.addresses);
    await assert.rejects(plain.read(0, 0), /refused/);
    await plain.close();
  } finally {
    await log?.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench without --tls: REPLOG_TLS_* in the environment do not reach its replicas', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'replog-bench-plain-'));
  const saved = { ...process.env };
  for (const k of ['CA', 'CERT', 'KEY']) process.env[`REPLOG_TLS_${k}`] = join(dir, `missing-${k}.pem`);
  let cluster: Awaited<ReturnType<typeof startReplogCluster>> | undefined;
  let log: LogClient | undefined;
  try {
    cluster = await startReplogCluster({ dir });
    assert.equal(cluster.clientTls, undefined);
    log = await LogClient.connect(cluster.addresses);
    const w = await log.writer();
    const p = await w.append('plaintext');
    const [entry] = await log.read(p, p);
    assert.equal(Buffer.from(entry!.data).toString(), 'plaintext');
  } finally {
    for (const k of ['CA', 'CERT', 'KEY']) {
      if (saved[`REPLOG_TLS_${k}`] === undefined) delete process.env[`REPLOG_TLS_${k}`];
      else process.env[`REPLOG_TLS_${k}`] = saved[`REPLOG_TLS_${k}`];
    }
    await log?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
