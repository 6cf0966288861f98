/**
 * The storage decoders' rules, one test each (issue 11: mutation testing of record-codec.ts,
 * frame-scan.ts and replay.ts). They decide what a replica reads back from its disk: which bytes are
 * a record (both checksums, salted; the key checksum covers the length), what a scan makes of
 * damage (a gap, a frame whose entry bytes or length field rotted), which tail is a torn write that
 * may be cut and which damage is corruption that must be reported and poisons the metadata, and how
 * the segments' chain, seals, headers and repairs are read. The replay tests build segment files
 * byte by byte (encodeFrame, with the links a store writes) and call replaySegments on them directly,
 * so each test damages exactly one thing. docs/storage.md ("Start-up") states the rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import {
  checkActionFrame,
  checkFrame,
  encodeFrame,
  encodeFrameHead,
  FRAME_HEADER_BYTES,
  FRAME_PAYLOAD_MAX,
  type DiskRecord,
  type SegmentHeader,
} from '../../src/storage/record-codec.js';
import { isTornTail, scanFrames, type ScanItem } from '../../src/storage/frame-scan.js';
import { replaySegments, type ReplayResult } from '../../src/storage/replay.js';
import { nodeFileLayer } from '../../src/storage/file-layer.js';
import { packLocation, segmentFileName } from '../../src/storage/segment.js';
import type { Metadata } from '../../src/core/types.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

test.after(removeTempDirs);

const SALT = 0x5eed1234;
const OTHER_SALT = 0x0badf00d;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const VOTING: Metadata = { status: 'VOTING', promised: 3, incarnation: 'i' };
const RECOVERING: Metadata = { status: 'RECOVERING', promised: 0, incarnation: 'i' };

const acc = (position: number, data: string, proposal = 3): DiskRecord => ({ type: 'accept', position, proposal, action: { kind: 'append', data: bytes(data) } });
const lrn = (position: number, data: string): DiskRecord => ({ type: 'learn', position, action: { kind: 'append', data: bytes(data) } });

/** A frame built by hand from its key and entry bytes, both checksums right for `lengthField` (default: the true length). */
function forge(key: Uint8Array, data: Uint8Array = new Uint8Array(0), salt = SALT, lengthField?: number): Buffer {
  const payloadBytes = key.length + 4 + data.length;
  const buf = Buffer.alloc(FRAME_HEADER_BYTES + payloadBytes);
  buf.writeUInt32LE(lengthField ?? payloadBytes, 0);
  buf.set(key, FRAME_HEADER_BYTES);
  buf.writeUInt32LE(crc32c(Buffer.from(key), crc32c(buf.subarray(0, 4), salt)), FRAME_HEADER_BYTES + key.length);
  buf.set(data, FRAME_HEADER_BYTES + key.length + 4);
  buf.writeUInt32LE(crc32c(buf.subarray(FRAME_HEADER_BYTES), salt), 4);
  return buf;
}

/** A key: a type byte, then float64 numbers, then raw bytes. */
function key(type: number, nums: number[], tail: number[] = []): Uint8Array {
  const b = Buffer.alloc(1 + 8 * nums.length + tail.length);
  b[0] = type;
  nums.forEach((n, i) => b.writeDoubleLE(n, 1 + 8 * i));
  b.set(tail, 1 + 8 * nums.length);
  return b;
}

/** Recomputes both checksums of a (copied) frame after its key or length was edited. */
function reseal(f: Buffer, keyBytes: number, salt = SALT): Buffer {
  f.writeUInt32LE(crc32c(f.subarray(8, 8 + keyBytes), crc32c(f.subarray(0, 4), salt)), 8 + keyBytes);
  f.writeUInt32LE(crc32c(f.subarray(8), salt), 4);
  return f;
}

const flip = (b: Buffer, at: number, bit = 0): Buffer => {
  const c = Buffer.from(b);
  c[at]! ^= 1 << bit;
  return c;
};

// --- record-codec.ts: checkFrame -------------------------------------------------------------

test('a frame checks out only under the salt it was written with; a header only under 0, whatever salt is given', () => {
  const f = encodeFrame(acc(4, 'abc'), SALT);
  assert.equal(checkFrame(f, 0, f.length, SALT).status, 'ok');
  assert.equal(checkFrame(f, 0, f.length, OTHER_SALT).status, 'bad');
  assert.equal(checkFrame(f, 0, f.length).status, 'bad', 'the default salt is 0');
  const h = encodeFrame(header(2), SALT);
  assert.deepEqual(encodeFrame(header(2), OTHER_SALT), h, 'a header is seeded with 0 whatever salt the encoder is given');
  for (const s of [0, SALT, OTHER_SALT]) assert.equal(checkFrame(h, 0, h.length, s).status, 'ok', `salt ${s}`);
  // A header forged under the directory's salt is not one.
  const hk = h.subarray(8, 8 + h.readUInt32LE(0) - 4);
  const forged = forge(hk, undefined, SALT);
  assert.equal(checkFrame(forged, 0, forged.length, SALT).status, 'bad');
  assert.equal(checkFrame(forge(hk, undefined, 0), 0, forged.length, SALT).status, 'ok');
});

test('a frame is read at its offset, and must end within the valid bytes: one byte short is unreadable', () => {
  const f = encodeFrame(acc(9, 'hello'), SALT);
  const buf = Buffer.concat([Buffer.alloc(13, 0xee), f, Buffer.alloc(7, 0xee)]);
  const c = checkFrame(buf, 13, 13 + f.length, SALT);
  assert.equal(c.status, 'ok');
  assert.ok(c.status === 'ok');
  assert.equal(c.end, 13 + f.length);
  assert.deepEqual(c.record.type === 'accept' && c.record.action.kind === 'append' ? [...c.record.action.data] : undefined, [...bytes('hello')]);
  assert.equal(checkFrame(buf, 13, 13 + f.length - 1, SALT).status, 'bad');
  assert.equal(checkFrame(buf, 13, buf.length, SALT).status, 'ok', 'bytes beyond the frame do not matter');
});

test('the smallest frame (a 5-byte payload: a seal-less key of one byte and its checksum) is read; fewer than 13 bytes left are not', () => {
  // A key of one type byte and no fields parses for no type, so build the size check's edge with a promise
  // frame and a `size` that leaves exactly FRAME_HEADER_BYTES + 5 bytes at the offset.
  const f = encodeFrame({ type: 'promise', position: 1, promised: 2 }, SALT);
  assert.equal(checkFrame(f, 0, f.length, SALT).status, 'ok');
  // A buffer of exactly 13 bytes: the check may read the type byte and the length.
  const tiny = Buffer.alloc(13);
  tiny.writeUInt32LE(5, 0);
  tiny[8] = 2;
  assert.equal(checkFrame(tiny, 0, 13, SALT).status, 'bad');
  assert.equal(checkFrame(tiny, 0, 12, SALT).status, 'bad');
  assert.equal(checkFrame(Buffer.alloc(4), 0, 4, SALT).status, 'bad', 'a short buffer is unreadable, never a RangeError');
});

test('a payload length under 5 or over FRAME_PAYLOAD_MAX, or an unknown type byte, is unreadable before any checksum', () => {
  const f = encodeFrame({ type: 'commit', from: 1, to: 2, proposal: 3 }, SALT);
  for (const len of [0, 4]) {
    const g = Buffer.from(f);
    g.writeUInt32LE(len, 0);
    assert.equal(checkFrame(g, 0, g.length, SALT).status, 'bad', `length ${len}`);
    assert.equal(checkFrame(g, 0, g.length, SALT, len).status, 'bad', `assumed length ${len}`);
  }
  const big = Buffer.alloc(FRAME_PAYLOAD_MAX + 64);
  f.copy(big);
  big.writeUInt32LE(FRAME_PAYLOAD_MAX + 1, 0);
  assert.equal(checkFrame(big, 0, big.length, SALT).status, 'bad');
  for (const t of [0, 8, 255]) {
    const g = Buffer.from(f);
    g[8] = t;
    assert.equal(checkFrame(reseal(g, 25), 0, g.length, SALT).status, 'bad', `type ${t}`);
  }
});

test('every type byte from 1 (metadata) to 7 (seal) is read', () => {
  const recs: DiskRecord[] = [
    { type: 'metadata', metadata: VOTING },
    { type: 'promise', position: 0, promised: 1 },
    acc(0, 'x'),
    { type: 'commit', from: 0, to: 0, proposal: 1 },
    lrn(0, 'y'),
    header(1),
    { type: 'seal', nextSegmentId: 2, bytesBefore: 100, lastFrameCrc: 7 },
  ];
  recs.forEach((r, i) => {
    const f = encodeFrame(r, SALT);
    assert.equal(f[8], i + 1);
    const c = checkFrame(f, 0, f.length, SALT);
    assert.equal(c.status, 'ok', r.type);
    assert.equal(c.status === 'ok' && c.record.type, r.type);
  });
});

test('the key checksum covers the length field: a frame read under any other length is unreadable, under its true one it reads', () => {
  const f = encodeFrame(acc(2, 'twelve bytes'), SALT);
  const len = f.readUInt32LE(0);
  const c = checkFrame(f, 0, f.length, SALT, len);
  assert.equal(c.status, 'ok');
  for (const other of [len - 1, len - 3]) assert.equal(checkFrame(f, 0, f.length, SALT, other).status, 'bad', `read as ${other}`);
  // The length field itself rotted: the assumed (true) length reads the frame, known by its key.
  const g = Buffer.from(f);
  g.writeUInt32LE(len + 1, 0);
  assert.equal(checkFrame(g, 0, g.length, SALT).status, 'bad');
  const h = checkFrame(g, 0, g.length, SALT, len);
  assert.equal(h.status, 'ok', 'the frame checksum covers the payload, not the length field');
  assert.equal(h.status === 'ok' && h.end, f.length);
});

