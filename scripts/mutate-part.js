#!/usr/bin/env node
// The full mutation run (npm run mutate) takes hours on 2 cores; this runs it a part at a time, each part
// with its own incremental file and reports, so a part that finished is never lost to one that did not:
//   node scripts/mutate-part.js [--vitest-config=FILE] NAME FILE... [-- STRYKER OPTIONS]
// e.g. node scripts/mutate-part.js writer src/core/writer*.ts src/core/quorum.ts -- --concurrency 1
// It writes reports/mutation/parts/NAME.config.json (stryker.config.json with `mutate` = the files, and
// the incremental file and reports under reports/mutation/parts/NAME*), then runs Stryker on it. A rerun
// of a part tests only what changed since. Each part has its own sandbox folder (.stryker-tmp-NAME), so
// two can run at once. Sum the parts: node scripts/mutation-summary.js reports/mutation/parts/*.json
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

// --vitest-config=FILE: the part's test set (e.g. vitest.config.no-seeds.mts for part full-e: docs/testing.md).
const vitestOption = process.argv.slice(2).find((a) => a.startsWith('--vitest-config='));
const args = process.argv.slice(2).filter((a) => a !== vitestOption);
const dash = args.indexOf('--');
const [name, ...files] = dash < 0 ? args : args.slice(0, dash);
const strykerArgs = dash < 0 ? [] : args.slice(dash + 1);
if (name === undefined || files.length === 0 || !/^[\w-]+$/.test(name)) {
  console.error('usage: node scripts/mutate-part.js NAME FILE... [-- STRYKER OPTIONS]');
  process.exit(2);
}

const dir = 'reports/mutation/parts';
mkdirSync(dir, { recursive: true });
const config = JSON.parse(readFileSync('stryker.config.json', 'utf8'));
delete config.$schema;
delete config._comment;
config.mutate = files;
if (vitestOption !== undefined) config.vitest = { ...config.vitest, configFile: vitestOption.slice('--vitest-config='.length) };
config.incrementalFile = `${dir}/${name}-incremental.json`;
// A sandbox folder of its own, so that two parts can run side by side (each at --concurrency 1 on two cores).
config.tempDirName = `.stryker-tmp-${name}`;
config.htmlReporter = { fileName: `${dir}/${name}.html` };
config.jsonReporter = { fileName: `${dir}/${name}.json` };
const path = `${dir}/${name}.config.json`;
writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
const r = spawnSync('npx', ['stryker', 'run', path, ...strykerArgs], { stdio: 'inherit' });
process.exit(r.status ?? 1);
