// A short nemesis run in npm test: real replica processes on their own network hosts, link, process and
// disk faults (power losses and full disks included) from a fixed seed, a workload of contending writers and readers, and the checker's verdict
// over the whole history as the assertion (no timing assertions). Without network namespaces the run
// goes on loopback with process faults only, and says so in the test's output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNemesis } from '../../src/nemesis/runner.js';
import { FAULT_KINDS } from '../../src/nemesis/schedule.js';

test('a short nemesis run: nothing lost, duplicated, invented, reordered or read stale', { timeout: 300_000 }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'replog-nemesis-'));
  const r = await runNemesis({ seed: 13, timeMs: 40_000, faults: [...FAULT_KINDS], out, log: (l) => t.diagnostic(l) });
  if (r.bedMode === 'loopback') {
    const loud = `!!! NEMESIS ON LOOPBACK: NO LINK FAULTS RAN (${r.fallbackReason}); process and disk faults only`;
    console.log(loud);
    t.diagnostic(loud);
  }
  t.diagnostic(`ops ${JSON.stringify(r.opsByOutcome)} faults ${JSON.stringify(r.faultsByKind)}`);
  const why = [...r.check.violations.map((v) => `${v.kind}: ${v.message}`), ...r.notes].join('\n');
  assert.ok(r.valid, `the run failed (results kept in ${out}; ${r.replay}):\n${why}`);
  // The run did what it says: appends were acknowledged and faults were injected.
  assert.ok(r.check.stats.appendsOk > 100, 'appends were acknowledged');
  assert.ok((r.faultsByKind.kill ?? 0) + (r.faultsByKind.pause ?? 0) + (r.faultsByKind.wipe ?? 0) + (r.faultsByKind.corrupt ?? 0) > 0, 'process faults ran');
  if (r.bedMode === 'netns') assert.ok((r.faultsByKind.partition ?? 0) > 0, 'partitions ran');
  // Seed 13 has a power loss of all three replicas and a full disk (disk-full needs root for its tmpfs).
  assert.ok((r.faultsByKind['power-loss'] ?? 0) > 0, 'a power loss ran');
  const noDisks = r.notes.find((n) => n.startsWith('NO SMALL DISKS'));
  if (noDisks !== undefined) {
    console.log(`!!! ${noDisks}`);
    t.diagnostic(`!!! ${noDisks}`);
  } else assert.ok((r.faultsByKind['disk-full'] ?? 0) > 0, 'a disk filled up');
  rmSync(out, { recursive: true, force: true });
});