test('entry bytes that fail the frame checksum leave the record known, its entry empty (dataLost); the key failing makes it unreadable', () => {
  const f = encodeFrame(acc(5, 'abcdef', 7), SALT);
  const c = checkFrame(flip(f, f.length - 2), 0, f.length, SALT);
  assert.equal(c.status, 'dataLost');
  assert.ok(c.status === 'dataLost' && c.record.type === 'accept');
  assert.deepEqual([c.record.position, c.record.proposal, c.record.action.kind], [5, 7, 'append']);
  assert.equal(c.record.action.kind === 'append' && c.record.action.data.length, 0, 'no rotted bytes are handed out');
  assert.equal(c.end, f.length);
  // The stored frame checksum rotted instead: the same verdict.
  assert.equal(checkFrame(flip(f, 5), 0, f.length, SALT).status, 'dataLost');
  // The key checksum or the key rotted: nothing can be trusted.
  assert.equal(checkFrame(flip(f, 8 + 18 + 1), 0, f.length, SALT).status, 'bad');
  assert.equal(checkFrame(flip(f, 8 + 3), 0, f.length, SALT).status, 'bad');
});

test('a record without entry bytes is whole when its key checksum holds, even if the frame checksum field rotted', () => {
  const recs: DiskRecord[] = [
    { type: 'promise', position: 3, promised: 4 },
    { type: 'accept', position: 3, proposal: 4, action: { kind: 'nop' } },
    { type: 'learn', position: 3, action: { kind: 'truncate', to: 2 } },
    { type: 'metadata', metadata: VOTING },
  ];
  for (const r of recs) {
    const f = flip(encodeFrame(r, SALT), 6, 3);
    const c = checkFrame(f, 0, f.length, SALT);
    assert.equal(c.status, 'ok', r.type);
    assert.deepEqual(c.status === 'ok' ? c.record : undefined, r);
  }
  // An empty append is still an append: its frame checksum is the only check of its (empty) entry.
  const e = flip(encodeFrame(acc(3, ''), SALT), 6, 3);
  assert.equal(checkFrame(e, 0, e.length, SALT).status, 'dataLost');
});

test('a record that carries no entry bytes with bytes after its key checksum is unreadable', () => {
  const k = key(2, [3, 4]); // promise 3 b4
  const ok = forge(k);
  assert.equal(checkFrame(ok, 0, ok.length, SALT).status, 'ok');
  const extra = forge(k, new Uint8Array([1, 2, 3]));
  assert.equal(checkFrame(extra, 0, extra.length, SALT).status, 'bad');
  // An append takes them as its entry.
  const a = forge(key(3, [3, 4], [2]), new Uint8Array([1, 2, 3]));
  const c = checkFrame(a, 0, a.length, SALT);
  assert.ok(c.status === 'ok' && c.record.type === 'accept' && c.record.action.kind === 'append');
  assert.deepEqual([...c.record.action.data], [1, 2, 3]);
});

test('a payload that ends inside the key checksum is unreadable', () => {
  const k = key(2, [3, 4]);
  const f = forge(k);
  // The same key with only 3 bytes of room after it (the length field says so; the frame checksum made right).
  const g = Buffer.concat([f.subarray(0, 8 + k.length + 3)]);
  g.writeUInt32LE(k.length + 3, 0);
  g.writeUInt32LE(crc32c(g.subarray(8), SALT), 4);
  assert.equal(checkFrame(g, 0, g.length, SALT).status, 'bad');
  // Exactly 4 bytes of room is the smallest frame of that key.
  assert.equal(checkFrame(f, 0, f.length, SALT).status, 'ok');
  assert.equal(f.length, 8 + k.length + 4);
});

test('fields are checked at decode: proposal 0 in an accept, a commit whose range is empty, numbers that are not naturals', () => {
  assert.equal(checkFrame(forge(key(3, [1, 0], [0])), 0, 8 + 18 + 4, SALT).status, 'bad', 'accept under proposal 0');
  assert.equal(checkFrame(forge(key(3, [1, 1], [0])), 0, 8 + 18 + 4, SALT).status, 'ok', 'accept under proposal 1');
  assert.equal(checkFrame(forge(key(4, [5, 4, 1])), 0, 8 + 25 + 4, SALT).status, 'bad', 'commit [5, 4]');
  const one = checkFrame(forge(key(4, [4, 4, 1])), 0, 8 + 25 + 4, SALT);
  assert.deepEqual(one.status === 'ok' ? one.record : undefined, { type: 'commit', from: 4, to: 4, proposal: 1 }, 'commit [4, 4]');
  for (const n of [-1, 1.5, 2 ** 53, NaN]) assert.equal(checkFrame(forge(key(2, [n, 1])), 0, 8 + 17 + 4, SALT).status, 'bad', `position ${n}`);
  assert.equal(checkFrame(forge(key(5, [1], [9])), 0, 8 + 10 + 4, SALT).status, 'bad', 'an unknown action kind');
});

test('the action kinds read back as written: nop, tombstone, append, truncate, truncate with a head, config', () => {
  const cfg = { epoch: 1, voters: [{ id: 1, address: 'a:1' }], learners: [], nextId: 2 };
  const actions = [
    { kind: 'nop' },
    { kind: 'nop', tombstone: true },
    { kind: 'truncate', to: 6 },
    { kind: 'truncate', to: 6, config: { epoch: 0, position: -1 } },
    { kind: 'truncate', to: 6, config: { epoch: 3, position: 0 } },
    { kind: 'config', config: cfg },
  ] as const;
  for (const a of actions) {
    for (const r of [{ type: 'accept', position: 8, proposal: 2, action: a }, { type: 'learn', position: 8, action: a }] as DiskRecord[]) {
      const f = encodeFrame(r, SALT);
      const c = checkFrame(f, 0, f.length, SALT);
      assert.deepEqual(c.status === 'ok' ? c.record : c.status, r, JSON.stringify(r));
    }
  }
});

// --- record-codec.ts: checkActionFrame (the catch-up read path) ------------------------------

test('the read path returns the action of an intact accept or learn frame at its position, entry bytes as a view of the buffer', () => {
  const data = 'x'.repeat(200);
  const f = encodeFrame(acc(2 ** 40 + 1, data, 5), SALT);
  const buf = Buffer.concat([Buffer.alloc(11, 1), f]);
  const a = checkActionFrame(buf, 11, buf.length, 2 ** 40 + 1, SALT);
  assert.ok(a !== undefined && a.kind === 'append');
  assert.equal(Buffer.from(a.data).toString(), data);
  assert.equal(a.data.buffer, buf.buffer, 'a view, not a copy');
  const l = encodeFrame(lrn(3, 'yy'), SALT);
  assert.deepEqual([...((checkActionFrame(l, 0, l.length, 3, SALT) as { data: Uint8Array }).data ?? [])], [...bytes('yy')]);
  for (const act of [{ kind: 'nop' }, { kind: 'nop', tombstone: true }, { kind: 'truncate', to: 1 }] as const) {
    for (const r of [{ type: 'accept', position: 3, proposal: 1, action: act }, { type: 'learn', position: 3, action: act }] as DiskRecord[]) {
      const g = encodeFrame(r, SALT);
      assert.deepEqual(checkActionFrame(g, 0, g.length, 3, SALT), act, JSON.stringify(r));
    }
  }
  // An empty append.
  const e = encodeFrame(lrn(3, ''), SALT);
  const ea = checkActionFrame(e, 0, e.length, 3, SALT);
  assert.ok(ea !== undefined && ea.kind === 'append' && ea.data.length === 0);
});

test('the read path answers undefined for any other frame, position, salt or damage, and never throws', () => {
  const f = encodeFrame(acc(7, 'abc'), SALT);
  assert.equal(checkActionFrame(f, 0, f.length, 8, SALT), undefined, 'another position');
  assert.equal(checkActionFrame(f, 0, f.length, 7, OTHER_SALT), undefined, 'another salt');
  assert.equal(checkActionFrame(f, 0, f.length - 1, 7, SALT), undefined, 'cut short');
  assert.equal(checkActionFrame(f, 0, 12, 7, SALT), undefined, 'fewer than 13 bytes');
  for (let at = 0; at < f.length; at++) assert.equal(checkActionFrame(flip(f, at), 0, f.length, 7, SALT), undefined, `byte ${at} flipped`);
  for (const r of [{ type: 'promise', position: 7, promised: 1 }, { type: 'commit', from: 7, to: 7, proposal: 1 }, { type: 'metadata', metadata: VOTING }] as DiskRecord[]) {
    const g = encodeFrame(r, SALT);
    assert.equal(checkActionFrame(g, 0, g.length, 7, SALT), undefined, r.type);
  }
  const big = Buffer.alloc(FRAME_PAYLOAD_MAX + 64);
  f.copy(big);
  big.writeUInt32LE(FRAME_PAYLOAD_MAX + 1, 0);
  assert.equal(checkActionFrame(big, 0, big.length, 7, SALT), undefined, 'a length over the limit');
});

test('the read path checks fields as the decoder does: proposal 0 or not a natural, a truncate to a non-natural, an unknown kind, bytes after a non-append', () => {
  const at = (k: Uint8Array, data?: Uint8Array) => {
    const f = forge(k, data);
    return checkActionFrame(f, 0, f.length, 1, SALT);
  };
  assert.deepEqual(at(key(3, [1, 1], [0])), { kind: 'nop' });
  assert.equal(at(key(3, [1, 0], [0])), undefined, 'proposal 0');
  assert.equal(at(key(3, [1, 1.5], [0])), undefined, 'proposal 1.5');
  assert.equal(at(key(3, [1, -2], [0])), undefined, 'proposal -2');
  const trunc = (to: number) => {
    const k = Buffer.alloc(1 + 8 + 1 + 8);
    k[0] = 5;
    k.writeDoubleLE(1, 1);
    k[9] = 3;
    k.writeDoubleLE(to, 10);
    return k;
  };
  assert.deepEqual(at(trunc(4)), { kind: 'truncate', to: 4 });
  assert.equal(at(trunc(-1)), undefined, 'truncate to -1');
  assert.equal(at(trunc(0.5)), undefined, 'truncate to 0.5');
  assert.equal(at(key(5, [1], [9])), undefined, 'kind 9');
  assert.equal(at(key(5, [1], [4])), undefined, 'a config entry takes the general path');
  assert.equal(at(key(5, [1], [0]), new Uint8Array([1])), undefined, 'a nop with entry bytes');
  assert.deepEqual(at(key(5, [1], [0])), { kind: 'nop' });
});

