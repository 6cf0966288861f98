/**
 * The recovery protocol: how a replica that may not vote yet finds out what
 * to become: a member of a new cluster (the two-phase start), a disk that
 * rejoins after a loss (autorecovery), or a restarted disk that may vote at
 * once (the restart check).
 *
 * Two-phase start of a new cluster (no `initialize` command):
 *   EMPTY    -> STARTING  once every member answered EMPTY or STARTING, and
 *                         no data can exist (see below); it persists a *start
 *                         view*: every member's incarnation (data directory);
 *   STARTING -> VOTING    once every member is STARTING with the same view, or
 *                         once a member is VOTING and the restart check's
 *                         tests pass (a STARTING disk never voted, unless it
 *                         is a backup restored after it did: then it rejoins;
 *                         otherwise it joins as an acceptor that simply missed
 *                         every message so far).
 * "No data can exist" is the guard that keeps an empty log from ever being
 * started over data: every member answered, none is VOTING, none holds a
 * record (nor is RECOVERING with a generation: a rejoin), and fewer than a
 * quorum of members may ever have voted (a RECOVERING member may have: its
 * metadata is gone; one that holds nothing joins the start with a new disk). A member never voted if
 * it is STARTING, or EMPTY with the very incarnation a STARTING member saw
 * when it joined the start; an EMPTY member whose incarnation changed since
 * lost its disk, and may have voted before. (When every member is EMPTY and
 * none remembers a start, the cluster is new: a cluster that lost every disk
 * at once looks the same, and docs/protocol.md says so.)
 *
 * Rejoining (autorecovery). A replica that is not VOTING and sees a quorum of
 * VOTING peers lost its state (a wiped, replaced or corrupted disk, or one
 * restored from an older copy). Its old disk may have promised proposals and
 * accepted values that the others never saw; voting as if it had not could
 * choose two values at one position (the forgotten promise and the forgotten
 * acceptance). It rejoins as a new acceptor, a new disk of its member:
 *   1. query: ask a quorum for the disks they know of; take a generation
 *      above every one recorded for this member (and above any a peer refused
 *      with), draw a random disk number, adopt the newest disk known of every
 *      other member (so that a replica whose own disk was replaced does not
 *      forget what it recorded for others), and persist all of it with status
 *      RECOVERING (a crash from here on resumes the rejoin);
 *   2. rejoin: ask every peer to record the new disk durably. From then on each
 *      of them refuses writes that count an older disk of this member
 *      (replica.ts), and only then reports its [begin, end];
 *   3. catch up [max begin, max end] over a quorum of such reports (catchup.ts);
 *   4. persist VOTING. Writers count this disk once it promised them.
 *
 * Restart check. A replica that starts VOTING asks its peers what they know of
 * its disk before it votes: a newer disk recorded for its member, or a
 * promise or end witnessed above its own (a disk restored from an older
 * copy), makes it rejoin instead. It waits for every peer, at most
 * timing.restartCheckMs, and never votes without answers from enough peers
 * that, with itself, they make a quorum (EMPTY peers know nothing of its disk
 * and do not count): until then it keeps asking. Silence is no evidence that
 * the disk did not go back in time. (What this does and does not detect is in
 * docs/protocol.md.)
 */
import { assert, assertNever } from './assert.js';
import { timing } from './constants.js';
import { drawDiskNumber, isRetired, mergeRecorded, ownDisk, sameDisk } from './identity.js';
import { chainOfView, latestOf, oneLinkView, type ConfigView } from './config-view.js';
import { discoverFromReplies } from './discovery.js';
import { keepRecent } from './recent-map.js';
import { configQuorum, headOf, roleIn, voterIds, type Configuration, type PlacedConfiguration } from './membership.js';
import { ALL_RULES_ON, type SafetyRules } from './rules.js';
import type { Metadata, Position, RecoverReply, RecoverRequest, RejoinReply, RejoinRequest, ReplicaId, Status } from './types.js';

export type RecoveryEvent =
  | { readonly type: 'reply'; readonly from: ReplicaId; readonly msg: RecoverReply | RejoinReply }
  | { readonly type: 'tick' }
  /** The status (and metadata) the shell persisted after a `become`. */
  | { readonly type: 'status'; readonly metadata: Metadata }
  /** The catch-up asked for finished: every position of the range is learned and durable. */
  | { readonly type: 'caughtUp' }
  /** The catch-up failed (no quorum in time): start the rejoin over. */
  | { readonly type: 'catchUpFailed' }
  /**
   * A replica outside the configurations known here gossiped a newer head (R13): a member of a newer
   * configuration. Discovery asks it too: when every member this replica knows was retired while it was
   * down or rejoining, the newer members are the only ones that can tell it where the cluster went.
   */
  | { readonly type: 'newerHead'; readonly from: ReplicaId; readonly epoch: number };

/** Metadata fields a recovery step persists together with a new status. */
export type MetadataPatch = Partial<Pick<Metadata, 'generation' | 'disk' | 'recorded' | 'startView' | 'configs'>>;

export interface RecoveryOutput {
  readonly send: { readonly to: ReplicaId; readonly msg: RecoverRequest | RejoinRequest }[];
  /** A status (with metadata fields) to persist durably; the shell then reports it with a 'status' event. */
  become?: { readonly status: Status; readonly patch: MetadataPatch };
  /** Learn every position of [from, to] from the peers, then report 'caughtUp'. */
  catchUp?: { readonly from: Position; readonly to: Position };
  /** Why the replica is not VOTING yet (or not voting yet), when that changed. */
  waiting?: string;
  /** The restart check is over: the replica may vote. */
  checked?: boolean;
  /** This replica's id was removed from the cluster (R7): it never votes again, and recovery stops here. */
  removed?: PlacedConfiguration;
}

