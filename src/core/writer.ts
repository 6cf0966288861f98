/**
 * The writer: the Multi-Paxos proposer (Mesos's coordinator), pure logic.
 *
 * Life of a writer (its role is one variant of WriterRole at a time):
 *   idle -> electing -> (backoff -> electing)* -> elected -> fenced | idle
 *
 * Election: an implicit promise for every position from a quorum, under a
 * proposal above every promise it heard of. Each promise reply reports the
 * replica's learned prefix and every accepted value above it, so the writer
 * knows every value that may have been chosen above L = max(learnedThrough).
 * It re-proposes, for each position in (L, E] (E = max end), the highest
 * accepted value, or a NOP for a hole, then a NOP at E + 1 that marks the
 * election in the log; `writer()` resolves once all of those are chosen.
 *
 * A promise reply may be cut at its byte bound: the writer reads the rest of
 * that member's slots before it counts the member towards the election.
 *
 * Counted members. The writer counts an acceptance only from a member whose
 * disk promised it (its *named* set, disk by disk). A member that promises
 * after the election (late, or asked again: a lost reply, a rejoined disk)
 * is named only once a quorum of named members answered a request the writer
 * sent after that promise reached it: their promises were then in force the
 * whole time since the election, so no lower proposal can have got a value
 * chosen with the newcomer's help meanwhile (docs/protocol.md). Asking again
 * is possible because implicit promises carry the writer's nonce: a replica
 * grants the same number to the same writer again.
 *
 * Appends then take E + 2, E + 3, ... They are batched (many positions per
 * write request), pipelined (many batches in flight) and resolved strictly in
 * position order. A reject with a higher proposal fences the writer: every
 * pending and later operation fails with a fenced outcome. An operation that
 * no quorum answers in time fails as no-quorum and sends the writer back to
 * idle: the next operation runs a new election, which settles the unknown
 * positions first.
 *
 * Configurations (docs/reconfiguration.md). A ballot is in one
 * configuration: the latest the writer's view knows when its election starts
 * (WriterConfig.view). The election and every write count that
 * configuration's voters only, and every request carries its head. A replica
 * that learned a newer configuration answers 'stale-config': the writer
 * stops using its ballot and fails what it has in flight exactly as when
 * fenced (R12: unknown outcomes, settled by the next writer), so that its
 * owner elects again in the newer configuration. 'unknown-config' (the
 * replica lacks this configuration) counts as no vote, and the replica is
 * sent the links of the chain it lacks (R6), so that it can answer again.
 *
 * Changes (R2 to R4; the `change` event). A change is applied to the
 * configuration the writer's ballot is in (membership.ts's applyChange, its
 * `ifEpoch` checked) and proposed alone at the writer's next position p,
 * once everything below p is chosen; operations queued before the change go
 * first, those queued after it wait. Barrier: nothing goes above p (settling
 * NOPs included) until p is chosen. p counts as chosen when a quorum of the
 * named voters accepted it AND a quorum of the next configuration's voters
 * accepted it holding every position below p (R3; the write goes to the
 * promoted learners too, which answer 'not-ready' until they hold it). The
 * writer then elects afresh in the new configuration, its promise request
 * installing the entry (R4), and goes on with the marker NOP and the queued
 * operations. From counting p chosen until that election succeeds, the change
 * is never dropped: a failed election is retried, and every election the
 * writer starts while it holds a change counted chosen is that change's
 * install election (asked by its owner or not). An election that finds a
 * config entry of the next epoch in its settle range settles up to it and
 * finishes that change first (R5). A change whose `ifEpoch` is above the
 * epoch the writer knows is refused as fenced: the writer is stale.
 *
 * The core does no I/O: events in (`step`), effects out (WriterOutput).
 */
import { actionBytes, NOP } from './actions.js';
import { assert, assertNever } from './assert.js';
import { limits, timing } from './constants.js';
import { rank } from './fill.js';
import { drawDiskNumber, isRetired, sameDisk } from './identity.js';
import { chainOfView, extendView, latestOf, linksAbove, oneLinkView, type ConfigView } from './config-view.js';
import {
  applyChange,
  compareHeads,
  configQuorum,
  headOf,
  heldBelow,
  voterIds,
  type ConfigHead,
  type Configuration,
  type MembershipChange,
  type PlacedConfiguration,
  type RefusalReason,
} from './membership.js';
import { QuorumTally } from './quorum.js';
import { ALL_RULES_ON, type SafetyRules } from './rules.js';
import type { Action, DiskId, Named, Position, PromiseReply, Proposal, ReadReply, ReplicaId, Slot, WriteReply, WriteRequest } from './types.js';
import type { CommitMessage, PromiseRequest, ReadRequest } from './types.js';

/** An operation handed to the writer by its user. */
export interface WriterOp {
  readonly id: number;
  readonly action: Action;
}

export type WriterEvent =
  /** Become the writer: run an election (resolved through `elected` / `electionFailed`). */
  | { readonly type: 'elect' }
  /** Append or truncate: queued, then batched on the next flush. */
  | { readonly type: 'submit'; readonly op: WriterOp }
  /** Form batches from the queued operations and send them. */
  | { readonly type: 'flush' }
  | { readonly type: 'reply'; readonly from: ReplicaId; readonly msg: PromiseReply | WriteReply | ReadReply }
  /** Time passed: retransmit, give up, end a backoff. */
  | { readonly type: 'tick' }
  /** Change the membership (R2 to R4): resolved through WriterOutput.changes. */
  | { readonly type: 'change'; readonly request: ChangeRequest }
  /**
   * The owner stopped waiting (an abandoned re-election): the writer gives up exactly as when no quorum
   * answers in time (pending operations fail, in flight ones as unknown) and goes idle; a change counted
   * chosen is kept, and its install runs at the next election. Later replies to what it gave up are ignored.
   */
  | { readonly type: 'abandon' };

/** A membership change asked of the writer. */
export interface ChangeRequest {
  /** The request's id: the new configuration's changeId. */
  readonly id: string;
  /** The epoch the asker read: the change applies to that configuration only (R2). */
  readonly ifEpoch: number;
  readonly change: MembershipChange;
}

export type ChangeOutcome =
  /** Complete: chosen and installed by the election in the new configuration (R4). */
  | { readonly ok: true; readonly config: PlacedConfiguration }
  /**
   * refused (a RefusalReason): nothing was written. fenced, no-quorum: the writer stopped before
   * proposing it, or (fenced) its configuration is older than the epoch the change names (a stale
   * writer: the asker refreshes); nothing was written. unknown: the entry left and may still be chosen
   * and finished by a later writer (section 8, case 2).
   */
  | { readonly ok: false; readonly reason: RefusalReason | 'fenced' | 'no-quorum' | 'unknown'; readonly message: string };

export type OpResult =
  | { readonly ok: true; readonly position: Position }
  | {
      readonly ok: false;
      readonly error: 'fenced' | 'no-quorum' | 'invalid' | 'insane';
      /** fenced: the higher proposal; */
      readonly proposal?: Proposal;
      /** invalid (a truncation past its own position): the position it would have taken. */
      readonly position?: Position;
      /** fenced by a newer configuration (a 'stale-config' answer), not by a higher proposal: its head (R12). */
      readonly config?: ConfigHead;
      /**
       * fenced, no-quorum: the position the operation took in a write that left, whose outcome is
       * unknown (a later election settles it). Absent: the operation never left, nothing was written.
       */
      readonly unknownAt?: Position;
    };

