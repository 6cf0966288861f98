// Membership changes under faults (issues 12 and 13): a short nemesis run whose process lane replaces
// members the way an operator does, with the CLI (member remove, a new member at the old address with
// --join, member add --voter), while partitions cut links and replicas are killed. The checker's verdict
// over the whole history is the assertion: nothing acknowledged lost, duplicated, invented or reordered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNemesis } from '../../src/nemesis/runner.js';

test('a short nemesis run with members replaced among partitions and kills: nothing lost', { timeout: 300_000 }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'replog-nemesis-replace-'));
  const r = await runNemesis({ seed: 7, timeMs: 50_000, faults: ['partition', 'kill', 'replace'], out, log: (l) => t.diagnostic(l) });
  t.diagnostic(`ops ${JSON.stringify(r.opsByOutcome)} faults ${JSON.stringify(r.faultsByKind)}`);
  const why = [...r.check.violations.map((v) => `${v.kind}: ${v.message}`), ...r.notes].join('\n');
  assert.ok(r.valid, `the run failed (results kept in ${out}; ${r.replay}):\n${why}`);
  assert.ok(r.check.stats.appendsOk > 100, 'appends were acknowledged');
  assert.ok((r.faultsByKind.replace ?? 0) > 0, 'a member was replaced');
  rmSync(out, { recursive: true, force: true });
});
