/**
 * The numeric codes of the wire schema (docs/wire.md is the reference; keep
 * the two in step). Codes are part of the protocol: never renumber, only add.
 */
import type { ActionKind, MessageType, Outcome, PromiseOutcome, Status, WriteOutcome } from '../core/types.js';

/** Message type codes: the first byte of every message payload. 0 is never a message (the hello has its own magic). */
export const typeCode = {
  promise: 1,
  promiseReply: 2,
  write: 3,
  writeReply: 4,
  commit: 5,
  learned: 6,
  read: 7,
  readReply: 8,
  recover: 9,
  recoverReply: 10,
  rejoin: 11,
  rejoinReply: 12,
  peerState: 13,
  config: 14,
  configReply: 15,
} as const satisfies Record<MessageType, number>;

/** Action kinds on the wire; `config` (docs/reconfiguration.md) from wire version 3 on. */
export const actionCode = { nop: 0, append: 1, truncate: 2, config: 3 } as const satisfies Record<ActionKind, number>;
export const actionByCode: readonly ActionKind[] = ['nop', 'append', 'truncate', 'config'];

export const statusCode = { VOTING: 0, RECOVERING: 1, STARTING: 2, EMPTY: 3 } as const satisfies Record<Status, number>;
export const statusByCode: readonly Status[] = ['VOTING', 'RECOVERING', 'STARTING', 'EMPTY'];

export const outcomeCode = { accept: 0, reject: 1, ignored: 2 } as const satisfies Record<Outcome, number>;
export const outcomeByCode: readonly Outcome[] = ['accept', 'reject', 'ignored'];
/** A write reply's outcome: the Outcome codes plus 3 stale (valid in writeReply only). */
export const writeOutcomeCode = { ...outcomeCode, stale: 3, 'stale-config': 4, 'not-ready': 5 } as const satisfies Record<WriteOutcome, number>;
export const writeOutcomeByCode: readonly WriteOutcome[] = [...outcomeByCode, 'stale', 'stale-config', 'not-ready'];
/** A promise reply's outcome: the Outcome codes plus 3 stale-config, 4 unknown-config (wire version 3). */
export const promiseOutcomeCode = { ...outcomeCode, 'stale-config': 3, 'unknown-config': 4 } as const satisfies Record<PromiseOutcome, number>;
export const promiseOutcomeByCode: readonly PromiseOutcome[] = [...outcomeByCode, 'stale-config', 'unknown-config'];

/** Slot flags byte: bit 0 learned, bit 1 an action follows; other bits must be 0. */
export const slotFlag = { learned: 1, hasAction: 2 } as const;
/** Promise flags byte: bit 0 explicit range (from, to follow); other bits must be 0. */
export const promiseFlag = { range: 1 } as const;
/** Recover flags byte: bit 0 a member id follows, bit 1 the asker's head follows (wire version 4); other bits must be 0. */
export const recoverFlag = { member: 1, head: 2 } as const;

/**
 * Codes of the messages beyond the core protocol's (src/net/digest-codec.ts): replicas and tools
 * speak them, the core (src/core) never sees them, so they are not in the Message union. Taken after
 * the highest core code; never reused.
 */
export const extensionTypeCode = {
  digest: 16,
  digestReply: 17,
} as const;

/** Digest stop codes (docs/wire.md, digestReply). */
export const digestStopByCode = ['end', 'bound', 'unlearned', 'lost', 'begin'] as const;

/**
 * Codes of the change relay's messages (src/net/change-codec.ts, docs/reconfiguration.md R12, wire
 * version 5; changeForward and configVouch, R15, version 7): beyond the core protocol like the digest's, kept out of the Message union. Never reused.
 */
export const changeTypeCode = {
  changeOffer: 18,
  changeOfferReply: 19,
  changeTake: 20,
  changeTakeReply: 21,
  changeReport: 22,
  changeForward: 23,
  configVouch: 24,
} as const;

/** A membership change's kind on the wire (MembershipChange, src/core/membership.ts). */
export const changeKindByCode = ['add', 'promote', 'remove', 'replace', 'address', 'set'] as const;

/** What a replica's relay holds of an offered change (changeOfferReply). */
export const offerStateByCode = ['held', 'taken', 'done', 'withdrawn', 'no-writer'] as const;
