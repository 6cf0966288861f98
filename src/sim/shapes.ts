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
 *
 * The plan uses a PRNG of its own (drawn from the seed) so a run's classic
 * configuration stays what it was; SimOptions.shapes = false (the CLI's
 * --no-shapes) runs without them, as before (the pinned seeds of
 * core-regressions and open-findings are classic runs).
 */
import type { ReaderClient, WriterClient } from './clients.js';
import type { LinkRule, SimNetwork } from './network.js';
import type { Prng } from './prng.js';
import type { ReplicaNode } from './replica-node.js';

export type EpisodeKind = 'pipeline' | 'laggard' | 'ignored' | 'duel' | 'clash' | 'orphan';

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

/** Every kind, the settling ones twice (once settled by a writer, once by readers), in an order of the seed's. */
export function drawShapes(prng: Prng): ShapePlan {
  const kinds: Episode[] = [
    { kind: 'pipeline', settle: 'writer' },
    { kind: 'laggard', settle: 'writer' },
    { kind: 'ignored', settle: 'writer' },
    { kind: 'clash', settle: 'writer' },
    { kind: 'duel', settle: 'writer' },
    { kind: 'duel', settle: 'read' },
    { kind: 'orphan', settle: 'writer' },
    { kind: 'orphan', settle: 'read' },
  ];
  return { episodes: prng.shuffle(kinds) };
}

export function describeShapes(plan: ShapePlan): string {
  return plan.episodes.map((e) => `${e.kind}${e.kind === 'duel' || e.kind === 'orphan' ? `/${e.settle}` : ''}`).join(',');
}

/** What the episodes drive: the simulation's clients, replicas, network and clock. */
export interface ShapeHost {
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
  /** The replica's process crashes (no damage) and restarts after `downMs`. */
  bounce(node: ReplicaNode, downMs: number): void;
}

const isWriter = (a: string): boolean => /^w/.test(a);
const MAX = Number.MAX_SAFE_INTEGER;
/** How long a step waits for what it needs (an election won, a quorum VOTING) before it goes on regardless. */
const WAIT_MS = 3_000;
/** How long the pumping episodes run. */
const PUMP_MS = [600, 1_200] as const;

export class Shapes {
  constructor(
    private readonly host: ShapeHost,
    private readonly prng: Prng,
    private readonly plan: ShapePlan,
  ) {}

