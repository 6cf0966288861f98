import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMessage, encodeFrame, encodeMessage, messageSize } from '../../src/net/codec.js';
import { WireError } from '../../src/net/errors.js';
import { wireLimits } from '../../src/net/limits.js';
import { typeCode } from '../../src/net/schema.js';
import { limits } from '../../src/core/constants.js';
import type { Message } from '../../src/core/types.js';
import { message, oneOfEach } from './arbitraries.js';

function throwsWire(buf: Buffer, reason?: string): void {
  assert.throws(
    () => decodeMessage(buf),
    (err: unknown) => err instanceof WireError && (reason === undefined || err.reason === reason),
  );
}

test('codec: every message type round-trips (table)', () => {
  const seen = new Set<string>();
  for (const m of oneOfEach()) {
    assert.deepStrictEqual(decodeMessage(encodeMessage(m)), m);
    seen.add(m.type);
  }
  assert.deepStrictEqual([...seen].sort(), Object.keys(typeCode).sort());
});

test('codec: random valid messages round-trip (property)', () => {
  fc.assert(
    fc.property(message, (m) => {
      const buf = encodeMessage(m);
      assert.equal(buf.length, messageSize(m));
      assert.deepStrictEqual(decodeMessage(buf), m);
    }),
    { numRuns: 2000 },
  );
});

test('codec: encodeFrame is the u32 LE length followed by the payload', () => {
  fc.assert(
    fc.property(message, (m) => {
      const f = encodeFrame(m);
      const p = encodeMessage(m);
      assert.equal(f.readUInt32LE(0), p.length);
      assert.ok(f.subarray(4).equals(p));
    }),
  );
});

test('codec: append data decodes as a view of the payload (zero copy)', () => {
  const data = new Uint8Array(1000).fill(7);
  const buf = encodeMessage({ type: 'write', rid: 1, proposal: 1, from: 0, actions: [{ kind: 'append', data }], named: [] });
  const m = decodeMessage(buf) as Extract<Message, { type: 'write' }>;
  const a = m.actions[0]!;
  assert.equal(a.kind, 'append');
  if (a.kind === 'append') assert.equal(a.data.buffer, buf.buffer);
});

test('codec: every strict prefix of a valid message is rejected as truncated', () => {
  fc.assert(
    fc.property(message, (m) => {
      const buf = encodeMessage(m);
      for (let n = 0; n < buf.length; n++) throwsWire(buf.subarray(0, n), 'truncated');
    }),
    { numRuns: 200 },
  );
});

test('codec: trailing bytes are rejected', () => {
  for (const m of oneOfEach()) throwsWire(Buffer.concat([encodeMessage(m), Buffer.from([0])]), 'trailing-bytes');
});

test('codec: unknown message types are rejected', () => {
  for (const code of [0, 16, 0x52, 255]) throwsWire(Buffer.from([code, 0, 0, 0, 0, 0, 0, 0, 0]), 'unknown-type');
});

test('codec: integers above 2^53 - 1 are rejected', () => {
  const buf = encodeMessage({ type: 'recover', rid: Number.MAX_SAFE_INTEGER });
  assert.deepStrictEqual(decodeMessage(buf), { type: 'recover', rid: Number.MAX_SAFE_INTEGER });
  buf.writeUInt32LE(0x200000, 5); // high word of rid: 2^53
  throwsWire(buf, 'bad-value');
});

test('codec: positions, proposals and generations above the sanity bounds are rejected, whoever sends them', () => {
  const huge = Number.MAX_SAFE_INTEGER;
  const refused: Message[] = [
    // A hostile replica: an end that would make a reader walk towards 2^53, a rejection no proposer can exceed.
    { type: 'readReply', rid: 1, status: 'VOTING', begin: 0, end: huge, learnedThrough: -1, slots: [], coveredThrough: -1, lost: [], writerActive: false },
    { type: 'promiseReply', rid: 1, outcome: 'reject', proposal: huge, status: 'VOTING', begin: 0, end: 0, learnedThrough: 0, coveredThrough: 0, generation: 0, disk: 0, slots: [] },
    // A hostile client: a promise nobody could ever exceed, a commit far beyond any end, a truncation of everything.
    { type: 'promise', rid: 1, proposal: limits.proposalMax + 1 },
    { type: 'commit', proposal: 1, from: 0, to: limits.positionMax + 1 },
    { type: 'write', rid: 1, proposal: 1, from: 0, actions: [{ kind: 'truncate', to: huge }], named: [] },
    { type: 'rejoin', rid: 1, member: 2, generation: huge, disk: 1 },
  ];
  for (const m of refused) throwsWire(encodeMessage(m), 'bad-value');
  const atBound: Message = { type: 'commit', proposal: limits.proposalMax, from: 0, to: limits.positionMax };
  assert.deepStrictEqual(decodeMessage(encodeMessage(atBound)), atBound);
});

