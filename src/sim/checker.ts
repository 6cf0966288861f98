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
 */
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
  | 'assertion';

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
  readonly bounds: boolean;
}

export class Checker {
  readonly violations: Violation[] = [];
  /** Every value chosen at each position, with how we know. */
  private readonly chosen = new Map<Position, { key: string; how: string }>();
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

  constructor(private readonly quorum: number) {}

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
  noteDurableAccept(replica: ReplicaId, p: Position, proposal: Proposal, action: Action, by: { disk: string; named: readonly Named[] } = { disk: '', named: [] }): void {
    const key = valueKey(action);
    const k = `${p}|${proposal}|${key}`;
    let disks = this.acceptDisks.get(k);
    if (disks === undefined) this.acceptDisks.set(k, (disks = new Map()));
    disks.set(`${replica}/${by.disk}`, by.named);
    let set = this.accepts.get(k);
    if (set === undefined) this.accepts.set(k, (set = new Set()));
    if (set.has(replica)) return;
    set.add(replica);
    if (set.size === this.quorum) this.setChosen(p, action, `accepted under b${proposal} by replicas ${[...set].join(',')}`);
  }

  /** A replica learned this action at p. */
  noteLearned(replica: ReplicaId, p: Position, action: Action): void {
    this.setChosen(p, action, `learned by r${replica}`);
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
    if (action.kind === 'truncate') this.truncatedBelow = Math.max(this.truncatedBelow, action.to);
    const c = this.chosen.get(p);
    if (c !== undefined && c.key !== key) this.fail('durability', `${writer} acknowledged ${key} at ${p} but ${c.key} is chosen there (${c.how})`);
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
    // A value that a proposer could count as chosen with an acceptance by this member's lost disk
    // (a quorum of acceptances of writes naming that disk's generation, its own among them) must be
    // caught up before the new disk votes (docs/protocol.md, "Forgotten acceptance").
    const m = store.metadata();
    // Every earlier disk of the member: another incarnation (a wipe) or the same one with another identity (damaged metadata, a restored backup).
    const current = `${m.incarnation}/${m.generation ?? 0}/${m.disk ?? 0}`;
    for (const [k, set] of this.accepts) {
      if (set.size < this.quorum) continue;
      const by = this.acceptDisks.get(k)!;
      const lost: string[] = [];
      for (const d of by.keys()) {
        const [id, inc, gen, disk] = d.split('/') as [string, string, string, string];
        if (Number(id) !== replica || `${inc}/${gen}/${disk}` === current) continue;
        const g = Number(gen);
        const names = (named: readonly Named[]) => named.some((n) => n.id === replica && n.generation === g);
        if (!names(by.get(d)!)) continue;
        const counted = new Set([...by].filter(([, named]) => names(named)).map(([x]) => x.split('/')[0]));
        if (counted.size >= this.quorum) lost.push(d);
      }
      if (lost.length === 0) continue;
      const [ps, b, key] = k.split('|') as [string, string, string];
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

  readStarted(from: Position, to: Position, bounds: boolean): ReadStart {
    return { from, to, ackSeq: this.ackSeq, bounds };
  }

  /** A read of [from, to] returned these entries. */
  readOk(who: string, start: ReadStart, entries: readonly Entry[], begin: Position, end: Position): void {
    if (begin > this.truncatedBelow) this.fail('read-consistency', `${who} saw begin ${begin} but nothing truncated past ${this.truncatedBelow}`);
    if (start.bounds) {
      for (const [p, a] of this.acked) {
        if (a.seq <= start.ackSeq && p > end) this.fail('read-consistency', `${who} bounds end ${end} below acknowledged position ${p}`);
      }
      return;
    }
    let last = -1;
    const got = new Map<Position, string>();
    for (const e of entries) {
      if (e.position <= last) this.fail('read-consistency', `${who} returned position ${e.position} after ${last}`);
      if (e.position < start.from || e.position > start.to) this.fail('read-consistency', `${who} returned ${e.position} outside [${start.from}, ${start.to}]`);
      if (e.action.kind !== 'append') this.fail('read-consistency', `${who} returned a ${e.action.kind} at ${e.position}`);
      last = e.position;
      got.set(e.position, valueKey(e.action));
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

  private setChosen(p: Position, action: Action, how: string): void {
    if (action.kind === 'nop' && action.tombstone === true) {
      // A tombstone stands for "truncated": it says nothing about the value once chosen there.
      if (p >= this.truncatedBelow) this.fail('agreement', `tombstone at ${p} (${how}) but nothing truncated past ${this.truncatedBelow}`);
      return;
    }
    const key = valueKey(action);
    if (action.kind === 'append' && !this.submitted.has(key)) this.fail('validity', `${key} at ${p} (${how}) was never submitted`);
    const prev = this.chosen.get(p);
    if (prev === undefined) {
      this.chosen.set(p, { key, how });
      if (action.kind === 'truncate') this.truncatedBelow = Math.max(this.truncatedBelow, action.to);
      const a = this.acked.get(p);
      if (a !== undefined && a.key !== key) this.fail('durability', `${a.writer} acknowledged ${a.key} at ${p} but ${key} is chosen there (${how})`);
      return;
    }
    if (prev.key !== key) this.fail('agreement', `two values chosen at ${p}: ${prev.key} (${prev.how}) and ${key} (${how})`);
  }
}
