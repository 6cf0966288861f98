/**
 * The replica side: accepts TCP connections, does the handshake, decodes
 * messages and hands them to onMessage with a handle to reply on. Bad input
 * on a connection (malformed frame, unknown message, oversized length, wrong
 * cluster or version, plain HTTP, no hello in time) closes that connection
 * with a logged reason; every other connection goes on.
 *
 * Resources: at most connectionsMax connections (lowered to the process's
 * descriptor limit less a reserve); at the bound a new connection replaces
 * the client connection silent the longest, if it has been silent a while,
 * else it is refused. A client connection silent for clientIdleTimeoutMs is
 * closed. Client replies are counted in one ReplyBudget for the listener.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { assert } from '../core/assert.js';
import type { Message } from '../core/types.js';
import { decodeMessage } from './codec.js';
import { FramedConnection, type QueueBounds } from './connection.js';
import { WireError } from './errors.js';
import { openFilesLimit } from './fd-limit.js';
import { WIRE_VERSION, decodeHello, encodeHelloFrame, type Hello } from './hello.js';
import { HTTP_400, looksLikeHttp } from './http-sniff.js';
import { wireLimits } from './limits.js';
import { silentLogger, type NetLogger } from './logger.js';
import { ReplyBudget, defaultReplyBudget, type ReplyBudgetBounds } from './reply-budget.js';

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
  /** Queues an encoded frame (a message beyond the core's, see ListenOptions.extension); false if dropped. */
  sendFrame(frame: Buffer): boolean;
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
  /**
   * Messages beyond the core protocol's (the divergence check's, src/net/digest-codec.ts): a frame whose
   * type byte is in `codes` goes to `onFrame` undecoded (it decodes it, and throws WireError on bad input).
   * Without it such a frame is an unknown message type.
   */
  readonly extension?: FrameExtension<ServerConnection>;
  /** Called when a handshaken connection closes. */
  onClose?(conn: ServerConnection, reason: string): void;
  readonly log?: NetLogger;
  readonly handshakeTimeoutMs?: number;
  readonly queue?: QueueBounds;
  /**
   * Most open connections (handshaken or not); more are closed at once, or replace an idle client.
   * Default wireLimits.connectionsMax, lowered to the descriptor limit less wireLimits.descriptorsReserved.
   */
  readonly connectionsMax?: number;
  /** A client connection silent this long is closed. Default wireLimits.clientIdleTimeoutMs. */
  readonly clientIdleTimeoutMs?: number;
  /** At the connection bound, a client connection silent this long may be replaced. Default wireLimits.evictIdleAfterMs. */
  readonly evictIdleAfterMs?: number;
  /** The bounds of the reply budget over every client connection (ReplyBudget). */
  readonly replyBudget?: Partial<ReplyBudgetBounds>;
}

/** Frames of message types the core codec does not know, handed over undecoded (ListenOptions.extension). */
export interface FrameExtension<C> {
  readonly codes: ReadonlySet<number>;
  onFrame(payload: Buffer, conn: C): void;
}

/** What the listener keeps of each open connection. */
interface Tracked {
  readonly conn: FramedConnection;
  /** Its hello said client (set once handshaken). */
  client: boolean;
  /** When it last sent a frame (performance.now()). */
  lastFrameAt: number;
}

export interface Listener {
  readonly host: string;
  /** The port actually bound. */
  readonly port: number;
  /** Open connections, handshaken or not. */
  readonly connectionCount: number;
  /** The connection bound in force (after the descriptor limit). */
  readonly connectionsMax: number;
  /** Reply bytes queued over every client connection (the reply budget's count). */
  readonly replyQueuedBytes: number;
  /** Stops accepting, closes every connection, resolves once the server is closed. */
  close(): Promise<void>;
}

