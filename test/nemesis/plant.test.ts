// A planted bug is caught by a short run (opt-in, NEMESIS_PLANTS=1: it adds a minute to npm test).
// read-stops-at-hole (plants.ts): the workload's reads end at the first position without an append; the
// checker must report reads that miss appends acknowledged before they began.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNemesis } from '../../src/nemesis/runner.js';

test('a short run catches a reader that stops at the first hole', { skip: process.env.NEMESIS_PLANTS === '1' ? false : 'set NEMESIS_PLANTS=1 to run' }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'replog-nemesis-plant-'));
  const r = await runNemesis({ seed: 7, timeMs: 25_000, faults: ['kill', 'partition'], out, env: { REPLOG_PLANT: 'read-stops-at-hole' }, log: (l) => t.diagnostic(l) });
  t.diagnostic(`violations ${JSON.stringify(r.check.violationCounts)}`);
  assert.equal(r.valid, false, 'the run failed');
  assert.ok((r.check.violationCounts['stale-read'] ?? 0) > 0, 'stale reads were found');
  rmSync(out, { recursive: true, force: true });
});
