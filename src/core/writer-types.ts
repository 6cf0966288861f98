/**
 * The writer's interface: the events its owner steps it with (WriterEvent), the effects it returns
 * (WriterOutput), its configuration, and the outcomes of operations and membership changes.
 *
 * Separate from the state machine (writer.ts and the layers it extends) because the codecs, the
 * client and the simulator speak these shapes without needing the proposer's logic. writer.ts
 * re-exports every one of them: import them from there.
 */
import type { ConfigView } from './config-view.js';
import type { ConfigHead, MembershipChange, PlacedConfiguration, RefusalReason } from './membership.js';
import type { SafetyRules } from './rules.js';
import type { Action, CommitMessage, Position, PromiseReply, PromiseRequest, Proposal, ReadReply, ReadRequest, ReplicaId, WriteReply, WriteRequest } from './types.js';

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
  /**
   * The owner's link to member `id` came up (first connected, or again after a break): whatever was sent
   * to it before was lost. The writer asks it to promise now rather than at its next retransmission.
   */
  | { readonly type: 'reachable'; readonly id: ReplicaId }
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
