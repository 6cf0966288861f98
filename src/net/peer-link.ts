/**
 * The client side of one connection to one replica address: connects,
 * handshakes, reconnects with capped, jittered exponential backoff, and sends
 * through a bounded queue (batched per event-loop turn, see connection.ts).
 *
 * Delivery is best effort by design: the protocol retransmits on its own
 * timers. Messages queued on a connection that is lost are dropped with it,
 * and send() refuses while the link waits to reconnect. Back-pressure: send()
 * returns false when it did not queue; whenWritable() resolves when it would.
 *
 * With TLS (PeerLinkOptions.tls) the hello waits for the TLS handshake and
 * for the replica's certificate to check out: signed by our CA, naming the
 * host dialled and a replica (the one expected, if known), the same one its
 * hello names. A replica we refuse is told why in a refusal frame.
 */
import { connect, isIP } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { assert } from '../core/assert.js';
import type { Message } from '../core/types.js';
import { parseAddress, type HostPort } from './address.js';
import { backoffDelayMs, defaultBackoff, type BackoffOptions } from './backoff.js';
import { decodeMessage } from './codec.js';
import { FramedConnection, type QueueBounds } from './connection.js';
import { WireError } from './errors.js';
import { WIRE_VERSION, decodeHello, decodeRefusal, encodeHelloFrame, encodeRefusalFrame, type Hello, type Role } from './hello.js';
import { wireLimits } from './limits.js';
import type { FrameExtension } from './listener.js';
import { silentLogger, type NetLogger } from './logger.js';
import { explainHandshakeError, judgeReplica, type CertIdentity, type TlsCredentials, type TlsRefusalReason } from './tls.js';

export interface PeerLinkOptions {
  /** `host:port` of the replica. */
  readonly address: string;
  /** The cluster id expected; '' to learn it from the first replica hello (then it is fixed for this link). */
  readonly clusterId: string;
  /** Who we are: 'client' (default) or 'replica' (with replicaId). */
  readonly role?: Role;
  readonly replicaId?: number;
  /** Each decoded message from the replica, in order. */
  onMessage(msg: Message): void;
  /**
   * Messages beyond the core protocol's (src/net/digest-codec.ts): a frame whose type byte is in `codes`
   * goes to `onFrame` undecoded. Without it such a frame is an unknown message type (the link reconnects).
   */
  readonly extension?: FrameExtension<void>;
  /** After each successful handshake, with the replica's hello. */
  onConnect?(peer: Hello): void;
  /** When a handshaken connection is lost (not for failed attempts), with the reason. */
  onDisconnect?(reason: string): void;
  readonly log?: NetLogger;
  readonly handshakeTimeoutMs?: number;
  /** A replica that stops mid-frame this long is dropped (the link reconnects). Default wireLimits.frameTimeoutMs. */
  readonly frameTimeoutMs?: number;
  readonly queue?: QueueBounds;
  readonly backoff?: BackoffOptions;
  /** [0, 1) source for the backoff jitter. */
  readonly random?: () => number;
  /** Mutual TLS (see the file comment); plaintext without. */
  readonly tls?: TlsCredentials;
  /** The member this address should be (a replica's link to a peer): a hello or certificate naming another is refused. */
  readonly expectReplicaId?: number;
  /** A connection attempt was refused, by either side, for its transport, certificate or hello (metrics, clear errors). */
  onRefused?(reason: TlsRefusalReason, message: string): void;
}

type LinkState =
  | { readonly kind: 'connecting'; readonly conn: FramedConnection; readonly timer: NodeJS.Timeout }
  | { readonly kind: 'open'; readonly conn: FramedConnection; readonly peer: Hello }
  | { readonly kind: 'backoff'; readonly timer: NodeJS.Timeout }
  | { readonly kind: 'closed' };

export class PeerLink {
  readonly address: string;
  private readonly target: HostPort;
  private readonly log: NetLogger;
  private state: LinkState = { kind: 'closed' };
  private closing = false;
  private known: string;
  /** Failed attempts since the last successful handshake. */
  private attempt = 0;
  private waiters: (() => void)[] = [];
  private closedWaiters: (() => void)[] = [];

