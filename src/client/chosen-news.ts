/**
 * Wakes this client's waiting tails as soon as one of its own writers has a
 * position chosen, instead of at their next poll. A tail of entries written
 * through the same client (an event-sourced service that writes and follows
 * its own log) then sees them one read after the append resolves. Tails of
 * other clients' writes still poll (replicas push nothing: see
 * docs/library.md, "Pushed tails").
 */
import type { Position } from '../core/types.js';

export class ChosenNews {
  private readonly waiting = new Set<{ readonly from: Position; readonly wake: () => void }>();
  /** The highest position this client's writers saw chosen. */
  private highest = -1;

  /** A writer of this client had every position up to `position` chosen. */
  chosen(position: Position): void {
    if (position <= this.highest) return;
    this.highest = position;
    for (const w of this.waiting) if (w.from <= position) w.wake();
  }

  /** What the writers had chosen so far: a read made after taking it sees all of that. */
  get mark(): Position {
    return this.highest;
  }

  /**
   * Resolves after `ms`, on `signal`, or once a position at or above `from`
   * is chosen by this client: at once if one was since `mark` (the read that
   * came back empty may have left before it), never for news older than
   * `mark` (no busy loop of reads that cannot see more).
   */
  wait(from: Position, mark: Position, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || (this.highest > mark && this.highest >= from)) return resolve();
      const entry = { from, wake: () => done() };
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiting.delete(entry);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.waiting.add(entry);
    });
  }
}
