/**
 * ReplicaNodeCore: everything a replica process decides, behind one entry
 * point. It combines the acceptor/learner (replica.ts), the recovery protocol
 * (recovery.ts: the two-phase start, rejoining after a lost disk, the restart
 * check), the catch-up (catchup.ts: rejoins, repairs of corrupted records,
 * holes left by lost messages) and the state gossip between replicas. Pure
 * logic: events in (a message, a tick), effects out (records to persist, a
 * reply and announcements to release once they are durable, requests to
 * peers). The production shell (src/server/replica-host.ts) and the
 * simulator's replica both drive this same class.
 *
 * Its members are those of its view (config-view.ts, storedView): the chain
 * stored in its metadata, or, when none is stored, the members it was started
 * with, all voters, at epoch 0. Gossip goes to and is taken from the members
 * of its latest configuration; recovery and catch-up count its voters.
 */
import { assert } from './assert.js';
import { CatchUp, type CatchUpOutput } from './catchup.js';
import { chainForBegin, chainOf } from './acceptor-chain.js';
import { latestOf, linksAbove, storedHead, storedView, type ConfigView } from './config-view.js';
import { removedBy } from './discovery.js';
import { BOOTSTRAP_HEAD, configQuorum, roleOf, type PlacedConfiguration } from './membership.js';
import { limits, timing } from './constants.js';
import { isRetired, mergeRecorded, ownDisk, sameDisk } from './identity.js';
import { keepRecent } from './recent-map.js';
import { RecoveryCore, type RecoveryEvent, type RecoveryOutput } from './recovery.js';
import { replicaStep, withMetadata, type AcceptorMessage, type ReplicaStep } from './replica.js';
import { ALL_RULES_ON, type SafetyRules } from './rules.js';
import type { StoreView } from './store.js';
import type { Message, Metadata, Named, PeerStateMessage, PersistRecord, Position, RecoverReply, RecoverRequest, RejoinRequest, ReplicaId, ReplicaReply, Status, Witness } from './types.js';

export type NodeEvent =
  /** A message; `from` is set when it comes from a peer replica (its hello named it). */
  | { readonly type: 'message'; readonly msg: Message; readonly from?: ReplicaId }
  | { readonly type: 'tick' };

export interface NodeOutput {
  /** To append to the store, in order. */
  readonly records: PersistRecord[];
  /** To send back to the message's sender once every record appended so far is durable. */
  reply?: ReplicaReply;
  /** To send to peers once every record appended so far is durable (they reveal this replica's state). */
  readonly announce: { readonly to: ReplicaId; readonly msg: Message }[];
  /** Requests to peers (recovery, rejoin, catch-up reads and fills), to send now. */
  readonly send: { readonly to: ReplicaId; readonly msg: Message }[];
  /** True when no reply waits for `records` (learned values): they may ride on a later sync. */
  lazy: boolean;
  /** Set when the replica's status changed in this step. */
  status?: Status;
  /** Things an operator wants to read in the log, in order. */
  readonly notes: string[];
}

export interface ReplicaNodeConfig {
  readonly id: ReplicaId;
  /** The members it was started with (--members): its configuration until its store holds a chain (R11's read side). */
  readonly members: readonly ReplicaId[];
  readonly store: StoreView;
  /** Uniform in [0, 1): backoff and retry jitter, disk numbers. */
  readonly random: () => number;
  readonly rules?: SafetyRules;
  /** Pause between recovery rounds (default 500 ms, jittered up to twice that). */
  readonly recoveryRoundMs?: number;
  /** The time of the first step (a restart check waits timing.restartCheckMs from it). */
  readonly now?: number;
  /**
   * Check with the peers before voting when the store says VOTING (default
   * true: a process that restarts may be running on a disk restored from an
   * older copy). Off only for a cluster that a test builds VOTING in memory.
   */
  readonly restartCheck?: boolean;
  /**
   * Its bootstrap configuration with addresses (epoch 0, at -1), the base of
   * the chain it builds when its store holds none (R14). Absent: its chain
   * starts at the first configuration it learns.
   */
  readonly bootstrap?: PlacedConfiguration;
  /**
   * False: never start a new cluster (R11: a replica started without
   * --bootstrap, or with --join, only joins one that holds data). Default
   * true, the behaviour before reconfiguration.
   */
  readonly mayStart?: boolean;
}

/** What this replica last heard of a peer (its state gossip). */
interface PeerView {
  readonly state: PeerStateMessage;
  readonly at: number;
}

