/**
 * A small cluster for scripted reconfiguration tests (docs/reconfiguration.md,
 * step 4): replicas that know their id and hold a stored chain (so the
 * acceptor's membership rules apply), writers and readers over chain views,
 * a FIFO network the test filters, and the checks of section 9 that a
 * scripted run can make: one chain on every replica (I3), every acknowledged
 * position held by a quorum of the voters of its configuration (I1 as a
 * durability check), and no removed member accepting above the entry that
 * removed it (I7).
 */
import assert from 'node:assert/strict';
import { chainView } from '../../src/core/config-view.js';
import { configQuorum, governing, roleOf, type Configuration, type PlacedConfiguration } from '../../src/core/membership.js';
import { ReaderCore, type ReadResult } from '../../src/core/reader.js';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import { ReplicaNodeCore, type ReplicaNodeConfig } from '../../src/core/replica-node.js';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { Action, Entry, Message, Position, ReplicaId } from '../../src/core/types.js';
import { WriterCore, type ChangeOutcome, type ChangeRequest, type OpResult, type WriterOutput } from '../../src/core/writer.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { seededRandom } from '../helpers/seeded-random.js';

export const member = (id: number) => ({ id, address: `h${id}:1` });

/** The bootstrap configuration: these voters and learners, at -1. */
export function config0(voters: number[], learners: number[] = []): PlacedConfiguration {
  const all = [...voters, ...learners];
  return { epoch: 0, voters: voters.map(member), learners: learners.map(member), nextId: Math.max(...all) + 1, position: -1, floor: 0 };
}

export interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly msg: Message;
}

export class ReconfigCluster {
  readonly stores = new Map<ReplicaId, MemoryStore>();
  readonly up = new Set<ReplicaId>();
  readonly writers = new Map<string, WriterCore>();
  readonly readers = new Map<string, ReaderCore>();
  inflight: Envelope[] = [];
  now = 0;
  readonly results = new Map<number, OpResult>();
  readonly changes = new Map<string, ChangeOutcome>();
  readonly reads = new Map<number, ReadResult>();
  /** Messages for which this returns true are dropped when sent. */
  dropIf: (e: Envelope) => boolean = () => false;
  /** Every message sent (after drops), for assertions on what went where. */
  readonly sent: Envelope[] = [];
  private nextOp = 1;
  private readonly random = seededRandom(7);
  /** Replicas running as processes (ReplicaNodeCore), if a test started some. */
  nodes: NodeNet | undefined;

  constructor(
    readonly c0: PlacedConfiguration,
    readonly rules: SafetyRules = ALL_RULES_ON,
    ids: number[] = [...c0.voters, ...c0.learners].map((m) => m.id),
  ) {
    for (const id of ids) {
      this.stores.set(id, new MemoryStore({ status: 'VOTING', promised: 0, incarnation: `inc-${id}`, configs: [c0] }));
      this.up.add(id);
    }
  }

  store(id: ReplicaId): MemoryStore {
    return this.stores.get(id)!;
  }
  chain(id: ReplicaId): readonly PlacedConfiguration[] {
    return this.store(id).metadata().configs ?? [];
  }

  writer(name: string, chain: readonly PlacedConfiguration[] = [this.c0], opts: { graceMs?: number } = {}): WriterCore {
    let w = this.writers.get(name);
    if (w === undefined) {
      w = new WriterCore({ view: chainView(chain), random: this.random, rules: this.rules, electionGraceMs: opts.graceMs ?? 0 });
      this.writers.set(name, w);
    }
    return w;
  }

  reader(name: string, chain: readonly PlacedConfiguration[] = [this.c0]): ReaderCore {
    let r = this.readers.get(name);
    if (r === undefined) {
      r = new ReaderCore({ view: chainView(chain), random: this.random, rules: this.rules });
      this.readers.set(name, r);
    }
    return r;
  }

  elect(name: string): void {
    this.applyWriter(name, this.writer(name).step({ type: 'elect' }, this.now));
  }

  append(name: string, data: string): number {
    const id = this.nextOp++;
    const w = this.writer(name);
    this.applyWriter(name, w.step({ type: 'submit', op: { id, action: { kind: 'append', data: new TextEncoder().encode(data) } } }, this.now));
    this.applyWriter(name, w.step({ type: 'flush' }, this.now));
    return id;
  }

  change(name: string, request: ChangeRequest): void {
    this.applyWriter(name, this.writer(name).step({ type: 'change', request }, this.now));
  }

  read(name: string, from: Position, to: Position): number {
    const id = this.nextOp++;
    const out = this.reader(name).step({ type: 'read', id, from, to }, this.now);
    for (const o of out.send) this.send({ from: name, to: `r${o.to}`, msg: o.msg });
    for (const d of out.done) this.reads.set(d.id, d.result);
    return id;
  }

