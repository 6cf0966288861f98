/**
 * The replica side: accepts TCP connections, does the handshake, decodes
 * messages and hands them to onMessage with a handle to reply on. Bad input
 * on a connection (malformed frame, unknown message, oversized length, wrong
 * cluster or version, plain HTTP, no hello in time) closes that connection
 * with a logged reason; every other connection goes on.
 *
 * Resources: at most connectionsMax connections (lowered to the process's
 * descriptor limit less a reserve), and at most connectionsPerAddressMax
 * from one remote address; at either bound a new connection replaces the
 * client connection silent the longest (of that address, for the second), if
 * it has been silent a while, else it is refused. A client connection silent
 * for clientIdleTimeoutMs is closed; any connection that stops mid-frame for
 * frameTimeoutMs is closed. Client replies are counted in one ReplyBudget for
 * the listener.
 *
 * With TLS (ListenOptions.tls) every connection must be mutual TLS: a
 * plaintext one is answered with a refusal frame, a certificate that does not
 * verify (another CA, expired, no replog name) is refused after the TLS
 * handshake with a refusal frame saying why, and a replica hello must be
 * backed by a certificate naming that same member (docs/security.md).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { assert } from '../core/assert.js';
import type { Message } from '../core/types.js';
import { decodeMessage } from './codec.js';
import { FramedConnection, type QueueBounds } from './connection.js';
import { WireError } from './errors.js';
import { openFilesLimit } from './fd-limit.js';
import { WIRE_VERSION, decodeHello, decodeRefusal, encodeHelloFrame, encodeRefusalFrame, type Hello } from './hello.js';
import { HTTP_400, HTTP_400_TLS, looksLikeHttp } from './http-sniff.js';
import { wireLimits } from './limits.js';
import { silentLogger, type NetLogger } from './logger.js';
import { ReplyBudget, defaultReplyBudget, type ReplyBudgetBounds } from './reply-budget.js';
import { TLS_SNIFF_BYTES, describeIdentity, judgeClient, looksLikeTls, type CertIdentity, type TlsCredentials, type TlsRefusalReason } from './tls.js';

/** A handshaken connection, as onMessage sees it. */
export interface ServerConnection {
  /** A process-unique id, for logs and for keying per-connection state. */
  readonly id: number;
  /** The peer's address, `host:port`. */
  readonly remote: string;
  /** The peer's hello (role, and replica id for a replica). */
  readonly peer: Hello;
  /** Who the peer's TLS certificate names; undefined without TLS. A replica hello is always backed by its member's certificate. */
  readonly identity: CertIdentity | undefined;
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
  /**
   * Most open connections from one remote address (handshaken or not); more replace that address's idlest
   * client, or are closed at once. Default wireLimits.connectionsPerAddressMax.
   */
  readonly connectionsPerAddressMax?: number;
  /** A connection with part of a frame buffered and no byte for this long is closed. Default wireLimits.frameTimeoutMs. */
  readonly frameTimeoutMs?: number;
  /** Mutual TLS on every connection (see the file comment); plaintext without. */
  readonly tls?: TlsCredentials;
  /** Called for each connection refused for its transport, its certificate or a connection bound (metrics). */
  onRefused?(reason: ConnectionRefusalReason): void;
}

/** Why the listener refused a connection: its transport or certificate, or a connection bound. */
export type ConnectionRefusalReason =
  | TlsRefusalReason
  | 'too-many-connections' // connectionsMax reached, and no idle client to replace
  | 'too-many-from-address'; // connectionsPerAddressMax reached for its address, and no idle client of it to replace

/** Frames of message types the core codec does not know, handed over undecoded (ListenOptions.extension). */
export interface FrameExtension<C> {
  readonly codes: ReadonlySet<number>;
  onFrame(payload: Buffer, conn: C): void;
}