/** How often the witnessed table is written down (it changes with every gossip; a little staleness is fine). */
const WITNESS_PERSIST_MS = 5_000;
/** Strangers (R13) kept at most: a newer configuration has a few members (the least recently heard goes first). */
const STRANGERS_MAX = 16;

/** A stranger not heard from for this long is forgotten (it gossips every timing.peerStateMs). */
const STRANGER_HEARD_MS = 10 * timing.peerStateMs;

export class ReplicaNodeCore {
  private recovery: RecoveryCore | undefined;
  private catchUp: CatchUp | undefined;
  /** What the running catch-up is for. */
  private catchUpFor: 'rejoin' | 'repair' | undefined;
  /** A rejoin's catch-up finished in a step that changed the chain: the recovery hears of it at the next tick. */
  private caughtUpDue = false;
  private nextRid = 1;
  private now: number;
  /** When a repair (corrupted records, holes) was last started: at most one every timing.repairEveryMs. */
  private repairedAt = -Infinity;
  /** The learned prefix, and since when it has not moved (a hole older than holeRepairAfterMs is repaired). */
  private learnedSeen: { through: Position; since: number };
  private readonly peers = new Map<ReplicaId, PeerView>();
  /**
   * Replicas outside this one's configuration that gossiped a newer head (R13): members of a configuration
   * this replica has not learned (it was away while the members moved on). Its recovery asks them where the
   * cluster went, and its hole repair copies learned values from them (the config entries among them
   * included), until it learns their configuration. At most timing's few gossip periods old.
   */
  private readonly strangers = new Map<ReplicaId, PeerView>();
  /** The highest promise a peer reported in its latest gossip (ReplicaContext.peersPromised), kept with `peers`. */
  private peersPromised = 0;
  /** When the holder of the implicit promise last wrote or committed here. */
  private writerSeenAt = -Infinity;
  /** The members the holder of the implicit promise counted in its latest write accepted here, and when. */
  private writerCounted: { proposal: number; members: ReplicaId[]; at: number } | undefined;
  private gossipAt = -Infinity;
  /** Witnessed progress not yet written down, and when it last was. */
  private witnessed: Record<number, Witness>;
  private witnessDirty = false;
  private witnessSavedAt: number;
  /**
   * The log end this disk held when the process started: the restart check compares what the peers
   * witnessed with it, so while the check runs the gossip reports no more (see gossip()).
   */
  private readonly startEnd: Position;
  private readonly rules: SafetyRules;
  /** Why the replica is not VOTING (or not voting yet), for status pages; '' when it votes. */
  waiting = '';

  /** config(q) from the stored chain (or `members`), read afresh at each use. */
  readonly view: ConfigView;

  constructor(private readonly config: ReplicaNodeConfig) {
    this.view = storedView(() => config.store.metadata(), config.members);
    this.rules = config.rules ?? ALL_RULES_ON;
    this.now = config.now ?? 0;
    this.witnessSavedAt = this.now;
    const meta = config.store.metadata();
    this.witnessed = { ...meta.witnessed };
    this.learnedSeen = { through: config.store.learnedThrough(), since: this.now };
    this.startEnd = config.store.end();
    this.recovery = new RecoveryCore(
      {
        self: config.id,
        view: this.view,
        metadata: meta,
        end: this.startEnd,
        highestProposal: config.store.highestProposal(),
        begin: config.store.begin(),
        learnedThrough: () => config.store.learnedThrough(),
        restartCheck: config.restartCheck ?? true,
        ...(config.mayStart === undefined ? {} : { mayStart: config.mayStart }),
        random: config.random,
        rid: () => this.nextRid++,
        roundMs: config.recoveryRoundMs,
        rules: this.rules,
      },
      this.now,
    );
    if (this.recovery.done) this.recovery = undefined;
    else if (this.recovery.removed) this.waiting = 'removed from the cluster (its stored chain says so): no longer voting';
    else this.waiting = meta.status === 'VOTING' ? 'checking with the peers that this disk did not go back in time' : 'starting the recovery protocol';
  }

  /** The voters and learners of the latest configuration, ascending: whom this replica gossips with. */
  private memberIds(): ReplicaId[] {
    const c = latestOf(this.view);
    return [...c.voters, ...c.learners].map((m) => m.id).sort((a, b) => a - b);
  }

  get status(): Status {
    return this.config.store.metadata().status;
  }

  /** True while the replica must not vote although its status may say VOTING (the restart check). */
  get holdsVotes(): boolean {
    return this.recovery?.checking ?? false;
  }

