/**
 * The vocabulary of the protocol: positions, proposals, actions, replica
 * metadata, the records a replica persists and the messages that cross the
 * network. Everything here is plain data (no classes), so that it can be
 * encoded on the wire and on disk and compared in tests.
 *
 * See docs/glossary.md for the words and docs/protocol.md for the rules.
 */

import type { ConfigHead, Configuration, PendingConfig, PlacedConfiguration } from './membership.js';

/** A log position: a non-negative safe integer. Position 0 is filled with a NOP by the first election. */
export type Position = number;

/**
 * A proposal (ballot) number: a non-negative safe integer, 0 meaning "none".
 * Uniqueness between proposers comes from the acceptor rule that a promise
 * needs a strictly greater number: a number is promised to at most one
 * proposer by any replica, so two proposers can never both gather a quorum
 * of promises for the same number.
 */
export type Proposal = number;

/** A replica's id within the cluster: a positive safe integer. */
export type ReplicaId = number;

/** What a position holds once a value is accepted there. */
export type Action =
  /** Fills a hole; `tombstone` marks a position known to be truncated. */
  | { readonly kind: 'nop'; readonly tombstone?: boolean }
  /** An entry appended by an application. */
  | { readonly kind: 'append'; readonly data: Uint8Array }
  /**
   * Removes every position in [0, to) from the log. `config` is the head of
   * config(to), the configuration governing `to` (R14): a replica that has
   * not learned it must not apply the truncation before it has the chain.
   * Absent on entries written before configurations existed (epoch 0).
   */
  | { readonly kind: 'truncate'; readonly to: Position; readonly config?: ConfigHead }
  /**
   * A membership configuration (docs/reconfiguration.md): the whole
   * configuration, not a diff, so it is understood alone. Like NOP and
   * TRUNCATE it is not an application entry: reads, tails and the state
   * store skip it. Nothing proposes one yet (step 2 of the plan).
   */
  | { readonly kind: 'config'; readonly config: Configuration };

export type ActionKind = Action['kind'];

/**
 * A replica's voting status (as in Mesos):
 * - VOTING: a full Paxos member: promises, accepts, learns.
 * - RECOVERING: catching up after a lost or corrupted disk; does not vote.
 * - STARTING: first phase of the two-phase auto-initialisation of a new cluster.
 * - EMPTY: no state at all (a new or wiped data directory); does not vote.
 * Non-VOTING replicas answer promise and write requests with IGNORED, still
 * apply learned values, and answer recovery requests.
 */
export type Status = 'VOTING' | 'RECOVERING' | 'STARTING' | 'EMPTY';

/** Replica-wide state that must survive restarts. */
export interface Metadata {
  readonly status: Status;
  /** The highest implicit promise (for all positions) this replica made; 0 if none. */
  readonly promised: Proposal;
  /**
   * The nonce of the proposer that holds `promised` (PromiseRequest.nonce):
   * the same proposer asking again with the same number is answered again
   * (a lost reply must not exclude a member for good). Absent: none.
   */
  readonly promisedBy?: number;
  /**
   * A random id drawn when the data directory was created; a wiped disk gets a
   * new one. The two-phase start tells a member's first disk from a later one by it.
   */
  readonly incarnation: string;
  /**
   * The generation of this replica's disk: 0 for the disks a cluster started
   * with; a disk that rejoins after a loss takes a generation above every one
   * a quorum recorded for its member id (autorecovery). Absent means 0.
   */
  readonly generation?: number;
  /**
   * A random number drawn with each new generation (absent, 0, for the disks
   * a cluster started with). With the generation it names this disk in the
   * protocol (DiskId): two disks of one member are never taken for each other,
   * even if a generation were ever drawn twice.
   */
  readonly disk?: number;
  /**
   * For other members (by id): the newest disk this replica knows each of them
   * has (recorded when they rejoined, adopted from peers, or seen from the
   * member itself). Writes that name an older disk of that member are refused
   * as stale: they come from a proposer that may count the lost disk's
   * acceptances. Absent entries mean generation 0, disk 0.
   */
  readonly recorded?: Readonly<Record<number, DiskId>>;
  /**
   * Set while STARTING (the two-phase start of a new cluster): every member's
   * `incarnation` when this replica joined the start. A member that shows
   * another incarnation later lost its disk since, and may have held data.
   */
  readonly startView?: Readonly<Record<number, string>>;
  /**
   * What this replica saw other members' disks reach (their state gossip,
   * durable when sent): a member whose disk comes back below it was restored
   * from an older copy and must not vote (it rejoins).
   */
  readonly witnessed?: Readonly<Record<number, Witness>>;
  /**
   * A beginning learned from a peer (catch-up): a chosen TRUNCATE removed
   * every position below it, although this replica has not learned that
   * TRUNCATE itself. The store drops what lies below, as if it had.
   */
  readonly begin?: Position;
  /**
   * The cluster's id, stored once the cluster has one of its own
   * (docs/reconfiguration.md, R11). Absent on every directory written before
   * reconfiguration: such a directory's id is the one derived from its
   * members, as before (src/storage/stored-config.ts).
   */
  readonly clusterId?: string;
  /**
   * The chain of configurations this replica learned, oldest first, from the
   * one governing `begin` to its head (R14). Absent on every directory
   * written before reconfiguration: it reads as the members it is started
   * with, all voters, at epoch 0 (src/storage/stored-config.ts). Nothing
   * writes it yet (step 2 of docs/reconfiguration.md, section 11).
   */
  readonly configs?: readonly PlacedConfiguration[];
}

