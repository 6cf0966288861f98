/**
 * Wire versions 3 and 4 (docs/wire.md, "Configurations"; docs/reconfiguration.md,
 * section 6): the `config` action, the heads requests and replies carry, the
 * pending entries of promise, read and recover replies, the write reply's
 * learned prefix, the new outcomes, and the fields of a ConfigReply travel,
 * and decode exactly as sent (a field absent stays absent). Step 2 kept them
 * off version 2; these replace its tests. Version 4 adds what the cores of
 * step 4 send: a promise's `install` and `links`, a learned message's
 * `floors`, and the head of config(to) on a TRUNCATE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage } from '../../src/net/codec.js';
import { wireLimits } from '../../src/net/limits.js';
import { limits } from '../../src/core/constants.js';
import { FrameDecoder } from '../../src/net/frame.js';
import { PeerLink } from '../../src/net/peer-link.js';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { echoServer, rawConnect, recordingLogger, waitFor } from './helpers.js';
import { WireError } from '../../src/net/errors.js';
import { WIRE_VERSION, decodeHello, decodeRefusal, encodeHelloFrame } from '../../src/net/hello.js';
import type { Configuration, PlacedConfiguration } from '../../src/core/membership.js';
import type { Message } from '../../src/core/types.js';

const config: Configuration = { epoch: 1, voters: [{ id: 1, address: 'h1:1' }], learners: [{ id: 2, address: 'h2:2' }], nextId: 3, changeId: 'c-1' };
const chain: PlacedConfiguration[] = [
  { epoch: 0, voters: [{ id: 1, address: 'h1:1' }], learners: [], nextId: 2, position: -1, floor: 0 },
  { ...config, position: 4, floor: 7 },
];
const head = { epoch: 1, position: 4 };
const pending = { position: 9, proposal: 8, config: { epoch: 2, voters: [{ id: 1, address: 'h1:1' }, { id: 2, address: 'h2:2' }], learners: [], nextId: 3 } };

const roundTrip = (m: Message): void => assert.deepStrictEqual(decodeMessage(encodeMessage(m)), m);

test('wire version 7: the version a hello carries; versions 2 to 6 are refused', () => {
  assert.equal(WIRE_VERSION, 7);
  for (const v of [2, 3, 4, 5, 6]) {
    const frame = encodeHelloFrame({ version: v, clusterId: 'c', role: 'client' });
    assert.throws(() => decodeHello(frame.subarray(4)), (e: unknown) => e instanceof WireError && new RegExp(`peer speaks wire version ${v}, we speak 7`).test(e.message));
  }
});

test('wire version 7: a replica answers a version 6 hello with a refusal naming both versions, then closes', async () => {
  const server = await echoServer();
  try {
    const raw = await rawConnect(server.port);
    raw.socket.write(encodeHelloFrame({ version: 6, clusterId: '', role: 'client' }));
    await waitFor(raw.closed, 'connection closed');
    const frames = new FrameDecoder().push(raw.received());
    assert.equal(frames.length, 1);
    assert.match(decodeRefusal(frames[0]!) ?? '', /wire version 6, we speak 7/);
  } finally {
    await server.close();
  }
});

test('a config entry travels in writes, learned messages and slots', () => {
  roundTrip({ type: 'write', rid: 1, proposal: 2, from: 3, named: [{ id: 1, generation: 0, disk: 0 }], actions: [{ kind: 'config', config }], config: head });
  roundTrip({ type: 'learned', entries: [{ position: 3, action: { kind: 'config', config } }] });
  roundTrip({
    type: 'readReply', rid: 1, status: 'VOTING', begin: 0, end: 9, learnedThrough: 4, coveredThrough: 9, lost: [], writerActive: false,
    slots: [{ position: 9, promised: 0, accepted: 8, learned: false, action: { kind: 'config', config: pending.config } }], config: head, pending,
  });
});

test('heads, pending entries and the new outcomes round-trip; absent fields stay absent', () => {
  const msgs: Message[] = [
    { type: 'promise', rid: 1, proposal: 2, nonce: 5, config: head },
    { type: 'promise', rid: 1, proposal: 2, from: 3, to: 4, config: { epoch: 0, position: -1 } },
    { type: 'promise', rid: 1, proposal: 2 },
    { type: 'promiseReply', rid: 1, outcome: 'stale-config', proposal: 2, status: 'VOTING', begin: 0, end: 9, learnedThrough: 4, slots: [], coveredThrough: 9, generation: 0, disk: 0, config: head, pending },
    { type: 'promiseReply', rid: 1, outcome: 'unknown-config', proposal: 2, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1, generation: 0, disk: 0, config: { epoch: 0, position: -1 } },
    { type: 'writeReply', rid: 1, outcome: 'stale-config', proposal: 2, from: 5, count: 1, generation: 0, disk: 0, retired: [], config: head, learnedThrough: 4, lostBelow: false },
    { type: 'writeReply', rid: 1, outcome: 'not-ready', proposal: 2, from: 5, count: 1, generation: 0, disk: 0, retired: [], learnedThrough: 3, lostBelow: true },
    { type: 'writeReply', rid: 1, outcome: 'accept', proposal: 2, from: 5, count: 1, generation: 0, disk: 0, retired: [] },
    {
      type: 'recoverReply', rid: 1, status: 'VOTING', begin: 0, end: 9, incarnation: 'x', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0, recorded: [],
      config: head, pending,
    },
    { type: 'peerState', incarnation: 'x', generation: 0, disk: 0, status: 'VOTING', promised: 2, begin: 0, end: 9, learnedThrough: 4, config: head },
    { type: 'peerState', incarnation: 'x', generation: 0, disk: 0, status: 'VOTING', promised: 2, begin: 0, end: 9, learnedThrough: 4, config: head, address: '10.0.0.4:7004' },
  ];
  for (const m of msgs) roundTrip(m);
});

test('a configReply carries the cluster id, the head placed, the chain and the pending entry', () => {
  const plain: Message = { type: 'configReply', rid: 4, epoch: 1, members: [{ id: 1, address: 'h1:1' }, { id: 2, address: 'h2:2' }] };
  roundTrip(plain);
  roundTrip({ ...plain, clusterId: 'abc', position: 4, voters: config.voters, learners: config.learners, nextId: 3, chain, pending } as Message);
  // The placement travels whole or not at all.
  assert.throws(() => encodeMessage({ ...plain, position: 4 } as Message), /together/);
});

test('a malformed configuration or head is rejected: no voter, unsorted ids, nextId too low, epoch 0 away from -1, a broken chain', () => {
  const bad = (c: object): Message => ({ type: 'learned', entries: [{ position: 3, action: { kind: 'config', config: c as Configuration } }] });
  for (const c of [
    { ...config, voters: [] },
    { ...config, voters: [{ id: 2, address: 'a:1' }, { id: 1, address: 'b:1' }] },
    { ...config, nextId: 2 },
    { ...config, learners: [{ id: 1, address: 'h9:9' }] },
  ]) {
    assert.throws(() => decodeMessage(encodeMessage(bad(c))), (e: unknown) => e instanceof WireError, JSON.stringify(c));
  }
  const wrongHead: Message = { type: 'promise', rid: 1, proposal: 2, config: { epoch: 0, position: 3 } };
  assert.throws(() => decodeMessage(encodeMessage(wrongHead)), (e: unknown) => e instanceof WireError && /only epoch 0 sits at -1/.test(e.message));
  const gap: Message = { type: 'configReply', rid: 1, epoch: 2, members: [{ id: 1, address: 'h1:1' }], chain: [chain[0]!, { ...chain[1]!, epoch: 2 }] };
  assert.throws(() => decodeMessage(encodeMessage(gap)), (e: unknown) => e instanceof WireError && /does not follow/.test(e.message));
});

test('wire version 7: a link to a replica answering with a version 6 hello never opens, and says why', async () => {
  const sockets: Socket[] = [];
  const old = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.write(encodeHelloFrame({ version: 6, clusterId: 'c', role: 'replica', replicaId: 1 }));
  });
  await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
  const log = recordingLogger();
  const link = new PeerLink({ address: `127.0.0.1:${(old.address() as AddressInfo).port}`, clusterId: 'c', onMessage: () => {}, log, backoff: { initialMs: 10, maxMs: 50 } });
  try {
    await waitFor(() => log.has(/peer speaks wire version 6, we speak 7/), 'the link logs the version mismatch');
    assert.equal(link.connected, false);
  } finally {
    await link.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => old.close(() => resolve()));
  }
});

// ---------------------------------------------------------------------------
// Wire version 4.
// ---------------------------------------------------------------------------

const recoverReply: Message = {
  type: 'recoverReply', rid: 2, status: 'VOTING', begin: 0, end: 9, incarnation: 'i', generation: 1, disk: 2, memberGeneration: 0, memberDisk: 0, recorded: [],
};
const link2: PlacedConfiguration = { epoch: 2, voters: [{ id: 1, address: 'h1:1' }, { id: 2, address: 'h2:2' }], learners: [], nextId: 3, position: 9, floor: 8 };
const links: PlacedConfiguration[] = [chain[1]!, link2];
const floors = [{ position: 4, floor: 7 }, { position: 9, floor: 8 }];

/** One message per new field of version 4 (and without it, to show absent stays absent). */
const v4: Message[] = [
  { type: 'promise', rid: 1, proposal: 9, nonce: 3, config: head, install: link2 },
  { type: 'promise', rid: 1, proposal: 9, config: head, links },
  { type: 'promise', rid: 1, proposal: 9, from: 3, to: 4, config: head, install: link2, links },
  { type: 'promise', rid: 1, proposal: 9, links: [] },
  { type: 'learned', entries: [{ position: 4, action: { kind: 'config', config } }], floors },
  { type: 'learned', entries: [], floors: [] },
  { type: 'learned', entries: [{ position: 4, action: { kind: 'nop' } }] },
  { type: 'write', rid: 1, proposal: 2, from: 3, named: [], actions: [{ kind: 'truncate', to: 2, config: head }, { kind: 'truncate', to: 2 }, { kind: 'truncate', to: 0, config: { epoch: 0, position: -1 } }] },
  {
    type: 'readReply', rid: 1, status: 'VOTING', begin: 0, end: 9, learnedThrough: 4, coveredThrough: 9, lost: [], writerActive: false,
    slots: [{ position: 9, promised: 0, accepted: 8, learned: true, action: { kind: 'truncate', to: 5, config: head } }],
  },
  // R14: a read reply carries the replier's chain for a catch-up that adopts its begin.
  { type: 'readReply', rid: 1, status: 'VOTING', begin: 10, end: 12, learnedThrough: 12, coveredThrough: 12, lost: [], writerActive: false, slots: [], chain: links },
  { type: 'readReply', rid: 1, status: 'VOTING', begin: 0, end: 0, learnedThrough: 0, coveredThrough: 0, lost: [], writerActive: false, slots: [], config: head, pending, chain: [] },
  // Step 6 (R7, R11, R13): the asker's head on a recover, discovery's fields on its reply, removed on a rejoin reply.
  { type: 'recover', rid: 2, member: 3, config: head },
  { type: 'recover', rid: 2, config: { epoch: 0, position: -1 } },
  { ...recoverReply, config: head, pending, learnedThrough: 4, links, removed: link2, clusterId: 'c-1', membersHash: 'h-1' },
  { ...recoverReply, learnedThrough: -1 },
  { ...recoverReply, links: [] },
  { ...recoverReply, removed: link2 },
  { ...recoverReply, clusterId: '', membersHash: 'h' },
  { type: 'rejoinReply', rid: 3, outcome: 'ignored', status: 'VOTING', begin: 0, end: 9, generation: 1, disk: 5, removed: link2 },
  { type: 'writeReply', rid: 1, outcome: 'not-ready', proposal: 2, from: 5, count: 1, generation: 0, disk: 0, retired: [], config: head, learnedThrough: 3, lostBelow: false },
];

