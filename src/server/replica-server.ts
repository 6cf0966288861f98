/**
 * startReplica: one replica process's worth of wiring. Opens the data
 * directory (FileStore, which takes the directory's lock), listens for
 * clients and peers, connects to the other members for the recovery protocol,
 * and serves the admin HTTP endpoint. Used by `replog replica` and by
 * applications that embed a replica in their own process.
 */
import pino, { type Logger } from 'pino';
import { InvalidArgumentError } from '../core/errors.js';
import type { Message, ReplicaId } from '../core/types.js';
import { parseAddress } from '../net/address.js';
import { listen, type Listener, type ListenOptions, type ServerConnection } from '../net/listener.js';
import { PeerLink } from '../net/peer-link.js';
import { TlsCredentials, describeIdentity, type TlsOptions } from '../net/tls.js';
import { FileStore } from '../storage/file-store.js';
import { startAdmin, type AdminServer } from './admin.js';
import { clusterIdFor, memberIds, parseMembers, type Members } from './members.js';
import { ReplicaMetrics } from './metrics.js';
import { refuseHello, refuseMessage, refuseOnPeerLink } from './admission.js';
import { ReplicaHost } from './replica-host.js';
import { ReadQueue } from './read-queue.js';

export interface ReplicaOptions {
  readonly id: number;
  /** The data directory (created if missing). */
  readonly dir: string;
  /** `host:port` to listen on for clients and peers. */
  readonly listen: string;
  /** Every member's id and address, this replica included: `{1: 'h:p', ...}` or `'1=h:p,2=h:p'`. */
  readonly members: Members | string;
  /** `host:port` for the admin HTTP endpoint (/status, /metrics); none if absent. */
  readonly admin?: string;
  /** Default: derived from the membership (see members.ts). */
  readonly clusterId?: string;
  /** A pino logger; default: JSON lines on stderr at level 'info'. */
  readonly logger?: Logger;
  /**
   * Mutual TLS on the replica port, the links to peers and the admin endpoint (docs/security.md): the
   * cluster's CA, and this replica's certificate (naming replog://replica/ID) and key, PEM. Plaintext without.
   */
  readonly tls?: TlsOptions;
  /** Bounds of the replica's port other than their defaults in src/net/limits.ts (tests lower them). */
  readonly net?: Pick<ListenOptions, 'connectionsMax' | 'clientIdleTimeoutMs' | 'evictIdleAfterMs' | 'replyBudget' | 'queue' | 'handshakeTimeoutMs'>;
}

