// Who may send what to a replica's port (src/server/admission.ts), against a real replica in this process:
// a client connection that sends what only replicas may (forged learned values, rejoins, questions about a
// member's disk), or a hello naming a non-member or the replica itself, is closed, and nothing reaches the core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Message } from '../../src/core/types.js';
import { encodeFrame } from '../../src/net/codec.js';
import { WIRE_VERSION, encodeHelloFrame } from '../../src/net/hello.js';
import { refuseConfigPromise, refuseConfigWrite, refuseHello, refuseMessage } from '../../src/server/admission.js';
import { startReplica } from '../../src/server/replica-server.js';
import { freePorts } from '../integration/helpers.js';
import { rawConnect, waitFor } from '../net/helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);

test('admission: what clients and replicas may send (table)', () => {
  const client = { version: WIRE_VERSION, clusterId: '', role: 'client' as const };
  const peer = { version: WIRE_VERSION, clusterId: '', role: 'replica' as const, replicaId: 2 };
  for (const ok of [{ type: 'read', rid: 1, from: 0, to: 1, limit: 1 }, { type: 'config', rid: 1 }, { type: 'recover', rid: 1 }] as Message[]) {
    assert.equal(refuseMessage(ok, client), undefined, ok.type);
    assert.equal(refuseMessage(ok, peer), undefined, ok.type);
  }
  const replicaOnly: Message[] = [
    { type: 'learned', entries: [] },
    { type: 'rejoin', rid: 1, member: 2, generation: 5, disk: 1 },
    { type: 'recover', rid: 1, member: 2 },
  ];
  for (const m of replicaOnly) {
    assert.match(refuseMessage(m, client) ?? '', /client/, m.type);
    assert.equal(refuseMessage(m, peer), undefined, m.type);
  }
  // A promise carrying configurations (R4's install, R6's links: wire version 4) is a membership change.
  const placed = { epoch: 1, position: 5, floor: 7, members: [] } as unknown as NonNullable<Extract<Message, { type: 'promise' }>['install']>;
  const promise: Message = { type: 'promise', rid: 1, proposal: 7 } as Message;
  assert.equal(refuseMessage(promise, client), undefined);
  // Admitted on the terms of a config write (R15's first half): anyone without TLS, an admin certificate only with TLS.
  const admin = { kind: 'client' as const, name: 'ops', role: 'admin' as const };
  const plain = { kind: 'client' as const, name: 'app', role: 'client' as const };
  for (const extra of [{ install: placed }, { links: [placed] }]) {
    assert.equal(refuseMessage({ ...promise, ...extra } as Message, client), undefined);
    assert.equal(refuseMessage({ ...promise, ...extra } as Message, client, admin), undefined);
    assert.match(refuseMessage({ ...promise, ...extra } as Message, client, plain) ?? '', /promise carrying configurations needs an admin certificate/);
    assert.equal(refuseMessage({ ...promise, ...extra } as Message, peer), undefined);
  }
  assert.match(refuseMessage({ type: 'recover', rid: 1, member: 3 }, peer) ?? '', /member 3 from replica 2/);
  assert.match(refuseMessage({ type: 'configReply', rid: 1, epoch: 0, members: [] }, peer) ?? '', /may not send 'configReply'/);
  assert.equal(refuseHello(peer, 1, [1, 2, 3]), undefined);
  assert.match(refuseHello({ ...peer, replicaId: 9 }, 1, [1, 2, 3]) ?? '', /not a member/);
  assert.match(refuseHello({ ...peer, replicaId: 1 }, 1, [1, 2, 3]) ?? '', /own id/);
  assert.equal(refuseHello(client, 1, [1, 2, 3]), undefined);
});

test('admission: a write carrying a membership change (R15, first half): anyone without TLS, an admin certificate only with TLS', () => {
  const client = { version: WIRE_VERSION, clusterId: '', role: 'client' as const };
  const config = { epoch: 1, voters: [{ id: 1, address: '127.0.0.1:7001' }], learners: [{ id: 2, address: '127.0.0.1:7002' }], nextId: 3 };
  const change = { type: 'write', rid: 1, proposal: 5, from: 10, actions: [{ kind: 'config', config }], named: [] } as unknown as Message;
  const append = { type: 'write', rid: 1, proposal: 5, from: 10, actions: [{ kind: 'append', data: enc('x') }], named: [] } as unknown as Message;
  assert.equal(refuseMessage(change, client), undefined, 'plaintext: anyone who reaches the port, as for truncation');
  const admin = { kind: 'client' as const, name: 'ops', role: 'admin' as const };
  const plain = { kind: 'client' as const, name: 'app', role: 'client' as const };
  assert.equal(refuseMessage(change, client, admin as never), undefined, 'TLS: an admin certificate may');
  assert.match(refuseMessage(change, client, plain as never) ?? '', /admin certificate/, 'TLS: a plain client certificate may not');
  assert.equal(refuseMessage(append, client, plain as never), undefined, 'TLS: a plain client still appends');
});

