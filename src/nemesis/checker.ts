/**
 * The nemesis checker: judges a whole history (history.ts) against the log's
 * promises (README, docs/protocol.md "Reads", docs/library.md). Pure: no I/O,
 * no clock; the same history always gives the same verdict.
 *
 * Entries are recognised by their bytes: every append in a run carries a
 * value no other append carries, so a value found in a read names the append
 * that wrote it.
 */
import type { AppendOp, ElectOp, History, Op, ReadOp, TruncateOp } from './history.js';

export type ViolationKind =
  | 'lost' // an acknowledged append is not at its position in the final log, or (truncated by the end) in the reads that covered it
  | 'moved' // an acknowledged append was read at another position
  | 'duplicate' // one append's value at two positions
  | 'position-reused' // two acknowledged appends at one position
  | 'phantom' // an entry no one appended
  | 'not-written-present' // an append that failed as not-written was read
  | 'unknown-elsewhere' // an append in doubt read at a position other than the one it took
  | 'writer-order' // a writer's acknowledged positions do not increase in acknowledgement order
  | 'ack-after-fence' // a writer had an operation acknowledged after it was fenced
  | 'stale-read' // a read missed an append acknowledged before it began
  | 'read-shape' // a read's positions out of its range or not ascending
  | 'truncated-returned' // a position below an acknowledged truncation was read after it
  | 'read-disagree' // two reads saw different values at one position
  | 'replica-diverge' // replicas (or a replica and the final read) hold different learned values
  | 'settle-wrong'; // reelect's verdict on a write in doubt contradicts the log

export interface Violation {
  readonly kind: ViolationKind;
  readonly message: string;
  /** The ops involved, by id. */
  readonly ops: readonly number[];
}

export interface CheckResult {
  readonly valid: boolean;
  /** The first few of each kind (KEEP_PER_KIND). */
  readonly violations: readonly Violation[];
  /** How many of each kind were found in all. */
  readonly violationCounts: Readonly<Partial<Record<ViolationKind, number>>>;
  /** Counts, for the summary. */
  readonly stats: {
    readonly appendsOk: number;
    readonly appendsFailed: number;
    readonly appendsUnknown: number;
    readonly unknownPresent: number;
    readonly ackedCheckedInFinal: number;
    readonly ackedBelowFinalBegin: number;
    /** Of those below the final log's beginning, how many a read covered (and judged: lost or not). */
    readonly ackedCheckedInReads: number;
    readonly reads: number;
    readonly entriesRead: number;
    readonly replicaPositionsCompared: number;
  };
}

/** At most this many violations of each kind are kept (a broken run may have thousands). */
const KEEP_PER_KIND = 20;

class Findings {
  readonly list: Violation[] = [];
  private readonly perKind = new Map<ViolationKind, number>();
  readonly counts = new Map<ViolationKind, number>();
  add(kind: ViolationKind, message: string, ops: readonly number[] = []): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const n = this.perKind.get(kind) ?? 0;
    this.perKind.set(kind, n + 1);
    if (n < KEEP_PER_KIND) this.list.push({ kind, message, ops });
  }
}

const isAppend = (o: Op): o is AppendOp => o.kind === 'append';
const isTruncate = (o: Op): o is TruncateOp => o.kind === 'truncate';
const isRead = (o: Op): o is ReadOp => o.kind === 'read' || o.kind === 'tail';
const isElect = (o: Op): o is ElectOp => o.kind === 'elect' || o.kind === 'reelect';
const done = (o: Op): number => o.complete ?? Infinity;

