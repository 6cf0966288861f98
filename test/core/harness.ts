/**
 * A small in-memory cluster for core tests: real replica, writer and reader
 * cores, in-memory stores, and a network the test controls message by
 * message (deliver in order, drop, hold, partition). Time moves only when the
 * test says so. Everything is deterministic.
 */
import assert from 'node:assert/strict';
import { actionsEqual, describeAction } from '../../src/core/actions.js';
import { StepInvariants } from '../../src/core/invariants.js';
import { ReaderCore, type ReadResult, type ReaderOutbound } from '../../src/core/reader.js';
import { replicaStep } from '../../src/core/replica.js';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { Action, Message, Position, ReplicaId, Status } from '../../src/core/types.js';
import { WriterCore, type OpResult, type Outbound } from '../../src/core/writer.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { seededRandom } from '../helpers/seeded-random.js';

export { seededRandom };

/** An address: 'r1', 'r2', ... for replicas; any other string names a client. */
export type Addr = string;

export interface Envelope {
  readonly from: Addr;
  readonly to: Addr;
  readonly msg: Message;
}

const rid = (id: ReplicaId): Addr => `r${id}`;


interface ReplicaNode {
  store: MemoryStore;
  up: boolean;
  /** The delta checker of the current store (rebuilt when the store is replaced: a restart or a wipe). */
  invariants?: StepInvariants;
}

export class Cluster {
  readonly ids: ReplicaId[];
  readonly replicas = new Map<ReplicaId, ReplicaNode>();
  readonly writers = new Map<Addr, WriterCore>();
  readonly readers = new Map<Addr, ReaderCore>();
  /** Messages in flight, delivered first in, first out. */
  inflight: Envelope[] = [];
  now = 0;
  readonly results = new Map<number, OpResult>();
  readonly elections = new Map<Addr, OpResult>();
  readonly reads = new Map<number, ReadResult>();
  /** Messages for which this returns true are dropped when sent. */
  dropIf: (e: Envelope) => boolean = () => false;
  /** What every replica reports as ReadReply.writerActive (ReplicaNodeCore computes it; replicaStep takes it as given). */
  writerActive = false;
  private nextOp = 1;
  private readonly random = seededRandom(42);

  constructor(
    n: number,
    status: Status = 'VOTING',
    readonly rules: SafetyRules = ALL_RULES_ON,
  ) {
    this.ids = Array.from({ length: n }, (_, i) => i + 1);
    for (const id of this.ids) {
      this.replicas.set(id, { store: new MemoryStore({ status, promised: 0, incarnation: `inc-${id}` }), up: true });
    }
  }

  store(id: ReplicaId): MemoryStore {
    return this.replicas.get(id)!.store;
  }

  writer(name: Addr, members: ReplicaId[] = this.ids): WriterCore {
    let w = this.writers.get(name);
    if (w === undefined) {
      w = new WriterCore({ members, random: this.random, rules: this.rules });
      this.writers.set(name, w);
    }
    return w;
  }

  reader(name: Addr, members: ReplicaId[] = this.ids): ReaderCore {
    let r = this.readers.get(name);
    if (r === undefined) {
      r = new ReaderCore({ members, random: this.random });
      this.readers.set(name, r);
    }
    return r;
  }

  // -------------------------------------------------------------- commands

  elect(name: Addr, members?: ReplicaId[]): void {
    this.applyWriter(name, this.writer(name, members).step({ type: 'elect' }, this.now));
  }

  /** Submits an append (string data) and flushes; returns the op id. */
  append(name: Addr, data: string | Action): number {
    const id = this.nextOp++;
    const action: Action = typeof data === 'string' ? { kind: 'append', data: new TextEncoder().encode(data) } : data;
    const w = this.writer(name);
    this.applyWriter(name, w.step({ type: 'submit', op: { id, action } }, this.now));
    this.applyWriter(name, w.step({ type: 'flush' }, this.now));
    return id;
  }

  truncate(name: Addr, to: Position): number {
    return this.append(name, { kind: 'truncate', to });
  }

  read(name: Addr, from: Position, to: Position): number {
    const id = this.nextOp++;
    this.applyReader(name, this.reader(name).step({ type: 'read', id, from, to }, this.now));
    return id;
  }

  bounds(name: Addr): number {
    const id = this.nextOp++;
    this.applyReader(name, this.reader(name).step({ type: 'bounds', id }, this.now));
    return id;
  }

  crash(id: ReplicaId): void {
    this.replicas.get(id)!.up = false;
  }

  /** Restarts a replica from its durable records (everything in MemoryStore is durable here). */
  restart(id: ReplicaId): void {
    const node = this.replicas.get(id)!;
    node.store = MemoryStore.replay(node.store.records);
    node.up = true;
  }

  /** Replaces a replica's disk: it comes back EMPTY with a new incarnation. */
  wipe(id: ReplicaId): void {
    const node = this.replicas.get(id)!;
    node.store = new MemoryStore({ status: 'EMPTY', promised: 0, incarnation: `inc-${id}-wiped-${this.now}` });
  }

  // -------------------------------------------------------------- running

  /** Delivers one message; returns false when none is in flight. */
  deliverOne(): boolean {
    const e = this.inflight.shift();
    if (e === undefined) return false;
    this.deliver(e);
    return true;
  }

  /** Delivers until nothing is in flight, advancing time by `tickMs` and ticking when idle, up to `maxMs`. */
  run(maxMs = 30_000, tickMs = 50): void {
    const deadline = this.now + maxMs;
    for (;;) {
      let steps = 0;
      while (this.deliverOne()) {
        if (++steps > 1_000_000) throw new Error('too many messages: livelock?');
      }
      if (this.now >= deadline || this.idle()) return;
      this.tick(tickMs);
    }
  }