test('admission: configurations offered by a client must chain onto the replica\'s (config writes and promises)', () => {
  const m = (id: number) => ({ id, address: `127.0.0.1:${7000 + id}` });
  const c0 = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
  const good = { epoch: 1, voters: [m(1), m(2), m(3)], learners: [m(4)], nextId: 5 };
  const lowersNextId = { epoch: 1, voters: [m(1), m(2)], learners: [], nextId: 3 };
  const voterFromNowhere = { epoch: 1, voters: [m(1), m(2), m(3), m(4)], learners: [], nextId: 5 };
  const write = (config: object) => ({ type: 'write', rid: 1, proposal: 5, from: 10, actions: [{ kind: 'config', config }], named: [] }) as unknown as Message;
  assert.equal(refuseConfigWrite(write(good), [c0]), undefined);
  assert.match(refuseConfigWrite(write(lowersNextId), [c0]) ?? '', /lowers nextId/);
  assert.match(refuseConfigWrite(write(voterFromNowhere), [c0]) ?? '', /learner first/);
  assert.match(refuseConfigWrite(write({ ...good, epoch: 3 }), [c0]) ?? '', /follows epoch 0/);
  const promise = (extra: object) => ({ type: 'promise', rid: 1, proposal: 7, ...extra }) as unknown as Message;
  assert.equal(refuseConfigPromise(promise({ install: { ...good, position: 10, floor: 5 } }), [c0]), undefined);
  assert.match(refuseConfigPromise(promise({ install: { ...lowersNextId, position: 10, floor: 5 } }), [c0]) ?? '', /lowers nextId/);
  assert.match(refuseConfigPromise(promise({ links: [{ ...good, position: 10, floor: 5 }], install: { ...voterFromNowhere, epoch: 2, voters: [m(1), m(5)], nextId: 6, position: 12, floor: 6 } }), [c0]) ?? '', /learner first/);
  assert.equal(refuseConfigPromise(promise({ install: { ...good, epoch: 5, position: 10, floor: 5 } }), [c0]), undefined, 'an unknown predecessor is the acceptor\'s business');
});

test('admission: a live replica closes connections that send what their hello does not allow, and stores nothing from them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'replog-admission-'));
  const [p1, p2, p3] = await freePorts(3);
  const members = `1=127.0.0.1:${p1},2=127.0.0.1:${p2},3=127.0.0.1:${p3}`;
  const replica = await startReplica({ id: 1, dir, listen: `127.0.0.1:${p1}`, members, logger: pino({ level: 'silent' }) });
  try {
    const endBefore = replica.host.store.end();
    const client = encodeHelloFrame({ version: WIRE_VERSION, clusterId: replica.clusterId, role: 'client' });
    const asReplica = (id: number) => encodeHelloFrame({ version: WIRE_VERSION, clusterId: replica.clusterId, role: 'replica', replicaId: id });
    const forged = { type: 'learned', entries: [{ position: 0, action: { kind: 'append', data: enc('forged') } }] } as Message;
    const gossip = { type: 'peerState', incarnation: 'x', generation: 0, disk: 0, status: 'VOTING', promised: 0, begin: 0, end: -1, learnedThrough: -1 } as const;
    const refused: { name: string; bytes: Buffer }[] = [
      { name: 'a client sending learned values', bytes: Buffer.concat([client, encodeFrame(forged)]) },
      { name: 'a client sending a rejoin for member 2', bytes: Buffer.concat([client, encodeFrame({ type: 'rejoin', rid: 1, member: 2, generation: 7, disk: 1 })]) },
      { name: "a client asking about member 2's disk", bytes: Buffer.concat([client, encodeFrame({ type: 'recover', rid: 1, member: 2 })]) },
      { name: 'a client sending a reply', bytes: Buffer.concat([client, encodeFrame({ type: 'rejoinReply', rid: 1, outcome: 'accept', status: 'VOTING', begin: 0, end: 9, generation: 1, disk: 1 })]) },
      { name: 'a hello naming a non-member', bytes: Buffer.concat([asReplica(9), encodeFrame(forged)]) },
      {
        name: 'a hello naming a non-member, gossip with a newer head and then learned values',
        bytes: Buffer.concat([asReplica(9), encodeFrame({ ...gossip, config: { epoch: 3, position: 7 }, address: `127.0.0.1:${p3}` }), encodeFrame(forged)]),
      },
      { name: "a hello naming the replica's own id", bytes: Buffer.concat([asReplica(1), encodeFrame(forged)]) },
    ];
    for (const c of refused) {
      const raw = await rawConnect(p1!);
      raw.socket.write(c.bytes);
      await waitFor(raw.closed, `${c.name}: connection closed`);
    }
    // A non-member's state gossip is taken (R13: a member of a newer configuration tells where the cluster
    // went), and nothing more: with no newer head it is dropped, on a connection that stays open.
    const stranger = await rawConnect(p1!);
    stranger.socket.write(Buffer.concat([asReplica(9), encodeFrame(gossip), encodeFrame({ ...gossip, config: { epoch: 0, position: -1 } })]));
    const quiet = await rawConnect(p1!);
    quiet.socket.write(Buffer.concat([client, encodeFrame({ type: 'recover', rid: 6 })]));
    await waitFor(() => quiet.received().length > 32, 'a recover reply after the gossip');
    assert.equal(stranger.closed(), false, "a non-member's gossip does not close its connection");
    stranger.socket.destroy();
    quiet.socket.destroy();
    assert.equal(replica.host.store.end(), endBefore, 'nothing forged was stored');
    // A client's status question is answered, on a connection that stays open.
    const raw = await rawConnect(p1!);
    raw.socket.write(Buffer.concat([client, encodeFrame({ type: 'recover', rid: 5 })]));
    await waitFor(() => raw.received().length > 32, 'a recover reply');
    assert.equal(raw.closed(), false);
    raw.socket.destroy();
  } finally {
    await replica.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
