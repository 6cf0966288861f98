/**
 * The reader: reads chosen entries from the replicas, pure logic.
 *
 * Guarantee: a read returns every entry whose append was acknowledged before
 * the read began, with nothing invented, in position order.
 *
 * Why it holds. An acknowledged append at p was accepted by a quorum of VOTING
 * replicas under one proposal. The reader hears from a quorum of VOTING
 * replicas, which shares at least one member with that quorum, so every such
 * p is held by some replica it heard from (a member whose disk was replaced
 * since rejoined only after catching up every value chosen with its old
 * disk's help). A position counts as chosen only when some replica learned
 * it. Not when a quorum of replies show it accepted under one proposal: with
 * a replaced disk among them that quorum may hold an acceptance no proposer
 * could count (its generation was not named), so it proves nothing (the
 * exhaustive search found this). A position that some replica holds but that is not
 * proven chosen is re-asked for a while (the writer's commit may be on its
 * way), then settled by a Fill, which Paxos guarantees returns the chosen
 * value if there is one; but not while a replica of the quorum reports an
 * active writer (ReadReply.writerActive): a fill's promise above that
 * writer's proposal would fence the only live writer, and its commit is on
 * its way anyway. That wait is bounded (timing.activeWriterWaitMs without
 * progress): an idle writer recommits only its own term, and a position
 * below it that no replica of the quorum learned is settled by nobody else.
 * A position that no replica heard of was never chosen,
 * and since a writer acknowledges in position order, nothing after it was
 * acknowledged before the read began either: the read stops there.
 *
 * Slow is not dead (issue 20, item 3). A read fails with no-quorum only when
 * it has made no progress for timing.operationTimeoutMs and fewer than a
 * quorum of members answered anything this reader asked (a read of any
 * round, late ones included, or a fill's message) within that time. Replicas
 * busy with large reads answer late, but they answer: the read goes on
 * (re-asking, its fills retried), and so does a tail built on it.
 * Retransmissions of an unanswered round back off (timing.retransmitMs,
 * doubled up to readRetransmitMaxMs), so a busy replica is not handed the same
 * large read again every retransmitMs.
 *
 * Bounds: `beginning` is the highest `begin` heard (truncation only moves
 * forward and is learned only once chosen), raised by any chosen TRUNCATE the
 * quorum accepted but has not learned yet: a replica reports the accepted,
 * unlearned TRUNCATE with the highest target (ReadReply.pendingTruncate), and
 * the reader settles that position before it answers, so neither a read nor
 * `beginning` ignores an acknowledged truncation. `ending` is the highest
 * `end` heard, at or above every acknowledged position.
 *
 * Configurations (docs/reconfiguration.md): reads ask the voters of the
 * latest configuration the reader's view knows, and only their replies make a
 * round's quorum (the view may move on while a round is out); its fills run in
 * config(q). A reply that names a newer head is remembered (`newerConfig`)
 * for the owner to refresh its view; a fill that meets 'stale-config' ends
 * the read with that error.
 *
 * R5: a read trusts nothing above a config entry of a configuration its view
 * does not know. Positions are resolved in order, so a pending entry (held,
 * not proven chosen) stops the scan until its fate is known: learned
 * somewhere, or settled by the read's own fill. A fill's promise starts at
 * the lowest pending entry the read's replies reported below the position
 * wanted (switch fillFromLearned), so that its phase 1 sees the stop sign
 * and is cut there (fill.ts). The design says "from the highest learned
 * prefix + 1"; starting at the reported entry covers the same stop sign (a
 * chosen entry was accepted by a quorum, which the read's quorum meets: the
 * member in both reports it pending, or learned it and names the newer
 * head), and leaves reads of a one-configuration log exactly as they were.
 * A newer head heard below the position to fill, or an entry found chosen for
 * a configuration the view lacks, ends the read with 'stale-config' naming
 * it: the owner reads on in the new configuration.
 */
