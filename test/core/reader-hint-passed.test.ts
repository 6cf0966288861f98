// A read whose truncation hint the beginning passed (the truncation applied), that then meets a new hint whose
// probe finds it not chosen, answers as the passed hint's probe would: truncated, never ok with entries below
// the beginning it heard (found by a helper's attack on the hintPassed fix; fails without evaluateProbe's check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReaderCore, type ReaderOutbound, type ReadResult } from '../../src/core/reader.js';
import type { Action, ReadReply } from '../../src/core/types.js';

const app = (n: number): Action => ({ kind: 'append', data: new Uint8Array([n]) });
const trunc = (to: number): Action => ({ kind: 'truncate', to });
const learned = (position: number, action: Action = app(position)) => ({ position, promised: 0, accepted: 1, learned: true, action });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function serve(m: any, req: any): ReadReply {
  let covered = Math.min(req.to, m.cut ?? Number.MAX_SAFE_INTEGER);
  let slots = (m.slots ?? []).filter((s: { position: number }) => s.position >= req.from && s.position <= covered);
  if (slots.length > req.limit) { slots = slots.slice(0, req.limit); covered = slots[slots.length - 1].position; }
  return {
    type: 'readReply', rid: req.rid, status: 'VOTING', begin: m.begin ?? 0, end: m.end, learnedThrough: -1, slots,
    coveredThrough: covered, lost: [], writerActive: false, ...(m.pendingTruncate ? { pendingTruncate: m.pendingTruncate } : {}),
  } as ReadReply;
}
function answer(rd: ReaderCore, send: readonly ReaderOutbound[], m: object, now: number) {
  const out: { send: ReaderOutbound[]; done: { id: number; result: ReadResult }[] } = { send: [], done: [] };
  for (const s of send.filter((s) => s.msg.type === 'read')) {
    const o = rd.step({ type: 'reply', from: s.to, msg: serve(m, s.msg) }, now);
    out.send.push(...o.send); out.done.push(...o.done);
  }
  return out;
}
const rng = (send: readonly ReaderOutbound[]) => {
  const r = send.flatMap((s) => (s.msg.type === 'read' ? [s.msg] : []));
  return r.length > 0 ? { from: r[0]!.from, to: r[0]!.to } : undefined;
};
const below = (res: ReadResult) => res.ok ? res.entries.filter((e) => e.position < res.begin).map((e) => e.position) : [];

test('hintPassed, then a new hint whose probe finds it not chosen: must not answer ok with entries below begin', () => {
  const rd = new ReaderCore({ members: [1, 2, 3], random: () => 0.5 });
  const all = [0, 1, 2, 3, 4, 5].map((p) => learned(p));
  let out = rd.step({ type: 'read', id: 1, from: 0, to: 5 }, 0);
  // round 1: 0,1 resolved; hint TRUNCATE(to 2) accepted at 9
  out = answer(rd, out.send, { slots: all, cut: 1, end: 9, pendingTruncate: { position: 9, to: 2 } }, 0);
  assert.deepEqual(rng(out.send), { from: 2, to: 5 });
  // round 2: the truncation applied (begin 2): hint dropped, hintPassed set; cursor 2 >= begin, 2,3 resolved
  out = answer(rd, out.send, { begin: 2, slots: [...all.slice(2), learned(9, trunc(2))], cut: 3, end: 9 }, 1);
  assert.deepEqual(rng(out.send), { from: 4, to: 5 });
  // round 3: a NEW accepted TRUNCATE(to 3) at 10 reported (not chosen)
  out = answer(rd, out.send, { begin: 2, slots: all.slice(4), end: 10, pendingTruncate: { position: 10, to: 3 } }, 2);
  assert.deepEqual(rng(out.send), { from: 10, to: 10 }, 'probe of the new hint');
  // probe: nobody holds 10 (the TRUNCATE(3) was never chosen)
  out = answer(rd, out.send, { begin: 2, slots: [], end: 10 }, 3);
  assert.equal(out.done.length, 1);
  const res = out.done[0]!.result;
  assert.deepEqual(below(res), [], `ok answer with entries below begin ${res.begin}`);
  assert.deepEqual(res, { ok: false, error: 'truncated', begin: 2 });
});