export interface Outbound {
  readonly to: ReplicaId;
  readonly msg: PromiseRequest | WriteRequest | CommitMessage | ReadRequest;
}

export interface WriterOutput {
  readonly send: Outbound[];
  /** Operations that finished, in position order. */
  readonly done: { readonly id: number; readonly result: OpResult }[];
  /** Set when an election finished: the position of the writer's election NOP, or why it failed. */
  election?: OpResult;
  /** Changes that finished. */
  changes?: { readonly id: string; readonly result: ChangeOutcome }[];
}

export interface WriterConfig {
  /** config(q) as the owner knows it (config-view.ts): the writer's ballots are in its latest configuration. */
  readonly view?: ConfigView;
  /** Shorthand for a one-link view: these members, all voters (scripted tests). Exactly one of `view` and `members`. */
  readonly members?: readonly ReplicaId[];
  /** A proposal the writer must exceed (e.g. the highest the client has seen). */
  readonly proposalFloor?: Proposal;
  /** Uniform random number in [0, 1), injected for backoff and the writer's nonce. */
  readonly random: () => number;
  readonly rules?: SafetyRules;
  /**
   * Allocates request ids. A client that runs a writer and a reader over the
   * same connections passes one allocator to both, so that a reply's rid
   * names exactly one request.
   */
  readonly rid?: () => number;
  /**
   * An election that has a quorum's promises waits this much longer for the
   * other members' (see maybeElected). Default 0 (scripted tests and the
   * exhaustive search); the client library and the simulator's random runs
   * use timing.electionGraceMs.
   */
  readonly electionGraceMs?: number;
}

/** Writes in flight: contiguous positions [from, from + actions.length) under one proposal. */
interface Batch {
  readonly from: Position;
  readonly actions: Action[];
  /** The user operation of each position, or -1 for the writer's own (settle, election NOP). */
  readonly opIds: number[];
  tally: QuorumTally;
  rid: number;
  /** When `rid` was first sent: an acceptance proves the member's disk was intact after it. */
  /** The writer's `order` when this rid was sent (confirms named members, see the header). */
  ridSentAt: number;
  /** The members (and disks) whose acceptances count for this batch. */
  named: readonly Named[];
  /** Entry bytes the batch carries (the window is bounded in bytes too). */
  readonly bytes: number;
  /** How often it was sent again: each retransmission waits twice as long as the one before. */
  retransmits: number;
  sentAt: number;
  readonly startedAt: number;
  chosen: boolean;
  /** R3: the batch holds only a config entry making `next`; `ready` are its voters that accepted holding every position below. */
  joint?: { readonly next: Configuration; readonly ready: Set<ReplicaId> };
}

/** A change the writer holds (at most one is proposed at a time). */
interface PendingChange {
  /** The request; absent for an entry an election found (another writer's change, finished by this one: R5). */
  readonly request?: ChangeRequest;
  /**
   * queued: not proposed yet; proposed: its entry is in flight; chosen: counted chosen (R3), the
   * install election not run yet; installing: that election is running (R4).
   */
  stage: 'queued' | 'proposed' | 'chosen' | 'installing';
  next?: Configuration;
  placed?: PlacedConfiguration;
  /**
   * installing: the one proposal of its install election, the entry's floor + 1, used by every attempt
   * (a replica that granted it to this writer grants it again, by the nonce). Never raised: the install
   * election is this writer's own, not a new leadership, and a rival's promise above the floor fences it.
   */
  installProposal?: Proposal;
}

/** One member's answer to the election, with the rest of its slots read if its promise reply was cut. */
interface ElectionReply {
  readonly reply: PromiseReply;
  readonly slots: Slot[];
  /** The last position its slots cover; complete once >= reply.end. */
  covered: Position;
  /** The read asking for the rest, if one is out. */
  readRid?: number;
  readAt: number;
}

type WriterRole =
  | { readonly kind: 'idle' }
  | {
      readonly kind: 'electing';
      readonly proposal: Proposal;
      readonly rid: number;
      readonly tally: QuorumTally;
      readonly replies: Map<ReplicaId, ElectionReply>;
      sentAt: number;
      readonly startedAt: number;
      /** When a quorum's reports were first complete (the election then waits out its grace for the rest). */
      quorumAt?: number;
    }
  | { readonly kind: 'backoff'; readonly until: number; readonly startedAt: number }
  | {
      readonly kind: 'elected';
      readonly proposal: Proposal;
      /** L: the highest learned prefix among the election quorum; the writer settled everything above it. */
      readonly electionLearnedThrough: Position;
      /**
       * Members whose disk promised this proposal: only their acceptances
       * count. Invariant: a quorum, or the writer gives up.
       */
      readonly named: Map<ReplicaId, DiskId>;
      /** Members that promised after the election, waiting to be named (see the header). */
      readonly candidates: Map<ReplicaId, { readonly disk: DiskId; readonly since: number }>; // since: `order` when its promise arrived
      /** For each named member: the `order` of the latest request it accepted with its named disk. */
      readonly confirmedAt: Map<ReplicaId, number>;
      /** Promise rounds sent after the election (asking members again, confirming): rid -> `order` at send. */
      readonly rounds: Map<number, number>;
      /** When members missing from `named` were last asked to promise. */
      repromisedAt: number;
      /** When named members were last asked to confirm (to name the candidates). */
      confirmSentAt: number;
      /** The `order` of that round. */
      confirmSentOrder: number;
      /** The next position to assign. */
      next: Position;
      /** Batches in flight, ascending by position. */
      readonly inflight: Batch[];
      /** Position of the election NOP; the election resolves once it is chosen. */
      readonly electionPosition: Position;
      /** Positions [first, through] chosen in this term (first = -1 until one is). */
      committed: { first: Position; through: Position };
      /** When the commit of the term was last sent again (commits are one-way and may be lost). */
      recommittedAt: number;
      electionReported: boolean;
    }
  | { readonly kind: 'fenced'; readonly by: Proposal; readonly config?: ConfigHead };

/** Promise rounds remembered after the election (older replies are still fine to ignore). */
const ROUNDS_KEPT = 8;

export class WriterCore {
  private role: WriterRole = { kind: 'idle' };
  /** The highest proposal seen anywhere: a new election must go above it. */
  private highestSeen: Proposal;
  private readonly queue: WriterOp[] = [];
  private now = 0;
  /**
   * A count of the writer's sends and late promises, in the order it made or met them. Confirming a
   * candidate needs a request sent strictly after its promise arrived; clock readings cannot tell
   * two events of one millisecond apart, this can.
   */
  private order = 0;
  private electionWanted = false;
  private readonly rules: SafetyRules;
  private readonly newRid: () => number;
  /** Sent with implicit promises: replicas grant this writer's number to it again, and to no one else. */
  readonly nonce: number;

  private readonly view: ConfigView;
  /** Configurations this writer counted chosen and installs (R4), above what its owner's view knows. */
  private readonly ownLinks: PlacedConfiguration[] = [];
  /** The configuration the writer's ballots are in (fixed at each election's start). */
  private cfg: PlacedConfiguration;
  /** Changes asked of it, oldest first: the first is the one in progress. */
  private readonly changes: PendingChange[] = [];
  /** How many queued operations go before the first change (they were queued before it). */
  private beforeChange = 0;

