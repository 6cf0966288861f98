/**
 * A long-lived client whose reads meet a membership change made by someone else (the CLI's own writer) goes
 * on reading its log's bounds and tail. Its reader hears of the newer configuration in a reply, the client
 * refreshes its view to it and reads again; the reader must then forget what it heard. Before 2026-12-08 it
 * kept it for ever: every later `beginning()`, `ending()` and a read stopping short of its range answered
 * 'stale-config' after the view had caught up, and the client failed them with NoQuorumError for good.
 * (The client also refreshes every timing.configRefreshMs on its own; a change made just before the reads
 * is met first by the reads, as here, unless a refresh falls in between.)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/log-client.js';
import { ok, runCli, TestCluster } from './helpers.js';

const cluster = await TestCluster.create(4, [1, 2, 3, 4]);
after(() => cluster.stop());
const addr = (id: number) => cluster.replica(id).address;
const founders = [1, 2, 3];

test("a client that read before a change made elsewhere reads its log's bounds and tail after it", async () => {
  for (const id of founders) cluster.startWith(id, ['--members', founders.map((i) => `${i}=${addr(i)}`).join(',')]);
  await cluster.waitStatus(founders, 'VOTING', 60_000);
  const log = await LogClient.connect(founders.map(addr), { waitForQuorum: true });
  after(() => log.close());
  const w = await log.writer();
  for (let i = 0; i < 5; i++) await w.append(`before ${i}`);
  await w.resign();
  const end = await log.ending();

  cluster.startWith(4, ['--join', addr(1)]);
  ok(await runCli(['member', 'add', '4', addr(4), '--log', founders.map(addr).join(',')]), 'member add 4');

  for (let round = 0; round < 3; round++) {
    assert.ok((await log.ending()) >= end, `ending(), round ${round}`);
    assert.equal(await log.beginning(), 0, `beginning(), round ${round}`);
    const entries = await log.read(0, Number.MAX_SAFE_INTEGER);
    assert.deepEqual(
      entries.map((e) => Buffer.from(e.data).toString()),
      [0, 1, 2, 3, 4].map((i) => `before ${i}`),
      `read to the end, round ${round}`,
    );
  }
});
