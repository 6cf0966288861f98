/**
 * One simulation run, fully determined by its seed: a cluster of real replica
 * cores behind simulated disks, real writer and reader cores as clients, a
 * simulated network, and faults, all driven by one event queue and one PRNG.
 *
 * Phases:
 * 1. faults (config.faultPhaseMs): clients work, faults strike.
 * 2. drain: faults stop, partitions heal, crashed replicas restart, the
 *    network calms down, clients submit nothing new. Every pending operation
 *    must finish (succeed or fail) within drainMs: liveness.
 * 3. probe: a fresh writer appends one entry (its election settles every
 *    position), then a fresh reader reads the whole log. Both must succeed
 *    within probeMs, and the read must return every acknowledged append that
 *    no truncation removed: durability. The probe runs on until its writer
 *    has been elected for COUNT_ALL_WITHIN_MS with every replica up and
 *    VOTING: by then it must count every member (liveness).
 * The checker checks safety as facts arrive, at every step.
 */
import { AssertionError } from '../core/assert.js';
import { timing } from '../core/constants.js';
import { quorumSize } from '../core/quorum.js';
import { ALL_RULES_ON, type SafetyRules } from '../core/rules.js';
import { isRetired, ownDisk, recordedDisk, sameDisk } from '../core/identity.js';
import type { ReplicaId, Status } from '../core/types.js';
import { MemoryStore } from '../storage/memory-store.js';
import { chainView, oneLinkView, type ConfigView } from '../core/config-view.js';
import { configQuorum, roleIn, type Configuration, type PlacedConfiguration } from '../core/membership.js';
import type { ChangeOutcome } from '../core/writer.js';
import { memberIdsOf, simBootstrap } from './members.js';
import { Checker, type Violation } from './checker.js';
import { ReaderClient, WriterClient, type ClientHost } from './clients.js';
import { describeConfig, drawConfig, NO_OPEN_SHAPES, type OpenShapes, type SimConfig } from './config.js';
import { EventQueue } from './event-queue.js';
import { block, changeBudgetLeft, damageWhileDown, drawPartition, governingConfigs, loseDisk, unblock, zeroCounts, type Damage, type FaultCounts, type Links } from './faults.js';
import { CALM_NETWORK, SimNetwork, type Addr, type Envelope } from './network.js';
import { Prng } from './prng.js';
import { ReplicaNode, replicaIdOf, type ReplicaHost } from './replica-node.js';
import { SimDisk, type DiskSnapshot, type SyncFault } from './sim-store.js';
import { describeMessage, Trace } from './trace.js';
import { changesMembers, describeShapes, drawChangeShapes, drawShapes, NO_SHAPES, Shapes, type ShapeHost, type ShapePlan } from './shapes.js';

export interface SimOptions {
  readonly rules?: SafetyRules;
  /** Prints every trace line as it happens. */
  readonly verbose?: boolean;
  /** Trace lines kept for a failure report. */
  readonly tailLines?: number;
  /** Fault shapes that found open core issues, off unless asked for (config.ts, OpenShapes). */
  readonly open?: Partial<OpenShapes>;
  /**
   * The liveness checks of issue 20 in every phase, not only once the network
   * is calm (the probe): a writer fenced by a reader's or a catch-up's fill,
   * and an elected writer that counts fewer members than are up and VOTING
   * (checked from the drain on). Off by default: the core still does both
   * (issue 20, items 1 and 2); see docs/simulator.md.
   */
  readonly strictLiveness?: boolean;
  /**
   * The workload shapes of shapes.ts (episodes that build the states the
   * rules protect), on by default; false keeps the classic runs (the pinned
   * seeds of core-regressions and open-findings, the CLI's --no-shapes).
   */
  readonly shapes?: boolean;
  /** Membership change episodes only (shapes.ts, drawChangeShapes): short runs that change the members (the CLI's --changes). */
  readonly changesOnly?: boolean;
}

export interface SimResult {
  readonly seed: number;
  readonly config: string;
  readonly steps: number;
  readonly simTimeMs: number;
  readonly traceHash: string;
  readonly violations: readonly Violation[];
  readonly faults: FaultCounts;
  readonly acks: number;
  readonly reads: number;
  /** The epoch of the latest configuration chosen (0: no change was chosen). */
  readonly epoch: number;
  readonly traceTail: readonly string[];
}

type SimEvent =
  | { readonly k: 'deliver'; readonly env: Envelope }
  | { readonly k: 'sync'; readonly node: ReplicaNode; readonly epoch: number; readonly upTo: number }
  | { readonly k: 'lazySync'; readonly node: ReplicaNode; readonly epoch: number }
  | { readonly k: 'tick' }
  | { readonly k: 'writer'; readonly client: WriterClient }
  | { readonly k: 'reader'; readonly client: ReaderClient }
  | { readonly k: 'crash' }
  | { readonly k: 'restart'; readonly node: ReplicaNode }
  | { readonly k: 'partition' }
  | { readonly k: 'heal'; readonly links: Links }
  | { readonly k: 'takeover' }
  | { readonly k: 'syncFault' }
  | { readonly k: 'diskLoss'; readonly left: number }
  | { readonly k: 'snapshot' }
  | { readonly k: 'restore'; readonly node: ReplicaNode; readonly snap: DiskSnapshot }
  | { readonly k: 'lateStart'; readonly node: ReplicaNode }
  | { readonly k: 'missStart'; readonly node: ReplicaNode }
  | { readonly k: 'episode'; readonly fn: () => void }
  | { readonly k: 'together' }
  | { readonly k: 'drain' }
  | { readonly k: 'probe' }
  | { readonly k: 'end' };

const TICK_MS = 50;
const DRAIN_MS = 2 * timing.operationTimeoutMs;
const PROBE_MS = timing.operationTimeoutMs;
/**
 * With every replica up and VOTING and the network calm, an elected writer
 * counts every one of them within this long (a late member is asked again
 * every repromiseMs and confirmed by the next round).
 */
const COUNT_ALL_WITHIN_MS = 2_000;
const STEPS_MAX = 5_000_000;

export function runSeed(seed: number, options: SimOptions = {}): SimResult {
  return new Simulation(seed, options).run();
}

