/**
 * The world a scenario file drives: real replica cores (ReplicaNodeCore over
 * MemoryStore, so rejoin, recovery and catch-up run as in production),
 * writers (WriterCore) and readers (ReaderCore), and a network that moves a
 * message only when the script says so. Time moves only by `tick`. Every
 * replica step is durable at once (its records are synced before its reply
 * leaves). Everything that happens is appended to `events`, which the
 * interpreter prints after each command.
 *
 * Like src/sim/world.ts, it checks agreement after every step: a value is
 * chosen at p once a quorum of replicas accepted it under one proposal (an
 * acceptance by a disk later wiped still counts) or once a replica learned it;
 * two values chosen at one position, or an acknowledgement of a value that is
 * not the chosen one, is printed as a VIOLATION.
 */
import { quorumSize } from '../../src/core/quorum.js';
import { ReaderCore, type ReaderOutput } from '../../src/core/reader.js';
import { StepInvariants } from '../../src/core/invariants.js';
import { ReplicaNodeCore, type NodeOutput } from '../../src/core/replica-node.js';
import type { SafetyRules } from '../../src/core/rules.js';
import type { Action, Message, Position, ReplicaId, Status } from '../../src/core/types.js';
import { WriterCore, type WriterOutput } from '../../src/core/writer.js';
import { Prng } from '../../src/sim/prng.js';
import { describeMessage, valueKey } from '../../src/sim/trace.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { describeOp, describeRecord } from './print.js';

export interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly msg: Message;
}

export interface ClusterOptions {
  readonly replicas: number;
  readonly rules: SafetyRules;
  /** Deliver replicas' state gossip (peerState); off by default: it is noise in a scenario. */
  readonly gossip: boolean;
  /** Seeds every random draw (writers' nonces and backoffs, replicas' disk numbers). */
  readonly seed: number;
}

interface Replica {
  store: MemoryStore;
  core: ReplicaNodeCore;
  up: boolean;
  /** Disks this member had (1 + wipes): names the next disk's incarnation. */
  disks: number;
  /** The acceptor's delta checker around every step (src/core/invariants.ts); a new store is a new baseline. */
  invariants?: StepInvariants;
}

interface Client {
  readonly name: string;
  readonly writer?: WriterCore;
  readonly reader?: ReaderCore;
  /** What each of its operations does (for printing acknowledgements). */
  readonly ops: Map<number, Action>;
}

export const replicaId = (addr: string): ReplicaId | undefined => (/^r\d+$/.test(addr) ? Number(addr.slice(1)) : undefined);

export class ScenarioCluster {
  now = 0;
  readonly members: ReplicaId[];
  readonly quorum: number;
  readonly replicas = new Map<ReplicaId, Replica>();
  readonly clients = new Map<string, Client>();
  inflight: Envelope[] = [];
  /** Messages matching this are lost when sent (`lose`), until `heal`. */
  loseIf: ((e: Envelope) => boolean) | undefined;
  /** What happened since the interpreter last took it: one line per event. */
  events: string[] = [];
  /** Echo records written (on for single deliveries, off while stabilizing). */
  showRecords = true;
  /** Echo messages sent. */
  showSends = true;
  /** Acceptances ever made: 'p|b|value' -> replicas (never forgotten, even when a disk is wiped). */
  private readonly accepts = new Map<string, Set<ReplicaId>>();
  readonly chosen = new Map<Position, { key: string; how: string }>();
  readonly acked = new Map<Position, { key: string; by: string }>();
  readonly violations: string[] = [];
  private nextOp = 1;
  private readonly prng: Prng;
  readonly random: () => number;

  constructor(readonly options: ClusterOptions) {
    this.members = Array.from({ length: options.replicas }, (_, i) => i + 1);
    this.quorum = quorumSize(options.replicas);
    this.prng = new Prng(options.seed);
    this.random = () => this.prng.float();
    for (const id of this.members) {
      const store = MemoryStore.replay([{ type: 'metadata', metadata: { status: 'VOTING', promised: 0, incarnation: `r${id}.0` } }]);
      // A cluster built VOTING in memory: no process restarted, nothing to check.
      this.replicas.set(id, { store, core: this.newCore(id, store, false), up: true, disks: 1 });
    }
  }

