/**
 * Digest requests on a replica (divergence checks, docs/operations.md):
 * DigestService answers them from the replica's store; DigestRequester asks
 * them over a link and matches the replies; localSide and remoteSide make
 * both into the DigestSide that the comparison (divergence-compare.ts) uses.
 *
 * Bounds (src/net/limits.ts): a reply covers at most
 * wireLimits.digestPositionsMax positions and about digestBytesMax entry
 * bytes, however large the range asked for (the asker goes on from where it
 * stopped). Requests wait in one queue of at most digestQueueMax (more are
 * dropped: the asker retries after its timeout) and are served one per turn
 * of the event loop, so the writes, commits and reads that arrive meanwhile
 * are handled between two digests: a check never starves appends.
 */
import type { StoreView } from '../core/store.js';
import type { Status } from '../core/types.js';
import { encodeDigestFrame, type DigestReply, type DigestRequest } from '../net/digest-codec.js';
import { wireLimits } from '../net/limits.js';
import { digestRange } from '../storage/range-digest.js';
import type { DigestSide } from './divergence-compare.js';

/** Where a digest reply goes: the connection the request came on. */
export interface DigestTarget {
  readonly id: number;
  readonly closed: boolean;
  sendFrame(frame: Buffer): boolean;
}

export interface DigestServiceOptions {
  readonly store: () => StoreView;
  readonly status: () => Status;
  readonly positionsMax?: number;
  readonly bytesMax?: number;
  readonly queueMax?: number;
  /** Defers a turn (default setImmediate: after the I/O callbacks that are ready). */
  readonly defer?: (run: () => void) => void;
}

/** The reply to a digest request, computed now from `store` (bounded: see the module comment). */
export function answerDigest(store: StoreView, status: Status, req: DigestRequest, positionsMax: number = wireLimits.digestPositionsMax, bytesMax: number = wireLimits.digestBytesMax): DigestReply {
  const limit = Math.min(positionsMax, req.limit === 0 ? positionsMax : req.limit);
  const d = digestRange(store, req.from, req.to, { seed: req.seed, positionsMax: limit, bytesMax });
  return {
    type: 'digestReply',
    rid: req.rid,
    status,
    begin: store.begin(),
    learnedThrough: store.learnedThrough(),
    from: d.from,
    through: d.through,
    count: d.count,
    crc: d.crc,
    stop: d.stop,
  };
}

/**
 * Complete digests (stop 'end' or 'bound') are kept this long and this many:
 * a replica digests each span for its own check against every peer and for
 * every peer's check against it, the same requests; chosen values never
 * change (a truncation only moves the beginning, checked at each use), so
 * each span is read and checksummed once a round instead of four times
 * (about 4 µs of CPU per appended entry on each replica otherwise; issue 21).
 */
const REUSE_MS = 60_000;
const REUSE_MAX = 4096;

interface Kept {
  readonly at: number;
  /** The disk it was computed on (metadata generation and disk): another disk is another log. */
  readonly disk: string;
  readonly reply: DigestReply;
}

export class DigestService {
  private readonly queue: { req: DigestRequest; target: DigestTarget }[] = [];
  /** Complete digests by request (see REUSE_MS), oldest first. */
  private readonly kept = new Map<string, Kept>();
  private scheduled = false;
  private readonly defer: (run: () => void) => void;
  private closed = false;
  /** Requests dropped because the queue was full (for logs and tests). */
  dropped = 0;
  served = 0;

  constructor(private readonly opts: DigestServiceOptions) {
    this.defer = opts.defer ?? ((run) => void setImmediate(run));
  }

  /** Computes a reply at once (the replica's own side of a comparison). */
  answer(req: DigestRequest): DigestReply {
    const store = this.opts.store();
    const now = performance.now();
    const meta = store.metadata();
    const disk = `${meta.generation ?? 0}:${meta.disk ?? 0}`;
    // Not keyed on `to`: a digest cut by its bound before `to` is the same for any `to` past that point.
    const key = `${req.from}:${req.seed >>> 0}:${req.limit}`;
    const kept = this.kept.get(key);
    const covers = kept !== undefined && (kept.reply.stop === 'bound' ? kept.reply.through < req.to : kept.reply.through === req.to);
    // Valid while nothing of the range was truncated here: its chosen values are the same.
    if (covers && now - kept.at < REUSE_MS && kept.disk === disk && store.begin() <= req.from) {
      return { ...kept.reply, rid: req.rid, status: this.opts.status(), begin: store.begin(), learnedThrough: store.learnedThrough() };
    }
    const reply = answerDigest(store, this.opts.status(), req, this.opts.positionsMax, this.opts.bytesMax);
    if (reply.stop === 'end' || reply.stop === 'bound') {
      this.kept.delete(key);
      this.kept.set(key, { at: now, disk, reply });
      if (this.kept.size > REUSE_MAX) this.kept.delete(this.kept.keys().next().value!);
    }
    return reply;
  }

