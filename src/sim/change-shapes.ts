/**
 * Change episodes (docs/reconfiguration.md, step 7): membership changes made
 * through a sim writer's WriterCore `change` event, among appends and tail
 * reads, with the faults each shape is about. They adapt to the
 * configuration they find (a change may lose a duel or end unknown):
 *
 * - `grow`: two new ids join as learners (add, each replica started as a
 *   joiner once its id is in the configuration), then are promoted, one at a
 *   time or in one `set` (3 -> 5); a run at 5 voters or more replaces instead.
 * - `shrink`: two voters are removed, one at a time or in one `set` (5 -> 3);
 *   below 5 voters it replaces instead. A removed replica is stopped for good
 *   or left running (it must stay out, R7).
 * - `replace`: a new learner joins, catches up, `replace` swaps it for a
 *   voter, and the old one is stopped (mostly).
 * - `change-wipe`: one of the changes above, and the disk of a member (one in
 *   both configurations, the new one, or the leaving one) is wiped at a drawn
 *   moment of it: autorecovery racing the change (R9b, R9f).
 * - `change-duel`: writer A asks a change; B, a new writer generation above
 *   A, elects at a drawn moment and asks another change from the same epoch
 *   (Ongaro 2015): at most one wins, and the log goes on.
 * - `moved-on` (up to 5 voters): one voter goes down (its disk kept or
 *   wiped), and every other is replaced, one after the other, and stopped for
 *   good: every member it knows is gone. It comes back after the first
 *   replace (a wiped one then rejoins while the others run) or after the
 *   last, and must find the cluster through the new members' gossip (R13's
 *   seeds) and vote again (the probe checks every member VOTING).
 */
import { applyChange, configQuorum, roleIn, voterIds, type Configuration, type MembershipChange, type PlacedConfiguration } from '../core/membership.js';
import type { ReplicaId } from '../core/types.js';
import type { ReaderClient, WriterClient } from './clients.js';
import { simAddress } from './members.js';
import type { Prng } from './prng.js';
import type { ReplicaNode } from './replica-node.js';

export type ChangeKind = 'grow' | 'shrink' | 'replace' | 'change-wipe' | 'change-duel' | 'moved-on';

/** What the change episodes drive, beyond the other episodes' host (the simulation implements both). */
export interface ChangeHost {
  now(): number;
  at(delayMs: number, fn: () => void): void;
  trace(text: string): void;
  writerClients(): WriterClient[];
  readerClients(): ReaderClient[];
  /** The latest configuration whose entry is chosen (the checker's true chain). */
  latestConfig(): PlacedConfiguration;
  /** Starts a replica for a new member as `replog replica --join` does; undefined while no up replica's chain lists it yet. */
  join(id: ReplicaId): ReplicaNode | undefined;
  /** Stops a removed member's process for good. */
  retire(node: ReplicaNode): void;
  /** Wipes a replica's disk now, within the damage budget (false if over it); it restarts after `downMs`. */
  wipeNow(node: ReplicaNode, downMs: number): boolean;
  /** Stops an up replica until `bringBack`, its disk wiped if `wipe` (false if over the damage budget, or not up). */
  takeDown(node: ReplicaNode, wipe: boolean): boolean;
  bringBack(node: ReplicaNode): void;
  replicaById(id: ReplicaId): ReplicaNode | undefined;
  /**
   * The configuration a change in progress, or one whose outcome is unknown,
   * may install (its voters count in the damage budget too, until the true
   * chain reaches its epoch).
   */
  pendingConfig: Configuration | undefined;
  /**
   * Set by the first change episode: from then on new client cores start from
   * the newest chain (with addresses, which a change needs) rather than the
   * member list, so the episodes before it run as they did.
   */
  clientsFollowChain: boolean;
}

/** How long a change may take before the episode goes on without its outcome (an R3 wait for a slow learner included). */
const CHANGE_WAIT_MS = 8_000;
/** How long a new learner may take to catch up (VOTING) before it is promoted regardless. */
const CATCH_UP_WAIT_MS = 5_000;
/** Tries of each step of `moved-on` (a change given up by a writer fenced by a takeover is asked again). */
const MOVED_ON_TRIES = 8;

