/**
 * The simulated clock and its event queue. Time (integer milliseconds) moves
 * only when the next event is taken: nothing in the simulator reads real time.
 * Events at the same time run in the order they were scheduled (a sequence
 * number breaks ties), which keeps every run deterministic.
 */

interface Slot<E> {
  readonly at: number;
  readonly seq: number;
  readonly event: E;
}

export class EventQueue<E> {
  private readonly heap: Slot<E>[] = [];
  private seq = 0;
  private nowMs = 0;

  /** The current simulated time in ms. */
  get now(): number {
    return this.nowMs;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Schedules an event `delayMs` (>= 0, rounded to whole ms) from now. */
  schedule(delayMs: number, event: E): void {
    if (!(delayMs >= 0)) throw new Error(`negative delay ${delayMs}`);
    this.push({ at: this.nowMs + Math.round(delayMs), seq: this.seq++, event });
  }

  /** Takes the next event and advances the clock to its time; undefined when empty. */
  pop(): E | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
    this.nowMs = top.at;
    return top.event;
  }

  /** Time of the next event, or undefined. */
  peekTime(): number | undefined {
    return this.heap[0]?.at;
  }

  private less(x: Slot<E>, y: Slot<E>): boolean {
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }

  private push(s: Slot<E>): void {
    const h = this.heap;
    h.push(s);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
