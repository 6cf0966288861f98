/**
 * One TCP connection carrying frames, used by both the listener and PeerLink:
 * cuts incoming bytes into frame payloads, and sends through a bounded queue
 * that batches every frame queued in the same turn of the event loop into one
 * socket write. A bad frame (WireError from the decoder or from onFrame)
 * closes this connection with the reason; nothing else is affected. A peer
 * that stops in the middle of a frame is dropped after frameTimeoutMs.
 */
import type { Socket } from 'node:net';
import type { Message } from '../core/types.js';
import { assert } from '../core/assert.js';
import { encodeFrame, messageSize } from './codec.js';
import { WireError } from './errors.js';
import { FrameDecoder } from './frame.js';
import { SNIFF_BYTES } from './http-sniff.js';
import { wireLimits } from './limits.js';
import type { BudgetedConnection, ReplyBudget } from './reply-budget.js';

export interface QueueBounds {
  /** Most bytes queued (ours plus Node's socket buffer) before send() refuses. */
  readonly bytesMax: number;
  /** Most messages in our queue before send() refuses. */
  readonly messagesMax: number;
  /** whenWritable() resolves once queued bytes are at most this. */
  readonly bytesLow: number;
}

export const defaultQueueBounds: QueueBounds = {
  bytesMax: wireLimits.sendQueueBytesMax,
  messagesMax: wireLimits.sendQueueMessagesMax,
  bytesLow: wireLimits.sendQueueBytesLow,
};

export interface FramedConnectionOptions {
  readonly queue?: QueueBounds;
  /** Called with each frame payload in order. May throw WireError to reject it (the connection closes). */
  onFrame(payload: Buffer): void;
  /** Called once, when the socket is closed, with the first reason recorded. */
  onClose(reason: string): void;
  /**
   * Called once with the first SNIFF_BYTES bytes before any frame is decoded;
   * returning true means the caller took over the socket (no frame is decoded).
   */
  sniff?(head: Buffer): boolean;
  /**
   * Stop reading from the socket while our send queue is above its
   * low-water mark (QueueBounds.bytesLow): a peer that sends requests and
   * never reads the replies stops being read, instead of growing our memory.
   * Only for the accepting side: if both ends paused, two replicas with full
   * queues towards each other would wait on each other for ever.
   */
  readonly pauseReadsWhileQueued?: boolean;
  /**
   * While part of a frame is buffered, the longest time without a byte from the peer before the
   * connection is closed (reason `stalled: ...`). Default wireLimits.frameTimeoutMs.
   */
  readonly frameTimeoutMs?: number;
}

let nextId = 1;

