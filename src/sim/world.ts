/**
 * A small, fully scripted cluster over the real cores, for scenario tests and
 * the exhaustive search (explore.ts): replicas are ReplicaNodeCores over
 * MemoryStores, writers are WriterCores, and nothing happens unless the
 * script (or the search) says so: deliver one in-flight message, tick one
 * node, wipe a disk, damage its last record, take a backup of it or restore
 * one, stop or start a replica. Every step is atomic and durable (its records
 * are synced before its reply leaves), so a replica loses state only through
 * such damage. Messages are never lost by the world: a message that is never
 * delivered models a loss (and a replica that restarts loses those in flight
 * to it, with its connections).
 *
 * The world checks agreement after every step: a value is chosen at p once a
 * quorum of replicas accepted it under one proposal (an acceptance by a disk
 * that was later wiped still counts: it happened), or once any replica learned
 * it; two different values chosen at one position is a violation, and so is
 * an acknowledgement of a value that is not the chosen one, and a new, empty
 * log started (a STARTING replica becoming VOTING with no member VOTING)
 * after a value was chosen.
 *
 * With `learners` (a world whose replicas hold a configuration chain, for
 * changes: docs/reconfiguration.md), writers may carry a membership change,
 * and "chosen" is section 8's: a quorum of config(q)'s voters accepted the
 * value under one ballot in config(q), named (explore-chosen.ts). The world
 * then also checks one chain (I3), one change pending (I4), the joint count
 * (I6: when a writer counts an entry chosen, a quorum of the next
 * configuration has learned everything below it), counting only from voters
 * (I5: a writer commits or acknowledges only what is chosen in this sense),
 * removed stays removed (I7) and complete chains (I8: a VOTING replica's
 * chain holds every link of the true chain at or below max(learnedThrough,
 * begin - 1)). A writer may end with a TRUNCATE (WorldWriter.truncate).
 */
import { chainView } from '../core/config-view.js';
import { configQuorum, roleIn, type Configuration, type PlacedConfiguration } from '../core/membership.js';
import { quorumSize } from '../core/quorum.js';
import { StepInvariants } from '../core/invariants.js';
import { ReplicaNodeCore, type NodeOutput } from '../core/replica-node.js';
import { ALL_RULES_ON, type SafetyRules } from '../core/rules.js';
import type { Action, Message, Metadata, PersistRecord, Position, ReplicaId, Witness } from '../core/types.js';
import { WriterCore, type ChangeRequest, type WriterOutput } from '../core/writer.js';
import { ReaderCore, type ReaderOutput, type ReadResult } from '../core/reader.js';
import { MemoryStore } from '../storage/memory-store.js';
import { chainMismatch, chosenAt, trueChain, type Acceptance } from './explore-chosen.js';
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
  /** A membership change it is given after its appends (needs a world with `learners`). */
  readonly change?: ChangeRequest;
  /** The change is given by a step of its own (`World.change`) once the writer started, not at its start. */
  readonly changeLater?: boolean;
  /** Entries it appends after the change (queued behind it: R2 holds them back until it is installed). */
  readonly after?: readonly string[];
  /**
   * Last, it truncates to this position: a TRUNCATE queued behind everything above (the core writer
   * sets the head of config(to) on it, R14; it must not lie above the TRUNCATE's own position).
   */
  readonly truncate?: Position;
  /**
   * Chained worlds: when it starts, the writer reads the chain this replica
   * stores and its ballots are in that chain's latest configuration (a client
   * that asked a replica for the configuration); default: the bootstrap one.
   */
  readonly seed?: ReplicaId;
}

/** A reader that reads one range once, started by the script or the search (`World.read`). */
export interface WorldReader {
  /** Address, e.g. 'rd1' (not r<number>: those are replicas). */
  readonly name: string;
  readonly from: Position;
  readonly to: Position;
  /** Its fills start above this proposal (the owner's highest seen). */
  readonly floor?: number;
  /**
   * Chained worlds: when it starts, the reader's view is the chain this
   * replica stores (a client that asked that replica, possibly one left
   * behind by a change); default: the bootstrap chain.
   */
  readonly seed?: ReplicaId;
}

