/**
 * The replica's admin HTTP endpoint (interfaces.md, "Replica admin HTTP"):
 * - GET /         the console: the whole cluster, live (console/page.ts);
 * - GET /events   the console's feed: a cluster snapshot a second (server-sent events);
 * - GET /cluster  the same snapshot once, as JSON (scripts, tests);
 * - GET /status   this replica's status (JSON);
 * - GET /metrics  Prometheus text (metrics.ts, docs/operations.md).
 * The console gathers the other members' status through the replica port
 * (console/cluster-watch.ts), so one open admin port shows the whole cluster.
 *
 * With TLS it serves HTTPS with the replica's certificate and asks for a
 * client certificate: every page needs one signed by the cluster's CA (any
 * such certificate, so that Prometheus can scrape with its own). State-changing
 * actions, when they come, need the admin role (requireAdmin).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { certIdentity, type TlsCredentials } from '../net/tls.js';
import { parseAddress } from '../net/address.js';
import { ClusterWatch, type ConsoleMembers } from './console/cluster-watch.js';
import { consolePage } from './console/page.js';
import { memberList, type Members } from './members.js';
import { storedChain, summarise, type ConfigurationSummary } from '../storage/stored-config.js';
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
  /** HTTPS with client certificates (see the file comment); plain HTTP without. */
  readonly tls?: TlsCredentials;
}

export interface AdminServer {
  readonly address: string;
  close(): Promise<void>;
}

/** The JSON of GET /status (interfaces.md). */
export function statusDocument(ctx: AdminContext): object {
  const s = ctx.host.store;
  const config = heldConfiguration(ctx);
  return {
    id: ctx.id,
    status: ctx.host.status,
    begin: s.begin(),
    end: s.end(),
    learnedThrough: s.learnedThrough(),
    // The members of the configuration held now (the flags' only before any change).
    members: Object.fromEntries(config.members.map((m) => [m.id, m.address])),
    role: config.role,
    config: { epoch: config.epoch, voters: config.voters.map((m) => m.id), learners: config.learners.map((m) => m.id) },
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

/** The configuration this replica's disk holds (docs/reconfiguration.md): before any change, its members, all voters, at epoch 0. */
function heldConfiguration(ctx: AdminContext): ConfigurationSummary {
  return summarise(storedChain(ctx.host.store.metadata(), memberList(ctx.members)), ctx.id);
}

/** The same, as the console's member table reads it at each refresh. */
function consoleMembers(ctx: AdminContext): ConsoleMembers {
  const c = heldConfiguration(ctx);
  return { epoch: c.epoch, members: Object.fromEntries(c.members.map((m) => [m.id, m.address])), learners: new Set(c.learners.map((m) => m.id)) };
}

/** The console's refresh period: REPLOG_CONSOLE_PERIOD_MS (100 to 10000), default 1000 ms. */
function consolePeriodMs(): number {
  const v = Number(process.env.REPLOG_CONSOLE_PERIOD_MS ?? 1000);
  return Number.isFinite(v) ? Math.min(10_000, Math.max(100, v)) : 1000;
}

export async function startAdmin(address: string, ctx: AdminContext): Promise<AdminServer> {
  const at = parseAddress(address, { portZero: true });
  const watch = new ClusterWatch({ id: ctx.id, members: () => consoleMembers(ctx), clusterId: ctx.clusterId, host: ctx.host, sink: ctx.metrics, periodMs: consolePeriodMs(), divergence: ctx.divergence === undefined ? undefined : () => ctx.divergence!.status(), tls: ctx.tls });
  ctx.metrics.attachCluster(() => watch.rows(), () => heldConfiguration(ctx));
  watch.enableProbes();
  watch.start();
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    if (ctx.tls !== undefined && !clientCertified(req, res)) return;
    handle(req, res, ctx, watch).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${err.message}\n`);
    });
  };
  const tls = ctx.tls;
  const server = tls === undefined ? createServer(serve) : createHttpsServer(tls.serverOptions(), serve);
  if (tls !== undefined && 'setSecureContext' in server) tls.onReload(() => server.setSecureContext(tls.serverOptions()));
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

/** With TLS: answers 403 (and false) unless the request came with a certificate of the cluster's CA. */
function clientCertified(req: IncomingMessage, res: ServerResponse): boolean {
  const socket = req.socket as TLSSocket;
  if (socket.authorized) return true;
  const why = socket.getPeerX509Certificate() === undefined ? 'no client certificate was presented' : `the client certificate does not verify (${String(socket.authorizationError)})`;
  res.writeHead(403, { 'content-type': 'text/plain' });
  res.end(`forbidden: ${why}; this endpoint needs a certificate signed by the cluster's CA\n`);
  return false;
}

/**
 * For state-changing admin actions (none yet: membership changes will be the first): true if the request
 * may go on, else answers 403. Without TLS anyone who reaches the port may.
 */
export function requireAdmin(req: IncomingMessage, res: ServerResponse, ctx: AdminContext): boolean {
  if (ctx.tls === undefined) return true;
  const cert = (req.socket as TLSSocket).getPeerX509Certificate();
  const id = cert === undefined ? undefined : certIdentity(cert);
  if (typeof id === 'object' && id.kind === 'client' && id.role === 'admin') return true;
  res.writeHead(403, { 'content-type': 'text/plain' });
  res.end('forbidden: this action needs an admin certificate (replog://admin/NAME)\n');
  return false;
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
