/**
 * The writer's append pipeline, once elected: queued operations cut into batches within the
 * window (positions and bytes), sent to the members that promised, counted from write replies,
 * resolved strictly in position order, and committed. Separate from the election because it is
 * the steady state of a ballot, with its own bounds (limits.writerWindowMax and the batch limits)
 * and its own answers to handle (a reject, a stale disk, a stale configuration).
 */
import { actionBytes } from './actions.js';
import { assert } from './assert.js';
import { limits } from './constants.js';
import { isRetired, sameDisk } from './identity.js';
import { headOf } from './membership.js';
import { QuorumTally } from './quorum.js';
import type { Action, CommitMessage, Position, Proposal, ReplicaId, WriteReply, WriteRequest } from './types.js';
import type { WriterOp, WriterOutput } from './writer-types.js';
import { WriterChanges } from './writer-changes.js';
import { namedList, type Batch, type WriterRole } from './writer-state.js';

/** The writer with its append pipeline: the window, batches, write replies, commits. */
export abstract class WriterAppends extends WriterChanges {
  protected flush(out: WriterOutput): void {
    if (this.role.kind !== 'elected') return;
    const ch = this.changes[0];
    if (ch === undefined) return this.send(this.queue.length, out);
    if (ch.stage === 'queued') {
      // Operations queued before the change go first; the change once all of them are chosen (R2).
      this.send(this.beforeChange, out);
      const ready = this.rules.configBarrier ? this.inflightPositions === 0 : true;
      if (this.beforeChange === 0 && ready && this.role.kind === 'elected') this.proposeChange(ch, out);
    }
    // The barrier (R2): nothing above the entry until it is chosen and installed (switch configBarrier: the
    // rest goes out behind the entry at once).
    if (!this.rules.configBarrier && ch.stage === 'proposed') this.send(this.queue.length, out);
  }

  /** Sends up to `limit` queued operations, within the window. */
  protected send(limit: number, out: WriterOutput): void {
    if (this.queue.length === 0 || limit <= 0) return;
    const room = limits.writerWindowMax - this.inflightPositions;
    let bytesRoom = limits.writerWindowBytesMax - this.inflightBytes;
    let n = 0;
    // Bounded in positions and in bytes; one operation always goes if nothing else is in flight.
    while (n < room && n < this.queue.length && n < limit) {
      const b = actionBytes(this.queue[n]!.action);
      if (b > bytesRoom && !(n === 0 && this.inflightPositions === 0)) break;
      bytesRoom -= b;
      n++;
    }
    if (n === 0) return;
    if (this.changes[0]?.stage === 'queued') this.beforeChange = Math.max(0, this.beforeChange - n);
    this.sendBatches(this.queue.splice(0, n), out);
  }