export interface WorldOptions {
  readonly replicas: number;
  /** Member ids (default 1..replicas); any distinct positive ids, e.g. [2, 5, 9]. */
  readonly ids?: readonly ReplicaId[];
  /**
   * Each core (replica and writer) is given the member list in an order of
   * its own (a fixed permutation per core) instead of ascending order: the
   * cores must not depend on the order they are told the members in.
   */
  readonly shuffledMembers?: boolean;
  /**
   * Every disk starts EMPTY (a cluster born from empty disks: the two-phase
   * start of recovery.ts runs) instead of VOTING.
   */
  readonly startEmpty?: boolean;
  /** Replicas down at time 0 (started later by `up`). */
  readonly down?: readonly ReplicaId[];
  /**
   * A restarted replica checks with its peers before it votes (default true,
   * as in production). False models the restart check switched off: a disk
   * restored from an old backup then votes at once.
   */
  readonly restartCheck?: boolean;
  /**
   * How a damaged last record is found on restart (`corruptTail`):
   * 'corruption' (default, what FileStore does: a complete frame that fails
   * its checksum is corruption, the position is lost or the disk RECOVERING),
   * or 'torn': the record is cut silently as if its write had been torn (the
   * old behaviour, which forgets a synced vote).
   */
  readonly tailDamage?: 'corruption' | 'torn';
  readonly writers: readonly WorldWriter[];
  /** Readers, each reading its range once when started (default none). */
  readonly readers?: readonly WorldReader[];
  /**
   * Replicas that are learners of the bootstrap configuration (ids outside
   * `ids`, caught up or not, started as joiners: mayStart false). Given (even
   * empty), every disk holds the bootstrap chain (voters `ids`, these
   * learners), writers work over that chain and may carry a change, and the
   * checks are section 8's (see the header).
   */
  readonly learners?: readonly ReplicaId[];
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
  /** The acceptor's delta checker around every step (src/core/invariants.ts); a new store is a new baseline. */
  invariants?: StepInvariants;
}

interface WorldWriterState {
  readonly spec: WorldWriter;
  core: WriterCore;
  /** A core over a chain (a writer with a `seed` is made again when it starts). */
  readonly make: (chain: readonly PlacedConfiguration[]) => WriterCore;
  /** Its change was given to the core. */
  changed: boolean;
  /** The writer's request-id counter (explicit, so that it is part of the state). */
  readonly rids: { next: number };
  started: boolean;
  readonly ops: Map<number, Action>;
  readonly acked: Map<Position, string>;
}

interface WorldReaderState {
  readonly spec: WorldReader;
  core: ReaderCore | undefined;
  readonly rids: { next: number };
  /** Every writer's acknowledged appends when the read started (the read must return those in its range). */
  ackedBefore: Map<Position, string>;
  result: ReadResult | undefined;
}

/** One step of time: longer than every retransmit, backoff and recovery-round wait. */
export const TICK_STEP_MS = 1_100;

export class World {
  now = 0;
  readonly rules: SafetyRules;
  /** Every replica: the voters, then the learners. */
  readonly members: ReplicaId[];
  /** The bootstrap voters (`ids`). */
  readonly voters: ReplicaId[];
  readonly quorum: number;
  /** The bootstrap configuration, when the replicas hold a chain (`learners`). */
  readonly c0: PlacedConfiguration | undefined;
  /** Acceptances ever made, with their ballot's configuration and naming (chained worlds). */
  readonly acceptLog: Acceptance[] = [];
  private readonly acceptKeys = new Set<string>();
  /** Config entries some replica learned, by position. */
  readonly learnedConfigs = new Map<Position, Configuration>();
  /** The true chain at the last check (chained worlds). */
  truth: PlacedConfiguration[] = [];
  /** The highest learned prefix each replica's disks ever reached (I6 counts a disk lost since: its rejoin catches up before it votes). */
  private readonly learnedEver = new Map<ReplicaId, Position>();
  /** Config entries a writer counted chosen (I6 is checked once each). */
  private readonly counted = new Set<Position>();
  /** Commit and learned messages are dropped when sent (starts as the option; a prelude may deliver them). */
  dropCommits: boolean;
  /** The request being delivered (its head and named set go with the acceptances it causes). */
  private delivering: Message | undefined;
  readonly replicas = new Map<ReplicaId, WorldReplica>();
  /** Replicas that are down: messages to them are lost, they neither tick nor send. */
  readonly down = new Set<ReplicaId>();
  readonly writers = new Map<string, WorldWriterState>();
  readonly readers = new Map<string, WorldReaderState>();
  inflight: InFlight[] = [];
  /** Acceptances ever made: 'p|b|value' -> replicas (never forgotten, even when a disk is wiped). */
  readonly accepts = new Map<string, Set<ReplicaId>>();
  /** The value chosen at each position, and how it was found chosen. */
  readonly chosen = new Map<Position, { key: string; how: string }>();
  readonly violations: string[] = [];
  readonly lines: string[] = [];
  private readonly traceOn: boolean;
  /** Writers deposed for good (`depose`): nothing they send or are sent is delivered. */
  readonly deposed = new Set<string>();

