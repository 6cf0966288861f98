/** The record format: every record type round-trips; damage is classified, never misread. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkActionFrame, checkFrame, encodeFrame, encodeFrameHead, separateData, SEPARATE_DATA_BYTES_MIN, type DiskRecord } from '../../src/storage/record-codec.js';
import { scanFrames } from '../../src/storage/frame-scan.js';
import { crc32c } from '@node-rs/crc32';

const records: DiskRecord[] = [
  { type: 'metadata', metadata: { status: 'STARTING', promised: 2 ** 53 - 1, incarnation: 'ü-incarnation' } },
  { type: 'promise', position: 0, promised: 0 },
  { type: 'accept', position: 5, proposal: 9, action: { kind: 'append', data: new Uint8Array([1, 2, 3]) } },
  { type: 'accept', position: 6, proposal: 1, action: { kind: 'nop', tombstone: true } },
  { type: 'commit', from: 3, to: 9, proposal: 4 },
  { type: 'learn', position: 7, action: { kind: 'truncate', to: 4 } },
  { type: 'learn', position: 8, action: { kind: 'nop' } },
  { type: 'accept', position: 10, proposal: 3, action: { kind: 'truncate', to: 2 } },
  { type: 'learn', position: 11, action: { kind: 'append', data: new Uint8Array([9, 8]) } },
  { type: 'learn', position: 12, action: { kind: 'nop', tombstone: true } },
  // A truncate with the head of config(to) (R14), kind 5; epoch 0 sits at -1.
  { type: 'learn', position: 13, action: { kind: 'truncate', to: 4, config: { epoch: 2, position: 3 } } },
  { type: 'accept', position: 14, proposal: 3, action: { kind: 'truncate', to: 2, config: { epoch: 0, position: -1 } } },
  { type: 'header', segmentId: 3, replicaId: 2, clusterId: 'c1', begin: 17, metadata: { status: 'VOTING', promised: 4, incarnation: 'i' }, highestProposal: 9, prevBytes: 4096, prevLastCrc: 0xfedcba98, prevMaxPosition: -1, salt: 0x12345678 },
  { type: 'seal', nextSegmentId: 4, bytesBefore: 4096, lastFrameCrc: 0xffffffff },
];

/** The record as plain data; entry bytes (a Buffer view when decoded) as a number array. */
function plain(r: DiskRecord): unknown {
  if ((r.type === 'accept' || r.type === 'learn') && r.action.kind === 'append') {
    return { ...r, action: { kind: 'append', data: [...r.action.data] } };
  }
  return r;
}

test('every record type round-trips through a frame', () => {
  for (const r of records) {
    const f = encodeFrame(r);
    const c = checkFrame(f, 0, f.length);
    assert.equal(c.status, 'ok');
    assert.ok(c.status === 'ok');
    assert.deepEqual(plain(c.record), plain(r));
    assert.equal(c.end, f.length);
  }
});

test('a frame head followed by the entry bytes it leaves out is the whole frame, byte for byte', () => {
  for (const bytes of [SEPARATE_DATA_BYTES_MIN, 256, 4096, 70_000]) {
    const data = Uint8Array.from({ length: bytes }, (_, i) => (i * 7 + bytes) & 0xff);
    // A view into a larger buffer, as a decoded request gives it.
    const view = new Uint8Array(Buffer.concat([Buffer.alloc(5, 1), data, Buffer.alloc(3, 2)]).buffer, 5, bytes);
    for (const rec of [
      { type: 'accept', position: 2 ** 40 + 3, proposal: 77, action: { kind: 'append', data: view } },
      { type: 'learn', position: 9, action: { kind: 'append', data: view } },
    ] satisfies DiskRecord[]) {
      for (const salt of [0, 0x9e3779b9]) {
        assert.equal(separateData(rec), view);
        assert.deepEqual(Buffer.concat([encodeFrameHead(rec, salt), view]), encodeFrame(rec, salt));
      }
    }
  }
  // Short entries and other records are encoded whole.
  assert.equal(separateData({ type: 'accept', position: 1, proposal: 1, action: { kind: 'append', data: new Uint8Array(SEPARATE_DATA_BYTES_MIN - 1) } }), undefined);
  for (const r of records) if (r.type !== 'accept' && r.type !== 'learn') assert.equal(separateData(r), undefined);
});