  /** Progress of a rejoining replica's catch-up: positions and entry bytes learned of the range. */
  progress(): { done: number; total: number; bytes: number } | null {
    const c = this.catchUp;
    return c === undefined || this.catchUpFor !== 'rejoin' ? null : { done: c.positionsDone, total: c.total, bytes: c.bytesDone };
  }

  /** What this replica last heard from each peer (for status pages). */
  peerStates(): ReadonlyMap<ReplicaId, { state: PeerStateMessage; at: number }> {
    return this.peers;
  }

  /**
   * The writer as this replica sees it (status pages): its proposal, the
   * members whose acceptances it counted in its latest write accepted here,
   * which of them this replica heard from lately (itself, and peers whose
   * state gossip arrived within 3 gossip periods), and how many more of those
   * may be lost before the writer stalls (`survives`; 0 when it is at its
   * last quorum or below). Null if no writer holding this replica's promise
   * wrote here.
   */
  writerView(): { proposal: number; counted: ReplicaId[]; reachable: ReplicaId[]; quorum: number; survives: number; lastWriteAgoMs: number; active: boolean } | null {
    const w = this.writerCounted;
    if (w === undefined || w.proposal !== this.config.store.metadata().promised) return null;
    const quorum = configQuorum(latestOf(this.view));
    const heard = (id: ReplicaId) => id === this.config.id || this.now - (this.peers.get(id)?.at ?? -Infinity) <= 3 * timing.peerStateMs;
    const reachable = w.members.filter(heard);
    return {
      proposal: w.proposal,
      counted: w.members,
      reachable,
      quorum,
      survives: Math.max(0, reachable.length - quorum),
      lastWriteAgoMs: this.now - w.at,
      active: this.now - this.writerSeenAt < timing.writerActiveMs,
    };
  }

  step(event: NodeEvent, now: number): NodeOutput {
    this.now = Math.max(this.now, now);
    const out: NodeOutput = { records: [], announce: [], send: [], lazy: false, notes: [] };
    if (event.type === 'tick') {
      if (this.caughtUpDue) {
        this.caughtUpDue = false;
        if (this.recovery !== undefined) this.drive({ type: 'caughtUp' }, out);
      }
      this.drive({ type: 'tick' }, out);
      this.gossip(out);
      this.saveWitnessed(out);
      this.repair(out);
      if (this.catchUp !== undefined) this.applyCatchUp(this.catchUp.tick(this.now), out);
      return out;
    }
    const { msg, from } = event;
    switch (msg.type) {
      case 'recoverReply':
      case 'rejoinReply':
        if (from !== undefined) this.drive({ type: 'reply', from, msg }, out);
        return out;
      case 'readReply':
      case 'promiseReply':
      case 'writeReply':
        // Answers to this replica's own catch-up reads and fills.
        if (from !== undefined && this.catchUp !== undefined) this.applyCatchUp(this.catchUp.onReply(from, msg, this.now), out);
        return out;
      case 'config':
      case 'configReply':
        // Membership questions are the shell's (it knows the addresses).
        return out;
      case 'peerState':
        if (from === undefined || from === this.config.id) return out;
        if (this.memberIds().includes(from)) this.onPeerState(from, msg, out);
        // Not a member of this replica's configuration: a member of a newer one (R13), which the recovery asks.
        else if (this.rules.gossipSeeds && msg.config !== undefined && msg.config.epoch > latestOf(this.view).epoch) {
          keepRecent(this.strangers, from, { state: msg, at: this.now }, STRANGERS_MAX);
          this.drive({ type: 'newerHead', from, epoch: msg.config.epoch }, out);
        }
        return out;
      default:
        return this.acceptorStep(msg, from, out);
    }
  }

  /** True once this replica knows that the cluster removed it (R7): it never votes again. */
  get removed(): boolean {
    return this.recovery?.removed ?? false;
  }

  /**
   * The configuration that removed `member`, if this replica's chain says it
   * was removed (R7): peers answer such a member's recover and rejoin with it.
   */
  private removedMember(member: ReplicaId): PlacedConfiguration | undefined {
    if (!this.rules.removedStaysOut) return undefined;
    const chain = chainOf(this.config.store.metadata(), this.config.bootstrap);
    if (chain === undefined || roleOf(chain, member) !== 'removed') return undefined;
    return removedBy(member, chain, chain[chain.length - 1]!);
  }

