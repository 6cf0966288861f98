/**
 * Catch-up: learn every position of [from, to] from the other replicas.
 *
 * Bulk first: chosen (learned) values are copied in chunks read from the
 * VOTING peers; copying a learned value is always safe. Several chunks are in
 * flight at once (timing.catchUpReadsInFlight), spread over the peers in turn,
 * and their replies are applied strictly in position order. A chunk asks for
 * about timing.catchUpChunkBytes of entries (its position count follows the
 * entry size seen so far, at most limits.readSlotsMax). A peer that answers
 * not VOTING or falls silent is set aside for a while and its chunks asked of
 * the next one. Only the positions no peer has learned go through Paxos (a
 * Fill, which learns the chosen value or chooses a NOP), and only once no
 * writer is active there (ReadReply.writerActive): a live writer commits its
 * positions soon, and a fill above its proposal would fence it. A peer whose
 * beginning lies past the cursor truncated those positions: the catch-up
 * adopts its beginning (`begin`) instead of copying them. Pure logic: the shell
 * applies the `learned` entries to the local store and paces chunks (the
 * rate limit) to keep the writer's latency reasonable.
 */
import { assert } from './assert.js';
import { limits, timing } from './constants.js';
import type { ConfigView } from './config-view.js';
import { Fill, type FillContext, type FillOutbound, type FillResult } from './fill.js';
import { BOOTSTRAP_HEAD, type ConfigHead, type PlacedConfiguration } from './membership.js';
import type { Entry, Position, PromiseReply, Proposal, ReadReply, ReadRequest, ReplicaId, WriteReply } from './types.js';

export interface CatchUpOutput {
  readonly send: (FillOutbound | { readonly to: ReplicaId; readonly msg: ReadRequest })[];
  /** Chosen values to store as learned, in position order. */
  readonly learned: Entry[];
  /**
   * A peer's beginning above the cursor: everything below it was truncated by a chosen TRUNCATE (adopt it
   * first, with the chain up to config(begin): R14).
   */
  begin?: Position;
  /** The head of the peer that reported `begin` (ReadReply.config): a replica whose chain holds it holds config(begin). */
  beginHead?: ConfigHead;
  /**
   * The longest chain a peer sent with its replies (ReadReply.chain), with `begin` or with learned config
   * entries: the links to adopt with the beginning, and the floors the copies name (LearnedMessage.floors).
   */
  chain?: readonly PlacedConfiguration[];
  /**
   * R9f: the floors of config entries among `learned` that this catch-up's own fill chose (the proposal it
   * counted them chosen under): no peer's chain holds them yet, and without a floor they are not taken (R6).
   */
  floors?: { readonly position: Position; readonly floor: Proposal }[];
  /** Set once every position of the range is learned (or the range failed for lack of a quorum). */
  done?: 'ok' | 'no-quorum';
}

export interface CatchUpConfig {
  /** The replicas learned values are copied from. */
  readonly peers: readonly ReplicaId[];
  /**
   * config(q) as the replica knows it: a fill runs in config(q) among its
   * voters but `self` (docs/reconfiguration.md, R1). Without a view, fills ask
   * `peers` and need `quorum` votes (a one-link chain).
   */
  readonly view?: ConfigView;
  readonly self?: ReplicaId;
  /** Votes a fill needs without a view: a majority of the whole membership. */
  readonly quorum?: number;
  readonly random: () => number;
  readonly rid: () => number;
  /** Most positions asked per read (default limits.readSlotsMax). */
  readonly chunk?: number;
  /** Entry bytes a read aims at (default timing.catchUpChunkBytes). */
  readonly chunkBytes?: number;
  /** Reads in flight at most (default timing.catchUpReadsInFlight). */
  readonly inFlight?: number;
  /**
   * Settle positions no peer has learned with a fill (default true). A repair
   * of corrupted records copies learned values only: a fill near the log's end
   * would compete with the writer.
   */
  readonly fillGaps?: boolean;
  /** Entry bytes per second at most (default timing.catchUpBytesPerSecMax), so the writer's latency stays reasonable. */
  readonly bytesPerSecMax?: number;
  /**
   * Whether a catch-up whose peers were all silent for timing.operationTimeoutMs gives up (no-quorum):
   * only once there is evidence that they may be gone for good (R13: a member of a newer configuration
   * gossiped). A partition of a healthy configuration is waited out: giving up would make a rejoin start
   * over and read the whole range again. Absent: never.
   */
  readonly mayGiveUp?: () => boolean;
}

