/**
 * The throughput/latency chart: one line per system and percentile, a point
 * per in-flight level (labelled), log scales, the physical floor as a rule.
 * Rendered to SVG in Node with vega-lite (compile) and vega (headless view).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface CurvePoint {
  readonly system: string;
  readonly inflight: number;
  readonly opsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
}

export async function curveSvg(points: readonly CurvePoint[], floorMs: number, title: string, subtitle = ''): Promise<string> {
  const values = points.flatMap((p) => [
    { series: `${p.system} p50`, system: p.system, stat: 'p50', inflight: p.inflight, x: p.opsPerSecond, y: Math.max(p.p50, 0.01) },
    { series: `${p.system} p99`, system: p.system, stat: 'p99', inflight: p.inflight, x: p.opsPerSecond, y: Math.max(p.p99, 0.01) },
  ]);
  const x = { field: 'x', type: 'quantitative', title: 'appends (puts) per second, durable on a quorum', scale: { type: 'log' } } as const;
  const y = { field: 'y', type: 'quantitative', title: 'latency (ms)', scale: { type: 'log' } } as const;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle, fontSize: 13, subtitleFontSize: 10, anchor: 'start' },
    width: 640,
    height: 380,
    background: 'white',
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: {
          x,
          y,
          color: { field: 'system', type: 'nominal', title: 'system' },
          strokeDash: { field: 'stat', type: 'nominal', title: 'latency', scale: { domain: ['p50', 'p99'], range: [[1, 0], [5, 3]] } },
          order: { field: 'inflight', type: 'quantitative' },
          detail: { field: 'series', type: 'nominal' },
        },
      },
      {
        data: { values: values.filter((v) => v.stat === 'p50') },
        mark: { type: 'text', dy: -9, fontSize: 9 },
        encoding: { x, y, text: { field: 'inflight', type: 'quantitative' }, color: { field: 'system', type: 'nominal' } },
      },
      {
        data: { values: [{ y: floorMs, label: `floor: fdatasync p50 + loopback RTT p50 = ${floorMs.toFixed(2)} ms` }] },
        layer: [
          { mark: { type: 'rule', color: 'gray', strokeDash: [2, 2] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
          {
            mark: { type: 'text', align: 'left', dx: 4, dy: 8, fontSize: 9, color: 'gray', x: 0 },
            encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'label', type: 'nominal' } },
          },
        ],
      },
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** The chart of a results JSON written by bench/replog.ts (for redrawing one). */
export async function chartOfResults(json: {
  when: string;
  machine: { cpus: number };
  floorP50Ms: number;
  etcd: { version: string } | null;
  runs: { system: string; entryBytes: number; inflight: number; opsPerSecond: number; latencyMs: { p50: number; p99: number } }[];
}): Promise<string> {
  const points: CurvePoint[] = json.runs
    .filter((r) => r.entryBytes === 256)
    .map((r) => ({ system: r.system === 'etcd' ? `etcd ${json.etcd?.version ?? ''}`.trim() : 'replog', inflight: r.inflight, opsPerSecond: r.opsPerSecond, p50: r.latencyMs.p50, p99: r.latencyMs.p99 }));
  return curveSvg(
    points,
    json.floorP50Ms,
    'Throughput vs latency, 256 B entries (point labels: in flight)',
    `3 members on loopback, ${json.machine.cpus} vCPUs, one disk; ${json.when.slice(0, 10)}`,
  );
}

// `node dist/bench/lib/chart.js RESULTS.json`: redraws RESULTS.svg.
if (process.argv[1]?.endsWith('/chart.js') && process.argv[2] !== undefined) {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const file = process.argv[2];
  writeFileSync(file.replace(/\.json$/, '.svg'), await chartOfResults(JSON.parse(readFileSync(file, 'utf8'))));
}
