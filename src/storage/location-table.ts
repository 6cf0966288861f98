/**
 * Where each position's action lives on disk (a packed segment + offset,
 * see segment.ts), for every position the store holds. Positions are dense
 * and mostly increasing, so they are kept in fixed chunks of float64 slots
 * instead of a Map: no per-position objects (a packed location above 2^31 is
 * a heap number in a Map), no rehashing of a huge table as the log grows, and
 * 8 bytes per position.
 */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;

export class LocationTable {
  private readonly chunks = new Map<number, Float64Array>();
  private count = 0;

  /** Positions with a location. */
  get size(): number {
    return this.count;
  }

  get(position: number): number | undefined {
    const c = this.chunks.get(Math.floor(position / CHUNK));
    if (c === undefined) return undefined;
    const v = c[position % CHUNK]!;
    return Number.isNaN(v) ? undefined : v;
  }

  set(position: number, location: number): void {
    const k = Math.floor(position / CHUNK);
    let c = this.chunks.get(k);
    if (c === undefined) {
      c = new Float64Array(CHUNK).fill(NaN);
      this.chunks.set(k, c);
    }
    const i = position % CHUNK;
    if (Number.isNaN(c[i]!)) this.count++;
    c[i] = location;
  }

  delete(position: number): void {
    const c = this.chunks.get(Math.floor(position / CHUNK));
    if (c === undefined) return;
    const i = position % CHUNK;
    if (!Number.isNaN(c[i]!)) {
      c[i] = NaN;
      this.count--;
    }
  }

  /** Forgets every position below `begin`. */
  dropBelow(begin: number): void {
    const first = Math.floor(begin / CHUNK);
    for (const [k, c] of this.chunks) {
      if (k > first) continue;
      const end = k < first ? CHUNK : begin % CHUNK;
      for (let i = 0; i < end; i++) if (!Number.isNaN(c[i]!)) this.count--;
      if (k < first) this.chunks.delete(k);
      else c.fill(NaN, 0, end);
    }
  }
}