export interface RecoveryConfig {
  readonly self: ReplicaId;
  /**
   * config(q) as the replica knows it (read afresh: a replica's view follows
   * its stored chain). Recovery starts from its latest configuration and
   * moves on to the latest one its peers know (R13, discovery.ts): the
   * members whose answers count are that configuration's voters, and a
   * rejoining disk is recorded there and in a pending one too (R9b).
   */
  readonly view?: ConfigView;
  /**
   * False: this replica never starts a new cluster (R11: only a replica
   * started with --bootstrap may; a joining or wiped one waits for a cluster
   * that holds data). Default true, the behaviour before reconfiguration.
   */
  readonly mayStart?: boolean;
  /** Shorthand for a one-link view of these members, all voters (exactly one of `view` and `members`). */
  readonly members?: readonly ReplicaId[];
  readonly metadata: Metadata;
  /** The replica's log end when it started (the restart check compares it with what peers witnessed). */
  readonly end: Position;
  /**
   * The highest proposal the disk promised or accepted anywhere when it started
   * (StoreView.highestProposal): a peer witnesses a promise from the writes that
   * name this disk, and a fill's promise is explicit (per position), so it is
   * compared with this, not with the implicit promise alone. Absent: metadata.promised.
   */
  readonly highestProposal?: number;
  /**
   * The store's learned prefix, read afresh (R9f: a pending config entry's position learned as another
   * value settles its fate). Absent: only the view tells (the entry chained).
   */
  readonly learnedThrough?: () => Position;
  /** The replica's log beginning when it started (a disk that truncated held data). Absent: 0. */
  readonly begin?: Position;
  /** Run the restart check when starting VOTING (default true). */
  readonly restartCheck?: boolean;
  readonly random: () => number;
  readonly rid: () => number;
  /** Wait between rounds: uniform in [roundMs, 2 * roundMs). */
  readonly roundMs?: number;
  readonly rules?: SafetyRules;
}

type Phase =
  /**
   * Asking the peers whether this disk went back in time before it votes:
   * `then` 'vote' for a disk that restarted VOTING (the restart check),
   * 'join' for a STARTING disk that saw a VOTING member (it becomes VOTING).
   */
  | { readonly kind: 'check'; readonly until: number; readonly then: 'vote' | 'join' }
  | { readonly kind: 'init' }
  | { readonly kind: 'query' }
  /**
   * Recording the new disk with a quorum of each of `targets` (the latest configuration and a live pending
   * one, R9b); `awaiting`: the pending config entries whose fate the disk learns before it votes (R9f).
   */
  | { readonly kind: 'rejoin'; readonly generation: number; readonly disk: number; readonly queriedEnd: Position; readonly targets: readonly Configuration[]; readonly awaiting: readonly PendingAt[] }
  /** `attempts`: catch-ups of a pending entry's position that ended without its fate (R9f). */
  | { readonly kind: 'catchingUp'; readonly generation: number; readonly disk: number; readonly targets: readonly Configuration[]; readonly awaiting: readonly PendingAt[]; readonly attempts: number }
  /** Removed from the cluster (R7): no votes, no rounds, for good. */
  | { readonly kind: 'removed' }
  | { readonly kind: 'done' };

/** A pending config entry (R9f): the next epoch's entry at `position`, accepted somewhere and learned nowhere when the disk rejoined. */
interface PendingAt {
  readonly position: Position;
  readonly epoch: number;
}

/** Rounds of a rejoin's recording without a quorum before the rejoin looks for the latest configuration again. */
const REJOIN_ROUNDS_MAX = 4;
/** Catch-ups of a pending entry's position without learning its fate before the rejoin starts over (R9f). */
const PENDING_CATCH_UPS_MAX = 3;
/** Replicas of newer configurations kept to ask (R13, `newerHead`): a newer configuration has a few voters. */
const SEEDS_MAX = 16;
/**
 * A seed not heard from for this long is dropped (members gossip every timing.peerStateMs): a forged
 * stranger that gossiped a huge head once must not hold a place for good.
 */
const SEED_HEARD_MS = 10 * timing.peerStateMs;

interface Round {
  readonly rid: number;
  readonly replies: Map<ReplicaId, RecoverReply | RejoinReply>;
  readonly nextAt: number;
  /** Whom this round asked (discovery adds the members of a newer configuration it finds). */
  readonly asked: Set<ReplicaId>;
}

export class RecoveryCore {
  private meta: Metadata;
  private phase: Phase;
  private round?: Round;
  private lastWaiting = '';
  private now: number;
  private becoming = false;
  /** A generation some peer refused a rejoin with: the next one goes above it. */
  private generationFloor = 0;
  /** Recording rounds of the current rejoin phase so far (a stuck one looks for the latest configuration again). */
  private rejoinRounds = 0;
  /** The restart check's answers so far, the latest per peer, over every round of the check. */
  private readonly checkAnswers = new Map<ReplicaId, RecoverReply>();
  /** Whom the rounds ask: the voters of `latest` and of a live pending configuration, this replica left out. */
  private peers: ReplicaId[];
  /** The voters of the latest configuration known (the stored one, then what discovery found). */
  private members: readonly ReplicaId[];
  private quorum: number;
  /** The latest configuration known, and live pending ones above it (R13). */
  private latest: PlacedConfiguration;
  private pending: readonly Configuration[] = [];
  /** The chain discovery found beyond the stored one, to store with the new disk (R9a). */
  private foundChain: readonly PlacedConfiguration[] | undefined;
  /**
   * Replicas that gossiped a head newer than `latest` (R13), with that epoch: discovery's recover rounds
   * ask them besides `peers` until `latest` reaches their epoch. Only discovery reads their answers.
   */
  private readonly seeds = new Map<ReplicaId, { readonly epoch: number; readonly at: number }>();
  private readonly rules: SafetyRules;
  /** The voters of the configuration the replica started with. */
  private readonly storedVoters: readonly ReplicaId[];
  /** When this core started: a one-voter start waits timing.soloStartQuietMs from here for word of a larger cluster. */
  private readonly startedAt: number;
  /**
   * The newest epoch any replica gossiped above this replica's configuration (R13), kept for good: a seed
   * that told it of a larger cluster and then fell silent (crashed, cut off, expired from `seeds`) is still
   * word of one, and a one-voter start never goes ahead over it (attack of 2026-12-07).
   */
  private heardNewerEpoch = 0;

