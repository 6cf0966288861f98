/**
 * ReplyGate: what a client believes of a replica's replies. Every reply is
 * checked against the request it answers and against the other members'
 * replies before the cores (WriterCore, ReaderCore) see it; a replica that
 * sends nonsense is dropped for the client's lifetime (LogClient logs it, and
 * fails its operations if no quorum of sane replicas remains).
 *
 * Against the request (which the gate remembers by rid, without entry data):
 * the reply type answers the request type; the rid was sent, to this member;
 * a promise or write reply names the request's proposal unless it rejects,
 * and a rejection names one at least as high; a write reply covers the
 * request's positions; slots are ascending and inside the range asked for
 * (or, for an implicit promise, inside (learnedThrough, coveredThrough]), no
 * more than the limit; coveredThrough stays within the request and the
 * replier's end.
 *
 * Against the other members: no replica accepts a position more than
 * limits.positionsBeyondEndMax beyond its own end, nor a proposal more than
 * limits.proposalStepMax above the highest it knows, so a real replica's
 * claims stay that close to what a quorum of the others shows. A reply whose
 * end, learned prefix or slots lie further above the (quorum - 1)-th highest
 * end the other members showed, or whose rejection lies further above their
 * proposals and the request's, is nonsense: followed, it would make a writer
 * settle 2^50 positions with NOPs, or a reader read to 2^50, or a writer
 * propose a number the replicas refuse. A reply whose claims exceed what can
 * be judged yet (too few other members answered so far) is held until they
 * have; an operation needs a quorum's replies anyway.
 *
 * A `stale-config` answer ends a writer's ballot (WriterCore.onStaleConfig):
 * it says the replier learned a configuration newer than the writer's. A
 * learned configuration entry was chosen, so the other members learn it too
 * (commits, catch-up), and their replies carry heads. One replica's word is
 * therefore held until another member's reply shows that head or a newer one:
 * a hostile or confused replica naming a head no other member has cannot fence
 * every writer (attack3), while an honest one is believed as soon as a second
 * member confirms it. Holding an answer is always safe: a refusal is never
 * counted, only acceptances and promises are.
 *
 * Bounds that need no context (sanity bounds on every field, at most 4096
 * slots) are checked by the decoder; a replica whose bytes fail to decode is
 * dropped by LogClient as well.
 */
import { limits } from '../core/constants.js';
import { compareHeads, type ConfigHead } from '../core/membership.js';
import { quorumSize } from '../core/quorum.js';
import type { Message, Position, Proposal, ReplicaId, Slot } from '../core/types.js';

/** What the gate keeps of a request: enough to check its replies (never entry data). */
interface SentRequest {
  readonly type: Message['type'];
  readonly proposal?: Proposal;
  /** The range asked for: a read's, an explicit promise's, or a write's positions. */
  readonly from?: Position;
  readonly to?: Position;
  /** A write's action count, or a read's slot limit. */
  readonly count?: number;
  readonly to_: Set<ReplicaId>;
}

type GatedReply = Extract<Message, { type: 'promiseReply' | 'writeReply' | 'readReply' }>;

const REQUEST_OF: Partial<Record<Message['type'], Message['type']>> = {
  promiseReply: 'promise',
  writeReply: 'write',
  readReply: 'read',
  configReply: 'config',
  recoverReply: 'recover',
  rejoinReply: 'rejoin',
};

/** Requests remembered at most (the oldest are forgotten: their replies are only checked against the bounds). */
const SENT_MAX = 65_536;
/** Replies held per member while too few others answered to judge them (more are dropped: requests are retransmitted). */
const HELD_MAX = 64;

export interface ReplyGateOptions {
  /** The member ids, once known (empty before). */
  members(): readonly ReplicaId[];
  /** A reply found sane, for the cores. */
  deliver(from: ReplicaId, msg: Message): void;
  /** A member sent nonsense: `why` says what. Called once per member. */
  drop(from: ReplicaId, why: string): void;
}

export class ReplyGate {
  private readonly sent = new Map<number, SentRequest>();
  private ridMax = 0;
  /**
   * What each VOTING member showed in its latest replies: its highest end and
   * proposal, and the newest request id it answered (`rid`). A reply is judged
   * only against members that answered the same request or a later one:
   * values shown long ago (the log may have grown by millions of positions
   * since) or by a member that is not VOTING (its end says nothing of the
   * log) would make a correct replica look insane.
   */
  private readonly shown = new Map<ReplicaId, { end: Position; proposal: Proposal; rid: number }>();
  private readonly held = new Map<ReplicaId, GatedReply[]>();
  /** The newest configuration head each member's replies carried (any status, any outcome). */
  private readonly heads = new Map<ReplicaId, ConfigHead>();
  private readonly dropped = new Set<ReplicaId>();

  constructor(private readonly opts: ReplyGateOptions) {}

  /** True once `id` was dropped. */
  isDropped(id: ReplicaId): boolean {
    return this.dropped.has(id);
  }

  /** Members dropped so far. */
  get droppedCount(): number {
    return this.dropped.size;
  }

