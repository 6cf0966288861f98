/**
 * Comparing replicas' copies of the chosen log (divergence checks): the
 * logic shared by a replica's background check (divergence-check.ts) and by
 * `replog check` (src/cli/check.ts), independent of where the digests come
 * from (a replica's own store, or a digest request over the wire).
 *
 * - compareSpan: the digests of one span on every side, over the part of it
 *   that every side has learned; sides whose digests differ from the
 *   majority's are bisected down to the first divergent position.
 * - firstDivergence: the bisection itself (k-ary: `parts` sub-ranges a
 *   round, so 64 Ki positions take 4 rounds of 16).
 *
 * Positions that one side holds but cannot read (a corrupted record, which
 * storage repairs from the others) are skipped, not counted as divergence;
 * positions below a side's beginning (truncated there) or past its learned
 * prefix are never compared.
 */
import type { DigestReply } from '../net/digest-codec.js';
import type { DigestStop } from '../storage/range-digest.js';

/** One replica's copy, as the comparison sees it: one bounded digest call at a time. */
export interface DigestSide {
  readonly id: number;
  /**
   * The digest of [from, to) continued from `seed`, as far as the side got in one call (a reply may
   * stop early: see DigestStop). Rejects when the side cannot answer (unreachable, timed out, bad reply).
   */
  digest(from: number, to: number, seed: number): Promise<DigestReply>;
}

/** A side's digest of a range, chained over as many calls as its bounds needed. */
export interface FullDigest {
  readonly through: number;
  readonly count: number;
  readonly crc: number;
  readonly stop: DigestStop;
  readonly begin: number;
  readonly learnedThrough: number;
}

/** A divergence found between two sides. */
export interface Divergence {
  /** The first position of the range compared where `side` differs from `reference`. */
  readonly position: number;
  /** A side that agrees with the most others (the majority's copy, as far as this comparison knows). */
  readonly reference: number;
  readonly side: number;
}

export interface SpanOutcome {
  readonly from: number;
  /** Every position of [from, through) was compared (but `skipped`). */
  readonly through: number;
  /** Positions not compared: held but unreadable on some side (repaired by storage, then compared again). */
  readonly skipped: readonly number[];
  /** Sides whose copy differs, each with its first divergent position (empty if all agree). */
  readonly divergences: readonly Divergence[];
  /**
   * Why the comparison ended before `to`, if it did: 'unlearned' (a side has not learned further), 'begin'
   * (a side truncated past `from` meanwhile), 'inconclusive' (the digests changed during the bisection).
   */
  readonly stop?: 'unlearned' | 'begin' | 'inconclusive';
}

/** Thrown when a side answers something that does not fit what it was asked. */
export class DigestProtocolError extends Error {}

/** The digest of [from, to) on `side`, over as many calls as it takes (each call is bounded on the side). */
export async function fullDigest(side: DigestSide, from: number, to: number): Promise<FullDigest> {
  let at = from;
  let crc = 0;
  let count = 0;
  for (;;) {
    const r = await side.digest(at, to, crc);
    if (r.from !== at || r.through < at || r.through > to) {
      throw new DigestProtocolError(`replica ${side.id} answered a digest of [${r.from}, ${r.through}) for [${at}, ${to})`);
    }
    count += r.count;
    crc = r.crc;
    at = r.through;
    if (r.stop === 'bound') {
      if (r.through === r.from) throw new DigestProtocolError(`replica ${side.id} made no progress on a digest at ${at}`);
      if (at < to) continue;
    }
    const stop = r.stop === 'bound' ? 'end' : r.stop;
    if (stop === 'end' && at !== to) throw new DigestProtocolError(`replica ${side.id} ended a digest of [${from}, ${to}) at ${at}`);
    return { through: at, count, crc, stop, begin: r.begin, learnedThrough: r.learnedThrough };
  }
}

