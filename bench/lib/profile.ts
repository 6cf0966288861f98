/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof` or the inspector):
 * the functions with the most self time, with their file and line.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  readonly fn: string;
  readonly where: string;
  readonly ms: number;
  readonly percent: number;
}

export function topSelfTime(profile: CpuProfile, top = 20): { totalMs: number; idleMs: number; rows: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + dt);
  }
  const agg = new Map<string, { fn: string; where: string; ms: number }>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const fn = n.callFrame.functionName || '(anonymous)';
    totalMs += ms;
    if (fn === '(idle)') idleMs += ms;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
    const where = url === '' ? '' : `${url}:${n.callFrame.lineNumber + 1}`;
    const key = `${fn}@${where}`;
    const a = agg.get(key) ?? { fn, where, ms: 0 };
    a.ms += ms;
    agg.set(key, a);
  }
  const busy = totalMs - idleMs;
  const rows = [...agg.values()]
    .filter((a) => a.fn !== '(idle)')
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
    .map((a) => ({ ...a, percent: busy > 0 ? (100 * a.ms) / busy : 0 }));
  return { totalMs, idleMs, rows };
}

export function summariseProfileFile(path: string, top = 20): string {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const { totalMs, idleMs, rows } = topSelfTime(p, top);
  const lines = [`${path}: ${(totalMs / 1000).toFixed(1)} s sampled, ${(100 * (1 - idleMs / Math.max(totalMs, 1))).toFixed(0)}% busy; top self time (% of busy):`];
  for (const r of rows) lines.push(`  ${r.percent.toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(6)} ms  ${r.fn}  ${r.where}`);
  return lines.join('\n');
}

// `node dist/bench/lib/profile.js FILE.cpuprofile [TOP]`
if (process.argv[1]?.endsWith('/profile.js') && process.argv[2] !== undefined) {
  console.log(summariseProfileFile(process.argv[2], Number(process.argv[3] ?? 25)));
}