test('the read path refuses payloads too short for their type: an accept key needs 22 bytes, a learn key 14', () => {
  // An accept whose payload ends before its kind byte and key checksum (length field and checksums made consistent).
  const accept = encodeFrame({ type: 'accept', position: 1, proposal: 1, action: { kind: 'nop' } }, SALT);
  assert.equal(accept.readUInt32LE(0), 22);
  assert.deepEqual(checkActionFrame(accept, 0, accept.length, 1, SALT), { kind: 'nop' });
  const learn = encodeFrame({ type: 'learn', position: 1, action: { kind: 'nop' } }, SALT);
  assert.equal(learn.readUInt32LE(0), 14);
  assert.deepEqual(checkActionFrame(learn, 0, learn.length, 1, SALT), { kind: 'nop' });
  for (const [f, n] of [
    [accept, 21],
    [learn, 13],
  ] as const) {
    // The same bytes with the length field one short: the type's minimum is checked before any field is read.
    const g = Buffer.from(f.subarray(0, 8 + n));
    g.writeUInt32LE(n, 0);
    assert.equal(checkActionFrame(g, 0, g.length, 1, SALT), undefined, `payload ${n}`);
  }
  // A truncate key cut after its kind byte: `to` does not fit before the key checksum.
  const t = forge(key(5, [1], [3, 0, 0, 0]));
  assert.equal(checkActionFrame(t, 0, t.length, 1, SALT), undefined);
});

test('the read path at an offset: the length checksum is computed over the frame\'s own length field', () => {
  // Frames of two lengths one after the other, read at their offsets in one buffer, in both orders.
  const a = encodeFrame(acc(1, 'a'), SALT);
  const b = encodeFrame(acc(2, 'bbbbbbbbbbbbbbbbbbbb'), SALT);
  const buf = Buffer.concat([a, b, a]);
  for (let round = 0; round < 2; round++) {
    assert.deepEqual(checkActionFrame(buf, 0, buf.length, 1, SALT), { kind: 'append', data: new Uint8Array(buf.buffer, buf.byteOffset + a.length - 1, 1) });
    assert.ok(checkActionFrame(buf, a.length, buf.length, 2, SALT) !== undefined);
    assert.ok(checkActionFrame(buf, a.length + b.length, buf.length, 1, SALT) !== undefined);
    assert.equal(checkActionFrame(buf, a.length, buf.length, 2, OTHER_SALT), undefined);
  }
});

// --- record-codec.ts: encoding --------------------------------------------------------------

test('frames encoded one after another under different salts and lengths each check out under their own salt', () => {
  // The encoder caches the checksum of the last length field it saw (entries of one size share it).
  const frames: [Buffer, number][] = [];
  for (const salt of [SALT, OTHER_SALT, 0, SALT]) {
    for (const len of [1, 1, 2, 300, 300]) {
      frames.push([encodeFrame(acc(len, 'z'.repeat(len)), salt), salt]);
      frames.push([encodeFrame({ type: 'promise', position: len, promised: 1 }, salt), salt]);
      const rec = acc(len, 'q'.repeat(len + 200));
      frames.push([Buffer.concat([encodeFrameHead(rec, salt), (rec as { action: { data: Uint8Array } }).action.data]), salt]);
    }
  }
  for (const [f, salt] of frames) {
    assert.equal(checkFrame(f, 0, f.length, salt).status, 'ok');
    assert.equal(checkFrame(f, 0, f.length, salt ^ 1).status, 'bad');
  }
});

test('frames from the encoder\'s shared slabs never overlap: every frame kept stays intact while thousands more are encoded', () => {
  const kept: [Buffer, DiskRecord][] = [];
  for (let i = 0; i < 6000; i++) {
    const rec = i % 3 === 0 ? acc(i, 'v'.repeat(i % 97)) : i % 3 === 1 ? { type: 'accept' as const, position: i, proposal: 2, action: { kind: 'nop' as const } } : lrn(i, 'w'.repeat((i * 7) % 300));
    kept.push([encodeFrame(rec, SALT), rec]);
    if (i % 1000 === 0) kept.push([encodeFrame(acc(i, 'L'.repeat(20_000)), SALT), acc(i, 'L'.repeat(20_000))]);
  }
  for (const [f, rec] of kept) {
    const c = checkFrame(f, 0, f.length, SALT);
    assert.equal(c.status, 'ok');
    assert.equal(c.status === 'ok' && c.end, f.length);
    assert.equal(c.status === 'ok' && c.record.type === rec.type && (c.record as { position: number }).position, (rec as { position: number }).position);
  }
});

// --- frame-scan.ts ----------------------------------------------------------------------------

/** The scan as [kind, offset, end] triples, with dataLost and lengthDamaged for frames. */
const shape = (items: ScanItem[]) => items.map((i) => (i.kind === 'gap' ? ['gap', i.offset, i.end] : ['frame', i.offset, i.end, i.dataLost, i.lengthDamaged]));

test('a scan of intact frames lists each, in order, ending where the valid bytes end', () => {
  const fs = [encodeFrame(header(1), SALT), encodeFrame(acc(0, 'a'), SALT), encodeFrame({ type: 'promise', position: 1, promised: 4 }, SALT)];
  const buf = Buffer.concat([...fs, Buffer.alloc(50, 0xab)]);
  const n = fs.reduce((s, f) => s + f.length, 0);
  assert.deepEqual(shape(scanFrames(buf, n, SALT)), [
    ['frame', 0, fs[0]!.length, false, false],
    ['frame', fs[0]!.length, fs[0]!.length + fs[1]!.length, false, false],
    ['frame', n - fs[2]!.length, n, false, false],
  ]);
  assert.deepEqual(scanFrames(buf, 0, SALT), []);
});

test('a segment header counts only at offset 0: one further on is a gap', () => {
  const h = encodeFrame(header(1), SALT);
  const a = encodeFrame(acc(0, 'a'), SALT);
  const buf = Buffer.concat([a, h, a]);
  assert.deepEqual(shape(scanFrames(buf, buf.length, SALT)), [
    ['frame', 0, a.length, false, false],
    ['gap', a.length, a.length + h.length],
    ['frame', a.length + h.length, buf.length, false, false],
  ]);
  const items = scanFrames(Buffer.concat([h, a]), h.length + a.length, SALT);
  assert.equal(items[0]!.kind === 'frame' && items[0]!.record.type, 'header');
});

test('a frame whose entry bytes rotted is listed as a frame (dataLost), the scan going on after it', () => {
  const a = encodeFrame(acc(0, 'aaaa'), SALT);
  const b = encodeFrame(acc(1, 'bbbb'), SALT);
  const buf = Buffer.concat([a, flip(b, b.length - 1), a]);
  assert.deepEqual(shape(scanFrames(buf, buf.length, SALT)), [
    ['frame', 0, a.length, false, false],
    ['frame', a.length, a.length + b.length, true, false],
    ['frame', a.length + b.length, buf.length, false, false],
  ]);
});

test('after damage the scan resumes at the next frame whose both checksums hold, never at a frame of another salt or one whose entry bytes fail', () => {
  const a = encodeFrame(acc(0, 'aaaa'), SALT);
  const foreign = encodeFrame(acc(1, 'ffff'), OTHER_SALT);
  const rotted = flip(encodeFrame(acc(2, 'rrrr'), SALT), 8 + 18 + 4 + 1);
  const c = encodeFrame(acc(3, 'cccc'), SALT);
  const garbage = Buffer.from('garbage garbage!');
  const buf = Buffer.concat([a, garbage, foreign, rotted, c]);
  const gapEnd = buf.length - c.length;
  assert.deepEqual(shape(scanFrames(buf, buf.length, SALT)), [
    ['frame', 0, a.length, false, false],
    ['gap', a.length, gapEnd],
    ['frame', gapEnd, buf.length, false, false],
  ]);
});

test('a gap that runs to the end of the valid bytes ends there', () => {
  const a = encodeFrame(acc(0, 'aaaa'), SALT);
  const buf = Buffer.concat([a, Buffer.from('tail of no frame'), Buffer.alloc(10, 0xcd)]);
  assert.deepEqual(shape(scanFrames(buf, a.length + 16, SALT)), [
    ['frame', 0, a.length, false, false],
    ['gap', a.length, a.length + 16],
  ]);
  assert.deepEqual(shape(scanFrames(buf, a.length + 1, SALT)), [
    ['frame', 0, a.length, false, false],
    ['gap', a.length, a.length + 1],
  ]);
});

test('a frame whose length field alone rotted is found as the one frame filling its gap (lengthDamaged), known by its key', () => {
  const a = encodeFrame(acc(0, 'aaaa'), SALT);
  const b = encodeFrame(acc(1, 'bbbbbbbb'), SALT);
  const buf = Buffer.concat([a, b, a]);
  for (const bit of [0, 3, 12, 31]) {
    const d = Buffer.from(buf);
    d.writeUInt32LE((b.readUInt32LE(0) ^ (1 << bit)) >>> 0, a.length);
    const items = scanFrames(d, d.length, SALT);
    assert.deepEqual(shape(items), [
      ['frame', 0, a.length, false, false],
      ['frame', a.length, a.length + b.length, false, true],
      ['frame', a.length + b.length, d.length, false, false],
    ], `bit ${bit}`);
    const it = items[1]!;
    assert.ok(it.kind === 'frame' && it.record.type === 'accept' && it.record.position === 1);
  }
  // A record without entry bytes whose length rotted is known whole.
  const p = encodeFrame({ type: 'promise', position: 9, promised: 9 }, SALT);
  const e = Buffer.concat([a, p, a]);
  e.writeUInt32LE(p.readUInt32LE(0) + 64, a.length);
  const items = scanFrames(e, e.length, SALT);
  assert.deepEqual(shape(items)[1], ['frame', a.length, a.length + p.length, false, true]);
  assert.deepEqual(items[1]!.kind === 'frame' && items[1]!.record, { type: 'promise', position: 9, promised: 9 });
});

