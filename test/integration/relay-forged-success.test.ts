/**
 * A relayed success is checked against the log (docs/reconfiguration.md R12;
 * src/client/members.ts): a writer that takes a change from the relay and
 * reports it made, with a configuration no replica holds (hostile, or
 * confused), does not make the asker report that configuration. The asker
 * believes only the replicas' chain: a configuration there made by its
 * request (its id as `changeId`); without one (after confirmWaitMs) it carries
 * the change out with a writer of its own, which fences the liar's
 * (attack-r15b-lying-taker), and reports what the replicas then hold.
 * One in-process replica; the lying writer is a real writer whose hand-off
 * replies are answered with a forged report instead of its core.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LogClient } from '../../src/client/log-client.js';
import { Members } from '../../src/client/members.js';
import type { ChangeRequest } from '../../src/core/writer.js';
import type { ChangeTakeReply } from '../../src/net/change-codec.js';
import type { ReplicaId } from '../../src/core/types.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts } from './helpers.js';

let root: string;
let replica: Replica;
let ports: number[];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'replog-forged-success-'));
  ports = await freePorts(2);
  replica = await startReplica({ id: 1, dir: join(root, 'r1'), listen: `127.0.0.1:${ports[0]}`, members: `1=127.0.0.1:${ports[0]}`, logger: pino({ level: 'silent' }) });
  await replica.ready;
});

after(async () => {
  await replica.stop();
  rmSync(root, { recursive: true, force: true });
});

test('a writer that reports a relayed change made when the log does not hold it: the asker does not report that configuration; it carries the change out itself', async () => {
  const liar = await LogClient.connect([replica.address], { waitForQuorum: true });
  const writer = await liar.writer();
  const taken: string[] = [];
  // The writer takes relayed changes as usual, and reports each made at once, its core never told.
  (writer as unknown as { onTakeReply: (from: ReplicaId, msg: ChangeTakeReply) => boolean }).onTakeReply = (from, msg) => {
    const head = liar.chain.at(-1)!;
    for (const r of msg.requests) {
      taken.push(r.id);
      const forged = { ...head, epoch: head.epoch + 1, learners: [{ id: 2, address: `127.0.0.1:${ports[1]}` }], nextId: 3, position: head.position + 50, floor: 1, changeId: r.id };
      liar.sendRelay(from, { type: 'changeReport', id: r.id, outcome: { ok: true, config: forged } });
    }
    return true;
  };
  await new Promise((r) => setTimeout(r, 300));
  const asker = await LogClient.connect([replica.address], { waitForQuorum: true });
  try {
    const epoch = (await asker.configuration()).epoch;
    const request: ChangeRequest = { id: randomUUID(), ifEpoch: epoch, change: { kind: 'add', member: { id: 2, address: `127.0.0.1:${ports[1]}` } } };
    const members = new Members(asker as LogClient<unknown>, () => undefined);
    // The forged report is not believed: the asker's own writer carries the change out (fencing the liar's),
    // so what it returns is the configuration the replicas hold, made by this request, not the forgery.
    const made = await members.carryOut(request);
    assert.deepEqual(taken, [request.id], 'the lying writer took it through the relay');
    const now = await asker.configuration();
    assert.equal(now.epoch, epoch + 1, 'the change was made, once');
    assert.deepEqual(now.learners.map((m) => m.id), [2]);
    assert.equal(made.epoch, now.epoch, 'the asker reports the configuration the replicas hold');
  } finally {
    await asker.close();
    await writer.resign().catch(() => undefined);
    await liar.close();
  }
});
