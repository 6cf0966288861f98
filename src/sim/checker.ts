/**
 * The checker: a history of what clients submitted and were told, and of what
 * replicas accepted and learned, with the safety properties checked as each
 * fact arrives (so a violation is caught at the step that makes it) and again
 * at the end of a run. Liveness is checked by the simulation, which knows when
 * faults stopped.
 *
 * "Chosen" is tracked independently of what any replica learned: a value is
 * chosen at p as soon as a quorum of replicas durably accepted it under one
 * proposal; learned values and values returned by reads must agree with it.
 * Acknowledgements, learned values and read results must be chosen already
 * when they happen (chosen first, then told), so a proposer or learner that
 * jumps ahead is caught at that step, not only if it later contradicts a value.
 *
 * "Counted" is the stricter fact a proposer acts on: a quorum of acceptances
 * under one proposal by disks the write named (what a writer or fill counts),
 * or a value learned or acknowledged. Two properties rest on it:
 * - Paxos's P2b: once a value is counted at p under proposal b, every write
 *   at p under a higher proposal carries that value (checked when a write is
 *   sent, and against earlier writes when the value becomes counted);
 * - a read never stops short of, and `bounds` never ends below, a position
 *   counted before it began: a quorum of disks holds it.
 *
 * Configurations (docs/reconfiguration.md, section 8, and I1 and I5 of
 * section 9). The checker knows the cluster's true chain (`configAt`,
 * config(q)). A value is chosen at q when a quorum of config(q)'s voters
 * accepted it under one ballot, and counted when, in addition, the ballot is
 * in config(q) (the write carried config(q)'s head) and each acceptance is by
 * a disk the write named (I1: agreement holds over both). I5: no acceptance a
 * proposer may count (its write named the disk) comes from a replica that is
 * not a voter of config(q); R3's acceptances by the next configuration's
 * voters are never named, so they are no exception to check. With one
 * configuration (every member a voter, every head the bootstrap one) this is
 * exactly the quorum count of before.
 *
 * Step 4 adds, for runs whose replicas keep chains: I3 (noteChains: every
 * replica's chain is a prefix of one chain, epochs consecutive, positions
 * increasing), I4 (no two positions hold a config entry of the same epoch
 * accepted by a quorum of the voters governing them), and I7 (an acceptance
 * by a replica whose own chain removed it, above the entry that did).
 */
import { chainView, type ConfigView } from '../core/config-view.js';
import { BOOTSTRAP_HEAD, configQuorum, configurationKey, roleIn, roleOf, type ConfigHead, type PlacedConfiguration } from '../core/membership.js';
import type { StoreView } from '../core/store.js';
import type { Action, Entry, Named, Position, Proposal, ReplicaId } from '../core/types.js';
import { valueKey } from './trace.js';

export type ViolationKind =
  | 'agreement'
  | 'durability'
  | 'read-consistency'
  | 'validity'
  | 'fencing'
  | 'liveness'
  | 'invariant'
  | 'assertion'
  /** A writer's acknowledgements out of position order, or above a position not chosen yet. */
  | 'ack-order'
  /** A write under a higher proposal carries another value than one counted as chosen (Paxos P2b). */
  | 'proposal'
  /** A replica's reply or announcement left before the records of its step were durable. */
  | 'reply-before-sync'
  /** I5: an acceptance a proposer may count (its write named the disk) by a replica that is not a voter of config(q). */
  | 'counted-non-voter'
  /** I3: two replicas' chains are not prefixes of one chain, or a chain is not well linked. */
  | 'chain'
  /** I4: config entries of one epoch at two positions, each accepted by a quorum of the voters governing it. */
  | 'config-pending'
  /** I7: a replica accepted above the entry that removed it from its own chain. */
  | 'removed-voted';

export interface Violation {
  readonly kind: ViolationKind;
  readonly message: string;
}

interface Ack {
  readonly key: string;
  /** Order of acknowledgement (reads compare it with their start). */
  readonly seq: number;
  readonly writer: string;
}

