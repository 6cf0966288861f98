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
});