test('a gap of a frame header or less is not tried as a frame, and any gap that is not one frame stays a gap', () => {
  const a = encodeFrame(acc(0, 'aaaa'), SALT);
  for (const n of [1, 7, 8, 9, 13, 40]) {
    const buf = Buffer.concat([a, Buffer.alloc(n, 0x5a), a]);
    assert.deepEqual(shape(scanFrames(buf, buf.length, SALT)), [
      ['frame', 0, a.length, false, false],
      ['gap', a.length, a.length + n],
      ['frame', a.length + n, buf.length, false, false],
    ], `${n} bytes`);
  }
  // A frame with one byte more than its length says is not the frame filling the gap.
  const b = encodeFrame(acc(1, 'bbbb'), SALT);
  const buf = Buffer.concat([a, b, Buffer.from([0]), a]);
  assert.deepEqual(shape(scanFrames(buf, buf.length, SALT)).map((s) => s[0]), ['frame', 'frame', 'gap', 'frame']);
  // A header filling a gap further on is still no header.
  const h = encodeFrame(header(1), SALT);
  const hb = Buffer.concat([a, h, a]);
  hb.writeUInt32LE(h.readUInt32LE(0) + 1000, a.length);
  assert.deepEqual(shape(scanFrames(hb, hb.length, SALT))[1], ['gap', a.length, a.length + h.length]);
});

test('a torn tail: fewer than 4 bytes, a frame whose own length runs past the end, or all zeros; a complete frame that fails is not', () => {
  const f = encodeFrame(acc(0, 'abcdefgh'), SALT);
  const buf = Buffer.concat([Buffer.alloc(10, 7), f]);
  const end = buf.length;
  for (let cut = 1; cut < f.length; cut++) assert.equal(isTornTail(buf, 10, 10 + cut), true, `cut at ${cut}`);
  assert.equal(isTornTail(buf, 10, end), false, 'the whole frame: not torn');
  assert.equal(isTornTail(flip(buf, end - 1), 10, end), false, 'the whole frame, rotted: corruption');
  assert.equal(isTornTail(Buffer.from([1, 2, 3]), 0, 3), true, 'three bytes');
  assert.equal(isTornTail(Buffer.from([1, 2, 3, 0, 0]), 2, 5), true, 'three bytes at an offset');
  assert.equal(isTornTail(Buffer.alloc(40), 3, 40), true, 'zeros');
  const z = Buffer.alloc(40);
  z[39] = 1;
  assert.equal(isTornTail(z, 3, 40), false, 'zeros but for the last byte: a zero length that fits, then data');
  z[39] = 0;
  z[3] = 20; // a length of 20 at offset 3: 3 + 8 + 20 = 31 <= 40, the rest zeros
  assert.equal(isTornTail(z, 3, 40), false, 'a length that fits and nonzero bytes');
  const exact = Buffer.alloc(8 + 20);
  exact.writeUInt32LE(20, 0);
  assert.equal(isTornTail(exact, 0, 28), false, 'a frame that ends exactly at the end is complete');
  assert.equal(isTornTail(exact, 0, 27), true, 'one byte short');
});

// --- replay.ts --------------------------------------------------------------------------------

interface SegSpec {
  readonly records?: readonly DiskRecord[];
  readonly sealed?: boolean;
  readonly begin?: number;
  readonly metadata?: Metadata;
  readonly highestProposal?: number;
  readonly replicaId?: number;
  readonly clusterId?: string;
  readonly prevMaxPosition?: number;
}

function header(segmentId: number, o: Partial<SegmentHeader> = {}): SegmentHeader {
  return { type: 'header', segmentId, replicaId: 1, clusterId: 'c', begin: 0, metadata: VOTING, highestProposal: 0, prevBytes: 0, prevLastCrc: 0, prevMaxPosition: -1, salt: SALT, ...o };
}

interface Built {
  /** Each segment's bytes, to damage before writing. */
  readonly bufs: Buffer[];
  /** Each segment's frames: offset, end and record (the header first, the seal last). */
  readonly frames: { offset: number; end: number; rec: DiskRecord }[][];
  readonly ids: number[];
}

/** Segment files as a store writes them: each header linked to the previous segment, seals where asked. */
function build(specs: readonly SegSpec[], firstId = 1): Built {
  const bufs: Buffer[] = [];
  const frames: Built['frames'] = [];
  let prev: { bytes: number; lastCrc: number; maxPosition: number } | undefined;
  specs.forEach((s, i) => {
    const id = firstId + i;
    const h = header(id, {
      replicaId: s.replicaId ?? 1,
      clusterId: s.clusterId ?? 'c',
      begin: s.begin ?? 0,
      metadata: s.metadata ?? VOTING,
      highestProposal: s.highestProposal ?? 0,
      prevBytes: prev?.bytes ?? 0,
      prevLastCrc: prev?.lastCrc ?? 0,
      prevMaxPosition: s.prevMaxPosition ?? prev?.maxPosition ?? -1,
    });
    const parts: Buffer[] = [];
    const fr: Built['frames'][number] = [];
    let at = 0;
    let lastCrc = 0;
    let maxPosition = -1;
    const add = (rec: DiskRecord): void => {
      const f = Buffer.from(encodeFrame(rec, SALT));
      parts.push(f);
      fr.push({ offset: at, end: at + f.length, rec });
      at += f.length;
    };
    add(h);
    for (const r of s.records ?? []) {
      add(r);
      lastCrc = parts[parts.length - 1]!.readUInt32LE(4);
      if ('position' in r) maxPosition = Math.max(maxPosition, r.position);
      if (r.type === 'commit') maxPosition = Math.max(maxPosition, r.to);
    }
    const bytesBefore = at;
    if (s.sealed === true) add({ type: 'seal', nextSegmentId: id + 1, bytesBefore, lastFrameCrc: lastCrc });
    bufs.push(Buffer.concat(parts));
    frames.push(fr);
    prev = { bytes: bytesBefore, lastCrc, maxPosition };
  });
  return { bufs, frames, ids: specs.map((_, i) => firstId + i) };
}

/** Writes the segments (ids as given, or the built ones) to a new directory and replays them. */
async function replay(b: { bufs: Buffer[]; ids: number[] }, ids = b.ids): Promise<{ r: ReplayResult | undefined; dir: string; files: () => string[] }> {
  const dir = tempDir('replog-decoders-');
  b.bufs.forEach((buf, i) => writeFileSync(join(dir, segmentFileName(b.ids[i]!)), buf));
  const r = await replaySegments(nodeFileLayer, dir, ids);
  for (const s of r?.segments ?? []) nodeFileLayer.closeSync(s.fd);
  return { r, dir, files: () => readdirSync(dir).sort() };
}

const whys = (r: ReplayResult): string[] => r.corruptRegions.map((c) => c.why);
const locs = (r: ReplayResult): [number, number | undefined][] => [...r.index.positions(0, 1e9)].map((p) => [p, r.locations.get(p)]);

/** Three segments (two sealed), metadata and accepts of positions 0..5, a commit. */
function three(o: { last?: Partial<SegSpec> } = {}): Built {
  return build([
    { records: [{ type: 'metadata', metadata: VOTING }, acc(0, 'p0'), acc(1, 'p1')], sealed: true },
    { records: [acc(2, 'p2'), acc(3, 'p3'), { type: 'commit', from: 0, to: 3, proposal: 3 }], sealed: true },
    { records: [acc(4, 'p4'), acc(5, 'p5')], ...o.last },
  ]);
}

test('a clean directory replays every record: nothing reported, each action located at its frame, segments described', async () => {
  const b = three();
  const { r } = await replay(b);
  assert.ok(r !== undefined);
  assert.deepEqual(r.corruptRegions, []);
  assert.equal(r.poisoned, false);
  assert.equal(r.tornBytesCut, 0);
  assert.equal(r.records, 8);
  assert.equal(r.salt, SALT);
  assert.deepEqual([...r.lost], []);
  const at = (seg: number, k: number) => packLocation(seg + 1, b.frames[seg]![k]!.offset);
  assert.deepEqual(locs(r), [
    [0, at(0, 2)],
    [1, at(0, 3)],
    [2, at(1, 1)],
    [3, at(1, 2)],
    [4, at(2, 1)],
    [5, at(2, 2)],
  ]);
  assert.equal(r.index.learnedThrough(), 3);
  assert.deepEqual(
    r.segments.map((s) => [s.id, s.size, s.records, s.maxPosition, s.sealed, s.lastCrc]),
    b.bufs.map((buf, i) => {
      const fr = b.frames[i]!;
      const last = i < 2 ? fr[fr.length - 2]! : fr[fr.length - 1]!;
      return [i + 1, buf.length, fr.length - (i < 2 ? 2 : 1), [1, 3, 5][i], i < 2, buf.readUInt32LE(last.offset + 4)];
    }),
  );
});

test('the torn tail of the last segment is cut, on disk too; the records before it are kept', async () => {
  const b = three();
  const last = b.bufs[2]!;
  const f = b.frames[2]![2]!; // acc(5)
  for (const cut of [1, 3, 4, 9, f.end - f.offset - 1]) {
    const torn = { bufs: [b.bufs[0]!, b.bufs[1]!, last.subarray(0, f.offset + cut)], ids: b.ids };
    const { r, dir } = await replay(torn);
    assert.ok(r !== undefined);
    assert.equal(r.tornBytesCut, cut, `cut ${cut}`);
    assert.deepEqual(r.corruptRegions, []);
    assert.equal(r.poisoned, false);
    assert.equal(r.index.slot(5), undefined);
    assert.ok(r.index.slot(4) !== undefined);
    assert.equal(r.segments[2]!.size, f.offset);
    assert.equal(statSync(join(dir, segmentFileName(3))).size, f.offset, 'cut on disk');
  }
  // A zero-filled tail (the size grew, the data never reached the disk).
  const zeros = { bufs: [b.bufs[0]!, b.bufs[1]!, Buffer.concat([last, Buffer.alloc(100)])], ids: b.ids };
  const { r, dir } = await replay(zeros);
  assert.equal(r?.tornBytesCut, 100);
  assert.equal(r?.poisoned, false);
  assert.equal(statSync(join(dir, segmentFileName(3))).size, last.length);
});