  constructor(
    private readonly config: RecoveryConfig,
    now: number,
  ) {
    this.meta = config.metadata;
    this.now = now;
    this.startedAt = now;
    assert((config.view === undefined) !== (config.members === undefined), 'recovery takes a view or a member list');
    const latest = latestOf(config.view ?? oneLinkView(config.members!));
    this.latest = latest;
    this.members = voterIds(latest);
    this.storedVoters = this.members;
    this.peers = this.members.filter((m) => m !== config.self);
    this.quorum = configQuorum(latest);
    this.rules = config.rules ?? ALL_RULES_ON;
    const status = this.meta.status;
    this.phase =
      this.rules.removedStaysOut && roleIn(latest, config.self) === undefined && latest.epoch > 0 && config.self < latest.nextId
        ? { kind: 'removed' }
        : status === 'VOTING'
        ? this.peers.length === 0 || config.restartCheck === false
          ? { kind: 'done' }
          : { kind: 'check', until: now + timing.restartCheckMs, then: 'vote' }
        : status === 'RECOVERING'
          ? { kind: 'query' }
          : { kind: 'init' };
  }

  get done(): boolean {
    return this.phase.kind === 'done';
  }
  /** True while a VOTING replica checks with its peers that its disk did not go back in time, or for good once it learned it was removed. */
  get checking(): boolean {
    return (this.phase.kind === 'check' && this.phase.then === 'vote') || (this.phase.kind === 'removed' && this.meta.status === 'VOTING');
  }
  /**
   * True while the peers are asked whether this disk went back in time, whichever way the check ends
   * (a restart's check before voting, or a STARTING disk's before it joins a started cluster).
   */
  get inCheck(): boolean {
    return this.phase.kind === 'check';
  }
  /** True once this replica knows its id was removed from the cluster (R7). */
  get removed(): boolean {
    return this.phase.kind === 'removed';
  }
  get phaseKind(): Phase['kind'] {
    return this.phase.kind;
  }

  step(event: RecoveryEvent, now: number): RecoveryOutput {
    this.now = now;
    const out: RecoveryOutput = { send: [] };
    switch (event.type) {
      case 'status':
        this.becoming = false;
        this.meta = event.metadata;
        this.round = undefined;
        if (this.phase.kind === 'removed') break;
        if (event.metadata.status === 'VOTING') this.phase = { kind: 'done' };
        else this.startRound(out);
        break;
      case 'tick':
        if (this.phase.kind === 'done' || this.phase.kind === 'catchingUp' || this.phase.kind === 'removed' || this.becoming) break;
        if (this.phase.kind === 'check' && now >= this.phase.until && this.checkPasses(out)) break;
        if (this.round === undefined || now >= this.round.nextAt) this.startRound(out);
        break;
      case 'reply':
        if (this.phase.kind === 'removed' || this.round === undefined || event.msg.rid !== this.round.rid) break;
        if (!this.peers.includes(event.from) && !(this.seeds.has(event.from) && event.msg.type === 'recoverReply')) break;
        this.round.replies.set(event.from, event.msg);
        this.decide(out);
        break;
      case 'newerHead':
        this.onNewerHead(event.from, event.epoch, out);
        break;
      case 'caughtUp': {
        const phase = this.phase;
        if (phase.kind !== 'catchingUp') break;
        // R9c: a configuration newer than those the disk was recorded in, learned meanwhile (the catch-up
        // copies config entries into the chain): record it there too before voting.
        const now = this.config.view === undefined ? undefined : latestOf(this.config.view);
        const recordedIn = Math.max(...phase.targets.map((c) => c.epoch));
        // R7: a configuration learned while catching up removed this replica (a pending one it was recorded
        // in too, or a newer one): it stays out.
        // (An id at or above its nextId was never listed: a joiner whose chain starts before its own add.)
        if (now !== undefined && now.epoch > 0 && roleIn(now, this.config.self) === undefined && this.config.self < now.nextId && this.removedHere(out, now)) break;
        if (this.rules.rejoinInPending && now !== undefined && now.epoch > recordedIn) {
          this.setLatest(now, []);
          this.rejoinRounds = 0;
          this.phase = { kind: 'rejoin', generation: phase.generation, disk: phase.disk, queriedEnd: -1, targets: [now], awaiting: phase.awaiting };
          this.say(out, `a newer configuration (epoch ${now.epoch}) was learned while catching up: recording this disk there too`);
          this.startRound(out);
          break;
        }
        if (this.rules.rejoinLearnsPending && this.awaitPending(out, phase)) break;
        this.become(out, 'VOTING', {});
        break;
      }
      case 'catchUpFailed':
        if (this.phase.kind !== 'catchingUp') break;
        this.phase = { kind: 'query' };
        this.startRound(out);
        break;
      default:
        assertNever(event, 'recovery event');
    }
    return out;
  }