function same(a: FullDigest, b: FullDigest): boolean {
  return a.through === b.through && a.count === b.count && a.crc === b.crc;
}

/**
 * The first position of [from, to) where `a` and `b` hold different chosen values, found by splitting
 * the range into `parts` sub-ranges a round; undefined if the sub-ranges all agree or stop short (the
 * data changed meanwhile: a truncation, a repaired record), which makes the result inconclusive.
 */
export async function firstDivergence(a: DigestSide, b: DigestSide, from: number, to: number, parts = 16): Promise<number | undefined> {
  let lo = from;
  let hi = to;
  while (hi - lo > 1) {
    const step = Math.ceil((hi - lo) / Math.max(2, parts));
    let found = false;
    for (let s = lo; s < hi; s += step) {
      const e = Math.min(hi, s + step);
      const [da, db] = await Promise.all([fullDigest(a, s, e), fullDigest(b, s, e)]);
      if (da.stop !== 'end' || db.stop !== 'end') return undefined;
      if (!same(da, db)) {
        lo = s;
        hi = e;
        found = true;
        break;
      }
    }
    if (!found) return undefined;
  }
  if (hi - lo !== 1) return undefined;
  const [da, db] = await Promise.all([fullDigest(a, lo, hi), fullDigest(b, lo, hi)]);
  return da.stop === 'end' && db.stop === 'end' && !same(da, db) ? lo : undefined;
}

/**
 * Compares every side's copy of [from, to) (a span: the caller keeps it to tens of thousands of
 * positions; each side's digest of it is chained over bounded calls). Every side must reach `from`
 * (from >= each side's beginning): a side truncated past it ends the comparison with stop 'begin'.
 */
export async function compareSpan(sides: readonly DigestSide[], from: number, to: number, parts = 16): Promise<SpanOutcome> {
  const skipped: number[] = [];
  let cur = from;
  while (cur < to) {
    let ds = await Promise.all(sides.map((s) => fullDigest(s, cur, to)));
    const t = Math.min(...ds.map((d) => d.through));
    if (t === cur) {
      // Someone stopped at `cur` itself: unreadable there (skip it), or not learned / truncated (stop).
      const stops = ds.filter((d) => d.through === cur).map((d) => d.stop);
      if (stops.includes('begin')) return { from, through: cur, skipped, divergences: [], stop: 'begin' };
      if (stops.includes('unlearned')) return { from, through: cur, skipped, divergences: [], stop: 'unlearned' };
      skipped.push(cur);
      cur += 1;
      continue;
    }
    // Compare over what every side covered.
    if (ds.some((d) => d.through !== t)) ds = await Promise.all(sides.map((s, i) => (ds[i]!.through === t ? ds[i]! : fullDigest(s, cur, t))));
    if (ds.some((d) => d.through !== t)) {
      return { from, through: cur, skipped, divergences: [], stop: 'inconclusive' };
    }
    const groups = new Map<string, number[]>();
    ds.forEach((d, i) => {
      const key = `${d.count}:${d.crc}`;
      const g = groups.get(key);
      if (g === undefined) groups.set(key, [i]);
      else g.push(i);
    });
    if (groups.size > 1) {
      // The reference: the largest group (ties: the one holding the first side, e.g. the checking replica).
      const ordered = [...groups.values()].sort((x, y) => y.length - x.length || x[0]! - y[0]!);
      const ref = sides[ordered[0]![0]!]!;
      const divergences: Divergence[] = [];
      for (const g of ordered.slice(1)) {
        for (const i of g) {
          const side = sides[i]!;
          const position = await firstDivergence(ref, side, cur, t, parts);
          if (position === undefined) return { from, through: cur, skipped, divergences, stop: 'inconclusive' };
          divergences.push({ position, reference: ref.id, side: side.id });
        }
      }
      return { from, through: t, skipped, divergences };
    }
    cur = t;
  }
  return { from, through: cur, skipped, divergences: [] };
}