export class ChangeEpisodes {
  private nextChange = 1;

  constructor(
    private readonly host: ChangeHost,
    private readonly prng: Prng,
    /** The first live writer, woken (Shapes.leader). */
    private readonly leader: () => WriterClient,
    /** A writer other than `first`, woken (Shapes.second). */
    private readonly second: (first: WriterClient) => WriterClient,
    /** Appends and tail reads for `ms` (Shapes.pump). */
    private readonly pump: (w: WriterClient, ms: number) => void,
  ) {}

  run(kind: ChangeKind, done: () => void): void {
    this.host.clientsFollowChain = true;
    const finish = (): void => {
      // pendingConfig stays if the last change's outcome is unknown: a later writer may still choose it.
      this.settleMembers();
      for (const r of this.host.readerClients()) r.refresh();
      done();
    };
    const voters = this.host.latestConfig().voters.length;
    switch (kind) {
      case 'grow':
        return voters >= 5 ? this.replace(finish) : this.grow(finish);
      case 'shrink':
        return voters < 5 ? this.replace(finish) : this.shrink(finish);
      case 'replace':
        return this.replace(finish);
      case 'change-wipe':
        return this.changeWipe(finish);
      case 'change-duel':
        return this.duel(finish);
      case 'moved-on':
        return this.movedOn(finish);
    }
  }

  // ------------------------------------------------------------ shapes

  private grow(done: () => void): void {
    const [a, b] = this.newIds(2);
    const inOne = this.prng.chance(0.5);
    this.host.trace(`GROW by ${a} and ${b} (${inOne ? 'promoted in one set' : 'one at a time'})`);
    const promote = (then: () => void): void => {
      if (!inOne) return this.promote(a, () => this.promote(b, then));
      const c = this.host.latestConfig();
      const ready = [a, b].filter((id) => roleIn(c, id) === 'learner');
      if (ready.length === 0) return then();
      this.caughtUp(ready, () => this.change({ kind: 'set', voters: [...voterIds(c), ...ready], learners: [] }, () => then()));
    };
    this.add(a, () => this.add(b, () => promote(done)));
  }

  private shrink(done: () => void): void {
    const c = this.host.latestConfig();
    const shuffled = this.prng.shuffle(voterIds(c));
    // As R10's guard does for `member remove` and `config set`: the voters left must hold a quorum of
    // VOTING replicas. The first drawn pair that leaves one is taken (the pair drawn first, as before, when
    // it does). Without it, --seeds 200 seed 136 removed the two healthy voters of five while the other
    // three had two wiped disks rejoining: a configuration with a majority of lost disks, which no
    // protocol survives and the guard refuses.
    const healthy = (left: readonly ReplicaId[]): boolean =>
      left.filter((id) => this.host.replicaById(id)?.status === 'VOTING').length >= configQuorum({ ...c, voters: c.voters.filter((m) => left.includes(m.id)) });
    const pair = pairsOf(shuffled).find(([a, b]) => healthy(shuffled.filter((id) => id !== a && id !== b)));
    if (pair === undefined) {
      this.host.trace(`SHRINK skipped: no two voters leave a quorum of VOTING ones (R10)`);
      return done();
    }
    const [x, y] = pair;
    if (x !== shuffled[0] || y !== shuffled[1]) this.host.trace(`SHRINK passes over ${shuffled[0]} and ${shuffled[1]}: the voters left would hold no quorum of VOTING ones (R10)`);
    const inOne = this.prng.chance(0.5);
    this.host.trace(`SHRINK without ${x} and ${y} (${inOne ? 'in one set' : 'one at a time'})`);
    const leave = (): void => {
      for (const id of [x, y]) this.stopIfRemoved(id, 0.5);
      done();
    };
    if (inOne) return this.change({ kind: 'set', voters: voterIds(c).filter((id) => id !== x && id !== y), learners: c.learners.map((m) => m.id) }, leave);
    this.change({ kind: 'remove', id: x }, () => this.change({ kind: 'remove', id: y }, leave));
  }

