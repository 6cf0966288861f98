/**
 * Issue 12 under mutual TLS ("applications notice nothing"; docs/reconfiguration.md
 * R12, R15): the application's writer holds a PLAIN client certificate
 * (replog://client/app) and appends continuously while an admin runs
 * `replog member add`, `promote` and `remove` with the admin certificate.
 * The admin's change is offered to the replicas' relay; the replica that
 * admits it forwards it to the other members (changeForward); the
 * application's writer takes it and carries it out, and every acceptor takes
 * its config write and install because the entry is the admin's request
 * applied to its predecessor. No append fails, the writer is never fenced, it
 * carried each change, and the configurations are chosen and installed.
 * Before R15's acceptor checks the plain writer was handed nothing, the CLI
 * elected a writer of its own, and the application's writer was fenced.
 * Real replica processes, `replog member ...` as child processes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createCertificates } from '../../src/cli/certs.js';
import { readFileSync } from 'node:fs';
import { LogClient } from '../../src/client/log-client.js';
import type { ChangeEvent } from '../../src/client/events.js';
import { appendLoop, ok, runCli, TestCluster, waitFor } from './helpers.js';
import { pacedWriter } from './appender.js';

const cluster = await TestCluster.create(4, [1, 2, 3, 4]);
after(() => cluster.stop());
const certDir = join(cluster.root, 'certs');
createCertificates({ dir: certDir, replicas: [1, 2, 3, 4], clients: [{ name: 'app', role: 'client' }, { name: 'admin', role: 'admin' }] });
const files = (name: string) => ({ ca: join(certDir, 'ca.crt'), cert: join(certDir, `${name}.crt`), key: join(certDir, `${name}.key`) });
const tlsFlags = (id: number): string[] => {
  const f = files(`replica-${id}`);
  return ['--tls-ca', f.ca, '--tls-cert', f.cert, '--tls-key', f.key];
};
const material = (name: string) => {
  const f = files(name);
  return { ca: readFileSync(f.ca), cert: readFileSync(f.cert), key: readFileSync(f.key) };
};
const adminEnv = (() => {
  const f = files('client-admin');
  return { REPLOG_TLS_CA: f.ca, REPLOG_TLS_CERT: f.cert, REPLOG_TLS_KEY: f.key };
})();
const addr = (id: number) => cluster.replica(id).address;
const founders = [1, 2, 3];
const seeds = founders.map(addr).join(',');



test('with TLS an application writer with a plain client certificate carries the admin\'s member add, promote and remove while appending: none fails, never fenced', async () => {
  for (const id of founders) cluster.startWith(id, ['--members', founders.map((i) => `${i}=${addr(i)}`).join(','), ...tlsFlags(id)]);
  const log = await (async () => {
    for (let i = 0; ; i++) {
      try {
        return await LogClient.connect(founders.map(addr), { tls: material('client-app'), waitForQuorum: true });
      } catch (err) {
        if (i >= 60) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  const changes: ChangeEvent[] = [];
  const fenced: Error[] = [];
  log.on('change', (e) => changes.push(e));
  log.on('fenced', (e) => fenced.push(e.error));
  try {
    await changesCarried(log, changes, fenced);
  } finally {
    await log.close();
  }
});

/** The appends and the three changes; `log` is closed by the caller whatever happens. */
async function changesCarried(log: LogClient, changes: ChangeEvent[], fenced: Error[]): Promise<void> {
  const writer = await log.writer();
  // Paced (a batch of 5 every 50 ms): a learner must be seen within CAUGHT_UP_SLACK of a moving end to be promoted.
  const loop = appendLoop(pacedWriter(writer, 50), { tag: 'tls', batch: 5 });
  try {
    await waitFor('appends flow', () => loop.goneOnBy(100));
    cluster.startWith(4, ['--join', seeds, ...tlsFlags(4)]);
    await waitFor('replica 4 waits to be added', () => /waiting until it is added/.test(cluster.replica(4).stderr), 30_000);

    let mark = loop.acked.size;
    const added = ok(await runCli(['member', 'add', '4', addr(4), '--log', seeds], { env: adminEnv }), 'member add 4');
    assert.match(added, new RegExp(`learners\\s+4=${addr(4)}`));
    assert.deepEqual(changes.map((c) => c.change.kind), ['add'], 'the application\'s writer carried the change');
    await waitFor('appends go on after the add', () => loop.goneOnBy(mark + 100));

    mark = loop.acked.size;
    const promoted = ok(await runCli(['member', 'promote', '4', '--log', seeds], { env: adminEnv }), 'member promote 4');
    assert.match(promoted, /voters\s+1=\S+, 2=\S+, 3=\S+, 4=/);
    await waitFor('appends go on after the promotion', () => loop.goneOnBy(mark + 100));

    mark = loop.acked.size;
    const removed = ok(await runCli(['member', 'remove', '3', '--log', seeds], { env: adminEnv }), 'member remove 3');
    assert.match(removed, /voters\s+1=\S+, 2=\S+, 4=\S+\n/);
    await waitFor('appends go on after the removal', () => loop.goneOnBy(mark + 100));
    assert.deepEqual(changes.map((c) => c.change.kind), ['add', 'promote', 'remove'], 'each change was carried by the application\'s writer');
  } finally {
    await loop.stop();
  }
  try {
    assert.deepEqual(loop.failures, [], 'no append failed');
    assert.deepEqual(fenced, [], 'the writer was never fenced');
    assert.equal(writer.state, 'elected');
    // Every acknowledged append is in the log at its position, with its data.
    const top = Math.max(...loop.acked.keys());
    const got = new Map((await log.read(0, top)).map((e) => [e.position, Buffer.from(e.data).toString()]));
    for (const [p, d] of loop.acked) assert.equal(got.get(p), d, `position ${p}`);
    // Chosen and installed: the replicas' configuration is the last change, and the writer is still elected in it.
    const cfg = await log.configuration();
    assert.deepEqual(cfg.voters.map((m) => m.id), [1, 2, 4]);
    assert.deepEqual(cfg.learners, []);
    assert.ok((await writer.append('after the changes')) > top, 'still the writer, in the new configuration');
  } finally {
    await writer.resign().catch(() => undefined);
  }
}