export class FramedConnection implements BudgetedConnection {
  /** A process-unique id for logs. */
  readonly id = nextId++;
  readonly remote: string;
  private readonly decoder = new FrameDecoder(wireLimits.frameBytesMax, wireLimits.helloBytesMax);
  private readonly bounds: QueueBounds;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** While held, queued frames are not written (PeerLink holds until the handshake completes). */
  private held = false;
  private flushScheduled = false;
  /** Set while Node's socket buffer is over its high-water mark: wait for 'drain'. */
  private blocked = false;
  private head: Buffer | undefined;
  private closeReason: string | undefined;
  private writableWaiters: (() => void)[] = [];
  /** Reading is paused because our queue is above its low-water mark (see pauseReadsWhileQueued). */
  private readPaused = false;
  /** The listener's reply budget, once this is a client connection (useBudget). */
  private budget: ReplyBudget | undefined;
  /** Our queued bytes as last counted in the budget. */
  private budgeted = 0;
  /** Reading is paused because the budget is spent and this connection holds more than its share. */
  private budgetPaused = false;
  /** Whether the socket is paused now (for either reason). */
  private socketPaused = false;
  private readonly frameTimeoutMs: number;
  /** When the peer last sent a byte, or we last resumed reading (performance.now()). */
  private lastByteAt = 0;
  /** Armed while part of a frame is buffered (checkStall). */
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    private readonly opts: FramedConnectionOptions,
  ) {
    this.bounds = opts.queue ?? defaultQueueBounds;
    this.frameTimeoutMs = opts.frameTimeoutMs ?? wireLimits.frameTimeoutMs;
    assert(this.frameTimeoutMs > 0, 'frameTimeoutMs > 0');
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (opts.sniff !== undefined) this.head = Buffer.alloc(0);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.recordReason(`socket error: ${err.code ?? err.message}`));
    socket.on('end', () => this.recordReason('peer closed the connection'));
    socket.on('close', () => {
      this.recordReason('socket closed');
      clearTimeout(this.stallTimer);
      this.pending = [];
      this.pendingBytes = 0;
      this.wakeWriters();
      this.opts.onClose(this.closeReason!);
    });
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** True while reading is paused: a full send queue, or a spent reply budget. */
  get readingPaused(): boolean {
    return this.readPaused || this.budgetPaused;
  }

  /** Bytes waiting to be sent: our queue plus Node's socket buffer. */
  get queuedBytes(): number {
    return this.pendingBytes + this.socket.writableLength;
  }

  /** Holds queued frames until release() (frames written with writeNow still go out). */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    this.scheduleFlush();
  }

  /** Writes a frame ahead of the queue, at once (the hello). */
  writeNow(frame: Buffer): void {
    if (!this.closed) this.socket.write(frame);
  }

  /**
   * Counts this connection's replies in a listener-wide budget from now on (a client connection, once
   * its hello said so): see ReplyBudget.
   */
  useBudget(budget: ReplyBudget): void {
    assert(this.budget === undefined, 'one budget per connection');
    this.budget = budget;
    this.account();
  }

  /**
   * Queues a message; false if it was not queued (closed, the queue is full, or the message is too large
   * for a frame: such a reply is dropped, never thrown at the caller, which may be releasing other replies).
   */
  send(msg: Message): boolean {
    if (this.closed || !this.hasRoom()) return false;
    if (messageSize(msg) > wireLimits.frameBytesMax) return false;
    return this.sendFrame(encodeFrame(msg));
  }

  /** Queues an encoded frame; false if it was not queued (closed, or the queue is full). */
  sendFrame(frame: Buffer): boolean {
    if (this.closed || !this.hasRoom(frame.length)) return false;
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    if (this.opts.pauseReadsWhileQueued === true && !this.readPaused && !this.isWritable()) this.readPaused = true;
    this.account();
    if (this.budget !== undefined && !this.budgetPaused && this.budget.shouldPause(this.queuedBytes)) {
      this.budgetPaused = true;
      this.budget.pause(this);
    }
    this.updateReading();
    this.scheduleFlush();
    return true;
  }

  private hasRoom(bytes = 0): boolean {
    if (this.budget !== undefined && !this.budget.hasRoom(bytes)) return false;
    return this.pending.length < this.bounds.messagesMax && this.queuedBytes + bytes <= this.bounds.bytesMax;
  }

  /** Brings this connection's count in the budget up to date (our queue and the socket's buffer change). */
  private account(): void {
    if (this.budget === undefined) return;
    const now = this.closed ? 0 : this.queuedBytes;
    const delta = now - this.budgeted;
    this.budgeted = now;
    if (delta !== 0) this.budget.change(delta);
  }

  /** For ReplyBudget only: the total fell to its low mark (public: BudgetedConnection declares it). */
  resumeByBudget(): void {
    this.budgetPaused = false;
    this.updateReading();
  }

  /** Pauses or resumes the socket to match the two reasons to stop reading. */
  private updateReading(): void {
    const pause = this.readPaused || this.budgetPaused;
    if (pause === this.socketPaused || this.closed) return;
    this.socketPaused = pause;
    if (pause) this.socket.pause();
    else {
      // The time we did not read is not the peer's silence.
      this.lastByteAt = performance.now();
      this.socket.resume();
    }
  }

  /** Bytes held of a frame not yet complete (or of the first bytes, before the sniff). */
  private get partialBytes(): number {
    return this.decoder.buffered + (this.head?.length ?? 0);
  }

  /** Arms the stall check if part of a frame is buffered and it is not armed (one timer, re-armed lazily). */
  private watchStall(): void {
    if (this.stallTimer === undefined && !this.closed && this.partialBytes > 0) {
      this.stallTimer = setTimeout(() => this.checkStall(), this.frameTimeoutMs).unref();
    }
  }

  private checkStall(): void {
    // Timers run before I/O in an event-loop turn: after a long block, bytes that did arrive are read first.
    setImmediate(() => {
      this.stallTimer = undefined;
      if (this.closed || this.partialBytes === 0) return;
      const silentMs = performance.now() - this.lastByteAt;
      if (this.socketPaused || silentMs < this.frameTimeoutMs) {
        this.stallTimer = setTimeout(() => this.checkStall(), this.socketPaused ? this.frameTimeoutMs : this.frameTimeoutMs - silentMs).unref();
        return;
      }
      this.close(`stalled: ${this.partialBytes} bytes of an incomplete frame, then nothing for ${Math.round(silentMs)} ms`);
    });
  }

  /** Resolves once the queue is under its low-water mark, or the connection is closed. */
  whenWritable(): Promise<void> {
    if (this.isWritable()) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  private isWritable(): boolean {
    return this.closed || (this.queuedBytes <= this.bounds.bytesLow && this.pending.length < this.bounds.messagesMax / 2);
  }

  private wakeWriters(): void {
    if (this.readPaused && this.isWritable()) this.readPaused = false;
    this.account();
    if (this.budgetPaused && (this.closed || this.queuedBytes <= this.budget!.bounds.shareBytes)) {
      // It read its replies: it is not the one filling memory.
      this.budgetPaused = false;
      this.budget!.forget(this);
    }
    this.updateReading();
    if (this.writableWaiters.length === 0 || !this.isWritable()) return;
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w();
  }

  /** Closes the connection (at once, dropping queued frames) and records why. Idempotent. */
  close(reason: string): void {
    this.recordReason(reason);
    this.socket.destroy();
  }

  /**
   * Writes `lastWords` (bypassing the queue), half-closes, and destroys the
   * socket shortly after in case the peer never closes its side.
   */
  closeAfter(reason: string, lastWords: string | Buffer): void {
    if (this.closed) return;
    this.recordReason(reason);
    this.socket.end(lastWords);
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  /**
   * Sends what is queued, then half-closes; destroys the socket after
   * `timeoutMs` if the peer never closes its side. For clean shutdowns, so a
   * client's last messages (e.g. a commit) are not lost on close.
   */
  end(reason: string, timeoutMs = 1_000): void {
    if (this.closed) return;
    if (!this.held) {
      this.blocked = false;
      this.flush();
    }
    this.recordReason(reason);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), timeoutMs).unref();
  }

  private recordReason(reason: string): void {
    if (this.closeReason === undefined) this.closeReason = reason;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.held || this.blocked) return;
    this.flushScheduled = true;
    // setImmediate, not a microtask: every send of the current I/O turn lands in one write.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || this.held || this.blocked || this.pending.length === 0) {
      this.wakeWriters();
      return;
    }
    const frames = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    let ok: boolean;
    if (frames.length === 1) {
      ok = this.socket.write(frames[0]!);
    } else if (bytes <= wireLimits.batchConcatBytesMax) {
      ok = this.socket.write(Buffer.concat(frames, bytes));
    } else {
      // Large batches: no copy; cork makes Node hand them to the kernel in one writev.
      this.socket.cork();
      ok = true;
      for (const f of frames) ok = this.socket.write(f) && ok;
      this.socket.uncork();
    }
    if (!ok) this.blocked = true;
    this.wakeWriters();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastByteAt = performance.now();
    if (this.head !== undefined) {
      const head: Buffer = Buffer.concat([this.head, chunk]);
      if (head.length < SNIFF_BYTES) {
        this.head = head;
        this.watchStall();
        return;
      }
      this.head = undefined;
      if (this.opts.sniff!(head)) return;
      chunk = head;
    }
    try {
      for (const payload of this.decoder.push(chunk)) {
        if (this.closed) return;
        this.opts.onFrame(payload);
      }
    } catch (err) {
      // One connection's message never takes the process down: bad input closes that connection, and so
      // does an unexpected error while handling it (logged with its stack by the owner's onClose).
      if (err instanceof WireError) this.close(`bad input: ${err.message}`);
      else this.close(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    this.watchStall();
  }
}