class Simulation implements ReplicaHost, ClientHost, ShapeHost {
  readonly prng: Prng;
  readonly config: SimConfig;
  readonly checker: Checker;
  readonly rules: SafetyRules;
  readonly members: readonly ReplicaId[];
  private readonly queue = new EventQueue<SimEvent>();
  readonly net: SimNetwork;
  private readonly trace_: Trace;
  private readonly replicas = new Map<Addr, ReplicaNode>();
  private readonly writers: WriterClient[] = [];
  private readonly readers: ReaderClient[] = [];
  private readonly faults = zeroCounts();
  private phase: 'faults' | 'drain' | 'probe' | 'done' = 'faults';
  private opId = 1;
  private steps = 0;
  private probeWriter?: WriterClient;
  private probeReader?: ReaderClient;
  private probeBounds?: number;
  private probeRead?: number;
  private probeRetries = 0;
  private probeReadRetries = 0;
  /** missedStart: the replica to lose during the start, until it is lost. */
  private missing?: ReplicaNode;
  /** The last replica a scheduled disk loss hit (the next one prefers another). */
  private lastLoss?: ReplicaNode;
  /** Replies and announcements queued by replica shells: the record seq that must be durable before each leaves. */
  private readonly held = new WeakMap<Envelope, { node: ReplicaNode; seq: number; epoch: number }>();
  /** Every proposal a writer generation asked promises for (a fence by any other came from a fill). */
  private readonly writerProposals = new Set<number>();
  /** Who asked promises for each proposal other than writers: a reader's fill ('rd1') or a replica's catch-up fill ('r3'). */
  private readonly fillProposals = new Map<number, string>();
  private readonly strictLiveness: boolean;
  /** Since when every replica has been up, VOTING and voting (undefined while one is not). */
  private allVotingSince: number | undefined;
  /** The probe's counted-members check is done. */
  private probeCounted = false;
  /** The workload episodes (shapes.ts); the fault phase lasts until they are over. */
  private readonly shapePlan: ShapePlan;
  /** Background writers and takeovers pause until then (an episode's writers act alone). */
  private quietEnd = 0;
  /** An episode runs: random faults hold off (shapes.ts). */
  private calmNow = false;
  /** The run changes its members (a change episode in its plan): replicas store chains, the checker follows the true chain. */
  readonly changing: boolean;
  /** A change episode's target configuration while its entry may be pending: its voters count in the damage budget too. */
  pendingConfig: Configuration | undefined;
  clientsFollowChain = false;
  /** Runs in which some change was chosen (the figures count them). */
  changesChosen = 0;

  constructor(
    readonly seed: number,
    options: SimOptions,
  ) {
    this.prng = new Prng(seed);
    this.rules = options.rules ?? ALL_RULES_ON;
    this.strictLiveness = options.strictLiveness ?? false;
    this.config = drawConfig(this.prng, this.rules, { ...NO_OPEN_SHAPES, ...options.open });
    this.trace_ = new Trace(options.tailLines ?? 40, options.verbose ? (l) => console.log(l) : undefined);
    this.members = this.config.memberIds;
    // The episodes draw from a PRNG of their own: the classic configuration above stays the seed's.
    const planPrng = new Prng((seed ^ 0x5eed5eed) >>> 0);
    this.shapePlan = options.shapes === false ? NO_SHAPES : options.changesOnly === true ? drawChangeShapes(planPrng, this.config.replicas) : drawShapes(planPrng, this.config.replicas);
    this.changing = changesMembers(this.shapePlan);
    // The true chain: one configuration, every member a voter; a run that changes its members starts from
    // the same one with addresses, stored on every disk (R11), and the checker follows its config entries.
    const c0 = this.changing ? simBootstrap(this.members) : undefined;
    this.checker = new Checker(quorumSize(this.config.replicas), c0 === undefined ? oneLinkView(this.config.memberIds) : { trueChain: c0 });
    this.net = new SimNetwork(this.prng, this.config.network, (delay, env) => this.queue.schedule(delay, { k: 'deliver', env }));
    // A new cluster's disks are EMPTY (the two-phase start runs); a classic run builds them VOTING.
    const status: Status = this.config.start === 'voting' ? 'VOTING' : 'EMPTY';
    for (const id of this.members) {
      const disk = new SimDisk({ status, promised: 0, incarnation: `inc-${id}-${seed}`, ...(c0 === undefined ? {} : { configs: [c0] }) });
      if (c0 !== undefined) disk.base = () => this.joinChain();
      const node = new ReplicaNode(id, disk, this, this.config.shuffleMembers ? this.prng.shuffle(this.members) : undefined, c0 === undefined ? {} : { bootstrap: c0 });
      this.replicas.set(node.addr, node);
    }
    for (let i = 1; i <= this.config.writers; i++) this.writers.push(new WriterClient(`w${i}`, this));
    for (let i = 1; i <= this.config.readers; i++) this.readers.push(new ReaderClient(`rd${i}`, this));
    this.trace(`seed ${seed}: ${describeConfig(this.config)}${this.shapePlan.episodes.length > 0 ? ` shapes=${describeShapes(this.shapePlan)}` : ''}`);
  }

  // ---------------------------------------------------------------- hosts

