// docs/wire.md must let someone write a compatible client (issue 19, item 12): every message row of its
// table names fields whose sizes add up to what the codec encodes, optional fields included (a field the
// page leaves out, such as recoverReply's progress or peerState's yours, makes the sums differ).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Message } from '../../src/core/types.js';
import { messageSize } from '../../src/net/codec.js';
import { changeTypeCode, extensionTypeCode, typeCode } from '../../src/net/schema.js';
import { changeMessageSize, type ChangeMessage } from '../../src/net/change-codec.js';
import { digestMessageSize, type DigestMessage } from '../../src/net/digest-codec.js';

const DOC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/wire.md');

/** Bytes of each field type with empty arrays and strings. */
const FIELD_BYTES: Record<string, number> = {
  nat: 8, id: 8, pos: 8, spos: 8, prop: 8, u8: 1, u16: 2, u32: 4, bool: 1, Outcome: 1, WriteOutcome: 1, PromiseOutcome: 1, Status: 1, str8: 1, bytes: 4, Witness: 32,
  // Wire version 3 (docs/reconfiguration.md): a configuration with empty member lists and no changeId is 25 bytes.
  Head: 16, Pending: 8 + 8 + 25,
  // Wire version 4: a placed configuration is that configuration, its position and its floor.
  Placed: 25 + 8 + 8,
  // Wire version 5 (the change relay): a request with an empty id and a promote (kind, id); a refused
  // outcome with empty reason and message.
  ChangeRequest: 1 + 8 + 9, ChangeOutcome: 1 + 1 + 1, OfferState: 1,
};