export function checkHistory(h: History): CheckResult {
  const f = new Findings();
  const appends = h.ops.filter(isAppend);
  const byValue = new Map<string, AppendOp>();
  for (const a of appends) {
    if (byValue.has(a.value)) throw new Error(`history: two appends of one value ${JSON.stringify(a.value)} (ops ${byValue.get(a.value)!.id}, ${a.id}): the workload must make values unique`);
    byValue.set(a.value, a);
  }
  const acked = appends.filter((a) => a.outcome === 'ok');
  const reads = h.ops.filter(isRead).filter((r) => r.outcome === 'ok' || r.kind === 'tail');
  const truncates = h.ops.filter(isTruncate);

  // Every value seen anywhere, with where: reads, the final read, the replicas.
  const seenAt = new Map<string, Set<number>>();
  const valueAt = new Map<number, { value: string; where: string }>();
  const see = (p: number, v: string, where: string, opId?: number): void => {
    const a = byValue.get(v);
    if (a === undefined) f.add('phantom', `${where} holds ${JSON.stringify(v.slice(0, 60))} at ${p}, which no one appended`, opId === undefined ? [] : [opId]);
    else if (a.outcome === 'fail') f.add('not-written-present', `${where} holds append op ${a.id} (failed as not written: ${a.error ?? ''}) at ${p}`, [a.id, ...(opId === undefined ? [] : [opId])]);
    else if (a.outcome === 'unknown' && a.position !== undefined && a.position !== p) f.add('unknown-elsewhere', `${where} holds append op ${a.id} (in doubt at ${a.position}) at ${p}`, [a.id]);
    let s = seenAt.get(v);
    if (s === undefined) seenAt.set(v, (s = new Set()));
    s.add(p);
    const prev = valueAt.get(p);
    if (prev === undefined) valueAt.set(p, { value: v, where });
    else if (prev.value !== v) f.add('read-disagree', `position ${p}: ${prev.where} saw ${JSON.stringify(prev.value)}, ${where} saw ${JSON.stringify(v)}`, opId === undefined ? [] : [opId]);
  };

  // Reads: shape, values, truncations acknowledged before they began.
  let entriesRead = 0;
  const ackedTruncs = truncates.filter((t) => t.outcome === 'ok').sort((a, b) => done(a) - done(b));
  for (const r of reads) {
    let last = -1;
    const before = ackedTruncs.filter((t) => done(t) < r.invoke).reduce((m, t) => Math.max(m, t.to), 0);
    for (const [p, v] of r.entries) {
      entriesRead++;
      if (p <= last || p < r.from || (r.kind === 'read' && p > r.to)) f.add('read-shape', `${r.kind} op ${r.id} [${r.from}, ${r.to}] returned ${p} after ${last}`, [r.id]);
      last = p;
      if (p < before) f.add('truncated-returned', `${r.kind} op ${r.id} returned ${p}, below a truncation to ${before} acknowledged before it began`, [r.id]);
      see(p, v, `${r.kind} op ${r.id}`, r.id);
    }
  }
  const finalMap = new Map<number, string>();
  for (const [p, v] of h.final.entries) {
    finalMap.set(p, v);
    see(p, v, 'the final read');
  }
  const maxAckedTrunc = ackedTruncs.reduce((m, t) => Math.max(m, t.to), 0);
  if (h.final.begin < maxAckedTrunc) f.add('truncated-returned', `the final log begins at ${h.final.begin}, below the acknowledged truncation to ${maxAckedTrunc}`);
  for (const [p] of h.final.entries) if (p < maxAckedTrunc) f.add('truncated-returned', `the final read returned ${p}, below the acknowledged truncation to ${maxAckedTrunc}`);

  // Each value at most once, at one position.
  for (const [v, ps] of seenAt) if (ps.size > 1) f.add('duplicate', `${JSON.stringify(v)} read at positions ${[...ps].join(', ')}`, byValue.has(v) ? [byValue.get(v)!.id] : []);

  // Acknowledged appends: at their position, in the final log when not truncated, and read nowhere else.
  let ackedCheckedInFinal = 0;
  let ackedBelowFinalBegin = 0;
  const ackedAt = new Map<number, AppendOp>();
  for (const a of acked) {
    const p = a.position!;
    const other = ackedAt.get(p);
    if (other !== undefined) f.add('position-reused', `appends ${other.id} and ${a.id} both acknowledged at ${p}`, [other.id, a.id]);
    ackedAt.set(p, a);
    const ps = seenAt.get(a.value);
    if (ps !== undefined) for (const q of ps) if (q !== p) f.add('moved', `append op ${a.id} acknowledged at ${p}, read at ${q}`, [a.id]);
    if (p < h.final.begin) {
      ackedBelowFinalBegin++;
      continue;
    }
    ackedCheckedInFinal++;
    const got = finalMap.get(p);
    if (got !== a.value) f.add('lost', `append op ${a.id} (${JSON.stringify(a.value)}) acknowledged at ${p}; the final log holds ${got === undefined ? 'nothing' : JSON.stringify(got)} there`, [a.id]);
  }

  // Reads return every append acknowledged before they began, in their range, unless a truncation
  // that may have removed it (any outcome) began before the read ended. Such a read covers the append:
  // for each append below the final log's beginning (truncated by the end: the final read cannot judge
  // it), the reads that cover it judge whether it was lost (below).
  const ackedByPos = [...acked].sort((a, b) => a.position! - b.position!);
  const positions = ackedByPos.map((a) => a.position!);
  const covered = new Map<AppendOp, { last: ReadOp; lastHad: boolean; other?: { read: ReadOp; value: string } }>();
  for (const r of reads) {
    if (r.kind !== 'read') continue;
    const got = new Map(r.entries);
    const cut = truncates.filter((t) => t.invoke < done(r)).reduce((m, t) => Math.max(m, t.to), 0);
    for (let i = lowerBound(positions, r.from); i < ackedByPos.length && positions[i]! <= r.to; i++) {
      const a = ackedByPos[i]!;
      if (done(a) >= r.invoke || a.position! < cut) continue;
      const there = got.get(a.position!);
      if (there !== a.value) f.add('stale-read', `read op ${r.id} [${r.from}, ${r.to}] began after append op ${a.id} was acknowledged at ${a.position} but returned ${got.has(a.position!) ? JSON.stringify(got.get(a.position!)) : 'nothing'} there`, [r.id, a.id]);
      if (a.position! >= h.final.begin) continue;
      const c = covered.get(a);
      const other = there !== undefined && there !== a.value ? { read: r, value: there } : undefined;
      if (c === undefined) covered.set(a, { last: r, lastHad: there === a.value, ...(other === undefined ? {} : { other }) });
      else {
        if (r.invoke > c.last.invoke) Object.assign(c, { last: r, lastHad: there === a.value });
        c.other ??= other;
      }
    }
  }
  // Lost, as reads see it: another value read at the append's position (it cannot change once chosen), or
  // nothing there in the last read that covered it (the log no longer held it, and nothing read later says
  // otherwise). The final read judged the appends it covers above.
  let ackedCheckedInReads = 0;
  for (const [a, c] of covered) {
    ackedCheckedInReads++;
    if (c.other !== undefined) f.add('lost', `append op ${a.id} (${JSON.stringify(a.value)}) acknowledged at ${a.position}; read op ${c.other.read.id} returned ${JSON.stringify(c.other.value)} there`, [a.id, c.other.read.id]);
    else if (!c.lastHad) f.add('lost', `append op ${a.id} (${JSON.stringify(a.value)}) acknowledged at ${a.position}; read op ${c.last.id}, the last read that covered it, returned nothing there`, [a.id, c.last.id]);
  }

  checkWriterOrder(acked, f);
  checkFencing(h, f);
  checkSettled(h, finalMap, f);
  const replicaPositionsCompared = checkReplicas(h, finalMap, byValue, f);

  return {
    valid: f.list.length === 0,
    violations: f.list,
    violationCounts: Object.fromEntries(f.counts),
    stats: {
      appendsOk: acked.length,
      appendsFailed: appends.filter((a) => a.outcome === 'fail').length,
      appendsUnknown: appends.filter((a) => a.outcome === 'unknown').length,
      unknownPresent: appends.filter((a) => a.outcome === 'unknown' && seenAt.has(a.value)).length,
      ackedCheckedInFinal,
      ackedBelowFinalBegin,
      ackedCheckedInReads,
      reads: reads.length,
      entriesRead,
      replicaPositionsCompared,
    },
  };
}