/** What a read saw when it began. */
export interface ReadStart {
  readonly from: Position;
  readonly to: Position;
  readonly ackSeq: number;
  /** Facts (counted values) so far: a position counted at or below it was counted before the read began. */
  readonly factSeq: number;
  readonly bounds: boolean;
}

export class Checker {
  readonly violations: Violation[] = [];
  /** Every value chosen at each position, with how we know. */
  private readonly chosen = new Map<Position, { key: string; how: string; epoch?: number }>();
  /** Durable acceptances: 'p|b|value' -> replicas. */
  private readonly accepts = new Map<string, Set<ReplicaId>>();
  /** Who made each entry of `accepts`: 'p|b|value' -> 'id/incarnation/generation' -> the members the write named. */
  private readonly acceptDisks = new Map<string, Map<string, readonly Named[]>>();
  private readonly submitted = new Set<string>();
  private readonly acked = new Map<Position, Ack>();
  private ackSeq = 0;
  private readonly fenced = new Set<string>();
  /** Every position below it was removed by a chosen or acknowledged truncation. */
  private truncatedBelow = 0;
  /** Acceptances by the disks their write named: 'p|b|value' -> replicas (a quorum is counted). */
  private readonly namedAccepts = new Map<string, Set<ReplicaId>>();
  /** When each position was first counted (learned, acknowledged, or a named quorum accepted): fact seq. */
  private readonly countedAt = new Map<Position, number>();
  private factSeq = 0;
  /** The lowest proposal under which a named quorum accepted each position's value. */
  private readonly countedUnder = new Map<Position, { proposal: Proposal; key: string; epoch: number }>();
  /** Writes sent at each position: proposal -> value keys (for P2b against values counted later). */
  private readonly proposed = new Map<Position, Map<Proposal, Set<string>>>();
  /** Per writer generation: the last position it acknowledged. */
  private readonly lastAckOf = new Map<string, Position>();
  /** Every position below it (and at or above truncatedBelow) is chosen; it only moves up. */
  private chosenPrefix = 0;
  /** Replicas whose durable disk holds a value at each position (accepted or learned, any proposal). */
  private readonly holders = new Map<Position, Set<ReplicaId>>();
  /** Since when (fact seq) a quorum's disks have held each position, with no disk of theirs lost since. */
  private readonly quorumHeldAt = new Map<Position, number>();

  /** config(q): the cluster's true chain (one link of `members` when the run makes no change). */
  private readonly configAt: ConfigView;
  /**
   * The true chain, oldest first, when the run makes changes (trueChain):
   * extended as each config entry is chosen (I3), so config(q) follows it.
   */
  private readonly truth: PlacedConfiguration[] | undefined;
  /** I3: each epoch's configuration as the first replica that held it showed it. */
  private readonly chain = new Map<number, PlacedConfiguration>();
  /** I4: for each epoch, the positions whose entry of that epoch a quorum of voters accepted (any ballots). */
  private readonly configQuorumAt = new Map<number, Set<Position>>();
  /** I4: acceptances of config entries by voters of config(q): 'p|epoch|value' -> replicas. */
  private readonly configAccepts = new Map<string, Set<ReplicaId>>();

  /**
   * `quorum`: a quorum of the whole membership (disk holdings are counted
   * against it); `configAt`: the true chain (oneLinkView of the members for
   * a run that makes no change).
   */
  constructor(
    private readonly quorum: number,
    configAt: ConfigView | { readonly trueChain: PlacedConfiguration },
  ) {
    if (typeof configAt === 'function') {
      this.configAt = configAt;
      return;
    }
    // A run that changes the membership: config(q) follows the config entries as they are chosen.
    const truth = [configAt.trueChain];
    this.truth = truth;
    this.configAt = chainView(truth);
  }

  /** The true chain so far (the configurations whose entries are chosen), oldest first. */
  get trueChain(): readonly PlacedConfiguration[] {
    return this.truth ?? [this.configAt(Number.MAX_SAFE_INTEGER)];
  }

