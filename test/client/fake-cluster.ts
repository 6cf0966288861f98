/**
 * Drives the client's Writer shell (src/client/writer.ts) against real
 * replica cores over a network the test controls, with no sockets and no
 * wall clock: each FakeClient stands in for the LogClient the Writer talks to
 * (send, clock, request ids, readActions through a ReaderCore), and
 * `drive(promise)` delivers messages and moves the fake clock until the
 * promise settles. Deterministic: messages go first in, first out; time moves
 * only when nothing is in flight.
 */
import { replicaStep } from '../../src/core/replica.js';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import { ReaderCore, type ReadResult, type ReaderOutbound } from '../../src/core/reader.js';
import { TruncatedError, NoQuorumError } from '../../src/core/errors.js';
import type { Entry, Message, Position, ReplicaId } from '../../src/core/types.js';
import type { ConfigView } from '../../src/core/config-view.js';
import type { LogClient } from '../../src/client/log-client.js';
import { Writer } from '../../src/client/writer.js';
import { ChosenNews } from '../../src/client/chosen-news.js';
import { EventEmitter } from 'node:events';
import type { LogClientEvents } from '../../src/client/events.js';
import type { CallDefaults } from '../../src/client/deadline.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { seededRandom } from '../helpers/seeded-random.js';
import assert from 'node:assert/strict';

interface Envelope {
  readonly from: FakeClient;
  readonly to: ReplicaId;
  readonly msg: Message;
}

export class FakeCluster {
  readonly ids: ReplicaId[];
  readonly stores = new Map<ReplicaId, MemoryStore>();
  /** Replicas that neither receive nor answer. */
  readonly down = new Set<ReplicaId>();
  /** Requests for which this returns true are lost on the way to the replica. */
  dropIf: (to: ReplicaId, msg: Message, from: FakeClient) => boolean = () => false;
  /** Replies for which this returns true are lost on the way back. */
  dropReplyIf: (from: ReplicaId, msg: Message, to: FakeClient) => boolean = () => false;
  now = 0;
  private inflight: Envelope[] = [];
  private replies: { to: FakeClient; from: ReplicaId; msg: Message }[] = [];
  readonly clients: FakeClient[] = [];
  readonly random = seededRandom(7);

  constructor(n: number) {
    this.ids = Array.from({ length: n }, (_, i) => i + 1);
    for (const id of this.ids) this.stores.set(id, new MemoryStore({ status: 'VOTING', promised: 0, incarnation: `inc-${id}` }));
  }

  client(): FakeClient {
    const c = new FakeClient(this);
    this.clients.push(c);
    return c;
  }

  send(e: Envelope): void {
    if (this.down.has(e.to) || this.dropIf(e.to, e.msg, e.from)) return;
    this.inflight.push(e);
  }

  /** Delivers everything in flight (and what that causes); false if nothing was. */
  private deliverAll(): boolean {
    let any = false;
    while (this.inflight.length > 0 || this.replies.length > 0) {
      any = true;
      const e = this.inflight.shift();
      if (e !== undefined) {
        if (this.down.has(e.to)) continue;
        const store = this.stores.get(e.to)!;
        const step = replicaStep(store, e.msg as Parameters<typeof replicaStep>[1], ALL_RULES_ON, { writerActive: false });
        store.append(step.records);
        store.syncNow();
        if (step.reply !== undefined && !this.dropReplyIf(e.to, step.reply, e.from)) this.replies.push({ to: e.from, from: e.to, msg: step.reply });
        continue;
      }
      const r = this.replies.shift()!;
      if (!this.down.has(r.from)) r.to.receive(r.from, r.msg);
    }
    return any;
  }

  /** Runs the network and the clock until `p` settles (at most `maxMs` of fake time). */
  async drive<T>(p: Promise<T>, maxMs = 60_000): Promise<T> {
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    const deadline = this.now + maxMs;
    while (!settled) {
      // Let the shells run their promise continuations and setImmediate flushes.
      await new Promise((r) => setImmediate(r));
      if (settled) break;
      if (this.deliverAll()) continue;
      if (this.now >= deadline) throw new Error(`nothing settled within ${maxMs} ms of fake time`);
      this.now += 50;
      for (const c of this.clients) c.tick();
    }
    return p;
  }
}

/** The part of LogClient that Writer uses, over the fake network. */
export class FakeClient extends EventEmitter<LogClientEvents> {
  highestProposalSeen = 0;
  readonly news = new ChosenNews();
  private nextRid = 1;
  private nextOp = 1;
  private readonly writers: Writer[] = [];
  private reader: ReaderCore;
  private readonly reads = new Map<number, (r: ReadResult) => void>();

  readonly callDefaults: CallDefaults = { timeoutMs: undefined, slowMs: 1000, onSlow: undefined };

  constructor(private readonly cluster: FakeCluster) {
    super();
    this.reader = new ReaderCore({ members: cluster.ids, random: cluster.random, rid: this.rid, proposalFloor: () => this.highestProposalSeen });
  }

  /** Reads in configurations from now on (`view` read at each read), as a LogClient's reader does. */
  readIn(view: ConfigView): void {
    this.reader = new ReaderCore({ view, random: this.cluster.random, rid: this.rid, proposalFloor: () => this.highestProposalSeen });
  }

