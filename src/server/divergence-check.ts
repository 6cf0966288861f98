/**
 * The background divergence check of one replica (docs/operations.md,
 * "Divergence checks"): every period (REPLOG_DIVERGENCE_CHECK_MS, default
 * 60 s, 0 disables) it compares the digests of its own chosen values with
 * each reachable peer's, span by span (REPLOG_DIVERGENCE_SPAN positions,
 * default 64 Ki), over the positions both have learned and neither has
 * truncated. A mismatch is bisected down to the first divergent position and
 * reported loudly: an error log line naming the position and the peer, the
 * metrics below, the `divergence` field of /status and the console's
 * integrity section. Nothing is ever repaired: chosen data is never
 * overwritten on the word of a checksum (which copy is right is an
 * operator's call, see docs/operations.md).
 *
 * Cheap: learned values never change except by truncation, which only
 * removes a prefix. So for each peer it remembers how far the two copies
 * were found equal (`verifiedThrough`) and compares only what was learned
 * since; the memory is dropped when the link to the peer reconnects (the
 * peer may have restarted on another or a changed disk) and when the
 * process restarts. Spans are compared one request at a time per peer, each
 * bounded on both sides (digest-service.ts), so a check never starves appends.
 * A check with more than a span to compare stops at a span's end (the rest
 * waits for the next one), so that the checks against each peer and the
 * peers' checks against this replica ask for the same ranges, which the
 * DigestService digests once.
 *
 * Metrics (docs/operations.md): replog_divergence_checks_total{result},
 * replog_divergence_mismatches_total, replog_divergence_mismatch{peer},
 * replog_divergence_first_mismatch_position,
 * replog_divergence_verified_through{peer},
 * replog_divergence_last_check_timestamp_seconds.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { StoreView } from '../core/store.js';
import type { DigestReply } from '../net/digest-codec.js';
import { compareSpan, type DigestSide } from './divergence-compare.js';
import { DigestRequester, localSide, remoteSide, type DigestService } from './digest-service.js';

export type CheckResult = 'ok' | 'mismatch' | 'incomplete';
export type PeerCheckResult = CheckResult | 'unreachable';

export interface PeerDivergence {
  readonly id: number;
  readonly result: PeerCheckResult;
  /** Every position below this one that both copies hold was found equal (-1: nothing compared yet). */
  readonly verifiedThrough: number;
  /** The first position where this peer's copy and this replica's differ, if the last check found one. */
  readonly mismatchAt: number | null;
  /** Why the check of this peer is incomplete or unreachable. */
  readonly note: string | null;
}

/** The `divergence` field of /status. */
export interface DivergenceStatus {
  readonly enabled: boolean;
  readonly periodMs: number;
  readonly span: number;
  /** When the last check finished (ISO), or null if none has yet. */
  readonly lastCheckAt: string | null;
  readonly ageSeconds: number | null;
  /** ok: every peer agrees as far as both learned; mismatch: some peer differs; incomplete: some peer could not be compared. */
  readonly result: CheckResult | null;
  /** The lowest divergent position the last check found, and with which peer. */
  readonly firstMismatch: { readonly position: number; readonly peer: number } | null;
  readonly peers: readonly PeerDivergence[];
}

export interface DivergenceLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A peer as the check reaches it: a link that sends frames. */
export interface DivergencePeer {
  readonly connected: boolean;
  sendFrame(frame: Buffer): boolean;
}

export interface DivergenceCheckOptions {
  readonly self: number;
  readonly peers: ReadonlyMap<number, DivergencePeer>;
  readonly service: DigestService;
  readonly store: () => StoreView;
  readonly log: DivergenceLogger;
  readonly registry?: Registry;
  /** 0 disables the background check (runOnce still works). */
  readonly periodMs: number;
  readonly span: number;
  /** Per digest request; default 5 s (each retried twice). */
  readonly timeoutMs?: number;
  /** Pause between two spans, so that a long first check stays gentle; default 5 ms. */
  readonly spanPauseMs?: number;
}

/** The period from REPLOG_DIVERGENCE_CHECK_MS (default 60 000; 0 disables). */
export function divergencePeriodFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['REPLOG_DIVERGENCE_CHECK_MS'];
  if (raw === undefined || raw.trim() === '') return 60_000;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : 60_000;
}

/** The span from REPLOG_DIVERGENCE_SPAN (default 65 536 positions). */
export function divergenceSpanFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env['REPLOG_DIVERGENCE_SPAN'] ?? 65_536);
  return Number.isSafeInteger(n) && n >= 1 ? n : 65_536;
}

/** A mismatch still present is logged again at most this often. */
const RELOG_MS = 10 * 60_000;

interface PeerState {
  verifiedThrough: number;
  result: PeerCheckResult | null;
  mismatchAt: number | null;
  note: string | null;
  loggedAt: number;
  requester: DigestRequester;
  /** Times in a row the link dropped while a digest request waited (a peer of an older version closes it). */
  strikes: number;
  /** Not asked before this time (ms since epoch): see onPeerDisconnect. */
  pausedUntil: number;
}