  /**
   * A recover reply as discovery needs it (R13): the learned prefix, the
   * links of this replica's chain above the asker's head (the whole chain
   * for an asker that stores none, once it has moved past epoch 0), the
   * configuration that removed the asker if it was (R7), and the cluster id.
   */
  private forDiscovery(req: RecoverRequest, reply: RecoverReply): RecoverReply {
    const meta = this.config.store.metadata();
    const chain = chainOf(meta, this.config.bootstrap);
    const head = chain?.[chain.length - 1];
    const links = chain === undefined || head === undefined ? [] : req.config === undefined ? (head.epoch > 0 ? [...chain] : []) : linksAbove(chain, req.config.epoch);
    const removed = req.member === undefined ? undefined : this.removedMember(req.member);
    return {
      ...reply,
      learnedThrough: this.config.store.learnedThrough(),
      ...(links.length === 0 ? {} : { links }),
      ...(removed === undefined ? {} : { removed }),
      ...(meta.clusterId === undefined ? {} : { clusterId: meta.clusterId }),
    };
  }

  /** A removed member asking to record a new disk: nothing is recorded, and the answer says why (R7). */
  private refuseRemovedRejoin(msg: RejoinRequest, from: ReplicaId | undefined, out: NodeOutput): boolean {
    if (from !== msg.member) return false;
    const removed = this.removedMember(msg.member);
    if (removed === undefined) return false;
    const meta = this.config.store.metadata();
    const recorded = meta.recorded?.[msg.member] ?? { generation: 0, disk: 0 };
    out.reply = {
      type: 'rejoinReply', rid: msg.rid, outcome: 'ignored', status: meta.status, begin: this.config.store.begin(), end: this.config.store.end(),
      generation: recorded.generation, disk: recorded.disk, removed,
    };
    return true;
  }

  private acceptorStep(msg: AcceptorMessage, from: ReplicaId | undefined, out: NodeOutput): NodeOutput {
    if (msg.type === 'rejoin' && this.refuseRemovedRejoin(msg, from, out)) return out;
    const meta = this.config.store.metadata();
    if ((msg.type === 'write' || msg.type === 'commit') && msg.proposal === meta.promised && meta.promised > 0) this.writerSeenAt = this.now;
    const rules = this.holdsVotes ? { ...this.rules, nonVotingIgnores: true } : this.rules;
    const store = this.holdsVotes ? new HeldStore(this.config.store) : this.config.store;
    const step = replicaStep(store, msg, rules, {
      self: this.config.id,
      from,
      writerActive: this.now - this.writerSeenAt < timing.writerActiveMs,
      ...(this.config.bootstrap === undefined ? {} : { bootstrap: this.config.bootstrap }),
      // Recover replies carry the freshest witness of the asking disk (the persisted copy lags).
      witnessed: this.witnessed,
      peersPromised: this.peersPromised,
    });
    // A replica checking its disk after a restart votes on nothing until its peers answered (R9d), whatever
    // the rule switches say: no promise, no acceptance, no accepting answer.
    if (this.holdsVotes) assert(!votes(step, meta), `a replica in its restart check voted on a ${msg.type}`);
    // The held store shows RECOVERING only so that the acceptor votes on nothing: a metadata record the step
    // writes (a chain link installed while the restart check runs) keeps the status the disk really has.
    for (const r of step.records) out.records.push(store !== this.config.store && r.type === 'metadata' ? { ...r, metadata: { ...r.metadata, status: meta.status } } : r);
    // A writer's election (an implicit promise granted) is a writer at work too: it is about to settle
    // every unlearned position, so a reader's or a catch-up's fill would only duel with it.
    if (msg.type === 'promise' && msg.from === undefined && step.reply?.type === 'promiseReply' && step.reply.outcome === 'accept') this.writerSeenAt = this.now;
    if (msg.type === 'write' && step.reply?.type === 'writeReply' && step.reply.outcome === 'accept') {
      this.witnessPromises(msg.named, msg.proposal);
      if (msg.proposal === meta.promised) this.writerCounted = { proposal: msg.proposal, members: msg.named.map((n) => n.id).sort((a, b) => a - b), at: this.now };
    }
    const progress = this.progress();
    if (step.reply?.type === 'recoverReply' && msg.type === 'recover') {
      const reply = this.forDiscovery(msg, step.reply);
      out.reply = progress === null ? reply : { ...reply, progress: { done: progress.done, total: progress.total } };
    } else if (step.reply !== undefined) out.reply = step.reply;
    else out.lazy = step.records.length > 0;
    return out;
  }