  private startRound(out: RecoveryOutput): void {
    if (this.becoming || this.phase.kind === 'removed') return;
    if (this.phase.kind === 'rejoin' && ++this.rejoinRounds > REJOIN_ROUNDS_MAX) {
      // No recording quorum in all these rounds: the configuration recorded in may be stale (changed
      // meanwhile, its members gone). Look for the latest one again rather than retry against it for good.
      this.rejoinRounds = 0;
      this.phase = { kind: 'query' };
      this.say(out, `rejoining: no recording quorum in ${REJOIN_ROUNDS_MAX} rounds; looking for the cluster's latest configuration again`);
    }
    const rid = this.config.rid();
    const roundMs = this.config.roundMs ?? 500;
    const self = this.config.self;
    const phase = this.phase;
    // A recover round asks the seeds too (R13): only discovery reads their answers. A disk is recorded
    // (rejoin) only by the voters of the configurations discovery settled on.
    for (const [id, s] of this.seeds) if (this.now - s.at > SEED_HEARD_MS) this.seeds.delete(id);
    const seeds = phase.kind === 'rejoin' ? [] : [...this.seeds.keys()].filter((id) => !this.peers.includes(id));
    const to = [...this.peers, ...seeds];
    this.round = { rid, replies: new Map(), nextAt: this.now + roundMs * (1 + this.config.random()), asked: new Set(to) };
    const msg: RecoverRequest | RejoinRequest = phase.kind === 'rejoin' ? { type: 'rejoin', rid, member: self, generation: phase.generation, disk: phase.disk } : this.recoverRequest(rid);
    for (const id of to) out.send.push({ to: id, msg });
    this.decide(out);
  }

  private recoverRequest(rid: number): RecoverRequest {
    return { type: 'recover', rid, member: this.config.self, ...(this.storedChain() ? { config: headOf(this.latestStored()) } : {}) };
  }

  /**
   * A replica outside the known configurations gossiped a newer head (R13): keep it as a seed, and ask it
   * at once if a recover round is open. A recording (rejoin) round does not ask it: a rejoin stuck in a
   * stale configuration looks again after REJOIN_ROUNDS_MAX rounds, and a catch-up whose peers all went
   * silent fails (CatchUp gives up), and both then query, seeds included.
   */
  private onNewerHead(from: ReplicaId, epoch: number, out: RecoveryOutput): void {
    if (from === this.config.self || epoch <= this.latest.epoch || this.phase.kind === 'done' || this.phase.kind === 'removed') return;
    this.heardNewerEpoch = Math.max(this.heardNewerEpoch, epoch);
    const known = this.seeds.get(from);
    keepRecent(this.seeds, from, { epoch: Math.max(epoch, known?.epoch ?? 0), at: this.now }, SEEDS_MAX);
    if (known !== undefined) return;
    const round = this.round;
    if (round === undefined || this.becoming || this.phase.kind === 'rejoin' || this.phase.kind === 'catchingUp' || round.asked.has(from)) return;
    round.asked.add(from);
    out.send.push({ to: from, msg: this.recoverRequest(round.rid) });
  }

  private decide(out: RecoveryOutput): void {
    if (this.becoming) return;
    switch (this.phase.kind) {
      case 'check':
        return this.decideCheck(out);
      case 'init':
        return this.decideInit(out);
      case 'query':
        return this.decideQuery(out);
      case 'rejoin':
        return this.decideRejoin(out);
      case 'catchingUp':
      case 'removed':
      case 'done':
        return;
      default:
        assertNever(this.phase, 'recovery phase');
    }
  }

  private recoverReplies(): [ReplicaId, RecoverReply][] {
    return [...this.round!.replies].filter((e): e is [ReplicaId, RecoverReply] => e[1].type === 'recoverReply');
  }

  /**
   * Restart check: a peer that knows a newer disk of this member, or saw this
   * disk further along than it is (the highest promise and end witnessed over
   * every answer), unmasks a restored copy: the replica rejoins as a new disk.
   */
  private decideCheck(out: RecoveryOutput): void {
    for (const [from, r] of this.recoverReplies()) this.checkAnswers.set(from, r);
    // R9d: the witnesses are the members of the latest configuration, found from the answers (R13); those
    // of the stored one answer too (a removed member's table froze: never the only judge).
    if (this.rules.restartCheckLatest && this.discover(out, [...this.checkAnswers], false)) return;
    const why = this.wentBack([...this.checkAnswers]);
    if (why !== undefined) {
      this.phase = { kind: 'query' };
      this.say(out, `this disk went back in time: ${why}; it will not vote, and rejoins as a new disk`);
      this.become(out, 'RECOVERING', {});
      return;
    }
    if (this.peers.every((p) => this.checkAnswers.has(p))) this.finishCheck(out, 'every peer answered');
    else if (this.phase.kind === 'check' && this.now >= this.phase.until) this.checkPasses(out);
  }

  /** Why the answers show that this disk is older than one its peers saw, if they do. */
  private wentBack(answers: readonly [ReplicaId, RecoverReply][]): string | undefined {
    const own = ownDisk(this.meta);
    // A witnessed promise may be explicit (a fill's): the disk held it if its highest proposal is as high.
    // Comparing with the implicit promise alone unmasked healthy disks, and a needless rejoin is not free:
    // two replicas of three rejoining at once wait for each other for good.
    const held = Math.max(this.meta.promised, this.config.highestProposal ?? 0);
    let promised = { value: held, from: 0 };
    let end = { value: this.config.end, from: 0 };
    for (const [from, r] of answers) {
      const known = { generation: r.memberGeneration, disk: r.memberDisk };
      if (isRetired(known, own) && !sameDisk(known, own)) {
        return `r${from} knows a newer disk of this member (generation ${known.generation}, disk ${known.disk}) than this one (generation ${own.generation}, disk ${own.disk})`;
      }
      const w = r.witness;
      if (w === undefined || !sameDisk(w, own)) continue;
      if (w.promised > promised.value) promised = { value: w.promised, from };
      if (w.end > end.value) end = { value: w.end, from };
    }
    if (promised.from !== 0 || end.from !== 0) {
      const who = [...new Set([promised.from, end.from].filter((f) => f !== 0))].map((f) => `r${f}`).join(', ');
      return `${who} saw this disk reach promise ${promised.value} and end ${end.value}; it holds ${held} and ${this.config.end} (restored from an older copy?)`;
    }
    return undefined;
  }