  now(): number {
    return this.queue.now;
  }
  send(env: Envelope): void {
    const h = this.held.get(env);
    if (h !== undefined) {
      this.held.delete(env);
      if (h.epoch === h.node.epoch && h.node.disk.durable < h.seq) {
        this.checker.fail('reply-before-sync', `${env.from} sent ${describeMessage(env.msg)} to ${env.to} with records through ${h.seq} appended and only ${h.node.disk.durable} durable`);
      }
    }
    if (env.msg.type === 'write') this.checker.noteWriteSent(env.from, env.msg.proposal, env.msg.from, env.msg.actions);
    if (env.msg.type === 'promise' && !env.from.startsWith('w') && !this.fillProposals.has(env.msg.proposal)) this.fillProposals.set(env.msg.proposal, env.from);
    this.net.send(env);
  }
  heldUntilDurable(node: ReplicaNode, env: Envelope, seq: number): void {
    this.held.set(env, { node, seq, epoch: node.epoch });
  }
  writerProposal(proposal: number): void {
    this.writerProposals.add(proposal);
  }
  /**
   * Liveness: a writer is fenced only by another writer. A fence by a
   * proposal no writer asked for comes from a reader's or a catch-up's fill;
   * once the network is calm and every replica up (the probe), nothing
   * excuses it (strictLiveness: in every phase).
   */
  writerFenced(w: WriterClient, proposal: number | undefined): void {
    if (proposal === undefined || this.writerProposals.has(proposal)) return;
    if (this.phase !== 'probe' && !this.strictLiveness) return;
    // Another writer above it deposed it already (the fill only got there first): not the only live writer.
    if (this.outrankedByLiveWriter(w)) return;
    const by = this.fillProposals.get(proposal);
    const fill = by === undefined ? "a fill's" : /^r\d+$/.test(by) ? `${by}'s catch-up fill` : `reader ${by}'s fill`;
    this.checker.fail('liveness', `${w.id} fenced by b${proposal}, a proposal no writer asked for (${fill}), in the ${this.phase} phase`);
  }
  trace(text: string): void {
    this.trace_.add(this.queue.now, text);
  }
  nextOpId(): number {
    return this.opId++;
  }
  scheduleSync(node: ReplicaNode, epoch: number, upTo: number): void {
    this.queue.schedule(this.prng.int(this.config.syncMinMs, this.config.syncMaxMs), { k: 'sync', node, epoch, upTo });
  }
  scheduleLazySync(node: ReplicaNode, epoch: number, delayMs: number): void {
    this.queue.schedule(delayMs, { k: 'lazySync', node, epoch });
  }
  random(): number {
    return this.prng.float();
  }
  clientMembers(): readonly ReplicaId[] {
    return this.config.shuffleMembers ? this.prng.shuffle(this.members) : this.members;
  }
  /** After a change: the newest chain an up replica holds (a client asks them all and takes the newest, as `--join` does). */
  clientView(): ConfigView | undefined {
    const chain = this.newestChain();
    return chain === undefined || (chain[chain.length - 1]!.epoch === 0 && !this.clientsFollowChain) ? undefined : chainView(chain);
  }
  /** The newest chain an up replica holds (undefined in a run without changes). */
  newestChain(): readonly PlacedConfiguration[] | undefined {
    if (!this.changing) return undefined;
    let best: readonly PlacedConfiguration[] | undefined;
    for (const n of this.replicas.values()) {
      const chain = n.disk.live.metadata().configs;
      if (!n.up || chain === undefined || chain.length === 0) continue;
      if (best === undefined || chain[chain.length - 1]!.epoch > best[best.length - 1]!.epoch) best = chain;
    }
    return best;
  }
  changeDone(_w: WriterClient, _id: string, result: ChangeOutcome): void {
    if (result.ok) this.changesChosen++;
  }
  /** The latest configuration whose entry is chosen (the true chain's head). */
  latestConfig(): PlacedConfiguration {
    const t = this.checker.trueChain;
    return t[t.length - 1]!;
  }
  /** Replicas that are members (voters or learners) of the latest configuration and not stopped for good. */
  private memberNodes(): ReplicaNode[] {
    const all = [...this.replicas.values()];
    if (!this.changing) return all;
    const head = this.latestConfig();
    return all.filter((n) => !n.retired && roleIn(head, n.id) !== undefined);
  }
  /** Replicas that are voters of the latest configuration and not stopped for good. */
  private voterNodes(): ReplicaNode[] {
    if (!this.changing) return [...this.replicas.values()];
    const head = this.latestConfig();
    return this.memberNodes().filter((n) => roleIn(head, n.id) === 'voter');
  }
  /**
   * A new member's replica, started as `replog replica --join` starts one once
   * its id is in the configuration: an EMPTY disk holding the chain the seeds
   * gave it, never starting a cluster of its own (mayStart false, R11); the
   * recovery protocol makes it a disk of its member and catches it up.
   * Not before some up replica's chain lists it (undefined then; the callers
   * try again on later steps): the checker sees the add chosen before any
   * replica installs it, and a joiner started then would hold a chain that
   * does not list it, which no operator's `config show` would have offered.
   */
  join(id: ReplicaId): ReplicaNode | undefined {
    const chain = this.joinChain().configs;
    if (roleIn(chain[chain.length - 1]!, id) === undefined) return undefined;
    const disk = new SimDisk({ status: 'EMPTY', promised: 0, incarnation: `inc-${id}-${this.seed}`, configs: chain });
    disk.base = () => this.joinChain();
    const node = new ReplicaNode(id, disk, this, memberIdsOf(chain[chain.length - 1]!), { mayStart: false });
    // Once VOTING it holds every append acknowledged before it started (the rejoin check).
    node.rejoinFromAck = this.checker.ackCount;
    // Until then it counts against the damage budget as a lost disk does (a voter added by a change whose
    // outcome was unknown may already be one of the few its configuration needs).
    node.damaged = true;
    node.damage = 'a new member catching up';
    this.replicas.set(node.addr, node);
    this.trace(`JOIN ${node.addr} (an EMPTY disk with the chain through epoch ${chain[chain.length - 1]!.epoch})`);
    return node;
  }
  /**
   * The chain a disk starts from: the newest an up replica holds (what
   * `--join` learns from its seeds). A wiped disk restarts from it too: an
   * operator restarts a lost replica with the cluster's current members (the
   * epoch-0 flags after a change are attack7's case, tested there: here
   * every old member may have been retired, and none would answer).
   */
  private joinChain(): { configs: PlacedConfiguration[] } {
    return { configs: [...(this.newestChain() ?? this.checker.trueChain)] };
  }
  /**
   * A change whose outcome its writer never learned (unknown, or the episode
   * stopped waiting) may be chosen later, by another writer: the replica of a
   * member it added starts then, as an operator starts it once `config show`
   * lists it (else a voter would stay missing for good).
   */
  private startNewMembers(): void {
    if (!this.changing || this.checker.trueChain.length === this.chainSeen) return;
    const head = this.latestConfig();
    let started = true;
    for (const m of [...head.voters, ...head.learners]) if (!this.replicas.has(`r${m.id}`)) started = this.join(m.id) !== undefined && started;
    // A member no up replica's chain lists yet is tried again on the next tick.
    if (started) this.chainSeen = this.checker.trueChain.length;
  }
  /** Length of the true chain whose members all have a replica (startNewMembers is done with it). */
  private chainSeen = 1;
  /** A removed member's process is stopped for good (its operator retired it). */
  retire(node: ReplicaNode): void {
    if (node.up) this.faults.lostRecords += node.crash();
    node.retired = true;
    this.trace(`RETIRE ${node.addr}: stopped for good`);
  }
  /** Wipes a replica's disk at once (crash, new EMPTY disk) within the damage budget; it restarts after `downMs`. */
  wipeNow(node: ReplicaNode, downMs: number): boolean {
    if (this.budgetLeft(node) <= 0 || node.retired) return false;
    if (node.up) {
      this.faults.crash++;
      this.faults.lostRecords += node.crash();
    }
    node.disk.wipe(`inc-${node.id}-wiped-${this.queue.now}`);
    node.damaged = true;
    node.damage = 'a wipe during a change';
    this.noteDamage('wipe', node);
    this.queue.schedule(downMs, { k: 'restart', node });
    return true;
  }
  takeDown(node: ReplicaNode, wipe: boolean): boolean {
    if (!node.up || node.retired || (wipe && this.budgetLeft(node) <= 0)) return false;
    this.faults.crash++;
    this.faults.lostRecords += node.crash();
    if (wipe) {
      node.disk.wipe(`inc-${node.id}-wiped-${this.queue.now}`);
      node.damaged = true;
      node.damage = 'a wipe while the members moved on';
      this.noteDamage('wipe', node);
    }
    return true;
  }
  bringBack(node: ReplicaNode): void {
    this.queue.schedule(0, { k: 'restart', node });
  }
  replicaById(id: ReplicaId): ReplicaNode | undefined {
    return this.replicas.get(`r${id}`);
  }
  statusChanged(node: ReplicaNode, status: Status): void {
    const m = this.missing;
    if (m === undefined || this.phase !== 'faults') return;
    const trigger = this.config.missTrigger === 'selfStarting' ? node === m && status === 'STARTING' : node !== m && status === 'VOTING';
    if (!trigger) return;
    this.missing = undefined;
    this.queue.schedule(this.prng.int(0, 30), { k: 'missStart', node: m });
  }