  constructor(private readonly config: WriterConfig) {
    assert((config.view === undefined) !== (config.members === undefined), 'a writer takes a view or a member list');
    this.view = config.view ?? oneLinkView(config.members!);
    this.cfg = latestOf(this.view);
    this.highestSeen = config.proposalFloor ?? 0;
    this.rules = config.rules ?? ALL_RULES_ON;
    let next = 1;
    this.newRid = config.rid ?? (() => next++);
    this.nonce = drawDiskNumber(config.random);
  }

  /** The owner's view with the configurations this writer installed. */
  private get fullView(): ConfigView {
    return extendView(this.view, this.ownLinks);
  }

  /** The configuration new ballots are in (its head), and whether a change is in progress. */
  get latestConfig(): PlacedConfiguration {
    return latestOf(this.fullView);
  }
  get changing(): boolean {
    return this.changes.length > 0;
  }

  /** The voters of the writer's configuration: the members it asks and counts. */
  private get members(): readonly ReplicaId[] {
    return voterIds(this.cfg);
  }
  /** Acceptances (or promises) that decide in the writer's configuration. */
  private get quorum(): number {
    return configQuorum(this.cfg);
  }
  /** The head of the configuration the writer's ballots are in: every request carries it (R6). */
  get configHead(): ConfigHead {
    return headOf(this.cfg);
  }

  /** Members whose acceptances count, with their disks (for status pages and tests). */
  get namedMembers(): ReadonlyMap<ReplicaId, DiskId> {
    return this.role.kind === 'elected' ? this.role.named : new Map();
  }

  /** The proposal the writer holds, if elected. */
  get proposal(): Proposal | undefined {
    return this.role.kind === 'elected' ? this.role.proposal : undefined;
  }
  get roleKind(): WriterRole['kind'] {
    return this.role.kind;
  }
  get highestProposalSeen(): Proposal {
    return this.highestSeen;
  }
  /** Positions assigned and not yet resolved (the in-flight window). */
  get inflightPositions(): number {
    if (this.role.kind !== 'elected') return 0;
    return this.role.inflight.reduce((n, b) => n + b.actions.length, 0);
  }
  get queued(): number {
    return this.queue.length;
  }
  /** Entry bytes assigned a position and not yet resolved. */
  get inflightBytes(): number {
    if (this.role.kind !== 'elected') return 0;
    return this.role.inflight.reduce((n, b) => n + b.bytes, 0);
  }

  /** The single entry point: one event at time `now` (ms, injected clock). */
  step(event: WriterEvent, now: number): WriterOutput {
    assert(now >= this.now, 'time never goes back');
    this.now = now;
    const out: WriterOutput = { send: [], done: [] };
    switch (event.type) {
      case 'elect':
        this.electionWanted = true;
        if (this.role.kind === 'idle') this.startElection(out);
        else if (this.role.kind === 'fenced') out.election = { ok: false, error: 'fenced', proposal: this.role.by };
        break;
      case 'submit':
        this.submit(event.op, out);
        break;
      case 'flush':
        this.flush(out);
        break;
      case 'reply':
        if (event.msg.type === 'promiseReply') this.onPromiseReply(event.from, event.msg, out);
        else if (event.msg.type === 'readReply') this.onElectionRead(event.from, event.msg, out);
        else this.onWriteReply(event.from, event.msg, out);
        break;
      case 'tick':
        this.onTick(out);
        break;
      case 'change':
        this.requestChange(event.request, out);
        break;
      case 'abandon':
        if (this.role.kind === 'electing' || this.role.kind === 'backoff' || this.role.kind === 'elected') this.giveUp(out);
        break;
      default:
        assertNever(event, 'writer event');
    }
    return out;
  }

  private submit(op: WriterOp, out: WriterOutput): void {
    if (this.role.kind === 'fenced') {
      out.done.push({ id: op.id, result: { ok: false, error: 'fenced', proposal: this.role.by } });
      return;
    }
    this.queue.push(op);
    if (this.role.kind === 'idle') this.startElection(out);
  }

  // ------------------------------------------------------------------ changes (R2 to R4)

  private requestChange(request: ChangeRequest, out: WriterOutput): void {
    if (this.role.kind === 'fenced') return report(out, request.id, { ok: false, reason: 'fenced', message: 'the writer was fenced' });
    // Checked now against what the writer knows (early and friendly), and again when proposed (authoritative).
    const r = checkChange(this.latestConfig, request);
    if (!r.ok) return report(out, request.id, r.outcome);
    if (this.changes.length === 0) this.beforeChange = this.queue.length;
    this.changes.push({ request, stage: 'queued' });
    if (this.role.kind === 'idle') this.startElection(out);
    else this.flush(out);
  }

  /**
   * R2: the change goes alone at the next position p, once everything below
   * p is chosen (the caller checked), applied to the configuration the
   * ballot is in with its ifEpoch. It goes to the named voters and to the
   * next configuration's other voters (R3).
   */
  private proposeChange(ch: PendingChange, out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected' && ch.stage === 'queued', 'an elected writer proposes a queued change');
    let next = ch.next;
    if (ch.request !== undefined) {
      const r = checkChange(this.cfg, ch.request);
      if (!r.ok) {
        this.changes.shift();
        this.beforeChange = 0;
        report(out, ch.request.id, r.outcome);
        // The operations queued behind the refused change go now: nothing else would flush an elected
        // writer that has nothing in flight, and they would wait forever (attack5-stranded-queue).
        return this.flush(out);
      }
      next = r.next;
    }
    assert(next !== undefined && next.epoch === this.cfg.epoch + 1, 'a change makes the next epoch');
    ch.next = next;
    ch.stage = 'proposed';
    const batch = this.newBatch(role, [{ kind: 'config', config: next }], [-1], 0);
    batch.joint = { next, ready: new Set() };
    role.inflight.push(batch);
    role.next = batch.from + 1;
    this.sendBatch(batch, this.members, role.proposal, out);
  }

  /** R3: what a voter of the next configuration answered to the entry's write. */
  private noteJoint(from: ReplicaId, msg: WriteReply, batch: Batch): void {
    const role = this.role;
    const joint = batch.joint;
    if (joint === undefined || role.kind !== 'elected' || msg.outcome !== 'accept' || msg.proposal !== role.proposal) return;
    if (!joint.next.voters.some((m) => m.id === from)) return;
    const caughtUp = heldBelow(batch.from, msg.learnedThrough ?? -1, msg.lostBelow ?? true);
    if (caughtUp || !this.rules.caughtUpToAccept) joint.ready.add(from);
  }

  /** Chosen once a quorum of the named voters accepted, and for a config entry (R3) a caught-up quorum of the next voters. */
  private countChosen(batch: Batch): void {
    if (batch.tally.won) batch.chosen = this.jointDone(batch);
  }

  private jointDone(batch: Batch): boolean {
    const joint = batch.joint;
    if (joint === undefined || !this.rules.jointAcceptance) return true;
    return joint.next.voters.filter((m) => joint.ready.has(m.id)).length >= configQuorum(joint.next);
  }