/** The identity of one disk of a member, as the protocol tells disks apart. */
export interface DiskId {
  readonly generation: number;
  readonly disk: number;
}

/** What a peer saw a member's disk durably reach. */
export interface Witness extends DiskId {
  readonly promised: Proposal;
  readonly end: Position;
}

/** A member and the disk a proposer counts for it. */
export interface Named extends DiskId {
  readonly id: ReplicaId;
}

/**
 * The acceptor state of one position, without the entry bytes (those are read
 * on demand). Invariant: accepted <= max(promised, accepted proposal that
 * wrote it) is not required, but `kind` is set iff `accepted > 0 || learned`.
 */
export interface SlotMeta {
  readonly position: Position;
  /** The explicit promise made for this position only; 0 if none. */
  readonly promised: Proposal;
  /** The proposal under which the current action was accepted; 0 if none. */
  readonly accepted: Proposal;
  /** True once the action is known to be chosen. */
  readonly learned: boolean;
  /** The kind of the accepted (or learned) action, if any. */
  readonly kind?: ActionKind;
  /** For truncate actions: the `to` position. */
  readonly truncateTo?: Position;
}

/** A position's full acceptor state, with its action. */
export interface Slot extends Omit<SlotMeta, 'kind' | 'truncateTo'> {
  readonly action?: Action;
}

/** A chosen value at a position. */
export interface Entry {
  readonly position: Position;
  readonly action: Action;
}

// ---------------------------------------------------------------------------
// Records: what a replica persists. Replaying the records of a data directory
// in order through PositionIndex.apply rebuilds the replica's state exactly.
// ---------------------------------------------------------------------------

export type PersistRecord =
  /** The whole metadata, replacing the previous one. */
  | { readonly type: 'metadata'; readonly metadata: Metadata }
  /** An explicit promise for one position (may create a promise-only slot). */
  | { readonly type: 'promise'; readonly position: Position; readonly promised: Proposal }
  /** A value accepted at a position under a proposal. */
  | { readonly type: 'accept'; readonly position: Position; readonly proposal: Proposal; readonly action: Action }
  /**
   * Positions in [from, to] whose value was accepted under `proposal` are
   * chosen. Positions accepted under another proposal are left as they are.
   */
  | { readonly type: 'commit'; readonly from: Position; readonly to: Position; readonly proposal: Proposal }
  /** A chosen value, stored as learned whatever the slot held before. */
  | { readonly type: 'learn'; readonly position: Position; readonly action: Action };

// ---------------------------------------------------------------------------
// Messages. Requests carry `rid`, a number the sender chooses to match the
// reply; replies echo it. Positions in ranges are inclusive: [from, to].
// ---------------------------------------------------------------------------

/** How a replica answered a promise or write request. */
export type Outcome = 'accept' | 'reject' | 'ignored';

/**
 * How a replica answered a promise (docs/reconfiguration.md, R6):
 * - stale-config: the replica learned a newer configuration than the one the
 *   request's ballot is in, and the request reaches above that
 *   configuration's entry (the reply's `config` is the replica's head);
 * - unknown-config: the request's ballot is in a configuration newer than
 *   any this replica learned; it does not vote until it has the chain.
 */
export type PromiseOutcome = Outcome | 'stale-config' | 'unknown-config';

/**
 * How a replica answered a write: as a promise, 'stale' when the request
 * names a retired generation, 'stale-config' as for a promise, 'not-ready'
 * (R3: a voter of the next configuration asked to accept its config entry
 * before it holds every position below it; a proposer takes it as no answer
 * and asks again). A write whose ballot is in a configuration
 * the replica does not know is IGNORED (only a promise carries what it needs
 * to learn it).
 */
