/** `npm run crash-states -- [STATES] [SEED]`: the crash-state checker's long run (default 20,000 states). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCrashStates } from './crash-states.js';
import { seededRandom } from '../helpers/seeded-random.js';

const states = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? 1);
const dir = mkdtempSync(join(tmpdir(), 'replog-alice-'));
const started = Date.now();
try {
  const r = await checkCrashStates(dir, states, { random: seededRandom(seed) });
  console.log(`crash states: ${r.states} checked (seed ${seed}), ${r.intact} intact, ${r.reported} with the loss reported, ${r.violations.length} violations, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const v of r.violations.slice(0, 20)) console.log(`VIOLATION ${v}`);
  process.exitCode = r.violations.length === 0 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