  /** config(q) as the checker knows it now. */
  governingAt(q: Position): PlacedConfiguration {
    return this.configAt(q);
  }

  /** The quorum that holds a position governed by config(q): its voters' majority (the whole membership's without changes). */
  private quorumAt(q: Position): number {
    return this.truth === undefined ? this.quorum : configQuorum(this.configAt(q));
  }

  /**
   * I3: a config entry chosen at p extends the true chain (epoch one above
   * its head, at a higher position) or is the link the chain holds for its
   * epoch already. A new link makes config(q) for q > p the new
   * configuration: a value counted there under a ballot of an older one was
   * a leftover nobody may count (section 8), so it was never chosen.
   */
  private noteConfigChosen(p: Position, action: Extract<Action, { kind: 'config' }>): void {
    const truth = this.truth;
    if (truth === undefined) return;
    const c = action.config;
    const head = truth[truth.length - 1]!;
    const known = truth.find((x) => x.epoch === c.epoch);
    if (known !== undefined) {
      if (known.position !== p || configurationKey(known) !== configurationKey(c)) {
        this.fail('chain', `two config entries of epoch ${c.epoch} chosen: at ${known.position} and at ${p}`);
      }
      return;
    }
    if (c.epoch !== head.epoch + 1 || p <= head.position) {
      this.fail('chain', `a config entry of epoch ${c.epoch} chosen at ${p}, but the true chain's head is epoch ${head.epoch} at ${head.position}`);
      return;
    }
    // I7: an id that an earlier configuration listed and the one before this dropped never comes back.
    for (const m of [...c.voters, ...c.learners]) {
      if (roleIn(head, m.id) === undefined && truth.some((x) => roleIn(x, m.id) !== undefined)) {
        this.fail('removed-voted', `epoch ${c.epoch} (at ${p}) lists member ${m.id}, which an earlier configuration removed`);
      }
    }
    truth.push({ ...c, position: p, floor: 0 });
    for (const [q, v] of this.chosen) {
      if (q > p && v.epoch !== undefined && v.epoch < c.epoch) this.chosen.delete(q);
    }
    for (const [q, v] of this.countedUnder) {
      if (q > p && v.epoch < c.epoch) this.countedUnder.delete(q);
    }
  }

  /**
   * I8 (R14): a VOTING replica's chain holds every config entry it learned
   * at or below max(learnedThrough, begin - 1) (the entries of the true
   * chain: a few links, so it is cheap enough to ask at every learning step).
   */
  checkChainComplete(replica: ReplicaId, store: StoreView): void {
    // A disk that is not VOTING answers for nothing: damaged metadata loses the chain and keeps the log
    // (FileStore does the same), and the rejoin brings the chain back before the replica votes.
    if (this.truth === undefined || this.truth.length < 2 || store.metadata().status !== 'VOTING') return;
    const chain = store.metadata().configs ?? [];
    const top = Math.max(store.learnedThrough(), store.begin() - 1);
    for (const link of this.truth) {
      const p = link.position;
      if (p < 0 || p > top || p < store.begin()) continue;
      const a = store.action(p);
      if (a === undefined || a === 'lost' || a.kind !== 'config' || !store.slot(p)?.learned) continue;
      if (!chain.some((c) => c.position === p && c.epoch === a.config.epoch)) {
        this.fail('chain', `r${replica} learned the config entry of epoch ${a.config.epoch} at ${p} (learned through ${store.learnedThrough()}) but its chain lacks it (I8)`);
        return;
      }
    }
  }

  get ok(): boolean {
    return this.violations.length === 0;
  }

  fail(kind: ViolationKind, message: string): void {
    this.violations.push({ kind, message });
  }

  /** A client handed this action to a writer. */
  noteSubmitted(action: Action): void {
    this.submitted.add(valueKey(action));
  }

