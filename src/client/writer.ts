/**
 * Writer: the application's handle on an elected WriterCore. `append` and
 * `truncate` hand operations to the core, which batches everything submitted
 * in the same turn of the event loop into few write requests; results resolve
 * in position order.
 *
 * Back-pressure: at most `limits.writerWindowMax` operations wait in the core
 * (in flight or queued); further calls wait for room, so memory stays bounded
 * however fast the application appends.
 */
import { InvalidArgumentError, NoQuorumError, WriterFencedError, type ReplogError } from '../core/errors.js';
import { limits, timing } from '../core/constants.js';
import type { Action, Position, PromiseReply, ReadReply, ReplicaId, WriteReply } from '../core/types.js';
import { WriterCore, type OpResult, type WriterOutput } from '../core/writer.js';
import type { LogClient } from './log-client.js';

interface Pending {
  resolve(p: Position): void;
  reject(e: Error): void;
}

export class Writer {
  private readonly core: WriterCore;
  private readonly pending = new Map<number, Pending>();
  private election?: Pending;
  private flushScheduled = false;
  private nextOp = 1;
  private roomWaiters: (() => void)[] = [];
  private failure: ReplogError | undefined;

  /** @internal Made by LogClient.writer(). */
  constructor(
    private readonly client: LogClient,
    members: ReplicaId[],
  ) {
    this.core = new WriterCore({
      members,
      proposalFloor: client.highestProposalSeen,
      random: Math.random,
      rid: client.rid,
      electionGraceMs: timing.electionGraceMs,
    });
  }

  /** The position of this writer's election NOP, once elected. */
  position = -1;

  /** @internal */
  elect(): Promise<Position> {
    return new Promise((resolve, reject) => {
      this.election = { resolve, reject };
      this.apply(this.core.step({ type: 'elect' }, this.client.now()));
    });
  }

  /** Appends one entry; resolves with its position once it is chosen (durable on a quorum). */
  async append(data: Uint8Array | string): Promise<Position> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('data must be a Uint8Array or a string');
    if (bytes.byteLength > limits.entryBytesMax) {
      throw new InvalidArgumentError(`entry of ${bytes.byteLength} bytes is larger than the limit of ${limits.entryBytesMax}`);
    }
    return this.submit({ kind: 'append', data: bytes });
  }

  /** Removes every entry before `to`; resolves with the position of the truncation itself. */
  async truncate(to: Position): Promise<Position> {
    if (!Number.isSafeInteger(to) || to < 0) throw new InvalidArgumentError(`truncate position must be a non-negative safe integer, got ${to}`);
    return this.submit({ kind: 'truncate', to });
  }

  /** Operations waiting for a result. */
  get inflight(): number {
    return this.pending.size;
  }

  private async submit(action: Action): Promise<Position> {
    this.client.checkOpen();
    if (this.failure instanceof WriterFencedError) throw this.failure;
    while (this.pending.size >= limits.writerWindowMax) await new Promise<void>((r) => this.roomWaiters.push(r));
    const id = this.nextOp++;
    return new Promise<Position>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.apply(this.core.step({ type: 'submit', op: { id, action } }, this.client.now()));
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Everything submitted in this turn of the event loop goes out in as few write requests as possible.
    setImmediate(() => {
      this.flushScheduled = false;
      this.apply(this.core.step({ type: 'flush' }, this.client.now()));
    });
  }

  /** @internal */
  onReply(from: ReplicaId, msg: PromiseReply | WriteReply | ReadReply): void {
    this.apply(this.core.step({ type: 'reply', from, msg }, this.client.now()));
  }

  /** @internal */
  tick(now: number): void {
    this.apply(this.core.step({ type: 'tick' }, now));
  }

  /** @internal Fails everything (client closed). */
  failAll(err: ReplogError): void {
    this.failure = err;
    this.client.forgetWriter(this);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.election?.reject(err);
    this.election = undefined;
    this.wakeRoom();
  }

  private apply(out: WriterOutput): void {
    this.client.send(out.send);
    for (const d of out.done) {
      const p = this.pending.get(d.id);
      if (p === undefined) continue;
      this.pending.delete(d.id);
      if (d.result.ok) p.resolve(d.result.position);
      else p.reject(this.errorFor(d.result));
    }
    if (out.election !== undefined && this.election !== undefined) {
      const e = this.election;
      this.election = undefined;
      if (out.election.ok) {
        this.position = out.election.position;
        e.resolve(out.election.position);
      } else e.reject(this.errorFor(out.election));
    }
    if (out.done.length > 0) this.wakeRoom();
  }

  private errorFor(r: Extract<OpResult, { ok: false }>): ReplogError {
    if (r.error === 'fenced') {
      const err = new WriterFencedError(`another writer was elected (proposal ${r.proposal ?? '?'}), or a reader settled a position this writer had pending: this writer is fenced (its pending appends may or may not have been written; read the log to know); create a new writer to write again`);
      this.failure = err;
      this.client.highestProposalSeen = Math.max(this.client.highestProposalSeen, r.proposal ?? 0);
      // A fenced writer can do nothing more: stop routing replies and ticks to it.
      this.client.forgetWriter(this);
      return err;
    }
    if (r.error === 'no-quorum') return new NoQuorumError('no quorum of replicas accepted in time (the operation may or may not have been written)');
    return new InvalidArgumentError(`a truncation may only remove positions before its own (${r.position ?? '?'}): nothing was written`);
  }

  private wakeRoom(): void {
    const w = this.roomWaiters;
    this.roomWaiters = [];
    for (const f of w) f();
  }
}
