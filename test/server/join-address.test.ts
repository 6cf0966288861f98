// A joiner is a new disk of its member at the address the configuration lists (R9e): one started with the
// member's id and another --listen (a typo, a copied unit file) is refused before it records a disk
// (src/server/join.ts notListedAt; the multi-process case is attack7-join-impostor, run with ATTACK=1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notListedAt } from '../../src/server/join.js';

test('join: a joiner listening at another port than its member\'s is refused; another host only when both are IP addresses and it does not listen on all interfaces', () => {
  assert.equal(notListedAt('127.0.0.1:7004', { host: '127.0.0.1', port: 7004 }), undefined, 'the listed address itself');
  assert.match(notListedAt('127.0.0.1:7004', { host: '127.0.0.1', port: 7009 }) ?? '', /port 7009, not 7004/);
  assert.match(notListedAt('10.0.0.4:7004', { host: '10.0.0.5', port: 7004 }) ?? '', /host 10.0.0.5, not 10.0.0.4/);
  assert.equal(notListedAt('10.0.0.4:7004', { host: '0.0.0.0', port: 7004 }), undefined, 'every interface: the listed one too');
  assert.equal(notListedAt('[::1]:7004', { host: '::', port: 7004 }), undefined);
  assert.equal(notListedAt('db4.example:7004', { host: '10.0.0.5', port: 7004 }), undefined, 'a name may resolve to the address listened on');
  assert.match(notListedAt('db4.example:7004', { host: '10.0.0.5', port: 7005 }) ?? '', /port 7005/, 'but the port must still be the same');
  assert.equal(notListedAt('127.0.0.1:7004', { host: '127.0.0.1', port: 0 }), undefined, 'port 0 (a test binding any port) is not judged');
});