  /** A replica's accept record became durable. */
  noteDurableAccept(
    replica: ReplicaId,
    p: Position,
    proposal: Proposal,
    action: Action,
    by: { disk: string; named: readonly Named[]; config?: ConfigHead; chain?: readonly PlacedConfiguration[] } = { disk: '', named: [] },
  ): void {
    const key = valueKey(action);
    this.checkRemoved(replica, p, proposal, by.chain);
    if (action.kind === 'config') this.noteConfigAccept(replica, p, action.config.epoch, key);
    const k = `${p}|${proposal}|${key}`;
    let disks = this.acceptDisks.get(k);
    if (disks === undefined) this.acceptDisks.set(k, (disks = new Map()));
    disks.set(`${replica}/${by.disk}`, by.named);
    this.noteDurableHold(replica, p);
    // Only voters of config(q), under a ballot in config(q), make a value chosen at q (I1, section 8):
    // a ballot of another configuration is a leftover nobody may count.
    const governing = this.configAt(p);
    const voter = roleIn(governing, replica) === 'voter';
    const quorum = configQuorum(governing);
    const inConfig = (by.config ?? BOOTSTRAP_HEAD).epoch === governing.epoch;
    let set = this.accepts.get(k);
    if (set === undefined) this.accepts.set(k, (set = new Set()));
    if (voter && inConfig && !set.has(replica)) {
      set.add(replica);
      if (set.size === quorum) this.setChosen(p, action, `accepted under b${proposal} by replicas ${[...set].join(',')}`, governing.epoch);
    }
    // Counted as a proposer counts: the write named this very disk (generation and disk number).
    const [, gen, diskNo] = by.disk.split('/');
    if (!by.named.some((n) => n.id === replica && String(n.generation) === gen && String(n.disk) === diskNo)) return;
    if (!voter) {
      this.fail('counted-non-voter', `r${replica} accepted ${key} at ${p} under b${proposal} as a named member, but it is not a voter of config(${p}) (epoch ${governing.epoch})`);
      return;
    }
    if (!inConfig) return;
    let named = this.namedAccepts.get(k);
    if (named === undefined) this.namedAccepts.set(k, (named = new Set()));
    if (named.has(replica)) return;
    named.add(replica);
    if (named.size === quorum) this.noteCountedUnder(p, proposal, key, governing.epoch);
  }

  /** I7: an acceptance above the entry that removed the replica from its own chain. */
  private checkRemoved(replica: ReplicaId, p: Position, proposal: Proposal, chain: readonly PlacedConfiguration[] | undefined): void {
    if (chain === undefined || chain.length === 0 || roleOf(chain, replica) !== 'removed') return;
    const removing = chain.find((c, i) => i > 0 && roleIn(c, replica) === undefined && roleIn(chain[i - 1]!, replica) !== undefined);
    if (removing !== undefined && p > removing.position) {
      this.fail('removed-voted', `r${replica} accepted at ${p} under b${proposal} although its chain removed it at ${removing.position} (epoch ${removing.epoch})`);
    }
  }

  /** I4: one epoch's entry accepted by a quorum of the voters governing it at two positions. */
  private noteConfigAccept(replica: ReplicaId, p: Position, epoch: number, key: string): void {
    const governing = this.configAt(p);
    if (roleIn(governing, replica) !== 'voter') return;
    const k = `${p}|${epoch}|${key}`;
    let set = this.configAccepts.get(k);
    if (set === undefined) this.configAccepts.set(k, (set = new Set()));
    set.add(replica);
    if (set.size < configQuorum(governing)) return;
    let at = this.configQuorumAt.get(epoch);
    if (at === undefined) this.configQuorumAt.set(epoch, (at = new Set()));
    at.add(p);
    if (at.size > 1) this.fail('config-pending', `config entries of epoch ${epoch} accepted by a quorum at positions ${[...at].join(', ')}`);
  }

