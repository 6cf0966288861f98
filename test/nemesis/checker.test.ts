// The nemesis checker, fed planted histories: each planted fault is found (by its kind), and the
// clean history they are made from passes. A checker that passes everything would pass the runs too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHistory, type ViolationKind } from '../../src/nemesis/checker.js';
import type { AppendOp, History, Op, ReadOp } from '../../src/nemesis/history.js';

/**
 * A clean history: writer w1 elected at 0-1, appends a0..a4 at positions 0..4 (acked at 10..14), writer w2
 * elected 20-21 (w1 sees itself fenced at 21.5), w2 appends b0,b1 at 6,7 (position 5 a NOP fill), a read at 30
 * of [0, 10], a truncation to 1 acked at 40, a final read from 1, and three replicas that agree.
 */
function clean(): { ops: Op[]; h: () => History; final: [number, string][]; replicas: History['replicas'] } {
  const ops: Op[] = [];
  let id = 1;
  ops.push({ id: id++, actor: 'w1', kind: 'elect', writer: 'w1', invoke: 0, complete: 1, outcome: 'ok' });
  for (let i = 0; i < 5; i++) ops.push({ id: id++, actor: 'w1', kind: 'append', writer: 'w1', value: `a${i}`, invoke: 2 + i, complete: 10 + i, outcome: 'ok', position: i });
  ops.push({ id: id++, actor: 'w2', kind: 'elect', writer: 'w2', invoke: 20, complete: 21, outcome: 'ok' });
  ops.push({ id: id++, actor: 'w1', kind: 'append', writer: 'w1', value: 'a5', invoke: 22, complete: 23, outcome: 'fail', error: 'WRITER_FENCED' });
  ops.push({ id: id++, actor: 'w2', kind: 'append', writer: 'w2', value: 'b0', invoke: 24, complete: 25, outcome: 'ok', position: 6 });
  ops.push({ id: id++, actor: 'w2', kind: 'append', writer: 'w2', value: 'b1', invoke: 24.5, complete: 26, outcome: 'ok', position: 7 });
  ops.push({ id: id++, actor: 'w2', kind: 'append', writer: 'w2', value: 'b2', invoke: 27, complete: null, outcome: 'unknown', position: 8 });
  const all: [number, string][] = [[0, 'a0'], [1, 'a1'], [2, 'a2'], [3, 'a3'], [4, 'a4'], [6, 'b0'], [7, 'b1']];
  ops.push({ id: id++, actor: 'r1', kind: 'read', from: 0, to: 10, entries: all, invoke: 30, complete: 31, outcome: 'ok' });
  ops.push({ id: id++, actor: 'w2', kind: 'truncate', writer: 'w2', to: 1, invoke: 35, complete: 40, outcome: 'ok', position: 9 });
  const final = all.filter(([p]) => p >= 1);
  const replicas = [1, 2, 3].map((rid) => ({ id: rid, begin: 1, entries: [...final.map(([p, v]) => [p, 'append', v] as const), [5, 'nop'] as const, [9, 'truncate'] as const] }));
  return { ops, final, replicas, h: () => ({ ops, fences: [{ kind: 'fenced', writer: 'w1', time: 21.5 }], final: { begin: 1, end: 9, entries: final }, replicas }) };
}

function kinds(h: History): ViolationKind[] {
  return [...new Set(checkHistory(h).violations.map((v) => v.kind))].sort();
}

test('a clean history passes', () => {
  const r = checkHistory(clean().h());
  assert.deepEqual(r.violations, []);
  assert.equal(r.valid, true);
  assert.equal(r.stats.appendsOk, 7);
  assert.equal(r.stats.ackedCheckedInFinal, 6);
  assert.equal(r.stats.ackedBelowFinalBegin, 1);
});

test('a lost append is found', () => {
  const c = clean();
  const h = c.h();
  assert.ok(kinds({ ...h, final: { ...h.final, entries: h.final.entries.filter(([p]) => p !== 3) } }).includes('lost'), 'lost found');
});

