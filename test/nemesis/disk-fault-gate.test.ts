// A disk fault (wipe, corrupt) or a replace is applied only when the cluster can lose a disk, as the log
// promises: every replica VOTING and a voter. Seed 504 (`--faults ...,replace`) wiped r3 while member 4,
// left a learner by an unfinished replace, was VOTING beside two voters: no quorum could record r3's new disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayLoseADisk } from '../../src/nemesis/runner.js';

test('a disk may be lost only when every replica is a VOTING voter', () => {
  const voter = { status: 'VOTING', role: 'voter' } as const;
  assert.equal(mayLoseADisk([voter, voter, voter]), true);
  assert.equal(mayLoseADisk([voter, voter, { status: 'VOTING', role: 'learner' }]), false, 'a learner left by an unfinished replace');
  assert.equal(mayLoseADisk([voter, voter, { status: 'RECOVERING', role: 'voter' }]), false, 'a disk still rejoining');
  assert.equal(mayLoseADisk([voter, voter, { status: 'UNREACHABLE', role: null }]), false, 'a replica not heard');
});