  /** I3: the chains replicas hold now (called as they change, and at the end of a run). */
  noteChains(chains: ReadonlyMap<ReplicaId, readonly PlacedConfiguration[]>): void {
    const same = (a: PlacedConfiguration, b: PlacedConfiguration): boolean => a.position === b.position && configurationKey(a) === configurationKey(b);
    for (const [id, chain] of chains) {
      for (let i = 1; i < chain.length; i++) {
        if (chain[i]!.epoch !== chain[i - 1]!.epoch + 1 || chain[i]!.position <= chain[i - 1]!.position) {
          this.fail('chain', `r${id}'s chain links epoch ${chain[i - 1]!.epoch} at ${chain[i - 1]!.position} to epoch ${chain[i]!.epoch} at ${chain[i]!.position}`);
          return;
        }
      }
      // One chain: each epoch names one configuration at one position on every replica (chains are
      // kept from config(begin) on, R14, so they may start at different epochs).
      for (const c of chain) {
        const truth = this.truth?.find((x) => x.epoch === c.epoch);
        if (truth !== undefined && !same(truth, c)) {
          this.fail('chain', `r${id}'s epoch ${c.epoch} (at ${c.position}) is not the one chosen (at ${truth.position})`);
          return;
        }
        const seen = this.chain.get(c.epoch);
        if (seen === undefined) this.chain.set(c.epoch, c);
        else if (!same(seen, c)) {
          this.fail('chain', `r${id}'s epoch ${c.epoch} (at ${c.position}) differs from the one another replica holds (at ${seen.position})`);
          return;
        }
      }
    }
  }

  /**
   * A replica's durable disk holds a value at p (an accept or learn record
   * became durable). Once a quorum's disks hold p, every quorum of VOTING
   * replicas has a member that reports something there (a value, or a lost
   * record), until one of those disks is lost.
   */
  noteDurableHold(replica: ReplicaId, p: Position): void {
    let set = this.holders.get(p);
    if (set === undefined) this.holders.set(p, (set = new Set()));
    if (set.has(replica)) return;
    set.add(replica);
    if (this.heldByQuorum(p, set) && !this.quorumHeldAt.has(p)) this.quorumHeldAt.set(p, ++this.factSeq);
  }

  /** A replica's disk was lost or damaged (wiped, restored from a backup, metadata or a record corrupted): what it held is gone. */
  noteDiskLost(replica: ReplicaId): void {
    for (const [p, set] of this.holders) {
      if (set.delete(replica) && !this.heldByQuorum(p, set)) this.quorumHeldAt.delete(p);
    }
  }

  /** A quorum of config(p)'s voters holds p (of the whole membership, in a run without changes). */
  private heldByQuorum(p: Position, holders: ReadonlySet<ReplicaId>): boolean {
    if (this.truth === undefined) return holders.size >= this.quorum;
    const c = this.configAt(p);
    return [...holders].filter((id) => roleIn(c, id) === 'voter').length >= configQuorum(c);
  }

  /** True if p was counted, or held by a quorum's disks, before the read that began at `start` (so every quorum it asked holds p). */
  private heldBefore(p: Position, start: ReadStart): boolean {
    return (this.countedAt.get(p) ?? Infinity) <= start.factSeq || (this.quorumHeldAt.get(p) ?? Infinity) <= start.factSeq;
  }

  /** A write was sent (by a writer, a reader's fill or a replica's catch-up fill): P2b against counted values. */
  noteWriteSent(who: string, proposal: Proposal, from: Position, actions: readonly Action[]): void {
    actions.forEach((action, i) => {
      if (action.kind === 'nop' && action.tombstone === true) return;
      const p = from + i;
      const key = valueKey(action);
      let byProposal = this.proposed.get(p);
      if (byProposal === undefined) this.proposed.set(p, (byProposal = new Map()));
      let keys = byProposal.get(proposal);
      if (keys === undefined) byProposal.set(proposal, (keys = new Set()));
      if (keys.has(key)) return;
      keys.add(key);
      const c = this.countedUnder.get(p);
      if (c !== undefined && proposal > c.proposal && c.key !== key) {
        this.fail('proposal', `${who} writes ${key} at ${p} under b${proposal}, but ${c.key} was chosen there under b${c.proposal} (a named quorum accepted it)`);
      }
    });
  }