test('codec: a reply carries at most limits.readSlotsMax slots', () => {
  const slot = { position: 0, promised: 0, accepted: 1, learned: true };
  const ok = { type: 'readReply', rid: 1, status: 'VOTING', begin: 0, end: 0, learnedThrough: 0, coveredThrough: 0, lost: [], writerActive: false } as const;
  decodeMessage(encodeMessage({ ...ok, slots: Array.from({ length: limits.readSlotsMax }, () => slot) }));
  throwsWire(encodeMessage({ ...ok, slots: Array.from({ length: limits.readSlotsMax + 1 }, () => slot) }), 'oversized');
});

test('codec: a position below -1 is rejected', () => {
  const buf = encodeMessage({ type: 'recoverReply', rid: 1, status: 'VOTING', begin: 0, end: -1, incarnation: 'i', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0, recorded: [] });
  buf.writeInt32LE(-2, 18); // end = -2 (low word) with high word -1
  throwsWire(buf, 'bad-value');
});

test('codec: unknown enum values and flag bits are rejected', () => {
  const rr = encodeMessage({ type: 'recoverReply', rid: 1, status: 'VOTING', begin: 0, end: -1, incarnation: 'i', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0, recorded: [] });
  rr[9] = 4; // status
  throwsWire(rr, 'bad-value');
  const p = encodeMessage({ type: 'promise', rid: 1, proposal: 1 });
  p[25] = 2; // promise flags
  throwsWire(p, 'bad-value');
  const rc = encodeMessage({ type: 'recover', rid: 1 });
  rc[9] = 4; // recover flags: bit 0 member, bit 1 head (wire version 4), no others
  throwsWire(rc, 'bad-value');
  const w = encodeMessage({ type: 'write', rid: 1, proposal: 1, from: 0, actions: [{ kind: 'nop' }], named: [] });
  w[w.length - 1] = 2; // tombstone byte
  throwsWire(w, 'bad-value');
  w[w.length - 2] = 9; // action kind
  throwsWire(w, 'bad-value');
});

test('codec: huge array counts and data lengths are rejected before allocating', () => {
  // Wire version 3: a write ends with its config flags byte (no head here), after the actions.
  const w = encodeMessage({ type: 'write', rid: 1, proposal: 1, from: 0, actions: [], named: [] });
  w.writeUInt32LE(0xffffffff, w.length - 5);
  throwsWire(w, 'oversized');
  w.writeUInt32LE(1000, w.length - 5); // fits the bound, not the bytes left
  throwsWire(w, 'truncated');
  const a = encodeMessage({ type: 'write', rid: 1, proposal: 1, from: 0, actions: [{ kind: 'append', data: new Uint8Array(1) }], named: [] });
  a.writeUInt32LE(0xfffffff0, a.length - 6); // data length
  throwsWire(a, 'oversized');
});

test('codec: a write carries at most a writer batch of actions, a learned message at most a reply of entries (issue 19, item 2)', () => {
  const nop = { kind: 'nop' as const };
  const max = encodeMessage({ type: 'write', rid: 1, proposal: 1, from: 0, actions: Array.from({ length: limits.writeBatchPositionsMax }, () => nop), named: [] });
  assert.equal((decodeMessage(max) as unknown as { actions: unknown[] }).actions.length, limits.writeBatchPositionsMax);
  throwsWire(encodeMessage({ type: 'write', rid: 1, proposal: 1, from: 0, actions: Array.from({ length: 150_000 }, () => nop), named: [] }), 'oversized');
  const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ position: i, action: nop }));
  assert.equal((decodeMessage(encodeMessage({ type: 'learned', entries: entries(limits.readSlotsMax) })) as unknown as { entries: unknown[] }).entries.length, limits.readSlotsMax);
  throwsWire(encodeMessage({ type: 'learned', entries: entries(150_000) }), 'oversized');
});

test('codec: a write that runs past the largest position is rejected', () => {
  const w = encodeMessage({ type: 'write', rid: 1, proposal: 1, from: Number.MAX_SAFE_INTEGER, actions: [{ kind: 'nop' }], named: [] });
  throwsWire(w, 'bad-value');
});

test('codec fuzz: random bytes decode or throw WireError, never anything else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const buf = Buffer.from(bytes);
      try {
        const m = decodeMessage(buf);
        // Whatever decodes is canonical: it re-encodes to the same bytes.
        assert.ok(encodeMessage(m).equals(buf));
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
      }
    }),
    { numRuns: 20_000 },
  );
});