/** The size the page gives a message's fields, every optional field present, arrays and strings empty. */
function documentedSize(fields: string): number {
  let n = 0;
  for (const raw of fields.split(',')) {
    const field = raw.trim().replace(/^\[/, '').replace(/\]$/, '');
    const type = field.split(/\s+/)[0]!.replace(/`/g, '');
    const bytes = type.endsWith('[]') ? 4 : FIELD_BYTES[type];
    assert.ok(bytes !== undefined, `unknown field type '${type}' in '${fields}'`);
    n += bytes;
  }
  return n;
}

/** A head, and a pending entry whose configuration has empty member lists (the smallest the codec writes). */
const head = { epoch: 0, position: -1 };
const pending = { position: 0, proposal: 0, config: { epoch: 0, voters: [], learners: [], nextId: 1 } };
const placed = { epoch: 0, voters: [], learners: [], nextId: 1, position: -1, floor: 0 };

/** One message of each type with every optional field present and every array and string empty. */
const samples: Message[] = [
  { type: 'promise', rid: 1, proposal: 1, nonce: 1, from: 0, to: 0, config: head, install: placed, links: [] },
  { type: 'promiseReply', rid: 1, outcome: 'accept', proposal: 1, status: 'VOTING', begin: 0, end: 0, learnedThrough: 0, slots: [], coveredThrough: 0, generation: 0, disk: 0, config: head, pending },
  { type: 'write', rid: 1, proposal: 1, from: 0, actions: [], named: [], config: head },
  { type: 'writeReply', rid: 1, outcome: 'accept', proposal: 1, from: 0, count: 0, generation: 0, disk: 0, retired: [], config: head, learnedThrough: 0, lostBelow: false },
  { type: 'commit', proposal: 1, from: 0, to: 0 },
  { type: 'learned', entries: [], floors: [] },
  { type: 'read', rid: 1, from: 0, to: 0, limit: 1 },
  { type: 'readReply', rid: 1, status: 'VOTING', begin: 0, end: 0, learnedThrough: 0, slots: [], coveredThrough: 0, lost: [], writerActive: false, pendingTruncate: { position: 1, to: 0 }, config: head, pending, chain: [] },
  { type: 'recover', rid: 1, member: 1, config: head },
  {
    type: 'recoverReply', rid: 1, status: 'VOTING', begin: 0, end: 0, incarnation: '', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0, recorded: [],
    witness: { generation: 0, disk: 0, promised: 0, end: 0 }, startView: [], progress: { done: 0, total: 0 }, config: head, pending,
    learnedThrough: 0, links: [], removed: placed, clusterId: '', membersHash: '',
  },
  { type: 'rejoin', rid: 1, member: 1, generation: 1, disk: 1 },
  { type: 'rejoinReply', rid: 1, outcome: 'accept', status: 'VOTING', begin: 0, end: 0, generation: 0, disk: 0, removed: placed },
  { type: 'peerState', incarnation: '', generation: 0, disk: 0, status: 'VOTING', promised: 0, begin: 0, end: 0, learnedThrough: 0, yours: { generation: 0, disk: 0 }, config: head, address: '' },
  { type: 'config', rid: 1 },
  { type: 'configReply', rid: 1, epoch: 0, members: [], clusterId: '', position: -1, voters: [], learners: [], nextId: 1, chain: [], pending },
];

/** The divergence check's messages (src/net/digest-codec.ts), outside the core's Message union. */
const digestSamples: DigestMessage[] = [
  { type: 'digest', rid: 1, from: 0, to: 0, seed: 0, limit: 0 },
  { type: 'digestReply', rid: 1, status: 'VOTING', begin: 0, learnedThrough: 0, from: 0, through: 0, count: 0, crc: 0, stop: 'end' },
];

/** The change relay's messages (src/net/change-codec.ts), outside the core's Message union too. */
const promote = { id: '', ifEpoch: 0, change: { kind: 'promote' as const, id: 1 } };
const refused = { ok: false as const, reason: '', message: '' };
const changeSamples: ChangeMessage[] = [
  { type: 'changeOffer', rid: 1, request: promote, withdraw: true },
  { type: 'changeOfferReply', rid: 1, state: 'done', outcome: refused },
  { type: 'changeTake', rid: 1, proposal: 1, done: true },
  { type: 'changeTakeReply', rid: 1, requests: [] },
  { type: 'changeReport', id: '', outcome: refused },
  { type: 'changeForward', request: promote },
  { type: 'configVouch', config: placed },
];

test('docs/wire.md: every message of the codec is in the table, with its code and every field', () => {
  const rows = new Map<string, { code: number; fields: string }>();
  const page = readFileSync(DOC, 'utf8');
  const table = page.slice(page.indexOf('### Message table'), page.indexOf('\n## ', page.indexOf('### Message table')));
  for (const line of table.split('\n')) {
    const m = /^\| (\d+) \| (\w+) \| (.+?) \| .* \|$/.exec(line);
    if (m !== null) rows.set(m[2]!, { code: Number(m[1]), fields: m[3]! });
  }
  assert.deepEqual([...rows.keys()].sort(), [...Object.keys(typeCode), ...Object.keys(extensionTypeCode), ...Object.keys(changeTypeCode)].sort(), 'one row per message type');
  for (const msg of changeSamples) {
    const row = rows.get(msg.type)!;
    assert.equal(row.code, changeTypeCode[msg.type], `${msg.type}: code`);
    assert.equal(1 + documentedSize(row.fields), changeMessageSize(msg), `${msg.type}: the fields on the page add up to what the codec encodes`);
  }
  for (const msg of digestSamples) {
    const row = rows.get(msg.type)!;
    assert.equal(row.code, extensionTypeCode[msg.type], `${msg.type}: code`);
    assert.equal(1 + documentedSize(row.fields), digestMessageSize(msg), `${msg.type}: the fields on the page add up to what the codec encodes`);
  }
  for (const msg of samples) {
    const row = rows.get(msg.type)!;
    assert.equal(row.code, typeCode[msg.type], `${msg.type}: code`);
    assert.equal(1 + documentedSize(row.fields), messageSize(msg), `${msg.type}: the fields on the page add up to what the codec encodes`);
  }
});
