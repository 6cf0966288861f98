/**
 * The change relay (docs/reconfiguration.md R12, "the hand-off"): a replica
 * holds a membership change asked through it until the writer that holds the
 * log takes it, and keeps the outcome that writer reports for the asker to
 * read. So `replog member ...` never has to elect a writer of its own (which
 * would fence the application's) while one is at work.
 *
 * Who is "the writer": the holder of this replica's implicit promise, seen at
 * work here lately (ReplicaNodeCore.writerView().active) and seen asking for
 * changes lately (a `changeTake` naming that very proposal, within
 * timing.writerActiveMs). The second condition matters: a writer that never
 * asks (an older client, a one-shot `replog append` that just resigned, whose
 * commits still look recent) would leave a held change waiting for nobody;
 * without a taker the offer is answered `no-writer` at once and the asker
 * elects its own writer, as before the hand-off.
 *
 * What it promises: a held change is handed only to the current holder, once
 * (to the connection that asked), and only that connection's report settles
 * it. If that connection closes first, the change is held again for the next
 * take (the writer dedupes by id, so its next connection gets it again and
 * reports there). The taker is bound to its connection: while it takes
 * (within `takerWindowMs`) another connection naming the same proposal is
 * refused (handed nothing, `onRefused` says why) and changes nothing,
 * neither the taker nor what it took, and its `done` is ignored: the
 * holder's proposal is no secret (/status shows it), and a connection that
 * could unseat the taker could have an offer answered `no-writer`, so that
 * the asker elects its own writer and fences the application's. With TLS a
 * connection that may not carry changes is handed nothing and changes
 * nothing either. A withdrawn change is never handed out; a taken one cannot
 * be withdrawn (the asker then waits for the outcome). Everything is bounded
 * (wireLimits.relayHeldMax entries) and forgotten after `expiryMs` without
 * news from the asker (a poll is an offer of the same id). In memory only: a
 * restarted replica forgets, the asker's poll then finds `no-writer` or holds
 * it again, and `ifEpoch` keeps a change from being applied twice whatever
 * happens (the second application finds its epoch passed).
 *
 * Shell code: it takes the shell's clock (`now`).
 */
import { timing } from '../core/constants.js';
import type { ChangeRequest } from '../core/writer.js';
import type { ChangeOffer, ChangeOfferReply, ChangeTake, ChangeTakeReply, OfferState, RelayOutcome } from '../net/change-codec.js';
import { wireLimits } from '../net/limits.js';

/** The holder of this replica's promise as the core sees it (ReplicaNodeCore.writerView), or null. */
export interface HolderView {
  readonly proposal: number;
  /** It wrote, committed or was elected here within timing.writerActiveMs. */
  readonly active: boolean;
}

export interface ChangeRelayOptions {
  readonly now: () => number;
  readonly holder: () => HolderView | null;
  /** A held or settled change nobody asked about for this long is forgotten (default 60 s). */
  readonly expiryMs?: number;
  /** Most changes held at once (default wireLimits.relayHeldMax). */
  readonly heldMax?: number;
  /** How recent a take by the holder must be for offers to be held (default timing.writerActiveMs). */
  readonly takerWindowMs?: number;
  /** A take refused (another connection names the bound taker's proposal, or one without the role): for the shell's log and metrics. */
  readonly onRefused?: (conn: object, type: 'changeTake' | 'changeOffer', reason: string) => void;
}

interface Entry {
  readonly request: ChangeRequest;
  state: Exclude<OfferState, 'no-writer'>;
  /** The connection that offered it, while open: only it may withdraw it. */
  offeredBy: object | undefined;
  /** The connection it was handed to (state taken). */
  takenBy?: object;
  outcome?: RelayOutcome;
  /** When the asker last asked about it. */
  seenAt: number;
}

/** What a report did, for the shell's log line. */
export type ReportVerdict = 'settled' | 'unknown-id' | 'not-the-taker' | 'already-settled';

export class ChangeRelay {
  private readonly entries = new Map<string, Entry>();
  /** The latest take by the holder of the promise: its proposal, when, and on which connection. */
  private taker: { proposal: number; at: number; conn: object } | undefined;
  private readonly expiryMs: number;
  private readonly heldMax: number;
  private readonly takerWindowMs: number;

  constructor(private readonly opts: ChangeRelayOptions) {
    this.expiryMs = opts.expiryMs ?? 60_000;
    this.heldMax = opts.heldMax ?? wireLimits.relayHeldMax;
    this.takerWindowMs = opts.takerWindowMs ?? timing.writerActiveMs;
  }

  /** How many changes it holds or remembers now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * A writer that takes changes holds this replica's promise and is at work: offers are held for it. The
   * latest take need not name the current promise: a writer that just made a change holds a new proposal
   * (R4's fresh election) before its next take, and answering no-writer then would make the asker elect a
   * writer of its own and fence it. If the holder is another writer that never takes, the held change is
   * not taken in time, and the asker withdraws it and goes on as with no-writer, only later.
   */
  writerTakes(): boolean {
    const h = this.opts.holder();
    const t = this.taker;
    return h !== null && h.active && t !== undefined && this.opts.now() - t.at < this.takerWindowMs;
  }