  /**
   * The metadata as it will be once this step's records are appended: the
   * store shows them only after the shell appended them, and a metadata record
   * built from the store's copy would undo one pushed earlier in the same step
   * (a status persisted by the recovery on a tick, then the witnessed table
   * written from the old status, left a replica STARTING for good).
   */
  private metadataAfter(out: NodeOutput): Metadata {
    for (let i = out.records.length - 1; i >= 0; i--) {
      const r = out.records[i]!;
      if (r.type === 'metadata') return r.metadata;
    }
    return this.config.store.metadata();
  }

  // ------------------------------------------------------------------ gossip

  /** Tells every peer this replica's state; released only once it is durable (NodeOutput.announce). */
  private gossip(out: NodeOutput): void {
    // Every member but itself is told, a removed replica's last configuration's members too (they take a
    // non-member's state only with a newer head); a replica alone tells nobody.
    const members = this.memberIds();
    if (this.now - this.gossipAt < timing.peerStateMs) return;
    this.gossipAt = this.now;
    const s = this.config.store;
    const meta = s.metadata();
    const latest = latestOf(this.view);
    const address = [...latest.voters, ...latest.learners].find((m) => m.id === this.config.id)?.address;
    const checking = this.recovery?.inCheck ?? false;
    const msg: PeerStateMessage = {
      type: 'peerState',
      incarnation: meta.incarnation,
      ...ownDisk(meta),
      status: this.holdsVotes ? 'RECOVERING' : meta.status,
      promised: meta.promised,
      begin: s.begin(),
      // While the check runs (a restart's, or a STARTING disk's before it joins), the peers must not witness
      // more than the end it compares with: an entry stored meanwhile (a learned value, an install's config
      // entry) would come back in their answers as "saw this disk reach end E" and unmask this very disk as
      // a restored copy (seed 7275: a needless rejoin, and with two members of five forced to rejoin by
      // damaged tails, three rejoining replicas waited for a quorum of VOTING ones for good).
      end: checking ? Math.min(s.end(), this.startEnd) : s.end(),
      learnedThrough: checking ? Math.min(s.learnedThrough(), this.startEnd) : s.learnedThrough(),
      config: storedHead(meta),
      ...(address === undefined ? {} : { address }),
    };
    for (const to of members) {
      if (to === this.config.id) continue;
      // Each peer is told which of its disks this replica recorded (a tie of generations shows there).
      const yours = meta.recorded?.[to];
      out.announce.push({ to, msg: yours === undefined ? msg : { ...msg, yours: { generation: yours.generation, disk: yours.disk } } });
    }
  }

  private onPeerState(from: ReplicaId, state: PeerStateMessage, out: NodeOutput): void {
    this.peers.set(from, { state, at: this.now });
    this.peersPromised = 0;
    for (const [, v] of this.peers) this.peersPromised = Math.max(this.peersPromised, v.state.promised);
    if (state.yours !== undefined) this.checkRecordedForMe(from, state.yours, out);
    const meta = this.metadataAfter(out);
    // A member telling its own disk: anything older is retired (recorded lazily; a rejoin records it durably).
    const recorded = mergeRecorded(meta.recorded, [{ id: from, generation: state.generation, disk: state.disk }], this.config.id);
    if (recorded !== undefined) {
      out.records.push({ type: 'metadata', metadata: { ...meta, recorded } });
      out.lazy = true;
    }
    // What this disk durably reached (its gossip leaves only once durable).
    const prev = this.witnessed[from];
    const same = prev !== undefined && sameDisk(prev, state);
    if (same && prev.promised >= state.promised && prev.end >= state.end) return;
    if (!same && prev !== undefined && prev.generation > state.generation) return;
    this.witnessed[from] = {
      generation: state.generation,
      disk: state.disk,
      promised: Math.max(state.promised, same ? prev.promised : 0),
      end: Math.max(state.end, same ? prev.end : -1),
    };
    this.witnessDirty = true;
  }