  /** Queues a request from a connection; false if it was dropped (queue full, or a repeat of one queued). */
  push(req: DigestRequest, target: DigestTarget): boolean {
    if (this.closed) return false;
    if (this.queue.some((q) => q.target.id === target.id && q.req.rid === req.rid)) return false;
    if (this.queue.length >= (this.opts.queueMax ?? wireLimits.digestQueueMax)) {
      this.dropped++;
      return false;
    }
    this.queue.push({ req, target });
    this.schedule();
    return true;
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.serveOne();
    });
  }

  private serveOne(): void {
    const next = this.queue.shift();
    if (next !== undefined && !next.target.closed && !this.closed) {
      this.served++;
      next.target.sendFrame(encodeDigestFrame(this.answer(next.req)));
    }
    this.schedule();
  }
}

/** Why a side could not answer: unreachable, timed out, or closed. */
export class DigestUnavailableError extends Error {}

/**
 * Asks digests over one link and matches the replies by rid. Each request is retried `retries` times
 * after `timeoutMs` (a dropped request, a reconnect), then fails with DigestUnavailableError.
 */
export class DigestRequester {
  private rid = 0;
  private readonly pending = new Map<number, { req: DigestRequest; resolve: (r: DigestReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout; tries: number }>();

  constructor(
    private readonly id: number,
    private readonly send: (frame: Buffer) => boolean,
    private readonly timeoutMs = 5_000,
    private readonly retries = 2,
  ) {}

  request(from: number, to: number, seed: number, limit = 0): Promise<DigestReply> {
    const req: DigestRequest = { type: 'digest', rid: ++this.rid, from, to, seed: seed >>> 0, limit };
    return new Promise((resolve, reject) => {
      const entry = { req, resolve, reject, timer: undefined as unknown as NodeJS.Timeout, tries: 0 };
      this.pending.set(req.rid, entry);
      this.attempt(entry);
    });
  }

  private attempt(entry: { req: DigestRequest; reject: (e: Error) => void; timer: NodeJS.Timeout; tries: number }): void {
    entry.tries++;
    this.send(encodeDigestFrame(entry.req));
    entry.timer = setTimeout(() => {
      if (!this.pending.has(entry.req.rid)) return;
      if (entry.tries <= this.retries) return this.attempt(entry);
      this.pending.delete(entry.req.rid);
      entry.reject(new DigestUnavailableError(`replica ${this.id} did not answer a digest request within ${this.timeoutMs * (this.retries + 1)} ms`));
    }, this.timeoutMs);
    entry.timer.unref?.();
  }

  /** A reply came back on the link: settles its request (a reply to nothing asked is ignored). */
  onReply(reply: DigestReply): void {
    const entry = this.pending.get(reply.rid);
    if (entry === undefined) return;
    this.pending.delete(reply.rid);
    clearTimeout(entry.timer);
    entry.resolve(reply);
  }

  /** Requests waiting for a reply. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Fails every request waiting (the link closed). */
  failAll(reason: string): void {
    for (const [rid, e] of this.pending) {
      clearTimeout(e.timer);
      this.pending.delete(rid);
      e.reject(new DigestUnavailableError(`replica ${this.id}: ${reason}`));
    }
  }
}

/** This replica's own copy as a comparison side: answered from its store, one bounded call per turn. */
export function localSide(id: number, service: Pick<DigestService, 'answer'>): DigestSide {
  return {
    id,
    digest: (from, to, seed) =>
      new Promise((resolve, reject) =>
        setImmediate(() => {
          try {
            resolve(service.answer({ type: 'digest', rid: 0, from, to, seed, limit: 0 }));
          } catch (err) {
            reject(err as Error);
          }
        }),
      ),
  };
}

/** A peer's copy as a comparison side, asked over a link. */
export function remoteSide(id: number, requester: DigestRequester): DigestSide {
  return { id, digest: (from, to, seed) => requester.request(from, to, seed) };
}