  /** Copies every position `from` learned into `to`'s store as learned values (a learner catching up), with floors. */
  copyLearned(from: ReplicaId, to: ReplicaId): void {
    const src = this.store(from);
    const entries: Entry[] = [];
    for (const p of src.positions(0, src.learnedThrough())) {
      const a = src.action(p);
      if (a !== undefined && a !== 'lost') entries.push({ position: p, action: a });
    }
    const floors = (src.metadata().configs ?? []).filter((c) => c.epoch > 0).map((c) => ({ position: c.position, floor: c.floor }));
    this.deliverTo(to, { type: 'learned', entries, floors }, 'test');
  }

  deliverOne(): boolean {
    const e = this.inflight.shift();
    if (e === undefined) return false;
    this.deliver(e);
    return true;
  }

  run(maxMs = 20_000, tickMs = 50): void {
    const deadline = this.now + maxMs;
    for (;;) {
      let steps = 0;
      while (this.deliverOne()) if (++steps > 200_000) throw new Error('too many messages: livelock?');
      if (this.now >= deadline || this.idle()) return;
      this.tick(tickMs);
    }
  }

  tick(ms: number): void {
    this.now += ms;
    for (const [name, w] of this.writers) this.applyWriter(name, w.step({ type: 'tick' }, this.now));
    for (const [name, r] of this.readers) {
      const out = r.step({ type: 'tick' }, this.now);
      for (const o of out.send) this.send({ from: name, to: `r${o.to}`, msg: o.msg });
      for (const d of out.done) this.reads.set(d.id, d.result);
    }
  }

  idle(): boolean {
    for (const w of this.writers.values()) {
      const k = w.roleKind;
      if (k === 'electing' || k === 'backoff' || w.changing || (k === 'elected' && (w.inflightPositions > 0 || w.queued > 0))) return false;
    }
    for (const r of this.readers.values()) if (r.pending > 0) return false;
    return true;
  }

  private deliver(e: Envelope): void {
    if (/^r\d+$/.test(e.to)) {
      if (e.msg.type.endsWith('Reply')) return;
      return this.deliverTo(Number(e.to.slice(1)), e.msg as AcceptorMessage, e.from);
    }
    const from = Number(e.from.slice(1));
    const w = this.writers.get(e.to);
    if (w !== undefined && (e.msg.type === 'promiseReply' || e.msg.type === 'writeReply' || e.msg.type === 'readReply')) {
      this.applyWriter(e.to, w.step({ type: 'reply', from, msg: e.msg }, this.now));
    }
    const r = this.readers.get(e.to);
    if (r !== undefined && (e.msg.type === 'readReply' || e.msg.type === 'promiseReply' || e.msg.type === 'writeReply')) {
      const out = r.step({ type: 'reply', from, msg: e.msg }, this.now);
      for (const o of out.send) this.send({ from: e.to, to: `r${o.to}`, msg: o.msg });
      for (const d of out.done) this.reads.set(d.id, d.result);
    }
  }

  deliverTo(id: ReplicaId, msg: AcceptorMessage, from: string): void {
    if (!this.up.has(id)) return;
    const node = this.nodes?.nodes.get(id);
    if (node !== undefined) {
      // A replica running as a process (NodeNet): its node core answers (a held vote, a removed id).
      const out = this.nodes!.stepNode(id, { type: 'message', msg });
      if (out.reply !== undefined) this.send({ from: `r${id}`, to: from, msg: out.reply });
      return;
    }
    const store = this.store(id);
    const step = replicaStep(store, msg, this.rules, { self: id });
    store.append(step.records);
    store.syncNow();
    store.checkInvariants();
    this.checkChainComplete(id);
    if (step.reply !== undefined) this.send({ from: `r${id}`, to: from, msg: step.reply });
  }

  private send(e: Envelope): void {
    if (this.dropIf(e)) return;
    this.sent.push(e);
    this.inflight.push(e);
  }

  private applyWriter(name: string, out: WriterOutput): void {
    for (const o of out.send) this.send({ from: name, to: `r${o.to}`, msg: o.msg });
    for (const d of out.done) this.results.set(d.id, d.result);
    for (const c of out.changes ?? []) this.changes.set(c.id, c.result);
  }

  // ------------------------------------------------------------------ checks

  /** R14 / I8: every config entry at or below a replica's learned prefix is in its chain. */
  checkChainComplete(id: ReplicaId): void {
    const s = this.store(id);
    const chain = s.metadata().configs ?? [];
    for (const p of s.positions(0, s.learnedThrough())) {
      const a = s.action(p);
      if (a === undefined || a === 'lost' || a.kind !== 'config') continue;
      assert.ok(
        chain.some((c) => c.position === p && c.epoch === a.config.epoch),
        `r${id}: the config entry at ${p} (epoch ${a.config.epoch}) is learned (learnedThrough ${s.learnedThrough()}) but not in its chain`,
      );
    }
  }

