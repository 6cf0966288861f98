/**
 * Wire version 5: the change relay's messages (src/net/change-codec.ts,
 * docs/wire.md codes 18 to 22) round-trip exactly, absent fields stay absent,
 * and malformed ones are refused: every strict prefix, trailing bytes, unknown
 * flags and codes, over-long lists, bad ids, a done offer without an outcome.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHANGE_CODES, decodeChangeMessage, encodeChangeFrame, encodeChangeMessage, type ChangeMessage } from '../../src/net/change-codec.js';
import { decodeMessage } from '../../src/net/codec.js';
import { WireError } from '../../src/net/errors.js';
import { wireLimits } from '../../src/net/limits.js';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import type { ChangeRequest } from '../../src/core/writer.js';

const isWire = (reason: string) => (e: unknown) => e instanceof WireError && e.reason === reason;

const placed: PlacedConfiguration = { epoch: 2, voters: [{ id: 1, address: 'h1:1' }], learners: [{ id: 4, address: 'h4:4' }], nextId: 5, changeId: 'c-1', position: 17, floor: 9 };
const requests: ChangeRequest[] = [
  { id: 'a', ifEpoch: 1, change: { kind: 'add', member: { id: 4, address: 'h4:4' } } },
  { id: 'b', ifEpoch: 2, change: { kind: 'promote', id: 4 } },
  { id: 'c', ifEpoch: 3, change: { kind: 'remove', id: 3 } },
  { id: 'd', ifEpoch: 0, change: { kind: 'replace', old: 2, replacement: 5 } },
  { id: 'e', ifEpoch: 7, change: { kind: 'address', id: 1, address: 'new:9' } },
  { id: 'f', ifEpoch: 7, change: { kind: 'set', voters: [1, 2], learners: [] } },
];

const samples: ChangeMessage[] = [
  ...requests.map((request, i): ChangeMessage => ({ type: 'changeOffer', rid: i + 1, request })),
  { type: 'changeOffer', rid: 9, request: requests[0]!, withdraw: true },
  ...(['held', 'taken', 'withdrawn', 'no-writer'] as const).map((state): ChangeMessage => ({ type: 'changeOfferReply', rid: 3, state })),
  { type: 'changeOfferReply', rid: 3, state: 'done', outcome: { ok: true, config: placed } },
  { type: 'changeOfferReply', rid: 3, state: 'done', outcome: { ok: false, reason: 'epoch-changed', message: 'the configuration is at epoch 3, not 2' } },
  { type: 'changeTake', rid: 4, proposal: 12345 },
  { type: 'changeTake', rid: 4, proposal: 12345, done: true },
  { type: 'changeTakeReply', rid: 4, requests: [] },
  { type: 'changeTakeReply', rid: 4, requests },
  { type: 'changeReport', id: 'a', outcome: { ok: true, config: placed } },
  { type: 'changeReport', id: 'b', outcome: { ok: false, reason: 'unknown-member', message: 'member 9 is not in the configuration' } },
  // Wire version 7 (R15): an admin's request, forwarded replica to replica.
  ...requests.map((request): ChangeMessage => ({ type: 'changeForward', request })),
  // A config entry a replica holds accepted above its head (configVouch, R15's second review).
  { type: 'configVouch', config: { epoch: 3, voters: [{ id: 1, address: 'a:1' }], learners: [{ id: 4, address: 'b:2' }], nextId: 5, changeId: 'req-9', position: 40, floor: 7 } },
];

test('wire version 5: every relay message round-trips exactly; withdraw and outcome absent stay absent', () => {
  for (const m of samples) assert.deepStrictEqual(decodeChangeMessage(encodeChangeMessage(m)), m, m.type);
  const frame = encodeChangeFrame(samples[0]!);
  assert.equal(frame.readUInt32LE(0), frame.length - 4);
  assert.deepStrictEqual(decodeChangeMessage(frame.subarray(4)), samples[0]);
});

test('wire version 5: relay codes are not the core protocol\'s: the core decoder refuses them as unknown', () => {
  for (const m of samples) {
    const buf = encodeChangeMessage(m);
    assert.ok(CHANGE_CODES.has(buf[0]!));
    assert.throws(() => decodeMessage(buf), isWire('unknown-type'), m.type);
  }
});

test('wire version 5: every strict prefix is refused as truncated, a trailing byte as trailing', () => {
  for (const m of samples) {
    const buf = encodeChangeMessage(m);
    for (let n = 1; n < buf.length; n++) assert.throws(() => decodeChangeMessage(buf.subarray(0, n)), isWire('truncated'), `${m.type} cut at ${n}`);
    assert.throws(() => decodeChangeMessage(Buffer.concat([buf, Buffer.from([0])])), isWire('trailing-bytes'), m.type);
  }
});

test('wire version 5: unknown flags, codes, states and change kinds are refused', () => {
  const offer = encodeChangeMessage({ type: 'changeOffer', rid: 1, request: requests[1]! });
  offer[offer.length - 1] = 2; // withdraw is a bool
  assert.throws(() => decodeChangeMessage(offer), isWire('bad-value'));
  const kindAt = 1 + 8 + 2 + 8; // type, rid, id 'b', ifEpoch
  const badKind = encodeChangeMessage({ type: 'changeOffer', rid: 1, request: requests[1]! });
  badKind[kindAt] = 6;
  assert.throws(() => decodeChangeMessage(badKind), isWire('bad-value'));
  const reply = encodeChangeMessage({ type: 'changeOfferReply', rid: 1, state: 'held' });
  reply[9] = 5;
  assert.throws(() => decodeChangeMessage(reply), isWire('bad-value'), 'state 5');
  reply[9] = 0;
  reply[10] = 2;
  assert.throws(() => decodeChangeMessage(reply), isWire('bad-value'), 'outcome flag 2');
  reply[10] = 1; // held with an outcome flag
  assert.throws(() => decodeChangeMessage(Buffer.concat([reply, encodeChangeMessage({ type: 'changeReport', id: 'x', outcome: { ok: false, reason: 'r', message: '' } }).subarray(3)])), isWire('bad-value'));
  const done = encodeChangeMessage({ type: 'changeOfferReply', rid: 1, state: 'done', outcome: { ok: false, reason: 'r', message: 'm' } });
  assert.throws(() => decodeChangeMessage(Buffer.concat([done.subarray(0, 10), Buffer.from([0])])), isWire('bad-value'), 'done without an outcome');
  assert.throws(() => decodeChangeMessage(Buffer.from([25])), isWire('unknown-type'));
  const take = encodeChangeMessage({ type: 'changeTake', rid: 1, proposal: 2 });
  take[take.length - 1] = 2; // done is a bool
  assert.throws(() => decodeChangeMessage(take), isWire('bad-value'), 'take done 2');
});

test('wire version 5: bad ids, an empty change id or reason, and proposal 0 are refused', () => {
  const bad = (m: ChangeMessage, patch: (b: Buffer) => void): void => {
    const b = encodeChangeMessage(m);
    patch(b);
    assert.throws(() => decodeChangeMessage(b), isWire('bad-value'), m.type);
  };
  // Member id 0 in a promote.
  bad({ type: 'changeOffer', rid: 1, request: requests[1]! }, (b) => b.writeBigUInt64LE(0n, 1 + 8 + 2 + 8 + 1));
  // A set naming a member twice.
  assert.throws(
    () => decodeChangeMessage(encodeChangeMessage({ type: 'changeOffer', rid: 1, request: { id: 'x', ifEpoch: 1, change: { kind: 'set', voters: [1, 1], learners: [] } } })),
    isWire('bad-value'),
  );
  assert.throws(() => encodeChangeMessage({ type: 'changeOffer', rid: 1, request: { ...requests[0]!, id: '' } }), /has an id/);
  const noId = encodeChangeMessage({ type: 'changeReport', id: 'a', outcome: { ok: false, reason: 'r', message: 'm' } });
  assert.throws(() => decodeChangeMessage(Buffer.concat([Buffer.from([noId[0]!, 0]), noId.subarray(3)])), isWire('bad-value'));
  bad({ type: 'changeTake', rid: 1, proposal: 5 }, (b) => b.writeBigUInt64LE(0n, 9));
  // An outcome's configuration obeys the configuration rules (nextId above every id).
  bad({ type: 'changeReport', id: 'a', outcome: { ok: true, config: placed } }, (b) => {
    const nextIdAt = 1 + 2 + 1 + 8 + 4 + 8 + 5 + 4 + 8 + 5; // type, id, ok, epoch, voters, learners
    b.writeBigUInt64LE(4n, nextIdAt);
  });
});

test('wire version 5: a take reply holds at most wireLimits.relayHeldMax requests, checked before reading them', () => {
  const max = Array.from({ length: wireLimits.relayHeldMax }, (_, i) => ({ ...requests[1]!, id: `r${i}` }));
  assert.equal((decodeChangeMessage(encodeChangeMessage({ type: 'changeTakeReply', rid: 1, requests: max })) as unknown as { requests: unknown[] }).requests.length, wireLimits.relayHeldMax);
  assert.throws(() => encodeChangeMessage({ type: 'changeTakeReply', rid: 1, requests: [...max, requests[0]!] }), /exceeds the bound/);
  const b = encodeChangeMessage({ type: 'changeTakeReply', rid: 1, requests: [] });
  b.writeUInt32LE(wireLimits.relayHeldMax + 1, 9);
  assert.throws(() => decodeChangeMessage(b), isWire('oversized'));
  b.writeUInt32LE(2, 9);
  assert.throws(() => decodeChangeMessage(b), isWire('truncated'));
  // A set's id lists are bounded as member lists are.
  const set = encodeChangeMessage({ type: 'changeOffer', rid: 1, request: { id: 'x', ifEpoch: 1, change: { kind: 'set', voters: [], learners: [] } } });
  set.writeUInt32LE(wireLimits.namedLengthMax + 1, 1 + 8 + 2 + 8 + 1);
  assert.throws(() => decodeChangeMessage(set), isWire('oversized'));
});

test('wire version 5: a refusal message longer than a str8 is cut at a character boundary, not refused', () => {
  const long = 'é'.repeat(300);
  const m = decodeChangeMessage(encodeChangeMessage({ type: 'changeReport', id: 'a', outcome: { ok: false, reason: 'unknown', message: long } }));
  assert.ok(m.type === 'changeReport' && !m.outcome.ok);
  const msg = (m.outcome as { message: string }).message;
  assert.ok(Buffer.byteLength(msg) <= 255 && msg.endsWith('…') && long.startsWith(msg.slice(0, -1)));
});
