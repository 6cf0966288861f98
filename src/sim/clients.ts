/**
 * The simulated clients: writers (append, truncate, take over by electing)
 * and readers (read a range, ask for bounds), each driving a real core
 * (WriterCore, ReaderCore) and reporting everything they submit and are told
 * to the checker. A fenced writer stays fenced; the client may start a new
 * writer generation (a new WriterCore above the proposals it saw).
 */
import { timing } from '../core/constants.js';
import type { Action, Message, Position, Proposal, ReplicaId } from '../core/types.js';
import type { SafetyRules } from '../core/rules.js';
import { ReaderCore, type ReaderOutput } from '../core/reader.js';
import { WriterCore, type ChangeOutcome, type ChangeRequest, type WriterOutput } from '../core/writer.js';
import type { ConfigView } from '../core/config-view.js';
import type { Checker, ReadStart } from './checker.js';
import type { Addr, Envelope } from './network.js';
import type { Prng } from './prng.js';
import { actionKey } from './trace.js';

export interface ClientHost {
  readonly prng: Prng;
  readonly checker: Checker;
  readonly rules: SafetyRules;
  readonly members: readonly ReplicaId[];
  /** The member list a new client core is configured with (an order of its own); `members` if absent. */
  clientMembers?(): readonly ReplicaId[];
  /**
   * After a membership change: the chain a new client core starts from (what
   * a client asking the replicas for their configuration learns); undefined
   * while the members are the bootstrap ones (the member list then).
   */
  clientView?(): ConfigView | undefined;
  /** A writer's change finished (shapes that drive changes wait for it). */
  changeDone?(writer: WriterClient, id: string, result: ChangeOutcome): void;
  now(): number;
  send(env: Envelope): void;
  trace(text: string): void;
  nextOpId(): number;
  /** A writer generation was told it is fenced by `proposal` (liveness: who fenced it). */
  writerFenced?(writer: WriterClient, proposal: Proposal | undefined): void;
  /** A writer generation asked promises for this proposal. */
  writerProposal?(proposal: Proposal): void;
}

const encoder = new TextEncoder();

export class WriterClient {
  core: WriterCore;
  gen = 1;
  /** Operations submitted and not yet finished: id -> action and submit time. */
  readonly pending = new Map<number, { action: Action; at: number }>();
  /** Highest position this client saw acknowledged (a truncation goes at most this far). */
  lastAcked: Position = -1;
  private appended = 0;
  acks = 0;
  /** When this generation's election last succeeded (undefined until it does). */
  electedAt: number | undefined;
  /**
   * The client process died (shapes.ts, orphans): it sends and hears nothing,
   * and what it had pending is nobody's concern any more (its values may be
   * accepted anywhere: that is the point). `revive` starts a new generation.
   */
  dead = false;
  /** Outcomes of the membership changes asked of this client (any generation): request id -> outcome. */
  readonly changes = new Map<string, ChangeOutcome>();

  constructor(
    readonly name: Addr,
    private readonly host: ClientHost,
  ) {
    this.core = this.newCore(0);
  }

  /**
   * This writer generation's name, as the checker knows it, and its network
   * address: each generation is a new connection, so replies meant for an
   * older generation never reach it (request ids restart at 1).
   */
  get id(): string {
    return `${this.name}.${this.gen}`;
  }

  get fenced(): boolean {
    return this.core.roleKind === 'fenced';
  }

  elect(): void {
    if (this.dead) return;
    this.host.trace(`${this.id} elect`);
    this.apply(this.core.step({ type: 'elect' }, this.host.now()));
  }

  /** Submits appends (and maybe a truncation), then flushes. */
  submit(count: number, truncateTo?: Position): void {
    if (this.dead) return;
    const actions: Action[] = [];
    for (let i = 0; i < count; i++) actions.push({ kind: 'append', data: encoder.encode(`${this.id}#${this.appended++}`) });
    if (truncateTo !== undefined) actions.push({ kind: 'truncate', to: truncateTo });
    for (const action of actions) {
      const id = this.host.nextOpId();
      this.host.checker.noteSubmitted(action);
      this.pending.set(id, { action, at: this.host.now() });
      this.host.trace(`${this.id} submit op${id} ${actionKey(action)}`);
      this.apply(this.core.step({ type: 'submit', op: { id, action } }, this.host.now()));
    }
    this.apply(this.core.step({ type: 'flush' }, this.host.now()));
  }

