// The reader: every acknowledged append is returned, nothing invented,
// in-flight positions are settled, bounds are right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, text } from './harness.js';
import type { ReadResult } from '../../src/core/reader.js';

function entries(r: ReadResult | undefined): [number, string][] {
  assert.ok(r?.ok, `read succeeded: ${JSON.stringify(r)}`);
  return r.entries.map((e) => [e.position, e.action.kind === 'append' ? text(e.action.data) : e.action.kind]);
}

test('read returns the appended entries only, skipping NOPs (CoordinatorTest.MultipleAppends read)', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  for (let i = 1; i <= 10; i++) c.append('w', String(i));
  c.run();
  const r = c.read('rd', 0, 10);
  c.run();
  assert.deepEqual(entries(c.reads.get(r)), Array.from({ length: 10 }, (_, i) => [i + 1, String(i + 1)]));
});

test('an acknowledged append whose commit was lost is still read, through a fill', () => {
  const c = new Cluster(3);
  c.elect('w', [1, 3]);
  c.run();
  c.dropIf = (e) => e.msg.type === 'commit';
  const a = c.append('w', 'acked');
  c.run();
  assert.equal(c.results.get(a)?.ok, true);
  c.dropIf = () => false;
  c.crash(3);
  // Replica 1 holds it unlearned, replica 2 never saw it: the reader must settle it.
  const r = c.read('rd', 0, 5);
  c.run();
  assert.deepEqual(entries(c.reads.get(r)), [[1, 'acked']]);
  assert.equal(c.learnedText(2, 1), 'acked', 'the fill taught replica 2');
  c.checkAgreement();
});

test('beginning and ending follow truncation and appends', () => {
  const c = new Cluster(3);
  const b0 = c.bounds('rd');
  c.run();
  assert.deepEqual(c.reads.get(b0), { ok: true, entries: [], begin: 0, end: -1, through: -1 });
  c.elect('w');
  c.run();
  for (let i = 1; i <= 4; i++) c.append('w', String(i));
  c.truncate('w', 3);
  c.run();
  const b = c.bounds('rd');
  c.run();
  const res = c.reads.get(b);
  assert.ok(res?.ok);
  assert.deepEqual([res.begin, res.end], [3, 5]);
});

test('a read with no quorum of VOTING replicas fails with no-quorum', () => {
  const c = new Cluster(3);
  c.crash(2);
  c.crash(3);
  const r = c.read('rd', 0, 10);
  c.run(20_000);
  assert.deepEqual(c.reads.get(r), { ok: false, error: 'no-quorum' });
});

test('a read stops at the first position nobody holds', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  const r = c.read('rd', 0, 100);
  c.run();
  assert.deepEqual(entries(c.reads.get(r)), [[1, 'a']]);
});
