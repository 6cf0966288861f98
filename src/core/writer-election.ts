/**
 * The writer's election (phase 1): an implicit promise for every position from a quorum of the
 * ballot's configuration, the rest of a promise reply cut at its byte bound read, backoff after a
 * refusal, then the settle range (the highest accepted value or a NOP for each position above the
 * quorum's learned prefix, and the election NOP) queued ahead of everything else. Separate because
 * it runs before the ballot exists, on its own role variant (electing, backoff). See writer.ts's
 * header, "Election".
 */
import { NOP } from './actions.js';
import { assert } from './assert.js';
import { limits, timing } from './constants.js';
import { latestOf } from './config-view.js';
import { rank } from './fill.js';
import type { Configuration } from './membership.js';
import { QuorumTally } from './quorum.js';
import type { Action, Position, PromiseReply, Proposal, ReadReply, ReplicaId, Slot } from './types.js';
import type { WriterOp, WriterOutput } from './writer-types.js';
import { report } from './writer-changes.js';
import { WriterCountedMembers } from './writer-counted-members.js';
import type { ElectionReply } from './writer-state.js';

/** The writer with its election (phase 1) and settle range. */
export abstract class WriterElection extends WriterCountedMembers {
  protected startElection(out: WriterOutput): void {
    if (this.changes[0]?.stage === 'chosen' && this.rules.freshElection) this.beginInstall(this.changes[0]);
    // A new ballot is in the latest configuration the writer knows now (its owner's view and its own installs).
    this.cfg = latestOf(this.fullView);
    const installing = this.changes[0]?.stage === 'installing' && this.rules.installNoOutbid ? this.changes[0] : undefined;
    if (installing !== undefined) installing.installProposal ??= installing.placed!.floor + 1;
    // An election its owner asked for goes above everything seen; an install election never does (PendingChange).
    const proposal = installing?.installProposal ?? this.highestSeen + 1;
    this.highestSeen = Math.max(this.highestSeen, proposal);
    const rid = this.newRid();
    const startedAt = this.role.kind === 'backoff' ? this.role.startedAt : this.now;
    this.role = {
      kind: 'electing',
      proposal,
      rid,
      tally: new QuorumTally(this.members.length, this.quorum),
      replies: new Map(),
      sentAt: this.now,
      startedAt,
    };
    const msg = this.promiseRequest(rid, proposal);
    for (const to of this.members) out.send.push({ to, msg });
  }

  protected onPromiseReply(from: ReplicaId, msg: PromiseReply, out: WriterOutput): void {
    this.highestSeen = Math.max(this.highestSeen, msg.proposal);
    const role = this.role;
    if (role.kind === 'elected') return this.onLatePromise(from, msg, out);
    if (role.kind !== 'electing' || msg.rid !== role.rid || role.tally.has(from)) return;
    // Only the ballot's voters were asked, and only they count: an answer from any other id (a bug of the
    // transport, a replica removed meanwhile) must neither make the quorum nor be named.
    if (!this.members.includes(from)) return;
    // An answer to another request that happens to share the id (defence in depth: ids are per client).
    if (msg.outcome !== 'reject' && msg.proposal !== role.proposal) return;
    if (msg.outcome === 'stale-config') return this.onStaleConfig(msg.config, out);
    // R4's install election meets a promise above the floor it was chosen under: another proposer came
    // after this writer's ballot, and the writer is fenced, as a rejected write would say. Bidding above
    // it would take leadership back without the owner asking, fencing a writer elected meanwhile.
    if (msg.outcome === 'reject' && this.changes[0]?.stage === 'installing' && this.rules.installNoOutbid) return this.fence(msg.proposal, out);
    if (msg.outcome === 'unknown-config') {
      // A replica that lacks this configuration does not vote: send it the links it lacks, and it answers again.
      const links = this.linksFor(msg.config);
      if (links.length > 0 && links[0]!.epoch === (msg.config?.epoch ?? 0) + 1) return void out.send.push({ to: from, msg: this.promiseRequest(role.rid, role.proposal, links) });
    }
    role.tally.record(from, msg.outcome === 'unknown-config' ? 'ignored' : msg.outcome);
    if (msg.outcome === 'accept') {
      const r: ElectionReply = { reply: msg, slots: msg.slots.slice(), covered: msg.coveredThrough, readAt: this.now };
      role.replies.set(from, r);
      if (r.covered < msg.end) this.readRest(from, r, out);
    }
    if (role.tally.rejectCount > 0 && role.tally.acceptCount + role.tally.rejectCount >= role.tally.quorum) {
      // Someone holds a higher promise: wait a random while, then try above it.
      this.enterBackoff(role.startedAt);
      return;
    }
    if (role.tally.unreachable) {
      this.enterBackoff(role.startedAt);
      return;
    }
    this.maybeElected(out);
  }

  /** A promise reply cut at its byte bound: read the rest of the member's slots (what it accepted since is fine too). */
  protected readRest(from: ReplicaId, r: ElectionReply, out: WriterOutput): void {
    const rid = this.newRid();
    r.readRid = rid;
    r.readAt = this.now;
    out.send.push({ to: from, msg: { type: 'read', rid, from: r.covered + 1, to: r.reply.end, limit: limits.readSlotsMax } });
  }

  protected onElectionRead(from: ReplicaId, msg: ReadReply, out: WriterOutput): void {
    const role = this.role;
    if (role.kind !== 'electing') return;
    const r = role.replies.get(from);
    if (r === undefined || r.readRid !== msg.rid) return;
    r.readRid = undefined;
    for (const s of msg.slots) if (s.position > r.covered) r.slots.push(s);
    r.covered = Math.max(r.covered, Math.min(msg.coveredThrough, r.reply.end));
    if (r.covered < r.reply.end) this.readRest(from, r, out);
    else this.maybeElected(out);
  }

