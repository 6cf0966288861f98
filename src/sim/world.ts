/**
 * A small, fully scripted cluster over the real cores, for scenario tests and
 * the exhaustive search (explore.ts): replicas are ReplicaNodeCores over
 * MemoryStores, writers are WriterCores, and nothing happens unless the
 * script (or the search) says so: deliver one in-flight message, tick one
 * node, wipe a disk. Every step is atomic and durable (its records are synced
 * before its reply leaves), so the only state a replica can lose is a whole
 * disk. Messages are never lost by the world: a message that is never
 * delivered models a loss.
 *
 * The world checks agreement after every step: a value is chosen at p once a
 * quorum of replicas accepted it under one proposal (an acceptance by a disk
 * that was later wiped still counts: it happened), or once any replica learned
 * it; two different values chosen at one position is a violation, and so is
 * an acknowledgement of a value that is not the chosen one.
 */
import { quorumSize } from '../core/quorum.js';
import { ReplicaNodeCore, type NodeOutput } from '../core/replica-node.js';
import { ALL_RULES_ON, type SafetyRules } from '../core/rules.js';
import type { Action, Message, Metadata, PersistRecord, Position, ReplicaId } from '../core/types.js';
import { WriterCore, type WriterOutput } from '../core/writer.js';
import { MemoryStore } from '../storage/memory-store.js';
import { Prng } from './prng.js';
import { describeMessage, valueKey } from './trace.js';

const encoder = new TextEncoder();

export interface WorldWriter {
  /** Address, e.g. 'w1'. */
  readonly name: string;
  /** The writer's first proposal is floor + 1. */
  readonly floor: number;
  /** Entries it appends when started (their bytes are their names). */
  readonly appends: readonly string[];
}

export interface WorldOptions {
  readonly replicas: number;
  readonly writers: readonly WorldWriter[];
  readonly rules?: SafetyRules;
  /**
   * Bounded worlds: promise and write requests that touch a position at or
   * above this are dropped when sent (a loss), so the log stays this short.
   */
  readonly positionLimit?: number;
  /** Replies are delivered within the step that makes them (no reordering, no loss); requests still travel in any order. */
  readonly instantReplies?: boolean;
  /** Recovery queries (`recover`) reach every peer within the step that sends them (the query reads the peers at one instant). */
  readonly instantQueries?: boolean;
  /** Drops commit and learned messages when sent (a loss): values are then learned only through fills. */
  readonly dropCommits?: boolean;
  /**
   * What makes a value chosen for the agreement check: 'quorum' (default,
   * classic Paxos): a quorum of replicas accepted it under one proposal, any
   * disk counting; 'counted': only what a proposer counted as chosen (a
   * writer's commit or acknowledgement, a learned value), i.e. acceptances by
   * the named members with the named generations.
   */
  readonly chosenBy?: 'quorum' | 'counted';
  /** Keeps a readable line per step (scenarios; off in the search). */
  readonly trace?: boolean;
  /**
   * Delivers replicas' state gossip (PeerStateMessage; default true). The
   * exhaustive search turns it off to stay tractable: gossip only speeds up
   * what rejoins record durably and what repairs copy.
   */
  readonly gossip?: boolean;
  /**
   * Seeds the writers' randomness (default 1): each writer draws from a
   * stream of its own, seeded in the order the writers are listed, so a seed
   * fixes the world. Their nonces differ (a replica grants a number again to
   * the writer whose nonce holds it: a shared nonce would let two writers
   * holding the same number both be granted it), and so do their backoffs.
   */
  readonly seed?: number;
}

export interface InFlight {
  readonly from: string;
  readonly to: string;
  readonly msg: Message;
}

interface WorldReplica {
  store: MemoryStore;
  core: ReplicaNodeCore;
  /** Disks this member had (1 + wipes). */
  disks: number;
}

interface WorldWriterState {
  readonly spec: WorldWriter;
  core: WriterCore;
  /** The writer's request-id counter (explicit, so that it is part of the state). */
  readonly rids: { next: number };
  started: boolean;
  readonly ops: Map<number, Action>;
  readonly acked: Map<Position, string>;
}

/** One step of time: longer than every retransmit, backoff and recovery-round wait. */
export const TICK_STEP_MS = 1_100;

