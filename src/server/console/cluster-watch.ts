/**
 * ClusterWatch: the whole cluster as one replica sees it, for the console
 * (GET /, /events, /cluster) and the cluster gauges of /metrics. Samples once
 * a second: the member table (members-view.ts), the verdict (verdict.ts),
 * throughput and latency points for the charts, and the event timeline
 * (timeline.ts). Peers are probed over the replica port (peer-probe.ts) as
 * well as heard through their state gossip.
 */
import type { PeerStateMessage, Status } from '../../core/types.js';
import type { DivergenceStatus } from '../divergence-check.js';
import type { LatencyPoint } from './latency-window.js';
import { memberRows, type MemberRow, type ProbeReply } from './members-view.js';
import { PeerProbes } from './peer-probe.js';
import type { TlsCredentials } from '../../net/tls.js';
import { changes, type ConsoleEvent, type Observation } from './timeline.js';
import { quorumOf, verdict, type Verdict } from './verdict.js';

/** What the watch reads from the replica (ReplicaHost and its store, narrowed). */
export interface WatchedHost {
  readonly status: Status;
  readonly storageError: Error | undefined;
  readonly store: {
    begin(): number;
    end(): number;
    learnedThrough(): number;
    lostPositions(): readonly unknown[];
    metadata(): { generation?: number };
  };
  peerStates(): ReadonlyMap<number, { state: PeerStateMessage; at: number }>;
  writerView(): { proposal: number; counted: number[]; reachable: number[]; quorum: number; survives: number; lastWriteAgoMs: number; active: boolean } | null;
  recoveryProgress(): { done: number; total: number; bytes: number } | null;
  /** The clock peerStates().at is measured on (ms). */
  clockMs(): number;
}

/** What happened on this replica during one period (ReplicaMetrics.takePeriod). */
export interface PeriodStats {
  readonly positions: number;
  readonly bytes: number;
  readonly write: LatencyPoint;
  readonly sync: LatencyPoint;
}

/** Where the watch reports what only it sees (ReplicaMetrics counts them). */
export interface WatchSink {
  takePeriod(): PeriodStats;
  onWriterChange?(): void;
  onCorruptionFound?(positions: number): void;
  onRepaired?(positions: number): void;
}

/** The configuration this replica holds now: it changes when a membership change is learned. */
export interface ConsoleMembers {
  readonly epoch: number;
  /** Voters and learners, by id. */
  readonly members: Readonly<Record<number, string>>;
  readonly learners: ReadonlySet<number>;
}

export interface WatchOptions {
  readonly id: number;
  /** Read at every refresh, so the table follows membership changes. */
  readonly members: () => ConsoleMembers;
  readonly clusterId: string;
  readonly host: WatchedHost;
  readonly sink: WatchSink;
  readonly periodMs?: number;
  /** The background divergence check's latest result (its /status field), if the replica runs one. */
  readonly divergence?: () => DivergenceStatus | null;
  /** The replica's TLS credentials: the probes of its peers use them. */
  readonly tls?: TlsCredentials;
  /** Chart points kept (one a period); default two minutes' worth, at most 600. */
  readonly chartPoints?: number;
}

export interface ChartSeries {
  /** Wall-clock ms of each point. */
  readonly t: number[];
  readonly appendsPerSec: number[];
  readonly bytesPerSec: number[];
  readonly writeP50Ms: (number | null)[];
  readonly writeP99Ms: (number | null)[];
  readonly syncP50Ms: (number | null)[];
  readonly syncP99Ms: (number | null)[];
}

export interface ConsoleSnapshot {
  readonly at: string;
  readonly self: number;
  readonly clusterId: string;
  readonly config: {
    readonly epoch: number;
    readonly members: { id: number; address: string; role: 'voter' | 'learner' }[];
    /** Of the voters. */
    readonly quorum: number;
  };
  readonly verdict: Verdict;
  readonly members: MemberRow[];
  readonly writer: (NonNullable<ReturnType<WatchedHost['writerView']>> & { since: string | null; changesSeen: number }) | null;
  readonly integrity: {
    readonly lostPositions: number;
    readonly corruptedFound: number;
    readonly repaired: number;
    readonly storageError: string | null;
    /** The last divergence check of this replica's chosen values against its peers' (null: no check runs). */
    readonly divergence: DivergenceStatus | null;
  };
  readonly series: ChartSeries;
  readonly events: readonly ConsoleEvent[];
}