  /** Replaces a fenced core with a new generation above every proposal seen (and above `atLeast`). */
  renew(atLeast = 0): void {
    const floor = Math.max(atLeast, this.core.highestProposalSeen);
    // A fenced core failed everything it had; a live one replaced by an episode (shapes.ts) abandons it, as a
    // client process that reconnects does: those outcomes stay unknown, and no liveness check waits for them.
    this.pending.clear();
    this.gen++;
    this.electedAt = undefined;
    this.core = this.newCore(floor);
    this.host.trace(`${this.id} new writer generation above b${floor}`);
  }

  /** The process dies: nothing more is sent, heard or reported for this generation. */
  die(): void {
    this.dead = true;
    this.pending.clear();
    this.host.trace(`${this.id} DIES`);
  }

  /** A dead client's process starts again: a new writer generation above what the old one saw. */
  revive(atLeast = 0): void {
    if (!this.dead) return;
    this.dead = false;
    this.renew(atLeast);
  }

  tick(): void {
    if (this.dead) return;
    this.apply(this.core.step({ type: 'tick' }, this.host.now()));
  }

  /** Its link to replica `id` is up again (a healed partition, a restarted replica), as LogClient tells its writers. */
  reachable(id: ReplicaId): void {
    if (this.dead) return;
    this.apply(this.core.step({ type: 'reachable', id }, this.host.now()));
  }

  receive(from: ReplicaId, msg: Message): void {
    if (this.dead) return;
    if (msg.type !== 'promiseReply' && msg.type !== 'writeReply' && msg.type !== 'readReply') return;
    this.apply(this.core.step({ type: 'reply', from, msg }, this.host.now()));
  }

  /** Asks the writer for a membership change (R2 to R4); its outcome goes to `changes` and the host. */
  change(request: ChangeRequest): void {
    if (this.dead) return;
    this.host.trace(`${this.id} change ${request.id} ${JSON.stringify(request.change)} if epoch ${request.ifEpoch}`);
    this.apply(this.core.step({ type: 'change', request }, this.host.now()));
  }

  private newCore(floor: number): WriterCore {
    const prng = this.host.prng;
    const members = this.host.clientMembers?.() ?? this.host.members;
    const view = this.host.clientView?.();
    const base = { proposalFloor: floor, random: () => prng.float(), rules: this.host.rules, electionGraceMs: timing.electionGraceMs };
    return new WriterCore(view === undefined ? { members, ...base } : { view, ...base });
  }

  private apply(out: WriterOutput): void {
    for (const o of out.send) {
      if (o.msg.type === 'promise') this.host.writerProposal?.(o.msg.proposal);
      this.host.send({ from: this.id, to: `r${o.to}`, msg: o.msg });
    }
    for (const d of out.done) {
      const op = this.pending.get(d.id);
      this.pending.delete(d.id);
      if (op === undefined) continue;
      if (d.result.ok) {
        this.acks++;
        this.lastAcked = Math.max(this.lastAcked, d.result.position);
        this.host.trace(`${this.id} ACK op${d.id} ${actionKey(op.action)} @${d.result.position}`);
        this.host.checker.noteAck(this.id, d.result.position, op.action);
      } else {
        this.host.trace(`${this.id} FAIL op${d.id} ${d.result.error}${d.result.proposal ? ` b${d.result.proposal}` : ''}`);
        if (d.result.error === 'fenced') this.onFenced(d.result.proposal);
      }
    }
    for (const c of out.changes ?? []) {
      this.host.trace(`${this.id} change ${c.id} ${c.result.ok ? `done: epoch ${c.result.config.epoch} at ${c.result.config.position}` : `failed ${c.result.reason}: ${c.result.message}`}`);
      this.changes.set(c.id, c.result);
      this.host.changeDone?.(this, c.id, c.result);
    }
    if (out.election !== undefined) {
      const e = out.election;
      this.host.trace(`${this.id} election ${e.ok ? `won, NOP @${e.position} b${this.core.proposal}` : `failed ${e.error}`}`);
      if (e.ok) {
        this.lastAcked = Math.max(this.lastAcked, e.position);
        this.electedAt = this.host.now();
      } else if (e.error === 'fenced') this.onFenced(e.proposal);
    }
  }