export type WriteOutcome = Outcome | 'stale' | 'stale-config' | 'not-ready';

/**
 * Promise request (Paxos phase 1). Without `from`: an implicit promise for
 * every position. With `from`/`to`: an explicit promise for the positions in
 * [from, to] only.
 */
export interface PromiseRequest {
  readonly type: 'promise';
  readonly rid: number;
  readonly proposal: Proposal;
  /**
   * Implicit promises: a random number of the proposer's, drawn once per
   * writer. A replica that already granted this proposal to this nonce grants
   * it again (a repeated or lost reply); any other proposer needs a higher number.
   */
  readonly nonce?: number;
  readonly from?: Position;
  readonly to?: Position;
  /**
   * The head of the configuration the proposal is in (R6). Proposers always
   * send it; absent (a message built by hand) names the bootstrap head,
   * epoch 0 at -1.
   */
  readonly config?: ConfigHead;
  /**
   * R4: the configuration of `config`, chosen, with its position and floor: a
   * replica whose chain lacks it installs it (learned, in the same durable
   * batch as the promise) if it holds its predecessor.
   */
  readonly install?: PlacedConfiguration;
  /**
   * R6: the links of the proposer's chain that a replica answering
   * 'unknown-config' lacks, oldest first (chosen configurations): it installs
   * each one that extends its chain, in order, before it weighs the request.
   */
  readonly links?: readonly PlacedConfiguration[];
}

/**
 * Reply to a promise request.
 * - reject: `proposal` is the higher promise that blocked it.
 * - ignored: the replica is not VOTING (`status` says what it is).
 * - accept (implicit): `end` and `learnedThrough` describe the replica's log,
 *   `slots` holds every accepted or learned position in (learnedThrough,
 *   coveredThrough]; when coveredThrough < end the reply was cut at its byte
 *   bound and the proposer reads the rest (reads after a promise see at least
 *   what the promise saw).
 * - accept (explicit): `slots` holds the state of each position of the range
 *   that has an accepted value, before the promise was recorded.
 */
export interface PromiseReply {
  readonly type: 'promiseReply';
  readonly rid: number;
  readonly outcome: PromiseOutcome;
  readonly proposal: Proposal;
  readonly status: Status;
  readonly begin: Position;
  /** Highest position with any record; -1 for a log with no positions. */
  readonly end: Position;
  /** Every position <= learnedThrough is learned (or truncated) here; -1 if none. */
  readonly learnedThrough: Position;
  readonly slots: readonly Slot[];
  /** The last position `slots` covers (= end, or the range's `to`, unless the reply was cut). */
  readonly coveredThrough: Position;
  /** The replier's disk (see Metadata.generation and Metadata.disk). */
  readonly generation: number;
  readonly disk: number;
  /** The replier's head: its latest learned configuration (R5). The acceptor always sets it; absent reads as the bootstrap head. */
  readonly config?: ConfigHead;
  /** An accepted, unlearned config entry the replier holds above its head, whatever range was asked (R5). */
  readonly pending?: PendingConfig;
}

/** Write request (Paxos phase 2) for the contiguous positions [from, from + actions.length). */
export interface WriteRequest {
  readonly type: 'write';
  readonly rid: number;
  readonly proposal: Proposal;
  readonly from: Position;
  readonly actions: readonly Action[];
  /**
   * The members whose acceptances the proposer counts, with the generation it
   * counts for each (those that promised it). A replica that recorded a newer
   * generation for one of them answers 'stale'.
   */
  readonly named: readonly Named[];
  /** The head of the configuration the proposal is in (R6); absent: the bootstrap head. */
  readonly config?: ConfigHead;
}

/** Reply to a write request: all positions of the request are accepted, or none. */
export interface WriteReply {
  readonly type: 'writeReply';
  readonly rid: number;
  readonly outcome: WriteOutcome;
  /** The request's proposal on accept/ignored/stale; the higher promise on reject. */
  readonly proposal: Proposal;
  readonly from: Position;
  readonly count: number;
  /** The replier's disk. */
  readonly generation: number;
  readonly disk: number;
  /** On 'stale': the named members whose disk is retired, with the disk recorded now. */
  readonly retired: readonly Named[];
  /** The replier's head (R5); absent reads as the bootstrap head. */
  readonly config?: ConfigHead;
  /** The replier's learned prefix and whether it lost bytes below the request (R3's caught-up condition, used from step 4). */
  readonly learnedThrough?: Position;
  readonly lostBelow?: boolean;
}

