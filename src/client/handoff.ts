/**
 * The asker's side of R12's hand-off (docs/reconfiguration.md): a membership
 * change is offered to the replicas, which hold it for the writer that holds
 * the log; that writer takes it, carries it out between its appends (nothing
 * of the application fails) and reports the outcome back, where this reads it.
 *
 *   1. Offer the change to every member this client reaches. If none holds it
 *      (each answers `no-writer`, or nothing), no writer takes changes: the
 *      caller elects a writer of its own, as before the hand-off.
 *   2. Poll (the same offer again: replicas answer by id) until one reports
 *      `done` with the outcome.
 *   3. If no replica reports it `taken` for `takeWaitMs` (a few of the
 *      writer's recommit periods: it asks every timing.recommitMs), withdraw
 *      it everywhere. A replica that had handed it over answers `taken` to the
 *      withdrawal: then wait on. Otherwise the caller elects its own writer.
 *   4. If a taken change has no outcome after `outcomeWaitMs`, the taker is
 *      sitting on it: the caller elects its own writer, fencing it.
 *
 * Why a change is never made twice: step 3 can race with a replica this
 * client no longer reaches that handed the change over anyway. Both writers
 * may then propose it, but each proposes it with `ifEpoch` (the epoch the
 * asker read), so only the first to be chosen applies; the second finds the
 * epoch passed and is refused (`epoch-changed`). The asker then finds its own
 * request's id as the configuration's `changeId` and knows it was made
 * (members.ts).
 */
import type { ChangeRequest } from '../core/writer.js';
import type { ReplicaId } from '../core/types.js';
import type { ChangeOfferReply, RelayOutcome } from '../net/change-codec.js';
import { timing } from '../core/constants.js';

/** The part of LogClient the hand-off uses. */
export interface RelayPort {
  connectedMembers(): ReplicaId[];
  offerChange(to: ReplicaId, request: ChangeRequest, withdraw: boolean, timeoutMs: number): Promise<ChangeOfferReply | undefined>;
}

export interface HandOffTiming {
  /** How often the offer is polled. */
  readonly pollMs: number;
  /** How long a held change may wait to be taken before it is withdrawn. */
  readonly takeWaitMs: number;
  /** How long one replica's answer is waited for. */
  readonly answerMs: number;
  /** How long a taken change's outcome is waited for, at most. */
  readonly outcomeWaitMs: number;
  /**
   * How long a reported success is waited for in the replicas' configuration (members.ts): the writer
   * installed it before it reported (R4), so an honest report is found at once or after a lagging reply.
   */
  readonly confirmWaitMs: number;
}

/** The writer asks every recommitMs: three of its rounds, and room for a slow one. */
export const HANDOFF_TIMING: HandOffTiming = {
  pollMs: 100,
  takeWaitMs: 3 * timing.recommitMs + 1_000,
  answerMs: 2_000,
  outcomeWaitMs: 120_000,
  confirmWaitMs: 5_000,
};

export type HandOffResult =
  /** The writer that took the change reported its outcome. */
  | { readonly kind: 'done'; readonly outcome: RelayOutcome }
  /** No replica held it: no writer takes changes now. */
  | { readonly kind: 'no-writer' }
  /** Held, never taken in time, and withdrawn everywhere it was held. */
  | { readonly kind: 'withdrawn' }
  /**
   * Taken, and no outcome came within outcomeWaitMs: the writer that took it sits on it (wedged, or a
   * hostile application writer: under TLS a plain client certificate may take an admin's change, R15).
   * The asker carries it out with a writer of its own, which fences the taker (members.ts); ifEpoch lets
   * only one of the two make it, should the taker wake up.
   */
  | { readonly kind: 'overdue' };

export async function handOff(port: RelayPort, request: ChangeRequest, t: HandOffTiming = HANDOFF_TIMING): Promise<HandOffResult> {
  const ask = async (withdraw: boolean): Promise<ChangeOfferReply[]> => {
    const answers = await Promise.all(port.connectedMembers().map((id) => port.offerChange(id, request, withdraw, t.answerMs)));
    return answers.filter((a): a is ChangeOfferReply => a !== undefined);
  };
  const start = performance.now();
  let takenSeen = start;
  let first = true;
  for (;;) {
    const answers = await ask(false);
    const done = answers.find((a) => a.state === 'done');
    if (done !== undefined) return { kind: 'done', outcome: done.outcome! };
    const taken = answers.some((a) => a.state === 'taken');
    const held = answers.some((a) => a.state === 'held');
    if (first && !taken && !held) return { kind: 'no-writer' };
    first = false;
    const now = performance.now();
    if (taken) takenSeen = now;
    else if (!held || now - takenSeen >= t.takeWaitMs) {
      // Not taken in time (or no replica holds it any more: restarted, expired): withdraw it everywhere.
      const after = await ask(true);
      const settled = after.find((a) => a.state === 'done');
      if (settled !== undefined) return { kind: 'done', outcome: settled.outcome! };
      if (!after.some((a) => a.state === 'taken')) return { kind: 'withdrawn' };
      takenSeen = performance.now();
    }
    if (now - start >= t.outcomeWaitMs) return { kind: 'overdue' };
    await new Promise((r) => setTimeout(r, t.pollMs));
  }
}
