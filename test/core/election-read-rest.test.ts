// A promise reply is cut at its byte bound (replyBytesMax); the electing writer reads the rest of that
// member's slots, in as many reads as it takes, before it counts the member (writer-election.ts,
// readRest and onElectionRead). Were it to count a member on a cut report, positions past the cut would
// look empty and be settled with NOPs over values already chosen. The full mutation run found this
// path without coverage in the core tests (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { limits } from '../../src/core/constants.js';

test('an election reads the rest of cut promise replies, in several reads, and keeps every chosen value', () => {
  const c = new Cluster(3);
  c.elect('w1');
  c.run();
  // Five entries of a bit over a third of the byte bound: a reply holds two, so w2's promise replies are
  // cut and each member's rest takes two reads. w1's commits are lost: nothing is learned anywhere.
  c.dropIf = (e) => e.msg.type === 'commit';
  const size = Math.floor(limits.replyBytesMax / 3) + 1;
  const ids = [1, 2, 3, 4, 5].map((k) => c.append('w1', { kind: 'append', data: new Uint8Array(size).fill(k) }));
  c.run();
  assert.deepEqual(ids.map((id) => c.results.get(id)), [1, 2, 3, 4, 5].map((position) => ({ ok: true, position })));
  assert.equal(c.store(1).learnedThrough(), 0, 'only w1\'s election NOP');
  let reads = 0;
  c.dropIf = (e) => {
    if (e.from === 'w2' && e.msg.type === 'read') reads++;
    return false;
  };
  c.elect('w2');
  c.run();
  assert.deepEqual(c.elections.get('w2'), { ok: true, position: 6 });
  assert.ok(reads >= 6, `each member's rest read in two reads at least (${reads} reads)`);
  // w2 settled 1..5 with w1's values (a NOP anywhere would be a chosen value lost): the members it
  // committed to learned them, and no replica learned anything else.
  for (let p = 1; p <= 5; p++) {
    const holders = [1, 2, 3].filter((id) => {
      const a = c.store(id).action(p);
      return c.store(id).slot(p)?.learned && a !== undefined && a !== 'lost' && a.kind === 'append' && a.data.byteLength === size && a.data[0] === p;
    });
    assert.ok(holders.length >= 2, `a quorum learned w1's entry at ${p} (${holders.join(', ')})`);
  }
  c.checkAgreement();
});
