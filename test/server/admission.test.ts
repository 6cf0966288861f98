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
import { refuseConfigPromise, refuseConfigWrite, refuseHello, refuseMessage, refuseNonAdminConfig, vouchedOffers, type ConfigAuthority } from '../../src/server/admission.js';
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
  // Admitted by type; with TLS a plain certificate's is judged by refuseNonAdminConfig (R15, below).
  const admin = { kind: 'client' as const, name: 'ops', role: 'admin' as const };
  for (const extra of [{ install: placed }, { links: [placed] }]) {
    assert.equal(refuseMessage({ ...promise, ...extra } as Message, client), undefined);
    assert.equal(refuseMessage({ ...promise, ...extra } as Message, client, admin), undefined);
    assert.equal(refuseMessage({ ...promise, ...extra } as Message, peer), undefined);
  }
  assert.match(refuseMessage({ type: 'recover', rid: 1, member: 3 }, peer) ?? '', /member 3 from replica 2/);
  assert.match(refuseMessage({ type: 'configReply', rid: 1, epoch: 0, members: [] }, peer) ?? '', /may not send 'configReply'/);
  assert.equal(refuseHello(peer, 1, [1, 2, 3]), undefined);
  assert.match(refuseHello({ ...peer, replicaId: 9 }, 1, [1, 2, 3]) ?? '', /not a member/);
  assert.match(refuseHello({ ...peer, replicaId: 1 }, 1, [1, 2, 3]) ?? '', /own id/);
  assert.equal(refuseHello(client, 1, [1, 2, 3]), undefined);
});