/** What one peer's reply to a read covered: [from, to], and whether it reported a writer active. */
interface Cover {
  readonly from: Position;
  readonly to: Position;
  readonly writerActive: boolean;
}

/**
 * One read: the consecutive range [from, to] (from moves up as the cursor
 * does). It is asked of one peer at a time; when that peer has not learned
 * the position at the cursor, the same range is asked of the next peer, so
 * the learned values of every peer are used before anything else happens.
 */
interface Read {
  rid: number;
  peer: ReplicaId;
  from: Position;
  readonly to: Position;
  sentAt: number;
  /** A request is out (rid, peer) and not answered yet. */
  waiting: boolean;
  /** Learned values any peer reported for positions of the range. */
  readonly learned: Map<Position, Entry['action']>;
  /** What each peer's latest answer covered. */
  readonly cover: Map<ReplicaId, Cover>;
  /** The highest beginning a peer reported (everything below was truncated), and that peer's head. */
  begin: Position;
  beginHead?: ConfigHead;
  /** Set while waiting for an active writer's commits: the read is asked again at this time. */
  resendAt?: number;
}

/** Positions asked by the first read, before any entry size is known. */
const FIRST_CHUNK = 256;

export class CatchUp {
  /** The next position not yet learned here. */
  private cursor: Position;
  /** Reads in position order; each starts where the one before ends. */
  private reads: Read[] = [];
  private fill?: Fill;
  private peerIndex = 0;
  /** Peers set aside (not VOTING, or silent) until the time given. */
  private readonly benched = new Map<ReplicaId, number>();
  /** When each peer last answered (a peer working through our reads keeps them alive). */
  private readonly heardAt = new Map<ReplicaId, number>();
  /**
   * When a peer last answered VOTING (or a fill's voter answered): a catch-up that hears no such answer for
   * timing.operationTimeoutMs gives up (no-quorum) if its owner has seen evidence that its peers may be gone
   * for good (CatchUpConfig.mayGiveUp), so that it looks for the cluster again.
   */
  private heardUsefulAt = 0;
  /** Since when the cursor has stood at a position that no peer reported learned (the wait under an active writer is bounded). */
  private stalled?: { readonly at: Position; readonly since: number };
  private proposalFloor: Proposal = 0;
  /** The longest chain the peers sent (ReadReply.chain); chains of one log are prefixes of each other (I3). */
  private chain?: readonly PlacedConfiguration[];
  private now = 0;
  private finished = false;
  /** When the catch-up started (the rate limit averages over the whole run). */
  private began: number | undefined;
  /** Positions and entry bytes learned so far (progress). */
  positionsDone = 0;
  bytesDone = 0;

  constructor(
    readonly from: Position,
    readonly to: Position,
    private readonly config: CatchUpConfig,
  ) {
    assert(config.peers.length > 0, 'catch-up needs peers');
    this.cursor = from;
  }

  get total(): number {
    return Math.max(0, this.to - this.from + 1);
  }

  get done(): boolean {
    return this.finished;
  }

  /** Starts (or continues after a pause) with the next chunks. */
  start(now: number): CatchUpOutput {
    this.now = now;
    if (this.began === undefined) {
      this.began = now;
      this.heardUsefulAt = now;
    }
    const out: CatchUpOutput = { send: [], learned: [] };
    this.pump(out);
    return this.withChain(out);
  }

