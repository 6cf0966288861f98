// The reader: every acknowledged append is returned, nothing invented,
// in-flight positions are settled, bounds are right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, entries } from './harness.js';
import { timing } from '../../src/core/constants.js';

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

test('an idle live writer does not block a read forever: a position nobody in the quorum learned is filled after activeWriterWaitMs', () => {
  // Simulator seed 1400: the replica that learned a position lost it (here: is down); the others hold
  // it accepted, unlearned. The live writer's election counted the lost learner's prefix, so it never
  // proposes there again, and it recommits only its own term: the replicas report it active forever.
  const c = new Cluster(3);
  c.elect('w1');
  c.run();
  c.dropIf = (e) => e.msg.type === 'commit' && e.to !== 'r3';
  const x = c.append('w1', 'x');
  c.run();
  assert.equal(c.results.get(x)?.ok, true);
  assert.equal(c.learnedText(3, 1), 'x');
  assert.equal(c.learnedText(1, 1), undefined);
  c.writers.delete('w1'); // w1 is gone (else its recommits would teach r1 and r2)
  c.dropIf = (e) => e.msg.type === 'promise' && e.to === 'r1';
  c.elect('w2');
  c.run();
  assert.deepEqual(c.elections.get('w2'), { ok: true, position: 2 }, 'elected by r2 and r3 above the learned prefix 1');
  c.dropIf = () => false;
  c.crash(3);
  c.writerActive = true;
  const r = c.read('rd', 0, 10);
  const readerPromises = (): number => c.inflight.filter((e) => e.from === 'rd' && e.msg.type === 'promise').length;
  let promised = 0;
  const deadline = c.now + timing.activeWriterWaitMs - 500;
  while (c.now < deadline && !c.reads.has(r)) {
    promised += readerPromises();
    while (c.deliverOne());
    c.tick(50);
  }
  // No fill while the writer might still commit. (Since writes go only to members that promised, r1
  // holds nothing of w2's term here, and the read may finish sooner: what matters is that it finishes.)
  assert.equal(promised, 0, 'no fill while the writer might still commit');
  c.run(6_000);
  assert.deepEqual(entries(c.reads.get(r)), [[1, 'x']], 'the read settled position 1 with a fill and returned it');
  // The fill covered position 1 only, below the writer's term: the writer goes on, not fenced.
  assert.equal(c.writer('w2').roleKind, 'elected');
  c.restart(3);
  const y = c.append('w2', 'y');
  c.run(5_000);
  assert.deepEqual(c.results.get(y), { ok: true, position: 3 });
  c.checkAgreement();
});

test('a slow quorum is not a dead one: a read whose every answer comes 6 s late settles a pending position and succeeds (issue 20, item 3)', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  c.dropIf = (e) => e.msg.type === 'commit';
  const a = c.append('w', 'acked');
  c.run();
  assert.equal(c.results.get(a)?.ok, true);
  c.writers.delete('w'); // gone: position 1 stays accepted everywhere, learned nowhere
  // Every answer to the reader arrives 6 s after it was sent (a replica busy with other reads).
  const delayMs = 6_000;
  const held: { at: number; e: (typeof c.inflight)[number] }[] = [];
  c.dropIf = (e) => {
    if (e.to !== 'rd') return false;
    held.push({ at: c.now + delayMs, e });
    return true;
  };
  const r = c.read('rd', 0, 10);
  const deadline = c.now + 120_000;
  while (c.now < deadline && !c.reads.has(r)) {
    while (c.deliverOne());
    c.tick(50);
    while (held.length > 0 && held[0]!.at <= c.now) c.inflight.push(held.shift()!.e);
  }
  assert.deepEqual(entries(c.reads.get(r)), [[1, 'acked']], 'the read went on through answers slower than operationTimeoutMs');
  c.checkAgreement();
});