export class World {
  now = 0;
  readonly rules: SafetyRules;
  readonly members: ReplicaId[];
  readonly quorum: number;
  readonly replicas = new Map<ReplicaId, WorldReplica>();
  readonly writers = new Map<string, WorldWriterState>();
  inflight: InFlight[] = [];
  /** Acceptances ever made: 'p|b|value' -> replicas (never forgotten, even when a disk is wiped). */
  readonly accepts = new Map<string, Set<ReplicaId>>();
  /** The value chosen at each position, and how it was found chosen. */
  readonly chosen = new Map<Position, { key: string; how: string }>();
  readonly violations: string[] = [];
  readonly lines: string[] = [];
  private readonly traceOn: boolean;

  constructor(readonly options: WorldOptions) {
    this.rules = options.rules ?? ALL_RULES_ON;
    this.traceOn = options.trace ?? false;
    this.members = Array.from({ length: options.replicas }, (_, i) => i + 1);
    this.quorum = quorumSize(options.replicas);
    for (const id of this.members) {
      const store = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: `r${id}.0` });
      // A cluster built VOTING in memory: no process restarted, nothing to check.
      this.replicas.set(id, { store, core: this.newCore(id, store, false), disks: 1 });
    }
    const seeds = new Prng(options.seed ?? 1);
    for (const spec of options.writers) {
      const rids = { next: 1 };
      const prng = new Prng(seeds.next32());
      const core = new WriterCore({ members: this.members, proposalFloor: spec.floor, random: () => prng.float(), rules: this.rules, rid: () => rids.next++ });
      this.writers.set(spec.name, { spec, core, rids, started: false, ops: new Map(), acked: new Map() });
    }
  }

  get ok(): boolean {
    return this.violations.length === 0;
  }

  trace(line: string): void {
    if (this.traceOn) this.lines.push(`${String(this.now).padStart(5)}ms ${line}`);
  }

  // ------------------------------------------------------------ actions

  /** A writer submits its appends and flushes: its first operation starts an election. */
  start(name: string): void {
    const w = this.writers.get(name)!;
    if (w.started) return;
    w.started = true;
    this.trace(`${name} starts (floor b${w.spec.floor}): ${w.spec.appends.join(',')}`);
    let id = 1;
    for (const data of w.spec.appends) {
      const action: Action = { kind: 'append', data: encoder.encode(data) };
      w.ops.set(id, action);
      this.applyWriter(w, w.core.step({ type: 'submit', op: { id: id++, action } }, this.now));
    }
    this.applyWriter(w, w.core.step({ type: 'flush' }, this.now));
  }

  /** Delivers in-flight message `index` (removing it). */
  deliver(index: number): void {
    const [m] = this.inflight.splice(index, 1);
    if (m === undefined) throw new Error(`no in-flight message ${index}`);
    this.trace(`${m.from}>${m.to} ${describeMessage(m.msg)}`);
    const rid = replicaNumber(m.to);
    if (rid !== undefined) {
      const r = this.replicas.get(rid)!;
      const from = replicaNumber(m.from);
      const isReply = m.msg.type.endsWith('Reply');
      this.applyReplica(rid, r.core.step({ type: 'message', msg: m.msg, from }, this.now), isReply ? undefined : m.from);
      return;
    }
    const w = this.writers.get(m.to);
    if (w === undefined || (m.msg.type !== 'promiseReply' && m.msg.type !== 'writeReply' && m.msg.type !== 'readReply')) return;
    this.applyWriter(w, w.core.step({ type: 'reply', from: replicaNumber(m.from)!, msg: m.msg }, this.now));
  }

  /** Time passes (TICK_STEP_MS) and one node ticks: retransmits, repromises, backoff ends, recovery rounds. */
  tick(addr: string): void {
    this.now += TICK_STEP_MS;
    this.trace(`tick ${addr}`);
    const rid = replicaNumber(addr);
    if (rid !== undefined) {
      this.applyReplica(rid, this.replicas.get(rid)!.core.step({ type: 'tick' }, this.now));
      return;
    }
    const w = this.writers.get(addr)!;
    this.applyWriter(w, w.core.step({ type: 'tick' }, this.now));
  }

  /** The disk of `id` is replaced by an empty one and the replica restarts (EMPTY: it will rejoin); messages in flight to it are lost. */
  wipe(id: ReplicaId): void {
    const r = this.replicas.get(id)!;
    this.trace(`WIPE r${id}`);
    // The process restarted: messages in flight to it are lost with its connections.
    this.inflight = this.inflight.filter((m) => m.to !== `r${id}`);
    r.store = new MemoryStore({ status: 'EMPTY', promised: 0, incarnation: `r${id}.${r.disks++}` });
    r.core = this.newCore(id, r.store);
  }

  /** Metadata damage (as FileStore handles it): RECOVERING, promised 0, no generations; the log is kept. */
  corruptMetadata(id: ReplicaId): void {
    const r = this.replicas.get(id)!;
    this.trace(`CORRUPT METADATA r${id}`);
    const meta: Metadata = { status: 'RECOVERING', promised: 0, incarnation: r.store.metadata().incarnation };
    r.store = MemoryStore.replay([...r.store.records, { type: 'metadata', metadata: meta }]);
    r.core = this.newCore(id, r.store);
  }

  /** Index of the first in-flight message matching, or -1. */
  find(pred: (m: InFlight) => boolean): number {
    return this.inflight.findIndex(pred);
  }

  /** Delivers the first in-flight message matching; throws if there is none (scripts). */
  deliverWhere(pred: (m: InFlight) => boolean, what = 'a message'): void {
    const i = this.find(pred);
    if (i < 0) throw new Error(`script: no in-flight ${what}; in flight: ${this.inflight.map((m) => `${m.from}>${m.to} ${describeMessage(m.msg)}`).join(' | ')}`);
    this.deliver(i);
  }

  /** Delivers matching messages (in order, including those they cause) until none is left. */
  deliverAll(pred: (m: InFlight) => boolean, max = 1_000): void {
    for (let k = 0; k < max; k++) {
      const i = this.find(pred);
      if (i < 0) return;
      this.deliver(i);
    }
    throw new Error('deliverAll: no quiescence');
  }

  /** Drops matching in-flight messages (they are lost). */
  drop(pred: (m: InFlight) => boolean): number {
    const before = this.inflight.length;
    this.inflight = this.inflight.filter((m) => !pred(m));
    return before - this.inflight.length;
  }

  status(id: ReplicaId): string {
    return this.replicas.get(id)!.store.metadata().status;
  }

  acked(name: string): Map<Position, string> {
    return this.writers.get(name)!.acked;
  }

  // ------------------------------------------------------------ effects

  /** A replica core; a restarted process (every core after the first) checks with its peers before it votes. */
  newCore(id: ReplicaId, store: MemoryStore, restartCheck = true): ReplicaNodeCore {
    return new ReplicaNodeCore({ id, members: this.members, store, random: this.random, rules: this.rules, now: this.now, restartCheck });
  }

  /** The cores' randomness: fixed unless a script sets it (disk numbers differ per draw all the same). */
  random: () => number = (() => {
    let x = 0.123456789;
    return () => (x = (x * 9301 + 49297) % 233280 / 233280);
  })();

  private post(from: string, to: string, msg: Message): void {
    if (msg.type === 'peerState' && this.options.gossip === false) return;
    if (this.options.dropCommits === true && (msg.type === 'commit' || msg.type === 'learned')) return;
    const limit = this.options.positionLimit;
    if (limit !== undefined && (msg.type === 'write' || msg.type === 'promise')) {
      const last = msg.type === 'write' ? msg.from + msg.actions.length - 1 : (msg.to ?? msg.from ?? 0);
      if (last >= limit) {
        this.trace(`(dropped, past position ${limit - 1}) ${from}>${to} ${describeMessage(msg)}`);
        return;
      }
    }
    this.inflight.push({ from, to, msg });
  }

  private applyReplica(id: ReplicaId, out: NodeOutput, replyTo?: string): void {
    const r = this.replicas.get(id)!;
    const store = r.store;
    const before = out.records.filter((x) => x.type === 'commit').flatMap((c) => this.commitTargets(store, c));
    store.append(out.records);
    store.syncNow();
    for (const rec of out.records) {
      if (rec.type === 'accept') this.noteAccept(id, rec.position, rec.proposal, rec.action);
      if (rec.type === 'learn') this.noteLearned(id, rec.position);
    }
    for (const p of before) this.noteLearned(id, p);
    for (const note of out.notes) this.trace(`r${id} ${note}`);
    for (const s of out.send) this.post(`r${id}`, `r${s.to}`, s.msg);
    // Every step is durable at once here: announcements leave with the step.
    for (const a of out.announce) this.post(`r${id}`, `r${a.to}`, a.msg);
    if (this.options.instantQueries === true) {
      for (let i = this.inflight.findIndex((m) => m.msg.type === 'recover'); i >= 0; i = this.inflight.findIndex((m) => m.msg.type === 'recover')) this.deliver(i);
    }
    if (out.reply !== undefined && replyTo !== undefined) {
      this.post(`r${id}`, replyTo, out.reply);
      if (this.options.instantReplies === true) {
        const i = this.inflight.length - 1;
        if (i >= 0 && this.inflight[i]!.msg === out.reply) this.deliver(i);
      }
    }
  }

  private applyWriter(w: WorldWriterState, out: WriterOutput): void {
    const commits = new Set<string>();
    for (const s of out.send) {
      if (s.msg.type !== 'commit') continue;
      const c = s.msg;
      if (commits.has(`${c.proposal}|${c.from}|${c.to}`)) continue;
      commits.add(`${c.proposal}|${c.from}|${c.to}`);
      for (let p = c.from; p <= c.to; p++) {
        for (const k of this.accepts.keys()) {
          if (k.startsWith(`${p}|${c.proposal}|`)) this.setChosen(p, k.slice(`${p}|${c.proposal}|`.length), `committed by ${w.spec.name} under b${c.proposal}`);
        }
      }
    }
    for (const s of out.send) this.post(w.spec.name, `r${s.to}`, s.msg);
    for (const d of out.done) {
      const action = w.ops.get(d.id);
      if (action === undefined) continue;
      if (d.result.ok) {
        const key = valueKey(action);
        w.acked.set(d.result.position, key);
        this.trace(`${w.spec.name} ACK ${key} @${d.result.position}`);
        const c = this.chosen.get(d.result.position);
        if (c !== undefined && c.key !== key) this.fail(`durability: ${w.spec.name} acknowledged ${key} at ${d.result.position} but ${c.key} is chosen there (${c.how})`);
      } else this.trace(`${w.spec.name} FAIL op${d.id} ${d.result.error}`);
    }
    if (out.election !== undefined) this.trace(`${w.spec.name} election ${out.election.ok ? `won b${w.core.proposal}` : `failed ${out.election.error}`}`);
  }

  private commitTargets(store: MemoryStore, c: Extract<PersistRecord, { type: 'commit' }>): Position[] {
    const out: Position[] = [];
    for (const p of store.positions(c.from, c.to)) {
      const s = store.slot(p);
      if (s !== undefined && !s.learned && s.accepted === c.proposal) out.push(p);
    }
    return out;
  }

  private noteAccept(id: ReplicaId, p: Position, b: number, action: Action): void {
    const key = valueKey(action);
    const k = `${p}|${b}|${key}`;
    let set = this.accepts.get(k);
    if (set === undefined) this.accepts.set(k, (set = new Set()));
    set.add(id);
    if (set.size === this.quorum && this.options.chosenBy !== 'counted') this.setChosen(p, key, `accepted under b${b} by r${[...set].sort().join(',r')}`);
  }

  private noteLearned(id: ReplicaId, p: Position): void {
    const store = this.replicas.get(id)!.store;
    if (!store.slot(p)?.learned) return;
    const a = store.action(p);
    if (a === undefined || a === 'lost') return;
    if (a.kind === 'nop' && a.tombstone === true) return;
    this.setChosen(p, valueKey(a), `learned by r${id}`);
  }

  private setChosen(p: Position, key: string, how: string): void {
    const prev = this.chosen.get(p);
    if (prev === undefined) {
      this.chosen.set(p, { key, how });
      for (const w of this.writers.values()) {
        const a = w.acked.get(p);
        if (a !== undefined && a !== key) this.fail(`durability: ${w.spec.name} acknowledged ${a} at ${p} but ${key} is chosen there (${how})`);
      }
      return;
    }
    if (prev.key !== key) this.fail(`agreement: two values chosen at ${p}: ${prev.key} (${prev.how}) and ${key} (${how})`);
  }

  private fail(message: string): void {
    if (!this.violations.includes(message)) this.violations.push(message);
    this.trace(`VIOLATION ${message}`);
  }
}

function replicaNumber(addr: string): ReplicaId | undefined {
  return /^r\d+$/.test(addr) ? Number(addr.slice(1)) : undefined;
}
