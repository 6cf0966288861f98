/** LocationTable behaves like the Map it replaced: get, set, delete, size and dropBelow. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocationTable } from '../../src/storage/location-table.js';

test('LocationTable matches a Map under random sets, deletes and drops', () => {
  const t = new LocationTable();
  const m = new Map<number, number>();
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
  let begin = 0;
  for (let i = 0; i < 20_000; i++) {
    const op = rnd(100);
    const p = begin + rnd(20_000);
    if (op < 70) {
      const loc = 2 ** 32 * rnd(5) + rnd(1 << 30);
      t.set(p, loc);
      m.set(p, loc);
    } else if (op < 95) {
      t.delete(p);
      m.delete(p);
    } else {
      begin += rnd(6000);
      t.dropBelow(begin);
      for (const k of m.keys()) if (k < begin) m.delete(k);
    }
    assert.equal(t.size, m.size);
  }
  for (let p = 0; p < begin + 20_000; p++) assert.equal(t.get(p), m.get(p));
  assert.equal(t.get(2 ** 52), undefined);
});
