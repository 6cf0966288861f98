/**
 * The rule "nothing that reveals a replica's state leaves before that state
 * is durable", in one place for every shell (src/server/replica-host.ts, the
 * simulator's src/sim/replica-node.ts).
 *
 * A shell appends each step's records to its store; the store numbers records
 * with a sequence that only grows (`appendedSeq`: the number of the last
 * record appended, durable or not). Anything the step wants to release (a
 * reply, a status announcement, a gossip message, a callback) is queued with
 * the step's `appendedSeq`, whether or not the step itself appended records:
 * a reply without records of its own (a read after a lazy commit) still
 * reveals every record appended before it. An item leaves once
 * `durableSeq >= seq`, and never before an item queued earlier (items leave in
 * the order they were queued, so replies to one peer stay in order).
 *
 * Pure: no I/O, no timers. The shell decides when to sync; `syncNeed` says
 * how urgently a step's records must become durable.
 */
import { assert, isNat } from './assert.js';

export class DurableQueue<T> {
  private items: { readonly seq: number; readonly item: T }[] = [];
  private head = 0;
  /** The highest seq queued so far: seqs are queued in order. */
  private lastSeq = 0;

  /** Items waiting. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** The seq the last waiting item needs durable; undefined if none waits. */
  get waitingFor(): number | undefined {
    return this.length === 0 ? undefined : this.items[this.items.length - 1]!.seq;
  }

  /**
   * Queues `item` to leave once every record up to `appendedSeq` (the store's
   * last appended record at the end of the item's step) is durable.
   */
  push(appendedSeq: number, item: T): void {
    assert(isNat(appendedSeq), `seq ${appendedSeq}`);
    assert(appendedSeq >= this.lastSeq, `seqs are queued in order: ${appendedSeq} after ${this.lastSeq}`);
    this.lastSeq = appendedSeq;
    this.items.push({ seq: appendedSeq, item });
  }

  /** Removes and returns, in order, the items that may leave now that every record up to `durableSeq` is durable. */
  release(durableSeq: number): T[] {
    const out: T[] = [];
    while (this.head < this.items.length && this.items[this.head]!.seq <= durableSeq) out.push(this.items[this.head++]!.item);
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /**
   * Forgets every waiting item (a crash, or a store that failed for good: what
   * was waiting must never leave). The store's seqs may start lower afterwards
   * (a simulated restart replays the durable prefix).
   */
  clear(): T[] {
    const dropped = this.items.slice(this.head).map((e) => e.item);
    this.items = [];
    this.head = 0;
    this.lastSeq = 0;
    return dropped;
  }
}

/**
 * How soon a step's records must become durable:
 * - 'none': the step appended nothing;
 * - 'lazy': nothing waits on them (commits, learned values: chosen values a
 *   crash only makes the replica learn again), so they may ride on a later
 *   sync, one started within the shell's lazy delay at the latest;
 * - 'now': something waits on them (a reply, a status change, anything queued).
 */
export function syncNeed(step: { readonly records: readonly unknown[]; readonly lazy: boolean; readonly status?: unknown }, queuedSomething: boolean): 'none' | 'lazy' | 'now' {
  if (step.records.length === 0) return 'none';
  return step.lazy && step.status === undefined && !queuedSomething ? 'lazy' : 'now';
}