/** What the listener keeps of each open connection. */
interface Tracked {
  readonly conn: FramedConnection;
  /** The peer's IP address (connectionsPerAddressMax). */
  readonly address: string;
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
  const perAddressMax = opts.connectionsPerAddressMax ?? wireLimits.connectionsPerAddressMax;
  assert(Number.isSafeInteger(perAddressMax) && perAddressMax >= 1, 'connectionsPerAddressMax >= 1');
  const evictAfterMs = opts.evictIdleAfterMs ?? wireLimits.evictIdleAfterMs;
  const budget = new ReplyBudget({ ...defaultReplyBudget, ...opts.replyBudget });
  let refusedSinceLog = 0;
  /** Per address, connections refused since one was last accepted (one log line per burst). */
  const refusedFrom = new Map<string, number>();
  /** TLS connections not yet handed to accept(), by remote address and port (counted against the bound). */
  const securing = new Map<string, Securing>();
  const tlsServer = opts.tls === undefined ? undefined : startTls(opts, opts.tls, log, securing, (s, identity, deadline) => accept(s, opts, log, helloFrame, open, budget, deadline, identity));
  const server: Server = createServer((socket) => {
    const address = socket.remoteAddress ?? '?';
    // One host must not take every connection: a flood from one address leaves room for the others.
    const fromAddress = countFrom(address, open, securing);
    if (fromAddress >= perAddressMax && !evictIdlest(open, evictAfterMs, address)) {
      socket.destroy();
      opts.onRefused?.('too-many-from-address');
      const refused = refusedFrom.get(address) ?? 0;
      if (refused === 0) {
        log.warn({ remote: address, open: fromAddress, connectionsPerAddressMax: perAddressMax }, 'connection refused: too many open connections from this address');
        // Bounded: a flood from many addresses costs at most one more log line each.
        if (refusedFrom.size >= 1024) refusedFrom.clear();
      }
      refusedFrom.set(address, refused + 1);
      return;
    }
    refusedFrom.delete(address);
    // Descriptors are finite: a flood of idle connections must not starve the writer's and the peers'.
    if (open.size + securing.size >= connectionsMax && !evictIdlest(open, evictAfterMs)) {
      socket.destroy();
      opts.onRefused?.('too-many-connections');
      if (refusedSinceLog++ === 0) log.warn({ open: open.size + securing.size, connectionsMax }, 'connection refused: too many open connections');
      return;
    }
    refusedSinceLog = 0;
    const deadline = performance.now() + (opts.handshakeTimeoutMs ?? wireLimits.handshakeTimeoutMs);
    if (tlsServer === undefined) accept(socket, opts, log, helloFrame, open, budget, deadline, undefined);
    else sniffTls(socket, opts, log, securing, tlsServer, deadline);
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
  log.info({ host: opts.host, port: addr.port, tls: opts.tls !== undefined }, 'listening');
  return {
    host: opts.host,
    port: addr.port,
    get connectionCount() {
      return open.size + securing.size;
    },
    connectionsMax,
    get replyQueuedBytes() {
      return budget.queuedBytes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of open.keys()) c.close('listener closing');
        for (const s of securing.values()) s.raw.destroy();
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

/** Open connections from `address`, handshaken or not (a scan: at most connectionsMax, once per accepted connection). */
function countFrom(address: string, open: Map<FramedConnection, Tracked>, securing: Map<string, Securing>): number {
  let n = 0;
  for (const t of open.values()) if (t.address === address) n++;
  for (const s of securing.values()) if (s.address === address) n++;
  return n;
}

/**
 * Closes the client connection silent the longest (from `address`, if given), if silent at least
 * `afterMs`; false if there is none.
 */
function evictIdlest(open: Map<FramedConnection, Tracked>, afterMs: number, address?: string): boolean {
  let idlest: Tracked | undefined;
  for (const t of open.values()) {
    if (address !== undefined && t.address !== address) continue;
    if (t.client && !t.conn.closed && (idlest === undefined || t.lastFrameAt < idlest.lastFrameAt)) idlest = t;
  }
  if (idlest === undefined || performance.now() - idlest.lastFrameAt < afterMs) return false;
  const bound = address === undefined ? 'the connection bound' : `the bound of connections from ${address}`;
  idlest.conn.close(`evicted: ${bound} is reached and this client was silent the longest`);
  // Its descriptor is released as the socket closes (now: close() destroys it); the new connection is taken at once.
  open.delete(idlest.conn);
  return true;
}

type Accept = (socket: TLSSocket, identity: CertIdentity, deadline: number) => void;

/** A TLS connection before its handshake is done. */
interface Securing {
  readonly raw: Socket;
  /** The peer's IP address (connectionsPerAddressMax). */
  readonly address: string;
  /** When the TLS handshake and the hello must be done by (performance.now()). */
  readonly deadline: number;
  readonly timer: NodeJS.Timeout;
}

/** The TLS server connections are handed to once sniffed (never listening itself); reloads swap its context. */
function startTls(opts: ListenOptions, creds: TlsCredentials, log: NetLogger, securing: Map<string, Securing>, next: Accept) {
  const server = createTlsServer(creds.serverOptions());
  creds.onReload(() => {
    server.setSecureContext(creds.serverOptions());
    log.info({ notAfter: new Date(creds.notAfter).toISOString() }, 'TLS certificate reloaded: new connections use it');
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    const pending = securing.get(key);
    securing.delete(key);
    if (pending !== undefined) clearTimeout(pending.timer);
    const deadline = pending?.deadline ?? performance.now() + wireLimits.handshakeTimeoutMs;
    const verdict = judgeClient(socket);
    if (!verdict.ok) {
      opts.onRefused?.(verdict.reason);
      log.warn({ remote: key, reason: verdict.reason }, `connection refused: ${verdict.message}`);
      refuse(socket, `refused by the replica: ${verdict.message}`);
      return;
    }
    next(socket, verdict.identity, deadline);
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    // A peer that hangs up mid-handshake was not refused: it left (a probe, a client that gave up).
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return log.info({ remote, code: err.code }, 'connection closed during the TLS handshake');
    opts.onRefused?.('handshake-failed');
    log.warn({ remote, code: err.code }, `connection refused: TLS handshake failed: ${err.message}`);
  });
  return server;
}

/** Sends a refusal frame, then closes (at once if the peer does not close its side within a second). */
function refuse(socket: Socket, reason: string): void {
  socket.on('error', () => {});
  socket.end(encodeRefusalFrame(reason));
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/**
 * A new connection on a TLS port: its first bytes must start a TLS
 * handshake. A plaintext replog client is told so in a refusal frame it can
 * read; anything else is closed with a logged reason.
 */
function sniffTls(raw: Socket, opts: ListenOptions, log: NetLogger, securing: Map<string, Securing>, server: ReturnType<typeof createTlsServer>, deadline: number): void {
  const key = `${raw.remoteAddress}:${raw.remotePort}`;
  const timer = setTimeout(() => {
    log.warn({ remote: key }, 'connection closed: handshake: no TLS handshake in time');
    raw.destroy();
  }, Math.max(0, deadline - performance.now()));
  const pending: Securing = { raw, address: raw.remoteAddress ?? '?', deadline, timer };
  securing.set(key, pending);
  raw.on('error', () => {});
  raw.on('close', () => {
    clearTimeout(timer);
    if (securing.get(key) === pending) securing.delete(key);
  });
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    if (head.length < TLS_SNIFF_BYTES) return;
    raw.off('data', onData);
    raw.pause();
    if (looksLikeTls(head)) {
      raw.unshift(head);
      server.emit('connection', raw);
      return;
    }
    opts.onRefused?.('plaintext');
    log.warn({ remote: key }, 'connection refused: plaintext on a TLS port');
    if (looksLikeHttp(head)) raw.end(HTTP_400_TLS);
    else refuse(raw, 'refused by the replica: it requires TLS (give --tls-ca, --tls-cert and --tls-key, or REPLOG_TLS_CA, REPLOG_TLS_CERT and REPLOG_TLS_KEY)');
  };
  raw.on('data', onData);
}

function accept(
  socket: Socket,
  opts: ListenOptions,
  log: NetLogger,
  helloFrame: Buffer,
  open: Map<FramedConnection, Tracked>,
  budget: ReplyBudget,
  deadline: number,
  identity: CertIdentity | undefined,
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
    frameTimeoutMs: opts.frameTimeoutMs,
    sniff(head) {
      if (identity === undefined && looksLikeTls(head)) {
        opts.onRefused?.('tls-on-plaintext-port');
        log.warn({ conn: conn.id, remote: conn.remote }, 'connection refused: a TLS handshake on this plaintext port (this replica runs without --tls-*)');
        conn.close('handshake: TLS on a plaintext port');
        return true;
      }
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
      const refusal = decodeRefusal(payload);
      if (refusal !== undefined) {
        opts.onRefused?.('refused-by-peer');
        conn.close(`handshake: refused by the client: ${refusal}`);
        return;
      }
      // A bad hello is refused with a refusal frame: the other side is told why, so both ends can say it.
      const refuseHello = (why: string) => conn.closeAfter(`bad input: ${why}`, encodeRefusalFrame(`refused by the replica: ${why}`));
      try {
        peer = checkHello(decodeHello(payload), opts.clusterId);
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        return refuseHello(err.message);
      }
      const unbacked = unbackedHello(peer, identity);
      if (unbacked !== undefined) {
        opts.onRefused?.('wrong-identity');
        return refuseHello(`handshake: ${unbacked}`);
      }
      clearTimeout(timer);
      handle = makeHandle(conn, peer, identity);
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
      const level = reason.startsWith('internal error') ? 'error' : /^(bad input|handshake|stalled)/.test(reason) ? 'warn' : 'info';
      log[level]({ conn: conn.id, remote: conn.remote, reason }, 'connection closed');
      if (handle !== undefined) opts.onClose?.(handle, reason);
    },
  });
  const tracked: Tracked = { conn, address: socket.remoteAddress ?? '?', client: false, lastFrameAt: performance.now() };
  open.set(conn, tracked);
  const timer = setTimeout(
    () => conn.close(`handshake: no hello within ${opts.handshakeTimeoutMs ?? wireLimits.handshakeTimeoutMs} ms`),
    Math.max(0, deadline - performance.now()),
  );
}

/**
 * Why a hello is not backed by its certificate, or undefined: with TLS, a replica hello must come with a
 * certificate naming that member (no replica poses as another, no client as a replica).
 */
function unbackedHello(peer: Hello, identity: CertIdentity | undefined): string | undefined {
  if (identity === undefined || peer.role !== 'replica') return undefined;
  if (identity.kind === 'replica' && identity.id === peer.replicaId) return undefined;
  return `a replica hello naming member ${peer.replicaId} from a certificate for ${describeIdentity(identity)}`;
}

function checkHello(h: Hello, clusterId: string): Hello {
  if (h.clusterId !== '' && h.clusterId !== clusterId) {
    throw new WireError('handshake', `peer is in cluster '${h.clusterId}', this replica in '${clusterId}'`);
  }
  return h;
}

function makeHandle(conn: FramedConnection, peer: Hello, identity: CertIdentity | undefined): ServerConnection {
  return {
    id: conn.id,
    remote: conn.remote,
    peer,
    identity,
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