/** One-way: the values accepted under `proposal` in [from, to] are chosen. */
export interface CommitMessage {
  readonly type: 'commit';
  readonly proposal: Proposal;
  readonly from: Position;
  readonly to: Position;
}

/** One-way: these values are chosen (sent by fills and catch-up). */
export interface LearnedMessage {
  readonly type: 'learned';
  readonly entries: readonly Entry[];
  /** For config entries among them: the ballot under which their teller counted them chosen (R14, R6's floor). */
  readonly floors?: readonly { readonly position: Position; readonly floor: Proposal }[];
}

/** Ask for the state of the positions in [from, to] (at most `limit` slots back). */
export interface ReadRequest {
  readonly type: 'read';
  readonly rid: number;
  readonly from: Position;
  readonly to: Position;
  /** At most this many slots (1 to 65535 on the wire; replicas take at most limits.readSlotsMax). */
  readonly limit: number;
  /**
   * A held read (a tail's doorbell, docs/wire.md): the replica may hold it up
   * to this many ms (1 to 65535) until it has learned `from`, then serves it
   * as usual. Replicas that predate it serve it at once.
   */
  readonly waitMs?: number;
}

/** Reply to a read: the replica's view of its log and the slots it holds in the range. */
export interface ReadReply {
  readonly type: 'readReply';
  readonly rid: number;
  readonly status: Status;
  readonly begin: Position;
  readonly end: Position;
  readonly learnedThrough: Position;
  /** Slots with an accepted or learned value in [from, to], ascending; may stop early at `limit`. */
  readonly slots: readonly Slot[];
  /** The last position the reply covers (slots beyond it were left out for the limit). */
  readonly coveredThrough: Position;
  /** Positions of the range that this replica holds but cannot read (corrupted storage). */
  readonly lost: readonly Position[];
  /**
   * True if a writer holding this replica's implicit promise wrote or
   * committed here lately (timing.writerActiveMs): readers and catch-up then
   * wait for its commits instead of settling its positions with a fill, which
   * would fence it.
   */
  readonly writerActive: boolean;
  /**
   * The accepted but not yet learned TRUNCATE with the highest `to` above the
   * beginning, if any: a read must settle it before it trusts the beginning
   * (an acknowledged truncation may not have been learned by this quorum yet).
   */
  readonly pendingTruncate?: { readonly position: Position; readonly to: Position };
  /** The replier's head and its pending config entry, if any (R5, R13). */
  readonly config?: ConfigHead;
  readonly pending?: PendingConfig;
  /**
   * The replier's chain (Metadata.configs, oldest first, with floors), sent
   * only when the reader needs it to take what the reply tells (R14, R6):
   * the replier's beginning lies above the range asked (catch-up adopts the
   * beginning and the chain up to config(begin) in one metadata record), or
   * a learned config entry is among `slots` (its copy names its floor from
   * here, LearnedMessage.floors). Absent otherwise.
   */
  readonly chain?: readonly PlacedConfiguration[];
}

/** Recovery protocol (autorecovery): ask a replica for its status and range. */
export interface RecoverRequest {
  readonly type: 'recover';
  readonly rid: number;
  /** Ask also for the generation recorded for this member (a rejoining replica asks for itself). */
  readonly member?: ReplicaId;
  /**
   * The asker's head (R13): a replier whose chain is newer answers with the
   * links above it (RecoverReply.links). Absent: the bootstrap head.
   */
  readonly config?: ConfigHead;
}

export interface RecoverReply {
  readonly type: 'recoverReply';
  readonly rid: number;
  readonly status: Status;
  readonly begin: Position;
  readonly end: Position;
  /** The replier's data directory (see Metadata.incarnation). */
  readonly incarnation: string;
  /** The replier's own disk. */
  readonly generation: number;
  readonly disk: number;
  /** The disk the replier recorded for the requested member (0/0 if none). */
  readonly memberGeneration: number;
  readonly memberDisk: number;
  /** Every disk the replier knows of, itself included: a rejoining replica adopts the newest of each. */
  readonly recorded: readonly Named[];
  /** What the replier saw the requested member's disk reach (restore detection), if anything. */
  readonly witness?: Witness;
  /** While STARTING: the incarnations the replier saw when it joined the start (Metadata.startView). */
  readonly startView?: readonly { readonly id: ReplicaId; readonly incarnation: string }[];
  /** A rejoining replica's catch-up progress (positions learned of the range), if it is catching up. */
  readonly progress?: { readonly done: number; readonly total: number };
  /** The replier's head and its pending config entry, if any (R9, R13). */
  readonly config?: ConfigHead;
  readonly pending?: PendingConfig;
  /** The replier's learned prefix: a pending entry at a position some answer learned is dead (R13). */
  readonly learnedThrough?: Position;
  /** The replier's chain above the asker's head (RecoverRequest.config), oldest first: discovery needs the members (R13). */
  readonly links?: readonly PlacedConfiguration[];
  /** The configuration that removed the asking member (R7): it never votes again. */
  readonly removed?: PlacedConfiguration;
  /** The replier's cluster id, once it has one (R11). */
  readonly clusterId?: string;
  /** A hash of the member list the replier was started with (R11's bootstrap check); nothing sets it yet. */
  readonly membersHash?: string;
}

