import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameDecoder, frame } from '../../src/net/frame.js';
import { WireError } from '../../src/net/errors.js';
import { wireLimits } from '../../src/net/limits.js';

const payloads = fc.array(fc.uint8Array({ minLength: 1, maxLength: 100 }), { maxLength: 10 });

test('frame: payloads survive any split of the stream into chunks', () => {
  fc.assert(
    fc.property(payloads, fc.array(fc.nat(), { maxLength: 10 }), (ps, cuts) => {
      const stream = Buffer.concat(ps.map((p) => frame(p)));
      const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const d = new FrameDecoder();
      const got: Buffer[] = [];
      let prev = 0;
      for (const p of [...points, stream.length]) {
        got.push(...d.push(stream.subarray(prev, p)));
        prev = p;
      }
      assert.deepStrictEqual(got.map((b) => [...b]), ps.map((p) => [...p]));
      assert.equal(d.buffered, 0);
    }),
  );
});

test('frame: a whole frame inside one chunk is a view of that chunk (zero copy)', () => {
  const chunk = Buffer.concat([frame(Buffer.from('ab')), frame(Buffer.from('cde'))]);
  const [a, b] = new FrameDecoder().push(chunk);
  assert.equal(a!.buffer, chunk.buffer);
  assert.equal(b!.toString(), 'cde');
});

test('frame: after a frame that spanned chunks, the frames that follow in the chunk are views of it (not copied)', () => {
  const first = frame(Buffer.alloc(50, 1));
  const d = new FrameDecoder();
  assert.deepStrictEqual(d.push(first.subarray(0, 20)), []);
  const bytes = Buffer.concat([first.subarray(20), frame(Buffer.from('xy')), frame(Buffer.from('z'))]);
  // A chunk with its own memory, as a socket read gives (a pooled one would share it with any small copy).
  const chunk = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(chunk);
  const [a, b, c] = d.push(chunk);
  assert.deepStrictEqual([...a!], [...Buffer.alloc(50, 1)]);
  assert.equal(b!.buffer, chunk.buffer);
  assert.equal(b!.toString() + c!.toString(), 'xyz');
  assert.equal(d.buffered, 0);
});

test('frame: an oversized length is rejected as soon as its 4 bytes arrive', () => {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(wireLimits.frameBytesMax + 1, 0);
  const d = new FrameDecoder();
  assert.deepStrictEqual(d.push(header.subarray(0, 3)), []);
  assert.throws(() => d.push(header.subarray(3)), (e: unknown) => e instanceof WireError && e.reason === 'oversized');
});

test('frame: a zero length is rejected', () => {
  assert.throws(() => new FrameDecoder().push(Buffer.alloc(4)), WireError);
});

test('frame: the bound is configurable and inclusive', () => {
  const d = new FrameDecoder(3);
  assert.equal(d.push(frame(Buffer.from('abc'))).length, 1);
  assert.throws(() => d.push(frame(Buffer.from('abcd'))), WireError);
});