import { assert, assertNever } from './assert.js';
import { limits, timing } from './constants.js';
import { Fill, type FillOutbound, type FillResult } from './fill.js';
import { Liveness } from './liveness.js';
import { latestOf, oneLinkView, type ConfigView } from './config-view.js';
import { compareHeads, configQuorum, headOf, voterIds, type ConfigHead } from './membership.js';
import { ALL_RULES_ON, type SafetyRules } from './rules.js';
import type { Action, Entry, Position, PromiseReply, Proposal, ReadReply, ReadRequest, ReplicaId, Slot, WriteReply } from './types.js';

export type ReaderEvent =
  | { readonly type: 'read'; readonly id: number; readonly from: Position; readonly to: Position }
  | { readonly type: 'bounds'; readonly id: number }
  | { readonly type: 'reply'; readonly from: ReplicaId; readonly msg: ReadReply | PromiseReply | WriteReply }
  | { readonly type: 'tick' };

/** A message the reader sends: its own read requests and its fills' Paxos messages. */
export type ReaderOutbound = FillOutbound | { readonly to: ReplicaId; readonly msg: ReadRequest };

export type ReadResult =
  | {
      readonly ok: true;
      /** The APPEND entries of the range that are chosen, ascending. */
      readonly entries: readonly Entry[];
      readonly begin: Position;
      readonly end: Position;
      /** Every position up to here was resolved; a later read may find more only above it. */
      readonly through: Position;
    }
  | {
      readonly ok: false;
      /** stale-config: a replica learned a newer configuration than the reader's view (`config`, its head): refresh the view and read again. */
      readonly error: 'truncated' | 'no-quorum' | 'stale-config';
      readonly begin?: Position;
      readonly config?: ConfigHead;
    };

export interface ReaderOutput {
  readonly send: ReaderOutbound[];
  readonly done: { readonly id: number; readonly result: ReadResult }[];
}

export interface ReaderConfig {
  /** config(q) as the owner knows it: reads ask its latest configuration's voters, fills run in config(q). */
  readonly view?: ConfigView;
  /** Shorthand for a one-link view of these members, all voters (exactly one of `view` and `members`). */
  readonly members?: readonly ReplicaId[];
  readonly random: () => number;
  /** Allocates request ids (shared with a writer on the same connections; see WriterConfig.rid). */
  readonly rid?: () => number;
  /** The highest proposal the owner has seen (a fill starts above it, not at 1). */
  readonly proposalFloor?: () => Proposal;
  readonly rules?: SafetyRules;
}

/** One read in progress. `boundsOnly` reads ask for begin and end and nothing else. */
interface ReadOp {
  readonly id: number;
  readonly from: Position;
  readonly to: Position;
  readonly boundsOnly: boolean;
  /**
   * When the read last moved forward (its cursor advanced, a fill settled
   * something, the scan finished). Not when a round was merely answered: a
   * read stuck on one pending position must see its time run, both to fall
   * back to a fill under an idle writer (timing.activeWriterWaitMs) and to
   * fail after operationTimeoutMs if no quorum answers meanwhile.
   */
  progressAt: number;
  /** The next position to resolve. */
  cursor: Position;
  /** The highest position worth reading, fixed by the first round (max end heard). */
  endBound?: Position;
  begin: Position;
  readonly entries: Entry[];
  /** Values learned by this read's own fills. */
  readonly known: Map<Position, Action>;
  round?: { rid: number; from: Position; to: Position; replies: Map<ReplicaId, ReadReply>; sentAt: number; probe: boolean; resends: number };
  /** The result to give once the truncation hint is settled (the main scan is done). */
  result?: Extract<ReadResult, { ok: true }>;
  /** An accepted TRUNCATE (its position and target) that may remove what the read covers: settled before answering. */
  hint?: { position: Position; to: Position };
  /** A hint was dropped because the beginning rose past its target (the truncation applied): answer as a probe that found it chosen. */
  hintPassed?: boolean;
  /** Whether the latest round's quorum reported an active writer (then pending positions are waited for, not filled). */
  writerActive: boolean;
  /** When the first unresolved position was first seen unresolved. */
  pendingSince?: { position: Position; at: number };
  /** A re-ask scheduled for this time. */
  retryAt?: number;
  fill?: Fill;
  /** The lowest pending config entry of a newer configuration the read's rounds heard of (a fill promises from it: R5). */
  stop: Position;
  /** The last position this read's own fills settled (successive fills go on from there). */
  settledThrough: Position;
}

