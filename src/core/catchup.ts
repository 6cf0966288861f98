/**
 * Catch-up: learn every position of [from, to] from the other replicas.
 *
 * Bulk first: chosen (learned) values are copied in chunks of up to
 * `limits.readSlotsMax` positions from one VOTING peer at a time (rotating
 * when a peer is slow or not VOTING); copying a learned value is always safe.
 * Only the positions no peer has learned go through Paxos (a Fill, which
 * learns the chosen value or chooses a NOP). Pure logic: the shell applies the
 * `learned` entries to the local store and paces chunks (`paused`) to keep
 * the writer's latency reasonable.
 */
import { assert } from './assert.js';
import { limits, timing } from './constants.js';
import { Fill, type FillOutbound, type FillResult } from './fill.js';
import type { Entry, Position, PromiseReply, Proposal, ReadReply, ReadRequest, ReplicaId, WriteReply } from './types.js';

export interface CatchUpOutput {
  readonly send: (FillOutbound | { readonly to: ReplicaId; readonly msg: ReadRequest })[];
  /** Chosen values to store as learned, in position order. */
  readonly learned: Entry[];
  /** Set once every position of the range is learned (or the range failed for lack of a quorum). */
  done?: 'ok' | 'no-quorum';
}

export interface CatchUpConfig {
  readonly peers: readonly ReplicaId[];
  /** Votes a fill needs: a majority of the whole membership. */
  readonly quorum: number;
  readonly random: () => number;
  readonly rid: () => number;
  /** Positions asked per read (default limits.readSlotsMax). */
  readonly chunk?: number;
  /**
   * Settle positions no peer has learned with a fill (default true). A repair
   * of corrupted records copies learned values only: a fill near the log's end
   * would compete with the writer.
   */
  readonly fillGaps?: boolean;
  /** Entry bytes per second at most (default timing.catchUpBytesPerSecMax), so the writer's latency stays reasonable. */
  readonly bytesPerSecMax?: number;
}

export class CatchUp {
  /** The next position not yet learned here. */
  private cursor: Position;
  private request?: { rid: number; peer: ReplicaId; to: Position; sentAt: number };
  private fill?: Fill;
  private peerIndex = 0;
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

  /** Starts (or continues after a pause) with the next chunk. */
  start(now: number): CatchUpOutput {
    this.now = now;
    this.began ??= now;
    const out: CatchUpOutput = { send: [], learned: [] };
    this.next(out);
    return out;
  }

  onReply(from: ReplicaId, msg: ReadReply | PromiseReply | WriteReply, now: number): CatchUpOutput {
    this.now = now;
    const out: CatchUpOutput = { send: [], learned: [] };
    if (msg.type === 'readReply') {
      const req = this.request;
      if (req === undefined || msg.rid !== req.rid || from !== req.peer) return out;
      this.request = undefined;
      if (msg.status !== 'VOTING') {
        this.peerIndex++;
        this.next(out);
        return out;
      }
      this.onChunk(msg, req.to, out);
      return out;
    }
    if (this.fill === undefined) return out;
    const fillSend: FillOutbound[] = [];
    const r = msg.type === 'promiseReply' ? this.fill.onPromiseReply(from, msg, now, fillSend) : this.fill.onWriteReply(from, msg, now, fillSend);
    out.send.push(...fillSend);
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
    } else if (this.request !== undefined && now - this.request.sentAt >= timing.retransmitMs * 2) {
      // Slow or gone: ask the next peer.
      this.request = undefined;
      this.peerIndex++;
      this.next(out);
    } else if (this.request === undefined) {
      this.next(out); // after a pause for the rate limit
    }
    return out;
  }

  private next(out: CatchUpOutput): void {
    if (this.finished || this.request !== undefined || this.fill !== undefined) return;
    if (this.cursor > this.to) {
      this.finished = true;
      out.done = 'ok';
      return;
    }
    // Keep the average rate under the limit: wait until the bytes copied so far are "paid for".
    const rate = this.config.bytesPerSecMax ?? timing.catchUpBytesPerSecMax;
    const resumeAt = (this.began ?? this.now) + (this.bytesDone / rate) * 1000;
    if (this.now < resumeAt) return;
    const chunk = this.config.chunk ?? limits.readSlotsMax;
    const to = Math.min(this.to, this.cursor + chunk - 1);
    const peer = this.config.peers[this.peerIndex % this.config.peers.length]!;
    const rid = this.config.rid();
    this.request = { rid, peer, to, sentAt: this.now };
    out.send.push({ to: peer, msg: { type: 'read', rid, from: this.cursor, to, limit: chunk } });
  }

  /** Learned slots are copied; the first gap (not learned at the peer) is filled by Paxos. */
  private onChunk(msg: ReadReply, to: Position, out: CatchUpOutput): void {
    // Below the peer's beginning everything is truncated: nothing to copy there.
    if (this.cursor < msg.begin) this.cursor = Math.min(msg.begin, this.to + 1);
    const covered = Math.min(to, msg.coveredThrough);
    const learned = new Map(msg.slots.filter((s) => s.learned && s.action !== undefined).map((s) => [s.position, s]));
    const fillGaps = this.config.fillGaps ?? true;
    while (this.cursor <= covered) {
      const s = learned.get(this.cursor);
      if (s === undefined) {
        if (fillGaps) break;
        this.cursor++;
        continue;
      }
      out.learned.push({ position: this.cursor, action: s.action! });
      this.account(s.action!);
      this.cursor++;
    }
    if (this.cursor <= covered) {
      // A gap: fill it and the positions after it that this peer has not learned either.
      let gapTo = this.cursor;
      while (gapTo + 1 <= covered && !learned.has(gapTo + 1) && gapTo - this.cursor + 1 < limits.fillRangeMax) gapTo++;
      const fillSend: FillOutbound[] = [];
      this.fill = new Fill(this.cursor, gapTo, this.proposalFloor, {
        members: this.config.peers,
        quorum: this.config.quorum,
        random: this.config.random,
        rid: this.config.rid,
      }, this.now, fillSend);
      out.send.push(...fillSend);
      return;
    }
    this.next(out);
  }

  private onFillDone(r: FillResult, out: CatchUpOutput): void {
    this.proposalFloor = Math.max(this.proposalFloor, this.fill!.highestSeen);
    const fill = this.fill!;
    this.fill = undefined;
    if (!r.ok) {
      this.finished = true;
      out.done = 'no-quorum';
      return;
    }
    assert(fill.from === this.cursor, 'a fill starts at the cursor');
    for (const e of r.entries) {
      out.learned.push(e);
      this.account(e.action);
    }
    this.cursor = fill.to + 1;
    this.next(out);
  }

  private account(action: Entry['action']): void {
    this.positionsDone++;
    if (action.kind === 'append') this.bytesDone += action.data.byteLength;
  }
}
