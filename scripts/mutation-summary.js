#!/usr/bin/env node
// Sums Stryker JSON reports (mutation.json) into one table per file and a total:
//   node scripts/mutation-summary.js reports/mutation/mutation.json [more.json ...] [--survivors]
// A file reported by several runs counts from the last one given. The score is Stryker's:
// (killed + timeout) / (killed + timeout + survived + no coverage); compile errors and
// ignored (static) mutants are outside it. --survivors lists each surviving and uncovered
// mutant with its line and replacement, to review against docs/testing.md's equivalent list.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const listSurvivors = args.includes('--survivors');
const files = new Map();
for (const path of args.filter((a) => !a.startsWith('--'))) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  for (const [file, entry] of Object.entries(report.files)) files.set(file, entry.mutants);
}
if (files.size === 0) {
  console.error('usage: node scripts/mutation-summary.js REPORT.json [...] [--survivors]');
  process.exit(2);
}

const STATUSES = ['Killed', 'Timeout', 'Survived', 'NoCoverage', 'CompileError', 'Ignored'];
const total = Object.fromEntries(STATUSES.map((s) => [s, 0]));
const score = (c) => {
  const detected = c.Killed + c.Timeout;
  const valid = detected + c.Survived + c.NoCoverage;
  return valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(2)}%`;
};

console.log(`| file | ${STATUSES.map((s) => s.toLowerCase()).join(' | ')} | score |`);
console.log(`| --- | ${STATUSES.map(() => '---').join(' | ')} | --- |`);
for (const [file, mutants] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
  const count = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const m of mutants) {
    if (!(m.status in count)) throw new Error(`${file}: unexpected mutant status ${m.status}`);
    count[m.status]++;
    total[m.status]++;
  }
  console.log(`| \`${file}\` | ${STATUSES.map((s) => count[s]).join(' | ')} | ${score(count)} |`);
}
console.log(`| all | ${STATUSES.map((s) => total[s]).join(' | ')} | ${score(total)} |`);

if (listSurvivors) {
  for (const [file, mutants] of files) {
    for (const m of mutants) {
      if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
      const at = `${file}:${m.location.start.line}:${m.location.start.column}`;
      console.log(`${m.status.padEnd(10)} ${at} ${m.mutatorName}: ${JSON.stringify(m.replacement ?? '')}`);
    }
  }
}