/** The longest wait between two retransmissions of one read round. */
export const readRetransmitMaxMs = 8 * timing.retransmitMs;

type Classified = { kind: 'chosen'; action: Action } | { kind: 'pending' } | { kind: 'unknown' };

export class ReaderCore {
  private readonly ops = new Map<number, ReadOp>();
  private now = 0;
  private highestSeen: Proposal = 0;
  private readonly newRid: () => number;
  /** When each member last answered anything this reader asked (reads of any round, fills' messages). */
  private readonly liveness: Liveness;

  private readonly view: ConfigView;
  private readonly rules: SafetyRules;
  /** The VOTING members whose replies decided the last round (the first quorum to answer it), and when: the next round's targets. */
  private firstQuorum: { readonly ids: readonly ReplicaId[]; readonly at: number } | undefined;
  /** The newest head a reply named above the view's latest, if any: the owner's cue to refresh its view. */
  private heardNewer: ConfigHead | undefined;

  /**
   * The newest head a reply named above the view's latest, while the view still lacks it. Once the owner
   * refreshed its view to it (or past it), forgotten: else every later `bounds` would end 'stale-config'
   * for ever, and a client that once followed a change could never read its log's bounds again.
   */
  get newerConfig(): ConfigHead | undefined {
    const h = this.heardNewer;
    if (h !== undefined && compareHeads(h, headOf(latestOf(this.view))) <= 0) this.heardNewer = undefined;
    return this.heardNewer;
  }

  constructor(private readonly config: ReaderConfig) {
    assert((config.view === undefined) !== (config.members === undefined), 'a reader takes a view or a member list');
    this.view = config.view ?? oneLinkView(config.members!);
    this.rules = config.rules ?? ALL_RULES_ON;
    let next = 1;
    this.newRid = config.rid ?? (() => next++);
    this.liveness = new Liveness(this.quorum);
  }

  /** The voters of the latest configuration the view knows: the members reads ask. */
  private get members(): readonly ReplicaId[] {
    return voterIds(latestOf(this.view));
  }
  private get quorum(): number {
    return configQuorum(latestOf(this.view));
  }

  private noteHead(head: ConfigHead | undefined): void {
    if (head === undefined || compareHeads(head, this.newerConfig ?? headOf(latestOf(this.view))) <= 0) return;
    this.heardNewer = head;
  }

  get pending(): number {
    return this.ops.size;
  }

  step(event: ReaderEvent, now: number): ReaderOutput {
    assert(now >= this.now, 'time never goes back');
    this.now = now;
    const send: ReaderOutbound[] = [];
    const done: { id: number; result: ReadResult }[] = [];
    switch (event.type) {
      case 'read':
      case 'bounds': {
        // The voters a read starts with have its whole window to answer (quorumHeard).
        this.liveness.expect(this.members, now);
        const boundsOnly = event.type === 'bounds';
        const from = boundsOnly ? 0 : event.from;
        const to = boundsOnly ? 0 : event.to;
        const op: ReadOp = {
          id: event.id,
          from,
          to,
          boundsOnly,
          progressAt: now,
          cursor: from,
          begin: 0,
          entries: [],
          known: new Map(),
          writerActive: false,
          stop: Number.MAX_SAFE_INTEGER,
          settledThrough: -1,
        };
        this.ops.set(op.id, op);
        this.startRound(op, send);
        break;
      }
      case 'reply':
        this.onReply(event.from, event.msg, send, done);
        break;
      case 'tick':
        for (const op of [...this.ops.values()]) this.onTick(op, send, done);
        break;
      default:
        assertNever(event, 'reader event');
    }
    return { send, done };
  }

