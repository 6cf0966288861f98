/**
 * Exhaustive search over the real cores (ReplicaNodeCore with replicaStep,
 * RecoveryCore and CatchUp; WriterCore) for a small case: every order of
 * message deliveries, checked for agreement in every reachable state.
 *
 * The case (defaults): three replicas r1..r3; two writers, w1 (proposal 1,
 * appends a1) and w2 (proposal 2, appends a2), each starting (submit, which
 * elects) at any point; one disk loss: r1's disk is wiped at any point and r1
 * restarts EMPTY, then rejoins (r1 may tick up to `replicaTicks` times while it
 * is not VOTING: the first starts its recovery rounds); two positions (0 and
 * 1): requests touching a later one are dropped when sent. Every other message
 * is delivered at most once, in any order, or never (a loss: every prefix of
 * every order is a reachable state, and each is checked). Writers may tick
 * `writerTicks` times each (retransmit, backoff, repromise), 0 by default.
 *
 * Search: depth-first over actions (start a writer, deliver one in-flight
 * message, wipe r1, tick), with the world rebuilt by replaying the path
 * (the cores cannot be cloned), and states deduplicated by a hash of the whole
 * world: every store, the cores' internal state, the multiset of in-flight
 * messages, and the history of acceptances (an acceptance by the wiped disk
 * still counts toward a choice). A state with a violation is not expanded.
 *
 * Configuration changes (`learners` given): the replicas hold a chain, a
 * writer may carry a change (given at its start, or by a 'change' action at
 * any point once it started), a learner may copy what a peer learned (fault
 * 'copy'), and the world checks section 8's "chosen" and the chain
 * invariants (world.ts, explore-chosen.ts).
 *
 * `latePromises: false` drops promise requests delivered to a replica after
 * their writer's election ended and promise replies arriving after it: the
 * known core bug (a late promiser joins a writer's named set without its
 * reported values; core-regressions.test.ts) is then out of reach, and the
 * search covers everything else.
 */
import { createHash } from 'node:crypto';
import { ALL_RULES_ON, type SafetyRules } from '../core/rules.js';
import { describeMessage } from './trace.js';
import type { PersistRecord, ReplicaId } from '../core/types.js';
import { World, type WorldReader, type WorldWriter } from './world.js';

/**
 * A fault the search may apply, at any point once the faults listed before it
 * were applied (and, with `after: 'settled'`, once every member is VOTING and
 * done with its restart check again), or never.
 */
export type Fault =
  /** The disk is replaced by an empty one; the replica restarts EMPTY and rejoins. */
  | { readonly kind: 'wipe'; readonly id: ReplicaId; readonly after?: 'settled' }
  /** The last record fails its checksum (key holding or not: two actions) and the replica restarts on it. */
  | { readonly kind: 'corruptTail'; readonly id: ReplicaId; readonly after?: 'settled' }
  /** A backup of the disk is taken (kept for a later 'restore'). */
  | { readonly kind: 'backup'; readonly id: ReplicaId; readonly after?: 'settled' }
  /** The replica restarts on the backup, if its peers know enough to unmask it (World.backupDetectable). */
  | { readonly kind: 'restore'; readonly id: ReplicaId; readonly after?: 'settled' }
  /** The replica stops (messages to it are lost) until 'up'. */
  | { readonly kind: 'stop'; readonly id: ReplicaId; readonly after?: 'settled' }
  /** A replica that is down starts. */
  | { readonly kind: 'up'; readonly id: ReplicaId; readonly after?: 'settled' }
  /** The replica copies what `from` learned (a learner's repair from a peer), when `from` learned more. */
  | { readonly kind: 'copy'; readonly id: ReplicaId; readonly from: ReplicaId; readonly after?: 'settled' };

/** A writer of ExploreOptions.deposed. */
export interface DeposedWriter {
  readonly w: string;
  readonly electedBy: readonly ReplicaId[];
  readonly wroteTo: readonly ReplicaId[];
}