test('a duplicate is found', () => {
  const h = clean().h();
  const k = kinds({ ...h, final: { ...h.final, entries: [...h.final.entries, [8, 'b1']] } });
  assert.ok(k.includes('duplicate') && k.includes('moved'), k.join());
});

test('a phantom is found', () => {
  const h = clean().h();
  assert.ok(kinds({ ...h, final: { ...h.final, entries: [...h.final.entries, [8, 'zz']] } }).includes('phantom'), 'phantom found');
});

test('a failed (not-written) append that shows up is found; an unknown one present once at its position is fine', () => {
  const h = clean().h();
  assert.ok(kinds({ ...h, final: { ...h.final, entries: [...h.final.entries, [8, 'a5']] } }).includes('not-written-present'), 'not-written-present found');
  assert.deepEqual(kinds({ ...h, final: { ...h.final, entries: [...h.final.entries, [8, 'b2']] } }), []);
  assert.ok(kinds({ ...h, final: { ...h.final, entries: [...h.final.entries, [9, 'b2']] } }).includes('unknown-elsewhere'), 'unknown-elsewhere found');
});

test('a reordering (a writer acknowledged at a lower position later) is found', () => {
  const c = clean();
  const ops = c.ops.map((o) => (o.kind === 'append' && o.value === 'a3' ? { ...o, complete: 16 } : o));
  assert.ok(kinds({ ...c.h(), ops }).includes('writer-order'), 'writer-order found');
});

test('two appends acknowledged at one position are found', () => {
  const c = clean();
  const ops = c.ops.map((o) => (o.kind === 'append' && o.value === 'b2' ? { ...o, outcome: 'ok' as const, complete: 28, position: 7 } : o));
  assert.ok(kinds({ ...c.h(), ops }).includes('position-reused'));
});

test('an acknowledgement after fencing is found, seen or implied by a later election', () => {
  const c = clean();
  // Seen: w1 knew at 21.5 that it was fenced; an ack at 22.5 breaks the promise.
  const late = c.ops.map((o) => (o.kind === 'append' && o.value === 'a4' ? { ...o, complete: 22.5 } : o));
  assert.ok(kinds({ ...c.h(), ops: late }).includes('ack-after-fence'), 'ack-after-fence found');
  // Implied: w1 never heard, but its append began after w2's election ended (and w2's began after w1's ended).
  const implied = c.ops.map((o) => (o.kind === 'append' && o.value === 'a5' ? { ...o, outcome: 'ok' as const, position: 5, complete: 23 } : o));
  const h = c.h();
  const final = { ...h.final, entries: [...h.final.entries, [5, 'a5'] as const].sort((a, b) => a[0] - b[0]) };
  const replicas = h.replicas.map((r) => ({ ...r, entries: r.entries.map((e) => (e[0] === 5 ? ([5, 'append', 'a5'] as const) : e)) }));
  assert.ok(kinds({ ...h, ops: implied, fences: [], final, replicas }).includes('ack-after-fence'), 'ack-after-fence found');
});

test('a read that misses an append acknowledged before it began is found', () => {
  const c = clean();
  const ops = c.ops.map((o) => (o.kind === 'read' ? ({ ...o, entries: o.entries.filter(([p]) => p !== 2) } as ReadOp) : o));
  assert.ok(kinds({ ...c.h(), ops }).includes('stale-read'), 'stale-read found');
  // A read that began before the append was acknowledged may miss it.
  const early = c.ops.map((o) => (o.kind === 'read' ? ({ ...o, invoke: 12, entries: o.entries.filter(([p]) => p !== 2 && p !== 6 && p !== 7) } as ReadOp) : o));
  assert.deepEqual(kinds({ ...c.h(), ops: early }), []);
});