  /** I3: every replica's chain is a prefix of the longest one; returns the longest. */
  oneChain(): readonly PlacedConfiguration[] {
    let longest: readonly PlacedConfiguration[] = [];
    for (const id of this.stores.keys()) if (this.chain(id).length > longest.length) longest = this.chain(id);
    for (const id of this.stores.keys()) {
      this.chain(id).forEach((c, i) => {
        assert.deepEqual(
          { e: c.epoch, p: c.position, v: c.voters, l: c.learners },
          { e: longest[i]!.epoch, p: longest[i]!.position, v: longest[i]!.voters, l: longest[i]!.learners },
          `r${id}'s chain differs at link ${i}`,
        );
      });
    }
    return longest;
  }

  /** Replicas holding `action` at p (accepted or learned). */
  holders(p: Position, action: Action): ReplicaId[] {
    const out: ReplicaId[] = [];
    for (const [id, s] of this.stores) {
      const a = s.action(p);
      if (a !== undefined && a !== 'lost' && JSON.stringify(a) === JSON.stringify(action)) out.push(id);
    }
    return out;
  }

  /**
   * Positions acknowledged to a writer whose value is held by fewer than a
   * quorum of the voters of the configuration that governs them in the true
   * chain (I1 seen as durability: such a value was counted in the wrong
   * configuration). Empty when all is well.
   */
  misplacedAcks(opActions: ReadonlyMap<number, Action>, truth?: readonly PlacedConfiguration[]): string[] {
    // The chain chosen: the longest any replica learned, or longer if the caller knows (a writer counted it chosen).
    const learned = this.oneChain();
    const chain = truth !== undefined && truth.length > learned.length ? truth : learned;
    const out: string[] = [];
    for (const [op, action] of opActions) {
      const r = this.results.get(op);
      if (r === undefined || !r.ok) continue;
      const c = governing(chain, r.position) ?? chain[0]!;
      const held = this.holders(r.position, action).filter((id) => c.voters.some((m) => m.id === id));
      if (held.length < configQuorum(c)) out.push(`position ${r.position} (epoch ${c.epoch}) held by voters ${held.join(',')} only`);
    }
    return out;
  }

  /** I7: removed replicas accepted nothing above the entry that removed them. */
  removedAccepted(): string[] {
    const chain = this.oneChain();
    const out: string[] = [];
    for (const [id, s] of this.stores) {
      if (roleOf(chain, id) !== 'removed') continue;
      const at = chain.find((c) => ![...c.voters, ...c.learners].some((m) => m.id === id))!.position;
      for (const p of s.positions(at + 1, s.end())) {
        const slot = s.slot(p);
        if (slot !== undefined && slot.accepted > 0 && !slot.learned) out.push(`r${id} accepted ${p} under ${slot.accepted}`);
      }
    }
    return out;
  }
}

export const appendAction = (data: string): Action => ({ kind: 'append', data: new TextEncoder().encode(data) });

/** The configuration a chosen change made, from a writer's outcome. */
export function changed(o: ChangeOutcome | undefined): PlacedConfiguration {
  assert.ok(o?.ok, `change complete: ${JSON.stringify(o)}`);
  return o.config;
}

export type { Configuration };

/**
 * Learned agreement over every store: one value per position (fails naming the replica that learned
 * another). Returns each learned position's value, as JSON, for checks of what the log holds.
 */
export function learnedAgree(c: ReconfigCluster): Map<Position, string> {
  const seen = new Map<Position, string>();
  for (const [id, s] of c.stores) {
    for (const p of s.positions(0, s.end())) {
      if (!s.slot(p)?.learned) continue;
      const a = JSON.stringify(s.action(p));
      const prev = seen.get(p);
      assert.ok(prev === undefined || prev === a, `r${id} learned another value at ${p}`);
      seen.set(p, a);
    }
  }
  return seen;
}

/**
 * Replicas of a ReconfigCluster running as processes (ReplicaNodeCore over
 * the cluster's stores): recovery, rejoin, the restart check, catch-up and
 * gossip between them, over a FIFO network. Step 6 (R9, R13): a wiped
 * replica is started on a fresh store with its old flags, a restored one on
 * an old copy. Writers and readers of the cluster reach these replicas
 * through their node cores.
 */
export class NodeNet {
  readonly nodes = new Map<ReplicaId, ReplicaNodeCore>();
  readonly notes: string[] = [];
  private inflight: { from: ReplicaId; to: ReplicaId; msg: Message }[] = [];
  private readonly random = seededRandom(11);