  constructor(readonly options: WorldOptions) {
    this.rules = options.rules ?? ALL_RULES_ON;
    this.traceOn = options.trace ?? false;
    this.voters = options.ids !== undefined ? [...options.ids] : Array.from({ length: options.replicas }, (_, i) => i + 1);
    if (this.voters.length !== options.replicas || new Set(this.voters).size !== this.voters.length) throw new Error('World: ids must be `replicas` distinct ids');
    const learners = options.learners ?? [];
    if (learners.some((id) => this.voters.includes(id))) throw new Error('World: learners are ids outside the voters');
    this.members = [...this.voters, ...learners];
    this.quorum = quorumSize(options.replicas);
    this.dropCommits = options.dropCommits === true;
    this.c0 = options.learners === undefined ? undefined : bootstrapChain(this.voters, learners);
    for (const id of this.members) {
      const empty = options.startEmpty === true;
      const configs = this.c0 === undefined ? {} : { configs: [this.c0] };
      // The first record of a disk is its metadata (as on a real disk), so a backup copies it too.
      const store = MemoryStore.replay([{ type: 'metadata', metadata: { status: empty ? 'EMPTY' : 'VOTING', promised: 0, incarnation: `r${id}.0`, ...configs } }]);
      // A cluster built VOTING in memory: no process restarted, nothing to check.
      this.replicas.set(id, { store, core: this.newCore(id, store, false), disks: 1 });
    }
    for (const id of options.down ?? []) this.down.add(id);
    const seeds = new Prng(options.seed ?? 1);
    for (const spec of options.writers) {
      const rids = { next: 1 };
      const prng = new Prng(seeds.next32());
      const make = (chain: readonly PlacedConfiguration[]): WriterCore => {
        const where = chain.length === 0 ? { members: this.memberList() } : { view: chainView(chain) };
        return new WriterCore({ ...where, proposalFloor: spec.floor, random: () => prng.float(), rules: this.rules, rid: () => rids.next++ });
      };
      const core = make(this.c0 === undefined ? [] : [this.c0]);
      this.writers.set(spec.name, { spec, core, make, changed: false, rids, started: false, ops: new Map(), acked: new Map() });
    }
    for (const spec of options.readers ?? []) this.readers.set(spec.name, { spec, core: undefined, rids: { next: 1 }, ackedBefore: new Map(), result: undefined });
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
    if (w.spec.seed !== undefined && this.c0 !== undefined) {
      const chain = this.replicas.get(w.spec.seed)!.store.metadata().configs ?? [this.c0];
      w.core = w.make(chain);
      this.trace(`${name} reads the chain of r${w.spec.seed}: epoch ${chain[chain.length - 1]!.epoch}`);
    }
    this.trace(`${name} starts (floor b${w.spec.floor}): ${w.spec.appends.join(',')}`);
    this.submit(w, w.spec.appends);
    if (w.spec.change !== undefined && w.spec.changeLater !== true) this.giveChange(w);
    else if (w.spec.change === undefined) this.submitTruncate(w);
    this.applyWriter(w, w.core.step({ type: 'flush' }, this.now));
  }

  /**
   * Scripts: writer `name` is deposed and stops for good (its process ends): its messages in flight are
   * lost, and so is everything it would send or be sent. What it wrote stays where it was accepted.
   */
  depose(name: string): void {
    this.trace(`${name} deposed, stops`);
    this.deposed.add(name);
    this.inflight = this.inflight.filter((m) => m.from !== name && m.to !== name);
  }

  /** A reader starts its read, with the view of its seed replica's chain (or the bootstrap one). */
  read(name: string): void {
    const r = this.readers.get(name)!;
    if (r.core !== undefined) return;
    const chain = this.c0 === undefined ? [] : r.spec.seed !== undefined ? (this.replicas.get(r.spec.seed)!.store.metadata().configs ?? [this.c0]) : [this.c0];
    const where = chain.length === 0 ? { members: [...this.voters] } : { view: chainView(chain) };
    const prng = new Prng(7 + this.readers.size);
    const floor = r.spec.floor ?? 0;
    r.core = new ReaderCore({ ...where, random: () => prng.float(), rules: this.rules, rid: () => r.rids.next++, proposalFloor: () => floor });
    for (const w of this.writers.values()) for (const [p, key] of w.acked) r.ackedBefore.set(p, key);
    this.trace(`${name} reads [${r.spec.from}, ${r.spec.to}]${chain.length === 0 ? '' : ` in epoch ${chain[chain.length - 1]!.epoch}`}`);
    this.applyReader(r, r.core.step({ type: 'read', id: 1, from: r.spec.from, to: r.spec.to }, this.now));
  }