  /** Cuts ops into batches within the bounds and sends each to every member. */
  protected sendBatches(ops: WriterOp[], out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'only an elected writer writes');
    let i = 0;
    while (i < ops.length) {
      const from = role.next;
      const actions: Action[] = [];
      const opIds: number[] = [];
      let bytes = 0;
      while (i < ops.length && actions.length < limits.writeBatchPositionsMax) {
        const op = ops[i]!;
        if (op.action.kind === 'truncate' && op.action.to > from + actions.length) {
          // A truncation may remove only positions before its own: beyond, it would remove future appends.
          out.done.push({ id: op.id, result: { ok: false, error: 'invalid', position: from + actions.length } });
          i++;
          continue;
        }
        if (actions.length > 0 && bytes + actionBytes(op.action) > limits.writeBatchBytesMax) break;
        // R14: a client's TRUNCATE carries the head of config(to) as this writer's view has it (whatever the
        // client sent), so a replica that has not learned that configuration does not move its beginning past
        // it. A value an election found (id -1) goes out byte for byte: another head would be another value
        // at a position where the first may be chosen (attack6-truncate-head-two-values).
        const action = op.action;
        actions.push(op.id !== -1 && action.kind === 'truncate' ? { kind: 'truncate', to: action.to, config: headOf(this.fullView(action.to)) } : action);
        opIds.push(op.id);
        bytes += actionBytes(op.action);
        i++;
      }
      const batch = this.newBatch(role, actions, opIds, bytes);
      role.inflight.push(batch);
      role.next = from + actions.length;
      // Step 4 cuts batches at a config entry (R1, R2); with one configuration every position is the ballot's.
      this.sendBatch(batch, this.members, role.proposal, out);
    }
  }

  protected newBatch(role: Extract<WriterRole, { kind: 'elected' }>, actions: Action[], opIds: number[], bytes: number): Batch {
    return {
      from: role.next,
      actions,
      opIds,
      tally: new QuorumTally(this.members.length, this.quorum),
      rid: this.newRid(),
      ridSentAt: ++this.order,
      named: namedList(role.named),
      bytes,
      retransmits: 0,
      sentAt: this.now,
      startedAt: this.now,
      chosen: false,
      refusedAt: new Map(),
    };
  }

  protected sendBatch(batch: Batch, to: readonly ReplicaId[], proposal: Proposal, out: WriterOutput): void {
    const msg: WriteRequest = { type: 'write', rid: batch.rid, proposal, from: batch.from, actions: batch.actions, named: batch.named, config: this.configHead };
    const role = this.role;
    for (const id of to) {
      // Writes go to the members whose disk promised this writer (named or candidates) only. A member that
      // has not promised (a disk that rejoined since the election) would take the write as a promise of
      // this number without the writer's nonce, and then refuse the writer's own promise request when it
      // asks again (a number is granted to one proposer only): it could never be counted again.
      if (role.kind === 'elected' && !role.named.has(id) && !role.candidates.has(id)) continue;
      out.send.push({ to: id, msg });
    }
    // R3: the next configuration's voters that have not accepted it holding the log below: the promoted
    // learners (safe although they never promised: the writer never asks them to promise this number, R4
    // uses a higher one), and members of both that were not caught up when they accepted.
    const joint = batch.joint;
    if (joint !== undefined) {
      for (const m of joint.next.voters) {
        if (joint.ready.has(m.id) || (this.members.includes(m.id) && !batch.tally.has(m.id))) continue;
        out.send.push({ to: m.id, msg });
      }
    }
    batch.sentAt = this.now;
  }

  protected onWriteReply(from: ReplicaId, msg: WriteReply, out: WriterOutput): void {
    const role = this.role;
    if (msg.outcome === 'reject') this.highestSeen = Math.max(this.highestSeen, msg.proposal);
    if (role.kind !== 'elected') return;
    const disk = { generation: msg.generation, disk: msg.disk };
    const named = role.named.get(from);
    // Evidence that a named member is alive (writer.ts, writeTimedOut): any acceptance by its named disk under
    // this ballot, a late one too (its batch chosen by faster members already, or a copy answered again). A
    // member always a little slower than the quorum that chooses is alive all the same, and is the quorum
    // once a faster one dies (attack-slow-write-late-accepts).
    if (msg.outcome === 'accept' && msg.proposal === role.proposal && named !== undefined && sameDisk(named, disk)) role.acceptedAt.set(from, this.now);
    const batch = role.inflight.find((b) => b.rid === msg.rid);
    if (batch === undefined) return;
    if (batch.joint !== undefined && !batch.chosen) {
      this.noteJoint(from, msg, batch);
      if (!this.members.includes(from)) {
        // A voter of the next configuration only: its acceptance is a durability count, never named (R3).
        if (msg.outcome === 'reject' && msg.proposal > role.proposal) return this.fence(msg.proposal, out);
        this.countChosen(batch);
        return this.resolveChosen(out);
      }
      if (batch.tally.has(from)) {
        this.countChosen(batch);
        return this.resolveChosen(out);
      }
    }
    if (batch.tally.has(from) || !this.members.includes(from)) return;
    if (msg.outcome !== 'reject' && msg.proposal !== role.proposal) return;
    if (msg.outcome === 'reject') {
      // Only a higher proposal is evidence of another proposer; anything else is a replica's
      // refusal to vote there (e.g. a value it learned differently), which counts as no vote.
      if (msg.proposal > role.proposal) return this.fence(msg.proposal, out);
      batch.tally.record(from, 'ignored');
      if (role.named.has(from)) batch.refusedAt.set(from, this.now);
      return;
    }
    if (msg.outcome === 'stale') return this.onStale(msg, out);
    if (msg.outcome === 'stale-config') return this.onStaleConfig(msg.config, out);
    // Neither a vote nor a refusal (R3, step 4): the retransmission asks again.
    if (msg.outcome === 'not-ready') return;
    // Only a named member's acceptance, by the very disk that promised, counts.
    const counts = msg.outcome === 'accept' && batch.named.some((n) => n.id === from && sameDisk(n, disk));
    batch.tally.record(from, counts ? 'accept' : 'ignored');
    if (counts) {
      role.confirmedAt.set(from, Math.max(role.confirmedAt.get(from) ?? -Infinity, batch.ridSentAt));
      batch.refusedAt.delete(from);
    } else if (msg.outcome === 'accept' && role.named.has(from) && !sameDisk(role.named.get(from)!, disk)) {
      // The named disk is gone: another disk of the member answers now.
      this.dropNamed(from, out);
      if (this.role.kind !== 'elected') return;
    } else if (role.named.has(from)) {
      batch.refusedAt.set(from, this.now);
    }
    this.countChosen(batch);
    this.resolveChosen(out);
    if (counts && role.candidates.size > 0) this.promoteCandidates(out);
  }

  /**
   * A member's disk was replaced: stop counting the old disk. Batches not yet
   * chosen are sent again naming only current members. With fewer than a
   * quorum left, the election no longer guards against the lost promises:
   * give up, and the next operation elects again.
   */
  protected onStale(msg: WriteReply, out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'stale replies matter only to an elected writer');
    for (const r of msg.retired) {
      const d = role.named.get(r.id);
      if (d !== undefined && isRetired(r, d)) {
        role.named.delete(r.id);
        role.confirmedAt.delete(r.id);
      }
    }
    if (role.named.size < this.quorum) return this.giveUp(out);
    this.renameBatches(out);
  }

  /**
   * Batches not chosen that name a disk no longer named go again, under a new request naming the disks
   * named now, counted afresh: an answer to the old request (an acceptance by the disk that is gone, late)
   * counts for nothing.
   */
  protected renameBatches(out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'only an elected writer has batches');
    const named = namedList(role.named);
    for (const b of role.inflight) {
      if (b.chosen || b.named.every((n) => { const d = role.named.get(n.id); return d !== undefined && sameDisk(d, n); })) continue;
      b.named = named;
      b.retransmits = 0;
      b.rid = this.newRid();
      b.ridSentAt = ++this.order;
      b.tally = new QuorumTally(this.members.length, this.quorum);
      this.sendBatch(b, this.members, role.proposal, out);
    }
  }

  /**
   * The members whose disk promised this writer (named or candidates): the only ones that can hold
   * its values, so the only ones its commits go to. A commit names a proposal number, not its
   * proposer; once a disk is replaced, numbers are unique per proposer only among disks that
   * promised (docs/protocol.md, "Proposal numbers"), and another disk may hold a value accepted under
   * the same number from another proposer.
   */
  protected promisedMembers(): ReplicaId[] {
    const role = this.role;
    assert(role.kind === 'elected', 'only an elected writer has promised members');
    return this.members.filter((id) => role.named.has(id) || role.candidates.has(id));
  }

  /** Resolves chosen batches in position order and tells the members that promised that they are chosen. */
  protected resolveChosen(out: WriterOutput): void {
    const role = this.role;
    assert(role.kind === 'elected', 'resolve needs an elected writer');
    let commitFrom: Position | undefined;
    let commitTo: Position = -1;
    while (role.inflight.length > 0 && role.inflight[0]!.chosen) {
      const b = role.inflight.shift()!;
      if (b.joint !== undefined) this.changeChosen(b, role.proposal);
      commitFrom ??= b.from;
      commitTo = b.from + b.actions.length - 1;
      b.opIds.forEach((id, k) => {
        if (id >= 0) out.done.push({ id, result: { ok: true, position: b.from + k } });
      });
    }
    if (commitFrom === undefined) return;
    if (role.committed.first < 0) role.committed.first = commitFrom;
    role.committed.through = commitTo;
    const commit: CommitMessage = { type: 'commit', proposal: role.proposal, from: commitFrom, to: commitTo };
    for (const to of this.promisedMembers()) out.send.push({ to, msg: commit });
    if (!role.electionReported && commitTo >= role.electionPosition) {
      role.electionReported = true;
      out.election = { ok: true, position: role.electionPosition };
    }
    const ch = this.changes[0];
    if (ch?.stage === 'chosen' && role.inflight.length === 0) return this.install(ch, out);
    this.flush(out);
  }

  // The part above this one (writer-counted-members.ts).
  protected abstract dropNamed(id: ReplicaId, out: WriterOutput): void;
  protected abstract promoteCandidates(out: WriterOutput): void;
}