test('a complete last frame that fails its key checksum is corruption: kept, reported, poisons; never cut', async () => {
  const b = three();
  const f = b.frames[2]![2]!;
  const d = { bufs: [b.bufs[0]!, b.bufs[1]!, flip(b.bufs[2]!, f.offset + 12)], ids: b.ids };
  const { r, dir } = await replay(d);
  assert.ok(r !== undefined);
  assert.equal(r.tornBytesCut, 0);
  assert.equal(r.poisoned, true);
  assert.deepEqual(r.corruptRegions.map((c) => [c.segmentId, c.offset, c.bytes, c.why]), [[3, f.offset, f.end - f.offset, 'unreadable bytes']]);
  assert.equal(readFileSync(join(dir, segmentFileName(3))).length, b.bufs[2]!.length, 'not cut');
  assert.equal(r.index.slot(5), undefined, 'never served');
});

test('a gap in the middle of the last segment is corruption even when its bytes look like a torn write; only the last item may be cut', async () => {
  const b = three();
  const f = b.frames[2]![1]!; // acc(4), followed by acc(5)
  // acc(4)'s length field made to run past the end of the file and a bit of its key flipped: a gap (not one frame,
  // its key fails under any length), followed by acc(5); isTornTail alone would call that gap torn.
  const buf = flip(b.bufs[2]!, f.offset + 12);
  buf.writeUInt32LE(100_000, f.offset);
  assert.equal(isTornTail(buf, f.offset, buf.length), true);
  const { r } = await replay({ bufs: [b.bufs[0]!, b.bufs[1]!, buf], ids: b.ids });
  assert.ok(r !== undefined);
  assert.equal(r.tornBytesCut, 0);
  assert.equal(r.poisoned, true);
  assert.deepEqual(whys(r), ['unreadable bytes']);
  assert.ok(r.index.slot(5) !== undefined, 'the record after it is read');
  // Zeros in the middle, an intact frame after them: not cut either.
  const z = Buffer.from(b.bufs[2]!);
  z.fill(0, f.offset, f.end);
  const zr = (await replay({ bufs: [b.bufs[0]!, b.bufs[1]!, z], ids: b.ids })).r!;
  assert.equal(zr.tornBytesCut, 0);
  assert.equal(zr.poisoned, true);
});

test('a torn tail is cut only in the last segment: the same bytes at the end of an earlier one are damage', async () => {
  const b = three();
  const f = b.frames[1]![3]!; // the commit, before the seal of segment 2
  const mid = Buffer.concat([b.bufs[1]!.subarray(0, f.offset + 5)]);
  const { r, dir } = await replay({ bufs: [b.bufs[0]!, mid, b.bufs[2]!], ids: b.ids });
  assert.ok(r !== undefined);
  assert.equal(r.tornBytesCut, 0);
  assert.equal(r.poisoned, true);
  assert.ok(whys(r).includes('unreadable bytes'));
  assert.equal(statSync(join(dir, segmentFileName(2))).size, f.offset + 5, 'never cut');
});

test('a last segment without a valid header is never cut, and poisons', async () => {
  const b = three();
  const bad = flip(b.bufs[2]!, 12);
  const torn = bad.subarray(0, bad.length - 3);
  const { r, dir } = await replay({ bufs: [b.bufs[0]!, b.bufs[1]!, torn], ids: b.ids });
  assert.ok(r !== undefined);
  assert.equal(r.tornBytesCut, 0);
  assert.equal(r.poisoned, true);
  assert.equal(whys(r)[0], 'segment header missing or damaged');
  assert.equal(statSync(join(dir, segmentFileName(3))).size, torn.length);
  assert.ok(r.index.slot(4) !== undefined, 'its intact records are still applied (resynchronised)');
});

test('a header at offset 0 naming another segment is no header', async () => {
  const b = three();
  // Segment 3's bytes under the name of segment 4 (segment 3 missing).
  const { r } = await replay({ bufs: b.bufs, ids: [1, 2, 4] });
  assert.ok(r !== undefined);
  assert.equal(r.poisoned, true);
  assert.ok(whys(r).includes('segment header missing or damaged'));
  assert.ok(whys(r).includes('segments 3 to 3 missing'));
});

test('an empty segment that is not the last is reported as empty and poisons; the next segment still replays', async () => {
  const b = three();
  const { r } = await replay({ bufs: [b.bufs[0]!, Buffer.alloc(0), b.bufs[2]!], ids: b.ids });
  assert.ok(r !== undefined);
  assert.equal(r.poisoned, true);
  assert.deepEqual(r.corruptRegions[0], { segmentId: 2, offset: 0, bytes: 0, why: 'segment file is empty' });
  assert.ok(r.index.slot(5) !== undefined);
});

test('a record whose entry bytes rotted: its Paxos facts are applied, its position lost and unlocated, reported with the position; no poison', async () => {
  const b = three();
  const f = b.frames[1]![1]!; // acc(2)
  const { r } = await replay({ bufs: [b.bufs[0]!, flip(b.bufs[1]!, f.end - 1), b.bufs[2]!], ids: b.ids });
  assert.ok(r !== undefined);
  assert.equal(r.poisoned, false);
  assert.deepEqual([...r.lost], [2]);
  assert.equal(r.locations.get(2), undefined);
  assert.equal(r.index.slot(2)?.accepted, 3);
  assert.equal(r.index.slot(2)?.learned, true, 'the commit after it still teaches it');
  assert.deepEqual(r.corruptRegions, [{ segmentId: 2, offset: f.offset, bytes: f.end - f.offset, position: 2, why: 'entry bytes damaged' }]);
  assert.equal(r.records, 8);
});

test('a record whose length field rotted: known by its key, its position lost, reported as such with the position; no poison', async () => {
  const b = three();
  const f = b.frames[1]![1]!; // acc(2)
  const buf = Buffer.from(b.bufs[1]!);
  buf.writeUInt32LE(buf.readUInt32LE(f.offset) ^ 0x10, f.offset);
  const { r } = await replay({ bufs: [b.bufs[0]!, buf, b.bufs[2]!], ids: b.ids });
  assert.ok(r !== undefined);
  assert.equal(r.poisoned, false);
  assert.deepEqual([...r.lost], [2]);
  assert.equal(r.locations.get(2), undefined);
  assert.deepEqual(r.corruptRegions, [{ segmentId: 2, offset: f.offset, bytes: f.end - f.offset, position: 2, why: 'length field damaged (its key checksum gave the true length)' }]);
  // The same for a record with no action: reported without a position.
  const p = build([{ records: [{ type: 'promise', position: 1, promised: 9 }, acc(0, 'x')] }]);
  const pf = p.frames[0]![1]!;
  const pb = Buffer.from(p.bufs[0]!);
  pb.writeUInt32LE(pb.readUInt32LE(pf.offset) + 3, pf.offset);
  const pr = (await replay({ bufs: [pb], ids: p.ids })).r!;
  assert.equal(pr.poisoned, false);
  assert.deepEqual([...pr.lost], []);
  assert.equal(pr.index.slot(1)?.promised, 9);
  assert.deepEqual(pr.corruptRegions.map((c) => [c.position, c.why.startsWith('length field damaged')]), [[undefined, true]]);
});

test('a repair (the lost value learned again) makes the position readable at the repair\'s frame; a repair whose own bytes rotted does not', async () => {
  const mk = (rotRepair: boolean) => {
    const b = build([{ records: [acc(0, 'p0'), { type: 'commit', from: 0, to: 0, proposal: 3 }, acc(1, 'p1'), lrn(0, 'p0')] }]);
    const buf = flip(b.bufs[0]!, b.frames[0]![1]!.end - 1); // acc(0)'s entry bytes
    return { b, buf: rotRepair ? flip(buf, b.frames[0]![4]!.end - 1) : buf };
  };
  const good = mk(false);
  const r = (await replay({ bufs: [good.buf], ids: good.b.ids })).r!;
  assert.deepEqual([...r.lost], []);
  assert.equal(r.locations.get(0), packLocation(1, good.b.frames[0]![4]!.offset));
  assert.equal(r.poisoned, false);
  const bad = mk(true);
  const r2 = (await replay({ bufs: [bad.buf], ids: bad.b.ids })).r!;
  assert.deepEqual([...r2.lost], [0]);
  assert.equal(r2.locations.get(0), undefined);
});

test('a learned value stored again while its bytes are intact keeps its first location', async () => {
  const b = build([{ records: [lrn(0, 'p0'), lrn(0, 'p0')] }]);
  const r = (await replay(b)).r!;
  assert.equal(r.locations.get(0), packLocation(1, b.frames[0]![1]!.offset));
  assert.deepEqual([...r.lost], []);
  // A later accept of a new value (position not learned) moves it.
  const c = build([{ records: [acc(0, 'a'), acc(0, 'b', 4)] }]);
  const rc = (await replay(c)).r!;
  assert.equal(rc.locations.get(0), packLocation(1, c.frames[0]![2]!.offset));
});

test('a lost position accepted again with intact bytes is no longer lost and is located at the new frame', async () => {
  const b = build([{ records: [acc(0, 'old'), acc(0, 'new', 4)] }]);
  const buf = flip(b.bufs[0]!, b.frames[0]![1]!.end - 1);
  const r = (await replay({ bufs: [buf], ids: b.ids })).r!;
  assert.deepEqual([...r.lost], []);
  assert.equal(r.locations.get(0), packLocation(1, b.frames[0]![2]!.offset));
  // The other way round: a good record, then the same position's new acceptance rotted: lost.
  const buf2 = flip(b.bufs[0]!, b.frames[0]![2]!.end - 1);
  const r2 = (await replay({ bufs: [buf2], ids: b.ids })).r!;
  assert.deepEqual([...r2.lost], [0]);
  assert.equal(r2.locations.get(0), undefined);
});

