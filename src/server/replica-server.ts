/**
 * startReplica: one replica process's worth of wiring. Opens the data
 * directory (FileStore, which takes the directory's lock), listens for
 * clients and peers, connects to the other members for the recovery protocol,
 * and serves the admin HTTP endpoint. Used by `replog replica` and by
 * applications that embed a replica in their own process.
 */
import pino from 'pino';
import type { Logger } from '../net/logger.js';
import { InvalidArgumentError } from '../core/errors.js';
import { timing } from '../core/constants.js';
import type { Message, ReplicaId, Status } from '../core/types.js';
import type { ChangeRequest } from '../core/writer.js';
import { parseAddress } from '../net/address.js';
import { listen, type Listener, type ListenOptions, type ServerConnection } from '../net/listener.js';
import { PeerLink } from '../net/peer-link.js';
import { DIGEST_CODES, decodeDigestMessage } from '../net/digest-codec.js';
import { TlsCredentials, describeIdentity, type TlsOptions } from '../net/tls.js';
import { FileStore } from '../storage/file-store.js';
import { startAdmin, type AdminServer } from './admin.js';
import { checkAddress, clusterIdFor, memberIds, memberList, parseMembers, type Members } from './members.js';
import { bootstrapMetadata, flagsDisagreement, storedChain, summarise } from '../storage/stored-config.js';
import { waitUntilAdded } from './join.js';
import { chainProblem, type PlacedConfiguration } from '../core/membership.js';
import { pendingConfig } from '../core/replica.js';
import { DataDirMismatchError } from '../storage/errors.js';
import { parseSegmentFileName } from '../storage/segment.js';
import { existsSync, readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { ReplicaMetrics } from './metrics.js';
import { mayCarryChanges, refuseChangeMessage, refuseConfigPromise, refuseConfigWrite, isStrangerHello, refuseHello, refuseMessage, refuseNonAdminConfig, refuseOnPeerLink, vouchedOffers } from './admission.js';
import { ChangeAuthority } from './change-authority.js';
import { CHANGE_CODES, decodeChangeMessage, encodeChangeFrame, isChangeFrame } from '../net/change-codec.js';
import { ChangeRelay } from './change-relay.js';
import { ReplicaHost, type StorageEvent } from './replica-host.js';
import { EventEmitter } from 'node:events';
import { ReadQueue } from './read-queue.js';
import { ReadWaits } from './read-waits.js';
import { DigestService } from './digest-service.js';
import { DivergenceCheck, divergencePeriodFromEnv, divergenceSpanFromEnv } from './divergence-check.js';
import { listenError } from './replica-errors.js';
import type { Registry } from 'prom-client';

/** Seeds (R13) linked to at most, and how long one may be silent before it is forgotten (as the core's). */
const SEEDS_MAX = 16;
const SEED_HEARD_MS = 10 * timing.peerStateMs;

export interface ReplicaOptions {
  readonly id: number;
  /** The data directory (created if missing). */
  readonly dir: string;
  /** `host:port` to listen on for clients and peers. */
  readonly listen: string;
  /**
   * Every member's id and address, this replica included: `{1: 'h:p', ...}` or `'1=h:p,2=h:p'`. At a
   * data directory's first start they are the cluster's first configuration (epoch 0, all voters), stored
   * with the cluster id (R11); after that the configuration the log holds wins and these only find the
   * cluster (a disagreement is logged). Exactly one of `members` and `join`.
   */
  readonly members?: Members | string;
  /**
   * Join a running cluster instead (`replog replica --join`): addresses of some of its replicas
   * (`'h:p,h:p'` or a list). A replica without a data directory learns the cluster id and the
   * configuration from them, waits until its id is in the configuration (`replog member add`), then
   * starts EMPTY as a learner and catches up; it never starts a cluster of its own. With a data
   * directory it simply restarts from what that holds.
   */
  readonly join?: string | readonly string[];
  /** `host:port` for the admin HTTP endpoint (/status, /metrics); none if absent. */
  readonly admin?: string;
  /** Default: derived from the membership (see members.ts). */
  readonly clusterId?: string;
  /** Where the replica logs (the client's Logger type; a pino logger fits); default: pino, JSON lines on stderr at level 'info'. */
  readonly logger?: Logger;
  /**
   * Called once if storage fails for good (a failed fsync: acknowledged writes
   * may be lost from the page cache). The replica has stopped answering; a
   * `storage` event with state 'fatal' is emitted first. Default: exit the
   * process with status 70, so that a supervisor restarts it and it replays
   * its disk. An application that embeds the replica may stop it and restart
   * it itself instead.
   */
  readonly onFatal?: (err: Error) => void;
  /**
   * Mutual TLS on the replica port, the links to peers and the admin endpoint (docs/security.md): the
   * cluster's CA, and this replica's certificate (naming replog://replica/ID) and key, PEM. Plaintext without.
   */
  readonly tls?: TlsOptions;
  /** Bounds of the replica's port other than their defaults in src/net/limits.ts (tests lower them). */
  readonly net?: Pick<ListenOptions, 'connectionsMax' | 'clientIdleTimeoutMs' | 'evictIdleAfterMs' | 'replyBudget' | 'queue' | 'handshakeTimeoutMs' | 'connectionsPerAddressMax' | 'frameTimeoutMs'>;
  /**
   * The background divergence check (divergence-check.ts): its period in ms (default
   * $REPLOG_DIVERGENCE_CHECK_MS, else 60 000; 0 disables) and span in positions (default
   * $REPLOG_DIVERGENCE_SPAN, else 65 536).
   */
  readonly divergence?: { readonly periodMs?: number; readonly span?: number };
  /**
   * Whether the replica's registry also collects prom-client's default
   * `process_*` and `nodejs_*` metrics (default true, as `replog replica`
   * serves them). An application that merges `replica.registry` into a
   * registry that collects them already passes false: prom-client refuses
   * two metrics of one name.
   */
  readonly processMetrics?: boolean;
}

/** The events of an embedded replica, by name (`replica.on('storage', (e) => ...)`). */
export interface ReplicaEvents {
  /** The replica's status changed (durably): 'VOTING' once it serves, 'RECOVERING' while it rejoins, ... */
  status: [Status];
  /** Storage failed (paused, fatal) or works again (resumed). */
  storage: [StorageEvent];
}

export interface Replica extends EventEmitter<ReplicaEvents> {
  readonly id: number;
  /** The address it listens on, with the port it bound (`listen` may ask for port 0). */
  readonly address: string;
  /** The admin HTTP address, with the port it bound; absent without `admin`. */
  readonly adminAddress?: string;
  readonly clusterId: string;
  /** Its status now (VOTING, RECOVERING, EMPTY, ...). */
  readonly status: Status;
  /**
   * Resolves once the replica is VOTING (at once if it started so; after it
   * recovered its disk from the others otherwise); rejects if it stops or
   * its storage fails for good first.
   */
  readonly ready: Promise<void>;
  /** @internal The replica's engine (CLI, tests, the admin endpoint). */
  readonly host: ReplicaHost;
  /** The background divergence check (its status is /status's `divergence`). */
  readonly divergence: DivergenceCheck;
  /** The replica's port: open connections, their bound, and the reply bytes queued to clients. */
  readonly port: Pick<Listener, 'connectionCount' | 'connectionsMax' | 'replyQueuedBytes'>;
  /** The replica's metrics (GET /metrics serves this registry). */
  readonly metrics: ReplicaMetrics;
  /**
   * The replica's prom-client registry (the `replog_*` metrics, and the
   * process's unless `processMetrics: false`): to serve them from the
   * application's own /metrics, `Registry.merge([appRegistry, replica.registry])`.
   * A merged registry leaves out the `replica` label (prom-client keeps
   * default labels per registry).
   */
  readonly registry: Registry;
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
  const seeds = options.join === undefined ? undefined : typeof options.join === 'string' ? options.join.split(',').map((a) => a.trim()).filter(Boolean) : [...options.join];
  if ((options.members === undefined) === (seeds === undefined)) {
    throw new InvalidArgumentError('give either --members (a new cluster, or the members of one) or --join ADDRS (a member added to a running cluster)');
  }
  if (seeds !== undefined) {
    if (seeds.length === 0) throw new InvalidArgumentError('--join lists no address');
    for (const a of seeds) checkAddress(a);
  }
  const flags: Members | undefined = options.members === undefined ? undefined : typeof options.members === 'string' ? parseMembers(options.members) : options.members;
  if (flags !== undefined && !memberIds(flags).includes(options.id)) {
    throw new InvalidArgumentError(`replica id ${options.id} is not among the members (${memberIds(flags).join(', ')})`);
  }
  const listenAt = parseAddress(options.listen, { portZero: true });
  const log = options.logger ?? pino({ base: { replica: options.id } }, pino.destination(2));
  const tls = options.tls === undefined ? undefined : replicaCredentials(options.tls, options.id);

  // R11: a directory that holds data keeps the cluster id and configuration it stores; the flags only find
  // the cluster. A joiner without data learns both from its seeds first, once it has been added.
  const holdsData = hasSegments(options.dir);
  const learned = seeds !== undefined && !holdsData ? await waitUntilAdded(seeds, options.id, { tls, log, listen: listenAt }) : undefined;
  const derived = flags === undefined ? undefined : clusterIdFor(flags);
  const store = await FileStore.open(options.dir, {
    replicaId: options.id,
    clusterId: learned?.clusterId ?? options.clusterId ?? (holdsData ? undefined : derived),
    ...(learned === undefined
      ? {}
      : { initialMetadata: { status: 'EMPTY' as const, promised: 0, incarnation: randomUUID(), clusterId: learned.clusterId, configs: [...learned.chain] } }),
    log: (message) => log.warn({ dir: options.dir }, message),
  });
  const storedMeta = store.metadata();
  if (storedMeta.configs === undefined && derived !== undefined && store.clusterId !== '' && store.clusterId !== derived && options.clusterId === undefined) {
    // A directory of the time before reconfiguration: its id is the one derived from its members, as before.
    await store.close();
    throw new DataDirMismatchError(`data directory ${options.dir} belongs to cluster id ${store.clusterId}, not ${derived}`);
  }
  if (seeds !== undefined && storedMeta.configs === undefined) {
    await store.close();
    throw new InvalidArgumentError(`data directory ${options.dir} holds no configuration to rejoin with: start it with --members, or remove it to join afresh`);
  }
  const clusterId = storedMeta.clusterId ?? options.clusterId ?? (store.clusterId !== '' ? store.clusterId : derived!);
  const flagList = flags === undefined ? [] : memberList(flags);
  if (storedMeta.configs !== undefined && flags !== undefined) {
    const why = flagsDisagreement(storedMeta.configs, flagList);
    if (why !== undefined) log.warn({ dir: options.dir }, why);
  }
  /** Members of newer configurations a recovering replica learned of from its peers' recover replies (discoveredFrom). */
  const discovered: Record<number, string> = {};
  /**
   * Replicas of newer configurations that told their state (strangerGossip, R13): linked to, so that the
   * recovery can ask them, but not admitted on this port until a configuration learned lists them (their
   * gossip is all that is taken from them).
   */
  const gossipSeeds = new Map<number, { readonly address: string; readonly at: number }>();
  /** The members of the latest configuration this disk holds (the flags before the first start): voters and learners. */
  const currentMembers = (): Members => {
    const head = storedChain(store.metadata(), flagList).at(-1)!;
    return Object.fromEntries([...head.voters, ...head.learners].map((m) => [m.id, m.address]));
  };
  /** Every id any configuration this disk holds lists (and the flags'): whose replica hello this port admits. */
  const knownIds = (): number[] => {
    const set = new Set<number>([...flagList.map((m) => m.id), ...Object.keys(discovered).map(Number)]);
    for (const c of storedChain(store.metadata(), flagList)) for (const m of [...c.voters, ...c.learners]) set.add(m.id);
    return [...set];
  };
  const members = currentMembers();
  const ids = memberIds(members);
  let host: ReplicaHost | undefined;
  const metrics = new ReplicaMetrics(() => host, { replica: String(options.id) }, { processMetrics: options.processMetrics ?? true });
  const events = new EventEmitter<ReplicaEvents>();
  let readyNow: { resolve(): void; reject(e: Error): void } | undefined;
  const ready = new Promise<void>((resolve, reject) => (readyNow = { resolve, reject }));
  // Nobody has to wait for it: an unawaited rejection is not an error.
  ready.catch(() => {});
  if (tls !== undefined) metrics.tlsNotAfter = () => tls.notAfter;
  const peers = new Map<ReplicaId, PeerLink>();
  // Digest requests (divergence checks) are answered from the store, bounded and one per turn (digest-service.ts).
  const digests = new DigestService({ store: () => store, status: () => store.metadata().status });
  let divergence: DivergenceCheck | undefined;
  host = new ReplicaHost({
    id: options.id,
    members: ids,
    store,
    log,
    ...(flags === undefined ? {} : { bootstrap: storedChain({ status: 'EMPTY', promised: 0, incarnation: '' }, flagList)[0]! }),
    // R11: a joiner never starts a cluster of its own, whatever its seeds answer (two joiners seeded with each other).
    ...(seeds === undefined ? {} : { mayStart: false }),
    metrics: {
      onSync: (ms) => metrics.onSync(ms),
      onMessage: (type) => metrics.onMessage(type),
      onStatus: (status) => {
        if (status === 'VOTING') readyNow?.resolve();
        events.emit('status', status);
      },
    },
    sendToPeer: (to, msg) => peers.get(to)?.send(msg),
    onStorage: (e) => {
      if (e.state === 'fatal') readyNow?.reject(e.error ?? new Error('storage failed for good'));
      events.emit('storage', e);
    },
    ...(options.onFatal === undefined ? {} : { onFatal: options.onFatal }),
  });
  const h = host;
  /** A link to each other member of the latest configuration; members added later get one at the next tick. */
  const addPeer = (id: ReplicaId, address: string): void => {
    peers.set(
      id,
      new PeerLink({
        address,
        clusterId,
        role: 'replica',
        replicaId: options.id,
        expectReplicaId: id,
        tls,
        onRefused: (reason) => metrics.onConnectionRefused(reason, 'outbound'),
        log,
        frameTimeoutMs: options.net?.frameTimeoutMs,
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
          if (refused === undefined) {
            // A seed's links are not taken as discovered members: it is someone to ask, not a vouched member
            // (their own gossip makes the other new members seeds too).
            if (msg.type === 'recoverReply' && !isSeedOnly(id)) discoveredFrom(msg.links ?? []);
            h.handle(msg, { send: () => true }, id);
            waits.poke();
          }
          else {
            metrics.onRefused(msg.type);
            log.warn({ peer: id, type: msg.type }, `message refused: ${refused}`);
          }
        },
      }),
    );
  };
  const syncPeers = (): void => {
    // A seed is linked to while it keeps gossiping and no configuration names it (then it is a member, or
    // discovered): one that fell silent is forgotten and its link closed (a forged one must not be redialled).
    const members = currentMembers();
    for (const [id, seed] of gossipSeeds) {
      if (performance.now() - seed.at <= SEED_HEARD_MS && members[id] === undefined && discovered[id] === undefined) continue;
      gossipSeeds.delete(id);
      if (members[id] === undefined && discovered[id] === undefined) {
        void peers.get(id)?.close();
        peers.delete(id);
      }
    }
    const seeds: Members = Object.fromEntries([...gossipSeeds].map(([id, seed]) => [id, seed.address]));
    const now: Members = { ...seeds, ...discovered, ...members };
    for (const id of memberIds(now)) {
      if (id === options.id) continue;
      const link = peers.get(id);
      if (link !== undefined && link.address === now[id]) continue;
      // A member that moved (`replog member update`): its old address may be another process's now.
      if (link !== undefined) void link.close();
      addPeer(id, now[id]!);
    }
  };
  /**
   * R13 in the shell: the members of newer configurations a recovering or restart-checking replica's peers told it of
   * (recover replies' links). Its recovery asks them (discovery.ts), so it links to them and admits
   * their hellos, though its stored chain (a wiped disk's flags) does not name them yet.
   */
  function isSeedOnly(id: ReplicaId): boolean {
    return gossipSeeds.has(id) && discovered[id] === undefined && currentMembers()[id] === undefined;
  }
  function discoveredFrom(links: readonly PlacedConfiguration[]): void {
    const c = links.at(-1); // the newest: members of older links may have been removed since
    if (c !== undefined) for (const m of [...c.voters, ...c.learners]) if (m.id !== options.id && currentMembers()[m.id] === undefined) discovered[m.id] = m.address;
  }
  /**
   * R13: state gossip from a replica this one does not know (a member of a newer configuration; this
   * replica was down or rejoining while the members moved on). The hello is not admitted, but a head newer
   * than this disk's makes the sender a seed: this replica links to the address it gossips and its
   * recovery asks it where the cluster went. Returns false if the message is to be refused.
   */
  function strangerGossip(msg: Message, from: ReplicaId): boolean {
    if (msg.type !== 'peerState') return false;
    const head = storedChain(store.metadata(), flagList).at(-1)!;
    if (msg.config === undefined || msg.config.epoch <= head.epoch || msg.address === undefined) return true;
    try {
      checkAddress(msg.address);
    } catch {
      return false;
    }
    if (discovered[from] === undefined) {
      const known = gossipSeeds.get(from);
      // Full: a newcomer waits until a seed falls silent (forgotten after SEED_HEARD_MS). Evicting one
      // instead would dial every forged address that comes along.
      if (known === undefined && gossipSeeds.size >= SEEDS_MAX) return true;
      gossipSeeds.set(from, { address: msg.address, at: performance.now() });
      if (known?.address !== msg.address) {
        log.info({ peer: from, address: msg.address, epoch: msg.config.epoch }, 'a replica of a newer configuration told its state: asking it where the cluster went');
        syncPeers();
      }
    }
    h.handle(msg, { send: () => true }, from);
    return true;
  }
  syncPeers();

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

  // Membership changes asked through this replica, held for the writer that holds the log (R12, change-relay.ts).
  const relay = new ChangeRelay({
    now: () => performance.now(),
    holder: () => h.writerView(),
    onRefused: (conn, type, reason) => {
      metrics.onRefused(type);
      log.warn({ conn: (conn as ServerConnection).id, reason }, `${type} refused`);
    },
  });

  // The changes admins asked for (R15), by id: a writer without the admin role carries out only these.
  const authority = new ChangeAuthority({ now: () => performance.now() });
  /** Holds an admin's request; the replica that admitted it forwards it to the members it links to (R15). */
  const authorise = (request: ChangeRequest, forward: boolean): void => {
    authority.forgetLearned(storedChain(store.metadata(), flagList));
    if (storedChain(store.metadata(), flagList).some((c) => c.changeId === request.id)) return; // carried out already
    if (!authority.add(request, forward) || !forward) return;
    const frame = encodeChangeFrame({ type: 'changeForward', request });
    const members = currentMembers();
    for (const [id, link] of peers) if (members[id] !== undefined) link.sendFrame(frame);
  };

  /**
   * Under TLS, tells the members this replica links to of the config entry it holds accepted above its
   * head, every timing.peerStateMs while there is one (R15, configVouch): a member that lost the admin's
   * request takes a plain writer's re-proposal of it on this word. Without TLS nobody's config write is
   * judged against requests, and nothing is sent.
   */
  const vouchPending = (): void => {
    if (tls === undefined) return;
    const p = pendingConfig(h.store);
    if (p === undefined) return;
    const frame = encodeChangeFrame({ type: 'configVouch', config: { ...p.config, position: p.position, floor: p.proposal } });
    const members = currentMembers();
    for (const [id, link] of peers) if (members[id] !== undefined) link.sendFrame(frame);
  };

  const helloAdmitted = new WeakSet<object>();
  // A replica asked to listen on port 0 names the port it bound (tests, embedded single-replica logs).
  let boundAddress: string | undefined;
  const selfAddress = (): string => boundAddress ?? members[options.id] ?? options.listen;
  // Reads are served from a fair queue, not as they arrive: large reads must not starve writes (read-queue.ts).
  const reads = new ReadQueue<ServerConnection>({ serve: (msg, conn) => h.handle(msg, conn, conn.peer.replicaId) });
  // Tails' doorbells wait here until this replica learns their position (read-waits.ts).
  const waits = new ReadWaits<ServerConnection>({
    learned: (p) => store.learnedThrough() >= p || store.slot(p)?.learned === true,
    serve: (msg, conn) => reads.push(msg, conn),
  });
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
      // Messages beyond the core's: digest requests (divergence checks) from clients and peers alike,
      // read-only and bounded; the change relay's (R12) from clients.
      extension: {
        codes: new Set([...DIGEST_CODES, ...CHANGE_CODES]),
        onFrame: (payload, conn) => {
          const refused = helloAdmitted.has(conn) ? undefined : refuseHello(conn.peer, options.id, knownIds());
          if (refused !== undefined) return conn.close(`bad input: ${refused}`);
          helloAdmitted.add(conn);
          if (isChangeFrame(payload)) {
            const m = decodeChangeMessage(payload);
            const bad = refuseChangeMessage(m.type, conn.peer, conn.identity);
            if (bad !== undefined) {
              // Counted by type name like the core's (metrics.ts types the label to the core's names).
              metrics.onRefused(m.type);
              return conn.close(`bad input: ${bad}`);
            }
            if (m.type === 'changeForward' || m.type === 'configVouch') {
              // Only a member of the configuration held here speaks for a change: the hello of a removed
              // member is still admitted (its certificate stays valid: no revocation), and its word on a
              // request or a pending entry must not let a plain writer's config write through.
              if (currentMembers()[conn.peer.replicaId!] === undefined) {
                log.warn({ conn: conn.id, from: conn.peer.replicaId, type: m.type }, `${m.type} from a replica that is not a member of this configuration: ignored`);
                return;
              }
              if (m.type === 'changeForward') return authorise(m.request, false);
              return authority.vouch(conn.peer.replicaId!, m.config);
            }
            if (m.type === 'changeOffer') {
              // Admitted: an admin's (with TLS) or anyone's (without, where any client may change members).
              if (m.withdraw !== true) authorise(m.request, true);
              const reply = relay.offer(m, conn);
              // Withdrawn here before any writer took it: no plain writer may carry it out through this
              // replica any more (a taken one stays authorised: its writer is at work on it).
              if (m.withdraw === true && reply.state === 'withdrawn') authority.revoke(m.request.id);
              conn.sendFrame(encodeChangeFrame(reply));
            }
            else if (m.type === 'changeTake') conn.sendFrame(encodeChangeFrame(relay.take(m, conn, mayCarryChanges(conn.identity))));
            else if (m.type === 'changeReport') {
              const verdict = relay.report(m.id, m.outcome, conn);
              if (verdict !== 'settled') log.warn({ conn: conn.id, change: m.id, verdict }, 'change report ignored');
            }
            return;
          }
          const msg = decodeDigestMessage(payload);
          if (msg.type !== 'digest') return conn.close(`bad input: a ${conn.peer.role} may not send '${msg.type}' to a replica's port`);
          digests.push(msg, conn);
        },
      },
      onClose: (conn) => relay.connectionClosed(conn),
      onMessage: (msg, conn) => {
        // The hello is judged once per connection; each message by its type (a set lookup).
        let refused = helloAdmitted.has(conn) ? undefined : refuseHello(conn.peer, options.id, knownIds());
        // Gossip from a replica of a newer configuration is taken before its hello is admitted (R13).
        if (refused !== undefined && isStrangerHello(conn.peer, options.id) && strangerGossip(msg, conn.peer.replicaId!)) return;
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
          // Clients learn member ids and the quorum from the replicas, never from their address list: the
          // configuration this disk holds (before any change: the members, all voters, epoch 0). From wire
          // version 3 the reply carries the cluster id, the placement and the chain too (docs/wire.md).
          const chain = storedChain(h.store.metadata(), flagList);
          const config = summarise(chain, options.id);
          const here = (ms: readonly { id: number; address: string }[]) => ms.map((m) => (m.id === options.id ? { id: m.id, address: selfAddress() } : m));
          const head = chain[chain.length - 1]!;
          const pending = pendingConfig(h.store);
          conn.send({
            type: 'configReply', rid: msg.rid, epoch: config.epoch, members: here(config.members),
            clusterId, position: head.position, voters: here(head.voters), learners: here(head.learners), nextId: head.nextId, chain,
            // A change in progress: a config entry this replica accepted above its head (`config show`'s pending).
            ...(pending === undefined ? {} : { pending }),
          });
          return;
        }
        if (msg.type === 'read') return msg.waitMs === undefined ? reads.push(msg, conn) : waits.push(msg, conn);
        const offersConfig =
          (msg.type === 'write' && msg.actions.some((x) => x.kind === 'config')) || (msg.type === 'promise' && (msg.install !== undefined || msg.links !== undefined));
        if (offersConfig && conn.peer.role !== 'replica') {
          const chain = storedChain(h.store.metadata(), flagList);
          const bad =
            refuseConfigWrite(msg, chain) ??
            refuseConfigPromise(msg, chain) ??
            refuseNonAdminConfig(msg, conn.peer, conn.identity, { chain, accepted: (p) => h.store.action(p), request: (id) => authority.get(id), pending: () => h.store.pendingConfigs?.() ?? [], vouched: (p, c) => authority.vouched(p, c) });
          if (bad !== undefined) {
            metrics.onRefused(msg.type);
            conn.close(`bad input: ${bad}`);
            return;
          }
          if (msg.type === 'promise') return h.handle(vouchedOffers(msg, chain, (p) => h.store.action(p)), conn, conn.peer.replicaId);
        }
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
        // A commit (or anything else) may have taught this replica a position a held read waits for.
        waits.poke();
      },
    });
  } catch (err) {
    check.stop();
    await Promise.all([...peers.values()].map((p) => p.close()));
    await store.close();
    throw listenError('cannot listen on', options.listen, err);
  }
  metrics.connections = () => listener.connectionCount;
  let admin: AdminServer | undefined;
  if (options.admin !== undefined) {
    try {
      admin = await startAdmin(options.admin, { id: options.id, members, host: h, metrics, clusterId, divergence: check, tls });
    } catch (err) {
      check.stop();
      await listener.close();
      await Promise.all([...peers.values()].map((p) => p.close()));
      await store.close();
      throw listenError('cannot serve admin HTTP on', options.admin, err);
    }
  }
  const address = `${listenAt.host}:${listener.port}`;
  if (parseAddress(members[options.id] ?? options.listen, { portZero: true }).port === 0) boundAddress = address;
  // R11: the first start under reconfiguration writes down the cluster id and the first configuration
  // (the flags, all voters, epoch 0; this replica at the address it bound). A directory that stores a
  // chain keeps it.
  if (flags !== undefined) {
    const here = flagList.map((m) => (m.id === options.id ? { id: m.id, address: selfAddress() } : m));
    const boot = bootstrapMetadata(store.metadata(), here, clusterId);
    const bad = boot === undefined ? undefined : chainProblem(boot.configs!);
    if (bad !== undefined) {
      // Flags that make no configuration (two members at one address, a port 0 of another member): kept
      // as today's read side takes them, not stored; no change can be made from them.
      log.warn({ members: here.map((m) => `${m.id}=${m.address}`).join(',') }, `the members are not a configuration that can be stored (${bad}): nothing stored; membership changes are not possible`);
    } else if (boot !== undefined) {
      store.append([{ type: 'metadata', metadata: boot }]);
      await store.sync();
      log.info({ epoch: 0, members: here.map((m) => `${m.id}=${m.address}`).join(','), clusterId }, 'stored the cluster id and its first configuration (R11)');
    }
  }
  let ticks = 0;
  const ticker = setInterval(() => {
    h.tick();
    syncPeers();
    waits.poke();
    if (++ticks % (timing.peerStateMs / 50) === 0) vouchPending();
  }, 50);
  ticker.unref();
  check.start();
  if (h.status === 'VOTING') readyNow!.resolve();
  log.info(
    { address, admin: admin?.address, dir: options.dir, status: h.status, clusterId, tls: tls !== undefined },
    tls === undefined
      ? 'replica started (plaintext: no TLS configured; anyone who reaches the port may append, truncate or pose as a peer)'
      : `replica started (mutual TLS, certificate for ${describeIdentity(tls.identity)}, valid until ${new Date(tls.notAfter).toISOString()})`,
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      readyNow!.reject(new Error('the replica stopped before it was VOTING'));
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
  };
  const replica = Object.assign(events, {
    id: options.id,
    address,
    adminAddress: admin?.address,
    clusterId,
    ready,
    host: h,
    divergence: check,
    port: listener,
    metrics,
    registry: metrics.registry,
    tls: tls !== undefined,
    reloadTls(material: TlsOptions) {
      if (tls === undefined) throw new InvalidArgumentError('this replica was started without TLS: restart it with TLS instead');
      const checked = replicaCredentials(material, options.id);
      tls.reload(material);
      log.info({ notAfter: new Date(checked.notAfter).toISOString() }, 'TLS certificate rotated');
    },
    stop,
    [Symbol.asyncDispose]: stop,
  });
  Object.defineProperty(replica, 'status', { get: () => h.status, enumerable: true });
  return replica as typeof replica & { readonly status: Status };
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

/** Whether `dir` holds a data directory's segments already (a restart, not a first start). */
function hasSegments(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((name) => parseSegmentFileName(name) !== undefined);
}