  constructor(private readonly opts: PeerLinkOptions) {
    assert((opts.role === 'replica') === (opts.replicaId !== undefined), 'a replica link, and only it, has a replicaId');
    this.address = opts.address;
    this.target = parseAddress(opts.address);
    this.log = opts.log ?? silentLogger;
    this.known = opts.clusterId;
    this.connect();
  }

  /** True once handshaken, until the connection is lost. */
  get connected(): boolean {
    return this.state.kind === 'open';
  }

  /** The replica's hello on the current connection. */
  get peer(): Hello | undefined {
    return this.state.kind === 'open' ? this.state.peer : undefined;
  }

  /** The cluster id this link requires: the configured one, or the one learned from the first replica. */
  get clusterId(): string {
    return this.known;
  }

  /** Bytes queued on the current connection. */
  get queuedBytes(): number {
    return this.state.kind === 'open' || this.state.kind === 'connecting' ? this.state.conn.queuedBytes : 0;
  }

  /**
   * Queues a message for the replica (held until the handshake completes).
   * False if it was not queued: link closed or waiting to reconnect, or queue full.
   */
  send(msg: Message): boolean {
    if (this.state.kind !== 'open' && this.state.kind !== 'connecting') return false;
    return this.state.conn.send(msg);
  }

  /** Queues an already encoded frame (codec encodeFrame), e.g. one message encoded once for several links. */
  sendFrame(frame: Buffer): boolean {
    if (this.state.kind !== 'open' && this.state.kind !== 'connecting') return false;
    return this.state.conn.sendFrame(frame);
  }

