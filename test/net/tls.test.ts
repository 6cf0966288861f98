// The pieces of mutual TLS that need no socket: which identity a certificate names, the refusal frame,
// and telling a TLS handshake from a replog hello by their first bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameDecoder } from '../../src/net/frame.js';
import { WIRE_VERSION, decodeHello, decodeRefusal, encodeHelloFrame, encodeRefusalFrame } from '../../src/net/hello.js';
import { certIdentity, looksLikeTls } from '../../src/net/tls.js';
import type { X509Certificate } from 'node:crypto';

const withSan = (san: string | undefined) => ({ subjectAltName: san }) as unknown as X509Certificate;

test('certIdentity: replica, client and admin names; none; malformed or several names are refused', () => {
  assert.deepEqual(certIdentity(withSan('URI:replog://replica/3, DNS:localhost, IP Address:127.0.0.1')), { kind: 'replica', id: 3 });
  assert.deepEqual(certIdentity(withSan('URI:replog://client/app')), { kind: 'client', name: 'app', role: 'client' });
  assert.deepEqual(certIdentity(withSan('DNS:x, URI:replog://admin/ops')), { kind: 'client', name: 'ops', role: 'admin' });
  assert.deepEqual(certIdentity(withSan('DNS:prometheus')), { kind: 'none' });
  assert.deepEqual(certIdentity(withSan(undefined)), { kind: 'none' });
  for (const bad of ['URI:replog://replica/0', 'URI:replog://replica/01', 'URI:replog://replica/x', 'URI:replog://root/a', 'URI:replog://client/a/b', 'URI:replog://client/']) {
    assert.equal(typeof certIdentity(withSan(bad)), 'string', bad);
  }
  assert.match(certIdentity(withSan('URI:replog://replica/1, URI:replog://replica/2')) as string, /several/);
});

test('refusal frames: round-trip within the hello bound, one line, never taken for a hello', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 2000 }), (reason) => {
      const payload = new FrameDecoder(1 << 20, 1024).push(encodeRefusalFrame(reason))[0]!;
      const decoded = decodeRefusal(payload)!;
      assert.doesNotMatch(decoded, /[\u0000-\u001f]/);
      assert.ok(payload.length <= 1024);
      assert.throws(() => decodeHello(payload), /bad magic/);
    }),
  );
  const hello = new FrameDecoder().push(encodeHelloFrame({ version: WIRE_VERSION, clusterId: 'c', role: 'client' }))[0]!;
  assert.equal(decodeRefusal(hello), undefined);
  assert.equal(decodeRefusal(new FrameDecoder().push(encodeRefusalFrame('requires TLS'))[0]!), 'requires TLS');
});

test('looksLikeTls: a TLS ClientHello record, never a replog hello frame of any cluster id', () => {
  assert.ok(looksLikeTls(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])));
  fc.assert(
    fc.property(fc.string({ maxLength: 255 }).filter((s) => Buffer.byteLength(s) <= 255), fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }), (clusterId, replicaId) => {
      const frame = encodeHelloFrame(replicaId === undefined ? { version: WIRE_VERSION, clusterId, role: 'client' } : { version: WIRE_VERSION, clusterId, role: 'replica', replicaId });
      assert.equal(looksLikeTls(frame), false);
    }),
  );
});
