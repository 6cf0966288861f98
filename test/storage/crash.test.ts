/**
 * Crash tests: a child process writes through a FileStore and is killed with
 * SIGKILL at random moments, hundreds of times. After each kill the data
 * directory is reopened and checked:
 * - every position whose sync was acknowledged is present and intact;
 * - every position present holds exactly its expected bytes (nothing
 *   unacknowledged is half-present), none is lost, nothing is corrupt;
 * - positions were appended in order, so every position up to the highest
 *   acknowledged one (above the log's beginning) is present.
 * The child restarts on the same directory, so later rounds also crash while
 * cutting a torn tail, rolling segments and deleting truncated ones.
 *
 * REPLOG_CRASH_KILLS sets the number of kills (default 200, in two lanes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FileStore } from '../../src/storage/file-store.js';
import { expectedAction, TRUNCATE_EVERY, TRUNCATE_KEEP } from './crash-workload.js';
import { seeded } from './contract.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const KILLS = Number(process.env['REPLOG_CRASH_KILLS'] ?? 200);

/** Runs the child until killed; returns the positions it acknowledged. */
function runAndKill(dir: string, rnd: () => number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let buffered = '';
    let stderr = '';
    const kill = (): void => void child.kill('SIGKILL');
    // One kill in eight lands during start-up (replay, tail cut); the rest while writing.
    const early = rnd() < 0.125;
    if (early) setTimeout(kill, Math.floor(rnd() * 60));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') {
          if (!early) setTimeout(kill, Math.floor(rnd() * 40));
        } else acked.push(Number(line));
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child ended with ${code}/${signal}: ${stderr}`));
      else resolve(acked);
    });
  });
}

function same(a: unknown, p: number): boolean {
  const e = expectedAction(p);
  if (typeof a !== 'object' || a === null) return false;
  assert.deepEqual(a, e, `position ${p} holds other bytes`);
  return true;
}

interface Tally {
  acks: number;
  tornCuts: number;
  maxSegments: number;
}

async function check(dir: string, ackedEver: Set<number>, state: { maxAcked: number; minBegin: number }, tally: Tally): Promise<void> {
  const s = await FileStore.open(dir);
  try {
    const r = s.openReport;
    if (r.tornBytesCut > 0) tally.tornCuts++;
    tally.maxSegments = Math.max(tally.maxSegments, r.segments);
    assert.deepEqual(r.corruptRegions, [], 'a crash is not corruption');
    assert.equal(r.metadataCorrupted, false);
    assert.deepEqual(s.lostPositions(), []);
    assert.ok(s.begin() >= state.minBegin, `begin ${s.begin()} went back below ${state.minBegin}`);
    for (let p = s.begin(); p <= state.maxAcked; p++) assert.ok(same(s.action(p), p), `acknowledged-before position ${p} missing`);
    for (const p of s.positions(s.begin(), s.end())) assert.ok(same(s.action(p), p), `position ${p} present without its action`);
    for (const p of ackedEver) if (p >= s.begin()) assert.ok(s.slot(p) !== undefined, `acknowledged ${p} missing`);
  } finally {
    await s.close();
  }
}

async function lane(seed: number, kills: number, tally: Tally): Promise<void> {
  const dir = tempDir('replog-crash-');
  const rnd = seeded(seed);
  const ackedEver = new Set<number>();
  const state = { maxAcked: -1, minBegin: 0 };
  for (let i = 0; i < kills; i++) {
    const acked = await runAndKill(dir, rnd);
    tally.acks += acked.length;
    for (const p of acked) {
      ackedEver.add(p);
      state.maxAcked = Math.max(state.maxAcked, p);
      const a = expectedAction(p);
      if (a.kind === 'truncate') state.minBegin = Math.max(state.minBegin, a.to);
    }
    for (const p of ackedEver) if (p < state.minBegin) ackedEver.delete(p);
    await check(dir, ackedEver, state, tally);
  }
}

test(`FileStore keeps every acknowledged record across ${KILLS} SIGKILLs`, { timeout: 120_000 }, async (t) => {
  const tally: Tally = { acks: 0, tornCuts: 0, maxSegments: 0 };
  await Promise.all([lane(1, Math.ceil(KILLS / 2), tally), lane(2, Math.floor(KILLS / 2), tally)]);
  t.diagnostic(`${tally.acks} acknowledged positions, ${tally.tornCuts} torn tails cut, at most ${tally.maxSegments} segments`);
  // The kills must land while writing, or the test proves nothing.
  assert.ok(tally.acks > KILLS, `only ${tally.acks} acknowledgements in ${KILLS} runs`);
  assert.ok(TRUNCATE_EVERY < TRUNCATE_KEEP);
});

test.after(removeTempDirs);