  // ---------------------------------------------------------------- shapes (ShapeHost)

  at(delayMs: number, fn: () => void): void {
    this.queue.schedule(delayMs, { k: 'episode', fn });
  }
  writerClients(): WriterClient[] {
    return this.writers;
  }
  readerClients(): ReaderClient[] {
    return this.readers;
  }
  replicaNodes(): ReplicaNode[] {
    return this.memberNodes();
  }
  quorum(): number {
    return this.changing ? configQuorum(this.latestConfig()) : quorumSize(this.config.replicas);
  }
  addWriter(): WriterClient {
    const w = new WriterClient(`w${this.writers.length + 1}`, this);
    this.writers.push(w);
    this.queue.schedule(this.prng.int(1, this.config.clientGapMs), { k: 'writer', client: w });
    return w;
  }
  calm(on: boolean): void {
    this.calmNow = on;
  }
  quietUntil(ms: number): void {
    this.quietEnd = Math.max(this.quietEnd, ms);
  }
  bounce(node: ReplicaNode, downMs: number): void {
    const lost = node.crash();
    this.faults.crash++;
    this.faults.lostRecords += lost;
    this.trace(`CRASH ${node.addr} (${lost} unsynced records lost; back in ${downMs}ms)`);
    this.queue.schedule(downMs, { k: 'restart', node });
  }

  // ---------------------------------------------------------------- run

  run(): SimResult {
    const c = this.config;
    this.queue.schedule(TICK_MS, { k: 'tick' });
    for (const w of this.writers) this.queue.schedule(this.prng.int(0, c.clientGapMs), { k: 'writer', client: w });
    for (const r of this.readers) this.queue.schedule(this.prng.int(0, 4 * c.clientGapMs), { k: 'reader', client: r });
    this.scheduleFault('crash', c.crashRate);
    this.scheduleFault('partition', c.partitionRate);
    this.scheduleFault('takeover', c.takeoverRate);
    this.scheduleFault('syncFault', c.syncFaultRate);
    this.startShape();
    if (this.shapePlan.episodes.length > 0) {
      // The fault phase lasts its drawn length, and until the last episode is over.
      new Shapes(this, new Prng((this.seed ^ 0x0dd5eed) >>> 0), this.shapePlan).start(() => this.at(Math.max(0, c.faultPhaseMs - this.queue.now), () => this.drain()));
    } else this.queue.schedule(c.faultPhaseMs, { k: 'drain' });
    if (c.diskLosses > 0 && c.open.successiveLosses) this.queue.schedule(this.prng.int(200, 1_500), { k: 'diskLoss', left: c.diskLosses });
    for (let i = 0; i < c.restores; i++) this.queue.schedule(this.prng.int(0, c.faultPhaseMs / 2), { k: 'snapshot' });
    if (c.open.restartTogether) for (let i = this.prng.int(1, 3); i > 0; i--) this.queue.schedule(this.prng.int(0, c.faultPhaseMs), { k: 'together' });
    while (this.phase !== 'done' && this.checker.ok) {
      const e = this.queue.pop();
      if (e === undefined) break;
      if (++this.steps > STEPS_MAX) {
        this.checker.fail('liveness', `more than ${STEPS_MAX} steps: runaway`);
        break;
      }
      try {
        this.handle(e);
        if (this.phase === 'probe' && this.checker.ok) this.advanceProbe();
      } catch (err) {
        if (!(err instanceof AssertionError)) throw err;
        this.checker.fail('assertion', `core assertion: ${err.message}`);
      }
    }
    if (this.checker.ok) {
      try {
        this.finalChecks();
      } catch (err) {
        if (!(err instanceof AssertionError)) throw err;
        this.checker.fail('invariant', err.message);
      }
    }
    const n = this.net.counters;
    Object.assign(this.faults, { drop: n.lost, duplicate: n.duplicated, delay: n.slowed, blocked: n.blocked });
    this.faults.rejoin = [...this.replicas.values()].reduce((k, r) => k + r.rejoins, 0);
    for (const v of this.checker.violations) this.trace(`VIOLATION ${v.kind}: ${v.message}`);
    return {
      seed: this.seed,
      config: describeConfig(c),
      steps: this.steps,
      simTimeMs: this.queue.now,
      traceHash: this.trace_.hash(),
      violations: this.checker.violations,
      faults: this.faults,
      acks: this.writers.reduce((s, w) => s + w.acks, 0),
      reads: this.readers.reduce((s, r) => s + r.reads, 0),
      epoch: this.latestConfig().epoch,
      traceTail: this.trace_.last(),
    };
  }

