#!/usr/bin/env node
// Merges the reports of the parts of a full mutation run (scripts/mutate-part.js) into one Stryker report,
// written as the full run's incremental file (stryker.config.json's incrementalFile) and its JSON report:
//   node scripts/merge-mutation-parts.js reports/mutation/parts/full-*-incremental.json
// `npm run mutate` then starts from it: it reruns only the mutants whose file or covering tests changed
// since their part ran, and reports the whole of src/core and the decoders in one report. Each part numbers
// its tests from 0, so a test is known by its file and name here, and the mutants' coveredBy and killedBy
// lists are renumbered. A test file whose source differs between parts (a part ran before a change to it)
// keeps the source of the first part given that lists it (give them oldest first): Stryker then sees the
// change and reruns the mutants its changed tests cover.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const inputs = process.argv.slice(2);
if (inputs.length === 0) {
  console.error('usage: node scripts/merge-mutation-parts.js PART-incremental.json...');
  process.exit(2);
}
const config = JSON.parse(readFileSync('stryker.config.json', 'utf8'));

const ids = new Map(); // file \0 name -> merged id
const testFiles = {};
const files = {};
let first;
for (const path of inputs) {
  const part = JSON.parse(readFileSync(path, 'utf8'));
  first ??= part;
  const local = new Map(); // the part's id -> merged id
  for (const [file, tf] of Object.entries(part.testFiles ?? {})) {
    const merged = (testFiles[file] ??= { source: tf.source, tests: [] });
    for (const t of tf.tests) {
      const key = `${file}\0${t.name}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = String(ids.size);
        ids.set(key, id);
        merged.tests.push({ ...t, id });
      }
      local.set(t.id, id);
    }
  }
  const renumber = (list) => list?.map((id) => {
    const to = local.get(id);
    if (to === undefined) throw new Error(`${path}: a mutant names test ${id}, which the part does not list`);
    return to;
  });
  for (const [file, entry] of Object.entries(part.files)) {
    if (file in files) throw new Error(`${file} is in two parts; give each file to one part`);
    files[file] = {
      ...entry,
      mutants: entry.mutants.map((m) => ({
        ...m,
        ...(m.coveredBy === undefined ? {} : { coveredBy: renumber(m.coveredBy) }),
        ...(m.killedBy === undefined ? {} : { killedBy: renumber(m.killedBy) }),
      })),
    };
  }
}

const report = { ...first, files, testFiles, config: { ...first.config, mutate: config.mutate } };
for (const out of [config.incrementalFile, config.jsonReporter.fileName]) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report));
  console.log(`${out}: ${Object.keys(files).length} files, ${Object.values(files).reduce((n, f) => n + f.mutants.length, 0)} mutants, ${ids.size} tests`);
}