test('a learned truncate drops the locations and lost marks below its target', async () => {
  const b = build([{ records: [acc(0, 'a'), acc(1, 'b'), acc(2, 'c'), acc(3, 'd'), lrn(4, 'e'), { type: 'learn', position: 5, action: { kind: 'truncate', to: 3 } }] }]);
  const buf = flip(flip(b.bufs[0]!, b.frames[0]![1]!.end - 1), b.frames[0]![4]!.end - 1); // acc(0) and acc(3) rotted
  const r = (await replay({ bufs: [buf], ids: b.ids })).r!;
  assert.equal(r.index.begin(), 3);
  assert.deepEqual([...r.lost], [3]);
  assert.deepEqual([0, 1, 2, 3, 4].map((p) => r.locations.get(p) !== undefined), [false, false, false, false, true]);
  // A truncate taught by a commit too.
  const c = build([{ records: [acc(0, 'a'), acc(1, 'b'), { type: 'accept', position: 2, proposal: 3, action: { kind: 'truncate', to: 2 } }, { type: 'commit', from: 2, to: 2, proposal: 3 }] }]);
  const rc = (await replay({ bufs: [flip(c.bufs[0]!, c.frames[0]![1]!.end - 1)], ids: c.ids })).r!;
  assert.equal(rc.index.begin(), 2);
  assert.deepEqual([...rc.lost], []);
  assert.deepEqual([rc.locations.get(0), rc.locations.get(1)], [undefined, undefined]);
});

test('records below the first segment\'s checkpointed beginning are ignored, except commits and metadata', async () => {
  const b = build([
    {
      begin: 3,
      records: [acc(1, 'below'), { type: 'promise', position: 2, promised: 8 }, lrn(2, 'below'), acc(3, 'at'), { type: 'commit', from: 0, to: 3, proposal: 3 }, { type: 'metadata', metadata: { ...VOTING, promised: 6 } }],
    },
  ]);
  const r = (await replay(b)).r!;
  assert.deepEqual([...r.index.positions(0, 100)], [3]);
  assert.equal(r.index.slot(3)?.learned, true, 'the commit applies');
  assert.equal(r.index.metadata().promised, 6, 'the metadata applies');
  assert.equal(r.index.highestProposal(), 6, 'the promise below begin was not applied');
  assert.deepEqual([r.locations.get(1), r.locations.get(2)], [undefined, undefined]);
  assert.equal(r.records, 6, 'all counted');
  assert.equal(r.segments[0]!.maxPosition, 3);
  // Only the first segment's beginning counts: a later header's is a checkpoint of that time.
  const c = build([{ records: [acc(0, 'a')], sealed: true }, { begin: 5, records: [acc(1, 'b')] }]);
  const rc = (await replay(c)).r!;
  assert.deepEqual([...rc.index.positions(0, 100)], [0, 1]);
});

test('a seal that matches its segment (next id, its offset, the last frame\'s checksum) is clean; any field off is damage', async () => {
  const b = three();
  assert.deepEqual((await replay(b)).r!.corruptRegions, []);
  const sealOf = b.frames[0]![b.frames[0]!.length - 1]!;
  const seal = sealOf.rec as Extract<DiskRecord, { type: 'seal' }>;
  for (const bad of [{ nextSegmentId: 3 }, { nextSegmentId: 1 }, { bytesBefore: seal.bytesBefore - 1 }, { bytesBefore: seal.bytesBefore + 1 }, { lastFrameCrc: seal.lastFrameCrc ^ 1 }]) {
    const f = Buffer.from(encodeFrame({ ...seal, ...bad }, SALT));
    const seg = Buffer.concat([b.bufs[0]!.subarray(0, sealOf.offset), f]);
    const { r } = await replay({ bufs: [seg, b.bufs[1]!, b.bufs[2]!], ids: b.ids });
    assert.equal(r!.poisoned, true, JSON.stringify(bad));
    assert.deepEqual(whys(r!), ['seal does not match its segment'], JSON.stringify(bad));
  }
  // A seal in a segment holding only its header names checksum 0.
  const e = build([{ sealed: true }, { records: [acc(0, 'a')] }]);
  assert.deepEqual((await replay(e)).r!.corruptRegions, []);
});

test('bytes after a seal are damage, whatever they hold; records there are not applied', async () => {
  const b = three();
  const extra = Buffer.from(encodeFrame(acc(9, 'after the seal'), SALT));
  const { r } = await replay({ bufs: [Buffer.concat([b.bufs[0]!, extra]), b.bufs[1]!, b.bufs[2]!], ids: b.ids });
  assert.equal(r!.poisoned, true);
  assert.ok(whys(r!).includes('bytes after the seal'));
  assert.equal(r!.index.slot(9), undefined);
  const g = (await replay({ bufs: [Buffer.concat([b.bufs[0]!, Buffer.from('junk junk junk')]), b.bufs[1]!, b.bufs[2]!], ids: b.ids })).r!;
  assert.equal(g.poisoned, true);
  assert.deepEqual(g.corruptRegions.map((c) => [c.segmentId, c.offset, c.bytes, c.why]), [[1, b.bufs[0]!.length, 14, 'bytes after the seal']]);
});

test('a last segment that is sealed lost its successor: poison', async () => {
  const b = three({ last: { sealed: true } });
  const { r } = await replay(b);
  assert.equal(r!.poisoned, true);
  assert.deepEqual(r!.corruptRegions, [{ segmentId: 4, offset: 0, bytes: 0, why: 'segment 3 is sealed but segment 4 is missing' }]);
  // A sealed segment followed by its successor is clean.
  assert.equal((await replay(three())).r!.poisoned, false);
});

test('a segment number missing between two others is damage', async () => {
  const b = build([{ records: [acc(0, 'a')], sealed: true }, { records: [acc(1, 'b')], sealed: true }, { records: [acc(2, 'c')], sealed: true }, { records: [acc(3, 'd')] }]);
  const rr = (await replay({ bufs: [b.bufs[0]!, b.bufs[1]!, b.bufs[3]!], ids: [1, 2, 4] })).r!;
  assert.equal(rr.poisoned, true);
  assert.deepEqual(rr.corruptRegions, [{ segmentId: 3, offset: 0, bytes: 0, why: 'segments 3 to 3 missing' }]);
  assert.ok(rr.index.slot(3) !== undefined, 'the later segment is still replayed');
});

test('a segment that does not end where the next header says (cut, extended or replaced) is damage', async () => {
  // Segment 2 unsealed (a crash before the seal): it must end at the next header's prevBytes.
  const mk = () => build([{ records: [acc(0, 'a')], sealed: true }, { records: [acc(1, 'b'), acc(2, 'c')] }, { records: [acc(3, 'd')] }]);
  const b = mk();
  assert.deepEqual((await replay(b)).r!.corruptRegions, [], 'an unsealed predecessor that ends where the header says is clean');
  const cut = b.bufs[1]!.subarray(0, b.frames[1]![2]!.offset);
  const r1 = (await replay({ bufs: [b.bufs[0]!, cut, b.bufs[2]!], ids: b.ids })).r!;
  assert.equal(r1.poisoned, true);
  assert.deepEqual(r1.corruptRegions.map((c) => [c.segmentId, c.offset]), [[2, cut.length]]);
  assert.match(whys(r1)[0]!, /^segment 2 ends at byte \d+, but segment 3 says \d+: it was cut or replaced$/);
  // The same length, another last frame (its checksum differs): replaced.
  const other = Buffer.concat([b.bufs[1]!.subarray(0, b.frames[1]![2]!.offset), Buffer.from(encodeFrame(acc(2, 'C'), SALT))]);
  assert.equal(other.length, b.bufs[1]!.length);
  const r2 = (await replay({ bufs: [b.bufs[0]!, other, b.bufs[2]!], ids: b.ids })).r!;
  assert.equal(r2.poisoned, true);
  assert.equal(r2.corruptRegions.length, 1);
  // A sealed predecessor: the seal's offset is where it ended; a header naming the size with the seal is wrong.
  const s = build([{ records: [acc(0, 'a')], sealed: true }, { records: [acc(1, 'b')] }]);
  const h = s.frames[1]![0]!.rec as SegmentHeader;
  const withSeal = Buffer.from(encodeFrame({ ...h, prevBytes: s.bufs[0]!.length }, SALT));
  const seg2 = Buffer.concat([withSeal, s.bufs[1]!.subarray(s.frames[1]![0]!.end)]);
  const r3 = (await replay({ bufs: [s.bufs[0]!, seg2], ids: s.ids })).r!;
  assert.equal(r3.poisoned, true);
  assert.deepEqual(r3.corruptRegions.map((c) => [c.segmentId, c.offset]), [[1, s.frames[0]![2]!.offset]]);
});

test('the salt is the first readable header\'s; with none readable every frame is unreadable and the directory poisoned', async () => {
  // Segment 1's header damaged: segment 2's header gives the salt, and segment 1's records still read.
  const b = build([{ records: [acc(0, 'a')], sealed: true }, { records: [acc(1, 'b')] }]);
  const r = (await replay({ bufs: [flip(b.bufs[0]!, 20), b.bufs[1]!], ids: b.ids })).r!;
  assert.equal(r.salt, SALT);
  assert.ok(r.index.slot(0) !== undefined);
  assert.ok(!whys(r).some((w) => w.includes('salt')));
  // No header readable anywhere: segment 1 holds a header naming segment 2 (read as a frame, never as its header).
  const one = build([{ records: [acc(0, 'a')] }], 2);
  const r2 = (await replay({ bufs: [one.bufs[0]!], ids: [1] })).r!;
  assert.equal(r2.salt, undefined);
  assert.equal(r2.poisoned, true);
  assert.deepEqual(r2.corruptRegions[0], { segmentId: 1, offset: 0, bytes: 0, why: 'no readable segment header: the checksum salt is unknown' });
  assert.equal(r2.index.slot(0), undefined, 'salted frames do not read under salt 0');
});