test('damaged entry bytes keep the key; a damaged key makes the frame unreadable', () => {
  const f = encodeFrame(records[2]!);
  const data = Buffer.from(f);
  data[data.length - 1]! ^= 1;
  const c = checkFrame(data, 0, data.length);
  assert.equal(c.status, 'dataLost');
  assert.ok(c.status === 'dataLost' && c.record.type === 'accept' && c.record.position === 5);
  const key = Buffer.from(f);
  key[10]! ^= 1;
  assert.equal(checkFrame(key, 0, key.length).status, 'bad');
});

test('a scan resynchronises after garbage between frames', () => {
  const parts = [encodeFrame(records[1]!), Buffer.from('garbage!garbage!'), encodeFrame(records[4]!)];
  const buf = Buffer.concat(parts);
  const items = scanFrames(buf, buf.length, 0);
  assert.deepEqual(
    items.map((i) => i.kind),
    ['frame', 'gap', 'frame'],
  );
  assert.equal(items[1]!.end - items[1]!.offset, 16);
});

test('numbers that are not safe non-negative integers are refused at decode', () => {
  const f = encodeFrame({ type: 'promise', position: 1, promised: 1 });
  f.writeDoubleLE(-1, 9);
  assert.equal(checkFrame(f, 0, f.length).status, 'bad');
});

test('a truncate without a head is stored as before (kind 3, byte for byte); with one, as kind 5', () => {
  const old = encodeFrame({ type: 'learn', position: 7, action: { kind: 'truncate', to: 4 } }, 5);
  // type, position, kind 3, to, key crc: the layout written before heads existed.
  assert.equal(old.readUInt32LE(0), 1 + 8 + 1 + 8 + 4);
  assert.equal(old[8 + 9], 3);
  assert.deepEqual(checkActionFrame(old, 0, old.length, 7, 5), { kind: 'truncate', to: 4 });
  const withHead: DiskRecord = { type: 'learn', position: 7, action: { kind: 'truncate', to: 4, config: { epoch: 2, position: 3 } } };
  const f = encodeFrame(withHead, 5);
  assert.equal(f.readUInt32LE(0), 1 + 8 + 1 + 24 + 4);
  assert.equal(f[8 + 9], 5);
  // The catch-up read path leaves it to the general decoder, which reads it whole.
  assert.equal(checkActionFrame(f, 0, f.length, 7, 5), undefined);
  const c = checkFrame(f, 0, f.length, 5);
  assert.ok(c.status === 'ok');
  assert.deepEqual(c.record, withHead);
});

test('a truncate head breaking the head rule is refused at encode and unreadable at decode', () => {
  assert.throws(() => encodeFrame({ type: 'learn', position: 7, action: { kind: 'truncate', to: 4, config: { epoch: 0, position: 3 } } }));
  assert.throws(() => encodeFrame({ type: 'learn', position: 7, action: { kind: 'truncate', to: 4, config: { epoch: 1, position: -1 } } }));
  // A well-formed frame whose stored head says epoch 1 at -1 (position + 1 = 0), checksums recomputed: not a record.
  const f = encodeFrame({ type: 'learn', position: 7, action: { kind: 'truncate', to: 4, config: { epoch: 1, position: 0 } } });
  assert.equal(checkFrame(f, 0, f.length).status, 'ok');
  const keyBytes = 1 + 8 + 1 + 24;
  f.writeDoubleLE(0, 8 + keyBytes - 8);
  f.writeUInt32LE(crc32c(f.subarray(8, 8 + keyBytes), crc32c(f.subarray(0, 4), 0)), 8 + keyBytes);
  f.writeUInt32LE(crc32c(f.subarray(8), 0), 4);
  assert.equal(checkFrame(f, 0, f.length).status, 'bad');
  f.writeDoubleLE(1, 8 + keyBytes - 8); // the same frame with position + 1 = 1 again reads
  f.writeUInt32LE(crc32c(f.subarray(8, 8 + keyBytes), crc32c(f.subarray(0, 4), 0)), 8 + keyBytes);
  f.writeUInt32LE(crc32c(f.subarray(8), 0), 4);
  assert.equal(checkFrame(f, 0, f.length).status, 'ok');
  // Any damaged byte of the key makes it unreadable, never another head.
  const g = encodeFrame({ type: 'accept', position: 3, proposal: 2, action: { kind: 'truncate', to: 1, config: { epoch: 4, position: 2 } } });
  for (let i = 8; i < g.length; i++) {
    const bad = Buffer.from(g);
    bad[i] = bad[i]! ^ 0x10;
    assert.equal(checkFrame(bad, 0, bad.length).status, 'bad', `byte ${i}`);
  }
});