  get rules(): SafetyRules {
    return this.options.rules;
  }

  private newCore(id: ReplicaId, store: MemoryStore, restartCheck = true): ReplicaNodeCore {
    return new ReplicaNodeCore({ id, members: this.members, store, random: this.random, rules: this.rules, now: this.now, restartCheck });
  }

  replica(id: ReplicaId): Replica {
    const r = this.replicas.get(id);
    if (r === undefined) throw new Error(`no replica r${id}`);
    return r;
  }

  // ------------------------------------------------------------ clients

  /** The writer `name`, created on first use (floor: its first proposal is floor + 1). */
  writer(name: string, floor = 0, members: ReplicaId[] = this.members): WriterCore {
    const c = this.clients.get(name);
    if (c?.writer !== undefined) return c.writer;
    if (c !== undefined || replicaId(name) !== undefined) throw new Error(`${name} is not a writer`);
    const writer = new WriterCore({ members, proposalFloor: floor, random: this.random, rules: this.rules });
    this.clients.set(name, { name, writer, ops: new Map() });
    return writer;
  }

  reader(name: string): ReaderCore {
    const c = this.clients.get(name);
    if (c?.reader !== undefined) return c.reader;
    if (c !== undefined || replicaId(name) !== undefined) throw new Error(`${name} is not a reader`);
    const reader = new ReaderCore({ members: this.members, random: this.random });
    this.clients.set(name, { name, reader, ops: new Map() });
    return reader;
  }

  elect(name: string): void {
    this.applyWriter(name, this.writer(name).step({ type: 'elect' }, this.now));
  }

  /** Submits operations and flushes them as one batch; returns their ids. */
  submit(name: string, actions: Action[]): number[] {
    const w = this.writer(name);
    const ids: number[] = [];
    for (const action of actions) {
      const id = this.nextOp++;
      ids.push(id);
      this.clients.get(name)!.ops.set(id, action);
      this.applyWriter(name, w.step({ type: 'submit', op: { id, action } }, this.now));
    }
    this.applyWriter(name, w.step({ type: 'flush' }, this.now));
    return ids;
  }

  read(name: string, from: Position, to: Position): number {
    const id = this.nextOp++;
    this.applyReader(name, this.reader(name).step({ type: 'read', id, from, to }, this.now));
    return id;
  }

  // ------------------------------------------------------------ faults

  crash(id: ReplicaId): void {
    this.replica(id).up = false;
    this.inflight = this.inflight.filter((m) => m.to !== `r${id}`);
  }

  /** The process restarts on the disk it has (every record is durable here); it checks with its peers before it votes. */
  restart(id: ReplicaId): void {
    this.restartOn(id, MemoryStore.replay(this.replica(id).store.records));
  }

  /** The disk is replaced by an empty one (EMPTY, a new incarnation) and the replica restarts: it will rejoin. */
  wipe(id: ReplicaId): void {
    const r = this.replica(id);
    this.restartOn(id, MemoryStore.replay([{ type: 'metadata', metadata: { status: 'EMPTY', promised: 0, incarnation: `r${id}.${r.disks++}` } }]));
  }

  /**
   * The last record fails its checksum and the replica restarts (as
   * FileStore reads it): an accept or learn of an append whose key holds
   * loses its position; anything else is unknown, and the disk RECOVERING.
   */
  corruptTail(id: ReplicaId, keyHolds: boolean): string {
    const recs = this.replica(id).store.records;
    if (recs.length <= 1) return 'nothing to damage';
    const last = recs[recs.length - 1]!;
    const kept = recs.slice(0, -1);
    if (keyHolds && (last.type === 'accept' || last.type === 'learn') && last.action.kind === 'append') {
      const store = MemoryStore.replay(recs);
      store.markLost(last.position);
      this.restartOn(id, store);
      return `${describeRecord(last)} damaged: position ${last.position} lost`;
    }
    const incarnation = MemoryStore.replay(kept).metadata().incarnation;
    this.restartOn(id, MemoryStore.replay([...kept, { type: 'metadata', metadata: { status: 'RECOVERING', promised: 0, incarnation } }]));
    return `${describeRecord(last)} damaged beyond reading: disk RECOVERING`;
  }