/**
 * A replica that lost its disk asks each member to record its new generation
 * durably. From then on they refuse writes counting the old disk; only after
 * recording do they report the range the newcomer must catch up to.
 */
export interface RejoinRequest {
  readonly type: 'rejoin';
  readonly rid: number;
  readonly member: ReplicaId;
  readonly generation: number;
  readonly disk: number;
}

export interface RejoinReply {
  readonly type: 'rejoinReply';
  readonly rid: number;
  /** accept: recorded (begin/end are valid); reject: a newer generation is recorded (see generation); ignored: not VOTING. */
  readonly outcome: Outcome;
  readonly status: Status;
  readonly begin: Position;
  readonly end: Position;
  /** The disk recorded for the member now. */
  readonly generation: number;
  readonly disk: number;
  /** The configuration that removed the member (R7): nothing was recorded (outcome 'ignored'). */
  readonly removed?: PlacedConfiguration;
}

/**
 * One-way, replica to replica, every timing.peerStateMs and sent only once
 * everything it reports is durable: the sender's disk and log. Peers learn
 * from it which disks are current (Metadata.recorded), what a disk reached
 * (Metadata.witnessed, restore detection) and how far to copy learned values
 * (background repair of holes).
 */
export interface PeerStateMessage {
  readonly type: 'peerState';
  readonly incarnation: string;
  readonly generation: number;
  readonly disk: number;
  readonly status: Status;
  readonly promised: Proposal;
  readonly begin: Position;
  readonly end: Position;
  readonly learnedThrough: Position;
  /**
   * The disk the sender recorded for the receiver, if it recorded one. A
   * receiver whose own disk it is not (a newer one, or the same generation on
   * another disk: a generation drawn twice) rejoins with a generation above it:
   * a peer never replaces a recorded disk by another of the same generation,
   * and would refuse the receiver's writes as stale forever.
   */
  readonly yours?: DiskId;
  /** The sender's head (R9d: gossip tells a replica of a newer configuration). */
  readonly config?: ConfigHead;
  /**
   * The sender's own address in its latest configuration (wire version 6, R13): a receiver whose
   * configuration is older and does not list the sender (it was down or rejoining while the members
   * moved on, and every member it knows is gone) finds the cluster through it.
   */
  readonly address?: string;
}

/** A member of the cluster: its id and where it listens. */
export interface Member {
  readonly id: ReplicaId;
  readonly address: string;
}

/** Ask a replica for the cluster's membership: clients learn member ids and the quorum from it, never from their address list. */
export interface ConfigRequest {
  readonly type: 'config';
  readonly rid: number;
}

export interface ConfigReply {
  readonly type: 'configReply';
  readonly rid: number;
  /** The epoch of the replier's latest learned configuration (0: the members the cluster started with). */
  readonly epoch: number;
  /** That configuration's voters and learners, by ascending id (what clients of wire version 2 read). */
  readonly members: readonly Member[];
  // The fields below are the shape docs/reconfiguration.md (section 6) gives
  // the reply; they travel from wire version 3 on (docs/wire.md).
  /** The cluster's id. */
  readonly clusterId?: string;
  /** Where the configuration's entry is (-1 for epoch 0). */
  readonly position?: Position;
  readonly voters?: readonly Member[];
  readonly learners?: readonly Member[];
  readonly nextId?: ReplicaId;
  /** The replier's chain, oldest first. */
  readonly chain?: readonly PlacedConfiguration[];
  /** Its pending config entry, if any (R13). */
  readonly pending?: PendingConfig;
}

export type ReplicaRequest = PromiseRequest | WriteRequest | ReadRequest | RecoverRequest | RejoinRequest | ConfigRequest;
export type ReplicaOneWay = CommitMessage | LearnedMessage | PeerStateMessage;
export type ReplicaReply = PromiseReply | WriteReply | ReadReply | RecoverReply | RejoinReply | ConfigReply;
export type Message = ReplicaRequest | ReplicaOneWay | ReplicaReply;
export type MessageType = Message['type'];