const isWire = (reason: string) => (e: unknown) => e instanceof WireError && e.reason === reason;

test('wire version 4: install, links, floors and the TRUNCATE head round-trip; absent fields stay absent', () => {
  for (const m of v4) roundTrip(m);
  const promise = decodeMessage(encodeMessage({ type: 'promise', rid: 1, proposal: 9 }));
  assert.ok(!('install' in promise) && !('links' in promise));
  const truncate = decodeMessage(encodeMessage({ type: 'learned', entries: [{ position: 1, action: { kind: 'truncate', to: 1 } }] }));
  assert.deepStrictEqual(truncate, { type: 'learned', entries: [{ position: 1, action: { kind: 'truncate', to: 1 } }] });
});

test('wire version 4: every strict prefix of a message with a new field is refused as truncated', () => {
  for (const m of v4) {
    const buf = encodeMessage(m);
    for (let n = 0; n < buf.length; n++) assert.throws(() => decodeMessage(buf.subarray(0, n)), isWire('truncated'), `${m.type} cut at ${n}`);
    assert.throws(() => decodeMessage(Buffer.concat([buf, Buffer.from([0])])), isWire('trailing-bytes'), m.type);
  }
});

test('wire version 4: unknown flag bits are refused (promise tail, learned flags, truncate flags)', () => {
  // The promise's tail flags: bits 0 to 2 are head, install, links.
  const p = encodeMessage({ type: 'promise', rid: 1, proposal: 1 });
  assert.equal(p.length, 27);
  for (const bit of [3, 4, 7]) {
    p[26] = 1 << bit;
    assert.throws(() => decodeMessage(p), isWire('bad-value'), `promise bit ${bit}`);
  }
  // The read reply's chain flags byte (its last): bit 0 the chain.
  const rr = encodeMessage({ type: 'readReply', rid: 1, status: 'VOTING', begin: 0, end: 0, learnedThrough: 0, coveredThrough: 0, lost: [], writerActive: false, slots: [] });
  assert.equal(rr[rr.length - 1], 0);
  rr[rr.length - 1] = 2;
  assert.throws(() => decodeMessage(rr), isWire('bad-value'), 'readReply chain flags');
  // The learned message's flags byte (its last): bit 0 floors.
  const l = encodeMessage({ type: 'learned', entries: [] });
  assert.equal(l.length, 6);
  l[5] = 2;
  assert.throws(() => decodeMessage(l), isWire('bad-value'));
  // A truncate's flags byte follows its `to`: bit 0 the head.
  const w = encodeMessage({ type: 'learned', entries: [{ position: 1, action: { kind: 'truncate', to: 1 } }] });
  const flagsAt = 1 + 4 + 8 + 1 + 8;
  assert.equal(w[flagsAt], 0);
  w[flagsAt] = 2;
  assert.throws(() => decodeMessage(w), isWire('bad-value'));
  // A head on a truncate obeys the head rule: epoch 0 only at -1.
  assert.throws(
    () => decodeMessage(encodeMessage({ type: 'learned', entries: [{ position: 1, action: { kind: 'truncate', to: 1, config: { epoch: 0, position: 3 } } }] })),
    isWire('bad-value'),
  );
});