export interface Replica {
  readonly id: number;
  readonly address: string;
  readonly adminAddress?: string;
  readonly clusterId: string;
  readonly host: ReplicaHost;
  /** The replica's port: open connections, their bound, and the reply bytes queued to clients. */
  readonly port: Pick<Listener, 'connectionCount' | 'connectionsMax' | 'replyQueuedBytes'>;
  /** The replica's metrics (GET /metrics serves this registry). */
  readonly metrics: ReplicaMetrics;
  /** Whether the replica port speaks mutual TLS. */
  readonly tls: boolean;
  /**
   * Certificate rotation: takes new TLS material (the CLI re-reads its files on SIGHUP). Connections made
   * afterwards use it; open ones keep theirs. Bad material throws (one clear line) and the old stays in force.
   */
  reloadTls(tls: TlsOptions): void;
  /** Stops serving: finishes the sync in flight, closes sockets and the data directory. */
  stop(): Promise<void>;
  /** `await using replica = await startReplica(...)` stops it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const members = typeof options.members === 'string' ? parseMembers(options.members) : options.members;
  const ids = memberIds(members);
  if (!ids.includes(options.id)) {
    throw new InvalidArgumentError(`replica id ${options.id} is not among the members (${ids.join(', ')})`);
  }
  const listenAt = parseAddress(options.listen);
  const clusterId = options.clusterId ?? clusterIdFor(members);
  const log = options.logger ?? pino({ base: { replica: options.id } }, pino.destination(2));
  const tls = options.tls === undefined ? undefined : replicaCredentials(options.tls, options.id);

  const store = await FileStore.open(options.dir, {
    replicaId: options.id,
    clusterId,
    log: (message) => log.warn({ dir: options.dir }, message),
  });
  let host: ReplicaHost | undefined;
  const metrics = new ReplicaMetrics(() => host, { replica: String(options.id) });
  if (tls !== undefined) metrics.tlsNotAfter = () => tls.notAfter;
  const peers = new Map<ReplicaId, PeerLink>();
  host = new ReplicaHost({
    id: options.id,
    members: ids,
    store,
    log,
    metrics,
    sendToPeer: (to, msg) => peers.get(to)?.send(msg),
  });
  const h = host;
  for (const id of ids) {
    if (id === options.id) continue;
    peers.set(
      id,
      new PeerLink({
        address: members[id]!,
        clusterId,
        role: 'replica',
        replicaId: options.id,
        expectReplicaId: id,
        tls,
        onRefused: (reason) => metrics.onConnectionRefused(reason, 'outbound'),
        log,
        onMessage: (msg) => {
          const refused = refuseOnPeerLink(msg);
          if (refused === undefined) h.handle(msg, { send: () => true }, id);
          else {
            metrics.onRefused(msg.type);
            log.warn({ peer: id, type: msg.type }, `message refused: ${refused}`);
          }
        },
      }),
    );
  }

  const helloAdmitted = new WeakSet<object>();
  // Reads are served from a fair queue, not as they arrive: large reads must not starve writes (read-queue.ts).
  const reads = new ReadQueue<ServerConnection>({ serve: (msg, conn) => h.handle(msg, conn, conn.peer.replicaId) });
  let listener: Listener;
  try {
    listener = await listen({
      host: listenAt.host,
      port: listenAt.port,
      clusterId,
      replicaId: options.id,
      log,
      tls,
      onRefused: (reason) => metrics.onConnectionRefused(reason, 'inbound'),
      ...options.net,
      onMessage: (msg, conn) => {
        // The hello is judged once per connection; each message by its type (a set lookup).
        let refused = helloAdmitted.has(conn) ? undefined : refuseHello(conn.peer, options.id, ids);
        if (refused === undefined) {
          helloAdmitted.add(conn);
          refused = refuseMessage(msg, conn.peer, conn.identity);
        }
        if (refused !== undefined) {
          metrics.onRefused(msg.type);
          conn.close(`bad input: ${refused}`);
          return;
        }
        if (msg.type === 'config') {
          // Clients learn member ids and the quorum from the replicas, never from their address list.
          conn.send({ type: 'configReply', rid: msg.rid, epoch: 0, members: ids.map((id) => ({ id, address: members[id]! })) });
          return;
        }
        if (msg.type === 'read') return reads.push(msg, conn);
        if (msg.type === 'write') {
          metrics.onWrite(msg.actions.length, msg.actions.reduce((n, a) => n + (a.kind === 'append' ? a.data.byteLength : 0), 0));
          // The reply leaves once durable: its delay is this replica's part of an append's latency (metrics, console).
          const received = performance.now();
          const target = {
            send: (reply: Message) => {
              metrics.onWriteReply(reply, performance.now() - received);
              return conn.send(reply);
            },
          };
          h.handle(msg, target, conn.peer.replicaId);
          return;
        }
        h.handle(msg, conn, conn.peer.replicaId);
      },
    });
  } catch (err) {
    await Promise.all([...peers.values()].map((p) => p.close()));
    await store.close();
    throw new InvalidArgumentError(`cannot listen on ${options.listen}: ${(err as Error).message}`, { cause: err });
  }
  metrics.connections = () => listener.connectionCount;
  let admin: AdminServer | undefined;
  if (options.admin !== undefined) {
    try {
      admin = await startAdmin(options.admin, { id: options.id, members, host: h, metrics, clusterId, tls });
    } catch (err) {
      await listener.close();
      await Promise.all([...peers.values()].map((p) => p.close()));
      await store.close();
      throw new InvalidArgumentError(`cannot serve admin HTTP on ${options.admin}: ${(err as Error).message}`, { cause: err });
    }
  }
  const ticker = setInterval(() => h.tick(), 50);
  ticker.unref();
  const address = `${listenAt.host}:${listener.port}`;
  log.info(
    { address, admin: admin?.address, dir: options.dir, status: h.status, clusterId, tls: tls !== undefined },
    tls === undefined
      ? 'replica started (plaintext: no TLS configured; anyone who reaches the port may append, truncate or pose as a peer)'
      : `replica started (mutual TLS, certificate for ${describeIdentity(tls.identity)}, valid until ${new Date(tls.notAfter).toISOString()})`,
  );

  let stopping: Promise<void> | undefined;
  const replica: Replica = {
    id: options.id,
    address,
    adminAddress: admin?.address,
    clusterId,
    host: h,
    port: listener,
    metrics,
    tls: tls !== undefined,
    reloadTls(material) {
      if (tls === undefined) throw new InvalidArgumentError('this replica was started without TLS: restart it with TLS instead');
      const checked = replicaCredentials(material, options.id);
      tls.reload(material);
      log.info({ notAfter: new Date(checked.notAfter).toISOString() }, 'TLS certificate rotated');
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(ticker);
        await listener.close();
        await Promise.all([...peers.values()].map((p) => p.close()));
        await admin?.close();
        await h.drain();
        await store.close();
        log.info({ address }, 'replica stopped');
      })();
      return stopping;
    },
    [Symbol.asyncDispose]() {
      return replica.stop();
    },
  };
  return replica;
}

/** The replica's TLS material, checked: its certificate must name this replica, so that peers accept it as this member. */
function replicaCredentials(material: TlsOptions, id: number): TlsCredentials {
  const creds = new TlsCredentials(material);
  if (creds.identity.kind !== 'replica' || creds.identity.id !== id) {
    throw new InvalidArgumentError(`TLS: this is replica ${id}, but its certificate names ${describeIdentity(creds.identity)} (a SAN URI replog://replica/${id} is needed)`);
  }
  if (creds.notAfter <= Date.now()) throw new InvalidArgumentError(`TLS: the certificate of replica ${id} expired at ${new Date(creds.notAfter).toISOString()}`);
  return creds;
}