test('codec fuzz: mutated valid messages decode canonically or throw WireError', () => {
  fc.assert(
    fc.property(message, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (m, edits) => {
      const buf = Buffer.from(encodeMessage(m));
      for (const [i, b] of edits) buf[i % buf.length] = b;
      try {
        assert.ok(encodeMessage(decodeMessage(buf)).equals(buf));
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
      }
    }),
    { numRuns: 5_000 },
  );
});

const staleReply = (): Message => ({
  type: 'writeReply',
  rid: 1,
  outcome: 'stale',
  proposal: 1,
  from: 0,
  count: 1,
  generation: 0,
  disk: 0,
  retired: [{ id: 2, generation: 1, disk: 3 }],
});

test('codec: the stale outcome is valid in a write reply only, and exactly when it lists retired members', () => {
  const st = encodeMessage(staleReply());
  assert.equal(st[9], 3); // write outcome code of stale
  assert.deepStrictEqual(decodeMessage(st), staleReply());
  const accepted = Buffer.from(st);
  accepted[9] = 0; // accept, yet lists a retired member
  throwsWire(accepted, 'bad-value');
  const empty = encodeMessage({ type: 'writeReply', rid: 1, outcome: 'accept', proposal: 1, from: 0, count: 1, generation: 0, disk: 0, retired: [] });
  empty[9] = 3; // stale with no retired member
  throwsWire(empty, 'bad-value');
  empty[9] = 6; // above not-ready (5), the highest write outcome of wire version 3
  throwsWire(empty, 'bad-value');
  // The outcome byte: stale (3) is not an Outcome; in a promise reply 3 is stale-config and 4 unknown-config (version 3), 5 nothing.
  for (const [m, code] of [
    [{ type: 'promiseReply', rid: 1, outcome: 'accept', proposal: 1, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1, generation: 0, disk: 0 }, 5],
    [{ type: 'rejoinReply', rid: 1, outcome: 'accept', status: 'VOTING', begin: 0, end: -1, generation: 0, disk: 0 }, 3],
  ] as const) {
    const b = encodeMessage(m);
    b[9] = code;
    throwsWire(b, 'bad-value');
  }
});

test('codec: named and retired lists are bounded, with distinct member ids >= 1', () => {
  const named = Array.from({ length: wireLimits.namedLengthMax }, (_, i) => ({ id: i + 1, generation: i, disk: i }));
  const ok: Message = { type: 'write', rid: 1, proposal: 1, from: 0, actions: [], named };
  assert.deepStrictEqual(decodeMessage(encodeMessage(ok)), ok);
  const big = encodeMessage(ok);
  big.writeUInt32LE(wireLimits.namedLengthMax + 1, 25); // named count
  throwsWire(big, 'oversized');
  const two: Message = { type: 'write', rid: 1, proposal: 1, from: 0, actions: [], named: [{ id: 1, generation: 0, disk: 0 }, { id: 2, generation: 0, disk: 0 }] };
  const dup = encodeMessage(two);
  dup.writeUInt32LE(1, 29 + 24); // second id := 1
  throwsWire(dup, 'bad-value');
  const zero = encodeMessage(two);
  zero.writeUInt32LE(0, 29); // first id := 0
  throwsWire(zero, 'bad-value');
  const st = encodeMessage(staleReply());
  st.writeUInt32LE(0, 50); // retired id := 0
  throwsWire(st, 'bad-value');
  assert.throws(() => encodeMessage({ ...ok, named: [...named, { id: 999, generation: 0, disk: 0 }] }));
});

test('codec: member ids in recover and rejoin must be >= 1', () => {
  const rc = encodeMessage({ type: 'recover', rid: 1, member: 1 });
  assert.equal(rc.length, 18);
  rc.writeUInt32LE(0, 10);
  throwsWire(rc, 'bad-value');
  const rj = encodeMessage({ type: 'rejoin', rid: 1, member: 1, generation: 1, disk: 1 });
  rj.writeUInt32LE(0, 9);
  throwsWire(rj, 'bad-value');
  assert.throws(() => encodeMessage({ type: 'rejoin', rid: 1, member: 0, generation: 1, disk: 1 }));
});

test('codec: proposal 0 is refused in a write request', () => {
  const w = encodeMessage({ type: 'write', rid: 1, proposal: 1, from: 0, actions: [], named: [] });
  w.writeUInt32LE(0, 9); // proposal low word
  throwsWire(w, 'bad-value');
});