  private handle(e: SimEvent): void {
    switch (e.k) {
      case 'deliver':
        return this.deliver(e.env);
      case 'sync':
        return e.node.syncDone(e.epoch, e.upTo);
      case 'lazySync':
        return e.node.lazySyncDue(e.epoch);
      case 'tick':
        for (const n of this.replicas.values()) n.tick();
        for (const w of this.allWriters()) w.tick();
        for (const r of this.allReaders()) r.tick();
        this.queue.schedule(TICK_MS, { k: 'tick' });
        this.checkCounted();
        this.startNewMembers();
        return;
      case 'writer':
        return this.writerAct(e.client);
      case 'reader':
        return this.readerAct(e.client);
      case 'crash':
        if (this.phase !== 'faults') return;
        if (this.calmNow) return this.scheduleFault('crash', this.config.crashRate);
        this.crash();
        return this.scheduleFault('crash', this.config.crashRate);
      case 'restart':
        return this.restart(e.node);
      case 'partition':
        if (this.phase !== 'faults') return;
        if (this.calmNow) return this.scheduleFault('partition', this.config.partitionRate);
        this.partition();
        return this.scheduleFault('partition', this.config.partitionRate);
      case 'heal':
        this.faults.heal++;
        this.trace(`heal ${e.links.length} links`);
        unblock(this.net, e.links);
        // A writer's link to a replica is up again: it is told, as LogClient tells its writers when a link connects.
        for (const [from, to] of e.links) {
          const id = replicaIdOf(to);
          if (id === undefined || this.net.isBlocked(from, to)) continue;
          for (const w of this.allWriters()) if (w.id === from) w.reachable(id);
        }
        return;
      case 'takeover':
        if (this.phase !== 'faults') return;
        if (this.calmNow) return this.scheduleFault('takeover', this.config.takeoverRate);
        this.takeover();
        return this.scheduleFault('takeover', this.config.takeoverRate);
      case 'syncFault':
        if (this.phase !== 'faults') return;
        if (this.calmNow) return this.scheduleFault('syncFault', this.config.syncFaultRate);
        this.syncFault();
        return this.scheduleFault('syncFault', this.config.syncFaultRate);
      case 'diskLoss':
        return this.diskLoss(e.left);
      case 'snapshot':
        return this.snapshot();
      case 'restore':
        // Not while an episode runs (it builds its own faults): a little later.
        if (this.calmNow) return this.queue.schedule(this.prng.int(200, 600), e);
        return this.restore(e.node, e.snap);
      case 'lateStart':
        if (this.phase !== 'faults' || e.node.up) return;
        this.faults.lateStart++;
        this.trace(`LATE START ${e.node.addr}`);
        return this.restart(e.node);
      case 'missStart':
        return this.missStart(e.node);
      case 'together':
        return this.restartTogether();
      case 'episode':
        if (this.phase === 'faults') e.fn();
        return;
      case 'drain':
        return this.drain();
      case 'probe':
        return this.probe();
      case 'end':
        return this.endProbe();
    }
  }

  private deliver(env: Envelope): void {
    const replica = this.replicas.get(env.to);
    if (replica !== undefined) {
      if (!replica.up) return;
      this.trace(`${env.from}>${env.to} ${describeMessage(env.msg)}`);
      return replica.receive(env);
    }
    const from = Number(env.from.slice(1));
    const w = this.allWriters().find((x) => x.id === env.to);
    const r = w === undefined ? this.allReaders().find((x) => x.name === env.to) : undefined;
    if (w === undefined && r === undefined) return;
    this.trace(`${env.from}>${env.to} ${describeMessage(env.msg)}`);
    w?.receive(from, env.msg);
    r?.receive(from, env.msg);
  }

  private allWriters(): WriterClient[] {
    return this.probeWriter === undefined ? this.writers : [...this.writers, this.probeWriter];
  }

  private allReaders(): ReaderClient[] {
    return this.probeReader === undefined ? this.readers : [...this.readers, this.probeReader];
  }

  // ---------------------------------------------------------------- clients

  private writerAct(w: WriterClient): void {
    if (this.phase !== 'faults') return;
    const gap = this.config.clientGapMs * (w === this.writers[0] ? 1 : 3);
    this.queue.schedule(this.prng.int(1, 2 * gap), { k: 'writer', client: w });
    if (w.dead || this.queue.now < this.quietEnd) return;
    if (w.pending.size > 64) return;
    if (w.fenced && this.prng.chance(0.5)) {
      this.faults.renew++;
      w.renew();
    }
    const truncate = w.lastAcked > 0 && this.prng.chance(0.08) ? this.prng.int(0, w.lastAcked) : undefined;
    w.submit(truncate === undefined ? this.prng.int(1, 4) : this.prng.int(0, 2), truncate);
  }

  private readerAct(r: ReaderClient): void {
    if (this.phase !== 'faults') return;
    this.queue.schedule(this.prng.int(1, 4 * this.config.clientGapMs), { k: 'reader', client: r });
    if (r.pending.size >= 2) return;
    if (this.prng.chance(0.2)) {
      r.bounds();
      return;
    }
    const top = Math.max(0, ...this.writers.map((w) => w.lastAcked)) + 3;
    const from = this.prng.int(0, top);
    r.read(from, this.prng.chance(0.3) ? Number.MAX_SAFE_INTEGER : from + this.prng.int(0, 20));
  }

  // ---------------------------------------------------------------- faults

  private scheduleFault(k: 'crash' | 'partition' | 'takeover' | 'syncFault', perSecond: number): void {
    if (perSecond <= 0 || this.phase !== 'faults') return;
    // Exponential inter-arrival times: a Poisson process of faults.
    const gapMs = (-Math.log(1 - this.prng.float()) * 1000) / perSecond;
    // With episodes the phase ends when they do (Shapes.start): the faults go on until then.
    if (this.queue.now + gapMs < this.config.faultPhaseMs || this.shapePlan.episodes.length > 0) this.queue.schedule(gapMs, { k });
  }

  private crash(): void {
    const up = [...this.replicas.values()].filter((n) => n.up);
    if (up.length === 0) return;
    const node = this.prng.pick(up);
    const lost = node.crash();
    this.faults.crash++;
    this.faults.lostRecords += lost;
    this.trace(`CRASH ${node.addr} (${lost} unsynced records lost)`);
    const c = this.config;
    const damage = damageWhileDown(this.prng, node, this.budgetLeft(node), c.wipeChance, c.corruptChance, c.corruptMetaChance, this.queue.now, c.tailCorruptChance, this.mayForceRecovering(node));
    if (damage !== undefined) this.noteDamage(damage, node);
    this.queue.schedule(this.prng.int(50, 2_000), { k: 'restart', node });
  }

