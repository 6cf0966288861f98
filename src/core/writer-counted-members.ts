/**
 * Counted members after the election: a member that promises late (or is asked again: a lost
 * reply, a rejoined disk) becomes a candidate, named once a quorum of named members answered a
 * request sent after its promise; a named member whose disk is gone stops counting. Separate
 * because it is the one subtle safety argument of an elected writer (writer.ts's header,
 * "Counted members"; docs/protocol.md), and it runs beside the appends, not in them.
 */
import { NOP } from './actions.js';
import { assert } from './assert.js';
import { limits, timing } from './constants.js';
import { sameDisk } from './identity.js';
import type { PromiseReply, ReplicaId } from './types.js';
import type { WriterOutput } from './writer-types.js';
import { WriterAppends } from './writer-appends.js';
import { namedList } from './writer-state.js';

/** Promise rounds remembered after the election (older replies are still fine to ignore). */
const ROUNDS_KEPT = 8;

/** The writer with its counting of members that promise after the election. */
export abstract class WriterCountedMembers extends WriterAppends {
  /** When each member's link last came up and was answered (onReachable). */
  private readonly reachableAt = new Map<ReplicaId, number>();

  /**
   * A promise reply after the election (late, or to a round asking again). A
   * named member's answer with its named disk confirms that disk; with
   * another disk, the named one is gone. Any other member that promised
   * becomes a candidate, named once confirmed (see writer.ts's header).
   */
  protected onLatePromise(from: ReplicaId, msg: PromiseReply, out: WriterOutput): void {
    const role = this.role;
    if (role.kind !== 'elected') return;
    // As in the election: rounds go to the ballot's voters only, and only their answers count (an answer
    // from another id would make it a candidate, then named, inflating the named set and its confirmers).
    if (!this.members.includes(from)) return;
    if (msg.outcome === 'reject' && msg.proposal > role.proposal && role.named.has(from) && role.rounds.has(msg.rid)) {
      // A member this writer counts promised a higher proposal: it refuses this writer's writes from now on,
      // exactly as a rejected write says. An idle writer that only asks again would otherwise stay
      // elected, deposed without knowing it, and never count the members it is missing.
      return this.fence(msg.proposal, out);
    }
    if (msg.outcome === 'stale-config' && msg.proposal === role.proposal && role.rounds.has(msg.rid)) return this.onStaleConfig(msg.config, out);
    if (msg.outcome === 'unknown-config' && msg.proposal === role.proposal && role.rounds.has(msg.rid)) {
      // As in the election: the links it lacks, and it answers the same round again.
      const links = this.linksFor(msg.config);
      if (links.length > 0 && links[0]!.epoch === (msg.config?.epoch ?? 0) + 1) out.send.push({ to: from, msg: this.promiseRequest(msg.rid, role.proposal, links) });
      return;
    }
    if (msg.status !== 'VOTING' || msg.outcome !== 'accept' || msg.proposal !== role.proposal) return;
    const sentAt = role.rounds.get(msg.rid);
    if (sentAt === undefined) return;
    const disk = { generation: msg.generation, disk: msg.disk };
    const named = role.named.get(from);
    if (named !== undefined && sameDisk(named, disk)) {
      role.confirmedAt.set(from, Math.max(role.confirmedAt.get(from) ?? -Infinity, sentAt));
      role.acceptedAt.set(from, this.now);
      this.promoteCandidates(out);
    } else {
      if (named !== undefined) {
        this.dropNamed(from, out);
        if (this.role.kind !== 'elected') return;
      }
      const cur = role.candidates.get(from);
      if (cur === undefined || !sameDisk(cur.disk, disk)) {
        role.candidates.set(from, { disk, since: ++this.order });
        this.askToConfirm(out);
      }
    }
    // After the member is named or a candidate: the NOPs go to it too (writes go only to members that promised).
    this.settleAboveNext(msg, out);
  }

  /**
   * A member that promised after the election may hold values accepted under
   * lower proposals at positions this writer has not reached yet (its own
   * `end` above the writer's next position): no one will commit them, and
   * while this writer is idle every read and catch-up that meets them waits
   * for it (it reports itself active) and then has to fill them, above this
   * writer's proposal, right where its next appends go. The writer settles
   * them itself with NOPs through that end, exactly as it would with appends:
   * no value can be chosen there under a proposal below its own (the
   * election quorum held nothing there and promised it), so nothing chosen
   * is lost. Bounded by the window: a longer stale tail is settled by the
   * next election or a reader.
   */
  protected settleAboveNext(msg: PromiseReply, out: WriterOutput): void {
    const role = this.role;
    if (role.kind !== 'elected') return;
    let held = -1;
    for (const s of msg.slots) if (s.action !== undefined) held = Math.max(held, s.position);
    // A reply cut at its byte bound may hold more beyond what it covered.
    if (msg.coveredThrough < msg.end) held = Math.max(held, msg.end);
    const reached = role.next + this.queue.length; // the first position the queue will not take
    if (held < reached) return;
    const n = Math.min(held - reached + 1, limits.writerWindowMax);
    for (let k = 0; k < n; k++) this.queue.push({ id: -1, action: NOP });
    this.flush(out);
  }

