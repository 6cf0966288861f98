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

export async function curveSvg(points: readonly CurvePoint[], floorMs: number, title: string): Promise<string> {
  const values = points.flatMap((p) => [
    { series: `${p.system} p50`, system: p.system, stat: 'p50', inflight: p.inflight, x: p.opsPerSecond, y: Math.max(p.p50, 0.01) },
    { series: `${p.system} p99`, system: p.system, stat: 'p99', inflight: p.inflight, x: p.opsPerSecond, y: Math.max(p.p99, 0.01) },
  ]);
  const x = { field: 'x', type: 'quantitative', title: 'appends (puts) per second, durable on a quorum', scale: { type: 'log' } } as const;
  const y = { field: 'y', type: 'quantitative', title: 'latency (ms)', scale: { type: 'log' } } as const;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, fontSize: 13 },
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