  /**
   * A peer recorded a disk of this member that is not this one: a newer one
   * (this disk went back in time: a restored copy that passed its restart
   * check), or one of the same generation (a generation drawn twice: a rejoin
   * that a peer missed took one that an earlier, unfinished rejoin had
   * recorded there). That peer refuses every write naming this disk as stale,
   * and never replaces its record by another of the same generation (which
   * one is the newer is not known, and the wrong one would let a write count
   * a lost disk). So this replica stops voting and rejoins: a generation
   * above every one recorded, the usual catch-up, then VOTING again.
   */
  private checkRecordedForMe(from: ReplicaId, yours: { generation: number; disk: number }, out: NodeOutput): void {
    const meta = this.metadataAfter(out);
    const own = ownDisk(meta);
    if (this.recovery !== undefined || meta.status !== 'VOTING' || !isRetired(yours, own) || sameDisk(yours, own)) return;
    out.notes.push(
      `r${from} recorded another disk of this member (generation ${yours.generation}, disk ${yours.disk}) than this one ` +
        `(generation ${own.generation}, disk ${own.disk}): it will not vote, and rejoins with a generation above it`,
    );
    const metadata: Metadata = { ...meta, status: 'RECOVERING', witnessed: { ...this.witnessed } };
    out.records.push({ type: 'metadata', metadata });
    out.status = 'RECOVERING';
    this.recovery = new RecoveryCore(
      {
        self: this.config.id,
        view: this.view,
        metadata,
        end: this.config.store.end(),
        highestProposal: this.config.store.highestProposal(),
        begin: this.config.store.begin(),
        learnedThrough: () => this.config.store.learnedThrough(),
        random: this.config.random,
        rid: () => this.nextRid++,
        roundMs: this.config.recoveryRoundMs,
        rules: this.rules,
      },
      this.now,
    );
    this.waiting = 'rejoining with a new generation';
    this.drive({ type: 'tick' }, out);
  }

  /**
   * An accepted write names the disks that promised its proposal: each of
   * them durably promised at least that much (a disk that comes back below
   * it was restored from an older copy). Only accepted writes count: their
   * proposer holds a promise here.
   */
  private witnessPromises(named: readonly Named[], proposal: number): void {
    for (const n of named) {
      if (n.id === this.config.id) continue;
      const prev = this.witnessed[n.id];
      if (prev !== undefined && sameDisk(prev, n)) {
        if (prev.promised >= proposal) continue;
        this.witnessed[n.id] = { ...prev, promised: proposal };
      } else if (prev === undefined || n.generation > prev.generation) {
        this.witnessed[n.id] = { generation: n.generation, disk: n.disk, promised: proposal, end: -1 };
      } else continue;
      this.witnessDirty = true;
    }
  }

  private saveWitnessed(out: NodeOutput): void {
    if (!this.witnessDirty || this.now - this.witnessSavedAt < WITNESS_PERSIST_MS) return;
    this.witnessDirty = false;
    this.witnessSavedAt = this.now;
    const meta: Metadata = this.metadataAfter(out);
    out.records.push({ type: 'metadata', metadata: { ...meta, witnessed: { ...this.witnessed } } });
    out.lazy = out.reply === undefined;
  }

  // ------------------------------------------------------------------ recovery

  private drive(event: RecoveryEvent, out: NodeOutput): void {
    const core = this.recovery;
    if (core === undefined) return;
    const r: RecoveryOutput = core.step(event, this.now);
    for (const s of r.send) out.send.push(s);
    if (r.waiting !== undefined && r.waiting !== this.waiting) {
      this.waiting = r.waiting;
      out.notes.push(r.waiting);
    }
    if (r.removed !== undefined) out.notes.push(`removed from the cluster at epoch ${r.removed.epoch} (position ${r.removed.position}); no longer voting; stop this replica once \`replog config show\` reports the change complete`);
    if (r.checked === true) {
      this.recovery = undefined;
      this.waiting = '';
      return;
    }
    if (r.catchUp !== undefined) {
      out.notes.push(`catching up positions [${r.catchUp.from}, ${r.catchUp.to}] from the other replicas`);
      this.startCatchUp(r.catchUp.from, r.catchUp.to, out, 'rejoin');
    }
    if (r.become !== undefined) {
      const { status, patch } = r.become;
      const meta = this.metadataAfter(out);
      const metadata: Metadata = { ...meta, ...patch, status, witnessed: { ...this.witnessed } };
      out.records.push({ type: 'metadata', metadata });
      out.status = status;
      out.notes.push(`replica is now ${status} (generation ${metadata.generation ?? 0})`);
      if (status === 'VOTING') {
        this.recovery = undefined;
        this.waiting = '';
      } else {
        // The store shows the new status once the shell appended the record; the core goes on at once.
        this.drive({ type: 'status', metadata }, out);
      }
    }
  }

  // ------------------------------------------------------------------ repair

