/**
 * The replica's admin HTTP endpoint (interfaces.md, "Replica admin HTTP"):
 * - GET /         the console: the whole cluster, live (console/page.ts);
 * - GET /events   the console's feed: a cluster snapshot a second (server-sent events);
 * - GET /cluster  the same snapshot once, as JSON (scripts, tests);
 * - GET /status   this replica's status (JSON);
 * - GET /metrics  Prometheus text (metrics.ts, docs/operations.md).
 * The console gathers the other members' status through the replica port
 * (console/cluster-watch.ts), so one open admin port shows the whole cluster.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseAddress } from '../net/address.js';
import { ClusterWatch } from './console/cluster-watch.js';
import { consolePage } from './console/page.js';
import type { Members } from './members.js';
import type { ReplicaMetrics } from './metrics.js';
import type { ReplicaHost } from './replica-host.js';
import type { DivergenceCheck } from './divergence-check.js';

export interface AdminContext {
  readonly id: number;
  readonly members: Members;
  readonly host: ReplicaHost;
  readonly metrics: ReplicaMetrics;
  readonly clusterId: string;
  /** The background divergence check, if any (/status `divergence`, the console's integrity section). */
  readonly divergence?: Pick<DivergenceCheck, 'status'>;
}

export interface AdminServer {
  readonly address: string;
  close(): Promise<void>;
}

/** The JSON of GET /status (interfaces.md). */
export function statusDocument(ctx: AdminContext): object {
  const s = ctx.host.store;
  return {
    id: ctx.id,
    status: ctx.host.status,
    begin: s.begin(),
    end: s.end(),
    learnedThrough: s.learnedThrough(),
    members: ctx.members,
    // Every member is a voter until reconfiguration lands (docs/reconfiguration.md).
    role: 'voter',
    config: { epoch: 0, voters: Object.keys(ctx.members).map(Number).sort((a, b) => a - b), learners: [] },
    clusterId: ctx.clusterId,
    recovery: ctx.host.recoveryProgress(),
    generation: s.metadata().generation ?? 0,
    writer: ctx.host.writerView(),
    waiting: ctx.host.waiting || null,
    storage: {
      lostPositions: s.lostPositions().length,
      error: ctx.host.storageError?.message ?? null,
    },
    divergence: ctx.divergence?.status() ?? null,
  };
}

/** The console's refresh period: REPLOG_CONSOLE_PERIOD_MS (100 to 10000), default 1000 ms. */
function consolePeriodMs(): number {
  const v = Number(process.env.REPLOG_CONSOLE_PERIOD_MS ?? 1000);
  return Number.isFinite(v) ? Math.min(10_000, Math.max(100, v)) : 1000;
}

export async function startAdmin(address: string, ctx: AdminContext): Promise<AdminServer> {
  const at = parseAddress(address, { portZero: true });
  const watch = new ClusterWatch({ id: ctx.id, members: ctx.members, clusterId: ctx.clusterId, host: ctx.host, sink: ctx.metrics, periodMs: consolePeriodMs(), divergence: ctx.divergence === undefined ? undefined : () => ctx.divergence!.status() });
  ctx.metrics.attachCluster(() => watch.rows());
  watch.enableProbes();
  watch.start();
  const server = createServer((req, res) => {
    handle(req, res, ctx, watch).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${err.message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: Error) => {
    await watch.close();
    throw err;
  });
  const port = (server.address() as { port: number }).port;
  return {
    address: `${at.host}:${port}`,
    close: async () => {
      await watch.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: AdminContext, watch: ClusterWatch): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET') {
    res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET' });
    res.end('only GET\n');
    return;
  }
  switch (path) {
    case '/status':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(statusDocument(ctx)) + '\n');
      return;
    case '/metrics':
      res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
      res.end(await ctx.metrics.registry.metrics());
      return;
    case '/':
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(consolePage(ctx.id));
      return;
    case '/cluster':
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(watch.snapshot()) + '\n');
      return;
    case '/events':
      serveEvents(req, res, watch);
      return;
    case '/favicon.ico':
      res.writeHead(204);
      res.end();
      return;
    default:
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: try /, /cluster, /events, /status or /metrics\n');
  }
}

/** Server-sent events: the current snapshot at once, then one a period until the page goes away. */
function serveEvents(req: IncomingMessage, res: ServerResponse, watch: ClusterWatch): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  const send = (s: object) => res.write(`data: ${JSON.stringify(s)}\n\n`);
  // A page that lost this replica reconnects after 1 s (EventSource does it by itself).
  res.write('retry: 1000\n\n');
  send(watch.snapshot());
  const unsubscribe = watch.subscribe(send);
  req.on('close', unsubscribe);
}
