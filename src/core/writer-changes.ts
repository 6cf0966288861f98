/**
 * The writer's membership changes (R2 to R4, docs/reconfiguration.md): a change asked of it is
 * queued, proposed alone at the next position once everything below is chosen, counted chosen by
 * a quorum of both configurations (R3), and installed by a fresh election in the new configuration
 * (R4). Separate from the append pipeline because a change has its own stages (PendingChange) and
 * rules (each a switch of SafetyRules); the pipeline (writer-appends.ts) holds the barrier in its
 * flush and hands this part the config entry's write replies. See writer.ts's header, "Changes".
 */
import { assert } from './assert.js';
import { applyChange, configQuorum, heldBelow, type Configuration } from './membership.js';
import type { Action, Proposal, ReplicaId, WriteReply } from './types.js';
import type { ChangeOutcome, ChangeRequest, OpResult, WriterOutput } from './writer-types.js';
import { WriterState, type Batch, type PendingChange, type WriterRole } from './writer-state.js';

/** The writer with its membership changes (R2 to R4). */
export abstract class WriterChanges extends WriterState {
  protected requestChange(request: ChangeRequest, out: WriterOutput): void {
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
  protected proposeChange(ch: PendingChange, out: WriterOutput): void {
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
  protected noteJoint(from: ReplicaId, msg: WriteReply, batch: Batch): void {
    const role = this.role;
    const joint = batch.joint;
    if (joint === undefined || role.kind !== 'elected' || msg.outcome !== 'accept' || msg.proposal !== role.proposal) return;
    if (!joint.next.voters.some((m) => m.id === from)) return;
    const caughtUp = heldBelow(batch.from, msg.learnedThrough ?? -1, msg.lostBelow ?? true);
    if (caughtUp || !this.rules.caughtUpToAccept) joint.ready.add(from);
  }

  /** Chosen once a quorum of the named voters accepted, and for a config entry (R3) a caught-up quorum of the next voters. */
  protected countChosen(batch: Batch): void {
    if (batch.tally.won) batch.chosen = this.jointDone(batch);
  }

  protected jointDone(batch: Batch): boolean {
    const joint = batch.joint;
    if (joint === undefined || !this.rules.jointAcceptance) return true;
    return joint.next.voters.filter((m) => joint.ready.has(m.id)).length >= configQuorum(joint.next);
  }

  /**
   * p is chosen and nothing is in flight: R4, a fresh election in the new
   * configuration whose promise requests install it. From here the change
   * is not dropped: a failed election is retried (onTick), the queue waits.
   */
  protected install(ch: PendingChange, out: WriterOutput): void {
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
  protected beginInstall(ch: PendingChange): void {
    assert(ch.stage === 'chosen' && ch.placed !== undefined && this.rules.freshElection, 'a chosen change is installed by a fresh election');
    ch.stage = 'installing';
    this.ownLinks.push(ch.placed);
    // Settling NOPs queued for the old configuration's positions: the new election settles what is left.
    const keep = this.queue.filter((op) => op.id >= 0);
    this.queue.length = 0;
    for (const op of keep) this.queue.push(op);
  }

  /** The change in progress when the writer stops (fenced, no quorum): reported, unless it is past counting chosen and only stalled. */
  protected failChanges(result: Extract<OpResult, { ok: false }>, out: WriterOutput): void {
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

  /** The config entry is chosen (R3) under `proposal`, its floor (R4, R6). */
  protected changeChosen(b: Batch, proposal: Proposal): void {
    const ch = this.changes[0];
    assert(ch !== undefined && ch.stage === 'proposed' && b.joint !== undefined, 'a chosen config entry is the change in flight');
    ch.stage = 'chosen';
    ch.placed = { ...b.joint.next, position: b.from, floor: proposal };
  }

  // Parts above this one (writer-election.ts, writer-appends.ts).
  protected abstract startElection(out: WriterOutput): void;
  protected abstract flush(out: WriterOutput): void;
  protected abstract newBatch(role: Extract<WriterRole, { kind: 'elected' }>, actions: Action[], opIds: number[], bytes: number): Batch;
  protected abstract sendBatch(batch: Batch, to: readonly ReplicaId[], proposal: Proposal, out: WriterOutput): void;
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

/** Adds a change's outcome to the output of the step that finished it. */
export function report(out: WriterOutput, id: string, result: ChangeOutcome): void {
  (out.changes ??= []).push({ id, result });
}