  /**
   * The check's time is up: it passes only with answers from enough peers to
   * make a quorum with this replica (a disk restored from an older copy is
   * unmasked by what its peers saw, and a peer that did not answer told
   * nothing). Otherwise it keeps asking, never voting on silence. EMPTY peers
   * hold no witness of anything and do not count. Returns true if it passed.
   */
  private checkPasses(out: RecoveryOutput): boolean {
    const counted = [...this.checkAnswers].filter(([from, r]) => r.status !== 'EMPTY' && this.members.includes(from)).length;
    const self = this.members.includes(this.config.self) ? 1 : 0;
    if (counted + self >= this.quorum) {
      this.finishCheck(out, `${counted} of ${this.peers.length} peers answered in time, none saw this disk further along`);
      return true;
    }
    this.say(out, `restart check: ${counted} of the ${this.quorum - self} peers needed answered (not counting EMPTY ones); not voting until they do`);
    return false;
  }

  private finishCheck(out: RecoveryOutput, why: string): void {
    const joining = this.phase.kind === 'check' && this.phase.then === 'join';
    const answers = [...this.checkAnswers.values()];
    this.checkAnswers.clear();
    if (joining) {
      // Never voted (no peer saw this disk promise or hold anything it lacks): join as an acceptor
      // that missed every message so far, knowing the disks the others know.
      this.say(out, `joining the started cluster (${why})`);
      const recorded = mergeRecorded(this.meta.recorded, answers.flatMap((r) => r.recorded), this.config.self);
      return this.become(out, 'VOTING', recorded === undefined ? {} : { recorded });
    }
    this.phase = { kind: 'done' };
    this.round = undefined;
    out.checked = true;
    this.say(out, `restart check done (${why}): voting`);
  }