export interface ExploreOptions {
  readonly rules?: SafetyRules;
  readonly writers?: readonly WorldWriter[];
  /** Readers, each starting its read at any point (or never), under `startAfter` like a writer. */
  readonly readers?: readonly WorldReader[];
  /** Ticks each reader may take once started (default 1): retransmits, a fill's backoff. */
  readonly readerTicks?: number;
  /** Member ids (default [1, 2, 3]). */
  readonly ids?: readonly ReplicaId[];
  /** Learners of the bootstrap configuration: the replicas hold a chain and writers may carry changes (WorldOptions.learners). */
  readonly learners?: readonly ReplicaId[];
  /** Each core is given the member list in an order of its own (WorldOptions.shuffledMembers). */
  readonly shuffledMembers?: boolean;
  /** Every disk starts EMPTY: the two-phase start runs (WorldOptions.startEmpty). */
  readonly startEmpty?: boolean;
  /** Replicas down at time 0 (a fault 'up' starts them). */
  readonly down?: readonly ReplicaId[];
  /** See WorldOptions.restartCheck (default true; false models the restart check switched off). */
  readonly restartCheck?: boolean;
  /** See WorldOptions.tailDamage (default 'corruption'; 'torn' models the old cut of a damaged tail). */
  readonly tailDamage?: 'corruption' | 'torn';
  /** The faults, applied in this order, each at any point or never (default: `wipes` wipes of the first member). */
  readonly faults?: readonly Fault[];
  /** Number of disk wipes of the first member (0 or 1) when `faults` is not given. */
  readonly wipes?: number;
  /** Faults may happen only before this writer starts (a bound on the search; default: any time). */
  readonly wipeBefore?: string;
  /** Writers started at the beginning (no 'start' action for them). */
  readonly startedAtOnce?: readonly string[];
  /**
   * Writers deposed before the search begins (after `startedAtOnce`), each in turn: it starts, is elected by
   * `electedBy` (its other promises are lost), its first write reaches `wroteTo` only, and it stops for good
   * (World.depose): what it wrote there is a leftover. A fixed opening, not searched: the search starts from it.
   */
  readonly deposed?: readonly DeposedWriter[];
  /** Messages in flight after that opening that are lost (a fixed loss, to narrow a case), by sender, receiver and type. */
  readonly lost?: readonly { readonly from: string; readonly to: string; readonly type: string }[];
  /**
   * Writers that may start only once every fault was applied ('wiped'), once
   * moreover every member is VOTING and done with its restart check
   * ('rejoined'), once a quorum of members is VOTING ('voting'), or once a
   * replica learned a configuration change ('changed': a stale writer).
   */
  readonly startAfter?: Readonly<Record<string, 'wiped' | 'rejoined' | 'voting' | 'changed'>>;
  /**
   * Ticks each replica may take while it does not vote (not VOTING, or
   * holding its votes during the restart check) or holds a lost record
   * (default 2): the first starts its recovery rounds.
   */
  readonly replicaTicks?: number;
  readonly writerTicks?: number;
  readonly positionLimit?: number;
  readonly latePromises?: boolean;
  /** Deliver writers' commits (default false: they are lost, and values are learned through fills only). */
  readonly commits?: boolean;
  /** Replies to writers arrive within the replica's step (default true; false explores their orders too). */
  readonly instantReplies?: boolean;
  /** Recovery queries are answered at once (default true). */
  readonly instantQueries?: boolean;
  /** See WorldOptions.chosenBy (default 'quorum'). */
  readonly chosenBy?: 'quorum' | 'counted';
  /** Actions per path at most (deeper states are counted in depthCut). */
  readonly maxDepth?: number;
  /** Stop (incomplete) after this many distinct states. */
  readonly maxStates?: number;
  readonly stopAtFirst?: boolean;
}

type Action =
  | { readonly k: 'start'; readonly w: string }
  /** The writer is given its change (WorldWriter.changeLater). */
  | { readonly k: 'change'; readonly w: string }
  /** A reader starts its read. */
  | { readonly k: 'read'; readonly r: string }
  | { readonly k: 'deliver'; readonly i: number }
  /** The next fault; `keyHolds` for a corrupted tail. */
  | { readonly k: 'fault'; readonly keyHolds?: boolean }
  | { readonly k: 'tick'; readonly who: string };

export interface ExploreViolation {
  readonly message: string;
  /** The actions that lead to it, readable. */
  readonly path: readonly string[];
  /** The world's trace along that path. */
  readonly trace: readonly string[];
}