  /**
   * The damage budget left if `node` is (or becomes) damaged: a minority
   * (n - quorum) of replicas may be damaged at once; a damaged replica counts
   * until it is healthy again (durably VOTING, checked, nothing lost).
   */
  private budgetLeft(node?: ReplicaNode): number {
    if (this.changing) {
      // At most a minority of each governing configuration's voters (faults.ts, governingConfigs): the latest
      // one chosen, the newest one a disk installed, a pending one; and the one before the latest until a quorum
      // of the latest's voters holds its entry in their chains: until then the entry may be learned nowhere, and
      // only the old voters can settle it (a change-wipe of an old voter and another wipe left two of four old
      // voters, and the log stuck: --changes seed 266).
      const t = this.checker.trueChain;
      const latest = t[t.length - 1]!;
      const holding = latest.voters.filter((m) => (this.replicaById(m.id)?.disk.live.metadata().configs?.at(-1)?.epoch ?? -1) >= latest.epoch).length;
      const installed = [...this.replicas.values()].filter((n) => !n.retired).map((n) => n.disk.live.metadata().configs?.at(-1));
      const governing = governingConfigs(latest, installed, this.pendingConfig);
      const previous = t.length > 1 && holding < configQuorum(latest) ? t[t.length - 2]! : undefined;
      if (previous !== undefined && !governing.some((c) => c.epoch === previous.epoch)) governing.push(previous);
      const damaged = [...this.replicas.values()].filter((n) => n.damaged && n !== node).map((n) => n.id);
      return changeBudgetLeft(governing, damaged);
    }
    const damagedOthers = [...this.replicas.values()].filter((n) => n.damaged && n !== node).length;
    return this.config.replicas - quorumSize(this.config.replicas) - damagedOthers;
  }

  /**
   * Damage that forces a disk RECOVERING (metadata, tail record) needs a
   * started cluster: a quorum of the other replicas durably VOTING, so that
   * the damaged one can rejoin (unless the open shape recoveringDuringStart is on).
   */
  private mayForceRecovering(node: ReplicaNode): boolean {
    if (this.config.open.recoveringDuringStart) return true;
    const voting = [...this.replicas.values()].filter((n) => n !== node && n.disk.durableStatus() === 'VOTING').length;
    return voting >= quorumSize(this.config.replicas);
  }

  private noteDamage(damage: Damage, node: ReplicaNode): void {
    this.checker.noteDiskLost(node.id);
    this.faults[damage]++;
    const what = { wipe: 'WIPE disk of', corrupt: 'CORRUPT a record of', corruptMeta: 'CORRUPT the metadata of', tailCorrupt: 'CORRUPT the tail record of' }[damage];
    this.trace(`${what} ${node.addr}: ${node.damage}`);
  }

  /** The beginning of the cluster: built VOTING, or a two-phase start from EMPTY disks (one replica late, or lost during it). */
  private startShape(): void {
    const c = this.config;
    if (c.start === 'voting' || c.start === 'empty') return;
    const node = this.prng.pick([...this.replicas.values()]);
    if (c.start === 'lateJoin') {
      node.crash();
      this.trace(`${node.addr} is not started yet (starts at ${c.lateJoinMs}ms)`);
      this.queue.schedule(c.lateJoinMs, { k: 'lateStart', node });
      return;
    }
    this.missing = node;
  }

  /** missedStart: the replica crashes during the start and its disk is lost; it comes back once the others began. */
  private missStart(node: ReplicaNode): void {
    if (this.phase !== 'faults') return;
    this.faults.missedStart++;
    if (node.up) {
      const lost = node.crash();
      this.faults.lostRecords += lost;
    }
    this.trace(`MISSED START ${node.addr} (${node.status}): crashed during the start`);
    if (this.budgetLeft(node) > 0) {
      node.disk.wipe(`inc-${node.id}-lost-${this.queue.now}`);
      this.checker.noteDiskLost(node.id);
      node.damaged = true;
      node.damage = 'a disk lost during the start';
      this.faults.wipe++;
      this.trace(`WIPE disk of ${node.addr}: ${node.damage}`);
    }
    this.queue.schedule(this.prng.int(300, 3_000), { k: 'restart', node });
  }

  /** Open shape restartTogether: every replica crashes, one loses its disk (within the budget), all restart a few ms apart. */
  private restartTogether(): void {
    if (this.phase !== 'faults') return;
    const nodes = [...this.replicas.values()];
    const wiped = this.prng.pick(nodes);
    this.trace(`ALL CRASH, ${wiped.addr} loses its disk, all restart together`);
    for (const node of nodes) {
      if (node.up) {
        this.faults.crash++;
        this.faults.lostRecords += node.crash();
      }
    }
    if (this.budgetLeft(wiped) > 0) {
      wiped.disk.wipe(`inc-${wiped.id}-together-${this.queue.now}`);
      this.checker.noteDiskLost(wiped.id);
      wiped.damaged = true;
      wiped.damage = 'a disk lost in a restart of every replica';
      this.faults.wipe++;
    }
    for (const node of nodes) this.queue.schedule(this.prng.int(5, 50), { k: 'restart', node });
  }

  /** One of a series of disk losses: another replica than the last one when possible, within the budget; then the next. */
  private diskLoss(left: number): void {
    if (this.phase !== 'faults') return;
    const healthy = [...this.replicas.values()].filter((n) => n.up && !n.damaged);
    const others = healthy.filter((n) => n !== this.lastLoss);
    if (healthy.length === 0 || this.budgetLeft() <= 0) {
      // Over budget: wait for the damaged replica to be healthy (VOTING) again.
      this.queue.schedule(this.prng.int(200, 600), { k: 'diskLoss', left });
      return;
    }
    const node = this.prng.pick(others.length > 0 ? others : healthy);
    this.lastLoss = node;
    const lost = node.crash();
    this.faults.crash++;
    this.faults.lostRecords += lost;
    this.faults.diskLoss++;
    this.trace(`DISK LOSS ${node.addr} (${left - 1} more to come; ${lost} unsynced records lost)`);
    this.noteDamage(loseDisk(this.prng, node, this.queue.now, this.mayForceRecovering(node)), node);
    this.queue.schedule(this.prng.int(50, 1_500), { k: 'restart', node });
    if (left > 1) this.queue.schedule(this.prng.int(300, 2_500), { k: 'diskLoss', left: left - 1 });
  }

