/**
 * An in-memory log with the LogClient behaviours the state store relies on:
 * one writer at a time (a new writer fences the old one: its later appends
 * fail with WriterFencedError), an election marker below which everything is
 * chosen, appends resolved in position order (a turn of the event loop later,
 * so many are in flight), truncation (reads below the beginning fail with
 * TruncatedError), and injected write failures whose outcome is unknown.
 */
import { NoQuorumError, TruncatedError, WriterFencedError, WriterInDoubtError } from '../../src/core/errors.js';
import type { StateLog, StateLogEntry, StateLogWriter } from '../../src/state/log.js';

type Slot = { readonly kind: 'append'; readonly data: Uint8Array } | { readonly kind: 'nop' } | { readonly kind: 'truncate'; readonly to: number };

export class MemoryLog implements StateLog {
  readonly slots: Slot[] = [];
  begin = 0;
  private current: MemoryWriter | undefined;
  closed = false;
  /** How long tail() sleeps when it has nothing new (followers lag by up to this). */
  tailPollMs = 2;
  /** Appends that fail next with NoQuorumError; `written` says whether each one is in the log all the same. */
  readonly faults: { written: boolean }[] = [];

  async writer(): Promise<MemoryWriter> {
    this.current?.fence();
    const position = this.push({ kind: 'nop' });
    this.current = new MemoryWriter(this, position);
    return this.current;
  }

  /** @internal */
  push(slot: Slot): number {
    this.slots.push(slot);
    return this.slots.length - 1;
  }

  /** Appends data as if another program wrote it. */
  appendRaw(data: Uint8Array | string): number {
    return this.push({ kind: 'append', data: typeof data === 'string' ? Buffer.from(data) : data });
  }

  async read(from: number, to: number): Promise<StateLogEntry[]> {
    await Promise.resolve();
    if (from < this.begin) throw new TruncatedError(`position ${from} is below the log's beginning ${this.begin}`);
    const out: StateLogEntry[] = [];
    for (let p = from; p <= Math.min(to, this.slots.length - 1); p++) {
      const s = this.slots[p]!;
      if (s.kind === 'append') out.push({ position: p, data: s.data });
    }
    return out;
  }

  async beginning(): Promise<number> {
    return this.begin;
  }

  async ending(): Promise<number> {
    return this.slots.length - 1;
  }

  async *tail(from = 0): AsyncGenerator<StateLogEntry> {
    let cursor = from;
    while (!this.closed) {
      const end = this.slots.length - 1;
      if (cursor <= end) {
        for (const e of await this.read(cursor, end)) yield e;
        cursor = end + 1;
      } else await new Promise((r) => setTimeout(r, this.tailPollMs));
    }
  }

  /** Bytes of the entries still in the log. */
  get retainedBytes(): number {
    let n = 0;
    for (let p = this.begin; p < this.slots.length; p++) {
      const s = this.slots[p]!;
      if (s.kind === 'append') n += s.data.byteLength;
    }
    return n;
  }

  isCurrent(w: MemoryWriter): boolean {
    return this.current === w;
  }
}

export class MemoryWriter implements StateLogWriter {
  private fenced = false;
  private inDoubt = false;
  /** Operations resolve in position order: each waits for the one before. */
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly log: MemoryLog,
    readonly position: number,
  ) {}

  fence(): void {
    this.fenced = true;
  }

  append(data: Uint8Array): Promise<number> {
    return this.op(() => this.log.push({ kind: 'append', data: Uint8Array.prototype.slice.call(data) }));
  }

  truncate(to: number): Promise<number> {
    return this.op(() => {
      const p = this.log.push({ kind: 'truncate', to });
      this.log.begin = Math.max(this.log.begin, to);
      return p;
    });
  }

  async resign(): Promise<void> {
    await this.last.catch(() => {});
  }

  private op(write: () => number): Promise<number> {
    if (this.fenced) return Promise.reject(new WriterFencedError('fenced', { outcome: 'not-written' }));
    if (this.inDoubt) return Promise.reject(new WriterInDoubtError('in doubt'));
    const result = this.last.then(
      () =>
        new Promise<number>((resolve, reject) => {
          setImmediate(() => {
            if (this.fenced || !this.log.isCurrent(this)) return reject(new WriterFencedError('fenced', { outcome: 'not-written' }));
            if (this.inDoubt) return reject(new NoQuorumError('after an earlier failure', { outcome: 'not-written' }));
            const fault = this.log.faults.shift();
            if (fault !== undefined) {
              this.inDoubt = true;
              const position = fault.written ? write() : this.log.push({ kind: 'nop' });
              return reject(new NoQuorumError('injected', { outcome: 'unknown', position }));
            }
            resolve(write());
          });
        }),
    );
    this.last = result.catch(() => {});
    return result;
  }
}