  private startRound(op: ReadOp, send: ReaderOutbound[]): void {
    const rid = this.newRid();
    const probe = op.result !== undefined;
    assert(!probe || op.hint !== undefined, 'a probe needs a hint');
    const from = probe ? op.hint!.position : op.cursor;
    const to = probe ? from : op.boundsOnly ? op.cursor : Math.min(op.to, op.cursor + limits.readSlotsMax - 1);
    const limit = op.boundsOnly && !probe ? 1 : limits.readSlotsMax;
    op.round = { rid, from, to, replies: new Map(), sentAt: this.now, probe, resends: 0 };
    op.retryAt = undefined;
    const msg: ReadRequest = { type: 'read', rid, from, to, limit };
    for (const id of this.roundTargets()) send.push({ to: id, msg });
  }

  /**
   * Who a new round asks: the quorum that answered the last decided round first (the replies that made
   * it a quorum), if that round was decided within timing.readQuorumFreshMs and they are all still
   * voters of the latest configuration, else every member. Any quorum of VOTING replies is what the
   * read's guarantee needs; the others are asked when the round is retransmitted (onTick), so a member
   * that stopped answering costs one retransmission, after which the round's first quorum holds the
   * ones that answer. Late replies do not count: a slow member that answers every round after it was
   * decided would otherwise be the freshest and be waited for every time (attack-reads-slow-member).
   */
  private roundTargets(): readonly ReplicaId[] {
    const q = this.firstQuorum;
    const members = this.members;
    if (q === undefined || this.now - q.at >= timing.readQuorumFreshMs || q.ids.length < this.quorum || !q.ids.every((id) => members.includes(id))) return members;
    return q.ids;
  }

  private onReply(
    from: ReplicaId,
    msg: ReadReply | PromiseReply | WriteReply,
    send: ReaderOutbound[],
    done: { id: number; result: ReadResult }[],
  ): void {
    // Any answer from a VOTING member shows it alive, even one to a round already decided: slow is not dead.
    if (msg.type === 'readReply' ? msg.status === 'VOTING' : msg.outcome !== 'ignored') this.liveness.heard(from, this.now);
    this.noteHead(msg.config);
    if (msg.type !== 'readReply') {
      this.highestSeen = Math.max(this.highestSeen, msg.proposal);
      for (const op of this.ops.values()) {
        if (op.fill === undefined) continue;
        const fillSend: FillOutbound[] = [];
        const r =
          msg.type === 'promiseReply'
            ? op.fill.onPromiseReply(from, msg, this.now, fillSend)
            : op.fill.onWriteReply(from, msg, this.now, fillSend);
        send.push(...fillSend);
        if (r !== undefined) this.onFillDone(op, r, send, done);
      }
      return;
    }
    for (const op of this.ops.values()) {
      if (op.round?.rid !== msg.rid || op.round.replies.has(from)) continue;
      op.round.replies.set(from, msg);
      // Only voters of the latest configuration count toward its quorum: the view may have moved on since the
      // round was sent (a member removed meanwhile answers too, and its reply still informs the evaluation).
      const voters = this.members;
      const voting = [...op.round.replies].filter(([id, r]) => r.status === 'VOTING' && voters.includes(id)).map(([id]) => id);
      if (voting.length >= this.quorum) {
        this.firstQuorum = { ids: voting, at: this.now };
        this.evaluate(op, send, done);
      }
      return;
    }
  }