  private noteCountedUnder(p: Position, proposal: Proposal, key: string, epoch: number): void {
    this.noteCounted(p);
    const prev = this.countedUnder.get(p);
    if (prev !== undefined && prev.proposal <= proposal) return;
    this.countedUnder.set(p, { proposal, key, epoch });
    for (const [b, keys] of this.proposed.get(p) ?? []) {
      if (b <= proposal) continue;
      for (const k of keys) if (k !== key) this.fail('proposal', `a write under b${b} at ${p} carried ${k}, but ${key} is chosen there under b${proposal} (a named quorum accepted it)`);
    }
  }

  private noteCounted(p: Position): void {
    if (!this.countedAt.has(p)) this.countedAt.set(p, ++this.factSeq);
  }

  /** A replica learned this action at p: it must be chosen already (a learner is told only what a proposer counted). */
  noteLearned(replica: ReplicaId, p: Position, action: Action): void {
    const tombstone = action.kind === 'nop' && action.tombstone === true;
    if (!tombstone && !this.chosen.has(p)) this.fail('agreement', `r${replica} learned ${valueKey(action)} at ${p}, which is not chosen (no quorum accepted it under one proposal)`);
    this.setChosen(p, action, `learned by r${replica}`);
    if (!tombstone) this.noteCounted(p);
  }

  /** A writer acknowledged an operation at p. */
  noteAck(writer: string, p: Position, action: Action): void {
    if (this.fenced.has(writer)) this.fail('fencing', `${writer} acknowledged ${valueKey(action)} at ${p} after it was told it was fenced`);
    const key = valueKey(action);
    const prev = this.acked.get(p);
    if (prev !== undefined && prev.key !== key) {
      this.fail('durability', `position ${p} acknowledged twice: ${prev.key} (${prev.writer}) and ${key} (${writer})`);
    }
    this.acked.set(p, { key, seq: ++this.ackSeq, writer });
    const c = this.chosen.get(p);
    if (c !== undefined && c.key !== key) this.fail('durability', `${writer} acknowledged ${key} at ${p} but ${c.key} is chosen there (${c.how})`);
    // Chosen first, then acknowledged: a durable quorum under one proposal, or learned by a replica, by now.
    if (c === undefined) this.fail('durability', `${writer} acknowledged ${key} at ${p} before it was chosen (no quorum durably accepted it under one proposal, no replica learned it)`);
    // In position order, each above a log chosen through the position before it.
    const last = this.lastAckOf.get(writer);
    if (last !== undefined && p <= last) this.fail('ack-order', `${writer} acknowledged position ${p} after ${last}`);
    this.lastAckOf.set(writer, p);
    this.advanceChosenPrefix();
    if (this.chosenPrefix < p) this.fail('ack-order', `${writer} acknowledged position ${p}, but position ${this.chosenPrefix} below it is not chosen`);
    if (action.kind === 'truncate') this.truncatedBelow = Math.max(this.truncatedBelow, action.to);
    this.noteCounted(p);
  }

  private advanceChosenPrefix(): void {
    if (this.chosenPrefix < this.truncatedBelow) this.chosenPrefix = this.truncatedBelow;
    while (this.chosen.has(this.chosenPrefix)) this.chosenPrefix++;
  }

  /** The number of acknowledgements so far (a rejoin remembers it when it begins). */
  get ackCount(): number {
    return this.ackSeq;
  }