test('wire version 4: over-long links and floors lists are refused before allocating', () => {
  // links: a u32 count, at most wireLimits.namedLengthMax links (the chain bound).
  const p = encodeMessage({ type: 'promise', rid: 1, proposal: 1, links: [] });
  p.writeUInt32LE(wireLimits.namedLengthMax + 1, p.length - 4);
  assert.throws(() => decodeMessage(p), isWire('oversized'));
  p.writeUInt32LE(0xffffffff, p.length - 4);
  assert.throws(() => decodeMessage(p), isWire('oversized'));
  p.writeUInt32LE(3, p.length - 4); // within the bound, not the bytes left
  assert.throws(() => decodeMessage(p), isWire('truncated'));
  // floors: at most limits.readSlotsMax, as the entries they go with.
  const max = Array.from({ length: limits.readSlotsMax }, (_, i) => ({ position: i, floor: 1 }));
  assert.equal((decodeMessage(encodeMessage({ type: 'learned', entries: [], floors: max })) as { floors?: unknown[] }).floors?.length, limits.readSlotsMax);
  const l = encodeMessage({ type: 'learned', entries: [], floors: [] });
  l.writeUInt32LE(limits.readSlotsMax + 1, l.length - 4);
  assert.throws(() => decodeMessage(l), isWire('oversized'));
  assert.throws(() => encodeMessage({ type: 'learned', entries: [], floors: [...max, { position: 0, floor: 1 }] }), /floors exceeds the bound/);
});