  /**
   * Holds back every write reply for `latency(from, elapsed)` ms (elapsed: since this call; undefined:
   * delivered at once) and returns the held envelopes, for runHeld.
   */
  delayWriteReplies(latency: (from: Addr, elapsed: number) => number | undefined): { at: number; e: Envelope }[] {
    const held: { at: number; e: Envelope }[] = [];
    const start = this.now;
    this.dropIf = (e) => {
      const ms = e.msg.type === 'writeReply' ? latency(e.from, this.now - start) : undefined;
      if (ms === undefined) return false;
      held.push({ at: this.now + ms, e });
      return true;
    };
    return held;
  }

  /**
   * Runs for `ms` in 50 ms steps with replies held back: each step runs `each(now)`, moves the held
   * envelopes that are due into flight, delivers everything, then ticks (slow replicas, by hand).
   */
  runHeld(held: { at: number; e: Envelope }[], ms: number, each: (now: number) => void = () => {}): void {
    const until = this.now + ms;
    while (this.now < until) {
      each(this.now);
      held.sort((a, b) => a.at - b.at);
      while (held.length > 0 && held[0]!.at <= this.now) this.inflight.push(held.shift()!.e);
      while (this.deliverOne());
      this.tick(50);
    }
  }

  /** Advances time and ticks every proposer. */
  tick(ms: number): void {
    this.now += ms;
    for (const name of this.writers.keys()) this.applyWriter(name, this.writers.get(name)!.step({ type: 'tick' }, this.now));
    for (const name of this.readers.keys()) this.applyReader(name, this.readers.get(name)!.step({ type: 'tick' }, this.now));
  }

  /** No proposer has anything pending. */
  idle(): boolean {
    for (const w of this.writers.values()) {
      const k = w.roleKind;
      if (k === 'electing' || k === 'backoff' || (k === 'elected' && (w.inflightPositions > 0 || w.queued > 0))) return false;
    }
    for (const r of this.readers.values()) if (r.pending > 0) return false;
    return true;
  }

  private deliver(e: Envelope): void {
    if (e.to.startsWith('r') && /^r\d+$/.test(e.to)) {
      const node = this.replicas.get(Number(e.to.slice(1)))!;
      if (!node.up) return;
      const msg = e.msg;
      if (msg.type.endsWith('Reply')) return;
      const step = replicaStep(node.store, msg as Parameters<typeof replicaStep>[1], this.rules, { writerActive: this.writerActive });
      node.invariants ??= new StepInvariants(e.to);
      node.invariants.around(node.store, step.records, () => {
        node.store.append(step.records);
        node.store.syncNow();
      });
      node.store.checkInvariants();
      if (step.reply !== undefined) this.send({ from: e.to, to: e.from, msg: step.reply });
      return;
    }
    const from = Number(e.from.slice(1));
    const w = this.writers.get(e.to);
    if (w !== undefined && (e.msg.type === 'promiseReply' || e.msg.type === 'writeReply' || e.msg.type === 'readReply')) {
      this.applyWriter(e.to, w.step({ type: 'reply', from, msg: e.msg }, this.now));
    }
    const r = this.readers.get(e.to);
    if (r !== undefined && (e.msg.type === 'readReply' || e.msg.type === 'promiseReply' || e.msg.type === 'writeReply')) {
      this.applyReader(e.to, r.step({ type: 'reply', from, msg: e.msg }, this.now));
    }
  }

  private send(e: Envelope): void {
    if (this.dropIf(e)) return;
    this.inflight.push(e);
  }

  private applyWriter(name: Addr, out: { send: Outbound[]; done: { id: number; result: OpResult }[]; election?: OpResult }): void {
    for (const o of out.send) this.send({ from: name, to: rid(o.to), msg: o.msg });
    for (const d of out.done) this.results.set(d.id, d.result);
    if (out.election !== undefined) this.elections.set(name, out.election);
  }

  private applyReader(name: Addr, out: { send: ReaderOutbound[]; done: { id: number; result: ReadResult }[] }): void {
    for (const o of out.send) this.send({ from: name, to: rid(o.to), msg: o.msg });
    for (const d of out.done) this.reads.set(d.id, d.result);
  }

  // -------------------------------------------------------------- checks

  /** Agreement: no two replicas learned different actions at one position. */
  checkAgreement(): void {
    const chosen = new Map<Position, Action>();
    for (const [id, node] of this.replicas) {
      const s = node.store;
      for (const p of s.positions(0, s.end())) {
        const slot = s.slot(p);
        if (!slot?.learned) continue;
        const a = s.action(p);
        if (a === undefined || a === 'lost') continue;
        const prev = chosen.get(p);
        if (prev !== undefined && !actionsEqual(prev, a)) {
          throw new Error(`agreement violated at ${p}: ${describeAction(prev)} vs ${describeAction(a)} (replica ${id})`);
        }
        chosen.set(p, a);
      }
    }
  }

  /** The learned action at a position on a replica, as text ('hello', 'NOP', 'TRUNCATE(3)') or undefined. */
  learnedText(id: ReplicaId, p: Position): string | undefined {
    const s = this.store(id);
    if (!s.slot(p)?.learned) return undefined;
    const a = s.action(p);
    if (a === undefined || a === 'lost') return undefined;
    return a.kind === 'append' ? new TextDecoder().decode(a.data) : describeAction(a);
  }
}

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

/** A read's entries as [position, text of an append or the action's kind]; fails the test if the read failed. */
export function entries(r: ReadResult | undefined): [number, string][] {
  assert.ok(r?.ok, `read succeeded: ${JSON.stringify(r)}`);
  return r.entries.map((e) => [e.position, e.action.kind === 'append' ? text(e.action.data) : e.action.kind]);
}
