/**
 * Workload shapes: episodes drawn from the seed that build, on purpose, the
 * situations the protocol's rules protect, so that a checker can see a rule
 * break (test/sim/planted-bugs.ts measures it). Random faults alone rarely
 * build them: a later batch chosen before an earlier one, a read meeting a
 * position held but not learned, two values accepted at one position under
 * different proposals, an IGNORED answer arriving before the last acceptance.
 *
 * - `pipeline`: one writer keeps many small batches in flight while readers
 *   read the tail.
 * - `laggard`: the same, with one replica's links to the writers slow (it
 *   receives old batches late and answers reads from behind), or every
 *   writer link slow (positions sit accepted and unlearned for a while).
 * - `ignored`: the same, and a replica restarts (its restart check answers
 *   IGNORED) while another is slow.
 * - `duel`: writer A writes to a minority only and dies; writer B, elected by
 *   the other replicas, writes over the same positions (and may die before
 *   its commit); then a third writer (with lossy links to A's replicas) or a
 *   reader's fill must settle positions where two values sit under different
 *   proposals.
 * - `clash`: two writer generations with the same proposal floor elect at the
 *   same instant (two proposers at one number) and both write.
 * - `orphan`: a writer dies after its values reached a minority, or a quorum
 *   without a commit; a later writer (replies reordered) or a reader's fill
 *   must settle them.
 * - `named-wipe`: a member the elected writer counts loses its disk and
 *   rejoins under a new one while the writer keeps writing: its answers come
 *   from another disk than the one that promised (the writer drops it from
 *   the members it counts and sends again what named the old disk), and it
 *   is counted again only once it confirms the writer's promise.
 *
 * The plan uses a PRNG of its own (drawn from the seed) so a run's classic
 * configuration stays what it was; SimOptions.shapes = false (the CLI's
 * --no-shapes) runs without them, as before (the pinned seeds of
 * core-regressions and open-findings are classic runs).
 */
import { ChangeEpisodes, type ChangeHost, type ChangeKind } from './change-shapes.js';
import type { ReaderClient, WriterClient } from './clients.js';
import type { LinkRule, SimNetwork } from './network.js';
import type { Prng } from './prng.js';
import type { ReplicaNode } from './replica-node.js';

export type EpisodeKind = 'pipeline' | 'laggard' | 'ignored' | 'duel' | 'clash' | 'orphan' | 'named-wipe' | ChangeKind;

const CHANGE_KINDS: ReadonlySet<EpisodeKind> = new Set<EpisodeKind>(['grow', 'shrink', 'replace', 'change-wipe', 'change-duel', 'moved-on']);

/** True if the plan changes the membership (the run then stores chains and follows the true chain). */
export function changesMembers(plan: ShapePlan): boolean {
  return plan.episodes.some((e) => CHANGE_KINDS.has(e.kind));
}

export interface Episode {
  readonly kind: EpisodeKind;
  /** duel, orphan: who settles what the dead writers left: a new writer, or a reader's fill (writers quiet meanwhile). */
  readonly settle: 'writer' | 'read';
}

/** The episodes of a run, one after another, in an order of the seed's. */
export interface ShapePlan {
  readonly episodes: readonly Episode[];
}

export const NO_SHAPES: ShapePlan = { episodes: [] };

/** Long enough that no writer counts as active any more (timing.writerActiveMs) and a read fills. */
const QUIET_MS = 4_500;

/**
 * Every kind, the settling ones twice (once settled by a writer, once by
 * readers), in an order of the seed's; then two membership changes
 * (change-shapes.ts): a grow (3 replicas) or a shrink (5), or a replace, then
 * one more of any kind. The changes come last and are drawn after the
 * shuffle, so the episodes before them are the ones a seed had before.
 */