  /** A backup of a replica's durable disk, restored some time later. */
  private snapshot(): void {
    if (this.phase !== 'faults') return;
    const node = this.prng.pick([...this.replicas.values()]);
    if (node.disk.durableStatus() === 'STARTING' && !this.config.open.restoreStartingBackup) {
      // Not yet: a STARTING backup is an open finding (config.ts, restoreStartingBackup).
      this.queue.schedule(this.prng.int(200, 600), { k: 'snapshot' });
      return;
    }
    const snap = node.disk.snapshot(this.queue.now);
    this.faults.snapshot++;
    this.trace(`BACKUP of ${node.addr} (${snap.records.length} records, ${node.status})`);
    this.queue.schedule(this.prng.int(500, 6_000), { k: 'restore', node, snap });
  }

  /**
   * True if every peer durably holds what unmasks the backup at the restart
   * check: a newer disk of this member, or this disk witnessed past the backup
   * (a higher promise or end).
   */
  private witnessedPast(node: ReplicaNode, snap: DiskSnapshot): boolean {
    const old = MemoryStore.replay(snap.records);
    const meta = old.metadata();
    const disk = ownDisk(meta);
    for (const peer of this.replicas.values()) {
      if (peer === node) continue;
      const pm = peer.disk.durableMetadata();
      const known = recordedDisk(pm, node.id);
      if (isRetired(known, disk) && !sameDisk(known, disk)) continue;
      const w = pm.witnessed?.[node.id];
      if (w !== undefined && sameDisk(w, disk) && (w.promised > meta.promised || w.end > old.end())) continue;
      return false;
    }
    return true;
  }

  /**
   * True if the backup's newest configuration names a voter other than
   * `node` whose replica still runs. A backup whose voters are all gone
   * (removed and stopped) cannot learn from any of them that it went back in
   * time, nor find the cluster that moved on: restoring it is not a fault the
   * protocol promises to survive (an operator restores a recent backup).
   */
  private namesLiveVoter(node: ReplicaNode, snap: DiskSnapshot): boolean {
    const head = MemoryStore.replay(snap.records).metadata().configs?.at(-1);
    if (head === undefined) return true;
    return head.voters.some((m) => {
      const peer = this.replicas.get(`r${m.id}`);
      return m.id !== node.id && peer !== undefined && !peer.retired;
    });
  }

  /** The replica restarts on its old backup (within the budget): it must find out and rejoin, not vote on it. */
  private restore(node: ReplicaNode, snap: DiskSnapshot): void {
    if (this.phase !== 'faults') return;
    if (this.changing && !this.namesLiveVoter(node, snap)) {
      this.trace(`RESTORE of ${node.addr} skipped: its backup of ${snap.at}ms names no voter still running`);
      return;
    }
    const unmasked = this.config.open.restoreUnwitnessed || this.witnessedPast(node, snap);
    if (this.budgetLeft(node) <= 0 || !unmasked) {
      this.queue.schedule(this.prng.int(200, 600), { k: 'restore', node, snap });
      return;
    }
    if (node.up) {
      const lost = node.crash();
      this.faults.crash++;
      this.faults.lostRecords += lost;
    }
    node.disk.restore(snap);
    this.checker.noteDiskLost(node.id);
    node.damaged = true;
    node.damage = `a restored backup of ${snap.at}ms`;
    this.faults.restore++;
    this.trace(`RESTORE ${node.addr} from its backup of ${snap.at}ms (${snap.records.length} records)`);
    this.queue.schedule(this.prng.int(50, 1_000), { k: 'restart', node });
  }

  /** Failed syncs on an up replica (within the budget): ENOSPC or EIO pause it, a failed fsync stops it. */
  private syncFault(): void {
    const up = [...this.replicas.values()].filter((n) => n.up);
    if (up.length === 0) return;
    const node = this.prng.pick(up);
    if (this.budgetLeft(node) <= 0) return;
    const fault = this.prng.pick<SyncFault>(['ENOSPC', 'EIO', 'fsync']);
    const count = fault === 'fsync' ? 1 : this.prng.int(1, 5);
    node.disk.failSyncs(fault, count);
    node.damaged = true;
    node.damage ||= `failed syncs (${fault})`;
    this.faults[fault === 'fsync' ? 'fsyncFault' : 'syncFault']++;
    this.trace(`SYNC FAULT ${node.addr}: the next ${count} syncs fail (${fault})`);
  }

  private restart(node: ReplicaNode): void {
    if (node.up || node.retired) return;
    node.restart();
    this.faults.restart++;
    // Its clients' links connect again.
    for (const w of this.allWriters()) w.reachable(node.id);
    const s = node.disk.live;
    this.trace(`RESTART ${node.addr} ${s.metadata().status} g${s.metadata().generation ?? 0} end${s.end()} lt${s.learnedThrough()} lost[${s.lostPositions().join(',')}]`);
  }

  private partition(): void {
    const nodes = [...this.replicas.keys(), ...this.writers.map((w) => w.id), ...this.readers.map((r) => r.name)];
    const { kind, links } = drawPartition(this.prng, nodes);
    if (links.length === 0) return;
    this.faults[kind]++;
    block(this.net, links);
    this.trace(`PARTITION ${kind}: ${links.slice(0, 8).map(([a, b]) => `${a}-x>${b}`).join(' ')}${links.length > 8 ? ` ..+${links.length - 8}` : ''}`);
    this.queue.schedule(this.prng.int(100, 3_000), { k: 'heal', links });
  }

  private takeover(): void {
    const w = this.prng.pick(this.writers);
    if (w.dead || this.queue.now < this.quietEnd) return;
    if (w.fenced && this.prng.chance(0.7)) {
      this.faults.renew++;
      w.renew();
    }
    this.faults.takeover++;
    w.elect();
  }

  // ---------------------------------------------------------------- end phases

  private drain(): void {
    this.phase = 'drain';
    this.trace('DRAIN: faults stop, partitions heal, replicas restart');
    this.net.healAll();
    this.net.faults = CALM_NETWORK;
    for (const node of this.replicas.values()) this.restart(node);
    this.queue.schedule(DRAIN_MS, { k: 'probe' });
  }

