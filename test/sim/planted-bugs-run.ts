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
  /** Seeds whose run reported a violation of a check the bug expects (`PlantedBug.expect`; any violation for the unmodified copy). */
  readonly caught: number;
  /** Those seeds, ascending. */
  readonly caughtSeeds: readonly number[];
  /** Seeds that failed otherwise (a liveness timeout, a core assertion, another check): not counted as caught. */
  readonly otherwise: number;
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

/** Runs `list` in one child; resolves with the index of a seed that hung (the child was killed), or undefined. */
function runList(simulation: string, list: readonly number[], hangMs: number, each: (o: SeedOutcome) => void): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, simulation, list.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let next = 0;
    let stderr = '';
    let timer = setTimeout(() => child.kill('SIGKILL'), hangMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const o = JSON.parse(buf.slice(0, i)) as SeedOutcome;
        buf = buf.slice(i + 1);
        next++;
        each(o);
        clearTimeout(timer);
        timer = setTimeout(() => child.kill('SIGKILL'), hangMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (next >= list.length) return resolve(undefined);
      if (signal === 'SIGKILL') return resolve(next); // list[next] hung
      reject(new Error(`planted-bug worker exited with ${code ?? signal} at seed ${list[next]}: ${stderr.slice(0, 2000)}`));
    });
  });
}

/** Runs seeds [from, from + seeds) against the bug's mutated copy (undefined: the unmodified copy). */
export function runPlanted(bug: PlantedBug | undefined, from: number, seeds: number, hangMs = 60_000): Promise<PlantedResult> {
  return runPlantedSeeds(bug, Array.from({ length: seeds }, (_, i) => from + i), hangMs);
}

/** Runs the listed seeds against the bug's mutated copy (undefined: the unmodified copy). */
export async function runPlantedSeeds(bug: PlantedBug | undefined, list: readonly number[], hangMs = 60_000): Promise<PlantedResult> {
  const seeds = list.length;
  const copy = plantedCopy(bug);
  let caught = 0;
  let otherwise = 0;
  const caughtSeeds: number[] = [];
  let assertions = 0;
  let crashes = 0;
  let firstSeed: number | undefined;
  let firstMessage: string | undefined;
  const kinds = new Map<string, number>();
  const note = (o: SeedOutcome): void => {
    if (o.kinds.length === 0) return;
    const kind = o.kinds[0]!;
    const expected = bug === undefined || o.kinds.some((k) => (bug.expect as readonly string[]).includes(k));
    if (o.crash === true || kind === 'hang') crashes++;
    else if (expected) {
      caught++;
      caughtSeeds.push(o.seed);
    } else otherwise++;
    if (kind === 'assertion') assertions++;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (firstSeed === undefined || o.seed < firstSeed) {
      firstSeed = o.seed;
      firstMessage = o.message;
    }
  };
  try {
    let rest = list;
    while (rest.length > 0) {
      const hung: number | undefined = await runList(copy.simulation, rest, hangMs, note);
      if (hung === undefined) break;
      note({ seed: rest[hung]!, kinds: ['hang'], message: `no result within ${hangMs} ms` });
      rest = rest.slice(hung + 1);
    }
  } finally {
    copy.remove();
  }
  caughtSeeds.sort((a, b) => a - b);
  return { bug, seeds, caught, caughtSeeds, otherwise, assertions, crashes, firstSeed, firstMessage, kinds };
}
