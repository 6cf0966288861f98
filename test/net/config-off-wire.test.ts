/**
 * Step 2 of docs/reconfiguration.md adds the `config` action and the fields of
 * a ConfigReply to the types, not to wire version 2: a version-2 peer rejects
 * an unknown action kind and trailing bytes, so they travel only with the
 * version bump of the later steps. These tests keep that so: nothing is sent
 * in a form today's peers would refuse, and nothing is dropped silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage } from '../../src/net/codec.js';
import { WireError } from '../../src/net/errors.js';
import { typeCode } from '../../src/net/schema.js';
import type { Configuration } from '../../src/core/membership.js';
import type { Message } from '../../src/core/types.js';

const config: Configuration = { epoch: 1, voters: [{ id: 1, address: 'h1:1' }], learners: [{ id: 2, address: 'h2:2' }], nextId: 3 };

test('a config entry is not encoded for wire version 2 (write, learned)', () => {
  const carriers: Message[] = [
    { type: 'write', rid: 1, proposal: 2, from: 3, named: [{ id: 1, generation: 0, disk: 0 }], actions: [{ kind: 'config', config }] },
    { type: 'learned', entries: [{ position: 3, action: { kind: 'config', config } }] },
  ];
  for (const msg of carriers) assert.throws(() => encodeMessage(msg), /wire version 2 has no config action/);
});

test('action kind 3 (where a config entry would go) is still rejected by the decoder', () => {
  const nop = encodeMessage({ type: 'learned', entries: [{ position: 3, action: { kind: 'nop' } }] });
  const bytes = Buffer.from(nop);
  // learned: type code, u32 count, pos position, then the action kind byte.
  assert.equal(bytes[0], typeCode.learned);
  const kindAt = 1 + 4 + 8;
  assert.equal(bytes[kindAt], 0);
  bytes[kindAt] = 3;
  assert.throws(() => decodeMessage(bytes), (e: unknown) => e instanceof WireError && /unknown action kind 3/.test(e.message));
});

test('a configReply carries epoch and members only; the reconfiguration fields are refused, not dropped', () => {
  const plain: Message = { type: 'configReply', rid: 4, epoch: 2, members: [{ id: 1, address: 'h1:1' }, { id: 2, address: 'h2:2' }] };
  assert.deepEqual(decodeMessage(encodeMessage(plain)), plain);
  for (const extra of [{ clusterId: 'c' }, { voters: [] }, { learners: [] }, { position: 5 }, { nextId: 3 }, { chain: [] }]) {
    assert.throws(() => encodeMessage({ ...plain, ...extra } as Message), /epoch and members only/);
  }
});
