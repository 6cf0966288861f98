// A fill driven by hand for the rule tests (fill-rules, fill-config-rules): the requests it sends are
// collected in order, and replies are built from the last request of their kind, so a test states
// only what differs from a plain accept.
import assert from 'node:assert/strict';
import { Fill, type FillContext, type FillOutbound, type FillResult } from '../../src/core/fill.js';
import type { ConfigView } from '../../src/core/config-view.js';
import type { SafetyRules } from '../../src/core/rules.js';
import type { Action, PromiseReply, PromiseRequest, ReplicaId, Slot, WriteReply, WriteRequest } from '../../src/core/types.js';

export const append = (s: string): Action => ({ kind: 'append', data: new Uint8Array(Buffer.from(s)) });
export const text = (a: Action | undefined): string =>
  a === undefined ? 'undefined' : a.kind === 'append' ? Buffer.from(a.data).toString() : a.kind === 'config' ? `config${a.config.epoch}` : a.kind;
export const accepted = (position: number, proposal: number, value: string, learned = false): Slot => ({ position, promised: proposal, accepted: proposal, learned, action: append(value) });

export interface RunOptions {
  readonly floor?: number;
  readonly members?: readonly ReplicaId[];
  readonly view?: ConfigView;
  readonly self?: ReplicaId;
  readonly quorum?: number;
  readonly patient?: boolean;
  readonly rules?: SafetyRules;
  /** The backoff's random draw (default 0.5: a backoff of 75 ms). */
  readonly random?: number;
}

export class FillRun {
  readonly fill: Fill;
  /** Every message the fill sent, in order. */
  readonly out: FillOutbound[] = [];
  private nextRid = 100;

  constructor(from: number, to: number, opts: RunOptions = {}, now = 0) {
    const random = opts.random ?? 0.5;
    const ctx: FillContext = {
      ...(opts.view === undefined ? { members: opts.members ?? [1, 2, 3] } : { view: opts.view }),
      ...(opts.self === undefined ? {} : { self: opts.self }),
      ...(opts.quorum === undefined ? {} : { quorum: opts.quorum }),
      ...(opts.patient === undefined ? {} : { patientWhileAnswered: opts.patient }),
      ...(opts.rules === undefined ? {} : { rules: opts.rules }),
      random: () => random,
      rid: () => this.nextRid++,
    };
    this.fill = new Fill(from, to, opts.floor ?? 20, ctx, now, this.out);
  }

  /** The messages sent from index `mark` on (mark: `out.length` taken before). */
  since(mark: number): FillOutbound[] {
    return this.out.slice(mark);
  }

  private last<T extends 'promise' | 'write'>(type: T): Extract<FillOutbound['msg'], { type: T }> {
    for (let i = this.out.length - 1; i >= 0; i--) {
      const m = this.out[i]!.msg;
      if (m.type === type) return m as Extract<FillOutbound['msg'], { type: T }>;
    }
    assert.fail(`no ${type} request sent`);
  }

  get promiseReq(): PromiseRequest {
    return this.last('promise');
  }

  get writeReq(): WriteRequest {
    return this.last('write');
  }

  /** A reply to the last promise request: an accept holding nothing, unless `patch` says otherwise. */
  promise(from: ReplicaId, patch: Partial<PromiseReply> = {}, now = 1): FillResult | undefined {
    const req = this.promiseReq;
    const reply: PromiseReply = {
      type: 'promiseReply', rid: req.rid, outcome: 'accept', proposal: req.proposal, status: 'VOTING', begin: 0, end: req.to!,
      learnedThrough: -1, slots: [], coveredThrough: req.to!, generation: 0, disk: 0, ...(req.config === undefined ? {} : { config: req.config }), ...patch,
    };
    return this.fill.onPromiseReply(from, reply, now, this.out);
  }

  /** A reply to the last write request: an accept by a replica holding every position below it, unless `patch` says otherwise. */
  write(from: ReplicaId, patch: Partial<WriteReply> = {}, now = 2): FillResult | undefined {
    const req = this.writeReq;
    const reply: WriteReply = {
      type: 'writeReply', rid: req.rid, outcome: 'accept', proposal: req.proposal, from: req.from, count: req.actions.length, generation: 0, disk: 0,
      retired: [], learnedThrough: req.from - 1, lostBelow: false, ...(req.config === undefined ? {} : { config: req.config }), ...patch,
    };
    return this.fill.onWriteReply(from, reply, now, this.out);
  }

  tick(now: number): FillResult | undefined {
    return this.fill.onTick(now, this.out);
  }
}

/** Who was sent what, as `type>to` strings (sorted), from `mark` on. */
export function sent(run: FillRun, mark = 0): string[] {
  return run.since(mark).map((o) => `${o.msg.type}>${o.to}`).sort();
}
