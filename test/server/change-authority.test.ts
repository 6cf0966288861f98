// The admins' change requests a replica holds (src/server/change-authority.ts, R15): kept by id, the first
// content under an id stays, forgotten once the chain carries the id or after the expiry, and bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeAuthority } from '../../src/server/change-authority.js';

const req = (id: string, ifEpoch = 0) => ({ id, ifEpoch, change: { kind: 'remove' as const, id: 3 } });

test('change authority: holds by id, keeps the first, forgets learned ids, expires, is bounded', () => {
  let now = 0;
  const a = new ChangeAuthority({ now: () => now, expiryMs: 1000, max: 3 });
  assert.equal(a.add(req('a')), true);
  assert.equal(a.add(req('a')), false, 'known already: not forwarded again');
  assert.equal(a.add(req('a', 5)), false);
  assert.deepEqual(a.get('a'), req('a'), 'the first content under an id stays');
  assert.equal(a.get('zz'), undefined);
  a.add(req('b'));
  a.forgetLearned([{ epoch: 1, voters: [], learners: [], nextId: 4, changeId: 'b', position: 3, floor: 1 }]);
  assert.equal(a.get('b'), undefined, 'a learned configuration carries it: forgotten');
  now = 500;
  a.add(req('c'));
  a.add(req('d'));
  a.add(req('e'));
  assert.equal(a.size, 3);
  assert.equal(a.get('a'), undefined, 'full: the oldest went');
  now = 1600;
  assert.equal(a.get('c'), undefined, 'expired');
  assert.equal(a.size, 0);
});

test('change authority: a withdrawn request is forgotten (a plain writer may no longer carry it out here)', () => {
  const a = new ChangeAuthority({ now: () => 0 });
  a.add(req('a'));
  a.add(req('b'));
  a.revoke('a');
  assert.equal(a.get('a'), undefined);
  assert.deepEqual(a.get('b'), req('b'), 'the others stay');
  a.revoke('never-held');
  assert.equal(a.size, 1);
});

test('change authority: a peer\'s vouch for a pending config entry stands for that entry at that position, until it goes stale or the chain passes it', () => {
  let now = 0;
  const a = new ChangeAuthority({ now: () => now, vouchExpiryMs: 100 });
  const m = (id: number) => ({ id, address: `h:${id}` });
  const e = { epoch: 1, voters: [m(1), m(2), m(3)], learners: [m(4)], nextId: 5, changeId: 'req-1' };
  a.vouch(1, { ...e, position: 10, floor: 3 });
  assert.equal(a.vouched(10, e), true);
  assert.equal(a.vouched(11, e), false, 'another position');
  assert.equal(a.vouched(10, { ...e, learners: [] }), false, 'another configuration');
  now = 90;
  a.vouch(1, { ...e, position: 10, floor: 3 }); // the peer repeats it every peerStateMs
  now = 150;
  assert.equal(a.vouched(10, e), true, 'repeated: still standing');
  now = 191;
  assert.equal(a.vouched(10, e), false, 'not repeated for vouchExpiryMs: gone');
  a.vouch(2, { ...e, position: 10, floor: 3 });
  a.forgetLearned([{ epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 }, { ...e, position: 10, floor: 3 }]);
  assert.equal(a.vouched(10, e), false, 'chained here: the vouch is no longer needed');
});