  /** A quorum of VOTING replicas answered the current round: resolve what can be. */
  private evaluate(op: ReadOp, send: ReaderOutbound[], done: { id: number; result: ReadResult }[]): void {
    const round = op.round!;
    op.round = undefined;
    const replies = [...round.replies.values()].filter((r) => r.status === 'VOTING');
    const begin = Math.max(op.begin, ...replies.map((r) => r.begin));
    op.begin = begin;
    op.endBound ??= Math.max(...replies.map((r) => r.end));
    op.writerActive = replies.some((r) => r.writerActive);
    for (const r of replies) {
      const e = r.pending;
      if (e === undefined || e.position <= op.settledThrough || (e.position >= op.from && e.position < op.cursor) || op.known.has(e.position)) continue;
      // A stop sign only if the view does not know that configuration yet: an entry the view already
      // holds as a link (a lagging voter still reports it pending) has a known fate, and stopping there
      // would send the read to fill in the retired old configuration (attack5-read-known-stop).
      if (e.config.epoch > latestOf(this.view).epoch) op.stop = Math.min(op.stop, e.position);
    }
    this.noteHints(op, replies);
    if (round.probe) {
      // The hint may have been dropped (the beginning moved past it) or replaced by a higher one meanwhile.
      if (op.hint === undefined) return this.finishSettled(op, done);
      if (op.hint.position !== round.from) return this.startRound(op, send);
      return this.evaluateProbe(op, round.from, replies, send, done);
    }
    if (op.boundsOnly) return this.settle(op, { ok: true, entries: [], begin, end: op.endBound, through: begin - 1 }, send, done);
    if (op.cursor < begin) return this.finish(op, { ok: false, error: 'truncated', begin }, done);
    const hi = Math.min(round.to, op.endBound, ...replies.map((r) => r.coveredThrough));
    const views = replies.map((r) => ({ slots: new Map(r.slots.map((s) => [s.position, s])), lost: new Set(r.lost) }));
    for (let p = op.cursor; p <= hi; p++) {
      const c = this.classify(p, views, op);
      // R5: nothing heard of p, but a stop sign below it: positions above the entry may belong to a
      // configuration this quorum is not, so the read may not stop here before it knows the entry's fate.
      if (c.kind === 'unknown' && this.rules.followPending && op.stop <= p) return this.onPending(op, p, p, send, () => true, done);
      if (c.kind === 'unknown') return this.settle(op, { ok: true, entries: op.entries, begin, end: op.endBound, through: op.cursor - 1 }, send, done);
      if (c.kind === 'pending') return this.onPending(op, p, hi, send, (q) => this.classify(q, views, op).kind !== 'chosen', done);
      // R5: nothing above a chosen config entry is trusted in a configuration the view does not know.
      if (c.action.kind === 'config' && c.action.config.epoch > latestOf(this.view).epoch && this.rules.followPending) {
        return this.finish(op, { ok: false, error: 'stale-config', config: { epoch: c.action.config.epoch, position: p } }, done);
      }
      if (p === op.stop) op.stop = Number.MAX_SAFE_INTEGER; // the stop sign's fate is known
      if (c.action.kind === 'append') op.entries.push({ position: p, action: c.action });
      // A chosen truncation that the replicas have not learned yet still removes what lies below it.
      if (c.action.kind === 'truncate' && c.action.to > op.from) {
        return this.finish(op, { ok: false, error: 'truncated', begin: Math.max(begin, c.action.to) }, done);
      }
      if (op.hint?.position === p) op.hint = undefined;
      op.cursor = p + 1;
      op.pendingSince = undefined;
      op.progressAt = this.now;
    }
    if (op.cursor > Math.min(op.to, op.endBound)) {
      // R5: the quorum holds nothing above its end, but a stop sign lies below the rest of the range: a
      // newer configuration may govern the positions above the entry, and its quorums need not meet this
      // one (a writer there may have appends acknowledged that no member of this quorum holds). The read
      // learns the entry's fate first (a fill from the stop sign), as for a hole above it.
      if (this.rules.followPending && op.cursor <= op.to && op.stop < op.cursor) return this.onPending(op, op.cursor, op.cursor, send, () => true, done);
      return this.settle(op, { ok: true, entries: op.entries, begin, end: op.endBound, through: op.cursor - 1 }, send, done);
    }
    this.startRound(op, send);
  }