  constructor(readonly c: ReconfigCluster) {
    c.nodes = this;
  }

  /**
   * Starts replica `id` as a process with `members` as its flags (--members).
   * `wipe`: on a fresh, EMPTY disk (a new incarnation). `store`: on this copy
   * (a restored backup). Returns the node.
   */
  start(
    id: ReplicaId,
    members: readonly ReplicaId[],
    opts: { wipe?: boolean; store?: MemoryStore; restartCheck?: boolean } & Partial<Pick<ReplicaNodeConfig, 'mayStart' | 'bootstrap' | 'rules'>> = {},
  ): ReplicaNodeCore {
    let store = opts.store ?? this.c.stores.get(id);
    if (opts.wipe === true || store === undefined) store = new MemoryStore({ status: 'EMPTY', promised: 0, incarnation: `inc-${id}-new${this.c.now}` });
    this.c.stores.set(id, store);
    this.c.up.add(id);
    const node = new ReplicaNodeCore({
      id,
      members,
      store,
      random: this.random,
      now: this.c.now,
      recoveryRoundMs: 100,
      restartCheck: opts.restartCheck ?? true,
      rules: opts.rules ?? this.c.rules,
      ...(opts.mayStart === undefined ? {} : { mayStart: opts.mayStart }),
      ...(opts.bootstrap === undefined ? {} : { bootstrap: opts.bootstrap }),
    });
    this.nodes.set(id, node);
    return node;
  }

  stop(id: ReplicaId): void {
    this.nodes.delete(id);
    this.c.up.delete(id);
  }

  /** One event into a node; its records are appended (durable at once), its requests queued. */
  stepNode(id: ReplicaId, event: Parameters<ReplicaNodeCore['step']>[0]): ReturnType<ReplicaNodeCore['step']> {
    const node = this.nodes.get(id)!;
    const store = this.c.stores.get(id)!;
    const out = node.step(event, this.c.now);
    store.append(out.records);
    store.syncNow();
    for (const n of out.notes) this.notes.push(`r${id}: ${n}`);
    for (const s of [...out.send, ...out.announce]) this.inflight.push({ from: id, to: s.to, msg: s.msg });
    return out;
  }

  /** Delivers every queued message between the processes (replies go back to the asker), ticking every `tickMs`. */
  run(ms = 5_000, tickMs = 50): void {
    const deadline = this.c.now + ms;
    for (;;) {
      let steps = 0;
      while (this.inflight.length > 0) {
        if (++steps > 200_000) throw new Error('too many messages: livelock?');
        const e = this.inflight.shift()!;
        if (!this.nodes.has(e.to) || !this.c.up.has(e.to)) continue;
        const out = this.stepNode(e.to, { type: 'message', msg: e.msg, from: e.from });
        if (out.reply !== undefined && this.nodes.has(e.from)) this.inflight.push({ from: e.to, to: e.from, msg: out.reply });
      }
      // The cluster's own writers and readers (if any) get their messages too.
      this.c.run(0);
      if (this.c.now >= deadline) return;
      this.c.now += tickMs;
      for (const id of [...this.nodes.keys()]) this.stepNode(id, { type: 'tick' });
      this.c.tick(0);
    }
  }
}

/** With r1 away: writer v (w deposed) adds 4, then 5 (caught up from r2), then sets the voters to {1, 4, 5} (rejoin-moved-on, attack-seeds). */
export function moveTo145(c: ReconfigCluster): void {
  c.writers.delete('w');
  c.elect('v');
  c.run();
  c.change('v', { id: 'add4', ifEpoch: 0, change: { kind: 'add', member: member(4) } });
  c.run();
  assert.equal(changed(c.changes.get('add4')).epoch, 1);
  c.change('v', { id: 'add5', ifEpoch: 1, change: { kind: 'add', member: member(5) } });
  c.run();
  assert.equal(changed(c.changes.get('add5')).epoch, 2);
  c.copyLearned(2, 4);
  c.copyLearned(2, 5);
  c.change('v', { id: 'swap', ifEpoch: 2, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  c.run();
  assert.equal(changed(c.changes.get('swap')).epoch, 3);
}

/**
 * r1 away (its disk holding 'a' at 1) while {1,2,3} moves to {1,4,5}, then 2 and 3 retired: the case of
 * R13's seeds (rejoin-moved-on L1c, attack-seeds F2). No replica node runs yet.
 */
export function awayWhileMovedOn(): ReconfigCluster {
  const c = new ReconfigCluster(config0([1, 2, 3]), ALL_RULES_ON, [1, 2, 3, 4, 5]);
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.run();
  c.copyLearned(1, 3);
  c.up.delete(1);
  moveTo145(c);
  c.writers.delete('v');
  c.up.delete(2);
  c.up.delete(3);
  return c;
}