  /** A request is going to member `to`. */
  noteSent(to: ReplicaId, msg: Message): void {
    if (!('rid' in msg)) return;
    let s = this.sent.get(msg.rid);
    if (s === undefined) {
      s = summarize(msg);
      this.sent.set(msg.rid, s);
      if (this.sent.size > SENT_MAX) this.sent.delete(this.sent.keys().next().value!);
      this.ridMax = Math.max(this.ridMax, msg.rid);
    }
    s.to_.add(to);
  }

  /** A member is dropped for a reason found elsewhere (bytes that do not decode). */
  dropMember(from: ReplicaId, why: string): void {
    if (this.dropped.has(from)) return;
    this.dropped.add(from);
    this.held.delete(from);
    this.shown.delete(from);
    this.heads.delete(from);
    this.opts.drop(from, why);
    // The others' held replies are now judged without its claims.
    this.retryHeld();
  }

  /** A message from member `from`: delivered, held, or the member dropped. */
  receive(from: ReplicaId, msg: Message): void {
    if (this.dropped.has(from)) return;
    if (msg.type === 'configReply') return this.opts.deliver(from, msg);
    const why = this.mismatch(from, msg);
    if (why !== undefined) return this.dropMember(from, why);
    if (msg.type !== 'promiseReply' && msg.type !== 'writeReply' && msg.type !== 'readReply') return this.opts.deliver(from, msg);
    const headChanged = this.showHead(from, msg);
    const changed = this.show(from, msg) || headChanged;
    this.judgeOrHold(from, msg);
    if (changed) this.retryHeld();
  }

  private judgeOrHold(from: ReplicaId, msg: GatedReply): void {
    const verdict = this.judge(from, msg);
    if (verdict === 'ok') return this.opts.deliver(from, msg);
    if (verdict !== 'wait') return this.dropMember(from, verdict);
    const q = this.held.get(from) ?? [];
    if (q.length >= HELD_MAX) q.shift();
    q.push(msg);
    this.held.set(from, q);
  }

  private retryHeld(): void {
    for (const [from, q] of [...this.held]) {
      this.held.delete(from);
      for (const msg of q) if (!this.dropped.has(from)) this.judgeOrHold(from, msg);
    }
  }

  /** Records the head a reply carries; true if it is newer than the member's last (held stale-config answers may now be believed). */
  private showHead(from: ReplicaId, msg: GatedReply): boolean {
    const head = msg.config;
    if (head === undefined) return false;
    const cur = this.heads.get(from);
    if (cur !== undefined && compareHeads(head, cur) <= 0) return false;
    this.heads.set(from, head);
    return true;
  }

  /** Records what a reply shows of its member's log and promise; true if that raised anything. */
  private show(from: ReplicaId, msg: GatedReply): boolean {
    if (msg.type !== 'writeReply' && msg.status !== 'VOTING') {
      // Not a voter now: it says nothing of how far the log reaches.
      return this.shown.delete(from);
    }
    const end = msg.type === 'writeReply' ? (msg.outcome === 'accept' ? msg.from + msg.count - 1 : -1) : msg.end;
    const cur = this.shown.get(from);
    const next = {
      end: Math.max(cur?.end ?? -1, end),
      proposal: Math.max(cur?.proposal ?? 0, msg.type === 'readReply' ? 0 : msg.proposal),
      rid: Math.max(cur?.rid ?? 0, msg.rid),
    };
    if (cur !== undefined && next.end === cur.end && next.proposal === cur.proposal && next.rid === cur.rid) return false;
    this.shown.set(from, next);
    return true;
  }

  /** Why a reply cannot answer the request it names, or undefined. */
  private mismatch(from: ReplicaId, msg: Message): string | undefined {
    const wants = REQUEST_OF[msg.type];
    if (wants === undefined) return `sent a '${msg.type}' message, which a replica never sends to a client`;
    const rid = (msg as { rid: number }).rid;
    const req = this.sent.get(rid);
    if (req === undefined) return rid > this.ridMax || rid === 0 ? `answered request ${rid}, which this client never sent` : undefined;
    if (req.type !== wants) return `answered ${req.type} request ${rid} with a '${msg.type}'`;
    if (!req.to_.has(from)) return `answered request ${rid}, which was sent to other replicas`;
    switch (msg.type) {
      case 'promiseReply': {
        // stale-config and unknown-config echo the request's proposal, as IGNORED does.
        const p = this.proposalMismatch(msg.outcome === 'accept' || msg.outcome === 'reject' ? msg.outcome : 'ignored', msg.proposal, req.proposal!);
        if (p !== undefined || msg.outcome !== 'accept') return p;
        if (req.from !== undefined) return slotsMismatch(msg.slots, req.from, req.to!, limits.readSlotsMax) ?? coveredMismatch(msg.coveredThrough, req.to!);
        if (msg.coveredThrough > msg.end) return `covered through ${msg.coveredThrough}, beyond its end ${msg.end}`;
        return slotsMismatch(msg.slots, msg.learnedThrough + 1, msg.coveredThrough, limits.readSlotsMax);
      }
      case 'writeReply':
        if (msg.from !== req.from || msg.count !== req.count) {
          return `answered a write of [${req.from}, ${req.from! + req.count! - 1}] about [${msg.from}, ${msg.from + msg.count - 1}]`;
        }
        return this.proposalMismatch(msg.outcome === 'accept' || msg.outcome === 'reject' ? msg.outcome : 'ignored', msg.proposal, req.proposal!);
      case 'readReply':
        return (
          slotsMismatch(msg.slots, req.from!, req.to!, Math.max(1, Math.min(req.count!, limits.readSlotsMax))) ??
          coveredMismatch(msg.coveredThrough, req.to!) ??
          (msg.lost.some((p) => p < req.from! || p > req.to!) ? `reported lost positions outside [${req.from}, ${req.to}]` : undefined)
        );
      default:
        return undefined;
    }
  }

