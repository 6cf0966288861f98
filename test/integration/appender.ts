/**
 * An application's appends in a test: one after another through one writer until stopped, keeping what
 * was acknowledged and what failed (the first failure ends it), for tests that change the cluster under
 * an appending application and then read every acknowledged append back.
 */
import type { Writer } from '../../src/client/index.js';

export interface Appender {
  readonly acked: string[];
  readonly failures: string[];
  stop(): Promise<void>;
}

/** Appends `p<n>` one after another until stopped; keeps what was acknowledged and what failed. */
export function appender(writer: Writer<Uint8Array>, prefix: string): Appender {
  const acked: string[] = [];
  const failures: string[] = [];
  let running = true;
  let n = 0;
  const done = (async () => {
    while (running) {
      const v = `${prefix}${n++}`;
      try {
        await writer.append(v);
        acked.push(v);
      } catch (err) {
        failures.push(`${v}: ${(err as Error).message}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    acked,
    failures,
    async stop() {
      running = false;
      await done;
    },
  };
}


/** `w` whose appends start no more often than a batch every `ms` (the loop awaits each batch). */
export function pacedWriter(w: { append(d: string): Promise<number> }, ms: number): { append(d: string): Promise<number> } {
  let next = 0;
  return {
    append: async (d) => {
      const now = Date.now();
      if (now < next) await new Promise((r) => setTimeout(r, next - now));
      else next = now + ms;
      return w.append(d);
    },
  };
}