  private restartOn(id: ReplicaId, store: MemoryStore): void {
    const r = this.replica(id);
    this.inflight = this.inflight.filter((m) => m.to !== `r${id}`);
    r.store = store;
    r.up = true;
    r.core = this.newCore(id, store);
  }

  // ------------------------------------------------------------ running

  /** Delivers in-flight message `index`. */
  deliver(index: number): Envelope {
    const [e] = this.inflight.splice(index, 1);
    if (e === undefined) throw new Error(`no in-flight message ${index}`);
    const rid = replicaId(e.to);
    if (rid !== undefined) {
      const r = this.replica(rid);
      if (!r.up) return e;
      const isReply = e.msg.type.endsWith('Reply');
      this.applyReplica(rid, r.core.step({ type: 'message', msg: e.msg, from: replicaId(e.from) }, this.now), isReply ? undefined : e.from);
      return e;
    }
    const c = this.clients.get(e.to);
    const from = replicaId(e.from);
    if (c === undefined || from === undefined) return e;
    const m = e.msg;
    if (c.writer !== undefined && (m.type === 'promiseReply' || m.type === 'writeReply' || m.type === 'readReply')) {
      this.applyWriter(c.name, c.writer.step({ type: 'reply', from, msg: m }, this.now));
    }
    if (c.reader !== undefined && (m.type === 'promiseReply' || m.type === 'writeReply' || m.type === 'readReply')) {
      this.applyReader(c.name, c.reader.step({ type: 'reply', from, msg: m }, this.now));
    }
    return e;
  }

  /** Time passes by `ms` and the named nodes (default: every node that is up) tick. */
  tick(ms: number, nodes?: string[]): void {
    this.now += ms;
    const all = nodes ?? [...this.members.filter((id) => this.replica(id).up).map((id) => `r${id}`), ...this.clients.keys()];
    for (const n of all) {
      const rid = replicaId(n);
      if (rid !== undefined) {
        if (this.replica(rid).up) this.applyReplica(rid, this.replica(rid).core.step({ type: 'tick' }, this.now));
        continue;
      }
      const c = this.clients.get(n);
      if (c === undefined) throw new Error(`no node ${n}`);
      if (c.writer !== undefined) this.applyWriter(n, c.writer.step({ type: 'tick' }, this.now));
      if (c.reader !== undefined) this.applyReader(n, c.reader.step({ type: 'tick' }, this.now));
    }
  }

  /** No client has anything pending and no replica is recovering. */
  idle(): boolean {
    for (const c of this.clients.values()) {
      const k = c.writer?.roleKind;
      if (k === 'electing' || k === 'backoff' || (k === 'elected' && (c.writer!.inflightPositions > 0 || c.writer!.queued > 0))) return false;
      if ((c.reader?.pending ?? 0) > 0) return false;
    }
    for (const r of this.replicas.values()) if (r.up && (r.store.metadata().status !== 'VOTING' || r.core.holdsVotes)) return false;
    return true;
  }

  // ------------------------------------------------------------ effects

  private send(from: string, to: string, msg: Message): void {
    if (msg.type === 'peerState' && !this.options.gossip) return;
    const rid = replicaId(to);
    if (rid !== undefined && !this.replica(rid).up) return;
    const e = { from, to, msg };
    if (this.loseIf?.(e) === true) {
      if (this.showSends) this.events.push(`lost ${describeEnvelope(e)}`);
      return;
    }
    if (this.showSends) this.events.push(`send ${describeEnvelope(e)}`);
    this.inflight.push(e);
  }