  private replace(done: () => void): void {
    const [fresh] = this.newIds(1);
    const old = this.prng.pick(voterIds(this.host.latestConfig()));
    this.host.trace(`REPLACE ${old} by ${fresh}`);
    this.add(fresh, () =>
      this.caughtUp([fresh], () =>
        this.change({ kind: 'replace', old, replacement: fresh }, () => {
          this.stopIfRemoved(old, 0.8);
          done();
        }),
      ),
    );
  }

  /** One change of a drawn kind, and a disk wiped at a drawn moment of it. */
  private changeWipe(done: () => void): void {
    const c = this.host.latestConfig();
    const [fresh] = this.newIds(1);
    const old = this.prng.pick(voterIds(c));
    const how = this.prng.pick(['promote', 'replace', 'remove'] as const);
    const afterMs = this.prng.int(0, 400);
    const downMs = this.prng.int(50, 1_000);
    this.host.trace(`CHANGE-WIPE: ${how} (new ${fresh}, old ${old}), a wipe ${afterMs}ms into it`);
    const wipeDuring = (change: MembershipChange): void => {
      const next = applyChange(this.host.latestConfig(), change);
      // The victim: a member of both configurations, the new one, or the one leaving.
      const both = voterIds(this.host.latestConfig()).filter((id) => id !== old && (!next.ok || roleIn(next.next, id) === 'voter'));
      // Any voter of either configuration: a voter of the old one wiped while the entry is pending learns
      // the entry's fate before it votes again (R9f; once an open finding, the shape wipeVoterMidChange).
      const victims = [...both, ...(how === 'remove' ? [] : [fresh]), ...(how === 'promote' ? [] : [old])];
      if (victims.length === 0) return this.host.trace('CHANGE-WIPE: no victim');
      const victim = this.prng.pick(victims);
      this.host.at(afterMs, () => {
        const node = this.host.replicaById(victim);
        if (node === undefined || !node.up || node.retired) return;
        const ok = this.host.wipeNow(node, downMs);
        this.host.trace(`CHANGE-WIPE r${victim}${ok ? '' : ': over the damage budget, not wiped'}`);
      });
    };
    const finish = (): void => {
      if (how !== 'promote') this.stopIfRemoved(old, 0.5);
      done();
    };
    if (how === 'remove' && c.voters.length <= 3) {
      // Removing one of three leaves two (no failure tolerated): a replace instead.
      return this.changeWipeReplace(fresh, old, wipeDuring, finish);
    }
    if (how === 'remove') {
      const change: MembershipChange = { kind: 'remove', id: old };
      wipeDuring(change);
      return this.change(change, finish);
    }
    if (how === 'replace') return this.changeWipeReplace(fresh, old, wipeDuring, finish);
    this.add(fresh, () =>
      this.caughtUp([fresh], () => {
        const change: MembershipChange = { kind: 'promote', id: fresh };
        wipeDuring(change);
        this.change(change, finish);
      }),
    );
  }

  private changeWipeReplace(fresh: ReplicaId, old: ReplicaId, wipeDuring: (c: MembershipChange) => void, then: () => void): void {
    this.add(fresh, () =>
      this.caughtUp([fresh], () => {
        const change: MembershipChange = { kind: 'replace', old, replacement: fresh };
        wipeDuring(change);
        this.change(change, then);
      }),
    );
  }

