/**
 * The writer's state (WriterState): its role, the variant that holds the state of one phase of a
 * ballot (WriterRole: idle, electing, backoff, elected, fenced), the batches it has in flight, the
 * change it holds, and what every part of the writer shares: the configuration its ballots are in,
 * the promise request it sends, and how it stops (fenced, a newer configuration, no quorum).
 *
 * The writer is one state machine split over a chain of files, each adding one part to the class
 * below it: writer-state.ts <- writer-changes.ts <- writer-appends.ts <- writer-counted-members.ts
 * <- writer-election.ts <- writer.ts (WriterCore, the entry point and the timers). A part calls a
 * part above it through an abstract method declared where the call is. The protocol (why each step
 * is safe) is told once, in writer.ts's header.
 */
import { assert } from './assert.js';
import { chainOfView, extendView, latestOf, linksAbove, oneLinkView, type ConfigView } from './config-view.js';
import { drawDiskNumber } from './identity.js';
import { compareHeads, configQuorum, headOf, voterIds, type ConfigHead, type Configuration, type PlacedConfiguration } from './membership.js';
import type { QuorumTally } from './quorum.js';
import { ALL_RULES_ON, type SafetyRules } from './rules.js';
import type { Action, DiskId, Named, Position, PromiseReply, PromiseRequest, Proposal, ReplicaId, Slot } from './types.js';
import type { ChangeRequest, OpResult, WriterConfig, WriterOp, WriterOutput } from './writer-types.js';

/** Writes in flight: contiguous positions [from, from + actions.length) under one proposal. */
export interface Batch {
  readonly from: Position;
  readonly actions: Action[];
  /** The user operation of each position, or -1 for the writer's own (settle, election NOP). */
  readonly opIds: number[];
  tally: QuorumTally;
  rid: number;
  /** When `rid` was first sent: an acceptance proves the member's disk was intact after it. */
  /** The writer's `order` when this rid was sent (confirms named members, see writer.ts's header). */
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
  /**
   * Named members that answered this batch without a vote that counts (a refusal: a corrupted record
   * there, a lower reject, not voting), and when they last did; cleared by a counted acceptance. Such a
   * member is not slow for this batch, whatever it accepts elsewhere (writer.ts, writeTimedOut).
   */
  readonly refusedAt: Map<ReplicaId, number>;
  /** R3: the batch holds only a config entry making `next`; `ready` are its voters that accepted holding every position below. */
  joint?: { readonly next: Configuration; readonly ready: Set<ReplicaId> };
}

/** A change the writer holds (at most one is proposed at a time). */
export interface PendingChange {
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
export interface ElectionReply {
  readonly reply: PromiseReply;
  readonly slots: Slot[];
  /** The last position its slots cover; complete once >= reply.end. */
  covered: Position;
  /** The read asking for the rest, if one is out. */
  readRid?: number;
  readAt: number;
}

export type WriterRole =
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
      /** Members that promised after the election, waiting to be named (see writer.ts's header). */
      readonly candidates: Map<ReplicaId, { readonly disk: DiskId; readonly since: number }>; // since: `order` when its promise arrived
      /** For each named member: the `order` of the latest request it accepted with its named disk. */
      readonly confirmedAt: Map<ReplicaId, number>;
      /** For each named member: when (the clock) it last accepted a write with its named disk (counted or late), or confirmed its promise. */
      readonly acceptedAt: Map<ReplicaId, number>;
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

/** The state every part of the writer shares, and how it stops (the bottom of the chain: see the header). */
export abstract class WriterState {
  protected role: WriterRole = { kind: 'idle' };
  /** The highest proposal seen anywhere: a new election must go above it. */
  protected highestSeen: Proposal;
  protected readonly queue: WriterOp[] = [];
  protected now = 0;
  /**
   * A count of the writer's sends and late promises, in the order it made or met them. Confirming a
   * candidate needs a request sent strictly after its promise arrived; clock readings cannot tell
   * two events of one millisecond apart, this can.
   */
  protected order = 0;
  protected electionWanted = false;
  protected readonly rules: SafetyRules;
  protected readonly newRid: () => number;
  /** Sent with implicit promises: replicas grant this writer's number to it again, and to no one else. */
  readonly nonce: number;

  protected readonly view: ConfigView;
  /** Configurations this writer counted chosen and installs (R4), above what its owner's view knows. */
  protected readonly ownLinks: PlacedConfiguration[] = [];
  /** The configuration the writer's ballots are in (fixed at each election's start). */
  protected cfg: PlacedConfiguration;
  /** Changes asked of it, oldest first: the first is the one in progress. */
  protected readonly changes: PendingChange[] = [];
  /** How many queued operations go before the first change (they were queued before it). */
  protected beforeChange = 0;

  constructor(protected readonly config: WriterConfig) {
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
  protected get fullView(): ConfigView {
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
  protected get members(): readonly ReplicaId[] {
    return voterIds(this.cfg);
  }
  /** Acceptances (or promises) that decide in the writer's configuration. */
  protected get quorum(): number {
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

  /** The links of the writer's chain a replica whose head is `head` lacks (R6), if it knows any. */
  protected linksFor(head: ConfigHead | undefined): PlacedConfiguration[] {
    if (head === undefined) return [];
    return linksAbove(chainOfView(this.fullView), head.epoch);
  }

  /** An implicit promise request of this writer (R4: it installs the configuration the writer itself counted chosen). */
  protected promiseRequest(rid: number, proposal: Proposal, links?: readonly PlacedConfiguration[]): PromiseRequest {
    const own = this.ownLinks[this.ownLinks.length - 1];
    const install = own !== undefined && own.epoch === this.cfg.epoch ? { install: own } : {};
    return { type: 'promise', rid, proposal, nonce: this.nonce, config: this.configHead, ...install, ...(links === undefined || links.length === 0 ? {} : { links }) };
  }

  protected fence(by: Proposal, out: WriterOutput): void {
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
  protected onStaleConfig(head: ConfigHead | undefined, out: WriterOutput): void {
    if (head === undefined || compareHeads(head, this.configHead) <= 0) return;
    const by = this.highestSeen;
    this.failAll({ ok: false, error: 'fenced', proposal: by, config: head }, out);
    this.role = { kind: 'fenced', by, config: head };
  }

  /** Fails every pending and queued operation, and a pending election. */
  protected failAll(result: Extract<OpResult, { ok: false }>, out: WriterOutput): void {
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

  /** No quorum in time: fail what is pending; the next operation elects again. */
  protected giveUp(out: WriterOutput): void {
    this.failAll({ ok: false, error: 'no-quorum' }, out);
    this.role = { kind: 'idle' };
  }

  /** The change in progress when the writer stops (writer-changes.ts). */
  protected abstract failChanges(result: Extract<OpResult, { ok: false }>, out: WriterOutput): void;
}

/** The named members as a request carries them: the members, each with the disk that promised. */
export function namedList(named: ReadonlyMap<ReplicaId, DiskId>): Named[] {
  return [...named].map(([id, d]) => ({ id, generation: d.generation, disk: d.disk }));
}