  /**
   * A replica finished its rejoin (it is VOTING again): every append
   * acknowledged before the rejoin began is learned on it with the
   * acknowledged value, unless a chosen truncation removed it.
   */
  noteRejoined(replica: ReplicaId, store: StoreView, fromAck: number): void {
    // I7: a replica whose own chain removed it never turns VOTING through a rejoin. (The true chain may
    // have removed it already: while that entry is pending, R9b records the disk in the configuration
    // before it too, where it may still be needed to finish the entry; it stays out once it learns it.)
    const own = store.metadata().configs;
    if (own !== undefined && own.length > 0 && roleOf(own, replica) === 'removed') this.fail('removed-voted', `r${replica} turned VOTING through a rejoin, but its chain (epoch ${own[own.length - 1]!.epoch}) removed it`);
    // A value that a proposer could count as chosen with an acceptance by this member's lost disk
    // (a quorum of acceptances of writes naming that disk's generation, its own among them) must be
    // caught up before the new disk votes (docs/protocol.md, "Forgotten acceptance").
    const m = store.metadata();
    // Every earlier disk of the member: another incarnation (a wipe) or the same one with another identity (damaged metadata, a restored backup).
    const current = `${m.incarnation}/${m.generation ?? 0}/${m.disk ?? 0}`;
    for (const [k, set] of this.accepts) {
      if (set.size < this.quorumAt(Number(k.split('|')[0]))) continue;
      const by = this.acceptDisks.get(k)!;
      const lost: string[] = [];
      for (const d of by.keys()) {
        const [id, inc, gen, disk] = d.split('/') as [string, string, string, string];
        if (Number(id) !== replica || `${inc}/${gen}/${disk}` === current) continue;
        const g = Number(gen);
        const names = (named: readonly Named[]) => named.some((n) => n.id === replica && n.generation === g);
        if (!names(by.get(d)!)) continue;
        const counted = new Set([...by].filter(([, named]) => names(named)).map(([x]) => x.split('/')[0]));
        if (counted.size >= this.quorumAt(Number(k.split('|')[0]))) lost.push(d);
      }
      if (lost.length === 0) continue;
      const [ps, b] = k.split('|') as [string, string];
      const key = k.slice(ps.length + b.length + 2);
      const p = Number(ps);
      if (p < this.truncatedBelow || p < store.begin()) continue;
      const s = store.slot(p);
      const got = s?.learned ? store.action(p) : undefined;
      const have = got === undefined || got === 'lost' ? undefined : valueKey(got);
      if (have !== key) {
        this.fail('durability', `r${replica} rejoined (VOTING) without ${key} at ${p}, chosen under b${b} with its lost disk's acceptance (${lost.join(',')}); it holds ${have ?? 'nothing learned'} there`);
      }
    }
    for (const [p, a] of this.acked) {
      if (a.seq > fromAck || p < this.truncatedBelow || !a.key.startsWith('a:')) continue;
      const s = store.slot(p);
      const got = s?.learned ? store.action(p) : undefined;
      const key = got === undefined || got === 'lost' ? undefined : valueKey(got);
      if (key !== a.key) {
        this.fail('durability', `r${replica} rejoined without ${a.key} at ${p} (acknowledged before its rejoin began; it holds ${key ?? (s === undefined ? 'nothing' : s.learned ? 'a lost record' : 'it unlearned')})`);
      }
    }
  }

  noteFenced(writer: string): void {
    this.fenced.add(writer);
  }

  isFenced(writer: string): boolean {
    return this.fenced.has(writer);
  }

  readStarted(from: Position, to: Position, bounds: boolean): ReadStart {
    return { from, to, ackSeq: this.ackSeq, factSeq: this.factSeq, bounds };
  }