  private proposalMismatch(outcome: 'accept' | 'reject' | 'ignored', got: Proposal, asked: Proposal): string | undefined {
    if (outcome === 'reject') return got >= asked ? undefined : `rejected proposal ${asked} with a lower one, ${got}`;
    return got === asked ? undefined : `answered proposal ${asked} about proposal ${got}`;
  }

  /**
   * 'ok', 'wait' (too few other members answered to judge it yet), or why the reply's claims lie beyond
   * what any real replica could hold, given what the others showed.
   */
  private judge(from: ReplicaId, msg: GatedReply): 'ok' | 'wait' | string {
    if (msg.type !== 'readReply' && msg.outcome === 'stale-config' && msg.config !== undefined) {
      const head = msg.config;
      const confirmed = [...this.heads].some(([id, h]) => id !== from && !this.dropped.has(id) && compareHeads(h, head) >= 0);
      return confirmed ? 'ok' : 'wait';
    }
    if (msg.type === 'writeReply' && msg.outcome !== 'reject') return 'ok';
    const need = quorumSize(Math.max(1, this.opts.members().length)) - 1;
    if (need === 0) return 'ok';
    // Only members that answered this request or a later one, as VOTING members (see `shown`).
    const others = [...this.shown].filter(([id, s]) => id !== from && !this.dropped.has(id) && s.rid >= msg.rid).map(([, s]) => s);
    const enough = others.length >= need;
    const claimEnd = msg.type === 'writeReply' ? -1 : Math.max(msg.end, msg.learnedThrough, msg.slots.at(-1)?.position ?? -1);
    const endRef = enough ? nthHighest(others.map((s) => s.end), need) : Math.max(-1, ...others.map((s) => s.end));
    if (claimEnd > endRef + limits.positionsBeyondEndMax) {
      if (!enough) return 'wait';
      return `claims position ${claimEnd}, but the other members' ends reach ${endRef}: no replica accepts a position that far beyond its end`;
    }
    if (msg.type === 'readReply' || msg.outcome !== 'reject') return 'ok';
    const asked = this.sent.get(msg.rid)?.proposal ?? 0;
    const propRef = Math.max(asked, enough ? nthHighest(others.map((s) => s.proposal), need) : Math.max(0, ...others.map((s) => s.proposal)));
    if (msg.proposal > propRef + limits.proposalStepMax) {
      if (!enough) return 'wait';
      return `rejected with proposal ${msg.proposal}, far above any the other members hold (${propRef}): no replica promises that far above the highest it knows`;
    }
    return 'ok';
  }
}

function summarize(msg: Message): SentRequest {
  const to_ = new Set<ReplicaId>();
  switch (msg.type) {
    case 'promise':
      return { type: msg.type, proposal: msg.proposal, from: msg.from, to: msg.from === undefined ? undefined : (msg.to ?? msg.from), to_ };
    case 'write':
      return { type: msg.type, proposal: msg.proposal, from: msg.from, to: msg.from + msg.actions.length - 1, count: msg.actions.length, to_ };
    case 'read':
      return { type: msg.type, from: msg.from, to: msg.to, count: msg.limit, to_ };
    default:
      return { type: msg.type, to_ };
  }
}

/** Slots strictly ascending, inside [lo, hi], at most `max`; else why not. */
function slotsMismatch(slots: readonly Slot[], lo: Position, hi: Position, max: number): string | undefined {
  if (slots.length > max) return `sent ${slots.length} slots, more than the ${max} asked for`;
  let prev = -1;
  for (const s of slots) {
    if (s.position < lo || s.position > hi) return `sent a slot at ${s.position}, outside [${lo}, ${hi}]`;
    if (s.position <= prev) return `sent slots out of order (${s.position} after ${prev})`;
    prev = s.position;
  }
  return undefined;
}

function coveredMismatch(coveredThrough: Position, to: Position): string | undefined {
  return coveredThrough > to ? `covered through ${coveredThrough}, beyond the ${to} asked for` : undefined;
}

/** The n-th highest of `values` (n >= 1, values.length >= n). */
function nthHighest(values: number[], n: number): number {
  return [...values].sort((a, b) => b - a)[n - 1]!;
}