  /** One voter down while every other is replaced and stopped; it comes back midway or at the end. */
  private movedOn(done: () => void): void {
    const c = this.host.latestConfig();
    if (c.voters.length < 3 || c.voters.length > 5) {
      this.host.trace(`MOVED-ON: ${c.voters.length} voters: skipped`);
      return done();
    }
    const [away, ...others] = this.prng.shuffle(voterIds(c)) as [ReplicaId, ...ReplicaId[]];
    const wipe = this.prng.chance(0.5);
    const midway = this.prng.chance(0.5);
    const node = this.host.replicaById(away);
    if (node === undefined || !this.host.takeDown(node, wipe)) {
      this.host.trace(`MOVED-ON: r${away} cannot go down now: skipped`);
      return done();
    }
    this.host.trace(`MOVED-ON: r${away} down${wipe ? ', its disk wiped' : ''}, while ${others.map((id) => `r${id}`).join(' and ')} are replaced and stopped; back ${midway ? 'midway' : 'at the end'}`);
    // Each step is retried a few times (a writer fenced by a takeover gives its change up): the shape is
    // about every old member being gone, so it insists. The old member is stopped once the change is installed.
    const replaceOne = (old: ReplicaId, then: () => void, giveUp: (why: string) => void): void => {
      const [fresh] = this.newIds(1);
      const role = (id: ReplicaId) => roleIn(this.host.latestConfig(), id);
      this.insist(() => role(fresh) !== undefined, (next) => this.add(fresh, next), () => {
        if (role(fresh) === undefined) return giveUp(`r${fresh} not added`);
        this.caughtUp([fresh], () => {
          // As `member replace` does (R10): a new voter that has not caught up, with the away one down, would
          // leave the new configuration without a quorum of healthy voters.
          if (this.host.replicaById(fresh)?.status !== 'VOTING') return giveUp(`r${fresh} did not catch up`);
          this.insist(() => role(old) === undefined, (next) => this.change({ kind: 'replace', old, replacement: fresh }, next), () => {
            if (role(old) !== undefined) return giveUp(`r${old} not replaced`);
            this.when(() => this.installed(), () => {
              this.stopIfRemoved(old, 1);
              then();
            }, CHANGE_WAIT_MS);
          });
        });
      });
    };
    let back = false;
    const comeBack = (): void => {
      if (back) return;
      back = true;
      this.host.bringBack(node);
    };
    const next = (i: number): void => {
      if (i === 1 && midway) comeBack();
      if (i === others.length) {
        comeBack();
        return done();
      }
      replaceOne(others[i]!, () => next(i + 1), (why) => {
        this.host.trace(`MOVED-ON: given up (${why}); r${away} comes back`);
        comeBack();
        done();
      });
    };
    next(0);
  }

  /** Runs `step` until `done()` holds, at most MOVED_ON_TRIES times, then `then`. */
  private insist(done: () => boolean, step: (next: () => void) => void, then: () => void, tries = MOVED_ON_TRIES): void {
    if (done() || tries === 0) return then();
    step(() => this.insist(done, step, then, tries - 1));
  }

  /** Whether the latest configuration is installed on a quorum of its voters (R4 ran: its old members may be stopped). */
  private installed(): boolean {
    const c = this.host.latestConfig();
    return c.voters.filter((m) => (this.host.replicaById(m.id)?.disk.live.metadata().configs?.at(-1)?.epoch ?? -1) >= c.epoch).length >= configQuorum(c);
  }

  /** Two writers, each with a change from the same epoch; B elects above A at a drawn moment. */
  private duel(done: () => void): void {
    const c = this.host.latestConfig();
    const [fresh] = this.newIds(2);
    const victim = this.prng.pick(voterIds(c));
    const a = this.fresh(this.leader());
    const b = this.second(a);
    const afterMs = this.prng.int(0, 300);
    this.host.trace(`CHANGE-DUEL ${a.id} adds ${fresh}, ${b.id} ${c.voters.length >= 5 ? `removes ${victim}` : `adds ${fresh + 1}`} ${afterMs}ms later`);
    const idA = this.ask(a, { kind: 'add', member: { id: fresh, address: simAddress(fresh) } }, c.epoch);
    this.pump(a, afterMs + 300);
    let idB = '';
    this.host.at(afterMs, () => {
      const w = this.fresh(b, a.core.highestProposalSeen);
      idB = this.ask(w, c.voters.length >= 5 ? { kind: 'remove', id: victim } : { kind: 'add', member: { id: fresh + 1, address: simAddress(fresh + 1) } }, c.epoch);
      this.pump(w, 600);
    });
    this.when(
      () => a.changes.has(idA) && idB !== '' && b.changes.has(idB),
      () => {
        this.stopIfRemoved(victim, 0.5);
        done();
      },
      CHANGE_WAIT_MS,
    );
  }

  // ------------------------------------------------------------ steps

  /** Adds `id` as a learner; once it is in the configuration, its replica starts as a joiner. */
  private add(id: ReplicaId, then: () => void): void {
    this.change({ kind: 'add', member: { id, address: simAddress(id) } }, () => {
      this.settleMembers();
      then();
    });
  }