export function drawShapes(prng: Prng, replicas = 3): ShapePlan {
  const kinds: Episode[] = [
    { kind: 'pipeline', settle: 'writer' },
    { kind: 'laggard', settle: 'writer' },
    { kind: 'ignored', settle: 'writer' },
    { kind: 'clash', settle: 'writer' },
    { kind: 'duel', settle: 'writer' },
    { kind: 'duel', settle: 'read' },
    { kind: 'orphan', settle: 'writer' },
    { kind: 'orphan', settle: 'read' },
    // The settling episodes build the rarest states (two values under two proposals at one position,
    // a commit reaching a replica that holds another proposal's value): a second round of each.
    { kind: 'duel', settle: 'writer' },
    { kind: 'duel', settle: 'read' },
    { kind: 'orphan', settle: 'writer' },
  ];
  const episodes = prng.shuffle(kinds);
  const changes = drawChanges(prng, replicas, 2);
  // Drawn last, so the episodes before it are those of the seeds pinned before it existed.
  const namedWipe: Episode[] = prng.chance(0.5) ? [{ kind: 'named-wipe', settle: 'writer' }] : [];
  return { episodes: [...episodes, ...changes, ...namedWipe] };
}

/**
 * Membership changes only (SimOptions.changesOnly, the CLI's --changes):
 * `count` change episodes and nothing else, a run of about a second of CPU
 * where a full plan takes several (the rule-switch tests use it).
 */
export function drawChangeShapes(prng: Prng, replicas: number, count = 4): ShapePlan {
  return { episodes: drawChanges(prng, replicas, count, true) };
}

/** A grow (3 replicas) or a shrink (5), or a replace; then `count - 1` more of any kind (and, in change runs, maybe a moved-on). */
function drawChanges(prng: Prng, replicas: number, count: number, movedOn = false): Episode[] {
  const first: ChangeKind = prng.chance(0.7) ? (replicas < 5 ? 'grow' : 'shrink') : 'replace';
  const out: Episode[] = [{ kind: first, settle: 'writer' }];
  for (let i = 1; i < count; i++) {
    out.push({ kind: prng.pick<ChangeKind>(['change-wipe', 'change-wipe', 'change-duel', 'replace', replicas < 5 ? 'shrink' : 'grow']), settle: 'writer' });
  }
  // Change runs only (the full plans are long enough), and drawn last, so that the episodes drawn before it
  // are those of the seeds pinned before it existed.
  if (movedOn && prng.chance(0.3)) out.push({ kind: 'moved-on', settle: 'writer' });
  return out;
}

export function describeShapes(plan: ShapePlan): string {
  return plan.episodes.map((e) => `${e.kind}${e.kind === 'duel' || e.kind === 'orphan' ? `/${e.settle}` : ''}`).join(',');
}

/** What the episodes drive: the simulation's clients, replicas, network and clock. */
export interface ShapeHost extends ChangeHost {
  readonly net: SimNetwork;
  now(): number;
  /** Runs `fn` after `delayMs` of simulated time (during the fault phase only). */
  at(delayMs: number, fn: () => void): void;
  trace(text: string): void;
  writerClients(): WriterClient[];
  readerClients(): ReaderClient[];
  replicaNodes(): ReplicaNode[];
  quorum(): number;
  /** A writer client more (a duel needs two). */
  addWriter(): WriterClient;
  /** Background writers and takeovers pause until this time (an episode's writers act alone). */
  quietUntil(ms: number): void;
  /** While an episode runs, the random faults (crashes, partitions, failed syncs, takeovers) hold off: it builds its own. */
  calm(on: boolean): void;
  /** The replica's process crashes (no damage) and restarts after `downMs`. */
  bounce(node: ReplicaNode, downMs: number): void;
}

const isWriter = (a: string): boolean => /^w/.test(a);
const isReplica = (a: string): boolean => /^r\d+$/.test(a);
const MAX = Number.MAX_SAFE_INTEGER;
/** How long a step waits for what it needs (an election won, a quorum VOTING) before it goes on regardless. */
const WAIT_MS = 3_000;
/** How long the pumping episodes run. */
const PUMP_MS = [600, 1_200] as const;

export class Shapes {
  private readonly changes: ChangeEpisodes;

  constructor(
    private readonly host: ShapeHost,
    private readonly prng: Prng,
    private readonly plan: ShapePlan,
  ) {
    this.changes = new ChangeEpisodes(
      host,
      prng,
      () => this.leader(),
      (w) => this.second(w),
      (w, ms) => this.pump(w, ms, true),
    );
  }

