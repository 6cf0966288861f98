/**
 * The replica side: accepts TCP connections, does the handshake, decodes
 * messages and hands them to onMessage with a handle to reply on. Bad input
 * on a connection (malformed frame, unknown message, oversized length, wrong
 * cluster or version, plain HTTP, no hello in time) closes that connection
 * with a logged reason; every other connection goes on.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { assert } from '../core/assert.js';
import type { Message } from '../core/types.js';
import { decodeMessage } from './codec.js';
import { FramedConnection, type QueueBounds } from './connection.js';
import { WireError } from './errors.js';
import { WIRE_VERSION, decodeHello, encodeHelloFrame, type Hello } from './hello.js';
import { HTTP_400, looksLikeHttp } from './http-sniff.js';
import { wireLimits } from './limits.js';
import { silentLogger, type NetLogger } from './logger.js';

/** A handshaken connection, as onMessage sees it. */
export interface ServerConnection {
  /** A process-unique id, for logs and for keying per-connection state. */
  readonly id: number;
  /** The peer's address, `host:port`. */
  readonly remote: string;
  /** The peer's hello (role, and replica id for a replica). */
  readonly peer: Hello;
  readonly closed: boolean;
  /** True while we do not read from it: its replies are queued above the low-water mark and it is not reading them. */
  readonly readingPaused: boolean;
  /** Queues a reply; false if it was dropped (connection closed or its queue full: the peer retransmits). */
  send(msg: Message): boolean;
  /** Resolves once the send queue is under its low-water mark, or the connection closed. */
  whenWritable(): Promise<void>;
  close(reason: string): void;
}

export interface ListenOptions {
  readonly host: string;
  /** 0 picks an ephemeral port (see Listener.port). */
  readonly port: number;
  readonly clusterId: string;
  readonly replicaId: number;
  onMessage(msg: Message, conn: ServerConnection): void;
  /** Called when a handshaken connection closes. */
  onClose?(conn: ServerConnection, reason: string): void;
  readonly log?: NetLogger;
  readonly handshakeTimeoutMs?: number;
  readonly queue?: QueueBounds;
  /** Most open connections (handshaken or not); more are closed at once. Default wireLimits.connectionsMax. */
  readonly connectionsMax?: number;
}

export interface Listener {
  readonly host: string;
  /** The port actually bound. */
  readonly port: number;
  /** Open connections, handshaken or not. */
  readonly connectionCount: number;
  /** Stops accepting, closes every connection, resolves once the server is closed. */
  close(): Promise<void>;
}

export async function listen(opts: ListenOptions): Promise<Listener> {
  assert(Number.isSafeInteger(opts.replicaId) && opts.replicaId >= 1, 'replicaId >= 1');
  assert(opts.clusterId !== '', 'a replica knows its cluster id');
  const log = opts.log ?? silentLogger;
  const open = new Set<FramedConnection>();
  const helloFrame = encodeHelloFrame({ version: WIRE_VERSION, clusterId: opts.clusterId, role: 'replica', replicaId: opts.replicaId });
  const connectionsMax = opts.connectionsMax ?? wireLimits.connectionsMax;
  let refusedSinceLog = 0;
  const server: Server = createServer((socket) => {
    if (open.size >= connectionsMax) {
      // Descriptors are finite: a flood of idle connections must not starve the writer's and the peers'.
      socket.destroy();
      if (refusedSinceLog++ === 0) log.warn({ open: open.size, connectionsMax }, 'connection refused: too many open connections');
      return;
    }
    refusedSinceLog = 0;
    accept(socket, opts, log, helloFrame, open);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'listener error'));
  const addr = server.address();
  assert(addr !== null && typeof addr === 'object', 'a TCP server has an address');
  log.info({ host: opts.host, port: addr.port }, 'listening');
  return {
    host: opts.host,
    port: addr.port,
    get connectionCount() {
      return open.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of open) c.close('listener closing');
      }),
  };
}

function accept(socket: Socket, opts: ListenOptions, log: NetLogger, helloFrame: Buffer, open: Set<FramedConnection>): void {
  let peer: Hello | undefined;
  let handle: ServerConnection | undefined;
  const conn: FramedConnection = new FramedConnection(socket, {
    queue: opts.queue,
    pauseReadsWhileQueued: true,
    sniff(head) {
      if (!looksLikeHttp(head)) return false;
      log.warn({ conn: conn.id, remote: conn.remote }, 'closing connection: plain HTTP request on the replica port');
      conn.closeAfter('plain HTTP request', HTTP_400);
      return true;
    },
    onFrame(payload) {
      if (handle !== undefined) {
        opts.onMessage(decodeMessage(payload), handle);
        return;
      }
      peer = checkHello(decodeHello(payload), opts.clusterId);
      clearTimeout(timer);
      handle = makeHandle(conn, peer);
      conn.writeNow(helloFrame);
      log.info({ conn: conn.id, remote: conn.remote, role: peer.role, replicaId: peer.replicaId }, 'connection handshaken');
    },
    onClose(reason) {
      clearTimeout(timer);
      open.delete(conn);
      const level = reason.startsWith('internal error') ? 'error' : reason.startsWith('bad input') || reason.startsWith('handshake') ? 'warn' : 'info';
      log[level]({ conn: conn.id, remote: conn.remote, reason }, 'connection closed');
      if (handle !== undefined) opts.onClose?.(handle, reason);
    },
  });
  open.add(conn);
  const timer = setTimeout(
    () => conn.close(`handshake: no hello within ${opts.handshakeTimeoutMs ?? wireLimits.handshakeTimeoutMs} ms`),
    opts.handshakeTimeoutMs ?? wireLimits.handshakeTimeoutMs,
  );
}

function checkHello(h: Hello, clusterId: string): Hello {
  if (h.clusterId !== '' && h.clusterId !== clusterId) {
    throw new WireError('handshake', `peer is in cluster '${h.clusterId}', this replica in '${clusterId}'`);
  }
  return h;
}

function makeHandle(conn: FramedConnection, peer: Hello): ServerConnection {
  return {
    id: conn.id,
    remote: conn.remote,
    peer,
    get closed() {
      return conn.closed;
    },
    get readingPaused() {
      return conn.readingPaused;
    },
    send: (msg) => conn.send(msg),
    whenWritable: () => conn.whenWritable(),
    close: (reason) => conn.close(reason),
  };
}