  /**
   * p is chosen and nothing is in flight: R4, a fresh election in the new
   * configuration whose promise requests install it. From here the change
   * is not dropped: a failed election is retried (onTick), the queue waits.
   */
  private install(ch: PendingChange, out: WriterOutput): void {
    assert(ch.placed !== undefined, 'a chosen change is placed');
    if (!this.rules.freshElection) {
      // Switched off (tests only): the promises of the old configuration are carried over and the
      // writer goes on under its ballot there, which is what R4 forbids.
      this.changes.shift();
      this.beforeChange = 0;
      if (ch.request !== undefined) report(out, ch.request.id, { ok: true, config: ch.placed });
      return this.flush(out);
    }
    this.role = { kind: 'idle' };
    this.startElection(out);
  }

  /**
   * A change counted chosen goes to its install stage (R4): the next election is in its configuration,
   * with the one install proposal. Called by every election, so that an idle writer holding a chosen change
   * (its install never started: a write above the entry gave up first) installs it whatever starts the
   * election (elect, submit, change, tick), never electing in the old configuration instead.
   */
  private beginInstall(ch: PendingChange): void {
    assert(ch.stage === 'chosen' && ch.placed !== undefined && this.rules.freshElection, 'a chosen change is installed by a fresh election');
    ch.stage = 'installing';
    this.ownLinks.push(ch.placed);
    // Settling NOPs queued for the old configuration's positions: the new election settles what is left.
    const keep = this.queue.filter((op) => op.id >= 0);
    this.queue.length = 0;
    for (const op of keep) this.queue.push(op);
  }

  /** The change in progress when the writer stops (fenced, no quorum): reported, unless it is past counting chosen and only stalled. */
  private failChanges(result: Extract<OpResult, { ok: false }>, out: WriterOutput): void {
    const reason = result.error === 'fenced' ? 'fenced' : 'no-quorum';
    while (this.changes.length > 0) {
      const ch = this.changes[0]!;
      if ((ch.stage === 'chosen' || ch.stage === 'installing') && result.error !== 'fenced') return; // retried, never dropped
      this.changes.shift();
      if (ch.request === undefined) continue;
      const message =
        ch.stage === 'queued'
          ? `the writer stopped (${reason}) before proposing the change: nothing was written`
          : ch.stage === 'proposed'
            ? `the writer stopped (${reason}) with the change in flight: a later writer may still find and finish it`
            : 'the change was chosen; the writer was fenced before its install election finished, a later writer finishes it';
      report(out, ch.request.id, { ok: false, reason: ch.stage === 'queued' ? reason : 'unknown', message });
    }
    this.beforeChange = 0;
  }

  /** The links of the writer's chain a replica whose head is `head` lacks (R6), if it knows any. */
  private linksFor(head: ConfigHead | undefined): PlacedConfiguration[] {
    if (head === undefined) return [];
    return linksAbove(chainOfView(this.fullView), head.epoch);
  }

  /** An implicit promise request of this writer (R4: it installs the configuration the writer itself counted chosen). */
  private promiseRequest(rid: number, proposal: Proposal, links?: readonly PlacedConfiguration[]): PromiseRequest {
    const own = this.ownLinks[this.ownLinks.length - 1];
    const install = own !== undefined && own.epoch === this.cfg.epoch ? { install: own } : {};
    return { type: 'promise', rid, proposal, nonce: this.nonce, config: this.configHead, ...install, ...(links === undefined || links.length === 0 ? {} : { links }) };
  }

  // ------------------------------------------------------------------ election

  private startElection(out: WriterOutput): void {
    if (this.changes[0]?.stage === 'chosen' && this.rules.freshElection) this.beginInstall(this.changes[0]);
    // A new ballot is in the latest configuration the writer knows now (its owner's view and its own installs).
    this.cfg = latestOf(this.fullView);
    const installing = this.changes[0]?.stage === 'installing' && this.rules.installNoOutbid ? this.changes[0] : undefined;
    if (installing !== undefined) installing.installProposal ??= installing.placed!.floor + 1;
    // An election its owner asked for goes above everything seen; an install election never does (PendingChange).
    const proposal = installing?.installProposal ?? this.highestSeen + 1;
    this.highestSeen = Math.max(this.highestSeen, proposal);
    const rid = this.newRid();
    const startedAt = this.role.kind === 'backoff' ? this.role.startedAt : this.now;
    this.role = {
      kind: 'electing',
      proposal,
      rid,
      tally: new QuorumTally(this.members.length, this.quorum),
      replies: new Map(),
      sentAt: this.now,
      startedAt,
    };
    const msg = this.promiseRequest(rid, proposal);
    for (const to of this.members) out.send.push({ to, msg });
  }

  private onPromiseReply(from: ReplicaId, msg: PromiseReply, out: WriterOutput): void {
    this.highestSeen = Math.max(this.highestSeen, msg.proposal);
    const role = this.role;
    if (role.kind === 'elected') return this.onLatePromise(from, msg, out);
    if (role.kind !== 'electing' || msg.rid !== role.rid || role.tally.has(from)) return;
    // An answer to another request that happens to share the id (defence in depth: ids are per client).
    if (msg.outcome !== 'reject' && msg.proposal !== role.proposal) return;
    if (msg.outcome === 'stale-config') return this.onStaleConfig(msg.config, out);
    // R4's install election meets a promise above the floor it was chosen under: another proposer came
    // after this writer's ballot, and the writer is fenced, as a rejected write would say. Bidding above
    // it would take leadership back without the owner asking, fencing a writer elected meanwhile.
    if (msg.outcome === 'reject' && this.changes[0]?.stage === 'installing' && this.rules.installNoOutbid) return this.fence(msg.proposal, out);
    if (msg.outcome === 'unknown-config') {
      // A replica that lacks this configuration does not vote: send it the links it lacks, and it answers again.
      const links = this.linksFor(msg.config);
      if (links.length > 0 && links[0]!.epoch === (msg.config?.epoch ?? 0) + 1) return void out.send.push({ to: from, msg: this.promiseRequest(role.rid, role.proposal, links) });
    }
    role.tally.record(from, msg.outcome === 'unknown-config' ? 'ignored' : msg.outcome);
    if (msg.outcome === 'accept') {
      const r: ElectionReply = { reply: msg, slots: msg.slots.slice(), covered: msg.coveredThrough, readAt: this.now };
      role.replies.set(from, r);
      if (r.covered < msg.end) this.readRest(from, r, out);
    }
    if (role.tally.rejectCount > 0 && role.tally.acceptCount + role.tally.rejectCount >= role.tally.quorum) {
      // Someone holds a higher promise: wait a random while, then try above it.
      this.enterBackoff(role.startedAt);
      return;
    }
    if (role.tally.unreachable) {
      this.enterBackoff(role.startedAt);
      return;
    }
    this.maybeElected(out);
  }

  /** A promise reply cut at its byte bound: read the rest of the member's slots (what it accepted since is fine too). */
  private readRest(from: ReplicaId, r: ElectionReply, out: WriterOutput): void {
    const rid = this.newRid();
    r.readRid = rid;
    r.readAt = this.now;
    out.send.push({ to: from, msg: { type: 'read', rid, from: r.covered + 1, to: r.reply.end, limit: limits.readSlotsMax } });
  }

  private onElectionRead(from: ReplicaId, msg: ReadReply, out: WriterOutput): void {
    const role = this.role;
    if (role.kind !== 'electing') return;
    const r = role.replies.get(from);
    if (r === undefined || r.readRid !== msg.rid) return;
    r.readRid = undefined;
    for (const s of msg.slots) if (s.position > r.covered) r.slots.push(s);
    r.covered = Math.max(r.covered, Math.min(msg.coveredThrough, r.reply.end));
    if (r.covered < r.reply.end) this.readRest(from, r, out);
    else this.maybeElected(out);
  }

