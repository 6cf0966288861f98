// The power-loss model (power-loss.ts) and the sync hook that feeds it (sync-hook.ts): a journal replays to
// the durable lengths and names it recorded; a FileStore child process watched by the hook, SIGKILLed and then
// cut back to its journal, still holds every record whose sync it acknowledged. Without the hook's journal the
// same power loss loses acknowledged records: the check below can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { durableState, fate, journalPath, powerLoss } from '../../src/nemesis/power-loss.js';
import { FileStore } from '../../src/storage/file-store.js';
import { expectedAction } from '../storage/crash-workload.js';

const CHILD = fileURLToPath(new URL('../storage/crash-child.js', import.meta.url));
const HOOK = new URL('../../src/nemesis/sync-hook.js', import.meta.url).href;

test('a journal replays to durable lengths and names; a torn last line is ignored', () => {
  const j = ['{"f":"a","n":10}', '{"d":["a","LOCK"]}', '{"f":"a","n":30}', '{"f":"b","n":5}', '{"f":"a","t":20}', '{"f":"LOCK","t":0}', '{"f":"a","n":9'].join('\n');
  const s = durableState(j);
  assert.equal(s.lengths.get('a'), 20, 'an ftruncate lowers the durable length');
  assert.equal(s.lengths.get('LOCK'), 0);
  assert.deepEqual(fate(s, 'a', 50), { kind: 'cut', to: 20 });
  assert.deepEqual(fate(s, 'a', 15), { kind: 'keep' });
  assert.deepEqual(fate(s, 'b', 5), { kind: 'remove' }, 'synced data under a name no directory fsync covered is gone');
  assert.deepEqual(fate(s, 'LOCK', 46), { kind: 'cut', to: 0 });
  assert.deepEqual(fate(durableState(''), 'a', 1), { kind: 'remove' }, 'nothing survives a directory never synced');
});

/**
 * Runs the crash child (a FileStore writing with 8 concurrent syncers) until it has acknowledged `acks`
 * positions, then SIGKILLs it (more may be acknowledged, and more written unsynced, by then); returns
 * what it acknowledged. Counted, not timed: a loaded machine changes how much is written, not the outcome.
 */
function runAndKill(dir: string, acks: number, hook: boolean): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const args = [...(hook ? ['--import', HOOK] : []), CHILD, dir, '--dir', dir];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let buf = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (l === 'ready') continue;
        acked.push(Number(l));
        if (acked.length === acks) child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('close', (code, signal) => (signal === 'SIGKILL' ? resolve(acked) : reject(new Error(`child ended ${code}: ${err}`))));
  });
}

/** The acknowledged positions missing after reopening `dir`. */
async function missing(dir: string, acked: Iterable<number>): Promise<number[]> {
  const s = await FileStore.open(dir);
  try {
    const out: number[] = [];
    for (const p of acked) if (p >= s.begin() && s.action(p) === undefined) out.push(p);
    for (const p of s.positions(s.begin(), s.end())) assert.deepEqual(s.action(p), expectedAction(p), `position ${p} holds other bytes`);
    return out;
  } finally {
    await s.close();
  }
}

test('a power loss after a SIGKILL keeps every record the store acknowledged (the hook records its syncs)', { timeout: 120_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'replog-power-'));
  const dir = join(root, 'r1');
  try {
    const ackedEver = new Set<number>();
    let cut = 0;
    for (let round = 0; round < 12; round++) {
      for (const p of await runAndKill(dir, 1 + ((round * 7) % 40), true)) ackedEver.add(p);
      const lost = powerLoss(dir);
      if (lost !== 'nothing unsynced') cut++;
      assert.deepEqual(await missing(dir, ackedEver), [], `round ${round}: acknowledged records lost (${lost})`);
    }
    t.diagnostic(`${ackedEver.size} acknowledged positions, ${cut} of 12 power losses cut something`);
    assert.ok(ackedEver.size > 12, 'the child acknowledged records');
    const j = readFileSync(journalPath(dir), 'utf8');
    assert.match(j, /"d":\[/, 'the journal holds a directory fsync');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('without the hook a power loss takes acknowledged records (the check above can fail)', { timeout: 60_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'replog-power-'));
  const dir = join(root, 'r1');
  try {
    const acked = await runAndKill(dir, 20, false);
    assert.ok(acked.length > 0);
    assert.equal(existsSync(journalPath(dir)), false);
    writeFileSync(journalPath(dir), '');
    powerLoss(dir);
    assert.ok(statSync(dir).isDirectory());
    assert.ok((await missing(dir, acked)).length > 0, 'records were lost');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
