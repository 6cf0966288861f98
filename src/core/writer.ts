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
 *
 * Files: the writer is one class built in layers, each file adding one part
 * (writer-state.ts has the map): writer-types.ts (events, effects, outcomes),
 * writer-state.ts (the state, the role variants, stopping), writer-changes.ts
 * (R2 to R4), writer-appends.ts (the window, batches, commits),
 * writer-counted-members.ts (late promises, naming), writer-election.ts
 * (phase 1 and the settle range), and here the entry point and the timers.
 */
import { assert, assertNever } from './assert.js';
import { timing } from './constants.js';
import type { CommitMessage } from './types.js';
import type { WriterEvent, WriterOp, WriterOutput } from './writer-types.js';
import type { Batch } from './writer-state.js';
import { WriterElection } from './writer-election.js';

export type { ChangeOutcome, ChangeRequest, OpResult, Outbound, WriterConfig, WriterEvent, WriterOp, WriterOutput } from './writer-types.js';

/** The writer: the entry point (`step`) and the timers, over the parts of the chain (see the header). */
export class WriterCore extends WriterElection {
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
      case 'reachable':
        this.onReachable(event.id, out);
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

  protected submit(op: WriterOp, out: WriterOutput): void {
    if (this.role.kind === 'fenced') {
      out.done.push({ id: op.id, result: { ok: false, error: 'fenced', proposal: this.role.by } });
      return;
    }
    this.queue.push(op);
    if (this.role.kind === 'idle') this.startElection(out);
  }

  protected onTick(out: WriterOutput): void {
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
          if (this.writeTimedOut(b)) return this.giveUp(out);
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

  /**
   * Whether a batch not chosen yet fails (no-quorum). Slow is not dead: past operationTimeoutMs it
   * waits on while a quorum of named members accepted something within that long (an overloaded
   * quorum answers late but answers, and failing its appends would put them in doubt for nothing),
   * up to slowWriteMaxMs. A change's batch keeps the plain deadline: its joint count needs the next
   * configuration's voters too, whom the current members' answers say nothing of. A member that
   * refused this very batch within that long is not slow for it, whatever it accepts elsewhere (a
   * corrupted record at its position: attack-slow-write-refused): only a new ballot settles it there.
   */
  private writeTimedOut(b: Batch): boolean {
    const role = this.role;
    assert(role.kind === 'elected', 'only an elected writer has batches');
    const age = this.now - b.startedAt;
    if (age < timing.operationTimeoutMs) return false;
    if (b.joint !== undefined || age >= timing.slowWriteMaxMs) return true;
    let recent = 0;
    for (const id of role.named.keys()) {
      if (this.now - (b.refusedAt.get(id) ?? -Infinity) < timing.operationTimeoutMs) continue;
      if (this.now - (role.acceptedAt.get(id) ?? -Infinity) < timing.operationTimeoutMs) recent++;
    }
    return recent < this.quorum;
  }
}
