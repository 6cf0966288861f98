// The linearizability checker, on planted violations and on valid histories, then over concurrent
// clients of the store (issue 16). Each planted violation must be found; each valid history accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHistory, type Op } from './lincheck.js';
import { recordHistory } from './history.js';
import { StateStore } from '../../src/state/store.js';
import { MemoryLog } from './memory-log.js';

const w = (value: string, rev: number, start: number, end: number): Op => ({ key: 'k', call: { kind: 'write', value }, ret: { kind: 'write', rev }, start, end });
const r = (value: string | undefined, rev: number, start: number, end: number): Op => ({ key: 'k', call: { kind: 'read' }, ret: { kind: 'read', value, rev }, start, end });
const cas = (expect: number, value: string, rev: number, start: number, end: number): Op => ({ key: 'k', call: { kind: 'cas', expect, value }, ret: { kind: 'cas', ok: true, rev }, start, end });
const casFail = (expect: number, value: string, cur: string | undefined, rev: number, start: number, end: number): Op => ({ key: 'k', call: { kind: 'cas', expect, value }, ret: { kind: 'cas', ok: false, value: cur, rev }, start, end });
const lost = (value: string, start: number): Op => ({ key: 'k', call: { kind: 'write', value }, ret: { kind: 'unknown' }, start, end: Infinity });

test('valid histories pass: sequential, overlapping, failed conditions, unknown outcomes either way', () => {
  assert.ok(checkHistory([w('a', 1, 0, 1), r('a', 1, 2, 3), cas(1, 'b', 2, 4, 5), r('b', 2, 6, 7)]).ok);
  // Overlapping write and read: the read may see either.
  assert.ok(checkHistory([w('a', 1, 0, 1), w('b', 2, 2, 10), r('a', 1, 3, 4), r('b', 2, 5, 6)]).ok);
  assert.ok(checkHistory([w('a', 1, 0, 1), casFail(0, 'x', 'a', 1, 2, 3), r(undefined, 0, -2, -1)]).ok);
  // An unknown write may have happened (seen later) or not.
  assert.ok(checkHistory([w('a', 1, 0, 1), lost('b', 2), r('b', 5, 10, 11)]).ok);
  assert.ok(checkHistory([w('a', 1, 0, 1), lost('b', 2), r('a', 1, 10, 11)]).ok);
});

test('planted violations are found: stale read, lost acknowledged write, double CAS, invented value, real-time order, shrinking revision', () => {
  const planted: [string, Op[]][] = [
    ['stale read after a write returned', [w('a', 1, 0, 1), w('b', 2, 2, 3), r('a', 1, 4, 5)]],
    ['an acknowledged write never visible', [w('a', 1, 0, 1), r(undefined, 0, 2, 3)]],
    ['two CAS succeed from one revision', [w('a', 1, 0, 1), cas(1, 'b', 2, 2, 5), cas(1, 'c', 3, 2, 5), r('c', 3, 6, 7)]],
    ['a read of a value never written', [w('a', 1, 0, 1), r('z', 1, 2, 3)]],
    ['reads going back in time', [w('a', 1, 0, 1), w('b', 2, 2, 10), r('b', 2, 3, 4), r('a', 1, 5, 6)]],
    ['a revision that does not grow', [w('a', 5, 0, 1), w('b', 3, 2, 3)]],
    ['a failed CAS that should have held', [w('a', 1, 0, 1), casFail(1, 'b', 'a', 1, 2, 3)]],
    ['an unknown write seen, then unseen', [w('a', 1, 0, 1), lost('b', 2), r('b', 4, 5, 6), r('a', 1, 7, 8)]],
  ];
  for (const [what, ops] of planted) assert.equal(checkHistory(ops).ok, false, `not found: ${what}`);
});

test('concurrent clients of a writer and two followers, with a second writer taking over, give a linearizable history', async () => {
  const log = new MemoryLog();
  log.tailPollMs = 100; // followers lag well behind the writer: only linearizable reads hide it
  const ops = await recordHistory({
    writers: [await StateStore.open(log)],
    openWriter: () => StateStore.open(log),
    readers: [await StateStore.follow(log), await StateStore.follow(log)],
    keys: ['x', 'y'],
    opsPerClient: 60,
  });
  assert.ok(ops.length > 100);
  const result = checkHistory(ops);
  assert.ok(result.ok, `not linearizable on key ${result.key}`);
  log.closed = true;
});
