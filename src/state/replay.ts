/**
 * Replay: rebuilds the state from the log as it is now, from its beginning.
 *
 * A log that was never truncated (beginning 0) replays from the empty state.
 * A truncated one begins just after some snapshot's revision R (the store
 * truncates to R + 1 only once that snapshot is complete, and its chunks lie
 * above R). So: buffer the transactions met until the first complete
 * snapshot whose R is at or above beginning - 1, load it, apply the buffered
 * transactions above R, then apply everything after in order. Later
 * snapshots only count (the store truncates behind them).
 *
 * The log holding transactions but no such snapshot means it was truncated
 * by someone else: the state is lost, and replay says so (StateLostError)
 * rather than invent one.
 */
import { decodeEntry, decodeSnapshotPayload, type WireChunk, type WireTxn } from './codec.js';
import { StateLostError } from './errors.js';
import { StateMachine } from './machine.js';
import type { TxnResult, WatchEvent } from './types.js';

/** A snapshot whose chunks are all in the log. */
export interface CompleteSnapshot {
  readonly id: string;
  /** The state it holds is the state as of this position. */
  readonly revision: number;
  /** The position of its last chunk. */
  readonly position: number;
}

interface PartialSnapshot {
  readonly revision: number;
  readonly total: number;
  received: number;
  /** Chunk data by seq, kept only while no base state is known. */
  readonly data: (Uint8Array | undefined)[] | undefined;
  readonly first: WireChunk;
}

export type Applied = (position: number, result: TxnResult, events: WatchEvent[]) => void;

export class Replayer {
  /** The state, once known (at once for a log that begins at 0). */
  machine: StateMachine | undefined;
  readonly snapshots: CompleteSnapshot[] = [];
  /** The snapshot the state was loaded from, if any. */
  loadedFrom: CompleteSnapshot | undefined;
  private readonly buffered: { position: number; txn: WireTxn }[] = [];
  private readonly partial = new Map<string, PartialSnapshot>();
  /** The highest position fed. */
  fed = -1;

  constructor(
    private readonly begin: number,
    private readonly onApplied?: Applied,
  ) {
    if (begin === 0) this.machine = new StateMachine(-1);
  }

  /** Feeds one log entry; entries come in increasing position order. */
  feed(position: number, data: Uint8Array): void {
    if (position <= this.fed) return;
    this.fed = position;
    if (this.machine !== undefined && position <= this.machine.applied) return;
    const entry = decodeEntry(data);
    if (entry === undefined || entry.kind === 'barrier') {
      this.machine?.skip(position);
      return;
    }
    if (entry.kind === 'txn') {
      if (this.machine === undefined) this.buffered.push({ position, txn: entry.txn });
      else this.apply(position, entry.txn);
      return;
    }
    this.onChunk(position, entry.chunk);
    // Loading a base snapshot at this chunk already moved the state here.
    if (this.machine !== undefined && position > this.machine.applied) this.machine.skip(position);
  }

  /**
   * Ends the replay at the log's end: the state. A log with no state
   * transaction since its beginning gives the empty state (`needsBase` then
   * says a writer should put a snapshot of it in the log before writing).
   */
  finish(): { machine: StateMachine; needsBase: boolean } {
    if (this.machine !== undefined) return { machine: this.machine, needsBase: false };
    if (this.buffered.length > 0) {
      throw new StateLostError(
        `the log begins at ${this.begin} and holds state entries from ${this.buffered[0]!.position} on, but no complete snapshot of the state at or after ${this.begin - 1}: ` +
          'it was truncated by something other than the state store, and the state before the truncation is lost',
      );
    }
    this.machine = new StateMachine(Math.max(this.fed, this.begin - 1));
    return { machine: this.machine, needsBase: true };
  }

  private apply(position: number, txn: WireTxn): void {
    const { result, events } = this.machine!.applyTxn(position, txn);
    this.onApplied?.(position, result, events);
  }

  private onChunk(position: number, c: WireChunk): void {
    let p = this.partial.get(c.id);
    if (p === undefined) {
      p = { revision: c.revision, total: c.total, received: 0, data: this.machine === undefined ? new Array(c.total) : undefined, first: c };
      this.partial.set(c.id, p);
    }
    if (p.data !== undefined) {
      if (p.data[c.seq] !== undefined) return;
      p.data[c.seq] = c.data;
    }
    p.received++;
    if (p.received < p.total) return;
    this.partial.delete(c.id);
    const done: CompleteSnapshot = { id: c.id, revision: p.revision, position };
    this.snapshots.push(done);
    if (this.machine === undefined && p.data !== undefined && p.revision >= this.begin - 1) this.loadBase(done, p);
  }

  private loadBase(snap: CompleteSnapshot, p: PartialSnapshot): void {
    const payload = Buffer.concat(p.data as Uint8Array[]);
    const kvs = decodeSnapshotPayload(payload);
    const m = new StateMachine();
    m.load(p.revision, kvs, p.first.digest);
    this.machine = m;
    this.loadedFrom = snap;
    // Snapshots begun before this one will never be needed.
    for (const [id, other] of this.partial) if (other.data !== undefined) this.partial.set(id, { ...other, data: undefined });
    for (const b of this.buffered.splice(0)) if (b.position > p.revision) this.apply(b.position, b.txn);
    if (this.fed > m.applied) m.skip(this.fed);
  }
}
