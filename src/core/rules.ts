/**
 * Safety rules that tests may switch off, one at a time, to show that the
 * simulator and the exhaustive search find the violation each rule prevents.
 * Production code always uses ALL_RULES_ON; nothing outside tests may build
 * another value.
 */
export interface SafetyRules {
  /** An acceptor refuses a write below the promise it made (Paxos phase 2 check). */
  readonly honourPromise: boolean;
  /** An acceptor refuses a promise that is not strictly above every promise it made. */
  readonly strictPromise: boolean;
  /** After election a writer re-proposes the highest accepted value of each unsettled position. */
  readonly reproposeAccepted: boolean;
  /** A replica that is not VOTING answers promise and write requests with IGNORED. */
  readonly nonVotingIgnores: boolean;
  /** A replica refuses writes that name a generation of a member older than the one it recorded. */
  readonly refuseRetired: boolean;
  /** A rejoining replica catches up to the end reported after its new generation was recorded, not before. */
  readonly catchUpAfterRecording: boolean;
  /**
   * R6: a replica that learned a newer configuration answers 'stale-config' to promises and writes of an
   * older configuration's ballot that reach above the newer one's entry (they would be counted in the
   * wrong configuration).
   */
  readonly staleConfig: boolean;
  /** R6: a replica does not vote for a ballot of a configuration it has not learned ('unknown-config', or IGNORED for a write). */
  readonly unknownConfig: boolean;
  /** R2: a writer sends nothing above a config entry until it is chosen, and proposes it only once everything below is. */
  readonly configBarrier: boolean;
  /** R3 (b): a config entry counts as chosen only once a quorum of the next configuration's voters accepted it too. */
  readonly jointAcceptance: boolean;
  /** R3: those acceptances count (and are given) only by voters that hold every position below the entry. */
  readonly caughtUpToAccept: boolean;
  /** R4: after its change is chosen, a writer elects afresh in the new configuration (no promise carried over). */
  readonly freshElection: boolean;
  /** R6, R7: a replica votes only at positions whose configuration lists it as a voter ('stale-config' once removed). */
  readonly removedStaysOut: boolean;
  /** R6: a replica refuses ballots not above the floor of the configuration governing a position. */
  readonly configFloor: boolean;
  /** R5: fills are cut at a config entry found in phase 1 and settle it with the joint count; reads wait for a pending entry's fate. */
  readonly followPending: boolean;
  /** R5: a reader's fill promises from the highest learned prefix it heard + 1, not from the position it wants (it sees a stop sign below). */
  readonly fillFromLearned: boolean;
  /**
   * R14: a replica never lets `begin` or `learnedThrough` pass a position whose governing configuration it has
   * not learned: a learned TRUNCATE whose head (config(to)) is not in its chain is not taken, and a peer's
   * beginning is adopted only with the peer's chain up to config(begin).
   */
  readonly chainBeforeTruncate: boolean;
  /**
   * R9b, R9c: a rejoining disk is recorded by a quorum of the latest configuration and of a pending one
   * (and of one learned while catching up), not of the latest alone.
   */
  readonly rejoinInPending: boolean;
  /** R9d: the restart check finds the latest configuration (R13) and needs a quorum of its members, not of the stored one. */
  readonly restartCheckLatest: boolean;
  /**
   * R9f: a rejoining voter turns VOTING only once it learned the fate of a config entry pending when it
   * rejoined (its chain holds the entry, learned with its floor: a catch-up fill reports the ballot under
   * which it counted the entry chosen, and the catch-up passes it on), or the position was learned otherwise.
   * Its lost disk's acceptance may have made the entry chosen in the old configuration, learned nowhere yet.
   */
  readonly rejoinLearnsPending: boolean;
  /**
   * R4: a writer's install election uses one proposal (the entry's floor + 1) and a rival's promise fences
   * the writer; it never bids above the rival (which would take leadership back unasked: ack-after-fence).
   */
  readonly installNoOutbid: boolean;
  /**
   * R13's seeds (liveness, not safety): a non-member's state gossip whose head is newer makes it a seed (the
   * recovery asks it, the hole repair copies from it). Off, a replica that was away while every member it
   * knows was retired never votes again (the change shape moved-on).
   */
  readonly gossipSeeds: boolean;
}

export const ALL_RULES_ON: SafetyRules = Object.freeze({
  honourPromise: true,
  strictPromise: true,
  reproposeAccepted: true,
  nonVotingIgnores: true,
  refuseRetired: true,
  catchUpAfterRecording: true,
  staleConfig: true,
  unknownConfig: true,
  configBarrier: true,
  jointAcceptance: true,
  caughtUpToAccept: true,
  freshElection: true,
  removedStaysOut: true,
  configFloor: true,
  followPending: true,
  fillFromLearned: true,
  chainBeforeTruncate: true,
  rejoinInPending: true,
  restartCheckLatest: true,
  rejoinLearnsPending: true,
  installNoOutbid: true,
  gossipSeeds: true,
});