  /** Adds the peers' chain to an output that adopts a beginning or copies a config entry. */
  private withChain(out: CatchUpOutput): CatchUpOutput {
    if (this.chain !== undefined && (out.begin !== undefined || out.learned.some((e) => e.action.kind === 'config'))) out.chain = this.chain;
    return out;
  }

  onReply(from: ReplicaId, msg: ReadReply | PromiseReply | WriteReply, now: number): CatchUpOutput {
    this.now = now;
    const out: CatchUpOutput = { send: [], learned: [] };
    this.heardAt.set(from, now);
    if (msg.type === 'readReply') {
      const read = this.reads.find((r) => r.rid === msg.rid && r.peer === from && r.waiting);
      if (read === undefined || this.finished) return out;
      if (msg.status !== 'VOTING') {
        this.bench(from);
        this.resend(read, out);
      } else {
        this.heardUsefulAt = now;
        this.merge(read, from, msg);
      }
      this.pump(out);
      return this.withChain(out);
    }
    if (this.fill === undefined) return out;
    this.heardUsefulAt = now;
    const fillSend: FillOutbound[] = [];
    const r = msg.type === 'promiseReply' ? this.fill.onPromiseReply(from, msg, now, fillSend) : this.fill.onWriteReply(from, msg, now, fillSend);
    for (const m of fillSend) out.send.push(m);
    if (r !== undefined) this.onFillDone(r, out);
    return this.withChain(out);
  }

  tick(now: number): CatchUpOutput {
    this.now = now;
    const out: CatchUpOutput = { send: [], learned: [] };
    if (this.fill !== undefined) {
      const fillSend: FillOutbound[] = [];
      const r = this.fill.onTick(now, fillSend);
      out.send.push(...fillSend);
      if (r !== undefined) this.onFillDone(r, out);
    }
    if (this.finished) return this.withChain(out);
    if (this.fill === undefined && this.reads.some((r) => r.waiting) && now - this.heardUsefulAt >= timing.operationTimeoutMs && this.config.mayGiveUp?.() === true) {
      // Every peer silent (or not VOTING) this long: they may be gone for good. The owner starts over.
      this.finished = true;
      this.reads = [];
      out.done = 'no-quorum';
      return this.withChain(out);
    }
    for (const read of this.reads) {
      if (read.resendAt !== undefined) {
        // Asked again in turn: the next peer may have learned the positions by now.
        if (now >= read.resendAt) this.send(read, this.pickPeer(), out);
        continue;
      }
      if (!read.waiting) continue;
      const alive = Math.max(read.sentAt, this.heardAt.get(read.peer) ?? -Infinity);
      if (now - alive >= timing.retransmitMs * 2) {
        // Slow or gone: ask the next peer.
        this.bench(read.peer);
        this.resend(read, out);
      }
    }
    this.pump(out); // also resumes after a pause for the rate limit
    return this.withChain(out);
  }

  /** Keeps what a peer's answer tells about the read's range: its learned values, how far it answered, its beginning. */
  private merge(read: Read, from: ReplicaId, msg: ReadReply): void {
    read.waiting = false;
    if (msg.begin > read.begin) {
      read.begin = msg.begin;
      read.beginHead = msg.config ?? BOOTSTRAP_HEAD;
    }
    if (msg.chain !== undefined && msg.chain.length > (this.chain?.length ?? 0)) this.chain = msg.chain;
    const to = Math.min(read.to, msg.coveredThrough);
    for (const s of msg.slots) {
      if (s.position < read.from || s.position > to || !s.learned || s.action === undefined) continue;
      read.learned.set(s.position, s.action);
    }
    read.cover.set(from, { from: read.from, to, writerActive: msg.writerActive });
  }

  /** Applies the answered reads at the head, in order, then sends more reads. */
  private pump(out: CatchUpOutput): void {
    while (!this.finished && this.fill === undefined) {
      const head = this.reads[0];
      if (head === undefined || head.waiting || head.resendAt !== undefined) break;
      if (!this.consume(head, out)) break;
    }
    this.issue(out);
  }