  private onFenced(proposal: Proposal | undefined): void {
    if (this.host.checker.isFenced(this.id)) return;
    this.host.checker.noteFenced(this.id);
    this.host.writerFenced?.(this, proposal);
  }
}

export class ReaderClient {
  core: ReaderCore;
  /** Reads in progress: id -> what the checker needs and when it began. */
  readonly pending = new Map<number, ReadStart & { at: number }>();
  /** Results for the simulation (final read): id -> entries or undefined on failure. */
  readonly results = new Map<number, { ok: boolean; begin: Position; positions: Map<Position, string> }>();
  reads = 0;
  /** A read ended 'stale-config': the next read with nothing pending starts from the newest chain. */
  private stale = false;
  /**
   * The next request id, shared by every core this client builds: a reader
   * keeps its address across cores, so a late reply to an earlier core's read
   * reaches the new one, which must not take it for its own (ids never reused).
   */
  private nextRid = 1;

  constructor(
    readonly name: Addr,
    private readonly host: ClientHost,
  ) {
    this.core = this.newCore();
  }

  private newCore(): ReaderCore {
    const prng = this.host.prng;
    const members = this.host.clientMembers?.() ?? this.host.members;
    const view = this.host.clientView?.();
    const rid = (): number => this.nextRid++;
    return new ReaderCore(view === undefined ? { members, random: () => prng.float(), rid } : { view, random: () => prng.float(), rid, rules: this.host.rules });
  }

  /** A reader with nothing pending starts over from the configuration the replicas hold now (a client that reconnects). */
  refresh(): void {
    if (this.pending.size > 0) return;
    this.core = this.newCore();
  }

  read(from: Position, to: Position): number {
    return this.start(from, to, false);
  }

  bounds(): number {
    return this.start(0, 0, true);
  }

  tick(): void {
    this.apply(this.core.step({ type: 'tick' }, this.host.now()));
  }

  receive(from: ReplicaId, msg: Message): void {
    if (msg.type !== 'readReply' && msg.type !== 'promiseReply' && msg.type !== 'writeReply') return;
    this.apply(this.core.step({ type: 'reply', from, msg }, this.host.now()));
  }

  private start(from: Position, to: Position, bounds: boolean): number {
    if (this.stale && this.pending.size === 0) {
      this.stale = false;
      this.refresh();
    }
    const id = this.host.nextOpId();
    this.pending.set(id, { ...this.host.checker.readStarted(from, to, bounds), at: this.host.now() });
    this.host.trace(`${this.name} ${bounds ? 'bounds' : `read [${from}, ${to === Number.MAX_SAFE_INTEGER ? 'max' : to}]`} op${id}`);
    const event = bounds ? ({ type: 'bounds', id } as const) : ({ type: 'read', id, from, to } as const);
    this.apply(this.core.step(event, this.host.now()));
    return id;
  }

  private apply(out: ReaderOutput): void {
    for (const o of out.send) this.host.send({ from: this.name, to: `r${o.to}`, msg: o.msg });
    for (const d of out.done) {
      const start = this.pending.get(d.id);
      this.pending.delete(d.id);
      if (start === undefined) continue;
      this.reads++;
      const r = d.result;
      if (r.ok) {
        this.host.trace(`${this.name} read op${d.id} ok begin${r.begin} end${r.end} ${r.entries.map((e) => `${e.position}=${actionKey(e.action)}`).slice(0, 6).join(' ')}${r.entries.length > 6 ? ` ..+${r.entries.length - 6}` : ''}`);
        this.host.checker.readOk(this.name, start, r.entries, r.begin, r.end, r.through);
        this.results.set(d.id, { ok: true, begin: r.begin, positions: new Map(r.entries.map((e) => [e.position, actionKey(e.action)])) });
      } else {
        this.host.trace(`${this.name} read op${d.id} failed ${r.error}${r.begin !== undefined ? ` begin${r.begin}` : ''}`);
        if (r.error === 'truncated') this.host.checker.readTruncated(this.name, r.begin);
        // A replica learned a newer configuration than this reader's view: it starts over from the newest chain
        // (log-client.ts's refreshConfiguration) once nothing else is pending on the old core.
        if (r.error === 'stale-config') this.stale = true;
        this.results.set(d.id, { ok: false, begin: r.begin ?? 0, positions: new Map() });
      }
    }
  }
}

