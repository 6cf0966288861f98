/**
 * Every bound and default of the protocol in one place, with their relations
 * asserted at load. Times are in milliseconds of the injected clock.
 */
import { assert } from './assert.js';

export const limits = {
  /** Largest entry a client may append, in bytes. */
  entryBytesMax: 16 * 1024 * 1024,
  /** Most positions one write request carries. */
  writeBatchPositionsMax: 1024,
  /** Most bytes of entry data one write request carries (a batch closes early past it). */
  writeBatchBytesMax: 1024 * 1024,
  /** Most appends a writer keeps in flight (assigned a position, not yet chosen). */
  writerWindowMax: 8192,
  /** Most entry bytes a writer keeps in flight. */
  writerWindowBytesMax: 32 * 1024 * 1024,
  /** Most slots one read or promise reply carries. */
  readSlotsMax: 4096,
  /** Most positions one explicit promise (fill) covers. */
  fillRangeMax: 256,
  /**
   * Sanity bounds on what any message may carry, whoever sends it. No real log
   * comes near them (2^50 positions is 35 years at a million appends a
   * second); they leave room above for arithmetic (p + n, proposal + 1) to stay
   * exact, so a hostile or broken peer cannot make a replica grant a number
   * nobody can exceed, or walk towards 2^53.
   */
  positionMax: 2 ** 50,
  proposalMax: 2 ** 50,
  /**
   * How far above the highest proposal it knows a replica promises or
   * accepts: proposers count up by one, so only a hostile or broken one jumps
   * further (and with one jump to proposalMax it would leave no room above).
   */
  proposalStepMax: 2 ** 20,
  /** Most entry bytes one reply carries (read, promise): a larger answer is paged (the asker continues where it stopped). */
  replyBytesMax: 8 * 1024 * 1024,
  /**
   * How far beyond its own end a replica accepts positions (writes, commits,
   * learned values, truncations): a peer that far ahead is caught up in bulk
   * instead, and no single message makes a replica walk an unbounded range.
   */
  positionsBeyondEndMax: 1 << 24,
  /**
   * The most positions an election settles above the quorum's learned prefix
   * (one queued operation each). An honest cluster holds at most about a
   * writer's window of unsettled positions above what some replica learned;
   * a quorum reporting more is broken or hostile, and the election fails
   * rather than queue millions of NOPs (two hostile replicas reporting a value
   * at 2^40 crashed the client with an array of that size).
   */
  electionSettleMax: 1 << 20,
} as const;