test('segment headers: the first nonzero replica id and nonempty cluster id are the directory\'s; the highest checkpointed proposal is kept', async () => {
  const b = build([
    { replicaId: 0, clusterId: '', highestProposal: 7, records: [acc(0, 'a')], sealed: true },
    { replicaId: 4, clusterId: 'k', highestProposal: 3, records: [acc(1, 'b')], sealed: true },
    { replicaId: 5, clusterId: 'm', highestProposal: 5, records: [acc(2, 'c')] },
  ]);
  const r = (await replay(b)).r!;
  assert.equal(r.replicaId, 4);
  assert.equal(r.clusterId, 'k');
  assert.equal(r.highestProposalFloor, 7);
  const none = (await replay(build([{ replicaId: 0, clusterId: '' }]))).r!;
  assert.equal(none.replicaId, undefined);
  assert.equal(none.clusterId, undefined);
  assert.equal(none.highestProposalFloor, 0);
});

test('a header\'s metadata checkpoint is applied: it restores what a deleted segment held', async () => {
  const b = build([{ metadata: { ...VOTING, promised: 12 }, records: [acc(0, 'a')] }]);
  const r = (await replay(b)).r!;
  assert.equal(r.index.metadata().promised, 12);
  // A later record overrides it; a later segment's header checkpoints again.
  const c = build([{ records: [{ type: 'metadata', metadata: { ...VOTING, promised: 20 } }], sealed: true }, { metadata: { ...VOTING, promised: 21 } }]);
  assert.equal((await replay(c)).r!.index.metadata().promised, 21);
});

test('poison is lowered by a trusted non-VOTING metadata: a later segment\'s header, or a metadata record reached from a header without a gap', async () => {
  const damaged = (seg: Buffer, off: number) => flip(seg, off + 12);
  // Damage in segment 1; segment 2's header says RECOVERING (the forced record went to a new segment).
  const b = build([{ records: [acc(0, 'a'), acc(1, 'b')], sealed: true }, { metadata: RECOVERING, records: [acc(2, 'c')] }]);
  const r = (await replay({ bufs: [damaged(b.bufs[0]!, b.frames[0]![1]!.offset), b.bufs[1]!], ids: b.ids })).r!;
  assert.equal(r.poisoned, false);
  assert.deepEqual(whys(r), ['unreadable bytes'], 'still reported');
  // A VOTING header lowers nothing.
  const v = build([{ records: [acc(0, 'a'), acc(1, 'b')], sealed: true }, { records: [acc(2, 'c')] }]);
  assert.equal((await replay({ bufs: [damaged(v.bufs[0]!, v.frames[0]![1]!.offset), v.bufs[1]!], ids: v.ids })).r!.poisoned, true);
  // A RECOVERING metadata record after the damage, in the next segment: trusted (reached from its header).
  const m = build([{ records: [acc(0, 'a'), acc(1, 'b')], sealed: true }, { records: [acc(2, 'c'), { type: 'metadata', metadata: RECOVERING }] }]);
  assert.equal((await replay({ bufs: [damaged(m.bufs[0]!, m.frames[0]![1]!.offset), m.bufs[1]!], ids: m.ids })).r!.poisoned, false);
  // A VOTING metadata record there lowers nothing.
  const mv = build([{ records: [acc(0, 'a'), acc(1, 'b')], sealed: true }, { records: [acc(2, 'c'), { type: 'metadata', metadata: { ...VOTING, promised: 9 } }] }]);
  assert.equal((await replay({ bufs: [damaged(mv.bufs[0]!, mv.frames[0]![1]!.offset), mv.bufs[1]!], ids: mv.ids })).r!.poisoned, true);
});

test('a metadata record found after a gap is applied but never lowers the alarm', async () => {
  const b = build([{ records: [acc(0, 'a'), acc(1, 'b'), { type: 'metadata', metadata: RECOVERING }] }]);
  const buf = flip(b.bufs[0]!, b.frames[0]![1]!.offset + 12);
  const r = (await replay({ bufs: [buf], ids: b.ids })).r!;
  assert.equal(r.poisoned, true);
  assert.equal(r.index.metadata().status, 'RECOVERING', 'applied');
  // The same record before the gap lowers nothing either: the damage comes after it.
  const c = build([{ records: [{ type: 'metadata', metadata: RECOVERING }, acc(0, 'a'), acc(1, 'b')] }]);
  assert.equal((await replay({ bufs: [flip(c.bufs[0]!, c.frames[0]![2]!.offset + 12)], ids: c.ids })).r!.poisoned, true);
  // Nor does one in a segment without a valid header.
  const d = build([{ records: [acc(0, 'a')], sealed: true }, { records: [{ type: 'metadata', metadata: RECOVERING }, acc(1, 'b')] }]);
  const dr = (await replay({ bufs: [d.bufs[0]!, flip(d.bufs[1]!, 20)], ids: d.ids })).r!;
  assert.equal(dr.poisoned, true);
  assert.equal(dr.index.metadata().status, 'RECOVERING');
});

test('a last segment with nothing intact is creation debris and is deleted: alone as segment 1, or after an unsealed predecessor', async () => {
  const junk = Buffer.from('not a single frame in here');
  const alone = await replay({ bufs: [junk], ids: [1] });
  assert.equal(alone.r, undefined);
  assert.deepEqual(alone.files(), []);
  const b = build([{ records: [acc(0, 'a')] }]);
  const after = await replay({ bufs: [b.bufs[0]!, Buffer.alloc(0)], ids: [1, 2] });
  assert.deepEqual(after.files(), [segmentFileName(1)]);
  assert.equal(after.r!.poisoned, false);
  assert.deepEqual(after.r!.segments.map((s) => s.id), [1]);
  // Two of them (a crash while creating each): both go.
  const two = await replay({ bufs: [b.bufs[0]!, Buffer.alloc(0), Buffer.alloc(0)], ids: [1, 2, 3] });
  assert.deepEqual(two.files(), [segmentFileName(1)]);
  assert.equal(two.r!.poisoned, false);
});

test('a last segment with nothing intact is kept and is damage when its predecessor is sealed, missing, or it is not segment 1', async () => {
  const sealed = build([{ records: [acc(0, 'a')], sealed: true }]);
  const s = await replay({ bufs: [sealed.bufs[0]!, Buffer.alloc(0)], ids: [1, 2] });
  assert.deepEqual(s.files(), [segmentFileName(1), segmentFileName(2)]);
  assert.equal(s.r!.poisoned, true);
  const gap = build([{ records: [acc(0, 'a')] }]);
  const g = await replay({ bufs: [gap.bufs[0]!, Buffer.alloc(0)], ids: [1, 3] });
  assert.deepEqual(g.files(), [segmentFileName(1), segmentFileName(3)]);
  assert.equal(g.r!.poisoned, true);
  const lone = await replay({ bufs: [Buffer.alloc(10)], ids: [5] });
  assert.deepEqual(lone.files(), [segmentFileName(5)]);
  assert.equal(lone.r!.poisoned, true);
  // A last segment holding one intact frame is never debris.
  const one = build([{ records: [acc(0, 'a')] }, {}]);
  const o = await replay({ bufs: [one.bufs[0]!, one.bufs[1]!], ids: one.ids });
  assert.deepEqual(o.files(), [segmentFileName(1), segmentFileName(2)]);
  assert.equal(o.r!.poisoned, false);
});

test('the first segment\'s predecessor may be missing only if the beginning passed every position it held', async () => {
  const at = async (prevMaxPosition: number, begin: number, metadata: Metadata = VOTING) => {
    const b = build([{ begin, prevMaxPosition, metadata: { ...metadata, begin }, records: [acc(begin, 'a')] }], 7);
    const r = (await replay(b)).r!;
    return r;
  };
  assert.equal((await at(9, 10)).poisoned, false, 'held up to 9, begin 10');
  const r = await at(10, 10);
  assert.equal(r.poisoned, true, 'held up to 10, begin 10');
  assert.deepEqual(r.corruptRegions, [{ segmentId: 6, offset: 0, bytes: 0, why: 'segment 6 is missing but held positions up to 10, at or above the beginning 10' }]);
  assert.equal((await at(-1, 0)).poisoned, false, 'held no position');
  assert.equal((await at(10, 10, RECOVERING)).poisoned, false, 'a trusted non-VOTING metadata lowers it');
  // Segment 1 has no predecessor.
  const one = build([{ prevMaxPosition: 5, records: [acc(0, 'a')] }]);
  assert.equal((await replay(one)).r!.poisoned, false);
});

test('a torn tail\'s cut and a debris segment\'s deletion are made durable: datasync after the truncate, a directory fsync after the unlink', async () => {
  const calls: string[] = [];
  const layer = {
    ...nodeFileLayer,
    truncate: async (fd: number, n: number) => {
      calls.push(`truncate ${n}`);
      await nodeFileLayer.truncate(fd, n);
    },
    datasync: async (fd: number) => {
      calls.push('datasync');
      await nodeFileLayer.datasync(fd);
    },
    unlink: async (p: string) => {
      calls.push(`unlink ${p.slice(-22)}`);
      await nodeFileLayer.unlink(p);
    },
    syncDir: async (d: string) => {
      calls.push('syncDir');
      await nodeFileLayer.syncDir(d);
    },
  };
  const b = build([{ records: [acc(0, 'a')] }]);
  const dir = tempDir('replog-decoders-');
  writeFileSync(join(dir, segmentFileName(1)), Buffer.concat([b.bufs[0]!, Buffer.alloc(5)]));
  writeFileSync(join(dir, segmentFileName(2)), Buffer.alloc(3));
  const r = (await replaySegments(layer, dir, [1, 2]))!;
  for (const s of r.segments) nodeFileLayer.closeSync(s.fd);
  assert.deepEqual(calls, [`unlink ${segmentFileName(2)}`, 'syncDir', `truncate ${b.bufs[0]!.length}`, 'datasync']);
  assert.equal(r.tornBytesCut, 5);
  // Nothing to cut: no truncate, no sync.
  calls.length = 0;
  const r2 = (await replaySegments(layer, dir, [1]))!;
  for (const s of r2.segments) nodeFileLayer.closeSync(s.fd);
  assert.deepEqual(calls, []);
});

