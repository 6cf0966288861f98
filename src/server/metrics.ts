/**
 * The replica's Prometheus metrics (GET /metrics), on a registry of its own so
 * that several replicas in one process (tests, embedded mode) do not clash.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Message, Status } from '../core/types.js';
import type { HostMetrics, ReplicaHost } from './replica-host.js';

const STATUSES: readonly Status[] = ['VOTING', 'RECOVERING', 'STARTING', 'EMPTY'];

export class ReplicaMetrics implements HostMetrics {
  readonly registry = new Registry();
  private readonly messages: Counter<'type'>;
  private readonly syncSeconds: Histogram;
  private readonly appendedEntries: Counter;
  private readonly appendedBytes: Counter;
  private readonly refused: Counter<'type'>;

  constructor(host: () => ReplicaHost | undefined, labels: { replica: string }) {
    const registers = [this.registry];
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry });
    this.messages = new Counter({ name: 'replog_messages_total', help: 'Protocol messages received, by type', labelNames: ['type'], registers });
    this.syncSeconds = new Histogram({
      name: 'replog_sync_seconds',
      help: 'Latency of one group commit (write + fdatasync)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    });
    this.appendedEntries = new Counter({ name: 'replog_write_positions_total', help: 'Positions received in write requests', registers });
    this.appendedBytes = new Counter({ name: 'replog_write_bytes_total', help: 'Entry bytes received in write requests', registers });
    this.refused = new Counter({
      name: 'replog_messages_refused_total',
      help: 'Messages refused for who sent them (a client sending what only replicas may, a hello naming a non-member); the connection is closed',
      labelNames: ['type'],
      registers,
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
  }

  onRefused(type: Message['type']): void {
    this.refused.inc({ type });
  }

  onSync(latencyMs: number): void {
    this.syncSeconds.observe(latencyMs / 1000);
  }
}