export interface ExploreResult {
  /** Distinct states visited. */
  readonly states: number;
  /** Transitions taken (actions applied, duplicates included). */
  readonly transitions: number;
  /** Paths that reached a state with nothing left to do (terminal states). */
  readonly terminal: number;
  /** States not expanded because of maxDepth. */
  readonly depthCut: number;
  readonly deepest: number;
  /** False if maxStates stopped the search (or stopAtFirst after a violation). */
  readonly complete: boolean;
  /** True if maxStates stopped the search: it is bounded, not complete. */
  readonly capped: boolean;
  readonly violations: readonly ExploreViolation[];
  readonly ms: number;
}

export const DEFAULT_WRITERS: readonly WorldWriter[] = [
  { name: 'w1', floor: 0, appends: ['a1'] },
  { name: 'w2', floor: 1, appends: ['a2'] },
];

export function explore(options: ExploreOptions = {}): ExploreResult {
  return new Explorer(options).run();
}

/** What prune() reads of a WriterCore's private role. */
type WriterRoleView =
  | { kind: 'electing'; rid: number }
  | { kind: 'elected'; electionRid: number; named: Map<number, number>; inflight: { rid: number; tally: { has(id: number): boolean } }[] }
  | { kind: 'idle' | 'backoff' | 'fenced' };

interface Budget {
  /** Index of the next fault in `faults`. */
  fault: number;
  ticks: Map<string, number>;
  /** The backup taken, if any, and a digest of it (for the state hash). */
  backup?: { readonly records: readonly PersistRecord[]; readonly digest: string };
}

class Explorer {
  private readonly seen = new Set<string>();
  private transitions = 0;
  private terminal = 0;
  private depthCut = 0;
  private deepest = 0;
  private stopped = false;
  private capped = false;
  private readonly violations: ExploreViolation[] = [];
  private readonly rules: SafetyRules;
  private readonly maxDepth: number;
  private readonly maxStates: number;
  private readonly writers: readonly WorldWriter[];
  private readonly ids: readonly ReplicaId[];
  /** Voters and learners. */
  private readonly all: readonly ReplicaId[];
  private readonly faults: readonly Fault[];

  constructor(private readonly o: ExploreOptions) {
    this.rules = o.rules ?? ALL_RULES_ON;
    this.maxDepth = o.maxDepth ?? 200;
    this.maxStates = o.maxStates ?? 5_000_000;
    this.writers = o.writers ?? DEFAULT_WRITERS;
    this.ids = o.ids ?? [1, 2, 3];
    this.all = [...this.ids, ...(o.learners ?? [])];
    this.faults = o.faults ?? Array.from({ length: o.wipes ?? 1 }, () => ({ kind: 'wipe', id: this.ids[0]! }) as const);
  }

  run(): ExploreResult {
    const started = performance.now();
    const [w, b] = this.replay([]);
    this.visit([], w, b);
    return {
      states: this.seen.size,
      transitions: this.transitions,
      terminal: this.terminal,
      depthCut: this.depthCut,
      deepest: this.deepest,
      complete: !this.stopped,
      capped: this.capped,
      violations: this.violations,
      ms: Math.round(performance.now() - started),
    };
  }

  private fresh(trace = false): [World, Budget] {
    const o = this.o;
    const world = new World({
      replicas: this.ids.length,
      ids: this.ids,
      ...(o.learners === undefined ? {} : { learners: o.learners }),
      shuffledMembers: o.shuffledMembers,
      startEmpty: o.startEmpty,
      down: o.down,
      restartCheck: o.restartCheck,
      tailDamage: o.tailDamage,
      writers: this.writers,
      readers: o.readers ?? [],
      rules: this.rules,
      positionLimit: o.positionLimit ?? 2,
      dropCommits: !(o.commits ?? false),
      instantReplies: o.instantReplies ?? true,
      instantQueries: o.instantQueries ?? true,
      chosenBy: o.chosenBy ?? 'quorum',
      gossip: false,
      trace,
    });
    const ticks = new Map<string, number>();
    for (const id of this.all) ticks.set(`r${id}`, o.replicaTicks ?? 2);
    for (const w of this.writers) ticks.set(w.name, o.writerTicks ?? 0);
    for (const r of o.readers ?? []) ticks.set(r.name, o.readerTicks ?? 1);
    return [world, { fault: 0, ticks }];
  }