/** After this many links dropped in a row with a digest request pending, the peer is left alone for PAUSE_MS. */
const STRIKES_MAX = 2;
const PAUSE_MS = 60 * 60_000;

export class DivergenceCheck {
  private readonly state = new Map<number, PeerState>();
  private readonly local: DigestSide;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<DivergenceStatus> | undefined;
  private stopped = false;
  private lastCheckAt: number | null = null;
  private lastResult: CheckResult | null = null;
  private readonly checks: Counter<'result'> | undefined;
  private readonly mismatches: Counter | undefined;

  constructor(private readonly opts: DivergenceCheckOptions) {
    this.local = localSide(opts.self, opts.service);
    for (const [id, peer] of opts.peers) {
      this.state.set(id, {
        verifiedThrough: -1,
        result: null,
        mismatchAt: null,
        note: null,
        loggedAt: 0,
        strikes: 0,
        pausedUntil: 0,
        requester: new DigestRequester(id, (frame) => peer.sendFrame(frame), opts.timeoutMs ?? 5_000),
      });
    }
    const registers = opts.registry === undefined ? undefined : [opts.registry];
    if (registers === undefined) return;
    const self = this;
    this.checks = new Counter({ name: 'replog_divergence_checks_total', help: 'Divergence checks finished, by result (ok, mismatch, incomplete)', labelNames: ['result'], registers });
    for (const result of ['ok', 'mismatch', 'incomplete']) this.checks.labels({ result }).inc(0);
    this.mismatches = new Counter({ name: 'replog_divergence_mismatches_total', help: 'Divergences found between this replica\'s chosen values and a peer\'s (each peer and first position counted once)', registers });
    new Gauge({
      name: 'replog_divergence_mismatch',
      help: '1 if the last divergence check found this replica\'s chosen values differ from the peer\'s, else 0',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const [id, s] of self.state) this.set({ peer: String(id) }, s.mismatchAt === null ? 0 : 1);
      },
    });
    new Gauge({
      name: 'replog_divergence_first_mismatch_position',
      help: 'The lowest divergent position the last divergence check found (-1 if none)',
      registers,
      collect() {
        this.set(self.firstMismatch()?.position ?? -1);
      },
    });
    new Gauge({
      name: 'replog_divergence_verified_through',
      help: 'Positions below this one that both this replica and the peer hold were found equal by the divergence check (-1: none yet)',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const [id, s] of self.state) this.set({ peer: String(id) }, s.verifiedThrough);
      },
    });
    new Gauge({
      name: 'replog_divergence_last_check_timestamp_seconds',
      help: 'When the last divergence check finished (Unix seconds; 0 if none has)',
      registers,
      collect() {
        this.set(self.lastCheckAt === null ? 0 : self.lastCheckAt / 1000);
      },
    });
  }

  /** Starts the periodic check (a first one soon after start). */
  start(): void {
    if (this.opts.periodMs <= 0 || this.stopped) return;
    this.schedule(Math.min(this.opts.periodMs, 5_000));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const s of this.state.values()) s.requester.failAll('stopping');
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      void this.runOnce().finally(() => {
        if (!this.stopped) this.schedule(this.opts.periodMs);
      });
    }, ms);
    this.timer.unref();
  }

  /** A digest reply came back from peer `from`. */
  onReply(from: number, reply: DigestReply): void {
    this.state.get(from)?.requester.onReply(reply);
  }

  /** The link to `id` (re)connected: its disk may have changed, compare everything again. */
  onPeerConnect(id: number): void {
    const s = this.state.get(id);
    if (s !== undefined) s.verifiedThrough = -1;
  }

  /**
   * The link to `id` dropped. If a digest request was waiting, the peer may be a replica of an older
   * version, which closes a link on a message type it does not know (during a rolling upgrade): after
   * STRIKES_MAX such drops in a row it is not asked again for an hour, so that the check does not keep
   * cutting the link the protocol uses.
   */
  onPeerDisconnect(id: number, reason: string): void {
    const s = this.state.get(id);
    if (s === undefined) return;
    if (s.requester.waiting > 0 && ++s.strikes >= STRIKES_MAX) {
      s.strikes = 0;
      // Monotonic: a wall-clock jump back must not stretch the pause (shown in wall time by checkPeer).
      s.pausedUntil = performance.now() + PAUSE_MS;
      this.opts.log.warn({ peer: id, reason }, `divergence check: replica ${id} dropped the link during digest requests ${STRIKES_MAX} times in a row (an older version?): not asked again for an hour`);
    }
    s.requester.failAll(`link lost (${reason})`);
  }

  /** Runs one check now (or joins the one under way). */
  runOnce(): Promise<DivergenceStatus> {
    this.running ??= this.check().finally(() => (this.running = undefined));
    return this.running;
  }

  private firstMismatch(): { position: number; peer: number } | null {
    let best: { position: number; peer: number } | null = null;
    for (const [id, s] of this.state) if (s.mismatchAt !== null && (best === null || s.mismatchAt < best.position)) best = { position: s.mismatchAt, peer: id };
    return best;
  }

  status(now = Date.now()): DivergenceStatus {
    return {
      enabled: this.opts.periodMs > 0,
      periodMs: this.opts.periodMs,
      span: this.opts.span,
      lastCheckAt: this.lastCheckAt === null ? null : new Date(this.lastCheckAt).toISOString(),
      ageSeconds: this.lastCheckAt === null ? null : Math.max(0, (now - this.lastCheckAt) / 1000),
      result: this.lastResult,
      firstMismatch: this.firstMismatch(),
      peers: [...this.state].map(([id, s]) => ({ id, result: s.result ?? 'incomplete', verifiedThrough: s.verifiedThrough, mismatchAt: s.mismatchAt, note: s.result === null ? 'not checked yet' : s.note })),
    };
  }

  private async check(): Promise<DivergenceStatus> {
    for (const [id, s] of this.state) {
      if (this.stopped) break;
      await this.checkPeer(id, s);
    }
    const results = [...this.state.values()].map((s) => s.result);
    const result: CheckResult = results.includes('mismatch') ? 'mismatch' : results.every((r) => r === 'ok') ? 'ok' : 'incomplete';
    this.lastResult = result;
    this.lastCheckAt = Date.now();
    this.checks?.inc({ result });
    return this.status();
  }

  private async checkPeer(id: number, s: PeerState): Promise<void> {
    const peer = this.opts.peers.get(id)!;
    if (!peer.connected) {
      s.result = 'unreachable';
      s.note = 'no connection to the peer';
      return;
    }
    if (performance.now() < s.pausedUntil) {
      s.result = 'incomplete';
      s.note = `not asked until ${new Date(Date.now() + s.pausedUntil - performance.now()).toISOString()}: it dropped the link during digest requests (an older version that does not know them?)`;
      return;
    }
    const store = this.opts.store();
    const remote = remoteSide(id, s.requester);
    let result: PeerCheckResult = 'ok';
    let note: string | null = null;
    let mismatchAt: number | null = null;
    try {
      const info = await s.requester.request(0, 0, 0);
      s.strikes = 0;
      // A peer whose learned prefix went backwards lost its disk: what was verified is void.
      if (info.learnedThrough < s.verifiedThrough - 1) s.verifiedThrough = -1;
      const start = Math.max(s.verifiedThrough, store.begin(), info.begin, 0);
      const learned = Math.min(store.learnedThrough(), info.learnedThrough) + 1;
      const span = this.opts.span;
      // With more than a span to compare, stop at a span's end (the rest is compared next time): the
      // checks against each peer, and each peer's against this replica, then ask for the same ranges
      // (whole spans, cut the same way), whose digests the DigestService computes once (REUSE_MS).
      const end = learned - start > span ? learned - (learned % span) : learned;
      let from = start;
      let advancing = true;
      while (from < end && !this.stopped) {
        const to = Math.min(end, (Math.floor(from / span) + 1) * span);
        const out = await compareSpan([this.local, remote], from, to);
        if (out.divergences.length > 0) {
          result = 'mismatch';
          mismatchAt = out.divergences[0]!.position;
          break;
        }
        if (out.skipped.length > 0) {
          // Unreadable records are repaired by storage; compare them again once they are.
          if (advancing) s.verifiedThrough = out.skipped[0]!;
          advancing = false;
          result = 'incomplete';
          note = `positions not compared (unreadable records, being repaired): ${out.skipped.slice(0, 5).join(', ')}${out.skipped.length > 5 ? ', ...' : ''}`;
        }
        if (out.stop !== undefined) {
          result = 'incomplete';
          note = out.stop === 'inconclusive' ? 'the data changed during the check (a truncation or a repair): compared again next time' : `stopped at ${out.through}: ${out.stop === 'begin' ? 'truncated meanwhile' : 'not learned on one side'}`;
          if (advancing) s.verifiedThrough = Math.max(s.verifiedThrough, out.through);
          advancing = false;
          break;
        }
        if (advancing) s.verifiedThrough = out.through;
        from = out.through;
        await new Promise((r) => setTimeout(r, this.opts.spanPauseMs ?? 5));
      }
    } catch (err) {
      result = peer.connected ? 'incomplete' : 'unreachable';
      note = (err as Error).message;
    }
    s.result = result;
    s.note = note;
    const was = s.mismatchAt;
    s.mismatchAt = mismatchAt;
    if (mismatchAt !== null) {
      const now = performance.now();
      if (was !== mismatchAt) this.mismatches?.inc();
      if (was !== mismatchAt || now - s.loggedAt >= RELOG_MS) {
        s.loggedAt = now;
        this.opts.log.error(
          { divergence: { position: mismatchAt, replica: this.opts.self, peer: id } },
          `DIVERGENCE: replica ${this.opts.self} and replica ${id} hold different chosen values at position ${mismatchAt} (first divergent position; nothing was repaired: see docs/operations.md, "Divergence checks")`,
        );
      }
    } else if (was !== null && result === 'ok') {
      this.opts.log.warn({ divergence: { peer: id, was } }, `divergence with replica ${id} at position ${was} is no longer found`);
    }
  }
}
