/** The JavaScript CRC32C used for record keys agrees with the native one, chained or not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '@node-rs/crc32';
import { crc32cSmall } from '../../src/storage/crc32c-js.js';

test('crc32cSmall: check value of "123456789" is 0xE3069283', () => {
  assert.equal(crc32cSmall(Buffer.from('123456789'), 0, 9), 0xe3069283);
});

test('crc32cSmall agrees with @node-rs/crc32 on random inputs, ranges and initial values', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.from(Array.from({ length: i % 70 }, rnd));
    const from = buf.length === 0 ? 0 : i % (buf.length + 1);
    const initial = crc32c(Buffer.from([rnd(), rnd(), rnd(), rnd()]));
    assert.equal(crc32cSmall(buf, from, buf.length, initial), crc32c(buf.subarray(from), initial));
    assert.equal(crc32cSmall(buf, 0, buf.length), crc32c(buf));
  }
});
