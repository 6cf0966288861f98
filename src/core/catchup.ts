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
import { Fill, type FillOutbound, type FillResult } from './fill.js';
import type { Entry, Position, PromiseReply, Proposal, ReadReply, ReadRequest, ReplicaId, WriteReply } from './types.js';

export interface CatchUpOutput {
  readonly send: (FillOutbound | { readonly to: ReplicaId; readonly msg: ReadRequest })[];
  /** Chosen values to store as learned, in position order. */
  readonly learned: Entry[];
  /** A peer's beginning above the cursor: everything below it was truncated by a chosen TRUNCATE (adopt it first). */
  begin?: Position;
  /** Set once every position of the range is learned (or the range failed for lack of a quorum). */
  done?: 'ok' | 'no-quorum';
}

export interface CatchUpConfig {
  readonly peers: readonly ReplicaId[];
  /** Votes a fill needs: a majority of the whole membership. */
  readonly quorum: number;
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
}

/** One read in flight (or answered and waiting for the reads before it). Reads cover consecutive ranges. */
interface Read {
  rid: number;
  peer: ReplicaId;
  from: Position;
  readonly to: Position;
  sentAt: number;
  reply?: ReadReply;
  /** Index of the first slot of `reply` not yet looked at. */
  at: number;
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
  private proposalFloor: Proposal = 0;
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
    this.began ??= now;
    const out: CatchUpOutput = { send: [], learned: [] };
    this.pump(out);
    return out;
  }

  onReply(from: ReplicaId, msg: ReadReply | PromiseReply | WriteReply, now: number): CatchUpOutput {
    this.now = now;
    const out: CatchUpOutput = { send: [], learned: [] };
    this.heardAt.set(from, now);
    if (msg.type === 'readReply') {
      const read = this.reads.find((r) => r.rid === msg.rid && r.peer === from && r.reply === undefined);
      if (read === undefined || this.finished) return out;
      if (msg.status !== 'VOTING') {
        this.bench(from);
        this.resend(read, out);
      } else {
        read.reply = msg;
      }
      this.pump(out);
      return out;
    }
    if (this.fill === undefined) return out;
    const fillSend: FillOutbound[] = [];
    const r = msg.type === 'promiseReply' ? this.fill.onPromiseReply(from, msg, now, fillSend) : this.fill.onWriteReply(from, msg, now, fillSend);
    for (const m of fillSend) out.send.push(m);
    if (r !== undefined) this.onFillDone(r, out);
    return out;
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
    if (this.finished) return out;
    for (const read of this.reads) {
      if (read.resendAt !== undefined) {
        if (now >= read.resendAt) this.send(read, read.peer, out);
        continue;
      }
      if (read.reply !== undefined) continue;
      const alive = Math.max(read.sentAt, this.heardAt.get(read.peer) ?? -Infinity);
      if (now - alive >= timing.retransmitMs * 2) {
        // Slow or gone: ask the next peer.
        this.bench(read.peer);
        this.resend(read, out);
      }
    }
    this.pump(out); // also resumes after a pause for the rate limit
    return out;
  }

  /** Applies the answered reads at the head, in order, then sends more reads. */
  private pump(out: CatchUpOutput): void {
    while (!this.finished && this.fill === undefined) {
      const head = this.reads[0];
      if (head === undefined || head.reply === undefined) break;
      this.consume(head, out);
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
      const read: Read = { rid: 0, peer: 0, from: next, to: Math.min(this.to, next + this.chunkPositions() - 1), sentAt: this.now, at: 0 };
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
      if ((this.benched.get(peer) ?? -Infinity) <= this.now) return peer;
    }
    // Every peer set aside: try them in turn anyway.
    return peers[this.peerIndex++ % peers.length]!;
  }

  private bench(peer: ReplicaId): void {
    this.benched.set(peer, this.now + timing.retransmitMs * 5);
  }

  private send(read: Read, peer: ReplicaId, out: CatchUpOutput): void {
    read.rid = this.config.rid();
    read.peer = peer;
    read.sentAt = this.now;
    read.reply = undefined;
    read.at = 0;
    read.resendAt = undefined;
    const limit = read.to - read.from + 1;
    out.send.push({ to: peer, msg: { type: 'read', rid: read.rid, from: read.from, to: read.to, limit } });
  }

  private resend(read: Read, out: CatchUpOutput): void {
    this.send(read, this.pickPeer(), out);
  }

  /**
   * Applies the head read's reply from the cursor on: learned slots are
   * copied; the first gap (not learned at the peer) is filled by Paxos, and
   * the rest of the reply is applied once the fill is done.
   */
  private consume(head: Read, out: CatchUpOutput): void {
    const msg = head.reply!;
    // Below the peer's beginning everything is truncated: nothing to copy there, and the beginning is adopted.
    if (this.cursor < msg.begin) {
      out.begin = Math.max(out.begin ?? 0, msg.begin);
      this.cursor = Math.min(msg.begin, this.to + 1);
    }
    const covered = Math.min(head.to, msg.coveredThrough);
    const slots = msg.slots;
    const fillGaps = this.config.fillGaps ?? true;
    let i = head.at;
    const learnedAt = (p: Position): boolean => {
      while (i < slots.length && slots[i]!.position < p) i++;
      const s = slots[i];
      return s !== undefined && s.position === p && s.learned && s.action !== undefined;
    };
    while (this.cursor <= covered) {
      if (learnedAt(this.cursor)) {
        const action = slots[i]!.action!;
        out.learned.push({ position: this.cursor, action });
        this.account(action);
        this.cursor++;
        continue;
      }
      if (!fillGaps) {
        this.cursor++;
        continue;
      }
      if (msg.writerActive) {
        // A live writer is choosing here: wait for its commit rather than fence it with a fill.
        head.at = i;
        head.from = this.cursor;
        head.reply = undefined;
        head.resendAt = this.now + timing.retransmitMs;
        return;
      }
      // A gap: fill it and the positions after it that this peer has not learned either.
      const at = i;
      let gapTo = this.cursor;
      while (gapTo + 1 <= covered && gapTo - this.cursor + 1 < limits.fillRangeMax && !learnedAt(gapTo + 1)) gapTo++;
      head.at = at;
      const fillSend: FillOutbound[] = [];
      this.fill = new Fill(this.cursor, gapTo, this.proposalFloor, {
        members: this.config.peers,
        quorum: this.config.quorum,
        random: this.config.random,
        rid: this.config.rid,
      }, this.now, fillSend);
      for (const m of fillSend) out.send.push(m);
      return;
    }
    head.at = i;
    if (this.cursor > head.to) {
      this.reads.shift();
      return;
    }
    // The peer answered part of the range (a smaller read limit): ask for the rest.
    head.from = this.cursor;
    this.send(head, head.peer, out);
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