function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One writer's acknowledged positions increase in the order they were acknowledged. */
function checkWriterOrder(acked: readonly AppendOp[], f: Findings): void {
  const byWriter = new Map<string, AppendOp[]>();
  for (const a of acked) {
    let l = byWriter.get(a.writer);
    if (l === undefined) byWriter.set(a.writer, (l = []));
    l.push(a);
  }
  for (const [w, l] of byWriter) {
    l.sort((a, b) => done(a) - done(b) || a.id - b.id);
    for (let i = 1; i < l.length; i++) {
      if (l[i]!.position! <= l[i - 1]!.position!) f.add('writer-order', `writer ${w}: append op ${l[i]!.id} acknowledged at ${l[i]!.position} after op ${l[i - 1]!.id} at ${l[i - 1]!.position}`, [l[i - 1]!.id, l[i]!.id]);
    }
  }
}

/**
 * A fenced writer gets nothing acknowledged: (1) after it saw itself fenced, and (2) for an operation it
 * began after another writer's election that began after this writer's own latest election had finished
 * and ended before the operation began: that election's quorum had promised a higher proposal to every
 * message the operation could send.
 */
function checkFencing(h: History, f: Findings): void {
  const fencedAt = new Map<string, number>();
  for (const e of h.fences) fencedAt.set(e.writer, Math.min(fencedAt.get(e.writer) ?? Infinity, e.time));
  const elections = h.ops.filter(isElect).filter((e) => e.outcome === 'ok');
  const own = new Map<string, number[]>();
  for (const e of elections) {
    let l = own.get(e.writer);
    if (l === undefined) own.set(e.writer, (l = []));
    l.push(done(e));
  }
  for (const o of h.ops) {
    if (o.outcome !== 'ok' || (o.kind !== 'append' && o.kind !== 'truncate')) continue;
    const t = fencedAt.get(o.writer);
    if (t !== undefined && done(o) > t) f.add('ack-after-fence', `writer ${o.writer}: ${o.kind} op ${o.id} acknowledged at time ${done(o).toFixed(1)}, after the writer saw itself fenced at ${t.toFixed(1)}`, [o.id]);
    const mine = (own.get(o.writer) ?? []).filter((c) => c < o.invoke);
    const since = mine.length === 0 ? -Infinity : Math.max(...mine);
    const rival = elections.find((e) => e.writer !== o.writer && e.invoke > since && done(e) < o.invoke);
    if (rival !== undefined) f.add('ack-after-fence', `writer ${o.writer}: ${o.kind} op ${o.id} began after writer ${rival.writer} was elected (op ${rival.id}) and was acknowledged`, [rival.id, o.id]);
  }
}

