// The simulator's disk keeps exactly its durable prefix across a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimDisk } from '../../src/sim/sim-store.js';

const accept = (position: number) => ({ type: 'accept', position, proposal: 1, action: { kind: 'nop' } }) as const;

test('a crash loses the records no fsync covered, and keeps the others', () => {
  const d = new SimDisk({ status: 'VOTING', promised: 0, incarnation: 'i' });
  d.append([accept(0), accept(1)]);
  const upTo = d.appended;
  d.append([accept(2)]);
  d.synced(upTo);
  assert.equal(d.crash(), 1);
  d.restart();
  assert.equal(d.live.end(), 1);
  assert.equal(d.live.metadata().status, 'VOTING', 'the metadata record is durable from the start');
});

test('a wipe leaves an EMPTY disk with a new incarnation; a corruption survives restarts until rewritten', () => {
  const d = new SimDisk({ status: 'VOTING', promised: 0, incarnation: 'i' });
  d.append([accept(0), accept(1)]);
  d.synced(d.appended);
  d.crash();
  d.corrupt(1);
  d.restart();
  assert.equal(d.live.action(1), 'lost');
  d.append([accept(1)]);
  d.synced(d.appended);
  d.crash();
  d.restart();
  assert.notEqual(d.live.action(1), 'lost', 'a later record at the position repairs it');
  d.crash();
  d.wipe('j');
  d.restart();
  assert.equal(d.live.metadata().status, 'EMPTY');
  assert.equal(d.live.metadata().incarnation, 'j');
  assert.equal(d.live.end(), -1);
});