  private applyReplica(id: ReplicaId, out: NodeOutput, replyTo?: string): void {
    const r = this.replica(id);
    const store = r.store;
    const was: Status = store.metadata().status;
    const commitTargets = out.records.filter((x) => x.type === 'commit').flatMap((c) => {
      const ps: Position[] = [];
      for (const p of store.positions(c.from, c.to)) {
        const s = store.slot(p);
        if (s !== undefined && !s.learned && s.accepted === c.proposal) ps.push(p);
      }
      return ps;
    });
    r.invariants ??= new StepInvariants(`r${id}`);
    r.invariants.around(store, out.records, () => {
      store.append(out.records);
      store.syncNow();
    });
    store.checkInvariants();
    if (this.showRecords) for (const rec of out.records) this.events.push(`r${id} writes ${describeRecord(rec)}`);
    const now = store.metadata().status;
    if (now !== was) this.events.push(`r${id} status ${was} -> ${now}`);
    for (const note of out.notes) this.events.push(`r${id} note: ${note}`);
    for (const rec of out.records) {
      if (rec.type === 'accept') this.noteAccept(id, rec.position, rec.proposal, rec.action);
      if (rec.type === 'learn') this.noteLearned(id, rec.position);
    }
    for (const p of commitTargets) this.noteLearned(id, p);
    for (const s of out.send) this.send(`r${id}`, `r${s.to}`, s.msg);
    for (const a of out.announce) this.send(`r${id}`, `r${a.to}`, a.msg);
    if (out.reply !== undefined && replyTo !== undefined) this.send(`r${id}`, replyTo, out.reply);
  }

  private applyWriter(name: string, out: WriterOutput): void {
    const c = this.clients.get(name)!;
    for (const s of out.send) this.send(name, `r${s.to}`, s.msg);
    if (out.election !== undefined) {
      const e = out.election;
      this.events.push(`${name} election ${e.ok ? `won b${c.writer!.proposal}, log ends at ${e.position}` : `failed: ${e.error}${e.proposal !== undefined ? ` (b${e.proposal})` : ''}`}`);
    }
    for (const d of out.done) {
      const action = c.ops.get(d.id);
      this.events.push(`${name} op${d.id} ${describeOp(action, d.result)}`);
      if (d.result.ok && action !== undefined) this.noteAcked(name, d.result.position, valueKey(action));
    }
  }

  private applyReader(name: string, out: ReaderOutput): void {
    for (const s of out.send) this.send(name, `r${s.to}`, s.msg);
    for (const d of out.done) {
      const r = d.result;
      if (!r.ok) this.events.push(`${name} read${d.id} failed: ${r.error}${r.begin !== undefined ? ` (begin ${r.begin})` : ''}`);
      else this.events.push(`${name} read${d.id} ok: [${r.entries.map((e) => `${e.position}=${valueKey(e.action)}`).join(' ')}] begin ${r.begin} end ${r.end}`);
    }
  }

  private noteAccept(id: ReplicaId, p: Position, b: number, action: Action): void {
    const key = valueKey(action);
    const k = `${p}|${b}|${key}`;
    let set = this.accepts.get(k);
    if (set === undefined) this.accepts.set(k, (set = new Set()));
    set.add(id);
    if (set.size === this.quorum) this.setChosen(p, key, `accepted under b${b} by r${[...set].sort().join(',r')}`);
  }

  private noteLearned(id: ReplicaId, p: Position): void {
    const store = this.replica(id).store;
    if (!store.slot(p)?.learned) return;
    const a = store.action(p);
    if (a === undefined || a === 'lost' || (a.kind === 'nop' && a.tombstone === true)) return;
    this.setChosen(p, valueKey(a), `learned by r${id}`);
  }

  private noteAcked(by: string, p: Position, key: string): void {
    this.acked.set(p, { key, by });
    const c = this.chosen.get(p);
    if (c !== undefined && c.key !== key) this.fail(`durability: ${by} acknowledged ${key} at ${p} but ${c.key} is chosen there (${c.how})`);
  }

  private setChosen(p: Position, key: string, how: string): void {
    const prev = this.chosen.get(p);
    if (prev === undefined) {
      this.chosen.set(p, { key, how });
      const a = this.acked.get(p);
      if (a !== undefined && a.key !== key) this.fail(`durability: ${a.by} acknowledged ${a.key} at ${p} but ${key} is chosen there (${how})`);
      return;
    }
    if (prev.key !== key) this.fail(`agreement: two values chosen at ${p}: ${prev.key} (${prev.how}) and ${key} (${how})`);
  }

  private fail(message: string): void {
    if (this.violations.includes(message)) return;
    this.violations.push(message);
    this.events.push(`VIOLATION ${message}`);
  }
}

export function describeEnvelope(e: Envelope): string {
  return `${e.from}>${e.to} ${describeMessage(e.msg)}`;
}
