// What the writer rule files (writer-appends-rules, writer-changes-rules, writer-election-rules) share: picking
// a step's sends apart, and members' answers made by hand. WriterCore is driven through its entry point alone.
import assert from 'node:assert/strict';
import { chainView } from '../../src/core/config-view.js';
import type { CommitMessage, PromiseReply, PromiseRequest, ReadRequest, WriteReply, WriteRequest } from '../../src/core/types.js';
import { WriterCore, type OpResult, type Outbound, type WriterConfig, type WriterOutput } from '../../src/core/writer.js';
import { config0 } from './reconfig-harness.js';

export type Write = Outbound & { msg: WriteRequest };
export const writes = (send: readonly Outbound[]): Write[] => send.filter((s): s is Write => s.msg.type === 'write');
export const promises = (send: readonly Outbound[]) => send.filter((s): s is Outbound & { msg: PromiseRequest } => s.msg.type === 'promise');
export const reads = (send: readonly Outbound[]) => send.filter((s): s is Outbound & { msg: ReadRequest } => s.msg.type === 'read');
export const commits = (send: readonly Outbound[]) => send.filter((s): s is Outbound & { msg: CommitMessage } => s.msg.type === 'commit');
/** The members a step sent to, ascending. */
export const to = (send: readonly Outbound[]) => send.map((s) => s.to).sort((a, b) => a - b);
/** The distinct batches of a step's writes (every member gets the same request), in the order sent. */
export function batches(send: readonly Outbound[]): WriteRequest[] {
  const seen = new Map<number, WriteRequest>();
  for (const s of writes(send)) if (!seen.has(s.msg.rid)) seen.set(s.msg.rid, s.msg);
  return [...seen.values()];
}
export const results = (out: WriterOutput): [number, OpResult][] => out.done.map((d) => [d.id, d.result]);

/** The outputs of several steps as one: their sends and results in order, the election and changes reported. */
export function merged(outs: readonly WriterOutput[]): WriterOutput {
  const all: WriterOutput = { send: [], done: [] };
  for (const o of outs) {
    all.send.push(...o.send);
    all.done.push(...o.done);
    if (o.election !== undefined) all.election = o.election;
    if (o.changes !== undefined) (all.changes ??= []).push(...o.changes);
  }
  return all;
}

/** A member's accept of promise request `rid` under proposal 1, holding nothing, unless told. */
export function promiseReply(rid: number, more: Partial<PromiseReply> = {}): PromiseReply {
  return {
    type: 'promiseReply', rid, outcome: 'accept', proposal: 1, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [], coveredThrough: -1,
    generation: 0, disk: 0, ...more,
  };
}
/** A member's answer to a write request (accept by its disk 0/0 unless told; no learnedThrough or lostBelow unless told). */
export function writeReply(m: WriteRequest, more: Partial<WriteReply> = {}): WriteReply {
  return { type: 'writeReply', rid: m.rid, outcome: 'accept', proposal: m.proposal, from: m.from, count: m.actions.length, generation: 0, disk: 0, retired: [], ...more };
}

/** Members 1, 2, 3 with addresses (a change needs them). */
export const view3 = chainView([config0([1, 2, 3])]);

/**
 * A writer over members 1, 2, 3 (or `cfg.view`) elected at time 0 by `by` (all three by default: all named,
 * within the grace), its election NOP (position 0) chosen by them unless `chooseNop` is false. Time stays at 0
 * unless a test moves it.
 */
export class ElectedWriter {
  readonly w: WriterCore;
  now = 0;
  electionRid = 0;
  /** The election NOP's batch. */
  nop!: WriteRequest;
  constructor(
    cfg: Partial<WriterConfig> = {},
    readonly by: number[] = [1, 2, 3],
    chooseNop = true,
  ) {
    const base = cfg.view === undefined ? { members: [1, 2, 3] } : {};
    this.w = new WriterCore({ ...base, random: () => 0.5, electionGraceMs: 1000, ...cfg } as WriterConfig);
    this.electionRid = promises(this.w.step({ type: 'elect' }, 0).send)[0]!.msg.rid;
    let sent: Outbound[] = [];
    for (const from of by) sent = sent.concat(this.w.step({ type: 'reply', from, msg: promiseReply(this.electionRid) }, 0).send);
    assert.equal(this.w.roleKind, 'elected');
    this.nop = batches(sent)[0]!;
    if (chooseNop) for (const from of by) this.accept(from, this.nop);
  }
  step(e: Parameters<WriterCore['step']>[0]): WriterOutput {
    return this.w.step(e, this.now);
  }
  accept(from: number, m: WriteRequest, more: Partial<WriteReply> = {}): WriterOutput {
    return this.step({ type: 'reply', from, msg: writeReply(m, more) });
  }
  tick(now: number): WriterOutput {
    this.now = now;
    return this.step({ type: 'tick' });
  }
}