test('wire version 4: broken links, and an install or link the store could not keep, are refused', () => {
  const gap: Message = { type: 'promise', rid: 1, proposal: 1, links: [chain[1]!, { ...link2, epoch: 3 }] };
  assert.throws(() => decodeMessage(encodeMessage(gap)), (e: unknown) => e instanceof WireError && /does not follow/.test(e.message));
  const down: Message = { type: 'promise', rid: 1, proposal: 1, links: [chain[1]!, { ...link2, position: 4 }] };
  assert.throws(() => decodeMessage(encodeMessage(down)), isWire('bad-value'));
  // An address that is not HOST:PORT: the replica would store it in its chain.
  const unstorable: PlacedConfiguration = { ...link2, voters: [{ id: 1, address: 'nowhere' }, { id: 2, address: 'h2:2' }] };
  assert.throws(() => decodeMessage(encodeMessage({ type: 'promise', rid: 1, proposal: 1, install: unstorable })), isWire('bad-value'));
  assert.throws(() => decodeMessage(encodeMessage({ type: 'promise', rid: 1, proposal: 1, links: [unstorable] })), isWire('bad-value'));
  // A floor is a proposal: above limits.proposalMax is refused.
  const f = encodeMessage({ type: 'learned', entries: [], floors: [{ position: 1, floor: 1 }] });
  f.writeUInt32LE(0x1fffff, f.length - 4); // high word of the floor
  assert.throws(() => decodeMessage(f), isWire('bad-value'));
});