  /**
   * The owner's link to member `id` came up: what was sent to it before was lost (a client's link to a
   * member can come up just after its election request went out). It is asked now, not a retransmission
   * or a repromise period later: a member left out of the named set stays uncounted until it is named,
   * and if a named member dies meanwhile the named survivors are no quorum to confirm it, so every write
   * fails for want of a quorum although a quorum of members is up (membership-faults: a SIGKILL 0.6 s
   * after an election whose request never reached the third member).
   */
  protected onReachable(id: ReplicaId, out: WriterOutput): void {
    const role = this.role;
    // A link that flaps (connects, drops, connects) is answered once per retransmitMs: more would resend the
    // whole window each time, and push the rounds candidates wait on out of the eight remembered.
    if (this.now - (this.reachableAt.get(id) ?? -Infinity) < timing.retransmitMs) return;
    this.reachableAt.set(id, this.now);
    const member = this.members.includes(id);
    if (role.kind === 'electing') {
      if (member && !role.tally.has(id)) out.send.push({ to: id, msg: this.promiseRequest(role.rid, role.proposal) });
      return;
    }
    if (role.kind !== 'elected') return;
    const counted = role.named.has(id) || role.candidates.has(id);
    if (member && !counted) this.sendRound([id], out);
    // The batches it has not answered went nowhere: they go again now (to a next configuration's voter
    // too, whose readiness a change's joint count waits for), not at their backed-off retransmission.
    for (const b of role.inflight) {
      if (b.chosen || b.tally.has(id)) continue;
      const joint = b.joint !== undefined && !b.joint.ready.has(id) && b.joint.next.voters.some((m) => m.id === id);
      if (!(member && counted) && !joint) continue;
      // Not a retransmission: the batch's own clock runs on, or a member whose link flaps would put off
      // for ever the retransmission to the others (those that answered as not counted are asked again there).
      const sentAt = b.sentAt;
      this.sendBatch(b, [id], role.proposal, out);
      b.sentAt = sentAt;
    }
  }

  /** Asks the named members to answer again, so that candidates that promised before this can be named. */
  protected askToConfirm(out: WriterOutput): void {
    const role = this.role;
    if (role.kind !== 'elected' || role.candidates.size === 0) return;
    const newest = Math.max(...[...role.candidates.values()].map((c) => c.since));
    if (role.confirmSentOrder > newest && this.now - role.confirmSentAt < timing.retransmitMs) return;
    role.confirmSentAt = this.now;
    this.sendRound([...role.named.keys()], out);
    role.confirmSentOrder = this.order;
  }

  /** One promise round after the election (same number, same nonce: granted again by those that promised). */
  protected sendRound(to: readonly ReplicaId[], out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'rounds after the election');
    const rid = this.newRid();
    role.rounds.set(rid, ++this.order);
    if (role.rounds.size > ROUNDS_KEPT) role.rounds.delete(role.rounds.keys().next().value!);
    const msg = this.promiseRequest(rid, role.proposal);
    for (const id of to) out.send.push({ to: id, msg });
  }

  /** Names every candidate that a quorum of named members confirmed after its promise. */
  protected promoteCandidates(out: WriterOutput): void {
    const role = this.role;
    if (role.kind !== 'elected') return;
    const promoted: ReplicaId[] = [];
    for (const [id, c] of role.candidates) {
      let confirmed = 0;
      for (const [m] of role.named) if ((role.confirmedAt.get(m) ?? -Infinity) > c.since) confirmed++;
      if (confirmed < this.quorum) continue;
      role.candidates.delete(id);
      role.named.set(id, c.disk);
      role.confirmedAt.set(id, c.since);
      promoted.push(id);
    }
    if (promoted.length === 0) return;
    // Batches not chosen yet may count the newcomers too (safe: see writer.ts's header). A newcomer that
    // already answered one as a candidate was not counted then: ask it again, or a batch that every
    // member answered would wait, unchosen, for nothing but its timeout.
    const named = namedList(role.named);
    for (const b of role.inflight) {
      if (b.chosen) continue;
      b.named = named;
      const again = promoted.filter((id) => b.tally.forgetIgnored(id));
      if (again.length > 0) this.sendBatch(b, again, role.proposal, out);
    }
    this.resolveChosen(out);
  }

  /**
   * A named member's disk is gone (another disk of the member answered): stop counting it, and send the
   * batches that named it again naming the rest, as a retired disk does (onStale).
   */
  protected dropNamed(id: ReplicaId, out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'only an elected writer names members');
    role.named.delete(id);
    role.confirmedAt.delete(id);
    if (role.named.size < this.quorum) return this.giveUp(out);
    this.renameBatches(out);
  }
}