  /**
   * An offer (or a poll, or with `withdraw` a withdrawal) of a change: what this replica holds of it now.
   * A change is its offering connection's: another connection may poll it (the same request), but its
   * withdrawal is refused (answered with the state, which it leaves as it is) and so is another request
   * under the same id (answered withdrawn: not held for it). Once the offering connection closed, the
   * next connection to offer the same request is its asker (the asker reconnected).
   */
  offer(msg: ChangeOffer, conn: object): ChangeOfferReply {
    const now = this.opts.now();
    this.expire(now);
    const id = msg.request.id;
    let e = this.entries.get(id);
    if (e === undefined) {
      if (msg.withdraw === true) return { type: 'changeOfferReply', rid: msg.rid, state: 'withdrawn' };
      if (!this.writerTakes() || !this.room()) return { type: 'changeOfferReply', rid: msg.rid, state: 'no-writer' };
      e = { request: msg.request, state: 'held', seenAt: now, offeredBy: conn };
      this.entries.set(id, e);
    }
    if (!sameRequest(e.request, msg.request)) {
      this.opts.onRefused?.(conn, 'changeOffer', `an offer of another change under the id ${id}`);
      return { type: 'changeOfferReply', rid: msg.rid, state: 'withdrawn' };
    }
    e.offeredBy ??= conn;
    e.seenAt = now;
    if (msg.withdraw === true && e.state === 'held') {
      if (e.offeredBy === conn) e.state = 'withdrawn';
      else this.opts.onRefused?.(conn, 'changeOffer', `a withdrawal of change ${id} from a connection that did not offer it`);
    }
    return e.state === 'done' ? { type: 'changeOfferReply', rid: msg.rid, state: 'done', outcome: e.outcome! } : { type: 'changeOfferReply', rid: msg.rid, state: e.state };
  }

  /**
   * A writer asks for the held changes: handed (and marked taken by `conn`) only if it holds this
   * replica's promise and `mayCarry` (with TLS, a client certificate's connection, admin or plain: every
   * held change is an admin's, and the acceptors take a plain writer's config write of it, R15;
   * admission.ts mayCarryChanges).
   * A connection that may not carry them is handed nothing and changes nothing (if it is the holder, no
   * connection of it takes, so offers find no-writer once the previous taker is gone). Another connection
   * naming the proposal of a taker still at work here (bound, within takerWindowMs) is refused: the
   * taker's connection stays the taker. A writer that reconnected gets its place once its old connection
   * closes or stops taking.
   */
  take(msg: ChangeTake, conn: object, mayCarry = true): ChangeTakeReply {
    const now = this.opts.now();
    this.expire(now);
    const h = this.opts.holder();
    const requests: ChangeRequest[] = [];
    const reply: ChangeTakeReply = { type: 'changeTakeReply', rid: msg.rid, requests };
    // A writer that stops taking (it resigned): no taker; another connection's word is no news of it.
    if (msg.done === true) {
      if (this.taker?.conn === conn) this.taker = undefined;
      return reply;
    }
    if (h === null || h.proposal !== msg.proposal) return reply;
    if (!mayCarry) {
      this.opts.onRefused?.(conn, 'changeTake', `a take naming proposal ${msg.proposal} from a connection that may not carry changes`);
      return reply;
    }
    const t = this.taker;
    if (t !== undefined && t.conn !== conn && t.proposal === msg.proposal && now - t.at < this.takerWindowMs) {
      this.opts.onRefused?.(conn, 'changeTake', `a take naming proposal ${msg.proposal}, whose taker is another connection`);
      return reply;
    }
    this.taker = { proposal: msg.proposal, at: now, conn };
    for (const e of this.entries.values()) {
      if (e.state !== 'held') continue;
      e.state = 'taken';
      e.takenBy = conn;
      requests.push(e.request);
    }
    return reply;
  }

  /** The outcome of a change, from the writer that took it: accepted only from the connection it was handed to. */
  report(id: string, outcome: RelayOutcome, conn: object): ReportVerdict {
    const e = this.entries.get(id);
    if (e === undefined) return 'unknown-id';
    if (e.state === 'done') return 'already-settled';
    if (e.state !== 'taken' || e.takenBy !== conn) return 'not-the-taker';
    e.state = 'done';
    e.outcome = outcome;
    e.takenBy = undefined;
    return 'settled';
  }

  /**
   * A connection closed: what it took and did not settle is held again, for the holder's next take; if it
   * was the taker's (a one-shot `replog append` exits), there is no taker until the next take, so offers
   * find no-writer at once instead of waiting to be withdrawn. What it offered waits for its asker's next
   * offer, on whichever connection.
   */
  connectionClosed(conn: object): void {
    if (this.taker?.conn === conn) this.taker = undefined;
    for (const e of this.entries.values()) {
      if (e.offeredBy === conn) e.offeredBy = undefined;
      if (e.state === 'taken' && e.takenBy === conn) {
        e.state = 'held';
        e.takenBy = undefined;
      }
    }
  }

  /** Room for one more: forgotten first are the expired, then the oldest settled or withdrawn. */
  private room(): boolean {
    if (this.entries.size < this.heldMax) return true;
    let oldest: [string, Entry] | undefined;
    for (const kv of this.entries) if ((kv[1].state === 'done' || kv[1].state === 'withdrawn') && (oldest === undefined || kv[1].seenAt < oldest[1].seenAt)) oldest = kv;
    if (oldest === undefined) return false;
    this.entries.delete(oldest[0]);
    return true;
  }

  private expire(now: number): void {
    for (const [id, e] of this.entries) if (now - e.seenAt >= this.expiryMs) this.entries.delete(id);
  }
}

/** The same change request: id, ifEpoch and change (as decoded from the wire, fields in one order). */
function sameRequest(a: ChangeRequest, b: ChangeRequest): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