const EVENTS_KEPT = 40;
/** Catch-up rates are measured over this much of the latest progress. */
const RATE_WINDOW_MS = 5000;
/** Samples of the cluster's highest end kept for lag in seconds (10 min at one a second). */
const END_HISTORY = 600;

export class ClusterWatch {
  private readonly periodMs: number;
  private readonly chartPoints: number;
  private timer: NodeJS.Timeout | undefined;
  private probes: PeerProbes | undefined;
  private readonly listeners = new Set<(s: ConsoleSnapshot) => void>();
  private readonly series: ChartSeries = { t: [], appendsPerSec: [], bytesPerSec: [], writeP50Ms: [], writeP99Ms: [], syncP50Ms: [], syncP99Ms: [] };
  private readonly events: ConsoleEvent[] = [];
  private readonly endHistory: { at: number; end: number }[] = [];
  private readonly progressSeen = new Map<number, { samples: { at: number; done: number }[]; rate: number | null }>();
  private last: Observation | undefined;
  private lastSampleAt: number;
  private writerSince: string | null = null;
  private writerChanges = 0;
  private corruptedFound = 0;
  private repaired = 0;
  private latest: ConsoleSnapshot | undefined;

  constructor(private readonly opts: WatchOptions) {
    this.periodMs = opts.periodMs ?? 1000;
    // Two minutes of points at the default period; at most 600 (a minute at the shortest).
    this.chartPoints = opts.chartPoints ?? Math.min(600, Math.ceil(120_000 / this.periodMs));
    this.lastSampleAt = opts.host.clockMs();
    this.pushEvent('started', `console of replica ${opts.id} started`);
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.sample(), this.periodMs);
    this.timer.unref();
  }

  /** Starts asking peers for their status over the replica port (the admin endpoint does at start). */
  enableProbes(): void {
    if (this.probes !== undefined) return;
    this.probes = new PeerProbes(this.opts.clusterId, () => this.opts.host.clockMs(), this.opts.tls);
    this.probes.follow(this.peers());
    this.probes.poll();
  }

  /** The other members of the configuration held now, by id. */
  private peers(): Map<number, string> {
    return new Map(Object.entries(this.opts.members().members).map(([id, a]) => [Number(id), a] as const).filter(([id]) => id !== this.opts.id));
  }

  /** Each new snapshot, once a period; returns the unsubscribe function. */
  subscribe(listener: (s: ConsoleSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The member table as of now (fresh, not the last sample's). */
  rows(): MemberRow[] {
    const h = this.opts.host;
    const s = h.store;
    const now = h.clockMs();
    const config = this.opts.members();
    return memberRows({
      now,
      members: config.members,
      learners: config.learners,
      self: { id: this.opts.id, status: h.status, generation: s.metadata().generation ?? 0, begin: s.begin(), end: s.end(), learnedThrough: s.learnedThrough(), progress: h.recoveryProgress() },
      gossip: h.peerStates(),
      probes: this.probes?.latest ?? new Map<number, ProbeReply>(),
      connected: this.probes?.connected() ?? new Set<number>(),
      rates: new Map([...this.progressSeen].filter(([, v]) => v.rate !== null).map(([id, v]) => [id, v.rate!])),
      lagSecondsFor: (end) => this.lagSeconds(end, now),
    });
  }

  /** The latest snapshot, made now if none was sampled yet. */
  snapshot(): ConsoleSnapshot {
    return this.latest ?? this.build(this.rows());
  }

  /** One period: charts, rates, events, and a snapshot to the subscribers. */
  sample(): ConsoleSnapshot {
    // A change learned since the last period: probe the members it added, drop the ones it removed.
    this.probes?.follow(this.peers());
    this.probes?.poll();
    const now = this.opts.host.clockMs();
    const seconds = Math.max(0.001, (now - this.lastSampleAt) / 1000);
    this.lastSampleAt = now;
    const p = this.opts.sink.takePeriod();
    this.pushPoint(Date.now(), p, seconds);
    let rows = this.rows();
    const highest = Math.max(-1, ...rows.map((r) => r.end ?? -1));
    this.endHistory.push({ at: now, end: highest });
    if (this.endHistory.length > END_HISTORY) this.endHistory.shift();
    this.updateRates(rows, now);
    rows = this.rows();
    this.observe(rows);
    this.latest = this.build(rows);
    for (const l of this.listeners) l(this.latest);
    return this.latest;
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    await this.probes?.close();
  }

  private pushPoint(at: number, p: PeriodStats, seconds: number): void {
    const s = this.series;
    s.t.push(at);
    s.appendsPerSec.push(p.positions / seconds);
    s.bytesPerSec.push(p.bytes / seconds);
    s.writeP50Ms.push(p.write.p50Ms);
    s.writeP99Ms.push(p.write.p99Ms);
    s.syncP50Ms.push(p.sync.p50Ms);
    s.syncP99Ms.push(p.sync.p99Ms);
    if (s.t.length > this.chartPoints) for (const a of Object.values(s)) (a as unknown[]).shift();
  }

  /** Catch-up rate per member: positions a second over the samples of the last RATE_WINDOW_MS (null until it moved). */
  private updateRates(rows: readonly MemberRow[], now: number): void {
    for (const r of rows) {
      if (r.recovery === null) {
        this.progressSeen.delete(r.id);
        continue;
      }
      let seen = this.progressSeen.get(r.id);
      const done = r.recovery.done;
      // A catch-up that started over (a new range) restarts the window.
      if (seen === undefined || done < seen.samples[seen.samples.length - 1]!.done) {
        seen = { samples: [], rate: null };
        this.progressSeen.set(r.id, seen);
      }
      seen.samples.push({ at: now, done });
      while (seen.samples.length > 2 && now - seen.samples[0]!.at > RATE_WINDOW_MS) seen.samples.shift();
      const first = seen.samples[0]!;
      seen.rate = now - first.at >= 500 && done > first.done ? ((done - first.done) * 1000) / (now - first.at) : seen.rate;
    }
  }

  /** Seconds since the cluster's highest end first passed `end` (at least, if before the history kept). */
  private lagSeconds(end: number, now: number): number | null {
    const h = this.endHistory;
    if (h.length === 0) return null;
    const i = h.findIndex((x) => x.end > end);
    if (i === -1) return 0;
    return (now - h[i]!.at) / 1000;
  }

  private observe(rows: MemberRow[]): void {
    const s = this.opts.host.store;
    const cur: Observation = { rows, writerProposal: this.opts.host.writerView()?.proposal ?? null, selfId: this.opts.id, selfBegin: s.begin(), lostPositions: s.lostPositions().length };
    if (this.last === undefined) {
      if (cur.writerProposal !== null) this.writerSince = new Date().toISOString();
    } else {
      for (const e of changes(this.last, cur)) {
        this.pushEvent(e.kind, e.text);
        if (e.kind === 'writer') {
          this.writerChanges++;
          this.writerSince = new Date().toISOString();
          this.opts.sink.onWriterChange?.();
        }
      }
      const delta = cur.lostPositions - this.last.lostPositions;
      if (delta > 0) {
        this.corruptedFound += delta;
        this.opts.sink.onCorruptionFound?.(delta);
      } else if (delta < 0) {
        this.repaired -= delta;
        this.opts.sink.onRepaired?.(-delta);
      }
    }
    this.last = cur;
  }

  private pushEvent(kind: ConsoleEvent['kind'], text: string): void {
    this.events.push({ at: new Date().toISOString(), kind, text });
    if (this.events.length > EVENTS_KEPT) this.events.shift();
  }

  private build(rows: MemberRow[]): ConsoleSnapshot {
    const h = this.opts.host;
    const lost = h.store.lostPositions().length;
    const storageError = h.storageError?.message ?? null;
    const divergence = this.opts.divergence?.() ?? null;
    const w = h.writerView();
    const held = this.opts.members();
    const ids = Object.keys(held.members).map(Number).sort((a, b) => a - b);
    const role = (id: number) => (held.learners.has(id) ? ('learner' as const) : ('voter' as const));
    const members = ids.map((id) => ({ id, address: held.members[id]!, role: role(id) }));
    return {
      at: new Date().toISOString(),
      self: this.opts.id,
      clusterId: this.opts.clusterId,
      config: { epoch: held.epoch, members, quorum: quorumOf(members.filter((m) => m.role === 'voter').length) },
      verdict: verdict(rows, { storageError, lostPositions: lost, divergence: divergence?.firstMismatch ?? null }),
      members: rows,
      writer: w === null ? null : { ...w, since: this.writerSince, changesSeen: this.writerChanges },
      integrity: { lostPositions: lost, corruptedFound: this.corruptedFound, repaired: this.repaired, storageError, divergence },
      series: this.series,
      events: [...this.events].reverse(),
    };
  }
}
