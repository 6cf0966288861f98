/**
 * The replica's admin HTTP endpoint: GET /status (JSON), GET /metrics
 * (Prometheus text), GET / (a small page; the full web page is a later issue).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseAddress } from '../net/address.js';
import type { Members } from './members.js';
import type { ReplicaMetrics } from './metrics.js';
import type { ReplicaHost } from './replica-host.js';

export interface AdminContext {
  readonly id: number;
  readonly members: Members;
  readonly host: ReplicaHost;
  readonly metrics: ReplicaMetrics;
  readonly clusterId: string;
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
    clusterId: ctx.clusterId,
    recovery: ctx.host.recoveryProgress(),
    generation: s.metadata().generation ?? 0,
    writer: ctx.host.writerView(),
    waiting: ctx.host.waiting || null,
    storage: {
      lostPositions: s.lostPositions().length,
      error: ctx.host.storageError?.message ?? null,
    },
  };
}

export async function startAdmin(address: string, ctx: AdminContext): Promise<AdminServer> {
  const at = parseAddress(address);
  const server = createServer((req, res) => {
    handle(req, res, ctx).catch((err: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${err.message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  return {
    address: `${at.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: AdminContext): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET') {
    res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET' });
    res.end('only GET\n');
    return;
  }
  if (path === '/status') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(statusDocument(ctx)) + '\n');
  } else if (path === '/metrics') {
    res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
    res.end(await ctx.metrics.registry.metrics());
  } else if (path === '/') {
    const doc = statusDocument(ctx) as { status: string; begin: number; end: number };
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><title>replog replica ${ctx.id}</title><h1>replog replica ${ctx.id}</h1>` +
        `<p>status <b>${doc.status}</b>, positions [${doc.begin}, ${doc.end}]</p>` +
        `<p><a href="/status">/status</a> · <a href="/metrics">/metrics</a></p>`,
    );
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: try /status or /metrics\n');
  }
}
