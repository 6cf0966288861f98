/**
 * A take reply that arrives after the writer stopped (docs/reconfiguration.md
 * R12; src/client/log-client.ts disown): the replica marked the changes in it
 * taken by that writer's connection, so the client must answer each one, and
 * truthfully. A writer takes a change from replicas 1 and 2 and makes it;
 * replica 3's reply handing it over is held back until the writer resigned.
 * Replica 3 must then say what became of the change (the outcome this client
 * reported, or unknown), not "nothing was written" (`fenced`, which sends
 * the asker to make it again), and not keep it taken for nobody.
 * Three in-process replicas.
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
import type { ChangeEvent } from '../../src/client/events.js';
import type { ChangeRequest } from '../../src/core/writer.js';
import { decodeChangeMessage } from '../../src/net/change-codec.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from './helpers.js';

let root: string;
let replicas: Replica[];
let ports: number[];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'replog-late-take-'));
  ports = await freePorts(4);
  const members = [1, 2, 3].map((id, i) => `${id}=127.0.0.1:${ports[i]}`).join(',');
  replicas = await Promise.all([1, 2, 3].map((id, i) => startReplica({ id, dir: join(root, `r${id}`), listen: `127.0.0.1:${ports[i]}`, members, logger: pino({ level: 'silent' }) })));
  await waitFor('every replica VOTING', () => replicas.every((r) => r.host.status === 'VOTING'), 30_000);
});

after(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  rmSync(root, { recursive: true, force: true });
});

test('a take reply that arrives after the writer resigned: the replica is told the change\'s outcome, not that nothing was written', async () => {
  const app = await LogClient.connect(replicas.map((r) => r.address), { waitForQuorum: true });
  const changes: ChangeEvent[] = [];
  app.on('change', (e) => changes.push(e));
  // Replica 3's take replies are held back until released.
  type Frame = (link: unknown, payload: Buffer) => void;
  const internals = app as unknown as { onRelayFrame: Frame; idOf: Map<unknown, number> };
  const deliver = internals.onRelayFrame.bind(app);
  const heldBack: (() => void)[] = [];
  let holding = true;
  internals.onRelayFrame = (link, payload) => {
    if (holding && internals.idOf.get(link) === 3 && decodeChangeMessage(payload).type === 'changeTakeReply') heldBack.push(() => deliver(link, payload));
    else deliver(link, payload);
  };
  const writer = await app.writer();
  await new Promise((r) => setTimeout(r, 300));
  const asker = await LogClient.connect(replicas.map((r) => r.address), { waitForQuorum: true });
  try {
    const epoch = (await asker.configuration()).epoch;
    const request: ChangeRequest = { id: randomUUID(), ifEpoch: epoch, change: { kind: 'add', member: { id: 4, address: `127.0.0.1:${ports[3]}` } } };
    const made = await new Members(asker as LogClient<unknown>, () => undefined).carryOut(request);
    assert.deepEqual(made.learners.map((m) => m.id), [4]);
    assert.deepEqual(changes.map((e) => e.id), [request.id], 'the application\'s writer made it');
    await waitFor('replica 3 handed it over too', async () => (await asker.offerChange(3, request, false, 2_000))?.state === 'taken', 10_000);
    await writer.resign();
    holding = false;
    for (const f of heldBack.splice(0)) f();
    let seen: Awaited<ReturnType<typeof asker.offerChange>>;
    await waitFor('replica 3 settles it', async () => {
      seen = await asker.offerChange(3, request, false, 2_000);
      return seen?.state === 'done';
    }, 10_000);
    const outcome = seen!.outcome!;
    assert.ok(outcome.ok || outcome.reason === 'unknown', `replica 3 was told ${JSON.stringify(outcome)}`);
    if (outcome.ok) assert.equal(outcome.config.changeId, request.id);
  } finally {
    await asker.close();
    await app.close();
  }
});