  /** Sends reads for the positions after the last one asked, within the window and the rate limit. */
  private issue(out: CatchUpOutput): void {
    if (this.finished || this.fill !== undefined) return;
    if (this.cursor > this.to) {
      this.finished = true;
      this.reads = [];
      out.done = 'ok';
      return;
    }
    const window = Math.max(1, this.config.inFlight ?? timing.catchUpReadsInFlight);
    const rate = this.config.bytesPerSecMax ?? timing.catchUpBytesPerSecMax;
    for (;;) {
      const last = this.reads[this.reads.length - 1];
      const next = last === undefined ? this.cursor : last.to + 1;
      if (next > this.to || this.reads.length >= window) return;
      // Keep the average rate under the limit: wait until the bytes copied so far are "paid for".
      const resumeAt = (this.began ?? this.now) + (this.bytesDone / rate) * 1000;
      if (this.now < resumeAt) return;
      const read: Read = {
        rid: 0,
        peer: 0,
        from: next,
        to: Math.min(this.to, next + this.chunkPositions() - 1),
        sentAt: this.now,
        waiting: true,
        learned: new Map(),
        cover: new Map(),
        begin: 0,
      };
      this.reads.push(read);
      this.send(read, this.pickPeer(), out);
    }
  }

  /** Positions per read: about chunkBytes of entries at the mean entry size so far. */
  private chunkPositions(): number {
    const max = Math.max(1, Math.min(this.config.chunk ?? limits.readSlotsMax, limits.readSlotsMax));
    if (this.positionsDone === 0) return Math.min(max, FIRST_CHUNK);
    const mean = Math.max(1, this.bytesDone / this.positionsDone);
    const bytes = this.config.chunkBytes ?? timing.catchUpChunkBytes;
    return Math.max(1, Math.min(max, Math.floor(bytes / mean)));
  }

  private pickPeer(): ReplicaId {
    const peers = this.config.peers;
    for (let i = 0; i < peers.length; i++) {
      const peer = peers[this.peerIndex++ % peers.length]!;
      if (!this.isBenched(peer)) return peer;
    }
    // Every peer set aside: try them in turn anyway.
    return peers[this.peerIndex++ % peers.length]!;
  }

  private isBenched(peer: ReplicaId): boolean {
    return (this.benched.get(peer) ?? -Infinity) > this.now;
  }

  /**
   * The peer to ask about position p of `read` next: the one that answered
   * last if its answer stopped short of p (a smaller read limit), else the
   * next peer in turn that has not answered about p and is not set aside.
   */
  private nextToAsk(read: Read, p: Position): ReplicaId | undefined {
    const peers = this.config.peers;
    const covers = (peer: ReplicaId): boolean => {
      const c = read.cover.get(peer);
      return c !== undefined && c.from <= p && p <= c.to;
    };
    if (!covers(read.peer) && !this.isBenched(read.peer) && peers.includes(read.peer)) return read.peer;
    const start = Math.max(0, peers.indexOf(read.peer));
    for (let k = 1; k <= peers.length; k++) {
      const peer = peers[(start + k) % peers.length]!;
      if (!covers(peer) && !this.isBenched(peer)) return peer;
    }
    // Nobody answered about p and every peer is set aside: ask one anyway.
    if (![...read.cover.values()].some((c) => c.from <= p && p <= c.to)) return this.pickPeer();
    return undefined;
  }

  private bench(peer: ReplicaId): void {
    this.benched.set(peer, this.now + timing.retransmitMs * 5);
  }

  private send(read: Read, peer: ReplicaId, out: CatchUpOutput): void {
    read.rid = this.config.rid();
    read.peer = peer;
    read.sentAt = this.now;
    read.waiting = true;
    read.resendAt = undefined;
    const limit = read.to - read.from + 1;
    out.send.push({ to: peer, msg: { type: 'read', rid: read.rid, from: read.from, to: read.to, limit } });
  }

  private resend(read: Read, out: CatchUpOutput): void {
    this.send(read, this.pickPeer(), out);
  }