  /**
   * Elected once a quorum promised and each of their reports is complete, and
   * then either every member did or the election grace (WriterConfig) went
   * by. The grace is for liveness: a member that promises after the election
   * is counted only once a quorum of the named members confirms it (see the
   * header), so a writer that named a bare quorum stalls if one of them dies
   * before a late one is confirmed; naming every member that answers
   * promptly leaves room for a loss.
   */
  private maybeElected(out: WriterOutput): void {
    const role = this.role;
    if (role.kind !== 'electing') return;
    const complete = [...role.replies].filter(([, r]) => r.covered >= r.reply.end);
    if (complete.length < role.tally.quorum) return;
    role.quorumAt ??= this.now;
    const everyone = complete.length === this.members.length;
    if (everyone || this.now - role.quorumAt >= (this.config.electionGraceMs ?? 0)) this.becomeElected(role.proposal, new Map(complete), out);
  }

  /**
   * A promise reply after the election (late, or to a round asking again). A
   * named member's answer with its named disk confirms that disk; with
   * another disk, the named one is gone. Any other member that promised
   * becomes a candidate, named once confirmed (see the header).
   */
  private onLatePromise(from: ReplicaId, msg: PromiseReply, out: WriterOutput): void {
    const role = this.role;
    if (role.kind !== 'elected') return;
    if (msg.outcome === 'reject' && msg.proposal > role.proposal && role.named.has(from) && role.rounds.has(msg.rid)) {
      // A member this writer counts promised a higher proposal: it refuses this writer's writes from now on,
      // exactly as a rejected write says. An idle writer that only asks again would otherwise stay
      // elected, deposed without knowing it, and never count the members it is missing.
      return this.fence(msg.proposal, out);
    }
    if (msg.outcome === 'stale-config' && msg.proposal === role.proposal && role.rounds.has(msg.rid)) return this.onStaleConfig(msg.config, out);
    if (msg.outcome === 'unknown-config' && msg.proposal === role.proposal && role.rounds.has(msg.rid)) {
      // As in the election: the links it lacks, and it answers the same round again.
      const links = this.linksFor(msg.config);
      if (links.length > 0 && links[0]!.epoch === (msg.config?.epoch ?? 0) + 1) out.send.push({ to: from, msg: this.promiseRequest(msg.rid, role.proposal, links) });
      return;
    }
    if (msg.status !== 'VOTING' || msg.outcome !== 'accept' || msg.proposal !== role.proposal) return;
    const sentAt = role.rounds.get(msg.rid);
    if (sentAt === undefined) return;
    const disk = { generation: msg.generation, disk: msg.disk };
    const named = role.named.get(from);
    if (named !== undefined && sameDisk(named, disk)) {
      role.confirmedAt.set(from, Math.max(role.confirmedAt.get(from) ?? -Infinity, sentAt));
      this.promoteCandidates(out);
    } else {
      if (named !== undefined) {
        this.dropNamed(from, out);
        if (this.role.kind !== 'elected') return;
      }
      const cur = role.candidates.get(from);
      if (cur === undefined || !sameDisk(cur.disk, disk)) {
        role.candidates.set(from, { disk, since: ++this.order });
        this.askToConfirm(out);
      }
    }
    // After the member is named or a candidate: the NOPs go to it too (writes go only to members that promised).
    this.settleAboveNext(msg, out);
  }

  /**
   * A member that promised after the election may hold values accepted under
   * lower proposals at positions this writer has not reached yet (its own
   * `end` above the writer's next position): no one will commit them, and
   * while this writer is idle every read and catch-up that meets them waits
   * for it (it reports itself active) and then has to fill them, above this
   * writer's proposal, right where its next appends go. The writer settles
   * them itself with NOPs through that end, exactly as it would with appends:
   * no value can be chosen there under a proposal below its own (the
   * election quorum held nothing there and promised it), so nothing chosen
   * is lost. Bounded by the window: a longer stale tail is settled by the
   * next election or a reader.
   */
  private settleAboveNext(msg: PromiseReply, out: WriterOutput): void {
    const role = this.role;
    if (role.kind !== 'elected') return;
    let held = -1;
    for (const s of msg.slots) if (s.action !== undefined) held = Math.max(held, s.position);
    // A reply cut at its byte bound may hold more beyond what it covered.
    if (msg.coveredThrough < msg.end) held = Math.max(held, msg.end);
    const reached = role.next + this.queue.length; // the first position the queue will not take
    if (held < reached) return;
    const n = Math.min(held - reached + 1, limits.writerWindowMax);
    for (let k = 0; k < n; k++) this.queue.push({ id: -1, action: NOP });
    this.flush(out);
  }

  /** Asks the named members to answer again, so that candidates that promised before this can be named. */
  private askToConfirm(out: WriterOutput): void {
    const role = this.role;
    if (role.kind !== 'elected' || role.candidates.size === 0) return;
    const newest = Math.max(...[...role.candidates.values()].map((c) => c.since));
    if (role.confirmSentOrder > newest && this.now - role.confirmSentAt < timing.retransmitMs) return;
    role.confirmSentAt = this.now;
    this.sendRound([...role.named.keys()], out);
    role.confirmSentOrder = this.order;
  }