  private probe(): void {
    for (const c of [...this.writers, ...this.readers]) {
      for (const [id, op] of c.pending) {
        this.checker.fail('liveness', `${c.name} op${id} submitted at ${op.at}ms still pending ${DRAIN_MS}ms after faults stopped`);
      }
    }
    // Autorecovery: every replica whose disk was wiped or whose metadata was damaged is VOTING again
    // (every member of the latest configuration: a removed one stays out, R7).
    for (const node of this.memberNodes()) {
      if (node.status !== 'VOTING') this.checker.fail('liveness', `${node.addr} still ${node.status} ${DRAIN_MS}ms after faults stopped: ${node.waiting}`);
      else if (node.holdsVotes) this.checker.fail('liveness', `${node.addr} VOTING but still not voting (restart check) ${DRAIN_MS}ms after faults stopped: ${node.waiting}`);
    }
    this.phase = 'probe';
    this.trace('PROBE: a new writer appends, then a new reader reads everything');
    this.probeWriter = new WriterClient('wf', this);
    this.probeReader = new ReaderClient('rf', this);
    this.probeWriter.submit(1);
    this.queue.schedule(PROBE_MS, { k: 'end' });
  }

  /** Called on every step of the probe phase (from the 'end' deadline or when the probe read finishes). */
  private endProbe(): void {
    if (this.phase !== 'probe') return;
    if (this.probeRead !== undefined && this.probeReader?.results.get(this.probeRead)?.ok === true && !this.probeCounted) {
      this.checker.fail('liveness', `the probe writer (${this.probeWriter?.core.roleKind}) was not elected with every replica up and VOTING for ${COUNT_ALL_WITHIN_MS}ms within ${PROBE_MS}ms`);
      this.phase = 'done';
      return;
    }
    this.checker.fail('liveness', `probe did not finish within ${PROBE_MS}ms of a calm network (writer ${this.probeWriter?.core.roleKind}, acks ${this.probeWriter?.acks})`);
    this.phase = 'done';
  }

  /**
   * Liveness: with every replica up, VOTING and voting (no corrupted record) for COUNT_ALL_WITHIN_MS
   * on a calm network, an elected writer counts every one of them. Checked
   * for the probe writer (strictLiveness: every writer, from the drain on).
   */
  private checkCounted(): void {
    const nodes = this.memberNodes();
    // Members that can vote: a replica holding a corrupted record answers IGNORED to an implicit promise
    // (it may have forgotten an acceptance there) until it repairs it, which it cannot while no peer learned
    // the position (docs/simulator.md, "Not yet modelled"): not counting it is right.
    const allVoting = this.phase !== 'faults' && nodes.every((n) => n.up && n.status === 'VOTING' && !n.holdsVotes && n.disk.live.lostPositions().length === 0);
    if (!allVoting) {
      this.allVotingSince = undefined;
      return;
    }
    this.allVotingSince ??= this.queue.now;
    const writers = this.strictLiveness ? this.allWriters() : this.probeWriter === undefined ? [] : [this.probeWriter];
    for (const w of writers) {
      if (w.dead || w.core.roleKind !== 'elected' || w.electedAt === undefined || this.checker.isFenced(w.id)) continue;
      // A writer deposed by a higher writer's election has not heard of it yet (it only commits, or idles):
      // the members rightly refuse it; only the highest live writer must count every member.
      if (this.outrankedByLiveWriter(w)) continue;
      // A later election reached some member (only writers make implicit promises): this writer is deposed
      // and learns it at its next write. Fills that promise above it are judged by writerFenced.
      if (nodes.some((n) => n.disk.live.metadata().promised > (w.core.proposal ?? 0))) continue;
      const since = Math.max(w.electedAt, this.allVotingSince);
      if (this.queue.now - since < COUNT_ALL_WITHIN_MS) continue;
      if (w === this.probeWriter) this.probeCounted = true;
      const named = w.core.namedMembers;
      const voters = this.voterNodes();
      if (voters.every((n) => named.has(n.id))) continue;
      const missing = voters.filter((n) => !named.has(n.id)).map((n) => n.addr);
      this.checker.fail('liveness', `${w.id} counts ${named.size} of ${voters.length} members (not ${missing.join(',')}) ${this.queue.now - since}ms after it was elected with every replica up and VOTING on a calm network`);
      w.electedAt = undefined;
    }
  }

  /** True if another writer that is not dead holds a higher proposal than `w`. */
  private outrankedByLiveWriter(w: WriterClient): boolean {
    const mine = w.core.proposal ?? 0;
    return this.allWriters().some((v) => v !== w && !v.dead && (v.core.proposal ?? 0) > mine);
  }

  /** Advances the probe: after the append, ask bounds; after bounds, read all; after the read, the counted-members check; stop. */
  private advanceProbe(): void {
    const w = this.probeWriter!;
    const r = this.probeReader!;
    if (this.probeBounds === undefined) {
      if (w.pending.size > 0) return;
      if (w.acks === 0 && w.fenced && this.probeRetries++ < 5) {
        // Fenced by a higher proposal (another writer's, or a reader's fill): a client starts over above it.
        w.renew();
        w.submit(1);
        return;
      }
      if (w.acks === 0) return this.checker.fail('liveness', `probe append failed with a calm network`);
      this.probeBounds = r.bounds();
      return;
    }
    const b = r.results.get(this.probeBounds);
    if (b === undefined) return;
    if (!b.ok) return this.checker.fail('liveness', 'probe bounds failed with a calm network');
    if (this.probeRead === undefined) {
      this.probeRead = r.read(b.begin, Number.MAX_SAFE_INTEGER);
      return;
    }
    const res = r.results.get(this.probeRead);
    if (res === undefined) return;
    // A replica outside the bounds quorum, or a chosen truncation the read met, moved the beginning: read again from there.
    if (!res.ok && res.begin > b.begin && this.probeReadRetries++ < 3) {
      this.probeRead = r.read(res.begin, Number.MAX_SAFE_INTEGER);
      return;
    }
    if (!res.ok) return this.checker.fail('liveness', 'probe read failed with a calm network');
    // Run on until the probe writer's counted members were checked (checkCounted, on the ticks), unless a
    // replica cannot vote (a corrupted record) and the check does not apply.
    if (!this.probeCounted && w.core.roleKind === 'elected' && this.allVotingSince !== undefined) return;
    this.phase = 'done';
  }

  /** Safety over the final state of every replica. */
  private finalChecks(): void {
    // I3: one chain on every replica (runs that change nothing hold none, or one link).
    this.checker.noteChains(new Map([...this.replicas.values()].map((n) => [n.id, n.disk.live.metadata().configs ?? []])));
    for (const node of this.replicas.values()) {
      const s = node.disk.live;
      this.checker.checkChainComplete(node.id, s);
      s.checkInvariants();
      for (const p of s.positions(0, s.end())) {
        const a = s.action(p);
        if (s.slot(p)?.learned && a !== undefined && a !== 'lost') this.checker.noteLearned(node.id, p, a);
      }
    }
  }
}