  /**
   * Runs the episodes one after another; `done` when the last one ends.
   * Random faults strike between episodes (for a while); then they hold off
   * until every replica votes again (bounded), and through the episode.
   */
  start(done: () => void): void {
    const next = (i: number): void => {
      const e = this.plan.episodes[i];
      if (e === undefined) return done();
      this.host.calm(true);
      this.when(
        () => this.ready(),
        () => {
          this.host.trace(`EPISODE ${i + 1}/${this.plan.episodes.length} ${e.kind}${e.kind === 'duel' || e.kind === 'orphan' ? `/${e.settle}` : ''}`);
          this.run(e, () => {
            this.host.calm(false);
            this.host.at(this.prng.int(200, 1_500), () => next(i + 1));
          });
        },
        10_000,
      );
    };
    this.host.at(this.prng.int(100, 500), () => next(0));
  }

  private run(e: Episode, done: () => void): void {
    switch (e.kind) {
      case 'pipeline':
        return this.elected(this.leader(), (w) => this.pump(w, this.prng.int(...PUMP_MS), true, done));
      case 'laggard':
        return this.laggard(done);
      case 'ignored':
        return this.ignored(done);
      case 'duel':
        return this.duel(e, done);
      case 'clash':
        return this.clash(done);
      case 'orphan':
        return this.orphan(e, done);
      case 'named-wipe':
        return this.namedWipe(done);
      default:
        return this.changes.run(e.kind, done);
    }
  }

  // ------------------------------------------------------------ helpers

  /** Polls `cond` every 10 ms; runs `then` once it holds, or after `timeoutMs` regardless. */
  private when(cond: () => boolean, then: () => void, timeoutMs = WAIT_MS): void {
    const until = this.host.now() + timeoutMs;
    const poll = (): void => (cond() || this.host.now() >= until ? then() : this.host.at(10, poll));
    poll();
  }

  /** Ready for an episode: no partition left, and every replica up and voting (the wait is bounded: then it begins regardless). */
  private ready(): boolean {
    return this.host.net.blockedLinks === 0 && this.host.replicaNodes().every((n) => n.up && n.status === 'VOTING' && !n.holdsVotes);
  }

  /** Elects `w` (unless it is elected) and runs `then` once it is, or is fenced, or the wait ends. */
  private elected(w: WriterClient, then: (w: WriterClient) => void): void {
    this.wake(w);
    if (w.core.roleKind !== 'elected') w.elect();
    // Elected and its election NOP chosen (electedAt): a burst before that would only queue behind it.
    this.when(() => (w.core.roleKind === 'elected' && w.electedAt !== undefined) || w.fenced || w.dead, () => then(w));
  }

  /** The writer that drives an episode: the first live one (revived or renewed if it must be). */
  private leader(): WriterClient {
    const w = this.host.writerClients().find((x) => !x.dead) ?? this.host.writerClients()[0]!;
    this.wake(w);
    return w;
  }

  private wake(w: WriterClient): void {
    if (w.dead) w.revive();
    else if (w.fenced) w.renew();
  }

  /** A new writer generation of `w` above `floor` (its election is then its own, and reported). */
  private fresh(w: WriterClient, floor = 0): WriterClient {
    if (w.dead) w.revive(floor);
    else w.renew(floor);
    return w;
  }

  private second(first: WriterClient): WriterClient {
    const w = this.host.writerClients().find((x) => x !== first) ?? this.host.addWriter();
    this.wake(w);
    return w;
  }

  /** A link rule in force for `ms`. */
  private rule(ms: number, rule: LinkRule): void {
    this.host.net.linkRules.add(rule);
    this.host.at(ms, () => this.host.net.linkRules.delete(rule));
  }