test('admission (R15): a config write from a plain certificate is taken only as an admin\'s held request applied to its predecessor', () => {
  const client = { version: WIRE_VERSION, clusterId: '', role: 'client' as const };
  const peer = { version: WIRE_VERSION, clusterId: '', role: 'replica' as const, replicaId: 2 };
  const admin = { kind: 'client' as const, name: 'ops', role: 'admin' as const };
  const plain = { kind: 'client' as const, name: 'app', role: 'client' as const };
  const m = (id: number) => ({ id, address: `127.0.0.1:${7000 + id}` });
  const c0 = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
  const request = { id: 'req-1', ifEpoch: 0, change: { kind: 'add' as const, member: m(4) } };
  const asked = { epoch: 1, voters: [m(1), m(2), m(3)], learners: [m(4)], nextId: 5, changeId: 'req-1' };
  const write = (config: object, from = 10) => ({ type: 'write', rid: 1, proposal: 5, from, actions: [{ kind: 'config', config }], named: [] }) as unknown as Message;
  const holding = (requests: (typeof request)[], accepted: Record<number, object> = {}, chain: object[] = [c0]): ConfigAuthority => ({
    chain: chain as never,
    accepted: (p) => accepted[p] as never,
    request: (id) => requests.find((r) => r.id === id),
    pending: () => Object.keys(accepted).map(Number),
  });
  const held = holding([request]);
  // Taken: the admin's request applied to epoch 0, from a plain certificate.
  assert.equal(refuseMessage(write(asked), client, plain), undefined, 'refuseMessage admits it by type');
  assert.equal(refuseNonAdminConfig(write(asked), client, plain, held), undefined);
  // Refused: a made-up change id; no change id; the request's id with another configuration; a request not held.
  assert.match(refuseNonAdminConfig(write({ ...asked, changeId: 'made-up' }), client, plain, held) ?? '', /no admin's request made-up is held/);
  const { changeId: _, ...anonymous } = asked;
  assert.match(refuseNonAdminConfig(write(anonymous), client, plain, held) ?? '', /no change id/);
  assert.match(refuseNonAdminConfig(write({ ...asked, learners: [m(5)], nextId: 6 }), client, plain, held) ?? '', /not the admin's request req-1 applied to epoch 0/);
  assert.match(refuseNonAdminConfig(write({ ...asked, voters: [m(1), m(2)], learners: [m(3)] }), client, plain, held) ?? '', /not the admin's request/);
  assert.match(refuseNonAdminConfig(write(asked), client, plain, holding([])) ?? '', /no admin's request req-1 is held/);
  // The request's ifEpoch must be the predecessor's: a request for epoch 0 does not apply to epoch 1.
  const c1 = { ...asked, position: 5, floor: 3 };
  const again = { ...asked, epoch: 2, learners: [m(4)], changeId: 'req-1' };
  assert.match(refuseNonAdminConfig(write(again), client, plain, holding([request], {}, [c0, c1])) ?? '', /does not apply to epoch 1/);
  // The very entry this acceptor accepted at that position (a re-proposal, R5) or holds in its chain: taken, request or not.
  assert.equal(refuseNonAdminConfig(write(asked), client, plain, holding([], { 10: { kind: 'config', config: asked } })), undefined);
  assert.match(refuseNonAdminConfig(write(asked), client, plain, holding([], { 11: { kind: 'config', config: asked } })) ?? '', /no admin's request/, 'accepted at another position');
  assert.equal(refuseNonAdminConfig(write(asked, 5), client, plain, holding([], {}, [c0, c1])), undefined);
  // Not judged: plaintext (anyone may change members), an admin certificate, a replica.
  const forged = write({ ...asked, changeId: 'made-up' });
  assert.equal(refuseNonAdminConfig(forged, client, undefined, held), undefined);
  assert.equal(refuseNonAdminConfig(forged, client, admin, held), undefined);
  assert.equal(refuseNonAdminConfig(forged, peer, undefined, held), undefined);
  // Appends are nobody's business here.
  const append = { type: 'write', rid: 1, proposal: 5, from: 10, actions: [{ kind: 'append', data: enc('x') }], named: [] } as unknown as Message;
  assert.equal(refuseNonAdminConfig(append, client, plain, holding([])), undefined);
});

test('admission (R15): an install from a plain certificate only for an entry accepted here or a held request; links pass to vouchedOffers', () => {
  const client = { version: WIRE_VERSION, clusterId: '', role: 'client' as const };
  const plain = { kind: 'client' as const, name: 'app', role: 'client' as const };
  const m = (id: number) => ({ id, address: `127.0.0.1:${7000 + id}` });
  const c0 = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
  const request = { id: 'req-1', ifEpoch: 0, change: { kind: 'add' as const, member: m(4) } };
  const c1 = { epoch: 1, voters: [m(1), m(2), m(3)], learners: [m(4)], nextId: 5, changeId: 'req-1', position: 10, floor: 6 };
  const promise = (extra: object) => ({ type: 'promise', rid: 1, proposal: 7, ...extra }) as unknown as Message;
  const holding = (requests: (typeof request)[], accepted: Record<number, object> = {}, chain: object[] = [c0]): ConfigAuthority => ({
    chain: chain as never,
    accepted: (p) => accepted[p] as never,
    request: (id) => requests.find((r) => r.id === id),
    pending: () => Object.keys(accepted).map(Number),
  });
  const { position: _p, floor: _f, ...c1value } = c1;
  assert.equal(refuseNonAdminConfig(promise({ install: c1 }), client, plain, holding([], { 10: { kind: 'config', config: c1value } })), undefined, 'accepted here');
  assert.equal(refuseNonAdminConfig(promise({ install: c1 }), client, plain, holding([request])), undefined, 'its request held');
  assert.equal(refuseNonAdminConfig(promise({ install: c1 }), client, plain, holding([], {}, [c0, c1])), undefined, 'in the chain');
  assert.match(refuseNonAdminConfig(promise({ install: c1 }), client, plain, holding([])) ?? '', /install of epoch 1 at 10 .* not accepted here/);
  assert.match(refuseNonAdminConfig(promise({ install: { ...c1, changeId: 'made-up' } }), client, plain, holding([request])) ?? '', /install/);
  assert.match(refuseNonAdminConfig(promise({ install: c1 }), client, plain, holding([], { 10: { kind: 'append', data: enc('x') } })) ?? '', /install/);
  // Links are not refused: vouchedOffers keeps only those this replica holds or accepted (test below), drops the rest.
  assert.equal(refuseNonAdminConfig(promise({ links: [c1] }), client, plain, holding([])), undefined);
  assert.deepEqual(vouchedOffers(promise({ links: [c1] }) as never, [c0], () => undefined), { type: 'promise', rid: 1, proposal: 7 });
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
