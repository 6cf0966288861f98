/**
 * `npm run bench`: runs the benchmarks, one process each, so one does not
 * warm or tire the machine for the next; replog (the end-to-end benchmark)
 * first. Pass names to run some only (`npm run bench -- storage`); every other
 * argument goes to each benchmark run (`npm run bench -- replog --quick --peer etcd`).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const all = ['replog', 'codec', 'storage'];
/** Run only when named: recovery fills a 1 GiB log (`npm run bench -- recovery [--quick]`), reconfig too (a learner catches it up; `npm run bench -- reconfig [--quick]`); state is the state store's (`npm run bench -- state [--quick]`); tail is append-to-tail latency (`npm run bench -- tail [--quick]`). */
const known = [...all, 'recovery', 'reconfig', 'state', 'tail', 'entry-copy'];
const args = process.argv.slice(2);
const names = args.filter((a) => known.includes(a));
const rest = args.filter((a) => !known.includes(a));
const unknown = rest.filter((a, i) => !a.startsWith('-') && (i === 0 || !rest[i - 1]!.startsWith('--')));
if (unknown.length > 0) {
  console.error(`unknown benchmark '${unknown[0]}' (have: ${known.join(', ')})`);
  process.exit(2);
}
for (const name of names.length > 0 ? names : all) {
  console.log(`\n== bench/${name}`);
  const r = spawnSync(process.execPath, [join(here, `${name}.js`), ...(name === 'replog' || name === 'recovery' || name === 'reconfig' || name === 'state' || name === 'tail' ? rest : [])], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