  /** Keeps the accepted TRUNCATE with the highest target that could remove something this read covers. */
  private noteHints(op: ReadOp, replies: readonly ReadReply[]): void {
    const floor = op.boundsOnly ? op.begin : Math.max(op.from, op.begin);
    for (const r of replies) {
      const t = r.pendingTruncate;
      if (t === undefined || t.to <= floor || t.position < op.cursor) continue;
      if (op.hint === undefined || t.to > op.hint.to) op.hint = t;
    }
    if (op.hint !== undefined && op.hint.to <= floor) {
      op.hint = undefined;
      op.hintPassed = true;
    }
  }

  /** The scan is done: answer, unless a truncation hint must be settled first (a probe of its position). */
  private settle(op: ReadOp, result: Extract<ReadResult, { ok: true }>, send: ReaderOutbound[], done: { id: number; result: ReadResult }[]): void {
    if (op.hint === undefined && op.hintPassed !== true) return this.finish(op, result, done);
    op.result = result;
    // A hint dropped in a scan round (the beginning reached its target): answered as a probe would.
    if (op.hint === undefined) return this.finishSettled(op, done);
    op.pendingSince = undefined;
    op.progressAt = this.now;
    this.startRound(op, send);
  }

  /** The probe of a truncation hint: chosen, the read is truncated (or its beginning moves); not chosen, it answers as it was. */
  private evaluateProbe(op: ReadOp, p: Position, replies: readonly ReadReply[], send: ReaderOutbound[], done: { id: number; result: ReadResult }[]): void {
    const views = replies.map((r) => ({ slots: new Map(r.slots.map((s) => [s.position, s])), lost: new Set(r.lost) }));
    const c = p < op.begin ? ({ kind: 'unknown' } as Classified) : this.classify(p, views, op);
    if (c.kind === 'pending') return this.onPending(op, p, p, send, () => false, done);
    const result = op.result!;
    op.result = undefined;
    op.hint = undefined;
    if (c.kind === 'chosen' && c.action.kind === 'truncate') {
      const begin = Math.max(op.begin, c.action.to);
      if (!op.boundsOnly && op.from < begin) return this.finish(op, { ok: false, error: 'truncated', begin }, done);
      return this.finish(op, { ...result, begin, through: Math.max(result.through, begin - 1) }, done);
    }
    // An earlier hint of this read was passed by the beginning (the truncation applied): answered as its probe would.
    if (op.hintPassed === true) {
      op.result = result;
      return this.finishSettled(op, done);
    }
    this.finish(op, { ...result, begin: Math.max(result.begin, op.begin) }, done);
  }

  private classify(p: Position, replies: { slots: Map<Position, Slot>; lost: Set<Position> }[], op: ReadOp): Classified {
    const known = op.known.get(p);
    if (known !== undefined) return { kind: 'chosen', action: known };
    let seen = false;
    for (const r of replies) {
      const s = r.slots.get(p);
      if (s === undefined) {
        if (r.lost.has(p)) seen = true;
        continue;
      }
      if (s.action === undefined) continue;
      seen = true;
      if (s.learned) return { kind: 'chosen', action: s.action };
    }
    return seen ? { kind: 'pending' } : { kind: 'unknown' };
  }