test('wire version 4: recover, recoverReply and rejoinReply refuse unknown flag bits; absent fields stay absent', () => {
  // recover: flags bit 0 member, bit 1 head.
  const r = encodeMessage({ type: 'recover', rid: 1 });
  assert.equal(r.length, 10);
  for (const bit of [2, 3, 7]) {
    r[9] = 1 << bit;
    assert.throws(() => decodeMessage(r), isWire('bad-value'), `recover bit ${bit}`);
  }
  assert.deepStrictEqual(decodeMessage(encodeMessage({ type: 'recover', rid: 1, member: 2 })), { type: 'recover', rid: 1, member: 2 });
  // recoverReply: its last byte, the discovery flags (bits 0 to 4: learnedThrough, links, removed, clusterId, membersHash).
  const rr = encodeMessage(recoverReply);
  assert.equal(rr[rr.length - 1], 0);
  for (const bit of [5, 6, 7]) {
    rr[rr.length - 1] = 1 << bit;
    assert.throws(() => decodeMessage(rr), isWire('bad-value'), `recoverReply bit ${bit}`);
  }
  assert.deepStrictEqual(decodeMessage(encodeMessage(recoverReply)), recoverReply);
  // rejoinReply: its last byte, bit 0 removed.
  const j = encodeMessage({ type: 'rejoinReply', rid: 3, outcome: 'accept', status: 'VOTING', begin: 0, end: 9, generation: 1, disk: 5 });
  assert.equal(j[j.length - 1], 0);
  j[j.length - 1] = 2;
  assert.throws(() => decodeMessage(j), isWire('bad-value'));
});

test('wire version 4: a recoverReply\'s links are bounded, must form a chain, and must be storable; its removed obeys the placement rule', () => {
  const withLinks = encodeMessage({ ...recoverReply, links: [] } as Message);
  withLinks.writeUInt32LE(wireLimits.namedLengthMax + 1, withLinks.length - 4);
  assert.throws(() => decodeMessage(withLinks), isWire('oversized'));
  withLinks.writeUInt32LE(2, withLinks.length - 4);
  assert.throws(() => decodeMessage(withLinks), isWire('truncated'));
  const gap = { ...recoverReply, links: [chain[1]!, { ...link2, epoch: 3 }] } as Message;
  assert.throws(() => decodeMessage(encodeMessage(gap)), (e: unknown) => e instanceof WireError && /does not follow/.test(e.message));
  const unstorable: PlacedConfiguration = { ...link2, voters: [{ id: 1, address: 'nowhere' }, { id: 2, address: 'h2:2' }] };
  assert.throws(() => decodeMessage(encodeMessage({ ...recoverReply, links: [unstorable] } as Message)), isWire('bad-value'));
  assert.throws(() => decodeMessage(encodeMessage({ ...recoverReply, removed: { ...link2, position: -1 } } as Message)), isWire('bad-value'));
  assert.throws(
    () => decodeMessage(encodeMessage({ type: 'rejoinReply', rid: 3, outcome: 'ignored', status: 'VOTING', begin: 0, end: 9, generation: 1, disk: 5, removed: { ...link2, epoch: 0 } })),
    isWire('bad-value'),
  );
});
