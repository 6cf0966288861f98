/**
 * Runs seeds against a planted bug's mutated copy of dist/src, in a child
 * process (a mutation may loop forever: a seed that prints nothing for
 * `hangMs` is killed, counted as a hang, and the run goes on after it).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DIST, plantedCopy, type PlantedBug } from './planted-bugs.js';
import type { SeedOutcome } from './planted-bugs-worker.js';

export interface PlantedResult {
  readonly bug: PlantedBug | undefined;
  readonly seeds: number;
  /** Seeds whose run reported a violation of the checker (core assertions included, see `assertions`). */
  readonly caught: number;
  /** Of those, seeds whose first violation was a core assertion (an AssertionError in the core). */
  readonly assertions: number;
  /** Seeds whose run crashed with another error, or hung: caught too, but not by the checker. */
  readonly crashes: number;
  readonly firstSeed: number | undefined;
  readonly firstMessage: string | undefined;
  /** First violation kind of each caught seed -> seeds. */
  readonly kinds: ReadonlyMap<string, number>;
}

const WORKER = join(DIST, 'test', 'sim', 'planted-bugs-worker.js');

function runRange(simulation: string, from: number, count: number, hangMs: number, each: (o: SeedOutcome) => void): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, simulation, String(from), String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let next = from;
    let stderr = '';
    let timer = setTimeout(() => child.kill('SIGKILL'), hangMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const o = JSON.parse(buf.slice(0, i)) as SeedOutcome;
        buf = buf.slice(i + 1);
        next = o.seed + 1;
        each(o);
        clearTimeout(timer);
        timer = setTimeout(() => child.kill('SIGKILL'), hangMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (next >= from + count) return resolve(undefined);
      if (signal === 'SIGKILL') return resolve(next); // the seed `next` hung
      reject(new Error(`planted-bug worker exited with ${code ?? signal} at seed ${next}: ${stderr.slice(0, 2000)}`));
    });
  });
}

/** Runs seeds [from, from + seeds) against the bug's mutated copy (undefined: the unmodified copy). */
export async function runPlanted(bug: PlantedBug | undefined, from: number, seeds: number, hangMs = 60_000): Promise<PlantedResult> {
  const copy = plantedCopy(bug);
  let caught = 0;
  let assertions = 0;
  let crashes = 0;
  let firstSeed: number | undefined;
  let firstMessage: string | undefined;
  const kinds = new Map<string, number>();
  const note = (o: SeedOutcome): void => {
    if (o.kinds.length === 0) return;
    const kind = o.kinds[0]!;
    if (o.crash === true || kind === 'hang') crashes++;
    else caught++;
    if (kind === 'assertion') assertions++;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (firstSeed === undefined || o.seed < firstSeed) {
      firstSeed = o.seed;
      firstMessage = o.message;
    }
  };
  try {
    let at: number | undefined = from;
    while (at !== undefined && at < from + seeds) {
      const hung: number | undefined = await runRange(copy.simulation, at, from + seeds - at, hangMs, note);
      if (hung === undefined) break;
      note({ seed: hung, kinds: ['hang'], message: `no result within ${hangMs} ms` });
      at = hung + 1;
    }
  } finally {
    copy.remove();
  }
  return { bug, seeds, caught, assertions, crashes, firstSeed, firstMessage, kinds };
}