  /**
   * Applies the head read from the cursor on: learned values (from any peer)
   * are copied. At a position none of the peers that answered has learned,
   * the next peer is asked; once every peer answered without it, it is
   * skipped (a repair copies learned values only), waited for (a writer is
   * active: its commit is on its way, or it is idle and the wait is bounded
   * by timing.activeWriterWaitMs), or filled by Paxos (the rest of the read
   * is applied once the fill is done). Returns true when the head read is
   * done (and removed).
   */
  private consume(head: Read, out: CatchUpOutput): boolean {
    // Below a peer's beginning everything is truncated: nothing to copy there, and the beginning is adopted.
    if (this.cursor < head.begin) {
      if (head.begin > (out.begin ?? 0)) {
        out.begin = head.begin;
        out.beginHead = head.beginHead ?? BOOTSTRAP_HEAD;
      }
      this.cursor = Math.min(head.begin, this.to + 1);
    }
    const fillGaps = this.config.fillGaps ?? true;
    while (this.cursor <= head.to) {
      const action = head.learned.get(this.cursor);
      if (action !== undefined) {
        out.learned.push({ position: this.cursor, action });
        this.account(action);
        this.cursor++;
        continue;
      }
      head.from = this.cursor;
      const ask = this.nextToAsk(head, this.cursor);
      if (ask !== undefined) {
        // Another peer may have learned it: its learned value is cheaper and safer than a fill.
        this.send(head, ask, out);
        return false;
      }
      // Every peer answered about the cursor, and none has learned it.
      if (!fillGaps) {
        // A repair copies learned values only: a later writer or reader settles this position.
        this.cursor++;
        continue;
      }
      const answers = [...head.cover.values()].filter((c) => c.from <= this.cursor && this.cursor <= c.to);
      if (this.stalled?.at !== this.cursor) this.stalled = { at: this.cursor, since: this.now };
      if (answers.some((c) => c.writerActive) && this.now - this.stalled.since < timing.activeWriterWaitMs) {
        // A live writer is choosing here: wait for its commit rather than fence it with a fill,
        // and ask every peer again in turn (one of them may learn it meanwhile).
        head.cover.clear();
        head.resendAt = this.now + timing.retransmitMs;
        return false;
      }
      // A gap: fill it and the positions after it that no peer that answered about them has learned.
      const answered = Math.min(...answers.map((c) => c.to));
      let gapTo = this.cursor;
      while (gapTo + 1 <= answered && gapTo - this.cursor + 1 < limits.fillRangeMax && !head.learned.has(gapTo + 1)) gapTo++;
      const fillSend: FillOutbound[] = [];
      const c = this.config;
      const ctx: FillContext =
        c.view !== undefined
          ? { view: c.view, self: c.self, random: c.random, rid: c.rid }
          : { members: c.peers, quorum: c.quorum, random: c.random, rid: c.rid };
      this.fill = new Fill(this.cursor, gapTo, this.proposalFloor, ctx, this.now, fillSend);
      for (const m of fillSend) out.send.push(m);
      return false;
    }
    this.reads.shift();
    return true;
  }

  private onFillDone(r: FillResult, out: CatchUpOutput): void {
    this.proposalFloor = Math.max(this.proposalFloor, this.fill!.highestSeen);
    const fill = this.fill!;
    this.fill = undefined;
    if (!r.ok) {
      this.finished = true;
      this.reads = [];
      out.done = 'no-quorum';
      return;
    }
    assert(fill.from === this.cursor, 'a fill starts at the cursor');
    for (const e of r.entries) {
      out.learned.push(e);
      this.account(e.action);
      if (e.action.kind === 'config' && r.floor !== undefined) (out.floors ??= []).push({ position: e.position, floor: r.floor });
    }
    // A fill may settle a prefix of its range (a reply cut at its byte bound): go on after what it settled.
    this.cursor = fill.from + r.entries.length;
    this.pump(out);
  }

  private account(action: Entry['action']): void {
    this.positionsDone++;
    if (action.kind === 'append') this.bytesDone += action.data.byteLength;
  }
}
