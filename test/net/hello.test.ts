import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WIRE_VERSION, decodeHello, encodeHelloFrame, type Hello } from '../../src/net/hello.js';
import { WireError } from '../../src/net/errors.js';
import { FrameDecoder } from '../../src/net/frame.js';

function payload(h: Hello): Buffer {
  return new FrameDecoder().push(encodeHelloFrame(h))[0]!;
}

test('hello: client and replica hellos round-trip', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }), (clusterId, replicaId) => {
      const h: Hello =
        replicaId === undefined
          ? { version: WIRE_VERSION, clusterId, role: 'client' }
          : { version: WIRE_VERSION, clusterId, role: 'replica', replicaId };
      assert.deepStrictEqual(decodeHello(payload(h)), h);
    }),
  );
});

test('hello: a wrong magic, a wrong version or a malformed hello is a handshake error', () => {
  const good = payload({ version: WIRE_VERSION, clusterId: 'c', role: 'client' });
  const isHandshake = (e: unknown) => e instanceof WireError;
  const badMagic = Buffer.from(good);
  badMagic[0] = 0x51;
  assert.throws(() => decodeHello(badMagic), isHandshake);
  const badVersion = Buffer.from(good);
  badVersion.writeUInt16LE(WIRE_VERSION + 1, 4);
  assert.throws(() => decodeHello(badVersion), new RegExp(`wire version ${WIRE_VERSION + 1}`));
  const badRole = Buffer.from(good);
  badRole[6] = 7;
  assert.throws(() => decodeHello(badRole), isHandshake);
  const clientWithId = Buffer.from(good);
  clientWithId[7] = 1;
  assert.throws(() => decodeHello(clientWithId), isHandshake);
  assert.throws(() => decodeHello(good.subarray(0, good.length - 1)), isHandshake);
  assert.throws(() => decodeHello(Buffer.concat([good, Buffer.from([0])])), isHandshake);
});

test('hello fuzz: random payloads decode or throw WireError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      const b = Buffer.concat([Buffer.from('RPLG'), Buffer.from(bytes)]);
      try {
        decodeHello(b);
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
      }
    }),
    { numRuns: 5000 },
  );
});