  /**
   * A VOTING replica copies learned values it lacks from its peers: positions
   * whose records storage found corrupted (it does not vote on them until
   * then, and never serves them), and holes left by lost messages (a write or
   * commit that never arrived) below what a peer has learned. Only learned
   * values are copied: positions nobody learned are settled by the next
   * writer's election or a reader's fill, never here (a fill would fence a
   * live writer).
   */
  private repair(out: NodeOutput): void {
    const store = this.config.store;
    const through = store.learnedThrough();
    if (through !== this.learnedSeen.through) this.learnedSeen = { through, since: this.now };
    if (this.recovery !== undefined || this.catchUp !== undefined || this.status !== 'VOTING') return;
    const strangers = this.newerStrangers();
    if (this.now - this.repairedAt < timing.repairEveryMs || (this.memberIds().length < 2 && strangers.length === 0)) return;
    const lost = store.lostPositions();
    if (lost.length > 0) {
      this.repairedAt = this.now;
      const from = lost[0]!;
      const to = Math.min(lost[lost.length - 1]!, from + 4 * limits.readSlotsMax);
      out.notes.push(`repairing ${lost.length} corrupted position(s) in [${from}, ${to}] from the other replicas`);
      this.startCatchUp(from, to, out, 'repair');
      return;
    }
    if (this.now - this.learnedSeen.since < timing.holeRepairAfterMs) return;
    let target = -1;
    // An old report is as good as a new one: a learned value stays chosen, and the catch-up asks every peer
    // (a truncation meanwhile is adopted from their beginnings).
    for (const [, v] of this.peers) {
      if (v.state.status === 'VOTING') target = Math.max(target, v.state.learnedThrough);
    }
    for (const id of strangers) {
      const v = this.strangers.get(id)!;
      if (v.state.status === 'VOTING') target = Math.max(target, v.state.learnedThrough);
    }
    if (target <= through) return;
    this.repairedAt = this.now;
    const from = Math.max(through + 1, store.begin());
    const to = Math.min(target, from + 64 * limits.readSlotsMax - 1);
    out.notes.push(`copying learned positions [${from}, ${to}] from the other replicas (a peer learned them; this replica did not)`);
    this.startCatchUp(from, to, out, 'repair');
  }

  /**
   * The strangers (R13) still ahead of this replica's configuration and heard from lately: a repair copies
   * from them too (learned values are chosen wherever they come from, and the config entries among them
   * bring this replica to their configuration).
   */
  private newerStrangers(): ReplicaId[] {
    if (this.strangers.size === 0) return [];
    const epoch = latestOf(this.view).epoch;
    for (const [id, v] of this.strangers) {
      if ((v.state.config?.epoch ?? 0) <= epoch || this.now - v.at > STRANGER_HEARD_MS || this.memberIds().includes(id)) this.strangers.delete(id);
    }
    return [...this.strangers.keys()];
  }

  private startCatchUp(from: number, to: number, out: NodeOutput, why: 'rejoin' | 'repair'): void {
    this.catchUpFor = why;
    const members = this.memberIds().filter((m) => m !== this.config.id);
    this.catchUp = new CatchUp(from, to, {
      fillGaps: why === 'rejoin',
      // A repair copies learned values only, from strangers too; a rejoin's fills are the configuration's business.
      peers: why === 'repair' ? [...members, ...this.newerStrangers().filter((id) => !members.includes(id))] : members,
      view: this.view,
      self: this.config.id,
      random: this.config.random,
      rid: () => this.nextRid++,
      // Silent peers are given up on only once a member of a newer configuration told this replica of it (R13).
      mayGiveUp: () => this.newerStrangers().length > 0,
    });
    this.applyCatchUp(this.catchUp.start(this.now), out);
  }