test('a truncated position that comes back is found (a read after the truncation, or the final log)', () => {
  const c = clean();
  const ops: Op[] = [...c.ops, { id: 99, actor: 'r1', kind: 'read', from: 0, to: 3, entries: [[0, 'a0'], [1, 'a1'], [2, 'a2'], [3, 'a3']], invoke: 50, complete: 51, outcome: 'ok' }];
  assert.ok(kinds({ ...c.h(), ops }).includes('truncated-returned'), 'truncated-returned found');
  const h = c.h();
  assert.ok(kinds({ ...h, final: { begin: 0, end: 9, entries: [[0, 'a0'], ...h.final.entries] } }).includes('truncated-returned'), 'truncated-returned found');
});

test('replicas that disagree on a learned position are found', () => {
  const c = clean();
  const h = c.h();
  const replicas = h.replicas.map((r) => (r.id === 3 ? { ...r, entries: r.entries.map((e) => (e[0] === 5 ? ([5, 'append', 'a5'] as const) : e)) } : r));
  assert.ok(kinds({ ...h, replicas }).includes('replica-diverge'));
});

test('a reelect verdict that contradicts the log is found', () => {
  const c = clean();
  const ops: Op[] = [...c.ops, { id: 98, actor: 'w2', kind: 'reelect', writer: 'w2', invoke: 60, complete: 61, outcome: 'ok', settled: [{ position: 8, kind: 'append', written: true }] }];
  assert.ok(kinds({ ...c.h(), ops }).includes('settle-wrong'), 'settle-wrong found');
});

test('two appends of one value are refused: the checker could not tell them apart', () => {
  const c = clean();
  const dup: AppendOp = { id: 97, actor: 'w2', kind: 'append', writer: 'w2', value: 'a0', invoke: 70, complete: 71, outcome: 'fail' };
  assert.throws(() => checkHistory({ ...c.h(), ops: [...c.ops, dup] }), /two appends of one value/);
});

/** The clean history with its read at 30 replaced by one returning `entries`. */
function withRead(entries: [number, string][]): History {
  const c = clean();
  const ops = c.ops.map((o) => (o.kind === 'read' ? { ...o, entries } : o));
  return { ...c.h(), ops };
}

test('reads judge appends the final read no longer covers: one missing from the last read covering it is lost', () => {
  const c = clean();
  assert.equal(checkHistory(c.h()).stats.ackedCheckedInReads, 1, 'a0 (position 0, truncated by the end) is judged by the read');
  const all = c.ops.find((o): o is ReadOp => o.kind === 'read')!.entries as [number, string][];
  const r = checkHistory(withRead(all.filter(([p]) => p !== 0)));
  assert.ok(r.violations.some((v) => v.kind === 'lost' && v.ops.includes(2)), 'a0 lost, by the read');
  // Missing above the final read's beginning: the final read holds it, so a stale read, not a loss.
  const k = kinds(withRead(all.filter(([p]) => p !== 3)));
  assert.deepEqual(k, ['stale-read']);
});

test('reads judge appends the final read no longer covers: another value at its position is lost', () => {
  const c = clean();
  const all = c.ops.find((o): o is ReadOp => o.kind === 'read')!.entries as [number, string][];
  const h = withRead(all.map(([p, v]) => [p, p === 0 ? 'b2' : v]));
  assert.ok(checkHistory(h).violations.some((v) => v.kind === 'lost' && v.message.includes('returned "b2"')), 'a0 lost, by the read');
});

test('an append a read missed but a later read returned is not lost', () => {
  const c = clean();
  const all = c.ops.find((o): o is ReadOp => o.kind === 'read')!.entries as [number, string][];
  const ops: Op[] = [...c.ops.map((o) => (o.kind === 'read' ? { ...o, entries: all.filter(([p]) => p !== 0) } : o)), { id: 99, actor: 'r1', kind: 'read', from: 0, to: 10, entries: all, invoke: 32, complete: 33, outcome: 'ok' }];
  assert.deepEqual(kinds({ ...c.h(), ops }), ['stale-read']);
});