  readonly rid = (): number => this.nextRid++;
  now(): number {
    return this.cluster.now;
  }
  checkOpen(): void {}
  forgetWriter(w: Writer): void {
    const i = this.writers.indexOf(w);
    if (i >= 0) this.writers.splice(i, 1);
  }
  send(out: readonly { to: ReplicaId; msg: Message }[]): void {
    for (const o of out) this.cluster.send({ from: this, to: o.to, msg: o.msg });
  }

  /** A Writer over this client, elected. */
  async writer(): Promise<Writer> {
    const w = Writer.create(this as unknown as LogClient, this.cluster.ids);
    this.writers.push(w);
    await this.cluster.drive(w.elect());
    return w;
  }

  receive(from: ReplicaId, msg: Message): void {
    if (msg.type === 'promiseReply' || msg.type === 'writeReply') this.highestProposalSeen = Math.max(this.highestProposalSeen, msg.proposal);
    if (msg.type !== 'promiseReply' && msg.type !== 'writeReply' && msg.type !== 'readReply') return;
    for (const w of [...this.writers]) w.onReply(from, msg);
    this.applyReader(this.reader.step({ type: 'reply', from, msg }, this.now()));
  }

  tick(): void {
    for (const w of [...this.writers]) w.tick(this.now());
    this.applyReader(this.reader.step({ type: 'tick' }, this.now()));
  }

  async beginning(): Promise<Position> {
    const r = await this.run({ type: 'bounds' });
    return r.begin;
  }

  async readActions(from: Position, to: Position): Promise<Entry[]> {
    const out: Entry[] = [];
    let cursor = from;
    for (;;) {
      const r = await this.run({ type: 'read', from: cursor, to });
      out.push(...r.entries);
      if (r.through >= Math.min(to, r.end) || r.through < cursor) return out;
      cursor = r.through + 1;
    }
  }

  private run(req: { type: 'read'; from: Position; to: Position } | { type: 'bounds' }): Promise<Extract<ReadResult, { ok: true }>> {
    const id = this.nextOp++;
    return new Promise((resolve, reject) => {
      this.reads.set(id, (r) => {
        if (r.ok) resolve(r);
        else if (r.error === 'truncated') reject(new TruncatedError(`truncated below ${r.begin}`));
        else reject(new NoQuorumError('no quorum'));
      });
      const event = req.type === 'read' ? { type: 'read' as const, id, from: req.from, to: req.to } : { type: 'bounds' as const, id };
      this.applyReader(this.reader.step(event, this.now()));
    });
  }

  private applyReader(out: { send: ReaderOutbound[]; done: { id: number; result: ReadResult }[] }): void {
    this.send(out.send);
    for (const d of out.done) {
      const f = this.reads.get(d.id);
      this.reads.delete(d.id);
      f?.(d.result);
    }
  }
}

/** Drives `p`, which must fail with NoQuorumError (a write whose outcome is unknown), and returns the error. */
export async function failsInDoubt(c: FakeCluster, p: Promise<unknown>): Promise<NoQuorumError> {
  const err = await c.drive(p.then(() => assert.fail('expected NoQuorumError'), (e: unknown) => e));
  assert.ok(err instanceof NoQuorumError, String(err));
  return err;
}

/** Appends `texts` with only replica 1 taking `client`'s writes: each append fails in doubt (their errors, in order). */
export async function appendsInDoubtOnOne(c: FakeCluster, client: FakeClient, w: Writer, texts: readonly string[]): Promise<NoQuorumError[]> {
  c.dropIf = (to, msg, from) => from === client && msg.type === 'write' && to !== 1;
  const errors = await Promise.all(texts.map((t) => failsInDoubt(c, w.append(t))));
  c.dropIf = () => false;
  return errors;
}

/** The next `n` readActions of `client` fail with no quorum (a reelect()'s verdict read that cannot finish). */
export function failNextReads(client: FakeClient, n = 1): void {
  const read = client.readActions.bind(client);
  let left = n;
  client.readActions = (from, to) => (left-- > 0 ? Promise.reject(new NoQuorumError('read: no quorum')) : read(from, to));
}

/** Three replicas and a writer that appended 'x' at 1, then `texts` in doubt on replica 1 only. */
export async function writerInDoubt(texts: readonly string[]): Promise<{ c: FakeCluster; ca: FakeClient; a: Writer; errors: NoQuorumError[] }> {
  const c = new FakeCluster(3);
  const ca = c.client();
  const a = await ca.writer();
  assert.equal(await c.drive(a.append('x')), 1);
  const errors = await appendsInDoubtOnOne(c, ca, a, texts);
  return { c, ca, a, errors };
}

/** Drives the fake cluster until `cond` holds (bounded in fake time). */
export async function until(c: FakeCluster, cond: () => boolean, maxMs = 60_000): Promise<void> {
  let polls = 0;
  await c.drive(
    new Promise<void>((resolve, reject) => {
      const poll = (): void => {
        if (cond()) resolve();
        else if (++polls > 100_000) reject(new Error('condition never held'));
        else setImmediate(poll);
      };
      poll();
    }),
    maxMs,
  );
}

/** Settles `p` (resolved or rejected) as a value, so a test can look at it later. */
export function outcome<T>(p: Promise<T>): { value?: T; error?: unknown; settled: boolean } {
  const o: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  p.then(
    (v) => Object.assign(o, { value: v, settled: true }),
    (e: unknown) => Object.assign(o, { error: e, settled: true }),
  );
  return o;
}