export const timing = {
  /** A request not answered after this long is sent again to the members that did not answer. */
  retransmitMs: 200,
  /**
   * A write retransmitted again and again backs off (a slow quorum is not
   * buried in copies), but never beyond this: a live writer must keep showing
   * itself within writerActiveMs, or readers take it for dead and fill.
   */
  retransmitMaxMs: 1_000,
  /**
   * An election or write that has not reached a quorum after this long fails with NoQuorumError;
   * a write only if, besides, fewer than a quorum of its named members accepted anything within
   * this long (slow is not dead: writer.ts, onTick).
   */
  operationTimeoutMs: 10_000,
  /** A write that a quorum keeps answering but that is still not chosen fails after this long at most. */
  slowWriteMaxMs: 60_000,
  /** A proposer that lost a round waits uniformly in [backoffMinMs, 2 * backoffMinMs) before retrying. */
  backoffMinMs: 50,
  /**
   * A client's election that has a quorum's promises waits this much longer
   * for the other members' (WriterConfig.electionGraceMs): a writer that
   * counts every live member survives the loss of one before it confirmed a
   * late one.
   */
  electionGraceMs: 100,
  /** How often an elected writer asks the members that have not promised it (down or recovering at its election). */
  repromiseMs: 1_000,
  /** How often an elected writer repeats the commit of its term, for replicas that lost one. */
  recommitMs: 1_000,
  /**
   * How often a client asks the replicas it reaches for the configuration even when idle (R12): it links
   * to members added since, so it still finds the cluster after every address it was started with is gone.
   */
  configRefreshMs: 5_000,
  /** How often a replica with corrupted positions asks the others for them again. */
  repairEveryMs: 1_000,
  /** A catch-up copies at most this many entry bytes per second (the writer shares the disk and the network). */
  catchUpBytesPerSecMax: 200 * 1024 * 1024,
  /** Entry bytes a catch-up asks of a peer per read (the position count adapts to the entry size, up to limits.readSlotsMax). */
  catchUpChunkBytes: 256 * 1024,
  /** Reads a catch-up keeps in flight, spread over the peers. */
  catchUpReadsInFlight: 8,
  /**
   * A read round asks only a quorum of members, those that answered this reader most recently, when a
   * quorum answered within this long; the rest are asked with the round's first retransmission
   * (retransmitMs). Otherwise it asks every member. Each reply carries the round's entries, so asking all
   * three of three cost a third more replica work and half again the reader's decoding, for a reply the
   * reader never used (issue 21: a whole-log read took 2.2 s with all three up, 1.1 s with one down).
   */
  readQuorumFreshMs: 2_000,
  /** How long a reader waits for an in-flight position to be learned before it fills it itself (once no writer is active). */
  readSettleMs: 300,
  /**
   * A replica reports a writer active (ReadReply.writerActive) if the holder
   * of its implicit promise wrote or committed within this long. An elected
   * writer recommits every recommitMs, so a live one is never idle this long;
   * readers and catch-up never fill what an active writer is still choosing.
   */
  writerActiveMs: 3_000,
  /**
   * How long a reader or a catch-up waits, under an active writer, for a
   * position that no replica it asked has learned before it settles the
   * position with a fill anyway. The wait is for the writer's commit; but an
   * idle writer only recommits its own term, so a position below it (learned
   * on a replica that lost it, or whose learner is out of reach) would
   * otherwise wait forever. A writer batch unchosen this long is failing to
   * reach a quorum anyway, so the fill rarely fences a writer that could
   * still succeed.
   */
  activeWriterWaitMs: 6_000,
  /** How often a replica tells its peers its state (PeerStateMessage). */
  peerStateMs: 500,
  /** A position below what a peer learned, still unlearned here after this long, is copied from the peers. */
  holeRepairAfterMs: 1_000,
  /**
   * A replica restarting VOTING first asks its peers what they saw its disk
   * reach (a disk restored from an older copy must not vote). It waits for
   * every peer at most this long; then it votes once enough peers answered to
   * make a quorum with it, and keeps asking until they do (never on silence).
   */
  restartCheckMs: 2_000,
  /**
   * A replica whose configuration is one voter, itself, and whose disk is
   * EMPTY starts a new cluster only after this long with no word of another
   * (R11). Nobody is there to ask: a founder of a grown cluster, wiped and
   * restarted with its original `--members`, learns of the cluster it left
   * only when the members it grew into gossip to it (a newer head, R13), and
   * their links reach it after their reconnect backoff (net's
   * reconnectMaxMs, 5 s, asserted there). Starting before that would begin
   * an empty log under the same cluster id (attack7-wiped-founder).
   */
  soloStartQuietMs: 12_000,
} as const;

assert(limits.writeBatchPositionsMax <= limits.writerWindowMax, 'a batch must fit in the window');
assert(limits.writeBatchBytesMax <= limits.writerWindowBytesMax, 'a batch must fit in the byte window');
assert(limits.entryBytesMax <= limits.writerWindowBytesMax, 'the largest entry must fit in the byte window');
assert(limits.entryBytesMax <= 64 * 1024 * 1024, 'an entry must fit in a frame');
assert(timing.retransmitMs < timing.operationTimeoutMs, 'retransmit before giving up');
assert(timing.slowWriteMaxMs >= timing.operationTimeoutMs, 'a slow write waits at least as long as a silent one');
assert(limits.positionMax + limits.positionsBeyondEndMax < Number.MAX_SAFE_INTEGER / 2, 'position arithmetic stays exact');
assert(limits.proposalMax < Number.MAX_SAFE_INTEGER / 2, 'proposal arithmetic stays exact');
assert(limits.entryBytesMax <= limits.replyBytesMax * 2, 'a reply pages by entries: one entry may exceed the soft byte bound');
assert(limits.writerWindowMax < limits.positionsBeyondEndMax, "a replica accepts a whole writer's window beyond its end");
assert(limits.writerWindowMax * 16 <= limits.electionSettleMax, 'an election settles many windows of unsettled positions');
assert(timing.backoffMinMs > 0, 'backoff must be positive');
assert(timing.writerActiveMs >= 2 * timing.retransmitMaxMs, 'a live writer retransmits at least twice within the activity window');
assert(timing.writerActiveMs >= 2 * timing.recommitMs, 'a live writer recommits at least twice within the activity window');
assert(timing.activeWriterWaitMs >= timing.writerActiveMs, 'wait at least one activity window for a live writer to commit');
assert(timing.activeWriterWaitMs < timing.operationTimeoutMs, 'a read stuck under an active writer fills before it times out');
assert(timing.peerStateMs < timing.holeRepairAfterMs, 'peers tell their state before holes are repaired');