  private decideInit(out: RecoveryOutput): void {
    // A joining or wiped replica finds the cluster's latest configuration through any seed that answers (R13).
    if (this.discover(out, this.recoverReplies(), false)) return;
    if (!this.members.includes(this.config.self)) {
      // Not a voter of its configuration (a learner that joined, R9e): it never takes part in starting a
      // cluster (counting itself, a learner beside one voter found the start complete). It rejoins as a new
      // disk of its member once a quorum of the voters is VOTING, and catches up, as autorecovery does.
      this.phase = { kind: 'query' };
      return this.decideQuery(out);
    }
    const n = this.members.length;
    const replies = this.recoverReplies();
    const me = {
      id: this.config.self, status: this.meta.status, incarnation: this.meta.incarnation, startView: this.meta.startView,
      begin: this.config.begin ?? 0, end: this.config.end, generation: this.meta.generation ?? 0,
    };
    const all = [me, ...replies.map(([id, r]) => ({ id, status: r.status, incarnation: r.incarnation, startView: viewOf(r), begin: r.begin, end: r.end, generation: r.generation }))];
    const voting = all.filter((m) => m.status === 'VOTING').length;
    if (voting > 0) {
      if (this.meta.status === 'STARTING') {
        // A STARTING disk never voted, unless it is a copy of this disk taken while it was STARTING and
        // restored after it voted: the restart check's tests (a peer saw this disk promise or hold more,
        // or knows a newer disk of this member) tell, and then it rejoins as a new disk instead.
        this.phase = { kind: 'check', until: this.now + timing.restartCheckMs, then: 'join' };
        return this.decideCheck(out);
      }
      if (this.meta.status === 'RECOVERING') return; // decideQuery's business: it waits for a quorum of VOTING peers
      this.phase = { kind: 'query' };
      this.say(out, `the cluster already holds data (${voting} VOTING): this replica has no state and rejoins`);
      return this.startRound(out);
    }
    if (this.config.mayStart === false && this.meta.status !== 'STARTING') {
      // R11: only a replica started with --bootstrap starts a cluster. Two joiners seeded with each other
      // (ZooKeeper's split brain) would otherwise each start one of their own.
      return this.say(out, `no member is VOTING (heard from ${all.length - 1} of ${n - 1} peers): waiting for a cluster that holds data; this replica starts none (it was not started with --bootstrap)`);
    }
    if (all.length < n) {
      return this.say(out, `waiting for the other replicas: heard from ${all.length} of ${n}; a new cluster starts once every member answers`);
    }
    // No member is VOTING. A member that holds a record (or truncated) holds this cluster's data, and so
    // does a RECOVERING one with a generation (a rejoin takes one only from a quorum of VOTING peers; a
    // STARTING disk with one joined a start with damaged metadata, below): never start over it.
    // (The EMPTY members among them wait here and rejoin once a quorum is VOTING again.)
    const holding = all.filter((m) => m.end >= 0 || m.begin > 0 || (m.status === 'RECOVERING' && m.generation > 0));
    if (holding.length > 0) {
      return this.say(
        out,
        `will not start an empty log: ${holding.map((m) => `r${m.id} (${m.status})`).join(', ')} hold(s) this cluster's data, and no member is VOTING; ` +
          `waiting for a quorum of VOTING members`,
      );
    }
    // Every member is EMPTY, STARTING, or RECOVERING (damaged metadata) holding nothing. Who can never have voted?
    // A RECOVERING member may have (its status is lost): it counts as one that may have, like a lost disk.
    const starting = all.filter((m) => m.status === 'STARTING');
    // (The view vouches only for an EMPTY member: damaged metadata keeps the incarnation of a disk that may have voted since.)
    const neverVoted = all.filter((m) => m.status === 'STARTING' || (m.status === 'EMPTY' && starting.some((s) => s.startView?.[m.id] === m.incarnation)));
    const everyEmpty = starting.length === 0;
    // With no start under way, an EMPTY member is taken for a new disk (a cluster that lost every disk at once
    // looks new: docs/protocol.md); a RECOVERING one is not: it is a disk whose metadata was damaged, or a VOTING
    // disk holding its votes in its restart check (it answers RECOVERING), and either may have voted. A quorum of
    // them may have chosen values (held by the disks lost meanwhile): never start over that.
    const mayHaveVoted = all.filter((m) => m.status === 'RECOVERING');
    if (everyEmpty && mayHaveVoted.length >= this.quorum) {
      return this.say(
        out,
        `will not start an empty log: ${mayHaveVoted.map((m) => `r${m.id}`).join(', ')} may have voted in this cluster (RECOVERING, or checking their disk); ` +
          `waiting for them to vote again (a new cluster that never started, with that many damaged disks, never will: wipe them to start it)`,
      );
    }
    if (!everyEmpty && n - neverVoted.length >= this.quorum) {
      const lost = all.filter((m) => !neverVoted.includes(m)).map((m) => `r${m.id}`);
      return this.say(
        out,
        `will not start an empty log: ${lost.join(', ')} lost the disk they had when this cluster started, and may have held its data; ` +
          `bring back a disk that holds the data (or wipe every member to start a new cluster)`,
      );
    }
    if (this.meta.status === 'EMPTY' && n === 1) {
      // R11, a one-voter start: no peer can say whether a cluster already holds data (a grown cluster's
      // founder, wiped and restarted with its original --members). The members it grew into know it and
      // gossip to it (a newer head: discovery then finds their configuration, and it rejoins there). Once
      // one did, it never starts alone, even if that member fell silent before discovery was done.
      if (this.heardNewerEpoch > 0) {
        return this.say(out, `a replica told of this cluster's configuration epoch ${this.heardNewerEpoch}: not starting a one-replica cluster; waiting to reach its members (restart with --join to rejoin it)`);
      }
      if (this.now - this.startedAt < timing.soloStartQuietMs) {
        return this.say(out, `a new one-replica cluster starts from an empty disk after ${timing.soloStartQuietMs / 1000} s without word of a larger one; listening meanwhile`);
      }
    }
    const view: Record<number, string> = Object.fromEntries(all.map((m) => [m.id, m.incarnation]));
    if (this.meta.status === 'EMPTY') return this.become(out, 'STARTING', { startView: view });
    if (this.meta.status === 'RECOVERING') {
      // Damaged metadata during the start: this disk holds nothing, and fewer than a quorum may ever have
      // voted, so nothing was chosen; it joins the start. It takes a new disk (a generation above any
      // recorded for it, a random number): a proposer that counted a promise of its damaged metadata
      // must never count this disk for it (its writes naming the old disk are answered stale).
      const generation = 1 + Math.max(this.meta.generation ?? 0, this.generationFloor, ...replies.map(([, r]) => r.memberGeneration));
      this.phase = { kind: 'init' };
      this.say(out, `no member holds data and fewer than a quorum may have voted: joining the start of a new cluster`);
      return this.become(out, 'STARTING', { startView: view, generation, disk: drawDiskNumber(this.config.random) });
    }
    if (!sameView(this.meta.startView, view)) return this.become(out, 'STARTING', { startView: view });
    if (starting.length === n && starting.every((m) => sameView(m.startView, view))) return this.become(out, 'VOTING', {});
    this.say(out, `starting a new cluster: ${starting.length} of ${n} members are STARTING`);
  }

  /** Step 1: a new disk above every one a quorum recorded for this member; the newest disk of every other member adopted. */
  private decideQuery(out: RecoveryOutput): void {
    // R9a: the latest configuration first (R13); a removed id stays out (R7).
    if (this.discover(out, this.recoverReplies(), true)) return;
    const voting = this.recoverReplies().filter(([from, r]) => r.status === 'VOTING' && this.members.includes(from));
    if (voting.length === 0 && this.meta.status === 'RECOVERING' && this.members.includes(this.config.self)) {
      // No member VOTING: maybe a cluster still starting (metadata damaged during the two-phase
      // start). The start decision tells whether it may join the start; it never starts over data.
      // (Not for a replica that is not a voter of its configuration: decideInit sends it back here,
      // and the two called each other until the stack ran out.)
      this.decideInit(out);
      if (this.becoming) return;
    }
    if (voting.length < this.quorum) {
      this.say(out, `rejoining: waiting for a quorum of VOTING peers (${voting.length} of ${this.quorum} answered); not voting meanwhile`);
      return;
    }
    const targets = this.rules.rejoinInPending ? [this.latest, ...this.pending] : [this.latest];
    for (const c of targets.slice(1)) {
      const answered = this.recoverReplies().filter(([from]) => c.voters.some((m) => m.id === from)).length;
      if (answered < configQuorum(c)) {
        this.say(out, `rejoining: waiting for a quorum of the pending configuration (epoch ${c.epoch}: ${answered} of ${configQuorum(c)} answered)`);
        return;
      }
    }
    const recorded = Math.max(this.meta.generation ?? 0, this.generationFloor, ...voting.map(([, r]) => r.memberGeneration));
    const generation = recorded + 1;
    const disk = drawDiskNumber(this.config.random);
    const queriedEnd = Math.max(...voting.map(([, r]) => r.end));
    const adopted = mergeRecorded(this.meta.recorded, voting.flatMap(([, r]) => r.recorded), this.config.self);
    // The chain found is stored only if it is still newer than the stored one: a RECOVERING replica learns
    // committed config entries meanwhile (the store's chain moved on), and an older chain stored over them
    // would leave a learned entry out of its chain (I8, R14; --changes seed 142).
    const found = this.foundChain;
    const storedHead = this.config.view === undefined ? -1 : latestOf(this.config.view).epoch;
    const chain = found !== undefined && found[found.length - 1]!.epoch > storedHead ? found : undefined;
    const awaiting = this.rules.rejoinLearnsPending ? this.pendingPositions(targets.slice(1)) : [];
    this.rejoinRounds = 0;
    this.phase = { kind: 'rejoin', generation, disk, queriedEnd, targets, awaiting };
    this.become(out, 'RECOVERING', { generation, disk, ...(adopted === undefined ? {} : { recorded: adopted }), ...(chain === undefined ? {} : { configs: chain }) });
  }