  /**
   * p is held somewhere but not proven chosen: ask again for a while, then
   * fill. While a writer is active the read waits for its commit, but only
   * until the read has made no progress for timing.activeWriterWaitMs: an
   * idle writer recommits only its own term, so a position below it that no
   * replica of the quorum learned (its learner lost it, or is out of reach)
   * would otherwise block every read forever. That late fill covers only the
   * run of positions from p that are not proven chosen (`unsettled`), not the
   * chosen ones after it: the less of the writer's term it promises over, the
   * less it can fence.
   */
  private onPending(
    op: ReadOp,
    p: Position,
    hi: Position,
    send: ReaderOutbound[],
    unsettled: (q: Position) => boolean,
    done: { id: number; result: ReadResult }[],
  ): void {
    if (op.pendingSince?.position !== p) op.pendingSince = { position: p, at: this.now };
    const waitForWriter = op.writerActive && this.now - op.progressAt < timing.activeWriterWaitMs;
    if (waitForWriter || this.now - op.pendingSince.at < timing.readSettleMs) {
      op.retryAt = this.now + timing.retransmitMs / 4;
      return;
    }
    let to = Math.min(hi, p + limits.fillRangeMax - 1);
    if (op.writerActive) {
      let q = p;
      while (q + 1 <= to && unsettled(q + 1)) q++;
      to = q;
    }
    // R5: a replica learned a configuration the view lacks, whose entry lies below p: the read goes on there.
    const newer = this.newerConfig;
    if (this.rules.followPending && newer !== undefined && newer.position < p) {
      this.finish(op, { ok: false, error: 'stale-config', config: newer }, done);
      return;
    }
    // R5: the promise starts at a stop sign reported below p (its phase 1 then sees it); a gap longer than a
    // fill's range is settled from there in successive fills.
    const from = this.rules.fillFromLearned && op.stop < p ? Math.max(op.stop, op.settledThrough + 1, op.begin) : p;
    if (from < p) op.stop = Number.MAX_SAFE_INTEGER;
    to = Math.min(to, from + limits.fillRangeMax - 1);
    const fillSend: FillOutbound[] = [];
    const ctx = { view: this.view, random: this.config.random, rid: this.newRid, patientWhileAnswered: true, rules: this.rules };
    op.fill = new Fill(from, to, Math.max(this.highestSeen, this.config.proposalFloor?.() ?? 0), ctx, this.now, fillSend);
    for (const m of fillSend) send.push(m);
  }

  private onFillDone(op: ReadOp, r: FillResult, send: ReaderOutbound[], done: { id: number; result: ReadResult }[]): void {
    this.highestSeen = Math.max(this.highestSeen, op.fill!.highestSeen);
    op.fill = undefined;
    if (!r.ok) {
      if (r.error === 'truncated') return this.finish(op, { ok: false, error: 'truncated', begin: Math.max(op.begin, r.begin) }, done);
      if (r.error === 'stale-config') return this.finish(op, { ok: false, error: 'stale-config', config: r.config }, done);
      // A fill that timed out while a quorum still answers met slowness (or a duel), not a dead quorum: ask again.
      if (!this.quorumHeard()) return this.finish(op, { ok: false, error: 'no-quorum' }, done);
      return this.resume(op, send, done);
    }
    for (const e of r.entries) op.known.set(e.position, e.action);
    // R5: the fill found a change chosen that the view does not know: the read goes on in the new configuration.
    const entry = r.entries.find((e) => e.action.kind === 'config' && e.action.config.epoch > latestOf(this.view).epoch);
    if (entry !== undefined && entry.action.kind === 'config' && this.rules.followPending) {
      return this.finish(op, { ok: false, error: 'stale-config', config: { epoch: entry.action.config.epoch, position: entry.position } }, done);
    }
    if (r.entries.length > 0) op.settledThrough = Math.max(op.settledThrough, r.entries[r.entries.length - 1]!.position);
    if (op.stop <= op.settledThrough) op.stop = Number.MAX_SAFE_INTEGER;
    op.pendingSince = undefined;
    op.progressAt = this.now;
    this.resume(op, send, done);
  }

  /** Asks again: the scan goes on, or the probe of the current hint (answered at once if the hint is gone). */
  private resume(op: ReadOp, send: ReaderOutbound[], done: { id: number; result: ReadResult }[]): void {
    if (op.result !== undefined && op.hint === undefined) return this.finishSettled(op, done);
    this.startRound(op, send);
  }