  private replay(path: readonly Action[], trace = false): [World, Budget] {
    const [w, b] = this.fresh(trace);
    this.opening(w);
    for (const a of path) this.apply(w, b, a);
    return [w, b];
  }

  /** What every path starts from: the writers started at once, then the deposed writers' scripted openings. */
  private opening(w: World): void {
    for (const name of this.o.startedAtOnce ?? []) w.start(name);
    for (const d of this.o.deposed ?? []) {
      w.start(d.w);
      const reply = (id: ReplicaId, type: string): void => {
        // Replies come within the step with instantReplies; otherwise they are delivered here.
        const i = w.find((m) => m.from === `r${id}` && m.to === d.w && m.msg.type === type);
        if (i >= 0) w.deliver(i);
      };
      for (const id of d.electedBy) {
        w.deliverWhere((m) => m.from === d.w && m.to === `r${id}` && m.msg.type === 'promise', `${d.w}>r${id} promise`);
        reply(id, 'promiseReply');
      }
      for (const id of d.wroteTo) {
        w.deliverWhere((m) => m.from === d.w && m.to === `r${id}` && m.msg.type === 'write', `${d.w}>r${id} write`);
        reply(id, 'writeReply');
      }
      w.depose(d.w);
    }
    const lost = this.o.lost ?? [];
    w.drop((m) => lost.some((l) => l.from === m.from && l.to === m.to && l.type === m.msg.type));
    this.prune(w);
  }

  private visit(path: Action[], world: World, budget: Budget): void {
    if (this.stopped) return;
    const h = this.hash(world, budget);
    if (this.seen.has(h)) return;
    this.seen.add(h);
    this.deepest = Math.max(this.deepest, path.length);
    if (this.seen.size >= this.maxStates) {
      this.stopped = true;
      this.capped = true;
      return;
    }
    if (!world.ok) {
      const [w] = this.replay(path, true);
      this.violations.push({ message: world.violations[0]!, path: this.describePath(path), trace: w.lines });
      if (this.o.stopAtFirst) this.stopped = true;
      return;
    }
    const actions = this.enabled(world, budget);
    if (actions.length === 0) {
      this.terminal++;
      return;
    }
    if (path.length >= this.maxDepth) {
      this.depthCut++;
      return;
    }
    for (let k = 0; k < actions.length && !this.stopped; k++) {
      const last = k === actions.length - 1;
      const [w, b] = last ? [world, budget] : this.replay(path);
      this.apply(w, b, actions[k]!);
      this.transitions++;
      path.push(actions[k]!);
      this.visit(path, w, b);
      path.pop();
    }
  }

  /**
   * Messages whose delivery can change nothing but a counter are dropped (a
   * loss, so the search stays sound): replies to a writer for a request it no
   * longer waits for, recovery replies to a round that is over, and, without
   * late promises, promise requests and replies of an election that ended.
   * States that differ only by such messages in flight are then one state.
   */
  private prune(w: World): void {
    const late = this.o.latePromises ?? true;
    w.inflight = w.inflight.filter((m) => {
      const writer = w.writers.get(m.to);
      if (writer !== undefined) {
        const role = (writer.core as unknown as { role: WriterRoleView }).role;
        if (m.msg.type === 'promiseReply') {
          if (role.kind === 'electing') return m.msg.rid === role.rid;
          return late && role.kind === 'elected' && m.msg.rid === role.electionRid && !role.named.has(Number(m.from.slice(1)));
        }
        if (m.msg.type === 'writeReply') {
          const rid = m.msg.rid;
          return role.kind === 'elected' && role.inflight.some((x) => x.rid === rid && !x.tally.has(Number(m.from.slice(1))));
        }
        return false;
      }
      if (!late && m.msg.type === 'promise' && m.msg.from === undefined) {
        const from = w.writers.get(m.from);
        if (from !== undefined && from.core.roleKind !== 'electing') return false;
      }
      if (m.msg.type === 'recoverReply' || m.msg.type === 'rejoinReply') {
        const core = w.replicas.get(Number(m.to.slice(1)))!.core as unknown as { recovery?: { round?: { rid: number } } };
        return core.recovery?.round?.rid === m.msg.rid;
      }
      return true;
    });
  }

