/** Text reports of simulation runs: one failing seed, and the totals of a batch. */
import type { SafetyRules } from '../core/rules.js';
import { FAULT_KINDS, zeroCounts, type FaultCounts } from './faults.js';
import type { SimResult } from './simulation.js';

/** The `--off a,b` flag that reproduces the rules of a run ('' when all rules are on). */
export function rulesFlag(rules: SafetyRules): string {
  const off = Object.entries(rules)
    .filter(([, on]) => !on)
    .map(([k]) => k);
  return off.length === 0 ? '' : ` --off ${off.join(',')}`;
}

export function replayCommand(seed: number, rules: SafetyRules): string {
  return `npm run sim -- --seed ${seed}${rulesFlag(rules)}`;
}

/** The `--open a,b` flag of a run whose configuration switched open shapes on ('' otherwise). */
function openFlag(config: string): string {
  const open = [...config.matchAll(/ open:(\w+)/g)].map((m) => m[1]);
  return open.length === 0 ? '' : ` --open ${open.join(',')}`;
}

export function failureReport(r: SimResult, rules: SafetyRules): string {
  const lines = [
    `seed ${r.seed} FAILED after ${r.steps} steps at ${r.simTimeMs}ms (trace ${r.traceHash})`,
    `  config: ${r.config}`,
    ...r.violations.map((v) => `  ${v.kind}: ${v.message}`),
    `  replay: ${replayCommand(r.seed, rules)}${openFlag(r.config)}`,
    `  last ${r.traceTail.length} trace events:`,
    ...r.traceTail.map((l) => `    ${l}`),
  ];
  return lines.join('\n');
}

export interface BatchTotals {
  seeds: number;
  failed: number[];
  steps: number;
  simTimeMs: number;
  acks: number;
  reads: number;
  /** Runs in which a configuration change was chosen. */
  changed: number;
  faults: FaultCounts;
  violations: Record<string, number>;
}

export function emptyTotals(): BatchTotals {
  return { seeds: 0, failed: [], steps: 0, simTimeMs: 0, acks: 0, reads: 0, changed: 0, faults: zeroCounts(), violations: {} };
}

export function addResult(t: BatchTotals, r: SimResult): void {
  t.seeds++;
  t.steps += r.steps;
  t.simTimeMs += r.simTimeMs;
  t.acks += r.acks;
  t.reads += r.reads;
  if (r.epoch > 0) t.changed++;
  for (const k of FAULT_KINDS) t.faults[k] += r.faults[k];
  if (r.violations.length > 0) t.failed.push(r.seed);
  for (const v of r.violations) t.violations[v.kind] = (t.violations[v.kind] ?? 0) + 1;
}

export function totalsReport(t: BatchTotals, elapsedMs: number): string {
  const faults = FAULT_KINDS.map((k) => `${k}=${t.faults[k]}`).join(' ');
  const violations = Object.entries(t.violations).map(([k, n]) => `${k}=${n}`).join(' ');
  return [
    `seeds run:   ${t.seeds}`,
    `steps:       ${t.steps} (simulated ${(t.simTimeMs / 3_600_000).toFixed(1)} h)`,
    `acked ops:   ${t.acks}, reads: ${t.reads}, runs with a change chosen: ${t.changed}`,
    `faults:      ${faults}`,
    `violations:  ${t.failed.length}${violations ? ` (${violations})` : ''}${t.failed.length ? `, failing seeds: ${t.failed.slice(0, 20).join(' ')}` : ''}`,
    `speed:       ${((t.seeds * 1000) / Math.max(1, elapsedMs)).toFixed(1)} seeds/s, ${((t.steps * 1000) / Math.max(1, elapsedMs) / 1000).toFixed(0)}k steps/s`,
  ].join('\n');
}