  /**
   * The scan was done and no truncation hint is left to settle. The hint may have been dropped because the
   * beginning rose past it: a truncation was chosen and applied meanwhile, and the read answers exactly as
   * a probe that found it chosen would (truncated if the read starts below the new beginning). Answering
   * the scan's entries instead would return positions an acknowledged truncation removed (found by a
   * helper writing reader-rules.test.ts from Stryker's survivors).
   */
  private finishSettled(op: ReadOp, done: { id: number; result: ReadResult }[]): void {
    const result = op.result!;
    op.result = undefined;
    const begin = Math.max(result.begin, op.begin);
    if (!op.boundsOnly && op.from < begin) return this.finish(op, { ok: false, error: 'truncated', begin }, done);
    this.finish(op, { ...result, begin, through: Math.max(result.through, begin - 1) }, done);
  }

  private onTick(op: ReadOp, send: ReaderOutbound[], done: { id: number; result: ReadResult }[]): void {
    if (op.fill !== undefined) {
      const fillSend: FillOutbound[] = [];
      const r = op.fill.onTick(this.now, fillSend);
      send.push(...fillSend);
      if (r !== undefined) this.onFillDone(op, r, send, done);
      return;
    }
    if (this.now - op.progressAt >= timing.operationTimeoutMs && !this.quorumHeard()) return this.finish(op, { ok: false, error: 'no-quorum' }, done);
    if (op.retryAt !== undefined) {
      if (this.now >= op.retryAt) this.resume(op, send, done);
      return;
    }
    const round = op.round;
    if (round !== undefined && this.now - round.sentAt >= Math.min(timing.retransmitMs * 2 ** round.resends, readRetransmitMaxMs)) {
      round.sentAt = this.now;
      round.resends++;
      const msg: ReadRequest = { type: 'read', rid: round.rid, from: round.from, to: round.to, limit: op.boundsOnly && !round.probe ? 1 : limits.readSlotsMax };
      for (const id of this.members) if (!round.replies.has(id)) send.push({ to: id, msg });
    }
  }

  /**
   * Whether a quorum of the latest configuration's voters answered this reader within the last
   * operationTimeoutMs. Judged against the configuration of now, not the one the reader started with:
   * grown from three voters to five, two answering are no quorum (found by the helper that wrote
   * reader-rules.test.ts).
   */
  private quorumHeard(): boolean {
    // Checked here and at a read's start, not on every reply: voters the view added since count from now.
    const members = this.members;
    this.liveness.expect(members, this.now);
    return this.liveness.heardOf(members, this.now) >= this.quorum;
  }

  private finish(op: ReadOp, result: ReadResult, done: { id: number; result: ReadResult }[]): void {
    this.ops.delete(op.id);
    done.push({ id: op.id, result: this.staleIfShort(op, result) });
  }

  /**
   * R5: a replica named a newer learned configuration than the view's. A
   * quorum of an older one bounds nothing above that configuration's entry:
   * `bounds` (its highest end) and a read that stops short of its range
   * (or anywhere, when links between the view and that head are unknown)
   * may miss what the newer voters acknowledged. Such an answer is
   * 'stale-config' instead: the owner refreshes its view and asks again.
   */
  private staleIfShort(op: ReadOp, result: ReadResult): ReadResult {
    const newer = this.newerConfig;
    if (!result.ok || newer === undefined || !this.rules.followPending) return result;
    // A head more than one epoch ahead hides links the view lacks, at positions it cannot tell: any stop may be above one.
    const hidden = newer.epoch > latestOf(this.view).epoch + 1;
    const short = op.boundsOnly || (result.through < op.to && (hidden || newer.position <= result.through));
    return short ? { ok: false, error: 'stale-config', config: newer } : result;
  }
}
