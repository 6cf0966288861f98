// Planted bugs are caught by short runs (opt-in, NEMESIS_PLANTS=1: each adds a minute to npm test).
// read-stops-at-hole (plants.ts): the workload's reads end at the first position without an append; the
// checker must report reads that miss appends acknowledged before they began.
// writer-no-fence: a fenced writer counts refusals as acceptances and acknowledges what no quorum accepted;
// the checker must report acknowledged appends lost or sharing a position, and acks after a fencing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNemesis } from '../../src/nemesis/runner.js';

const skip = process.env.NEMESIS_PLANTS === '1' ? false : 'set NEMESIS_PLANTS=1 to run';

test('a short run catches a reader that stops at the first hole', { skip }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'replog-nemesis-plant-'));
  const r = await runNemesis({ seed: 7, timeMs: 25_000, faults: ['kill', 'partition'], out, env: { REPLOG_PLANT: 'read-stops-at-hole' }, log: (l) => t.diagnostic(l) });
  t.diagnostic(`violations ${JSON.stringify(r.check.violationCounts)}`);
  assert.equal(r.valid, false, 'the run failed');
  assert.ok((r.check.violationCounts['stale-read'] ?? 0) > 0, 'stale reads were found');
  rmSync(out, { recursive: true, force: true });
});

test('a short run catches a writer that ignores being fenced', { skip }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'replog-nemesis-plant-'));
  const r = await runNemesis({ seed: 7, timeMs: 25_000, faults: ['partition', 'pause'], out, env: { REPLOG_PLANT: 'writer-no-fence' }, log: (l) => t.diagnostic(l) });
  t.diagnostic(`violations ${JSON.stringify(r.check.violationCounts)}`);
  assert.equal(r.valid, false, 'the run failed');
  const c = r.check.violationCounts;
  assert.ok((c.lost ?? 0) + (c['position-reused'] ?? 0) > 0, 'acknowledged appends were lost or overwritten');
  assert.ok((c['ack-after-fence'] ?? 0) > 0, 'acknowledgements after a fencing were found');
  rmSync(out, { recursive: true, force: true });
});

// reply-before-sync: replicas answer before their records are written. A power loss of every replica at once
// (seed 2 has two) loses acknowledged appends, which the checker reports as lost; without the plant the same
// run passes, so the loss is the plant's and not the fault model's.
test('power losses catch replicas that reply before they sync, and pass without the plant', { skip, timeout: 400_000 }, async (t) => {
  for (const plant of ['reply-before-sync', undefined]) {
    const out = mkdtempSync(join(tmpdir(), 'replog-nemesis-plant-'));
    const r = await runNemesis({ seed: 2, timeMs: 30_000, faults: ['kill', 'power-loss'], out, ...(plant === undefined ? {} : { env: { REPLOG_PLANT: plant } }), log: (l) => t.diagnostic(l) });
    t.diagnostic(`${plant ?? 'no plant'}: faults ${JSON.stringify(r.faultsByKind)} violations ${JSON.stringify(r.check.violationCounts)}`);
    assert.ok((r.faultsByKind['power-loss'] ?? 0) > 0, 'power losses ran');
    if (plant === undefined) assert.ok(r.valid, `without the plant the run passes: ${[...r.check.violations.map((v) => v.message), ...r.notes].join('\n')}`);
    else {
      assert.equal(r.valid, false, 'the run failed');
      assert.ok((r.check.violationCounts.lost ?? 0) > 0, 'acknowledged appends were lost');
    }
    rmSync(out, { recursive: true, force: true });
  }
});