  /** Promotes learner `id` once it caught up (if the configuration holds it as a learner). */
  private promote(id: ReplicaId, then: () => void): void {
    if (roleIn(this.host.latestConfig(), id) !== 'learner') return then();
    this.caughtUp([id], () => this.change({ kind: 'promote', id }, () => then()));
  }

  /** Waits (bounded) until the replicas of `ids` are up and VOTING: a learner that caught up. */
  private caughtUp(ids: readonly ReplicaId[], then: () => void): void {
    // An add whose outcome was unknown may have been chosen since: its replica starts now.
    this.settleMembers();
    this.when(() => ids.every((id) => this.host.replicaById(id)?.status === 'VOTING'), then, CATCH_UP_WAIT_MS);
  }

  /**
   * Asks the leader (a fresh generation, so its view is the newest chain) for
   * `change`, with appends and tail reads meanwhile; `then` once it finished
   * (whatever the outcome) or the wait ended.
   */
  private change(change: MembershipChange, then: () => void): void {
    const w = this.fresh(this.leader());
    const current = w.core.latestConfig;
    const next = applyChange(current, change);
    if (next.ok) this.host.pendingConfig = next.next;
    const id = this.ask(w, change, current.epoch);
    this.pump(w, this.prng.int(300, 900));
    this.when(
      () => w.changes.has(id),
      () => {
        // An entry whose outcome is unknown (or not yet known when the wait ended) may still be chosen by a later
        // writer: its voters keep counting in the damage budget until the true chain passes its epoch.
        const out = w.changes.get(id);
        if (out !== undefined && (out.ok || out.reason !== 'unknown')) this.host.pendingConfig = undefined;
        then();
      },
      CHANGE_WAIT_MS,
    );
  }

  private ask(w: WriterClient, change: MembershipChange, ifEpoch: number): string {
    const id = `c${this.nextChange++}`;
    w.change({ id, ifEpoch, change });
    return id;
  }

  /** Starts a joiner for every member of the latest configuration that has no replica yet. */
  private settleMembers(): void {
    const c = this.host.latestConfig();
    for (const m of [...c.voters, ...c.learners]) if (this.host.replicaById(m.id) === undefined) this.host.join(m.id);
  }

  /** A member the latest configuration removed is stopped for good with probability `p` (else it stays up, and out). */
  private stopIfRemoved(id: ReplicaId, p: number): void {
    const node = this.host.replicaById(id);
    const c = this.host.latestConfig();
    if (node === undefined || node.retired || roleIn(c, id) !== undefined) return;
    // Only once the change is complete (R4's election installed it on a quorum of the new voters): before
    // that the old configuration may still need this voter to finish it (section 8, "Removed machines").
    const installed = c.voters.filter((m) => (this.host.replicaById(m.id)?.disk.live.metadata().configs?.at(-1)?.epoch ?? -1) >= c.epoch).length;
    if (installed < configQuorum(c)) {
      this.host.trace(`r${id} removed, left running (the change is not installed on a quorum yet)`);
      return;
    }
    if (this.prng.chance(p)) this.host.retire(node);
    else this.host.trace(`r${id} removed, left running`);
  }

  /** Ids never used: above the latest configuration's nextId and every replica started. */
  private newIds(k: number): ReplicaId[] {
    let next = this.host.latestConfig().nextId;
    while (this.host.replicaById(next) !== undefined) next++;
    return Array.from({ length: k }, (_, i) => next + i);
  }

  private fresh(w: WriterClient, floor = 0): WriterClient {
    if (w.dead) w.revive(floor);
    else w.renew(floor);
    return w;
  }

  private when(cond: () => boolean, then: () => void, timeoutMs: number): void {
    const until = this.host.now() + timeoutMs;
    const poll = (): void => (cond() || this.host.now() >= until ? then() : this.host.at(10, poll));
    poll();
  }
}

/** Every pair of distinct ids, in the order the ids are given (the first two first). */
function pairsOf(ids: readonly ReplicaId[]): [ReplicaId, ReplicaId][] {
  const out: [ReplicaId, ReplicaId][] = [];
  for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) out.push([ids[i]!, ids[j]!]);
  return out;
}