  /** A read of [from, to] returned these entries, and resolved every position through `through`. */
  readOk(who: string, start: ReadStart, entries: readonly Entry[], begin: Position, end: Position, through?: Position): void {
    if (begin > this.truncatedBelow) this.fail('read-consistency', `${who} saw begin ${begin} but nothing truncated past ${this.truncatedBelow}`);
    if (start.bounds) {
      for (const [p, a] of this.acked) {
        if (a.seq <= start.ackSeq && p > end) this.fail('read-consistency', `${who} bounds end ${end} below acknowledged position ${p}`);
      }
      // Every position counted or held by a quorum's disks before it began is held by a replica that answered.
      for (const map of [this.countedAt, this.quorumHeldAt]) {
        for (const [p, seq] of map) {
          if (seq <= start.factSeq && p > end && p >= this.truncatedBelow) this.fail('read-consistency', `${who} bounds end ${end} below position ${p}, held by a quorum before it began`);
        }
      }
      return;
    }
    // A read stops (short of its range) only where no replica of its quorum holds anything: never at a
    // position counted, or held by a quorum's disks, before it began.
    const stop = through === undefined ? undefined : through + 1;
    if (stop !== undefined && stop <= start.to && stop >= begin && stop >= this.truncatedBelow && this.heldBefore(stop, start)) {
      this.fail('read-consistency', `${who} read [${start.from}, ${start.to}] stopped at ${stop} (end ${end}), which a quorum's disks held before the read began`);
    }
    let last = -1;
    const got = new Map<Position, string>();
    for (const e of entries) {
      if (e.position <= last) this.fail('read-consistency', `${who} returned position ${e.position} after ${last}`);
      if (e.position < start.from || e.position > start.to) this.fail('read-consistency', `${who} returned ${e.position} outside [${start.from}, ${start.to}]`);
      if (e.action.kind !== 'append') this.fail('read-consistency', `${who} returned a ${e.action.kind} at ${e.position}`);
      last = e.position;
      got.set(e.position, valueKey(e.action));
      // Chosen first, then read: a reader returns only what is chosen when it returns it.
      const c = this.chosen.get(e.position);
      if (c === undefined) this.fail('read-consistency', `${who} returned ${valueKey(e.action)} at ${e.position}, which is not chosen`);
      this.setChosen(e.position, e.action, `read by ${who}`);
    }
    for (const [p, a] of this.acked) {
      if (a.seq > start.ackSeq || p < start.from || p > start.to || p < this.truncatedBelow || !a.key.startsWith('a:')) continue;
      const g = got.get(p);
      if (g !== a.key) this.fail('read-consistency', `${who} read [${start.from}, ${start.to}] gave ${g ?? 'nothing'} at ${p}, acknowledged ${a.key} before the read began`);
    }
  }

  readTruncated(who: string, begin: Position | undefined): void {
    if (begin !== undefined && begin > this.truncatedBelow) {
      this.fail('read-consistency', `${who} was told truncated below ${begin} but nothing truncated past ${this.truncatedBelow}`);
    }
  }

  /** Acknowledged appends a final read must return: position -> value key. */
  mustSurvive(): Map<Position, string> {
    const out = new Map<Position, string>();
    for (const [p, a] of this.acked) if (p >= this.truncatedBelow && a.key.startsWith('a:')) out.set(p, a.key);
    return out;
  }

  get acknowledged(): number {
    return this.acked.size;
  }

  get chosenCount(): number {
    return this.chosen.size;
  }

  private setChosen(p: Position, action: Action, how: string, epoch?: number): void {
    if (action.kind === 'nop' && action.tombstone === true) {
      // A tombstone stands for "truncated": it says nothing about the value once chosen there.
      if (p >= this.truncatedBelow) this.fail('agreement', `tombstone at ${p} (${how}) but nothing truncated past ${this.truncatedBelow}`);
      return;
    }
    const key = valueKey(action);
    if (action.kind === 'append' && !this.submitted.has(key)) this.fail('validity', `${key} at ${p} (${how}) was never submitted`);
    const prev = this.chosen.get(p);
    if (prev === undefined) {
      this.chosen.set(p, epoch === undefined ? { key, how } : { key, how, epoch });
      if (action.kind === 'truncate') this.truncatedBelow = Math.max(this.truncatedBelow, action.to);
      if (action.kind === 'config') this.noteConfigChosen(p, action);
      const a = this.acked.get(p);
      if (a !== undefined && a.key !== key) this.fail('durability', `${a.writer} acknowledged ${a.key} at ${p} but ${key} is chosen there (${how})`);
      return;
    }
    if (prev.key !== key) this.fail('agreement', `two values chosen at ${p}: ${prev.key} (${prev.how}) and ${key} (${how})`);
    else if (epoch === undefined && prev.epoch !== undefined) this.chosen.set(p, { key, how: prev.how });
  }
}
