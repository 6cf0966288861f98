/**
 * Wire version 3 (docs/wire.md, "Configurations"; docs/reconfiguration.md,
 * section 6): the `config` action, the heads requests and replies carry, the
 * pending entries of promise, read and recover replies, the write reply's
 * learned prefix, the new outcomes, and the fields of a ConfigReply travel,
 * and decode exactly as sent (a field absent stays absent). Step 2 kept them
 * off version 2; these replace its tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage } from '../../src/net/codec.js';
import { WireError } from '../../src/net/errors.js';
import { WIRE_VERSION, decodeHello, encodeHelloFrame } from '../../src/net/hello.js';
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

test('wire version 3: the version a hello carries', () => {
  assert.equal(WIRE_VERSION, 3);
  const frame = encodeHelloFrame({ version: 2, clusterId: 'c', role: 'client' });
  assert.throws(() => decodeHello(frame.subarray(4)), (e: unknown) => e instanceof WireError && /peer speaks wire version 2, we speak 3/.test(e.message));
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