  /** One promise round after the election (same number, same nonce: granted again by those that promised). */
  private sendRound(to: readonly ReplicaId[], out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'rounds after the election');
    const rid = this.newRid();
    role.rounds.set(rid, ++this.order);
    if (role.rounds.size > ROUNDS_KEPT) role.rounds.delete(role.rounds.keys().next().value!);
    const msg = this.promiseRequest(rid, role.proposal);
    for (const id of to) out.send.push({ to: id, msg });
  }

  /** Names every candidate that a quorum of named members confirmed after its promise. */
  private promoteCandidates(out: WriterOutput): void {
    const role = this.role;
    if (role.kind !== 'elected') return;
    const promoted: ReplicaId[] = [];
    for (const [id, c] of role.candidates) {
      let confirmed = 0;
      for (const [m] of role.named) if ((role.confirmedAt.get(m) ?? -Infinity) > c.since) confirmed++;
      if (confirmed < this.quorum) continue;
      role.candidates.delete(id);
      role.named.set(id, c.disk);
      role.confirmedAt.set(id, c.since);
      promoted.push(id);
    }
    if (promoted.length === 0) return;
    // Batches not chosen yet may count the newcomers too (safe: see the header). A newcomer that
    // already answered one as a candidate was not counted then: ask it again, or a batch that every
    // member answered would wait, unchosen, for nothing but its timeout.
    const named = namedList(role.named);
    for (const b of role.inflight) {
      if (b.chosen) continue;
      b.named = named;
      const again = promoted.filter((id) => b.tally.forgetIgnored(id));
      if (again.length > 0) this.sendBatch(b, again, role.proposal, out);
    }
    this.resolveChosen(out);
  }

  /** A named member's disk is gone (stale, or another disk answered): stop counting it. */
  private dropNamed(id: ReplicaId, out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'only an elected writer names members');
    role.named.delete(id);
    role.confirmedAt.delete(id);
    if (role.named.size < this.quorum) this.giveUp(out);
  }

  private enterBackoff(startedAt: number): void {
    const delay = timing.backoffMinMs * (1 + this.config.random());
    this.role = { kind: 'backoff', until: this.now + delay, startedAt };
  }

  /**
   * Settles every position above the quorum's learned prefix with the value
   * Paxos requires (the highest accepted one, else NOP), then writes the
   * election NOP. Sent as the first batches of the new term.
   */
  private becomeElected(proposal: Proposal, promised: Map<ReplicaId, ElectionReply>, out: WriterOutput): void {
    const replies = [...promised.values()];
    const installed = this.changes[0]?.stage === 'installing' ? this.changes[0] : undefined;
    // R4: L := max(L, p): the entry was chosen and the quorum learned it from the install.
    const learnedThrough = Math.max(installed?.placed?.position ?? -1, ...replies.map((r) => r.reply.learnedThrough));
    // E: the highest position where a quorum member holds a value. Promise-only slots
    // above it hold nothing to preserve (a stray explicit promise must not cost NOPs).
    const end = Math.max(learnedThrough, ...replies.flatMap((r) => r.slots.map((s) => s.position)));
    if (end - learnedThrough > limits.electionSettleMax) {
      // More unsettled positions than an honest quorum can hold (limits.electionSettleMax): refuse to settle them.
      this.failAll({ ok: false, error: 'insane', position: end }, out);
      out.election ??= { ok: false, error: 'insane', position: end };
      this.role = { kind: 'idle' };
      return;
    }
    const best = new Map<Position, Slot>();
    for (const r of replies) {
      for (const s of r.slots) {
        if (s.position <= learnedThrough || s.action === undefined) continue;
        const cur = best.get(s.position);
        if (cur === undefined || rank(s) > rank(cur)) best.set(s.position, s);
      }
    }
    const settle: Action[] = [];
    for (let p = learnedThrough + 1; p <= end; p++) {
      const s = best.get(p);
      settle.push(s !== undefined && this.rules.reproposeAccepted ? s.action! : NOP);
    }
    // R5: a config entry of the next epoch in the settle range is a stop sign: settle up to it, finish
    // that change (R3, R4), and only then write the marker NOP (switch followPending: re-proposed as any value).
    const stop = this.rules.followPending ? settle.findIndex((a) => a.kind === 'config' && a.config.epoch === this.cfg.epoch + 1) : -1;
    let found: Configuration | undefined;
    if (stop >= 0) {
      const entry = settle[stop]!;
      assert(entry.kind === 'config', 'a stop sign is a config entry');
      found = entry.config;
      settle.length = stop;
    }
    const electionPosition = found === undefined ? end + 1 : Number.MAX_SAFE_INTEGER;
    if (installed !== undefined) {
      // The change is complete: a quorum of the new configuration promised and installed it (R4).
      this.changes.shift();
      this.beforeChange = 0;
      if (installed.request !== undefined) report(out, installed.request.id, { ok: true, config: installed.placed! });
    }
    const named = new Map([...promised].map(([id, r]) => [id, { generation: r.reply.generation, disk: r.reply.disk }]));
    const electionRid = (this.role as { rid: number }).rid;
    this.role = {
      kind: 'elected',
      proposal,
      electionLearnedThrough: learnedThrough,
      named,
      candidates: new Map(),
      confirmedAt: new Map([...named.keys()].map((id) => [id, -Infinity])),
      // Late answers to the election itself are promises like any other (sent before any candidate's
      // promise arrived: order 0 confirms none).
      rounds: new Map([[electionRid, 0]]),
      repromisedAt: this.now,
      confirmSentAt: -Infinity,
      confirmSentOrder: 0,
      next: learnedThrough + 1,
      inflight: [],
      electionPosition,
      electionReported: false,
      committed: { first: -1, through: -1 },
      recommittedAt: this.now,
    };
    // Settled positions go first, through the queue, so the in-flight window bounds them too.
    // (No spread: the settle range may hold up to limits.electionSettleMax positions.)
    const settling: WriterOp[] = settle.map((action) => ({ id: -1, action }));
    if (found === undefined) settling.push({ id: -1, action: NOP });
    else this.changes.unshift({ stage: 'queued', next: found });
    // Operations queued before a change still go before it, after the settled positions.
    if (this.changes.length > 0) this.beforeChange = settling.length + (found === undefined ? this.beforeChange : 0);
    for (const op of this.queue) settling.push(op);
    this.queue.length = 0;
    for (const op of settling) this.queue.push(op);
    this.flush(out);
  }

  // ------------------------------------------------------------------ writes

  private flush(out: WriterOutput): void {
    if (this.role.kind !== 'elected') return;
    const ch = this.changes[0];
    if (ch === undefined) return this.send(this.queue.length, out);
    if (ch.stage === 'queued') {
      // Operations queued before the change go first; the change once all of them are chosen (R2).
      this.send(this.beforeChange, out);
      const ready = this.rules.configBarrier ? this.inflightPositions === 0 : true;
      if (this.beforeChange === 0 && ready && this.role.kind === 'elected') this.proposeChange(ch, out);
    }
    // The barrier (R2): nothing above the entry until it is chosen and installed (switch configBarrier: the
    // rest goes out behind the entry at once).
    if (!this.rules.configBarrier && ch.stage === 'proposed') this.send(this.queue.length, out);
  }

  /** Sends up to `limit` queued operations, within the window. */
  private send(limit: number, out: WriterOutput): void {
    if (this.queue.length === 0 || limit <= 0) return;
    const room = limits.writerWindowMax - this.inflightPositions;
    let bytesRoom = limits.writerWindowBytesMax - this.inflightBytes;
    let n = 0;
    // Bounded in positions and in bytes; one operation always goes if nothing else is in flight.
    while (n < room && n < this.queue.length && n < limit) {
      const b = actionBytes(this.queue[n]!.action);
      if (b > bytesRoom && !(n === 0 && this.inflightPositions === 0)) break;
      bytesRoom -= b;
      n++;
    }
    if (n === 0) return;
    if (this.changes[0]?.stage === 'queued') this.beforeChange = Math.max(0, this.beforeChange - n);
    this.sendBatches(this.queue.splice(0, n), out);
  }

  /** Cuts ops into batches within the bounds and sends each to every member. */
  private sendBatches(ops: WriterOp[], out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'only an elected writer writes');
    let i = 0;
    while (i < ops.length) {
      const from = role.next;
      const actions: Action[] = [];
      const opIds: number[] = [];
      let bytes = 0;
      while (i < ops.length && actions.length < limits.writeBatchPositionsMax) {
        const op = ops[i]!;
        if (op.action.kind === 'truncate' && op.action.to > from + actions.length) {
          // A truncation may remove only positions before its own: beyond, it would remove future appends.
          out.done.push({ id: op.id, result: { ok: false, error: 'invalid', position: from + actions.length } });
          i++;
          continue;
        }
        if (actions.length > 0 && bytes + actionBytes(op.action) > limits.writeBatchBytesMax) break;
        // R14: a client's TRUNCATE carries the head of config(to) as this writer's view has it (whatever the
        // client sent), so a replica that has not learned that configuration does not move its beginning past
        // it. A value an election found (id -1) goes out byte for byte: another head would be another value
        // at a position where the first may be chosen (attack6-truncate-head-two-values).
        const action = op.action;
        actions.push(op.id !== -1 && action.kind === 'truncate' ? { kind: 'truncate', to: action.to, config: headOf(this.fullView(action.to)) } : action);
        opIds.push(op.id);
        bytes += actionBytes(op.action);
        i++;
      }
      const batch = this.newBatch(role, actions, opIds, bytes);
      role.inflight.push(batch);
      role.next = from + actions.length;
      // Step 4 cuts batches at a config entry (R1, R2); with one configuration every position is the ballot's.
      this.sendBatch(batch, this.members, role.proposal, out);
    }
  }

  private newBatch(role: Extract<WriterRole, { kind: 'elected' }>, actions: Action[], opIds: number[], bytes: number): Batch {
    return {
      from: role.next,
      actions,
      opIds,
      tally: new QuorumTally(this.members.length, this.quorum),
      rid: this.newRid(),
      ridSentAt: ++this.order,
      named: namedList(role.named),
      bytes,
      retransmits: 0,
      sentAt: this.now,
      startedAt: this.now,
      chosen: false,
    };
  }

  private sendBatch(batch: Batch, to: readonly ReplicaId[], proposal: Proposal, out: WriterOutput): void {
    const msg: WriteRequest = { type: 'write', rid: batch.rid, proposal, from: batch.from, actions: batch.actions, named: batch.named, config: this.configHead };
    const role = this.role;
    for (const id of to) {
      // Writes go to the members whose disk promised this writer (named or candidates) only. A member that
      // has not promised (a disk that rejoined since the election) would take the write as a promise of
      // this number without the writer's nonce, and then refuse the writer's own promise request when it
      // asks again (a number is granted to one proposer only): it could never be counted again.
      if (role.kind === 'elected' && !role.named.has(id) && !role.candidates.has(id)) continue;
      out.send.push({ to: id, msg });
    }
    // R3: the next configuration's voters that have not accepted it holding the log below: the promoted
    // learners (safe although they never promised: the writer never asks them to promise this number, R4
    // uses a higher one), and members of both that were not caught up when they accepted.
    const joint = batch.joint;
    if (joint !== undefined) {
      for (const m of joint.next.voters) {
        if (joint.ready.has(m.id) || (this.members.includes(m.id) && !batch.tally.has(m.id))) continue;
        out.send.push({ to: m.id, msg });
      }
    }
    batch.sentAt = this.now;
  }

  private onWriteReply(from: ReplicaId, msg: WriteReply, out: WriterOutput): void {
    const role = this.role;
    if (msg.outcome === 'reject') this.highestSeen = Math.max(this.highestSeen, msg.proposal);
    if (role.kind !== 'elected') return;
    const batch = role.inflight.find((b) => b.rid === msg.rid);
    if (batch === undefined) return;
    if (batch.joint !== undefined && !batch.chosen) {
      this.noteJoint(from, msg, batch);
      if (!this.members.includes(from)) {
        // A voter of the next configuration only: its acceptance is a durability count, never named (R3).
        if (msg.outcome === 'reject' && msg.proposal > role.proposal) return this.fence(msg.proposal, out);
        this.countChosen(batch);
        return this.resolveChosen(out);
      }
      if (batch.tally.has(from)) {
        this.countChosen(batch);
        return this.resolveChosen(out);
      }
    }
    if (batch.tally.has(from) || !this.members.includes(from)) return;
    if (msg.outcome !== 'reject' && msg.proposal !== role.proposal) return;
    if (msg.outcome === 'reject') {
      // Only a higher proposal is evidence of another proposer; anything else is a replica's
      // refusal to vote there (e.g. a value it learned differently), which counts as no vote.
      if (msg.proposal > role.proposal) return this.fence(msg.proposal, out);
      batch.tally.record(from, 'ignored');
      return;
    }
    if (msg.outcome === 'stale') return this.onStale(msg, out);
    if (msg.outcome === 'stale-config') return this.onStaleConfig(msg.config, out);
    // Neither a vote nor a refusal (R3, step 4): the retransmission asks again.
    if (msg.outcome === 'not-ready') return;
    // Only a named member's acceptance, by the very disk that promised, counts.
    const disk = { generation: msg.generation, disk: msg.disk };
    const counts = msg.outcome === 'accept' && batch.named.some((n) => n.id === from && sameDisk(n, disk));
    batch.tally.record(from, counts ? 'accept' : 'ignored');
    if (counts) {
      role.confirmedAt.set(from, Math.max(role.confirmedAt.get(from) ?? -Infinity, batch.ridSentAt));
    } else if (msg.outcome === 'accept' && role.named.has(from) && !sameDisk(role.named.get(from)!, disk)) {
      // The named disk is gone: another disk of the member answers now.
      this.dropNamed(from, out);
      if (this.role.kind !== 'elected') return;
    }
    this.countChosen(batch);
    this.resolveChosen(out);
    if (counts && role.candidates.size > 0) this.promoteCandidates(out);
  }

  /**
   * A member's disk was replaced: stop counting the old disk. Batches not yet
   * chosen are sent again naming only current members. With fewer than a
   * quorum left, the election no longer guards against the lost promises:
   * give up, and the next operation elects again.
   */
  private onStale(msg: WriteReply, out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'stale replies matter only to an elected writer');
    for (const r of msg.retired) {
      const d = role.named.get(r.id);
      if (d !== undefined && isRetired(r, d)) {
        role.named.delete(r.id);
        role.confirmedAt.delete(r.id);
      }
    }
    if (role.named.size < this.quorum) return this.giveUp(out);
    const named = namedList(role.named);
    for (const b of role.inflight) {
      if (b.chosen || b.named.every((n) => { const d = role.named.get(n.id); return d !== undefined && sameDisk(d, n); })) continue;
      b.named = named;
      b.retransmits = 0;
      b.rid = this.newRid();
      b.ridSentAt = ++this.order;
      b.tally = new QuorumTally(this.members.length, this.quorum);
      this.sendBatch(b, this.members, role.proposal, out);
    }
  }

  /**
   * The members whose disk promised this writer (named or candidates): the only ones that can hold
   * its values, so the only ones its commits go to. A commit names a proposal number, not its
   * proposer; once a disk is replaced, numbers are unique per proposer only among disks that
   * promised (docs/protocol.md, "Proposal numbers"), and another disk may hold a value accepted under
   * the same number from another proposer.
   */
  private promisedMembers(): ReplicaId[] {
    const role = this.role;
    assert(role.kind === 'elected', 'only an elected writer has promised members');
    return this.members.filter((id) => role.named.has(id) || role.candidates.has(id));
  }

  /** Resolves chosen batches in position order and tells the members that promised that they are chosen. */
  private resolveChosen(out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'resolve needs an elected writer');
    let commitFrom: Position | undefined;
    let commitTo: Position = -1;
    while (role.inflight.length > 0 && role.inflight[0]!.chosen) {
      const b = role.inflight.shift()!;
      if (b.joint !== undefined) this.changeChosen(b, role.proposal);
      commitFrom ??= b.from;
      commitTo = b.from + b.actions.length - 1;
      b.opIds.forEach((id, k) => {
        if (id >= 0) out.done.push({ id, result: { ok: true, position: b.from + k } });
      });
    }
    if (commitFrom === undefined) return;
    if (role.committed.first < 0) role.committed.first = commitFrom;
    role.committed.through = commitTo;
    const commit: CommitMessage = { type: 'commit', proposal: role.proposal, from: commitFrom, to: commitTo };
    for (const to of this.promisedMembers()) out.send.push({ to, msg: commit });
    if (!role.electionReported && commitTo >= role.electionPosition) {
      role.electionReported = true;
      out.election = { ok: true, position: role.electionPosition };
    }
    const ch = this.changes[0];
    if (ch?.stage === 'chosen' && role.inflight.length === 0) return this.install(ch, out);
    this.flush(out);
  }

  /** The config entry is chosen (R3) under `proposal`, its floor (R4, R6). */
  private changeChosen(b: Batch, proposal: Proposal): void {
    const ch = this.changes[0];
    assert(ch !== undefined && ch.stage === 'proposed' && b.joint !== undefined, 'a chosen config entry is the change in flight');
    ch.stage = 'chosen';
    ch.placed = { ...b.joint.next, position: b.from, floor: proposal };
  }

  private fence(by: Proposal, out: WriterOutput): void {
    this.failAll({ ok: false, error: 'fenced', proposal: by }, out);
    this.role = { kind: 'fenced', by };
  }

  /**
   * A replica learned a newer configuration than the one this writer's
   * ballot is in (R5, R6): the ballot can no longer get anything counted
   * above that configuration's entry. The writer stops as when fenced: what
   * it has in flight fails as unknown, and its owner starts a writer in the
   * newer configuration (R12). A head that is not newer (a confused or
   * hostile replica) is ignored, as its answer is.
   */
  private onStaleConfig(head: ConfigHead | undefined, out: WriterOutput): void {
    if (head === undefined || compareHeads(head, this.configHead) <= 0) return;
    const by = this.highestSeen;
    this.failAll({ ok: false, error: 'fenced', proposal: by, config: head }, out);
    this.role = { kind: 'fenced', by, config: head };
  }

  /** Fails every pending and queued operation, and a pending election. */
  private failAll(result: Extract<OpResult, { ok: false }>, out: WriterOutput): void {
    if (this.role.kind === 'elected') {
      for (const b of this.role.inflight) {
        b.opIds.forEach((id, k) => {
          if (id >= 0) out.done.push({ id, result: { ...result, unknownAt: b.from + k } });
        });
      }
      if (!this.role.electionReported) out.election = result;
    } else if (this.role.kind === 'electing' || this.role.kind === 'backoff') {
      if (this.electionWanted) out.election = result;
    }
    this.failChanges(result, out);
    // A change counted chosen keeps the operations queued behind it: they go out after its install.
    const kept = this.changes.length > 0 ? this.queue.splice(0).filter((op) => op.id >= 0) : [];
    for (const op of this.queue.splice(0)) if (op.id >= 0) out.done.push({ id: op.id, result });
    for (const op of kept) this.queue.push(op);
    this.electionWanted = false;
  }

  // ------------------------------------------------------------------ time

  private onTick(out: WriterOutput): void {
    const role = this.role;
    switch (role.kind) {
      case 'idle':
        // A change counted chosen is never dropped: its install election is run again (R4).
        if (this.changes[0]?.stage === 'chosen') return this.install(this.changes[0], out);
        if (this.changes[0]?.stage === 'installing') this.startElection(out);
        return;
      case 'fenced':
        return;
      case 'backoff':
        if (this.now - role.startedAt >= timing.operationTimeoutMs) return this.giveUp(out);
        if (this.now >= role.until) this.startElection(out);
        return;
      case 'electing':
        if (this.now - role.startedAt >= timing.operationTimeoutMs) return this.giveUp(out);
        this.maybeElected(out);
        if (this.role.kind !== 'electing') return;
        if (this.now - role.sentAt >= timing.retransmitMs) {
          role.sentAt = this.now;
          const msg = this.promiseRequest(role.rid, role.proposal);
          for (const to of role.tally.pending(this.members)) out.send.push({ to, msg });
          for (const [id, r] of role.replies) if (r.readRid !== undefined && this.now - r.readAt >= timing.retransmitMs) this.readRest(id, r, out);
        }
        return;
      case 'elected':
        if (role.named.size < this.members.length && this.now - role.repromisedAt >= timing.repromiseMs) {
          // Members not named (down, recovering, a lost reply, a new disk) may promise now.
          role.repromisedAt = this.now;
          this.sendRound(this.members.filter((id) => !role.named.has(id)), out);
        }
        if (role.candidates.size > 0) this.askToConfirm(out);
        if (role.committed.first >= 0 && this.now - role.recommittedAt >= timing.recommitMs) {
          // A replica that lost a commit holds its values unlearned: say it again, for the whole term
          // (replicas skip what they learned already, so this costs little).
          role.recommittedAt = this.now;
          const msg: CommitMessage = { type: 'commit', proposal: role.proposal, from: role.committed.first, to: role.committed.through };
          for (const to of this.promisedMembers()) out.send.push({ to, msg });
        }
        for (const b of role.inflight) {
          if (b.chosen) continue;
          if (this.now - b.startedAt >= timing.operationTimeoutMs) return this.giveUp(out);
          // On a live connection nothing is lost: back off so a slow quorum is not buried in copies.
          if (this.now - b.sentAt >= Math.min(timing.retransmitMs * 2 ** b.retransmits, timing.retransmitMaxMs)) {
            b.retransmits++;
            // Members that could not vote when they answered (recovering, not counted yet) are asked again:
            // a batch every member answered but too few counted would otherwise wait for its timeout.
            b.tally.forgetAllIgnored();
            this.sendBatch(b, b.tally.pending(this.members), role.proposal, out);
            if (this.role.kind !== 'elected') return;
          }
        }
        return;
      default:
        assertNever(role, 'writer role');
    }
  }

  /** No quorum in time: fail what is pending; the next operation elects again. */
  private giveUp(out: WriterOutput): void {
    this.failAll({ ok: false, error: 'no-quorum' }, out);
    this.role = { kind: 'idle' };
  }
}

