/**
 * The replica's Prometheus metrics (GET /metrics), on a registry of its own so
 * that several replicas in one process (tests, embedded mode) do not clash.
 * Every metric is listed with its meaning in docs/operations.md; the alert
 * rules (deploy/prometheus/alerts.yml) and the Grafana dashboard use them.
 * The cluster gauges (replog_cluster_*, replog_peer_*) show the cluster as
 * this replica sees it, from the console's ClusterWatch (attachCluster).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Message, Status, WriteOutcome } from '../core/types.js';
import type { PeriodStats, WatchSink } from './console/cluster-watch.js';
import { LatencyWindow } from './console/latency-window.js';
import type { MemberRow, MemberStatus } from './console/members-view.js';
import { quorumOf } from './console/verdict.js';

/** What the configuration gauges read: the epoch held and this replica's role in it. */
export interface HeldConfiguration {
  readonly epoch: number;
  readonly role: (typeof ROLES)[number];
}

const ROLES = ['voter', 'learner', 'removed', 'none'] as const;
import type { HostMetrics, ReplicaHost } from './replica-host.js';

const STATUSES: readonly Status[] = ['VOTING', 'RECOVERING', 'STARTING', 'EMPTY'];
const MEMBER_STATUSES: readonly MemberStatus[] = [...STATUSES, 'UNREACHABLE'];
const OUTCOMES: readonly WriteOutcome[] = ['accept', 'reject', 'ignored', 'stale'];
/** Seconds: from the 0.1 ms a sync takes on a quiet disk to the half second of a stalled one. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];

export class ReplicaMetrics implements HostMetrics, WatchSink {
  readonly registry = new Registry();
  private readonly messages: Counter<'type'>;
  private readonly syncSeconds: Histogram;
  private readonly appendedEntries: Counter;
  private readonly appendedBytes: Counter;
  private readonly refused: Counter<'type'>;
  private readonly connectionsRefused: Counter<'reason' | 'direction'>;
  /** When this replica's TLS certificate expires (ms since the epoch), once TLS is configured. */
  tlsNotAfter: (() => number) | undefined;
  private readonly writeReplySeconds: Histogram;
  private readonly writeReplies: Counter<'outcome'>;
  private readonly byOutcome = new Map<WriteOutcome, { inc(): void }>();
  private readonly writerChanges: Counter;
  private readonly corruptedFound: Counter;
  private readonly corruptedRepaired: Counter;
  /** Per-second points for the console's charts (takePeriod). */
  private readonly writeWindow = new LatencyWindow();
  private readonly syncWindow = new LatencyWindow();
  private periodPositions = 0;
  private periodBytes = 0;
  /** Open connections on the replica port (set once the listener runs). */
  connections: (() => number) | undefined;
  /** The member table as this replica sees it (set by the admin endpoint). */
  private cluster: (() => readonly MemberRow[]) | undefined;
  private held: (() => HeldConfiguration) | undefined;

  constructor(host: () => ReplicaHost | undefined, labels: { replica: string }, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.registry.setDefaultLabels(labels);
    // Left out for an application that merges this registry into its own, which collects them already.
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.messages = new Counter({ name: 'replog_messages_total', help: 'Protocol messages received, by type', labelNames: ['type'], registers });
    this.syncSeconds = new Histogram({
      name: 'replog_sync_seconds',
      help: 'Latency of one group commit (write + fdatasync)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.writeReplySeconds = new Histogram({
      name: 'replog_write_reply_seconds',
      help: 'From a write request received to its reply sent, on this replica: queueing plus the sync that made it durable (the quorum round trip is the writer\'s)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.writeReplies = new Counter({
      name: 'replog_write_replies_total',
      help: 'Write replies by outcome: accept; reject (the writer was fenced by a higher proposal); stale (the writer counted a retired disk); ignored',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of OUTCOMES) this.byOutcome.set(outcome, this.writeReplies.labels({ outcome }));
    this.writerChanges = new Counter({ name: 'replog_writer_changes_total', help: 'Changes of the writer (its proposal) seen by this replica', registers });
    this.corruptedFound = new Counter({ name: 'replog_corrupted_positions_found_total', help: 'Positions whose stored record was found corrupted (sampled once a second)', registers });
    this.corruptedRepaired = new Counter({ name: 'replog_corrupted_positions_repaired_total', help: 'Corrupted positions repaired from peers (sampled once a second)', registers });
    this.appendedEntries = new Counter({ name: 'replog_write_positions_total', help: 'Positions received in write requests', registers });
    this.appendedBytes = new Counter({ name: 'replog_write_bytes_total', help: 'Entry bytes received in write requests', registers });
    this.refused = new Counter({
      name: 'replog_messages_refused_total',
      help: 'Messages refused for who sent them (a client sending what only replicas may, a hello naming a non-member); the connection is closed',
      labelNames: ['type'],
      registers,
    });
    this.connectionsRefused = new Counter({
      name: 'replog_connections_refused_total',
      help: 'Connections refused for their transport or certificate (plaintext on a TLS port, another CA, expired, a hello its certificate does not back, ...) or a connection bound (too-many-connections, too-many-from-address); direction: inbound on the replica port, outbound on this replica\'s links to its peers',
      labelNames: ['reason', 'direction'],
      registers,
    });
    const notAfter = () => this.tlsNotAfter?.();
    new Gauge({
      name: 'replog_tls_certificate_expiry_seconds',
      help: 'Seconds until this replica\'s TLS certificate expires (absent without TLS)',
      registers,
      collect() {
        this.reset();
        const t = notAfter();
        if (t !== undefined) this.set((t - Date.now()) / 1000);
      },
    });
    new Gauge({
      name: 'replog_status',
      help: 'The replica status (1 for the current one)',
      labelNames: ['status'],
      registers,
      collect() {
        const s = host()?.status;
        for (const x of STATUSES) this.set({ status: x }, s === x ? 1 : 0);
      },
    });
    new Gauge({ name: 'replog_log_begin', help: 'First position not truncated', registers, collect() { this.set(host()?.store.begin() ?? 0); } });
    new Gauge({ name: 'replog_log_end', help: 'Highest position held', registers, collect() { this.set(host()?.store.end() ?? -1); } });
    new Gauge({ name: 'replog_log_learned_through', help: 'Every position up to this one is learned here', registers, collect() { this.set(host()?.store.learnedThrough() ?? -1); } });
    new Gauge({ name: 'replog_lost_positions', help: 'Positions whose stored record is corrupted (not served)', registers, collect() { this.set(host()?.store.lostPositions().length ?? 0); } });
    new Gauge({ name: 'replog_generation', help: 'The generation of this replica\'s disk (grows each time it rejoins after losing its data)', registers, collect() { this.set(host()?.store.metadata().generation ?? 0); } });
    const connections = () => this.connections?.() ?? 0;
    new Gauge({ name: 'replog_connections', help: 'Open connections on the replica port (clients and peers)', registers, collect() { this.set(connections()); } });
    this.recoveryGauges(host, registers);
    this.writerGauges(host, registers);
    this.clusterGauges(registers);
    this.configGauges(registers);
  }

  private recoveryGauges(host: () => ReplicaHost | undefined, registers: Registry[]): void {
    const progress = () => host()?.recoveryProgress() ?? null;
    new Gauge({ name: 'replog_recovery_active', help: '1 while this replica catches up after losing its data (rejoin), else 0', registers, collect() { this.set(progress() === null ? 0 : 1); } });
    new Gauge({ name: 'replog_recovery_positions_done', help: 'Positions of the catch-up range learned so far (0 when not recovering)', registers, collect() { this.set(progress()?.done ?? 0); } });
    new Gauge({ name: 'replog_recovery_positions_total', help: 'Positions in the catch-up range (0 when not recovering)', registers, collect() { this.set(progress()?.total ?? 0); } });
    new Gauge({ name: 'replog_recovery_bytes_done', help: 'Entry bytes copied by the catch-up so far (the total is unknown until done)', registers, collect() { this.set(progress()?.bytes ?? 0); } });
  }

  private writerGauges(host: () => ReplicaHost | undefined, registers: Registry[]): void {
    const w = () => host()?.writerView() ?? null;
    new Gauge({ name: 'replog_writer_proposal', help: 'The proposal of the writer that last wrote here under this replica\'s promise (0 if none)', registers, collect() { this.set(w()?.proposal ?? 0); } });
    new Gauge({ name: 'replog_writer_active', help: '1 if a writer committed here lately, else 0', registers, collect() { this.set(w()?.active ? 1 : 0); } });
    new Gauge({ name: 'replog_writer_counted_members', help: 'Members the writer counted in its latest write accepted here', registers, collect() { this.set(w()?.counted.length ?? 0); } });
    new Gauge({ name: 'replog_writer_survives', help: 'How many more counted members the writer may lose before it stalls (0 at its last quorum)', registers, collect() { this.set(w()?.survives ?? 0); } });
  }

  /** The cluster as this replica sees it; zero members until the admin endpoint attaches its view. */
  private clusterGauges(registers: Registry[]): void {
    const rows = () => this.cluster?.() ?? [];
    const peers = () => rows().filter((r) => !r.self);
    // Only voters make a quorum: learners are counted apart.
    const voters = () => rows().filter((r) => r.role === 'voter');
    const voting = (rs: readonly MemberRow[]) => rs.filter((r) => r.status === 'VOTING').length;
    new Gauge({ name: 'replog_cluster_members', help: 'Voters in the configuration', registers, collect() { this.set(voters().length); } });
    new Gauge({ name: 'replog_cluster_learners', help: 'Learners in the configuration (added, not voting yet)', registers, collect() { this.set(rows().length - voters().length); } });
    new Gauge({ name: 'replog_cluster_quorum_size', help: 'Voters needed for a quorum', registers, collect() { const n = voters().length; this.set(n === 0 ? 0 : quorumOf(n)); } });
    new Gauge({ name: 'replog_cluster_voting_members', help: 'Voters VOTING and heard from lately, this replica included', registers, collect() { this.set(voting(voters())); } });
    new Gauge({
      name: 'replog_cluster_failures_tolerated',
      help: 'How many more members may be lost with a quorum left (VOTING members heard from minus the quorum; negative without a quorum: how many members short)',
      registers,
      collect() {
        const rs = voters();
        this.set(rs.length === 0 ? 0 : voting(rs) - quorumOf(rs.length));
      },
    });
    new Gauge({ name: 'replog_peer_up', help: '1 if this replica heard from the peer within 2.5 s, else 0', labelNames: ['peer'], registers, collect() { this.reset(); for (const r of peers()) this.set({ peer: String(r.id) }, r.status === 'UNREACHABLE' ? 0 : 1); } });
    new Gauge({
      name: 'replog_peer_last_contact_seconds',
      help: 'Seconds since this replica last heard from the peer (absent if never)',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const r of peers()) if (r.lastContactMs !== null) this.set({ peer: String(r.id) }, r.lastContactMs / 1000);
      },
    });
    new Gauge({
      name: 'replog_peer_lag_positions',
      help: 'Positions the member is behind the highest end known in the cluster (absent while unreachable)',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const r of rows()) if (r.lagPositions !== null) this.set({ peer: String(r.id) }, r.lagPositions);
      },
    });
    new Gauge({
      name: 'replog_peer_status',
      help: 'Each member\'s status as this replica sees it (1 for the current one), UNREACHABLE included',
      labelNames: ['peer', 'status'],
      registers,
      collect() {
        this.reset();
        for (const r of rows()) for (const s of MEMBER_STATUSES) this.set({ peer: String(r.id), status: s }, r.status === s ? 1 : 0);
      },
    });
  }

  /** The configuration gauges: epoch, this replica's role, each learner's lag (issue 12's metrics). */
  private configGauges(registers: Registry[]): void {
    const held = () => this.held?.();
    const rows = () => this.cluster?.() ?? [];
    new Gauge({ name: 'replog_config_epoch', help: 'The epoch of the configuration this replica holds (0: the members the cluster started with)', registers, collect() { this.set(held()?.epoch ?? 0); } });
    new Gauge({
      name: 'replog_role',
      help: 'This replica\'s role in the configuration it holds (1 for the current one)',
      labelNames: ['role'],
      registers,
      collect() {
        const role = held()?.role;
        for (const r of ROLES) this.set({ role: r }, r === role ? 1 : 0);
      },
    });
    new Gauge({
      name: 'replog_learner_lag_positions',
      help: 'Positions each learner is behind the highest end known in the cluster (absent while unreachable): promote it once this is small',
      labelNames: ['member'],
      registers,
      collect() {
        this.reset();
        for (const r of rows()) if (r.role === 'learner' && r.lagPositions !== null) this.set({ member: String(r.id) }, r.lagPositions);
      },
    });
  }

  /** Gives the cluster gauges their member table (the console's ClusterWatch) and the configuration held. */
  attachCluster(rows: () => readonly MemberRow[], held?: () => HeldConfiguration): void {
    this.cluster = rows;
    this.held = held;
  }

  /** One labelled child per message type, looked up once (inc({ type }) hashes the labels on every call). */
  private readonly byType = new Map<Message['type'], { inc(): void }>();

  onMessage(type: Message['type']): void {
    let c = this.byType.get(type);
    if (c === undefined) {
      c = this.messages.labels({ type });
      this.byType.set(type, c);
    }
    c.inc();
  }

  onWrite(positions: number, bytes: number): void {
    this.appendedEntries.inc(positions);
    this.appendedBytes.inc(bytes);
    this.periodPositions += positions;
    this.periodBytes += bytes;
  }

  /** A reply to a write request left, `latencyMs` after the request arrived. */
  onWriteReply(msg: Message, latencyMs: number): void {
    if (msg.type !== 'writeReply') return;
    this.byOutcome.get(msg.outcome)?.inc();
    this.writeReplySeconds.observe(latencyMs / 1000);
    this.writeWindow.observe(latencyMs);
  }

  /** What happened since the last call (the console's chart points). */
  takePeriod(): PeriodStats {
    const p = { positions: this.periodPositions, bytes: this.periodBytes, write: this.writeWindow.take(), sync: this.syncWindow.take() };
    this.periodPositions = 0;
    this.periodBytes = 0;
    return p;
  }

  onWriterChange(): void {
    this.writerChanges.inc();
  }

  onCorruptionFound(positions: number): void {
    this.corruptedFound.inc(positions);
  }

  onRepaired(positions: number): void {
    this.corruptedRepaired.inc(positions);
  }

  onConnectionRefused(reason: string, direction: 'inbound' | 'outbound'): void {
    this.connectionsRefused.inc({ reason, direction });
  }

  /** A message refused by its type: the core's, or the change relay's (outside the core's union). */
  onRefused(type: string): void {
    this.refused.inc({ type });
  }

  onSync(latencyMs: number): void {
    this.syncSeconds.observe(latencyMs / 1000);
    this.syncWindow.observe(latencyMs);
  }
}