  /** Blocks the links from `from` to each of `to`; returns the unblock. */
  private block(from: string, to: readonly ReplicaNode[]): () => void {
    for (const n of to) this.host.net.block(from, n.addr);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const n of to) this.host.net.unblock(from, n.addr);
    };
  }

  /** Many small batches in flight for `ms` (a flush each), tail reads meanwhile; then `done`. */
  private pump(w: WriterClient, ms: number, reads: boolean, done?: () => void): void {
    const until = this.host.now() + ms;
    const step = (): void => {
      if (this.host.now() >= until || w.dead) return;
      if (w.fenced) w.renew();
      if (w.pending.size < 48) w.submit(this.prng.int(1, 3));
      this.host.at(this.prng.int(2, 10), step);
    };
    step();
    if (reads) this.tailReads(ms);
    if (done !== undefined) this.host.at(ms, done);
  }

  /** Readers read the tail of the log (and ask for bounds) every few ms. */
  private tailReads(ms: number): void {
    const until = this.host.now() + ms;
    const step = (): void => {
      if (this.host.now() >= until) return;
      const r = this.prng.pick(this.host.readerClients());
      if (r.pending.size < 3) {
        if (this.prng.chance(0.2)) r.bounds();
        else r.read(Math.max(0, this.top() - this.prng.int(0, 12)), this.prng.chance(0.7) ? MAX : this.top() + this.prng.int(0, 4));
      }
      this.host.at(this.prng.int(8, 40), step);
    };
    step();
  }

  /** The highest position any writer saw acknowledged. */
  private top(): number {
    return Math.max(0, ...this.host.writerClients().map((w) => w.lastAcked));
  }

  /**
   * Splits the replicas into a minority and the quorum of the others, the
   * minority (or, `namedMajority`, the quorum) among the members `w` counts:
   * a writer sends its writes to those only.
   */
  private split(w: WriterClient, namedMajority = false): { minority: ReplicaNode[]; majority: ReplicaNode[] } {
    const named = w.core.namedMembers;
    const all = this.prng.shuffle(this.host.replicaNodes()).sort((x, y) => Number(named.has(y.id)) - Number(named.has(x.id)));
    if (namedMajority) all.reverse();
    const k = this.prng.int(1, all.length - this.host.quorum());
    return { minority: all.slice(0, k), majority: all.slice(k) };
  }

  /**
   * A few batches at once, which the writer never hears about (the replies to
   * it are blocked): it cannot count or commit them. Then `then`, once they
   * have had time to arrive and be made durable.
   */
  private burst(w: WriterClient, then: () => void): void {
    const n = this.prng.int(1, 4);
    const replicas = this.host.replicaNodes();
    for (const r of replicas) this.host.net.block(r.addr, w.id);
    const id = w.id;
    for (let i = 0; i < n; i++) this.host.at(i * this.prng.int(1, 8), () => w.submit(this.prng.int(1, 3)));
    // Past one retransmission (timing.retransmitMs): a lost write is sent again before the writer dies.
    this.host.at(n * 8 + this.prng.int(250, 450), () => {
      for (const r of replicas) this.host.net.unblock(r.addr, id);
      then();
    });
  }

  private reviveAll(): void {
    for (const w of this.host.writerClients()) if (w.dead) w.revive();
  }

  // ------------------------------------------------------------ episodes

  private laggard(done: () => void): void {
    const ms = this.prng.int(...PUMP_MS);
    const extraMs = this.prng.pick([30, 80, 200, 400]);
    this.elected(this.leader(), (w) => {
      if (this.prng.chance(0.6)) {
        // One replica behind the writers: it receives old batches late and answers reads from behind.
        const x = this.prng.pick(this.host.replicaNodes());
        const oneWay = this.prng.chance(0.5);
        this.host.trace(`LAGGARD ${x.addr} (+${extraMs}ms from the writers${oneWay ? '' : ', both ways'})`);
        this.rule(ms, { match: (f, t) => (isWriter(f) && t === x.addr) || (!oneWay && f === x.addr && isWriter(t)), extraMs, loss: 0 });
      } else {
        // Every writer link slow: positions sit accepted and unlearned, readers see them pending.
        this.host.trace(`LAGGARD writers (+${extraMs}ms every writer link)`);
        this.rule(ms, { match: (f, t) => isWriter(f) || isWriter(t), extraMs, loss: 0 });
      }
      this.pump(w, ms, true, done);
    });
  }

  private ignored(done: () => void): void {
    const ms = this.prng.int(...PUMP_MS);
    this.elected(this.leader(), (w) => {
      const [x, y] = this.prng.shuffle(this.host.replicaNodes()) as [ReplicaNode, ReplicaNode];
      const extraMs = this.prng.pick([20, 60, 150]);
      this.host.trace(`IGNORED: ${x.addr} restarts (its restart check answers IGNORED), ${y.addr} slow (+${extraMs}ms)`);
      this.rule(ms, { match: (f, t) => isWriter(f) && t === y.addr, extraMs, loss: 0 });
      this.pump(w, ms, true, done);
      // Its peers answer it slowly, so its restart check (IGNORED meanwhile) lasts; again and again.
      this.rule(ms, { match: (f, t) => isReplica(f) && t === x.addr, extraMs: this.prng.pick([50, 150]), loss: 0 });
      for (let at = this.prng.int(50, 250); at < ms - 100; at += this.prng.int(200, 400)) {
        this.host.at(at, () => {
          if (x.up) this.host.bounce(x, this.prng.int(5, 40));
        });
      }
    });
  }

  /**
   * A writes to a minority and dies; B, elected by the others, writes over the
   * same positions (and may die before it commits); then they are settled.
   */
  private duel(e: Episode, done: () => void): void {
    this.host.quietUntil(this.host.now() + 60_000);
    const a = this.fresh(this.leader());
    const b = this.second(a);
    this.elected(a, () => {
      const { minority, majority } = this.split(a);
      this.host.trace(`DUEL ${a.id} to ${minority.map((n) => n.addr).join(',')} only, then ${b.id} by ${majority.map((n) => n.addr).join(',')}`);
      const unblockA = this.block(a.id, majority);
      this.burst(a, () => {
        a.die();
        unblockA();
        // B elects afresh, above A: a new generation (an elected B of an earlier episode would write under an old number).
        this.fresh(b, a.core.highestProposalSeen);
        const unblockB = this.block(b.id, minority);
        this.elected(b, () => {
          const orphan = e.settle === 'read' || this.prng.chance(0.5);
          this.burst(b, () => {
            unblockB();
            if (orphan) b.die();
            // The settler's first quorum should hold both values: all of B's replicas but one answer late.
            this.host.at(this.prng.int(30, 150), () => this.settle(e, minority, majority.slice(1), done));
          });
        });
      });
    });
  }

  /** Two writer generations with one proposal floor elect at the same instant and both write. */
  private clash(done: () => void): void {
    this.host.quietUntil(this.host.now() + 60_000);
    const a = this.leader();
    const b = this.second(a);
    const floor = Math.max(a.core.highestProposalSeen, b.core.highestProposalSeen);
    a.renew(floor);
    b.renew(floor);
    this.host.trace(`CLASH ${a.id} and ${b.id} elect above b${floor}`);
    a.elect();
    this.host.at(this.prng.int(0, 5), () => b.elect());
    this.when(
      () => a.core.roleKind === 'elected' || b.core.roleKind === 'elected',
      () => {
        const ms = this.prng.int(300, 600);
        this.pump(a, ms, false);
        this.pump(b, ms, true, () => {
          this.host.quietUntil(0);
          done();
        });
      },
    );
  }

  /**
   * A member the elected writer counts is wiped and rejoins (a new disk). Half the time the writer keeps
   * writing meanwhile: a peer that recorded the new disk answers a write naming the old one 'stale', and the
   * writer stops counting it (onStale). Else the writer is idle until the member votes again: only its
   * confirming promise round then meets the new disk, which answers first (dropNamed), then it writes on.
   */
  private namedWipe(done: () => void): void {
    const idle = this.prng.chance(0.5);
    const ms = this.prng.int(...PUMP_MS);
    const downMs = this.prng.int(20, 300);
    this.elected(this.leader(), (w) => {
      const named = this.host.replicaNodes().filter((n) => n.up && !n.retired && w.core.namedMembers.has(n.id));
      const x = named.length > 0 ? this.prng.pick(named) : undefined;
      const wiped = x !== undefined && this.host.wipeNow(x, downMs);
      this.host.trace(`NAMED-WIPE ${x?.addr ?? '(no named member up)'}, named by ${w.id}${wiped ? `, back after ${downMs}ms, the writer ${idle ? 'idle' : 'writing'} meanwhile` : ': not wiped'}`);
      if (!wiped || !idle) return this.pump(w, ms, true, done);
      // The episode's writer alone, and quiet, until the member votes again (bounded).
      this.host.quietUntil(this.host.now() + 20_000);
      this.when(
        () => x.up && x.status === 'VOTING' && !x.holdsVotes,
        // Past a confirming round (timing.recommitMs): the new disk answers it while the old one is still named.
        () => this.host.at(this.prng.int(1_100, 2_000), () => {
          this.host.quietUntil(0);
          this.pump(w, ms, true, done);
        }),
        15_000,
      );
    });
  }

  /** A writer dies after its values reached a minority, or a quorum without a commit; then they are settled. */
  private orphan(e: Episode, done: () => void): void {
    this.host.quietUntil(this.host.now() + 60_000);
    const a = this.fresh(this.leader());
    const toQuorum = this.prng.chance(0.5);
    this.elected(a, () => {
      // A's values reach a minority (not chosen), or exactly a quorum (chosen, and no one learns them).
      const { minority, majority } = this.split(a, toQuorum);
      const reach = toQuorum ? majority : minority;
      const rest = this.host.replicaNodes().filter((n) => !reach.includes(n));
      this.host.trace(`ORPHAN ${a.id} writes to ${reach.map((n) => n.addr).join(',')} and dies`);
      const unblock = this.block(a.id, rest);
      this.burst(a, () => {
        a.die();
        unblock();
        // The settler hears first from replicas that lack A's values: the holders answer late.
        this.host.at(this.prng.int(30, 150), () => this.settle(e, reach, reach, done));
      });
    });
  }

  /**
   * What dead writers left is settled by a new writer generation (its writes
   * to `lossy` are lost half the time: a commit may arrive where its write did
   * not), or by readers while every writer is quiet long enough for a read to
   * fill. Replies from `slow` come late, so the settler's first quorum is the
   * others'. Then the background writers go on.
   */
  private settle(e: Episode, lossy: readonly ReplicaNode[], slow: readonly ReplicaNode[], done: () => void): void {
    const extraMs = this.prng.pick([40, 100, 200]);
    const late = (f: string, t: string): boolean => slow.some((n) => n.addr === f) && !isReplica(t);
    const finish = (): void => {
      this.reviveAll();
      this.host.quietUntil(0);
      done();
    };
    if (e.settle === 'read') {
      this.host.trace(`SETTLE by readers (writers quiet; ${slow.map((n) => n.addr).join(',') || 'none'} answer late)`);
      this.rule(QUIET_MS, { match: late, extraMs, loss: 0 });
      const lo = Math.max(0, this.top() - 4);
      for (const r of this.host.readerClients()) r.read(lo, MAX);
      this.host.at(this.prng.int(3_200, 4_000), () => this.host.readerClients()[0]!.read(lo, MAX));
      this.host.at(QUIET_MS, finish);
      return;
    }
    const c = this.fresh(this.host.writerClients().find((w) => w.dead) ?? this.leader());
    // Its re-proposals (at or below the highest position held now) do not reach `lossy` for a while, its
    // later writes do: a commit of its term (the recommit covers it all) then reaches a replica that still
    // holds another proposal's value there.
    const held = Math.max(...this.host.replicaNodes().map((n) => n.disk.live.end()));
    this.host.trace(`SETTLE by ${c.id} (re-proposals through ${held} lost to ${lossy.map((n) => n.addr).join(',') || 'none'}, ${slow.map((n) => n.addr).join(',') || 'none'} answer late)`);
    this.rule(1_600, { match: (f, t, m) => f === c.id && m.type === 'write' && m.from <= held && lossy.some((n) => n.addr === t), extraMs: 0, loss: 1 });
    // Nor do its peers' answers to its catch-up (it would copy the chosen values before the recommit comes).
    this.rule(1_600, { match: (f, t, m) => isReplica(f) && m.type === 'readReply' && lossy.some((n) => n.addr === t), extraMs: 0, loss: 1 });
    this.rule(400, { match: late, extraMs, loss: 0 });
    c.elect();
    c.submit(this.prng.int(1, 3));
    this.elected(c, () => this.pump(c, 1_200, true, finish));
  }
}
