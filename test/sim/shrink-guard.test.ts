// The simulator's shrink episode obeys R10's guard, as `replog member remove` and `config set` do: it takes
// the first drawn pair of voters whose removal leaves a quorum of VOTING ones. Shaped seed 136 (once reads
// asked a quorum, which moved its trace) drew voters 1 and 2 of {1..5} while 3 and 4 were rejoining wiped
// disks, and set {3, 4, 5}: a configuration with a majority of lost disks, stuck for good. Scripted here on a
// stub host, since the seeds that meet the case move with every change of the traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeEpisodes, type ChangeHost } from '../../src/sim/change-shapes.js';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import type { Prng } from '../../src/sim/prng.js';

const five: PlacedConfiguration = {
  epoch: 3, position: 100, floor: 1, nextId: 6, learners: [],
  voters: [1, 2, 3, 4, 5].map((id) => ({ id, address: `r${id}:7000` })),
};

/** The shrink's trace lines, with `down` rejoining (not VOTING) and the voters drawn in `order`. */
function shrinkTrace(down: readonly number[], order: readonly number[]): string[] {
  const lines: string[] = [];
  const host = {
    latestConfig: () => five,
    replicaById: (id: number) => ({ status: down.includes(id) ? 'RECOVERING' : 'VOTING' }),
    trace: (t: string) => lines.push(t),
    readerClients: () => [],
  } as unknown as ChangeHost;
  const prng = { shuffle: () => [...order], chance: () => true, int: (lo: number) => lo } as unknown as Prng;
  // The change itself needs a writer: the stub has none, so the episode stops there, after its choice.
  const episodes = new ChangeEpisodes(host, prng, () => { throw new Error('stub: no writer'); }, () => { throw new Error('stub: no writer'); }, () => {});
  try {
    episodes.run('shrink', () => {});
  } catch {
    // The stub's end: what the episode chose is in the trace.
  }
  return lines.filter((l) => l.startsWith('SHRINK'));
}

test('shrink: the first drawn pair when the voters left hold a quorum of VOTING ones', () => {
  assert.deepEqual(shrinkTrace([3], [1, 2, 3, 4, 5]), ['SHRINK without 1 and 2 (in one set)']);
});

test('shrink: a drawn pair whose removal leaves a majority of rejoining voters is passed over (seed 136)', () => {
  const lines = shrinkTrace([3, 4], [1, 2, 3, 4, 5]);
  assert.equal(lines[0], 'SHRINK passes over 1 and 2: the voters left would hold no quorum of VOTING ones (R10)');
  // {1,2,3,4,5} without 1 and 3: {2, 4, 5}, two of three VOTING.
  assert.equal(lines[1], 'SHRINK without 1 and 3 (in one set)');
});

test('shrink: skipped when no pair leaves a quorum of VOTING voters', () => {
  assert.deepEqual(shrinkTrace([2, 3, 4, 5], [1, 2, 3, 4, 5]), ['SHRINK skipped: no two voters leave a quorum of VOTING ones (R10)']);
});