  /**
   * Elected once a quorum promised and each of their reports is complete, and
   * then either every member did or the election grace (WriterConfig) went
   * by. The grace is for liveness: a member that promises after the election
   * is counted only once a quorum of the named members confirms it (see writer.ts's
   * header and writer-counted-members.ts), so a writer that named a bare
   * quorum stalls if one of them dies before a late one is confirmed; naming
   * every member that answers promptly leaves room for a loss.
   */
  protected maybeElected(out: WriterOutput): void {
    const role = this.role;
    if (role.kind !== 'electing') return;
    const complete = [...role.replies].filter(([, r]) => r.covered >= r.reply.end);
    if (complete.length < role.tally.quorum) return;
    role.quorumAt ??= this.now;
    const everyone = complete.length === this.members.length;
    if (everyone || this.now - role.quorumAt >= (this.config.electionGraceMs ?? 0)) this.becomeElected(role.proposal, new Map(complete), out);
  }

  protected enterBackoff(startedAt: number): void {
    const delay = timing.backoffMinMs * (1 + this.config.random());
    this.role = { kind: 'backoff', until: this.now + delay, startedAt };
  }

  /**
   * Settles every position above the quorum's learned prefix with the value
   * Paxos requires (the highest accepted one, else NOP), then writes the
   * election NOP. Sent as the first batches of the new term.
   */
  protected becomeElected(proposal: Proposal, promised: Map<ReplicaId, ElectionReply>, out: WriterOutput): void {
    const replies = [...promised.values()];
    const installed = this.changes[0]?.stage === 'installing' ? this.changes[0] : undefined;
    // R4: L := max(L, p): the entry was chosen and the quorum learned it from the install.
    const learnedThrough = Math.max(installed?.placed?.position ?? -1, ...replies.map((r) => r.reply.learnedThrough));
    // E: the highest position where a quorum member holds a value. Promise-only slots
    // above it hold nothing to preserve (a stray explicit promise must not cost NOPs).
    const end = Math.max(learnedThrough, ...replies.flatMap((r) => r.slots.map((s) => s.position)));
    if (end - learnedThrough > limits.electionSettleMax) {
      // More unsettled positions than an honest quorum can hold (limits.electionSettleMax): refuse to settle them.
      this.failAll({ ok: false, error: 'insane', position: end }, out);
      out.election ??= { ok: false, error: 'insane', position: end };
      this.role = { kind: 'idle' };
      return;
    }
    const best = new Map<Position, Slot>();
    for (const r of replies) {
      for (const s of r.slots) {
        if (s.position <= learnedThrough || s.action === undefined) continue;
        const cur = best.get(s.position);
        if (cur === undefined || rank(s) > rank(cur)) best.set(s.position, s);
      }
    }
    const settle: Action[] = [];
    for (let p = learnedThrough + 1; p <= end; p++) {
      const s = best.get(p);
      settle.push(s !== undefined && this.rules.reproposeAccepted ? s.action! : NOP);
    }
    // R5: a config entry of the next epoch in the settle range is a stop sign: settle up to it, finish
    // that change (R3, R4), and only then write the marker NOP (switch followPending: re-proposed as any value).
    const stop = this.rules.followPending ? settle.findIndex((a) => a.kind === 'config' && a.config.epoch === this.cfg.epoch + 1) : -1;
    let found: Configuration | undefined;
    if (stop >= 0) {
      const entry = settle[stop]!;
      assert(entry.kind === 'config', 'a stop sign is a config entry');
      found = entry.config;
      settle.length = stop;
    }
    const electionPosition = found === undefined ? end + 1 : Number.MAX_SAFE_INTEGER;
    if (installed !== undefined) {
      // The change is complete: a quorum of the new configuration promised and installed it (R4).
      this.changes.shift();
      this.beforeChange = 0;
      if (installed.request !== undefined) report(out, installed.request.id, { ok: true, config: installed.placed! });
    }
    const named = new Map([...promised].map(([id, r]) => [id, { generation: r.reply.generation, disk: r.reply.disk }]));
    const electionRid = (this.role as { rid: number }).rid;
    this.role = {
      kind: 'elected',
      proposal,
      electionLearnedThrough: learnedThrough,
      named,
      candidates: new Map(),
      confirmedAt: new Map([...named.keys()].map((id) => [id, -Infinity])),
      // Empty at first: a batch is older than operationTimeoutMs only past that long after the election.
      acceptedAt: new Map(),
      // Late answers to the election itself are promises like any other (sent before any candidate's
      // promise arrived: order 0 confirms none).
      rounds: new Map([[electionRid, 0]]),
      repromisedAt: this.now,
      confirmSentAt: -Infinity,
      confirmSentOrder: 0,
      next: learnedThrough + 1,
      inflight: [],
      electionPosition,
      electionReported: false,
      committed: { first: -1, through: -1 },
      recommittedAt: this.now,
    };
    // Settled positions go first, through the queue, so the in-flight window bounds them too.
    // (No spread: the settle range may hold up to limits.electionSettleMax positions.)
    const settling: WriterOp[] = settle.map((action) => ({ id: -1, action }));
    if (found === undefined) settling.push({ id: -1, action: NOP });
    else this.changes.unshift({ stage: 'queued', next: found });
    // Operations queued before a change still go before it, after the settled positions.
    if (this.changes.length > 0) this.beforeChange = settling.length + (found === undefined ? this.beforeChange : 0);
    for (const op of this.queue) settling.push(op);
    this.queue.length = 0;
    for (const op of settling) this.queue.push(op);
    this.flush(out);
  }
}