  /** Resolves when send() would queue again (a connection with room), or the link is closed. */
  whenWritable(): Promise<void> {
    if (this.state.kind === 'open' || this.state.kind === 'connecting') return this.state.conn.whenWritable();
    if (this.closing) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops reconnecting and closes the connection; resolves once the socket is closed. */
  close(): Promise<void> {
    this.closing = true;
    const s = this.state;
    this.wake();
    if (s.kind === 'closed') return Promise.resolve();
    if (s.kind === 'backoff') {
      clearTimeout(s.timer);
      this.state = { kind: 'closed' };
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => this.closedWaiters.push(resolve));
    // What the caller queued last (a commit, a learned message) still goes out.
    if (s.kind === 'open') s.conn.end('link closed');
    else s.conn.close('link closed');
    return done;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Who the replica's certificate names, on the current TLS connection. */
  private certified: CertIdentity | undefined;
  /** Why the current attempt's TLS handshake failed, in words (replaces the bare socket error in logs). */
  private tlsFailure: string | undefined;

  private connect(): void {
    const creds = this.opts.tls;
    const { host, port } = this.target;
    const socket =
      creds === undefined
        ? connect({ host, port })
        : tlsConnect({ host, port, secureContext: creds.secureContext, rejectUnauthorized: false, servername: isIP(host) === 0 ? host : undefined });
    this.certified = undefined;
    this.tlsFailure = undefined;
    const conn: FramedConnection = new FramedConnection(socket, {
      queue: this.opts.queue,
      frameTimeoutMs: this.opts.frameTimeoutMs,
      onFrame: (payload) => this.onFrame(conn, payload),
      onClose: (reason) => this.onClose(conn, reason),
    });
    conn.hold();
    const hello = encodeHelloFrame({ version: WIRE_VERSION, clusterId: this.known, role: this.opts.role ?? 'client', replicaId: this.opts.replicaId });
    if (creds === undefined) conn.writeNow(hello);
    else this.secure(socket as TLSSocket, conn, hello);
    const timeoutMs = this.opts.handshakeTimeoutMs ?? wireLimits.handshakeTimeoutMs;
    const timer = setTimeout(() => conn.close(`handshake: no hello within ${timeoutMs} ms`), timeoutMs);
    this.state = { kind: 'connecting', conn, timer };
    this.wake();
  }

  /** Sends the hello once the replica's certificate checks out; else tells it why and closes. */
  private secure(socket: TLSSocket, conn: FramedConnection, hello: Buffer): void {
    let secured = false;
    // Before the TCP connection is up an error is no refusal (the replica is down, or unreachable).
    let reached = false;
    socket.once('connect', () => (reached = true));
    socket.once('secureConnect', () => {
      secured = true;
      const verdict = judgeReplica(socket, this.opts.expectReplicaId);
      if (!verdict.ok) {
        this.opts.onRefused?.(verdict.reason, verdict.message);
        conn.closeAfter(`handshake: ${verdict.message}`, encodeRefusalFrame(`refused by the client: ${verdict.message}`));
        return;
      }
      this.certified = verdict.identity;
      conn.writeNow(hello);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!reached || secured || this.tlsFailure !== undefined) return;
      const why = explainHandshakeError(err);
      this.tlsFailure = `handshake: ${why.message}`;
      this.opts.onRefused?.(why.reason, why.message);
    });
  }

  private onFrame(conn: FramedConnection, payload: Buffer): void {
    const s = this.state;
    if (s.kind === 'open') {
      const ext = this.opts.extension;
      if (ext !== undefined && payload.length > 0 && ext.codes.has(payload[0]!)) ext.onFrame(payload, undefined);
      else this.opts.onMessage(decodeMessage(payload));
      return;
    }
    assert(s.kind === 'connecting' && s.conn === conn, 'frames arrive only on the current connection');
    const refusal = decodeRefusal(payload);
    if (refusal !== undefined) {
      this.opts.onRefused?.('refused-by-peer', refusal);
      conn.close(`handshake: ${refusal}`);
      return;
    }
    const peer = decodeHello(payload);
    if (peer.role !== 'replica') throw new WireError('handshake', 'the peer is not a replica');
    if (this.opts.expectReplicaId !== undefined && peer.replicaId !== this.opts.expectReplicaId) {
      throw new WireError('handshake', `the replica at ${this.address} says it is member ${peer.replicaId}, expected ${this.opts.expectReplicaId}`);
    }
    if (this.opts.tls !== undefined && (this.certified?.kind !== 'replica' || peer.replicaId !== this.certified.id)) {
      const cert = this.certified?.kind === 'replica' ? `replica ${this.certified.id}` : 'no checked replica certificate';
      throw new WireError('handshake', `the replica's hello names member ${peer.replicaId}, its certificate ${cert}`);
    }
    if (this.known !== '' && peer.clusterId !== this.known) {
      throw new WireError('handshake', `replica is in cluster '${peer.clusterId}', expected '${this.known}'`);
    }
    clearTimeout(s.timer);
    this.known = peer.clusterId;
    this.attempt = 0;
    this.state = { kind: 'open', conn, peer };
    conn.release();
    this.log.info({ address: this.address, replicaId: peer.replicaId }, 'connected');
    this.opts.onConnect?.(peer);
  }

  private onClose(conn: FramedConnection, closeReason: string): void {
    const reason = this.tlsFailure ?? closeReason;
    const s = this.state;
    assert(s.kind === 'open' || s.kind === 'connecting', 'a connection closes once');
    assert(s.conn === conn, 'only the current connection closes');
    if (s.kind === 'connecting') clearTimeout(s.timer);
    const wasOpen = s.kind === 'open';
    if (this.closing) {
      this.state = { kind: 'closed' };
      for (const f of this.closedWaiters.splice(0)) f();
      if (wasOpen) this.opts.onDisconnect?.(reason);
      return;
    }
    const delayMs = backoffDelayMs(this.attempt++, this.opts.backoff ?? defaultBackoff, this.opts.random);
    const level = reason.startsWith('internal error') ? 'error' : /^(bad input|handshake|stalled)/.test(reason) ? 'warn' : 'info';
    this.log[level]({ address: this.address, reason, retryInMs: Math.round(delayMs) }, wasOpen ? 'disconnected' : 'connect failed');
    this.state = { kind: 'backoff', timer: setTimeout(() => this.connect(), delayMs) };
    if (wasOpen) this.opts.onDisconnect?.(reason);
  }
}