function namedList(named: ReadonlyMap<ReplicaId, DiskId>): Named[] {
  return [...named].map(([id, d]) => ({ id, generation: d.generation, disk: d.disk }));
}

/**
 * R2's check of a change against the configuration `base` its ballot is (or would be) in. An `ifEpoch`
 * above `base`'s epoch names a configuration this writer does not know: the asker read it from replicas
 * that learned it, so this writer's view is stale. Refused as fenced (nothing written; the asker refreshes
 * and asks a writer of the newer configuration), never as epoch-changed, which would tell the asker that
 * the configuration moved past what it read (ConfigChangedError) when it is the writer that lags.
 */
function checkChange(
  base: Configuration,
  request: ChangeRequest,
): { readonly ok: true; readonly next: Configuration } | { readonly ok: false; readonly outcome: Extract<ChangeOutcome, { ok: false }> } {
  if (request.ifEpoch > base.epoch) {
    const message = `this writer knows the configuration up to epoch ${base.epoch}, not the epoch ${request.ifEpoch} the change names: it is stale; nothing was written, elect a writer in the newer configuration`;
    return { ok: false, outcome: { ok: false, reason: 'fenced', message } };
  }
  const r = applyChange(base, request.change, { ifEpoch: request.ifEpoch, changeId: request.id });
  return r.ok ? { ok: true, next: r.next } : { ok: false, outcome: { ok: false, reason: r.refusal.reason, message: r.refusal.message } };
}

function report(out: WriterOutput, id: string, result: ChangeOutcome): void {
  (out.changes ??= []).push({ id, result });
}
