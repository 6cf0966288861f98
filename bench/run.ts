/**
 * `npm run bench`: runs the benchmarks that exist, one process each, so one
 * does not warm or tire the machine for the next. Pass names to run some only:
 * `npm run bench -- storage`.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const all = ['codec', 'storage'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of wanted.length > 0 ? wanted : all) {
  if (!all.includes(name)) {
    console.error(`unknown benchmark '${name}' (have: ${all.join(', ')})`);
    process.exit(2);
  }
  console.log(`\n== bench/${name}`);
  const r = spawnSync(process.execPath, [join(here, `${name}.js`)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