  /** A writer (started) is given its change now, and the appends that go behind it. */
  change(name: string): void {
    const w = this.writers.get(name)!;
    if (w.changed || !w.started || w.spec.change === undefined) throw new Error(`${name} has no change to give`);
    this.giveChange(w);
    this.applyWriter(w, w.core.step({ type: 'flush' }, this.now));
  }

  private giveChange(w: WorldWriterState): void {
    w.changed = true;
    this.trace(`${w.spec.name} change ${JSON.stringify(w.spec.change!.change)} (if epoch ${w.spec.change!.ifEpoch})`);
    this.applyWriter(w, w.core.step({ type: 'change', request: w.spec.change! }, this.now));
    this.submit(w, w.spec.after ?? []);
    this.submitTruncate(w);
  }

  /** The writer's TRUNCATE (WorldWriter.truncate), if it has one, behind its other operations. */
  private submitTruncate(w: WorldWriterState): void {
    if (w.spec.truncate === undefined) return;
    const action: Action = { kind: 'truncate', to: w.spec.truncate };
    const id = w.ops.size + 1;
    w.ops.set(id, action);
    this.trace(`${w.spec.name} truncates to ${w.spec.truncate}`);
    this.applyWriter(w, w.core.step({ type: 'submit', op: { id, action } }, this.now));
  }

  private submit(w: WorldWriterState, appends: readonly string[]): void {
    for (const data of appends) {
      const action: Action = { kind: 'append', data: encoder.encode(data) };
      const id = w.ops.size + 1;
      w.ops.set(id, action);
      this.applyWriter(w, w.core.step({ type: 'submit', op: { id, action } }, this.now));
    }
  }