export async function listen(opts: ListenOptions): Promise<Listener> {
  assert(Number.isSafeInteger(opts.replicaId) && opts.replicaId >= 1, 'replicaId >= 1');
  assert(opts.clusterId !== '', 'a replica knows its cluster id');
  const log = opts.log ?? silentLogger;
  const open = new Map<FramedConnection, Tracked>();
  const helloFrame = encodeHelloFrame({ version: WIRE_VERSION, clusterId: opts.clusterId, role: 'replica', replicaId: opts.replicaId });
  const connectionsMax = connectionBound(opts.connectionsMax);
  const budget = new ReplyBudget({ ...defaultReplyBudget, ...opts.replyBudget });
  let refusedSinceLog = 0;
  const server: Server = createServer((socket) => {
    // Descriptors are finite: a flood of idle connections must not starve the writer's and the peers'.
    if (open.size >= connectionsMax && !evictIdlest(open, opts.evictIdleAfterMs ?? wireLimits.evictIdleAfterMs)) {
      socket.destroy();
      if (refusedSinceLog++ === 0) log.warn({ open: open.size, connectionsMax }, 'connection refused: too many open connections');
      return;
    }
    refusedSinceLog = 0;
    accept(socket, opts, log, helloFrame, open, budget);
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
    connectionsMax,
    get replyQueuedBytes() {
      return budget.queuedBytes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of open.keys()) c.close('listener closing');
      }),
  };
}

/** The configured bound, lowered so that the descriptors a replica needs for everything else stay free. */
function connectionBound(configured: number | undefined): number {
  const bound = configured ?? wireLimits.connectionsMax;
  const fds = openFilesLimit();
  if (fds === undefined) return bound;
  return Math.max(1, Math.min(bound, fds - wireLimits.descriptorsReserved));
}

/** Closes the client connection silent the longest, if silent at least `afterMs`; false if there is none. */
function evictIdlest(open: Map<FramedConnection, Tracked>, afterMs: number): boolean {
  let idlest: Tracked | undefined;
  for (const t of open.values()) {
    if (t.client && !t.conn.closed && (idlest === undefined || t.lastFrameAt < idlest.lastFrameAt)) idlest = t;
  }
  if (idlest === undefined || performance.now() - idlest.lastFrameAt < afterMs) return false;
  idlest.conn.close('evicted: the connection bound is reached and this client was silent the longest');
  // Its descriptor is released as the socket closes (now: close() destroys it); the new connection is taken at once.
  open.delete(idlest.conn);
  return true;
}

function accept(
  socket: Socket,
  opts: ListenOptions,
  log: NetLogger,
  helloFrame: Buffer,
  open: Map<FramedConnection, Tracked>,
  budget: ReplyBudget,
): void {
  let peer: Hello | undefined;
  let handle: ServerConnection | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  const idleMs = opts.clientIdleTimeoutMs ?? wireLimits.clientIdleTimeoutMs;
  /** Closes the connection once it has been silent idleMs; re-armed for the rest otherwise. */
  const checkIdle = (): void => {
    const silentMs = performance.now() - tracked.lastFrameAt;
    if (silentMs >= idleMs) conn.close(`idle: nothing received for ${Math.round(silentMs)} ms`);
    else idleTimer = setTimeout(checkIdle, idleMs - silentMs).unref();
  };
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
      tracked.lastFrameAt = performance.now();
      if (handle !== undefined) {
        if (opts.extension !== undefined && payload.length > 0 && opts.extension.codes.has(payload[0]!)) opts.extension.onFrame(payload, handle);
        else opts.onMessage(decodeMessage(payload), handle);
        return;
      }
      peer = checkHello(decodeHello(payload), opts.clusterId);
      clearTimeout(timer);
      handle = makeHandle(conn, peer);
      if (peer.role === 'client') {
        // Peer links are never closed for silence nor paused by the budget: only clients can be many.
        tracked.client = true;
        conn.useBudget(budget);
        idleTimer = setTimeout(checkIdle, idleMs).unref();
      }
      conn.writeNow(helloFrame);
      log.info({ conn: conn.id, remote: conn.remote, role: peer.role, replicaId: peer.replicaId }, 'connection handshaken');
    },
    onClose(reason) {
      clearTimeout(timer);
      clearTimeout(idleTimer);
      open.delete(conn);
      const level = reason.startsWith('internal error') ? 'error' : reason.startsWith('bad input') || reason.startsWith('handshake') ? 'warn' : 'info';
      log[level]({ conn: conn.id, remote: conn.remote, reason }, 'connection closed');
      if (handle !== undefined) opts.onClose?.(handle, reason);
    },
  });
  const tracked: Tracked = { conn, client: false, lastFrameAt: performance.now() };
  open.set(conn, tracked);
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
    sendFrame: (frame) => conn.sendFrame(frame),
    whenWritable: () => conn.whenWritable(),
    close: (reason) => conn.close(reason),
  };
}
