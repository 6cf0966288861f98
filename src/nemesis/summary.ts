/**
 * The one-page summary of a nemesis run (summary.md) and its availability
 * timeline (timeline.svg): acknowledged appends and successful reads per
 * second, with the faults drawn as bars under it. Pure: text in, text out.
 */
import type { CheckResult } from './checker.js';
import type { Op } from './history.js';

export interface AppliedFault {
  readonly kind: string;
  readonly what: string;
  /** ms on the workload's clock. */
  readonly from: number;
  readonly to: number;
  /** Set when the fault was not applied (and why). */
  readonly skipped?: string;
}

export interface SummaryInput {
  readonly seed: number;
  readonly timeMs: number;
  readonly faultKinds: readonly string[];
  readonly bedMode: 'netns' | 'loopback';
  readonly fallbackReason?: string;
  readonly replay: string;
  readonly ops: readonly Op[];
  readonly faults: readonly AppliedFault[];
  readonly check: CheckResult;
  /** Findings outside the history checker (replog check, recovery). */
  readonly notes: readonly string[];
  readonly valid: boolean;
}

const COLORS: Record<string, string> = { partition: '#d62728', pause: '#9467bd', kill: '#ff7f0e', wipe: '#8c564b', corrupt: '#e377c2', 'power-loss': '#17becf', 'disk-full': '#7f7f7f', replace: '#2ca02c' };

export function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

export function summaryMarkdown(s: SummaryInput): string {
  const lines: string[] = [];
  lines.push(`# nemesis run: seed ${s.seed}, ${(s.timeMs / 1000).toFixed(0)} s: ${s.valid ? 'PASS' : 'FAIL'}`, '');
  if (s.bedMode === 'loopback') {
    lines.push(`**LOOPBACK BED: NO LINK FAULTS RAN.** Network namespaces were not used (${s.fallbackReason}); only process and disk faults were injected.`, '');
  } else lines.push('Bed: one network namespace per replica and one for the clients, veth pairs to a bridge; link faults are nftables drops.', '');
  lines.push(`Replay: \`${s.replay}\``, '');
  lines.push('## Operations by outcome', '', '| kind | ok | fail | unknown |', '|---|---|---|---|');
  const kinds = [...new Set(s.ops.map((o) => o.kind))].sort();
  for (const k of kinds) {
    const c = countBy(s.ops.filter((o) => o.kind === k), (o) => o.outcome);
    lines.push(`| ${k} | ${c.ok ?? 0} | ${c.fail ?? 0} | ${c.unknown ?? 0} |`);
  }
  lines.push('', '## Faults injected', '', '| kind | applied | skipped | seconds held |', '|---|---|---|---|');
  for (const k of s.faultKinds) {
    const fs = s.faults.filter((f) => f.kind === k);
    const held = fs.filter((f) => f.skipped === undefined).reduce((t, f) => t + (f.to - f.from), 0) / 1000;
    lines.push(`| ${k} | ${fs.filter((f) => f.skipped === undefined).length} | ${fs.filter((f) => f.skipped !== undefined).length} | ${held.toFixed(1)} |`);
  }
  lines.push('', '![availability](timeline.svg)', '');
  lines.push('## Checker', '');
  const st = s.check.stats;
  lines.push(
    `Acknowledged appends ${st.appendsOk} (${st.ackedCheckedInFinal} judged by the final log, ${st.ackedBelowFinalBegin} truncated since, ${st.ackedCheckedInReads} of those judged by reads), failed ${st.appendsFailed}, unknown ${st.appendsUnknown} (${st.unknownPresent} of them present). ` +
      `Reads and tails judged ${st.reads} (${st.entriesRead} entries); replica positions compared ${st.replicaPositionsCompared}.`,
    '',
  );
  if (s.check.violations.length === 0) lines.push('No violation: nothing lost, duplicated, invented, reordered or read stale.');
  else {
    lines.push(`Violations: ${Object.entries(s.check.violationCounts).map(([k, n]) => `${k} ${n}`).join(', ')} (the first of each kind below).`, '');
    for (const v of s.check.violations) lines.push(`- **${v.kind}**: ${v.message}`);
  }
  for (const n of s.notes) lines.push(`- ${n}`);
  lines.push('', '## Fault schedule', '', '| from s | to s | fault |', '|---|---|---|');
  for (const f of s.faults) lines.push(`| ${(f.from / 1000).toFixed(1)} | ${(f.to / 1000).toFixed(1)} | ${f.what}${f.skipped === undefined ? '' : ` (skipped: ${f.skipped})`} |`);
  return lines.join('\n') + '\n';
}

/** Acknowledged appends and successful reads per second, faults as bars underneath. */
export function timelineSvg(s: Pick<SummaryInput, 'ops' | 'faults' | 'timeMs' | 'faultKinds'>): string {
  const secs = Math.max(1, Math.ceil(s.timeMs / 1000) + 5);
  const appends = new Array<number>(secs).fill(0);
  const reads = new Array<number>(secs).fill(0);
  for (const o of s.ops) {
    if (o.outcome !== 'ok' || o.complete === null) continue;
    const b = Math.min(secs - 1, Math.floor(o.complete / 1000));
    if (o.kind === 'append') appends[b]!++;
    else if (o.kind === 'read') reads[b]!++;
  }
  const W = 800;
  const H = 160;
  const lanes = s.faultKinds.length;
  const laneH = 10;
  const top = 20;
  const x = (ms: number) => 40 + ((W - 50) * ms) / (secs * 1000);
  const maxA = Math.max(1, ...appends);
  const maxR = Math.max(1, ...reads);
  const path = (vals: number[], max: number) => vals.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i * 1000 + 500).toFixed(1)},${(top + H - (H * v) / max).toFixed(1)}`).join(' ');
  const out: string[] = [];
  const total = top + H + 20 + lanes * (laneH + 4) + 10;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${total}" font-family="sans-serif" font-size="10">`);
  out.push(`<rect x="0" y="0" width="${W}" height="${total}" fill="white"/>`);
  out.push(`<text x="40" y="12">acknowledged appends/s (blue, max ${maxA}) and reads/s (green, max ${maxR}); faults below</text>`);
  out.push(`<line x1="40" y1="${top + H}" x2="${W - 10}" y2="${top + H}" stroke="#888"/>`);
  for (let t = 0; t < secs; t += 10) out.push(`<text x="${x(t * 1000).toFixed(1)}" y="${top + H + 12}">${t}s</text>`);
  out.push(`<path d="${path(appends, maxA)}" fill="none" stroke="#1f77b4"/>`);
  out.push(`<path d="${path(reads, maxR)}" fill="none" stroke="#2ca02c" stroke-dasharray="3,2"/>`);
  s.faultKinds.forEach((k, i) => {
    const y = top + H + 20 + i * (laneH + 4);
    out.push(`<text x="0" y="${y + laneH - 1}">${k}</text>`);
    for (const f of s.faults) {
      if (f.kind !== k || f.skipped !== undefined) continue;
      out.push(`<rect x="${x(f.from).toFixed(1)}" y="${y}" width="${Math.max(1, x(f.to) - x(f.from)).toFixed(1)}" height="${laneH}" fill="${COLORS[k] ?? '#333'}"><title>${escapeXml(f.what)}</title></rect>`);
    }
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