  /**
   * `to` copies the values `from` learned (what a replica's repair does from a
   * peer's learned prefix, gossip aside): a learner catching up.
   */
  copyLearned(from: ReplicaId, to: ReplicaId): void {
    const src = this.replicas.get(from)!.store;
    this.trace(`COPY r${from} -> r${to} (learned through ${src.learnedThrough()})`);
    const entries: { position: Position; action: Action }[] = [];
    for (const p of src.positions(src.begin(), src.learnedThrough())) {
      const a = src.action(p);
      if (src.slot(p)?.learned && a !== undefined && a !== 'lost') entries.push({ position: p, action: a });
    }
    const floors = (src.metadata().configs ?? []).filter((c) => c.epoch > 0).map((c) => ({ position: c.position, floor: c.floor }));
    const msg: Message = { type: 'learned', entries, ...(floors.length === 0 ? {} : { floors }) };
    this.applyReplica(to, this.replicas.get(to)!.core.step({ type: 'message', msg, from }, this.now));
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
      this.delivering = m.msg;
      try {
        this.applyReplica(rid, r.core.step({ type: 'message', msg: m.msg, from }, this.now), isReply ? undefined : m.from);
      } finally {
        this.delivering = undefined;
      }
      return;
    }
    const rd = this.readers.get(m.to);
    if (rd !== undefined) {
      if (rd.core !== undefined && (m.msg.type === 'promiseReply' || m.msg.type === 'writeReply' || m.msg.type === 'readReply')) {
        this.applyReader(rd, rd.core.step({ type: 'reply', from: replicaNumber(m.from)!, msg: m.msg }, this.now));
      }
      return;
    }
    const w = this.writers.get(m.to);
    if (w === undefined || (m.msg.type !== 'promiseReply' && m.msg.type !== 'writeReply' && m.msg.type !== 'readReply')) return;
    this.applyWriter(w, w.core.step({ type: 'reply', from: replicaNumber(m.from)!, msg: m.msg }, this.now));
  }

  /** Time passes (TICK_STEP_MS) and one node ticks: retransmits, repromises, backoff ends, recovery rounds. */
  tick(addr: string): void {
    if (replicaNumber(addr) !== undefined && this.down.has(replicaNumber(addr)!)) throw new Error(`${addr} is down`);
    this.now += TICK_STEP_MS;
    this.trace(`tick ${addr}`);
    const rid = replicaNumber(addr);
    if (rid !== undefined) {
      this.applyReplica(rid, this.replicas.get(rid)!.core.step({ type: 'tick' }, this.now));
      return;
    }
    const rd = this.readers.get(addr);
    if (rd !== undefined) {
      if (rd.core !== undefined) this.applyReader(rd, rd.core.step({ type: 'tick' }, this.now));
      return;
    }
    const w = this.writers.get(addr)!;
    this.applyWriter(w, w.core.step({ type: 'tick' }, this.now));
  }

  /** The disk of `id` is replaced by an empty one and the replica restarts (EMPTY: it will rejoin); messages in flight to it are lost. */
  wipe(id: ReplicaId): void {
    const r = this.replicas.get(id)!;
    this.trace(`WIPE r${id}`);
    this.restart(id, MemoryStore.replay([{ type: 'metadata', metadata: { status: 'EMPTY', promised: 0, incarnation: `r${id}.${r.disks++}` } }]));
  }

  /** Metadata damage (as FileStore handles it): RECOVERING, promised 0, no generations; the log is kept. */
  corruptMetadata(id: ReplicaId): void {
    const r = this.replicas.get(id)!;
    this.trace(`CORRUPT METADATA r${id}`);
    const meta: Metadata = { status: 'RECOVERING', promised: 0, incarnation: r.store.metadata().incarnation };
    this.restart(id, MemoryStore.replay([...r.store.records, { type: 'metadata', metadata: meta }]));
  }

  /**
   * The last record of `id`'s disk (a complete, synced frame) fails its
   * checksum, and the replica restarts on it (as SimDisk.corruptTail, with
   * FileStore's reading of it): if its key holds (`keyHolds`) and it is an
   * accept or learn of an append, its position is lost (until a later record
   * rewrites it); otherwise the record is unknown, gone, and the disk is
   * RECOVERING (it rejoins). With `tailDamage: 'torn'` the record is simply
   * cut, as a torn write is. Returns what happened (undefined: only the
   * disk's first record, nothing to damage).
   */
  corruptTail(id: ReplicaId, keyHolds: boolean): 'lost' | 'unknown' | 'cut' | undefined {
    const r = this.replicas.get(id)!;
    const recs = r.store.records;
    if (recs.length <= 1) return undefined;
    const last = recs[recs.length - 1]!;
    const kept = recs.slice(0, -1);
    if (this.options.tailDamage === 'torn') {
      this.trace(`CORRUPT TAIL r${id}: ${last.type} cut as a torn write`);
      this.restart(id, MemoryStore.replay(kept));
      return 'cut';
    }
    if (keyHolds && (last.type === 'accept' || last.type === 'learn') && last.action.kind === 'append') {
      this.trace(`CORRUPT TAIL r${id}: ${last.type}@${last.position} lost`);
      const store = MemoryStore.replay(recs);
      store.markLost(last.position);
      this.restart(id, store);
      return 'lost';
    }
    this.trace(`CORRUPT TAIL r${id}: ${last.type} unknown, disk RECOVERING`);
    const incarnation = MemoryStore.replay(kept).metadata().incarnation;
    this.restart(id, MemoryStore.replay([...kept, { type: 'metadata', metadata: { status: 'RECOVERING', promised: 0, incarnation } }]));
    return 'unknown';
  }

  /** A backup of `id`'s disk: its records as they are now (every record is durable here; records are immutable). */
  snapshot(id: ReplicaId): readonly PersistRecord[] {
    this.trace(`BACKUP r${id} (${this.replicas.get(id)!.store.records.length} records)`);
    return [...this.replicas.get(id)!.store.records];
  }

  /** The replica restarts on a backup of its disk: what it wrote since is gone. */
  restore(id: ReplicaId, backup: readonly PersistRecord[]): void {
    this.trace(`RESTORE r${id} (${backup.length} records)`);
    this.restart(id, MemoryStore.replay(backup));
  }

  /**
   * True if the replica's peers know enough to unmask `backup` if it were
   * restored now (what the restart check can detect, docs/protocol.md): a
   * peer recorded a newer disk of the member, or saw the backup's disk reach
   * a higher promise or end than the backup holds. Also true if nothing was
   * written since the backup (restoring it loses nothing).
   */
  backupDetectable(id: ReplicaId, backup: readonly PersistRecord[]): boolean {
    const now = this.replicas.get(id)!.store;
    if (now.records.length === backup.length && now.records.every((r, i) => r === backup[i])) return true;
    const old = MemoryStore.replay(backup);
    const meta = old.metadata();
    const own = { generation: meta.generation ?? 0, disk: meta.disk ?? 0 };
    const held = Math.max(meta.promised, old.highestProposal());
    for (const peer of this.members) {
      if (peer === id || this.down.has(peer)) continue;
      const p = this.replicas.get(peer)!;
      const known = p.store.metadata().recorded?.[id] ?? { generation: 0, disk: 0 };
      if (known.generation > own.generation || (known.generation === own.generation && known.disk !== own.disk)) return true;
      const seen = (p.core as unknown as { witnessed: Record<number, Witness> }).witnessed[id];
      if (seen !== undefined && seen.generation === own.generation && seen.disk === own.disk && (seen.promised > held || seen.end > old.end())) return true;
    }
    return false;
  }

  /** The replica stops (its process ends): messages in flight to it are lost, it does nothing until `up`. */
  stop(id: ReplicaId): void {
    this.trace(`STOP r${id}`);
    this.inflight = this.inflight.filter((m) => m.to !== `r${id}`);
    this.down.add(id);
  }

  /** The replica (down) starts on the disk it has. */
  up(id: ReplicaId): void {
    this.trace(`UP r${id}`);
    this.down.delete(id);
    this.restart(id, this.replicas.get(id)!.store);
  }

  /** The process of `id` restarts on `store`: messages in flight to it are lost with its connections. */
  private restart(id: ReplicaId, store: MemoryStore): void {
    const r = this.replicas.get(id)!;
    this.inflight = this.inflight.filter((m) => m.to !== `r${id}`);
    r.store = store;
    r.core = this.newCore(id, store);
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
  newCore(id: ReplicaId, store: MemoryStore, restartCheck = this.options.restartCheck ?? true): ReplicaNodeCore {
    // A learner of the bootstrap configuration was started with --join: it never starts a cluster (R11).
    const joins = this.c0 === undefined ? {} : { bootstrap: this.c0, ...(this.voters.includes(id) ? {} : { mayStart: false }) };
    return new ReplicaNodeCore({ id, members: this.memberList(), store, random: this.random, rules: this.rules, now: this.now, restartCheck, ...joins });
  }

  private cores = 0;

  /**
   * The member list a new core is given: ascending, or with `shuffledMembers`
   * a permutation of its own (the k-th core built gets the k-th of a fixed
   * cycle of permutations, so a world is still fixed by its options).
   */
  private memberList(): ReplicaId[] {
    const k = this.cores++;
    if (this.options.shuffledMembers !== true) return [...this.voters];
    const out = [...this.voters];
    // Rotate by k, and reverse every other time: 2n distinct orders for n members.
    for (let i = 0; i < k % out.length; i++) out.push(out.shift()!);
    if (Math.floor(k / out.length) % 2 === 1) out.reverse();
    return out;
  }

  /** The cores' randomness: fixed unless a script sets it (disk numbers differ per draw all the same). */
  random: () => number = (() => {
    let x = 0.123456789;
    return () => (x = (x * 9301 + 49297) % 233280 / 233280);
  })();

  private post(from: string, to: string, msg: Message): void {
    if (msg.type === 'peerState' && this.options.gossip === false) return;
    if (this.deposed.has(from) || this.deposed.has(to)) return;
    // A replica that is down receives nothing (its connections are closed).
    const toReplica = replicaNumber(to);
    if (toReplica !== undefined && this.down.has(toReplica)) return;
    if (this.dropCommits && (msg.type === 'commit' || msg.type === 'learned')) return;
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
    const was = store.metadata().status;
    if (this.c0 !== undefined) this.noteChained(id, store.metadata(), out.records);
    r.invariants ??= new StepInvariants(`r${id}`);
    r.invariants.around(store, out.records, () => {
      store.append(out.records);
      store.syncNow();
    });
    if (was === 'STARTING' && store.metadata().status === 'VOTING' && this.chosen.size > 0 && this.voters.every((m) => m === id || this.status(m) !== 'VOTING')) {
      // A fresh start (no member VOTING): the log it starts is empty, and values were chosen.
      this.fail(`start over data: r${id} started a new, empty log (no member VOTING) although ${[...this.chosen.keys()].sort().map((p) => `${this.chosen.get(p)!.key}@${p}`).join(', ')} was chosen`);
    }
    for (const rec of out.records) {
      if (rec.type === 'accept') this.noteAccept(id, rec.position, rec.proposal, rec.action);
      if (rec.type === 'learn') this.noteLearned(id, rec.position);
    }
    for (const p of before) this.noteLearned(id, p);
    if (this.c0 !== undefined) {
      if (store.lostPositions().length === 0) this.learnedEver.set(id, Math.max(this.learnedEver.get(id) ?? -1, store.learnedThrough()));
      this.checkChosen(id);
    }
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
      // Chained worlds: a commit is checked against section 8's "chosen" instead (checkCounted).
      if (s.msg.type !== 'commit' || this.c0 !== undefined) continue;
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
    for (const c of out.changes ?? []) this.trace(`${w.spec.name} change ${c.id}: ${c.result.ok ? `done, epoch ${c.result.config.epoch} at ${c.result.config.position}` : `${c.result.reason}`}`);
    if (this.c0 !== undefined) {
      this.checkCounted(w, out);
      this.checkChosen();
    }
    if (out.election !== undefined) this.trace(`${w.spec.name} election ${out.election.ok ? `won b${w.core.proposal}` : `failed ${out.election.error}`}`);
  }

  /**
   * A reader's messages go out; a finished read is checked: every value it
   * returned is the one chosen there, and it holds every append acknowledged
   * before it began in the range it answers for (the log's real-time guarantee).
   */
  private applyReader(r: WorldReaderState, out: ReaderOutput): void {
    for (const s of out.send) this.post(r.spec.name, `r${s.to}`, s.msg);
    if (this.c0 !== undefined) this.checkChosen();
    for (const d of out.done) {
      r.result = d.result;
      const res = d.result;
      if (!res.ok) {
        this.trace(`${r.spec.name} read failed: ${res.error}`);
        continue;
      }
      this.trace(`${r.spec.name} read [${r.spec.from}, ${res.through}]: ${res.entries.map((e) => `${valueKey(e.action)}@${e.position}`).join(' ') || '(nothing)'}`);
      const got = new Map(res.entries.map((e) => [e.position, valueKey(e.action)]));
      for (const [p, key] of got) {
        const chosen = this.c0 !== undefined ? chosenAt(this.truth, this.acceptLog, p) : this.chosen.has(p) ? [this.chosen.get(p)!.key] : [];
        if (!chosen.includes(key)) this.fail(`read: ${r.spec.name} returned ${key} at ${p}, which is not chosen there`);
      }
      for (const [p, key] of r.ackedBefore) {
        if (p < r.spec.from || p > r.spec.to || p < res.begin) continue;
        if (got.get(p) !== key) this.fail(`read-consistency: ${r.spec.name} read [${r.spec.from}, ${r.spec.to}] (through ${res.through}) without ${key}, acknowledged at ${p} before the read began`);
      }
    }
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
    if (set.size === this.quorum && this.options.chosenBy !== 'counted' && this.c0 === undefined) this.setChosen(p, key, `accepted under b${b} by r${[...set].sort().join(',r')}`);
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

  // ------------------------------------------------------------ chained worlds (section 8)

  /** Before a replica's records are stored: its acceptances (with the ballot's head and naming), learned entries, I7. */
  private noteChained(id: ReplicaId, meta: Metadata, records: readonly PersistRecord[]): void {
    const req = this.delivering?.type === 'write' ? this.delivering : undefined;
    const disk = { generation: meta.generation ?? 0, disk: meta.disk ?? 0 };
    const named = req !== undefined && req.named.some((n) => n.id === id && n.generation === disk.generation && n.disk === disk.disk);
    const chain = meta.configs ?? [];
    // I7: the link that removed this replica from its own chain, if any.
    const gone = chain.findIndex((c, i) => i > 0 && roleIn(c, id) === undefined && roleIn(chain[i - 1]!, id) !== undefined);
    for (const rec of records) {
      if (rec.type === 'accept') {
        const config = rec.action.kind === 'config' ? rec.action.config : undefined;
        const head = req === undefined ? undefined : (req.config ?? { epoch: 0, position: -1 });
        const a: Acceptance = { id, p: rec.position, b: rec.proposal, key: valueKey(rec.action), named, ...(config === undefined ? {} : { config }), ...(head === undefined ? {} : { head }) };
        const k = `${id}@${a.p}|${a.b}|${a.key}|${named}|${head?.epoch}|${head?.position}`;
        if (!this.acceptKeys.has(k)) {
          this.acceptKeys.add(k);
          this.acceptLog.push(a);
        }
        if (gone >= 0 && rec.position > chain[gone]!.position) {
          this.fail(`removed stays removed (I7): r${id} accepted ${valueKey(rec.action)}@${rec.position} under b${rec.proposal}, above the entry at ${chain[gone]!.position} that removed it from its own chain`);
        }
      }
      if (rec.type === 'learn' && rec.action.kind === 'config') this.learnedConfigs.set(rec.position, rec.action.config);
    }
  }

  /**
   * I5 and I6 at a writer's step: what it commits is chosen (section 8), and
   * when it first counts a config entry chosen, a quorum of the next
   * configuration's voters has learned every position below it.
   */
  private checkCounted(w: WorldWriterState, out: WriterOutput): void {
    this.truth = trueChain(this.c0!, this.acceptLog, this.learnedConfigs).chain;
    for (const s of out.send) {
      if (s.msg.type !== 'commit') continue;
      const c = s.msg;
      for (let p = c.from; p <= c.to; p++) {
        const mine = this.acceptLog.filter((a) => a.p === p && a.b === c.proposal);
        if (mine.length === 0) continue;
        const chosen = chosenAt(this.truth, this.acceptLog, p);
        for (const key of new Set(mine.map((a) => a.key))) {
          if (!chosen.includes(key)) this.fail(`counted only from voters (I5): ${w.spec.name} commits ${key}@${p} under b${c.proposal}, which is not chosen by a quorum of config(${p})'s voters under a ballot of that configuration`);
        }
        const entry = mine.find((a) => a.config !== undefined);
        if (entry === undefined || this.counted.has(p)) continue;
        this.counted.add(p);
        const next = entry.config!;
        const ready = next.voters.filter((m) => (this.learnedEver.get(m.id) ?? -1) >= p - 1);
        if (ready.length < configQuorum(next)) {
          this.fail(`joint (I6): ${w.spec.name} counts the entry of epoch ${next.epoch} at ${p} chosen while only r${ready.map((m) => m.id).join(',r') || '(none)'} of its voters learned through ${p - 1}`);
        }
      }
    }
  }

  /**
   * After every step: the true chain (I4), each replica's chain a prefix of it
   * (I3; `only`: that replica's), agreement under section 8's "chosen", and
   * every acknowledged value chosen where it was acknowledged.
   */
  private checkChosen(only?: ReplicaId): void {
    const truth = trueChain(this.c0!, this.acceptLog, this.learnedConfigs);
    this.truth = truth.chain;
    for (const p of truth.problems) this.fail(p);
    for (const id of only === undefined ? this.members : [only]) {
      const store = this.replicas.get(id)!.store;
      const bad = chainMismatch(store.metadata().configs ?? [], truth.chain);
      if (bad !== undefined) this.fail(`one chain (I3): r${id} ${bad}`);
      // I8 (R14): a VOTING replica's chain holds every link of the true chain at or below max(learnedThrough, begin - 1).
      if (store.metadata().status !== 'VOTING') continue;
      const top = Math.max(store.learnedThrough(), store.begin() - 1);
      const chain = store.metadata().configs ?? [];
      const missing = truth.chain.find((l) => l.position >= 0 && l.position <= top && !chain.some((c) => c.epoch === l.epoch && c.position === l.position));
      if (missing !== undefined) {
        this.fail(`complete chains (I8): r${id} begins at ${store.begin()}, learned through ${store.learnedThrough()}, but its chain lacks epoch ${missing.epoch} at ${missing.position}`);
      }
    }
    const positions = new Set<Position>([...this.acceptLog.map((a) => a.p), ...this.chosen.keys()]);
    for (const w of this.writers.values()) for (const p of w.acked.keys()) positions.add(p);
    for (const p of positions) {
      const keys = new Set(chosenAt(truth.chain, this.acceptLog, p));
      const learned = this.chosen.get(p);
      if (learned !== undefined) keys.add(learned.key);
      if (keys.size > 1) this.fail(`agreement: two values chosen at ${p}: ${[...keys].sort().join(' and ')} (config(${p}) is epoch ${configAt(truth.chain, p)})`);
      for (const w of this.writers.values()) {
        const a = w.acked.get(p);
        if (a !== undefined && !chosenAt(truth.chain, this.acceptLog, p).includes(a)) {
          this.fail(`durability: ${w.spec.name} acknowledged ${a} at ${p} but it is not chosen there (config(${p}) is epoch ${configAt(truth.chain, p)}: no quorum of its voters accepted it under one of its ballots)`);
        }
      }
    }
  }

  private fail(message: string): void {
    if (!this.violations.includes(message)) this.violations.push(message);
    this.trace(`VIOLATION ${message}`);
  }
}

function replicaNumber(addr: string): ReplicaId | undefined {
  return /^r\d+$/.test(addr) ? Number(addr.slice(1)) : undefined;
}

/** The bootstrap configuration of a chained world: these voters and learners, at -1. */
function bootstrapChain(voters: readonly ReplicaId[], learners: readonly ReplicaId[]): PlacedConfiguration {
  const member = (id: ReplicaId) => ({ id, address: `h${id}:1` });
  const sorted = (ids: readonly ReplicaId[]) => [...ids].sort((a, b) => a - b).map(member);
  return { epoch: 0, voters: sorted(voters), learners: sorted(learners), nextId: Math.max(...voters, ...learners) + 1, position: -1, floor: 0 };
}

function configAt(chain: readonly PlacedConfiguration[], q: Position): number {
  for (let i = chain.length - 1; i >= 0; i--) if (chain[i]!.position < q) return chain[i]!.epoch;
  return chain[0]!.epoch;
}
