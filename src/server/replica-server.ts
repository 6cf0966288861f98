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
import { DIGEST_CODES, decodeDigestMessage } from '../net/digest-codec.js';
import { FileStore } from '../storage/file-store.js';
import { startAdmin, type AdminServer } from './admin.js';
import { clusterIdFor, memberIds, parseMembers, type Members } from './members.js';
import { ReplicaMetrics } from './metrics.js';
import { refuseHello, refuseMessage, refuseOnPeerLink } from './admission.js';
import { ReplicaHost } from './replica-host.js';
import { ReadQueue } from './read-queue.js';
import { DigestService } from './digest-service.js';
import { DivergenceCheck, divergencePeriodFromEnv, divergenceSpanFromEnv } from './divergence-check.js';

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
  /** Bounds of the replica's port other than their defaults in src/net/limits.ts (tests lower them). */
  readonly net?: Pick<ListenOptions, 'connectionsMax' | 'clientIdleTimeoutMs' | 'evictIdleAfterMs' | 'replyBudget' | 'queue' | 'handshakeTimeoutMs'>;
  /**
   * The background divergence check (divergence-check.ts): its period in ms (default
   * $REPLOG_DIVERGENCE_CHECK_MS, else 60 000; 0 disables) and span in positions (default
   * $REPLOG_DIVERGENCE_SPAN, else 65 536).
   */
  readonly divergence?: { readonly periodMs?: number; readonly span?: number };
}

export interface Replica {
  readonly id: number;
  readonly address: string;
  readonly adminAddress?: string;
  readonly clusterId: string;
  readonly host: ReplicaHost;
  /** The background divergence check (its status is /status's `divergence`). */
  readonly divergence: DivergenceCheck;
  /** The replica's port: open connections, their bound, and the reply bytes queued to clients. */
  readonly port: Pick<Listener, 'connectionCount' | 'connectionsMax' | 'replyQueuedBytes'>;
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

  const store = await FileStore.open(options.dir, {
    replicaId: options.id,
    clusterId,
    log: (message) => log.warn({ dir: options.dir }, message),
  });
  let host: ReplicaHost | undefined;
  const metrics = new ReplicaMetrics(() => host, { replica: String(options.id) });
  const peers = new Map<ReplicaId, PeerLink>();
  // Digest requests (divergence checks) are answered from the store, bounded and one per turn (digest-service.ts).
  const digests = new DigestService({ store: () => store, status: () => store.metadata().status });
  let divergence: DivergenceCheck | undefined;
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
        log,
        // Digest replies to this replica's divergence check come back on its links (kept out of the core).
        extension: {
          codes: DIGEST_CODES,
          onFrame: (payload) => {
            const msg = decodeDigestMessage(payload);
            if (msg.type === 'digestReply') divergence?.onReply(id, msg);
            else log.warn({ peer: id, type: msg.type }, "message refused: 'digest' on a link this replica opened (only replies come back there)");
          },
        },
        onConnect: () => divergence?.onPeerConnect(id),
        onDisconnect: (reason) => divergence?.onPeerDisconnect(id, reason),
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

  divergence = new DivergenceCheck({
    self: options.id,
    peers,
    service: digests,
    store: () => store,
    log,
    registry: metrics.registry,
    periodMs: options.divergence?.periodMs ?? divergencePeriodFromEnv(),
    span: options.divergence?.span ?? divergenceSpanFromEnv(),
  });
  const check = divergence;

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
      ...options.net,
      // Digest requests (divergence checks) from clients and peers alike: read-only and bounded.
      extension: {
        codes: DIGEST_CODES,
        onFrame: (payload, conn) => {
          const refused = helloAdmitted.has(conn) ? undefined : refuseHello(conn.peer, options.id, ids);
          if (refused !== undefined) return conn.close(`bad input: ${refused}`);
          helloAdmitted.add(conn);
          const msg = decodeDigestMessage(payload);
          if (msg.type !== 'digest') return conn.close(`bad input: a ${conn.peer.role} may not send '${msg.type}' to a replica's port`);
          digests.push(msg, conn);
        },
      },
      onMessage: (msg, conn) => {
        // The hello is judged once per connection; each message by its type (a set lookup).
        let refused = helloAdmitted.has(conn) ? undefined : refuseHello(conn.peer, options.id, ids);
        if (refused === undefined) {
          helloAdmitted.add(conn);
          refused = refuseMessage(msg, conn.peer);
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
    check.stop();
    await Promise.all([...peers.values()].map((p) => p.close()));
    await store.close();
    throw new InvalidArgumentError(`cannot listen on ${options.listen}: ${(err as Error).message}`, { cause: err });
  }
  metrics.connections = () => listener.connectionCount;
  let admin: AdminServer | undefined;
  if (options.admin !== undefined) {
    try {
      admin = await startAdmin(options.admin, { id: options.id, members, host: h, metrics, clusterId, divergence: check });
    } catch (err) {
      check.stop();
      await listener.close();
      await Promise.all([...peers.values()].map((p) => p.close()));
      await store.close();
      throw new InvalidArgumentError(`cannot serve admin HTTP on ${options.admin}: ${(err as Error).message}`, { cause: err });
    }
  }
  const ticker = setInterval(() => h.tick(), 50);
  ticker.unref();
  check.start();
  const address = `${listenAt.host}:${listener.port}`;
  log.info({ address, admin: admin?.address, dir: options.dir, status: h.status, clusterId }, 'replica started');

  let stopping: Promise<void> | undefined;
  const replica: Replica = {
    id: options.id,
    address,
    adminAddress: admin?.address,
    clusterId,
    host: h,
    divergence: check,
    port: listener,
    stop() {
      stopping ??= (async () => {
        clearInterval(ticker);
        check.stop();
        digests.close();
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