  /** Runs the episodes one after another once a quorum votes; `done` when the last one ends. */
  start(done: () => void): void {
    const next = (i: number): void => {
      const e = this.plan.episodes[i];
      if (e === undefined) return done();
      this.host.trace(`EPISODE ${i + 1}/${this.plan.episodes.length} ${e.kind}${e.kind === 'duel' || e.kind === 'orphan' ? `/${e.settle}` : ''}`);
      this.run(e, () => this.host.at(this.prng.int(50, 300), () => next(i + 1)));
    };
    this.host.at(this.prng.int(100, 500), () => this.when(() => this.votingQuorum(), () => next(0), 10_000));
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
    }
  }

  // ------------------------------------------------------------ helpers

  /** Polls `cond` every 10 ms; runs `then` once it holds, or after `timeoutMs` regardless. */
  private when(cond: () => boolean, then: () => void, timeoutMs = WAIT_MS): void {
    const until = this.host.now() + timeoutMs;
    const poll = (): void => (cond() || this.host.now() >= until ? then() : this.host.at(10, poll));
    poll();
  }

  private votingQuorum(): boolean {
    return this.host.replicaNodes().filter((n) => n.up && n.status === 'VOTING' && !n.holdsVotes).length >= this.host.quorum();
  }

  /** Elects `w` (unless it is elected) and runs `then` once it is, or is fenced, or the wait ends. */
  private elected(w: WriterClient, then: (w: WriterClient) => void): void {
    this.wake(w);
    if (w.core.roleKind !== 'elected') w.elect();
    this.when(() => w.core.roleKind === 'elected' || w.fenced || w.dead, () => then(w));
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

  /** Splits the replicas into a minority and the quorum of the others. */
  private split(): { minority: ReplicaNode[]; majority: ReplicaNode[] } {
    const all = this.prng.shuffle(this.host.replicaNodes());
    const k = this.prng.int(1, all.length - this.host.quorum());
    return { minority: all.slice(0, k), majority: all.slice(k) };
  }

  /** A few batches at once, then `then` a few ms later (often while they are still in flight). */
  private burst(w: WriterClient, then: () => void): void {
    const n = this.prng.int(1, 4);
    for (let i = 0; i < n; i++) this.host.at(i * this.prng.int(1, 8), () => w.submit(this.prng.int(1, 3)));
    this.host.at(n * 8 + this.prng.int(0, 30), then);
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
      this.host.at(this.prng.int(50, 250), () => {
        if (x.up) this.host.bounce(x, this.prng.int(5, 60));
      });
    });
  }

  /**
   * A writes to a minority and dies; B, elected by the others, writes over the
   * same positions (and may die before it commits); then they are settled.
   */
  private duel(e: Episode, done: () => void): void {
    this.host.quietUntil(this.host.now() + 60_000);
    const a = this.leader();
    const b = this.second(a);
    const { minority, majority } = this.split();
    this.elected(a, () => {
      this.host.trace(`DUEL ${a.id} to ${minority.map((n) => n.addr).join(',')} only, then ${b.id} by ${majority.map((n) => n.addr).join(',')}`);
      const unblockA = this.block(a.id, majority);
      this.burst(a, () => {
        a.die();
        unblockA();
        this.wake(b);
        const unblockB = this.block(b.id, minority);
        this.elected(b, () => {
          const orphan = e.settle === 'read' || this.prng.chance(0.5);
          this.burst(b, () => {
            unblockB();
            if (orphan) b.die();
            this.host.at(this.prng.int(30, 150), () => this.settle(e, minority, done));
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

  /** A writer dies after its values reached a minority, or a quorum without a commit; then they are settled. */
  private orphan(e: Episode, done: () => void): void {
    this.host.quietUntil(this.host.now() + 60_000);
    const a = this.leader();
    const minority = this.prng.chance(0.5) ? this.split().minority : [];
    this.elected(a, () => {
      const reach = minority.length > 0 ? minority : this.host.replicaNodes();
      this.host.trace(`ORPHAN ${a.id} writes to ${reach.map((n) => n.addr).join(',')} and dies`);
      const unblock = this.block(a.id, this.host.replicaNodes().filter((n) => !reach.includes(n)));
      this.burst(a, () => {
        a.die();
        unblock();
        this.host.at(this.prng.int(30, 150), () => this.settle(e, minority, done));
      });
    });
  }

  /**
   * What dead writers left is settled by a new writer generation (its links to
   * `lossy` lose half the messages: a commit may arrive where its write did
   * not; its promise to one replica is slow, so replies come in another
   * order), or by readers while every writer is quiet long enough for a read
   * to fill. Then the background writers go on.
   */
  private settle(e: Episode, lossy: readonly ReplicaNode[], done: () => void): void {
    const finish = (): void => {
      this.reviveAll();
      this.host.quietUntil(0);
      done();
    };
    if (e.settle === 'read') {
      this.host.trace('SETTLE by readers (writers quiet)');
      const lo = Math.max(0, this.top() - 4);
      for (const r of this.host.readerClients()) r.read(lo, MAX);
      this.host.at(this.prng.int(3_200, 4_000), () => this.host.readerClients()[0]!.read(lo, MAX));
      this.host.at(QUIET_MS, finish);
      return;
    }
    const c = this.host.writerClients().find((w) => w.dead) ?? this.leader();
    this.wake(c);
    const slow = this.prng.pick(this.host.replicaNodes());
    this.host.trace(`SETTLE by ${c.id} (lossy to ${lossy.map((n) => n.addr).join(',') || 'none'}, slow to ${slow.addr})`);
    this.rule(600, { match: (f, t) => f === c.id && lossy.some((n) => n.addr === t), extraMs: 0, loss: 0.5 });
    this.rule(200, { match: (f, t) => f === c.id && t === slow.addr, extraMs: this.prng.pick([20, 60]), loss: 0 });
    this.elected(c, () => this.pump(c, 300, true, finish));
  }
}