test('a segment file that cannot be opened fails the replay, and the files opened before it are closed', async () => {
  const b = build([{ records: [acc(0, 'a')] }]);
  const dir = tempDir('replog-decoders-');
  writeFileSync(join(dir, segmentFileName(1)), b.bufs[0]!);
  const open = () => readdirSync('/proc/self/fd').length;
  const before = open();
  await assert.rejects(replaySegments(nodeFileLayer, dir, [1, 2]), /ENOENT/);
  assert.equal(open(), before);
});

test('the encoder refuses what the decoder would refuse: a frame over FRAME_PAYLOAD_MAX, a cluster id over 255 bytes', () => {
  const huge = new Uint8Array(FRAME_PAYLOAD_MAX);
  assert.throws(() => encodeFrame({ type: 'accept', position: 1, proposal: 1, action: { kind: 'append', data: huge } }, SALT), /exceeds the frame limit/);
  assert.throws(() => encodeFrameHead({ type: 'learn', position: 1, action: { kind: 'append', data: huge } }, SALT), /exceeds the frame limit/);
  // The largest entry that fits is encoded and read back.
  const fits = huge.subarray(0, FRAME_PAYLOAD_MAX - (1 + 16 + 1 + 4));
  const f = encodeFrame({ type: 'accept', position: 1, proposal: 1, action: { kind: 'append', data: fits } }, SALT);
  assert.equal(f.readUInt32LE(0), FRAME_PAYLOAD_MAX);
  assert.equal(checkFrame(f, 0, f.length, SALT).status, 'ok');
  assert.throws(() => encodeFrame(header(1, { clusterId: 'c'.repeat(256) })), /string field too long/);
  const h = encodeFrame(header(1, { clusterId: 'c'.repeat(255) }));
  assert.equal(checkFrame(h, 0, h.length).status, 'ok');
});

test('a frame longer than FRAME_PAYLOAD_MAX is refused even when both its checksums hold (neither decoder reads one)', () => {
  // Forged: no encoder writes one. An accept of an append whose payload is one byte over the limit.
  const k = key(3, [1, 1], [2]);
  const big = forge(k, new Uint8Array(FRAME_PAYLOAD_MAX - k.length - 4 + 1));
  assert.equal(big.readUInt32LE(0), FRAME_PAYLOAD_MAX + 1);
  assert.equal(checkFrame(big, 0, big.length, SALT).status, 'bad');
  assert.equal(checkActionFrame(big, 0, big.length, 1, SALT), undefined);
  // One byte less is read by both.
  const max = forge(k, new Uint8Array(FRAME_PAYLOAD_MAX - k.length - 4));
  assert.equal(checkFrame(max, 0, max.length, SALT).status, 'ok');
  assert.ok(checkActionFrame(max, 0, max.length, 1, SALT) !== undefined);
});

test('a metadata record whose JSON fields are malformed, its checksums intact, is unreadable (never a crash)', () => {
  const meta = (json: string) => {
    const extra = Buffer.from(json);
    const b = Buffer.alloc(1 + 1 + 8 + 1 + 1 + 4 + extra.length);
    let at = 0;
    b[at++] = 1; // metadata
    b[at++] = 0; // a status
    b.writeDoubleLE(2, at);
    at += 8;
    b[at++] = 1;
    b[at++] = 0x69; // incarnation 'i'
    b.writeUInt32LE(extra.length, at);
    at += 4;
    extra.copy(b, at);
    return forge(b);
  };
  const good = meta('{"generation":1}');
  const c = checkFrame(good, 0, good.length, SALT);
  assert.ok(c.status === 'ok' && c.record.type === 'metadata' && c.record.metadata.generation === 1);
  for (const bad of ['{bad', '[1]', '{"promised":4}']) {
    const f = meta(bad);
    assert.equal(checkFrame(f, 0, f.length, SALT).status, 'bad', bad);
    assert.deepEqual(shape(scanFrames(f, f.length, SALT)), [['gap', 0, f.length]], bad);
  }
});

test('a first segment above 1 whose header is unreadable is reported as such, never a crash', async () => {
  const b = build([{ records: [acc(0, 'a')], sealed: true }, { records: [acc(1, 'b')] }], 3);
  const { r } = await replay({ bufs: [flip(b.bufs[0]!, 20), b.bufs[1]!], ids: [3, 4] });
  assert.ok(r !== undefined);
  assert.equal(r.poisoned, true);
  assert.deepEqual(whys(r), ['segment header missing or damaged', 'unreadable bytes']);
  assert.ok(r.index.slot(0) !== undefined && r.index.slot(1) !== undefined);
});

test('a frame whose length field and entry bytes both rotted is found filling its gap, known by its key, its entry bytes lost', () => {
  const a = encodeFrame(acc(0, 'aaaa'), SALT);
  const b = encodeFrame(acc(1, 'bbbbbbbb'), SALT);
  const d = Buffer.concat([a, b, a]);
  d.writeUInt32LE(b.readUInt32LE(0) + 100, a.length);
  d[a.length + b.length - 1]! ^= 1;
  const items = scanFrames(d, d.length, SALT);
  assert.deepEqual(shape(items)[1], ['frame', a.length, a.length + b.length, true, true]);
  assert.ok(items[1]!.kind === 'frame' && items[1]!.record.type === 'accept' && items[1]!.record.position === 1);
});

test('the read path never reads past the buffer: a buffer of 3 bytes, an accept or learn whose payload ends before its key at the end of the buffer', () => {
  assert.equal(checkActionFrame(Buffer.from([1, 2, 3]), 0, 3, 0, SALT), undefined);
  for (const [type, payload] of [
    [3, 16],
    [3, 13],
    [5, 6],
    [5, 8],
  ] as const) {
    const buf = Buffer.alloc(8 + payload);
    buf.writeUInt32LE(payload, 0);
    buf[8] = type;
    assert.equal(checkActionFrame(buf, 0, buf.length, 0, SALT), undefined, `type ${type}, payload ${payload}`);
  }
});

test('records whose action carries no entry bytes (tombstone, truncate with a head, config) are whole when their key checksum holds', () => {
  const cfg = { epoch: 1, voters: [{ id: 1, address: 'a:1' }], learners: [], nextId: 2 };
  for (const action of [{ kind: 'nop', tombstone: true }, { kind: 'truncate', to: 3, config: { epoch: 2, position: 1 } }, { kind: 'config', config: cfg }] as const) {
    const r = { type: 'learn', position: 4, action } as DiskRecord;
    const f = flip(encodeFrame(r, SALT), 5, 1);
    const c = checkFrame(f, 0, f.length, SALT);
    assert.equal(c.status, 'ok', action.kind);
    assert.deepEqual(c.status === 'ok' ? c.record : undefined, r);
  }
});

test('an unknown action kind is unreadable even when a configuration follows it', () => {
  const r: DiskRecord = { type: 'learn', position: 4, action: { kind: 'config', config: { epoch: 1, voters: [{ id: 1, address: 'a:1' }], learners: [], nextId: 2 } } };
  const f = Buffer.from(encodeFrame(r, SALT));
  assert.equal(f[8 + 9], 4);
  for (const kind of [6, 7, 255]) {
    const g = Buffer.from(f);
    g[8 + 9] = kind;
    reseal(g, g.readUInt32LE(0) - 4);
    assert.equal(checkFrame(g, 0, g.length, SALT).status, 'bad', `kind ${kind}`);
  }
});

test('a segment without a header (its first frame a record) is damage: that record is applied but never lowers the alarm', async () => {
  const b = build([{ records: [acc(0, 'a')], sealed: true }, { records: [acc(1, 'b')] }]);
  const seg2 = Buffer.concat([Buffer.from(encodeFrame({ type: 'metadata', metadata: RECOVERING }, SALT)), Buffer.from(encodeFrame(acc(1, 'b'), SALT))]);
  const { r } = await replay({ bufs: [b.bufs[0]!, seg2], ids: b.ids });
  assert.ok(r !== undefined);
  assert.equal(r.index.metadata().status, 'RECOVERING', 'applied');
  assert.equal(r.poisoned, true, 'not trusted');
  assert.deepEqual(whys(r), ['segment header missing or damaged']);
  assert.ok(r.index.slot(1) !== undefined);
  assert.equal(r.records, 3);
});

test('a segment holding only its header (and seal) refers to no position and holds no record', async () => {
  const b = build([{ sealed: true }, { records: [acc(0, 'a')] }]);
  const r = (await replay(b)).r!;
  assert.deepEqual(r.segments.map((s) => [s.id, s.maxPosition, s.records, s.lastCrc]), [
    [1, -1, 0, 0],
    [2, 0, 1, b.bufs[1]!.readUInt32LE(b.frames[1]![1]!.offset + 4)],
  ]);
});

test('a seal that does not match is reported over its own bytes', async () => {
  const b = three();
  const sealOf = b.frames[0]![b.frames[0]!.length - 1]!;
  const seal = sealOf.rec as Extract<DiskRecord, { type: 'seal' }>;
  const f = Buffer.from(encodeFrame({ ...seal, lastFrameCrc: seal.lastFrameCrc ^ 1 }, SALT));
  const seg = Buffer.concat([b.bufs[0]!.subarray(0, sealOf.offset), f]);
  const r = (await replay({ bufs: [seg, b.bufs[1]!, b.bufs[2]!], ids: b.ids })).r!;
  assert.deepEqual(r.corruptRegions, [{ segmentId: 1, offset: sealOf.offset, bytes: f.length, why: 'seal does not match its segment' }]);
});