  /** Step 2: a quorum recorded the new disk; the range they report after recording is the one to catch up. */
  private decideRejoin(out: RecoveryOutput): void {
    const phase = this.phase;
    if (phase.kind !== 'rejoin') return;
    const entries = [...this.round!.replies].filter((e): e is [ReplicaId, RejoinReply] => e[1].type === 'rejoinReply');
    const replies = entries.map(([, r]) => r);
    const removed = replies.find((r) => r.removed !== undefined)?.removed;
    if (removed !== undefined && this.removedHere(out, removed)) return;
    const refused = replies.filter((r) => r.outcome === 'reject');
    if (refused.length > 0) {
      // Someone recorded a newer disk for this member: query again, and go above what it refused with.
      this.generationFloor = Math.max(this.generationFloor, ...refused.map((r) => r.generation));
      this.phase = { kind: 'query' };
      this.round = undefined;
      return this.startRound(out);
    }
    const acceptedFrom = entries.filter(([, r]) => r.outcome === 'accept');
    const accepted = acceptedFrom.map(([, r]) => r);
    // R9b: recorded by a quorum of each target (the latest configuration, and a pending one): every
    // configuration that may still count the old disk refuses it from now on.
    for (const c of phase.targets) {
      const n = acceptedFrom.filter(([from]) => from !== this.config.self && c.voters.some((m) => m.id === from)).length;
      if (n < configQuorum(c)) {
        const which = phase.targets.length > 1 ? ` (epoch ${c.epoch})` : '';
        this.say(out, `rejoining with generation ${phase.generation}: ${n} of ${configQuorum(c)} peers${which} recorded it`);
        return;
      }
    }
    const begin = Math.max(...accepted.map((r) => r.begin));
    const end = this.rules.catchUpAfterRecording ? Math.max(...accepted.map((r) => r.end)) : phase.queriedEnd;
    this.phase = { kind: 'catchingUp', generation: phase.generation, disk: phase.disk, targets: phase.targets, awaiting: phase.awaiting, attempts: 0 };
    this.round = undefined;
    this.say(out, `rejoining with generation ${phase.generation}: catching up positions [${begin}, ${end}]`);
    out.catchUp = { from: begin, to: end };
  }

  /** The positions of the pending entries of `pending` (R9f), as the query's answers report them. */
  private pendingPositions(pending: readonly Configuration[]): PendingAt[] {
    const out: PendingAt[] = [];
    for (const [, r] of this.recoverReplies()) {
      const e = r.pending;
      if (e === undefined || !pending.some((c) => c.epoch === e.config.epoch) || out.some((a) => a.position === e.position)) continue;
      out.push({ position: e.position, epoch: e.config.epoch });
    }
    return out;
  }

  /**
   * R9f: a rejoining disk votes only once it knows the fate of each config entry that was pending when it
   * rejoined: its chain holds the entry's epoch (learned with its floor), or it learned the position as
   * another value. Its lost disk may have accepted the entry and so made it chosen in the old configuration
   * while nobody learned it; voting without it, this disk and an old voter that never accepted it could
   * elect a writer that never sees it (the forgotten acceptance, for a config entry). While the fate is
   * unknown it catches up the entry's position again (a fill there settles it under R3), and after
   * PENDING_CATCH_UPS_MAX tries it starts the rejoin over. Returns true while it waits.
   */
  private awaitPending(out: RecoveryOutput, phase: Phase & { kind: 'catchingUp' }): boolean {
    const head = this.config.view === undefined ? this.latest.epoch : latestOf(this.config.view).epoch;
    const learned = this.config.learnedThrough?.() ?? -1;
    const open = phase.awaiting.filter((a) => head < a.epoch && learned < a.position);
    if (open.length === 0) return false;
    const at = Math.min(...open.map((a) => a.position));
    if (phase.attempts >= PENDING_CATCH_UPS_MAX) {
      this.phase = { kind: 'query' };
      this.say(out, `rejoining: the fate of the config entry pending at ${at} is still unknown after ${phase.attempts} catch-ups; starting the rejoin over`);
      this.startRound(out);
      return true;
    }
    this.phase = { ...phase, attempts: phase.attempts + 1 };
    this.say(out, `rejoining: caught up, but the config entry pending at ${at} (epoch ${open.find((a) => a.position === at)!.epoch}) is not learned here yet: catching up its position before voting`);
    out.catchUp = { from: at, to: at };
    return true;
  }