  private applyCatchUp(c: CatchUpOutput, out: NodeOutput): void {
    for (const s of c.send) out.send.push(s);
    const store = this.config.store;
    if (c.begin !== undefined && c.begin > store.begin()) {
      // A peer truncated below here (a chosen TRUNCATE this replica never learned): drop the same positions,
      // and take the peer's chain up to config(begin) in the same record (R14). Without it, the beginning
      // is not adopted: it would pass a configuration this replica never learned.
      const meta = this.metadataAfter(out);
      const mine = chainOf(meta, this.config.bootstrap);
      const adopted = chainForBegin(store, mine, c.begin, c.chain, c.beginHead ?? BOOTSTRAP_HEAD);
      if (adopted !== undefined || !this.rules.chainBeforeTruncate) {
        const configs = adopted !== undefined && adopted.chain !== mine ? adopted.chain : meta.configs;
        out.records.push({ type: 'metadata', metadata: { ...meta, begin: c.begin, ...(configs === undefined ? {} : { configs }) } });
        out.notes.push(`positions below ${c.begin} were truncated (a peer's beginning): dropped here too`);
        out.lazy = out.reply === undefined;
      } else {
        out.notes.push(`positions below ${c.begin} were truncated by a peer, but this replica does not hold config(${c.begin}): not adopted yet (R14)`);
      }
    }
    if (c.learned.length > 0) {
      // Chosen values: stored as learned. They are durable before VOTING is, by record order. Copies of
      // config entries name their floors from the peers' chain (R6; LearnedMessage.floors). The acceptor
      // sees the metadata the records above will write (the chain adopted with a beginning).
      const floors: { position: Position; floor: number }[] = [];
      for (const e of c.learned) {
        if (e.action.kind !== 'config') continue;
        const epoch = e.action.config.epoch;
        const link = c.chain?.find((l) => l.position === e.position && l.epoch === epoch);
        if (link !== undefined) floors.push({ position: e.position, floor: link.floor });
        // R9f: an entry this catch-up's own fill chose, which no peer's chain holds yet: the fill's ballot.
        const own = this.rules.rejoinLearnsPending ? c.floors?.find((f) => f.position === e.position) : undefined;
        if (link === undefined && own !== undefined) floors.push({ position: e.position, floor: own.floor });
      }
      const view = out.records.some((r) => r.type === 'metadata') ? withMetadata(store, this.metadataAfter(out)) : store;
      const step = replicaStep(view, { type: 'learned', entries: c.learned, ...(floors.length === 0 ? {} : { floors }) }, this.rules, {
        self: this.config.id,
        ...(this.config.bootstrap === undefined ? {} : { bootstrap: this.config.bootstrap }),
      });
      for (const r of step.records) out.records.push(r);
      out.lazy = out.reply === undefined;
    }
    if (c.done !== undefined) {
      const done = this.catchUp!;
      const why = this.catchUpFor;
      this.catchUp = undefined;
      this.catchUpFor = undefined;
      out.notes.push(`catch-up ${c.done === 'ok' ? 'finished' : 'failed (no quorum)'}: ${done.positionsDone} positions, ${done.bytesDone} bytes`);
      // A repair simply starts again at a later tick if anything is still missing.
      if (why === 'rejoin' && this.recovery !== undefined) {
        // The recovery reads the chain from the store, which shows this step's records (a config entry
        // just learned, R9c; one that removed this replica, R7) only once the shell appended them: when
        // they move its head, it hears of the catch-up at the next tick.
        const head = (m: Metadata | undefined): number => m?.configs?.at(-1)?.epoch ?? -1;
        const chainMoved = out.records.some((r) => r.type === 'metadata' && head(r.metadata) !== head(this.config.store.metadata()));
        if (c.done === 'ok' && chainMoved) this.caughtUpDue = true;
        else this.drive({ type: c.done === 'ok' ? 'caughtUp' : 'catchUpFailed' }, out);
      }
    }
  }
}

/** True if an acceptor's step votes: a promise or an acceptance recorded, or an accepting answer to a promise or a write. */
function votes(step: ReplicaStep, meta: Metadata): boolean {
  const reply = step.reply;
  if ((reply?.type === 'promiseReply' || reply?.type === 'writeReply') && reply.outcome === 'accept') return true;
  return step.records.some((r) => r.type === 'accept' || r.type === 'promise' || (r.type === 'metadata' && r.metadata.promised !== meta.promised));
}

/** The store as a replica that holds its votes sees it: not VOTING (it answers IGNORED to promises and writes). */
class HeldStore implements StoreView {
  constructor(private readonly inner: StoreView) {}
  metadata(): Metadata {
    return { ...this.inner.metadata(), status: 'RECOVERING' };
  }
  begin(): Position {
    return this.inner.begin();
  }
  end(): Position {
    return this.inner.end();
  }
  learnedThrough(): Position {
    return this.inner.learnedThrough();
  }
  highestProposal(): number {
    return this.inner.highestProposal();
  }
  slot(position: Position) {
    return this.inner.slot(position);
  }
  action(position: Position) {
    return this.inner.action(position);
  }
  positions(from: Position, to: Position): Iterable<Position> {
    return this.inner.positions(from, to);
  }
  readActions(positions: readonly Position[]) {
    return this.inner.readActions !== undefined ? this.inner.readActions(positions) : positions.map((p) => this.inner.action(p));
  }
  pendingTruncates() {
    return this.inner.pendingTruncates?.() ?? [];
  }
  pendingConfigs() {
    return this.inner.pendingConfigs?.() ?? [];
  }
  lostPositions(): readonly Position[] {
    return this.inner.lostPositions();
  }
}