  private enabled(w: World, b: Budget): Action[] {
    const out: Action[] = [];
    const faultsDone = b.fault >= this.faults.length;
    for (const [name, st] of w.writers) {
      if (st.started || !this.mayStart(w, name, faultsDone)) continue;
      out.push({ k: 'start', w: name });
    }
    for (const [name, st] of w.readers) {
      if (st.core !== undefined || !this.mayStart(w, name, faultsDone)) continue;
      out.push({ k: 'read', r: name });
    }
    for (const [name, st] of w.writers) {
      if (st.started && !st.changed && st.spec.change !== undefined && st.spec.changeLater === true) out.push({ k: 'change', w: name });
    }
    const seen = new Set<string>();
    w.inflight.forEach((m, i) => {
      // Identical messages (same sender, receiver, content) lead to the same state: deliver one.
      const key = `${m.from}>${m.to}:${stable(m.msg)}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ k: 'deliver', i });
    });
    const next = this.faults[b.fault];
    if (next !== undefined && (this.o.wipeBefore === undefined || !w.writers.get(this.o.wipeBefore)!.started) && this.faultEnabled(w, b, next)) {
      if (next.kind === 'corruptTail') out.push({ k: 'fault', keyHolds: true }, { k: 'fault', keyHolds: false });
      else out.push({ k: 'fault' });
    }
    for (const [who, n] of b.ticks) {
      if (n <= 0) continue;
      if (/^r\d+$/.test(who)) {
        const id = Number(who.slice(1));
        const r = w.replicas.get(id)!;
        if (w.down.has(id) || (w.status(id) === 'VOTING' && !r.core.holdsVotes && r.store.lostPositions().length === 0)) continue;
      } else if (w.readers.has(who)) {
        const rd = w.readers.get(who)!;
        if (rd.core === undefined || rd.result !== undefined) continue;
      } else if (!w.writers.get(who)!.started || w.deposed.has(who)) continue;
      out.push({ k: 'tick', who });
    }
    return out;
  }

  /** A writer or reader may start now (ExploreOptions.startAfter). */
  private mayStart(w: World, name: string, faultsDone: boolean): boolean {
    const after = this.o.startAfter?.[name];
    if (after === 'voting' && this.ids.filter((id) => w.status(id) === 'VOTING').length < w.quorum) return false;
    if ((after === 'wiped' || after === 'rejoined') && !faultsDone) return false;
    if (after === 'rejoined' && !this.settled(w)) return false;
    if (after === 'changed' && w.learnedConfigs.size === 0) return false;
    return true;
  }

  /** Every member up, VOTING and done with its restart check. */
  private settled(w: World): boolean {
    return this.all.every((id) => !w.down.has(id) && w.status(id) === 'VOTING' && !w.replicas.get(id)!.core.holdsVotes);
  }

  private faultEnabled(w: World, b: Budget, f: Fault): boolean {
    if (f.after === 'settled' && !this.settled(w)) return false;
    switch (f.kind) {
      case 'up':
        return w.down.has(f.id);
      case 'stop':
        return !w.down.has(f.id);
      case 'restore':
        // Only a backup the restart check can unmask (or one that loses nothing): beyond that is documented as undetected.
        return b.backup !== undefined && w.backupDetectable(f.id, b.backup.records);
      case 'corruptTail':
        return w.replicas.get(f.id)!.store.records.length > 1;
      case 'copy':
        return !w.down.has(f.id) && w.replicas.get(f.from)!.store.learnedThrough() > w.replicas.get(f.id)!.store.learnedThrough();
      default:
        return true;
    }
  }

  private apply(w: World, b: Budget, a: Action): void {
    switch (a.k) {
      case 'start':
        w.start(a.w);
        break;
      case 'change':
        w.change(a.w);
        break;
      case 'read':
        w.read(a.r);
        break;
      case 'deliver':
        w.deliver(a.i);
        break;
      case 'fault': {
        const f = this.faults[b.fault++]!;
        if (f.kind === 'wipe') w.wipe(f.id);
        else if (f.kind === 'corruptTail') w.corruptTail(f.id, a.keyHolds ?? true);
        else if (f.kind === 'backup') {
          const records = w.snapshot(f.id);
          b.backup = { records, digest: createHash('sha1').update(stable(records)).digest('base64') };
        } else if (f.kind === 'restore') w.restore(f.id, b.backup!.records);
        else if (f.kind === 'stop') w.stop(f.id);
        else if (f.kind === 'copy') w.copyLearned(f.from, f.id);
        else w.up(f.id);
        break;
      }
      case 'tick':
        b.ticks.set(a.who, b.ticks.get(a.who)! - 1);
        w.tick(a.who);
        break;
    }
    this.prune(w);
  }

  private describePath(path: readonly Action[]): string[] {
    const [w, b] = this.fresh();
    this.opening(w);
    const out: string[] = [];
    for (const a of path) {
      if (a.k === 'deliver') {
        const m = w.inflight[a.i]!;
        out.push(`${m.from}>${m.to} ${describeMessage(m.msg)}`);
      } else if (a.k === 'fault') {
        const f = this.faults[b.fault]!;
        out.push(`${f.kind.toUpperCase()} r${f.id}${f.kind === 'corruptTail' ? (a.keyHolds ? ' (key holds)' : ' (key lost)') : f.kind === 'copy' ? ` from r${f.from}` : ''}`);
      } else out.push(a.k === 'start' ? `start ${a.w}` : a.k === 'change' ? `change ${a.w}` : a.k === 'read' ? `read ${a.r}` : `tick ${a.who}`);
      this.apply(w, b, a);
    }
    return out;
  }

  /** A hash of everything that decides the future: stores, cores, messages in flight, acceptances made, budgets. */
  private hash(w: World, b: Budget): string {
    const parts: string[] = [`t${w.now}`, `f${b.fault}`, b.backup?.digest ?? '-', stable([...b.ticks]), stable([...w.down].sort())];
    for (const [id, r] of w.replicas) {
      const s = r.store;
      const slots: unknown[] = [];
      for (const p of s.positions(0, Math.max(s.end(), 0))) slots.push([s.slot(p), s.action(p)]);
      parts.push(`r${id}`, stable([s.metadata(), s.begin(), s.end(), s.learnedThrough(), s.highestProposal(), slots, s.lostPositions()]), stable(r.core));
    }
    for (const [name, st] of w.writers) parts.push(name, String(st.started), String(st.changed), String(st.rids.next), stable(st.core), stable([...st.acked]));
    for (const [name, rd] of w.readers) parts.push(name, String(rd.rids.next), stable(rd.core), stable(rd.result), stable([...rd.ackedBefore]));
    parts.push(w.inflight.map((m) => `${m.from}>${m.to}:${stable(m.msg)}`).sort().join('|'));
    parts.push([...w.accepts].map(([k, set]) => `${k}:${[...set].sort().join(',')}`).sort().join('|'));
    // Chained worlds: which acceptances may be counted (their ballot's configuration, named or not).
    if (w.c0 !== undefined) parts.push(w.acceptLog.map((a) => `${a.id}@${a.p}|${a.b}|${a.key}|${a.named}|${a.head?.epoch}`).sort().join('|'));
    return createHash('sha1').update(parts.join('\n')).digest('base64');
  }
}

const SKIP = new Set(['config', 'ctx', 'store']);

/** A canonical text of a value: Maps and Sets sorted, functions and configuration left out, bytes as text. */
export function stable(v: unknown): string {
  if (v === undefined) return 'u';
  if (v === null || typeof v !== 'object') return typeof v === 'function' ? '' : JSON.stringify(v);
  if (v instanceof Uint8Array) return `b"${Buffer.from(v).toString('latin1')}"`;
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v instanceof Map) return `M{${[...v].map(([k, x]) => `${stable(k)}:${stable(x)}`).sort().join(',')}}`;
  if (v instanceof Set) return `S{${[...v].map(stable).sort().join(',')}}`;
  const keys = Object.keys(v).filter((k) => !SKIP.has(k) && typeof (v as Record<string, unknown>)[k] !== 'function').sort();
  return `{${keys.map((k) => `${k}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`;
}