  /** Whether the replica stores a chain (a recover request then carries its head; without one, a replier sends its whole chain). */
  private storedChain(): boolean {
    return (this.meta.configs?.length ?? 0) > 0;
  }

  private latestStored(): PlacedConfiguration {
    const c = this.meta.configs!;
    return c[c.length - 1]!;
  }

  /** Moves the rounds to `latest` and `pending`: their voters are asked, the latest's quorum counts. */
  private setLatest(latest: PlacedConfiguration, pending: readonly Configuration[]): boolean {
    const before = this.peers.join(',');
    this.latest = latest;
    this.pending = pending;
    this.members = voterIds(latest);
    this.quorum = configQuorum(latest);
    const ask = new Set(this.members);
    for (const c of pending) for (const m of c.voters) ask.add(m.id);
    // R9d: the restart check asks the voters of its stored configuration too (they may have seen this disk).
    if (this.phase.kind === 'check') for (const id of this.storedVoters) ask.add(id);
    ask.delete(this.config.self);
    this.peers = [...ask].sort((a, b) => a - b);
    // A seed has told what it knew once the latest configuration is as new as its head.
    for (const [id, s] of this.seeds) if (s.epoch <= latest.epoch) this.seeds.delete(id);
    return this.peers.join(',') !== before;
  }

  /**
   * R13 over `replies`: moves to the latest configuration they show (asking
   * its voters at once if they were not asked yet) and stops for good if
   * this replica was removed. Returns true if the caller must not go on.
   */
  private discover(out: RecoveryOutput, replies: readonly (readonly [ReplicaId, RecoverReply])[], withPending: boolean): boolean {
    // What this replica knows already (its chain, or what an earlier round found): discovery never moves back.
    let own: readonly PlacedConfiguration[] = this.config.view === undefined ? [this.latest] : chainOfView(this.config.view);
    if (this.foundChain !== undefined && this.foundChain[this.foundChain.length - 1]!.epoch > own[own.length - 1]!.epoch) own = this.foundChain;
    if (this.latest.epoch > own[own.length - 1]!.epoch) own = [this.latest];
    const d = discoverFromReplies(this.config.self, own, this.storedChain(), replies);
    if (this.removedHere(out, d.removed)) return true;
    if (d.chain !== undefined) this.foundChain = d.chain;
    const pending = withPending ? d.pending : [];
    const moved = d.latest.epoch !== this.latest.epoch;
    if (this.setLatest(d.latest, pending) || moved) {
      if (moved) this.say(out, `the cluster's configuration is at epoch ${d.latest.epoch} (voters ${voterIds(d.latest).join(', ')}): asking its members`);
      const round = this.round;
      if (round !== undefined) {
        // Ask the members not asked in this round yet, in this round (their answers count with the others').
        for (const to of this.peers) {
          if (round.asked.has(to)) continue;
          round.asked.add(to);
          out.send.push({ to, msg: this.recoverRequest(round.rid) });
        }
      }
    }
    return false;
  }

  /** R7: a replica whose id the cluster removed stops here, for good: it never votes again. */
  private removedHere(out: RecoveryOutput, removed: PlacedConfiguration | undefined): boolean {
    if (removed === undefined || !this.rules.removedStaysOut) return false;
    this.phase = { kind: 'removed' };
    this.round = undefined;
    this.checkAnswers.clear();
    out.removed = removed;
    this.say(out, `removed from the cluster at epoch ${removed.epoch} (position ${removed.position}); not voting, and not rejoining (ids are never reused)`);
    return true;
  }

  private become(out: RecoveryOutput, status: Status, patch: MetadataPatch): void {
    const from = this.meta.status;
    assert(!this.becoming && this.phase.kind !== 'removed' && this.phase.kind !== 'done', `a status change (${from} -> ${status}) in phase ${this.phase.kind}${this.becoming ? ', another under way' : ''}`);
    assert(BECOMES[from].includes(status), `no way from ${from} to ${status}`);
    // A disk that may have voted as another one takes a new identity, above the one it had (R9).
    assert(patch.generation === undefined || patch.generation > (this.meta.generation ?? 0), `a new disk's generation ${patch.generation} is not above ${this.meta.generation ?? 0}`);
    // VOTING only at the end of a start (every member STARTING with one view, or a STARTING disk joining a
    // started cluster after its check), or of a rejoin's catch-up.
    assert(status !== 'VOTING' || (from === 'STARTING' ? this.phase.kind === 'init' || this.phase.kind === 'check' : this.phase.kind === 'catchingUp'), `${from} -> VOTING in phase ${this.phase.kind}`);
    this.becoming = true;
    this.round = undefined;
    out.become = { status, patch };
  }

  private say(out: RecoveryOutput, why: string): void {
    if (why === this.lastWaiting) return;
    this.lastWaiting = why;
    out.waiting = why;
  }
}

/** The status changes the recovery makes (a VOTING disk that went back in time rejoins as a new disk). */
const BECOMES: Readonly<Record<Status, readonly Status[]>> = {
  EMPTY: ['STARTING', 'RECOVERING'],
  STARTING: ['STARTING', 'VOTING', 'RECOVERING'],
  RECOVERING: ['RECOVERING', 'STARTING', 'VOTING'],
  VOTING: ['RECOVERING'],
};

function viewOf(r: RecoverReply): Record<number, string> | undefined {
  return r.startView === undefined ? undefined : Object.fromEntries(r.startView.map((e) => [e.id, e.incarnation]));
}

function sameView(a: Readonly<Record<number, string>> | undefined, b: Readonly<Record<number, string>>): boolean {
  if (a === undefined) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[Number(k)] === b[Number(k)]);
}
