// A review of the reelect() fix (adversarial helper, branch attackw): reelect() after a failed verdict read used
// to reuse the still-elected core (no new election). With a write in doubt above the first reelect()'s marker, the
// second ran settleAbove() again from the old marker, writing fresh NOPs past the settled range; a rival elected
// meanwhile rejected them and fenced the writer, so the writes in doubt never got their verdicts; and with none
// above the marker it reported itself elected without fencing the rival. Now the failed read gives the core's
// leadership up (abandon), and the next reelect() is a real election. Each test failed with the reuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NoQuorumError } from '../../src/core/errors.js';
import { failNextReads, writerInDoubt } from './fake-cluster.js';

test('second reelect() after a failed verdict read, a rival elected meanwhile, still settles the writes in doubt', async () => {
  const { c, ca, a, errors } = await writerInDoubt(['u1', 'u2', 'u3']);
  assert.deepEqual(errors.map((e) => e.position), [2, 3, 4]);
  c.down.add(1);
  // The verdicts' read fails once: the election (marker 2) and settleAbove (NOP at 3) went through.
  failNextReads(ca);
  await assert.rejects(c.drive(a.reelect()), NoQuorumError);
  assert.equal(a.state, 'in-doubt');
  // A rival is elected meanwhile.
  c.down.delete(1);
  const cb = c.client();
  const b = await cb.writer();
  assert.equal(b.position, 5);
  // The rival writes one value past its marker: the writer in doubt's core thinks position 6 is its own next.
  assert.equal(await c.drive(b.append('y')), 6);
  let err: unknown;
  const r = await c.drive(a.reelect()).catch((e: unknown) => ((err = e), undefined));
  assert.ok(r !== undefined, `reelect() should fence the rival and give verdicts, got ${String(err)}`);
  assert.deepEqual(r.settled.map((s) => [s.position, s.written]), [[2, false], [3, false], [4, false]]);
});

test('second reelect() after a failed verdict read writes no extra NOPs', async () => {
  const { c, ca, a } = await writerInDoubt(['u1', 'u2']);
  c.down.add(1);
  failNextReads(ca);
  await assert.rejects(c.drive(a.reelect()), NoQuorumError);
  const r = await c.drive(a.reelect());
  assert.deepEqual(r.settled.map((s) => [s.position, s.written]), [[2, false], [3, false]]);
  assert.equal(await c.drive(a.append('next')), r.position + 1, 'no settling NOP is written again above the new marker');
});

test('reelect() reusing its elected core does not fence a rival elected meanwhile: the writer it reports elected is fenced at its next append', async () => {
  const { c, ca, a } = await writerInDoubt(['u']);
  failNextReads(ca);
  await assert.rejects(c.drive(a.reelect()), NoQuorumError);
  const cb = c.client();
  await cb.writer();
  const r = await c.drive(a.reelect());
  assert.equal(a.state, 'elected');
  assert.equal(r.settled.length, 1);
  // reelect() is documented as "a new election, which fences any writer elected meanwhile".
  const next = await c.drive(a.append('after')).catch((e: unknown) => e);
  assert.equal(typeof next, 'number', `the re-elected writer appends: ${String(next)}`);
});