/** reelect()'s verdicts are final: a write it called written is in the log there, one it called not written is not. */
function checkSettled(h: History, finalMap: ReadonlyMap<number, string>, f: Findings): void {
  const unknownAt = new Map<string, Map<number, AppendOp>>();
  for (const a of h.ops) {
    if (a.kind !== 'append' || a.outcome !== 'unknown' || a.position === undefined) continue;
    let m = unknownAt.get(a.writer);
    if (m === undefined) unknownAt.set(a.writer, (m = new Map()));
    m.set(a.position, a);
  }
  for (const r of h.ops) {
    if (r.kind !== 'reelect' || r.outcome !== 'ok' || r.settled === undefined) continue;
    for (const s of r.settled) {
      if (s.kind !== 'append' || s.position < h.final.begin) continue;
      const a = unknownAt.get(r.writer)?.get(s.position);
      if (a === undefined) continue;
      const there = finalMap.get(s.position) === a.value;
      if (there !== s.written) f.add('settle-wrong', `reelect op ${r.id} settled position ${s.position} as ${s.written ? 'written' : 'not written'}; the final log ${there ? 'holds' : 'does not hold'} append op ${a.id} there`, [r.id, a.id]);
    }
  }
}

/** Replicas agree on every learned position two of them hold, and with the final read. */
function checkReplicas(h: History, finalMap: ReadonlyMap<number, string>, byValue: ReadonlyMap<string, AppendOp>, f: Findings): number {
  let compared = 0;
  const at = new Map<number, { id: number; kind: string; value: string | undefined }>();
  const finalEnd = h.final.entries.length === 0 ? -1 : h.final.entries[h.final.entries.length - 1]![0];
  // Below a replica's beginning its positions are truncated (tombstones, or gone): compare above every beginning.
  const from = Math.max(h.final.begin, ...h.replicas.map((r) => r.begin));
  for (const r of h.replicas) {
    for (const [p, kind, value] of r.entries) {
      // A record the replica knows is damaged is never served (it is repaired from the others): not a divergence.
      if (p < from || kind === 'lost') continue;
      const prev = at.get(p);
      if (prev === undefined) at.set(p, { id: r.id, kind, value });
      else {
        compared++;
        if (prev.kind !== kind || prev.value !== value) f.add('replica-diverge', `position ${p}: replica ${prev.id} learned ${prev.kind} ${JSON.stringify(prev.value ?? '')}, replica ${r.id} learned ${kind} ${JSON.stringify(value ?? '')}`);
      }
      if (kind === 'append' && value !== undefined && !byValue.has(value)) f.add('phantom', `replica ${r.id} learned ${JSON.stringify(value.slice(0, 60))} at ${p}, which no one appended`);
      if (p < h.final.begin || p > finalEnd) continue;
      const fv = finalMap.get(p);
      if (kind === 'append' ? fv !== value : fv !== undefined) f.add('replica-diverge', `position ${p}: replica ${r.id} learned ${kind} ${JSON.stringify(value ?? '')}, the final read returned ${fv === undefined ? 'no entry' : JSON.stringify(fv)}`);
    }
  }
  return compared;
}
