/**
 * Records a history of concurrent single-key operations on state stores, for
 * the linearizability checker: clients on writer stores put and
 * compare-and-set, clients on followers read linearizably, and halfway a new
 * writer store takes over (fencing the first, whose clients keep reading).
 * A write that failed with outcome `not-written` had no effect and is left
 * out; any other failure is an unknown outcome.
 */
import { performance } from 'node:perf_hooks';
import type { StateStore } from '../../src/state/store.js';
import type { Op } from './lincheck.js';

export interface HistoryPlan {
  readonly writers: StateStore[];
  /** Opens a store that takes the writer over, halfway. */
  readonly openWriter?: () => Promise<StateStore>;
  readonly readers: StateStore[];
  readonly keys: readonly string[];
  readonly opsPerClient: number;
  /** Clients per store. */
  readonly clientsPerStore?: number;
  /** A seeded random in [0, 1). */
  readonly random?: () => number;
}

export async function recordHistory(plan: HistoryPlan): Promise<Op[]> {
  const ops: Op[] = [];
  const random = plan.random ?? Math.random;
  const perStore = plan.clientsPerStore ?? 3;
  let clientId = 0;
  let half: () => void = () => {};
  const halfway = new Promise<void>((r) => (half = r));
  let count = 0;
  const total = (plan.writers.length + plan.readers.length) * perStore * plan.opsPerClient;

  const client = async (store: StateStore, writes: boolean) => {
    const id = clientId++;
    const lastRev = new Map<string, number>();
    for (let i = 0; i < plan.opsPerClient; i++) {
      // Paced, so that every client's operations spread over the whole run and overlap the others'.
      await new Promise((r) => setTimeout(r, random() * 3));
      if (++count === Math.floor(total / 2)) half();
      const key = plan.keys[Math.floor(random() * plan.keys.length)]!;
      const value = `c${id}-${i}`;
      const start = performance.now();
      const choice = random();
      try {
        if (!writes || choice < 0.4) {
          const kv = await store.get(key);
          const rev = kv?.modRevision ?? 0;
          lastRev.set(key, rev);
          ops.push({ key, call: { kind: 'read' }, ret: { kind: 'read', value: kv === undefined ? undefined : Buffer.from(kv.value).toString(), rev }, start, end: performance.now() });
        } else if (choice < 0.7) {
          const r = await store.put(key, value);
          if (!r.ok) throw new Error('an unconditional put failed its (absent) condition');
          lastRev.set(key, r.revision);
          ops.push({ key, call: { kind: 'write', value }, ret: { kind: 'write', rev: r.revision }, start, end: performance.now() });
        } else {
          const expect = lastRev.get(key) ?? 0;
          const r = await store.put(key, value, { ifModRevision: expect });
          const ret = r.ok
            ? ({ kind: 'cas', ok: true, rev: r.revision } as const)
            : ({ kind: 'cas', ok: false, value: r.current === undefined ? undefined : Buffer.from(r.current.value).toString(), rev: r.current?.modRevision ?? 0 } as const);
          lastRev.set(key, ret.rev);
          ops.push({ key, call: { kind: 'cas', expect, value }, ret, start, end: performance.now() });
        }
      } catch (err) {
        const outcome = (err as { outcome?: string }).outcome;
        if (!writes || choice < 0.4) continue; // a failed read observed nothing
        if (outcome !== 'not-written') {
          const call = choice < 0.7 ? ({ kind: 'write', value } as const) : ({ kind: 'cas', expect: lastRev.get(key) ?? 0, value } as const);
          ops.push({ key, call, ret: { kind: 'unknown' }, start, end: Infinity });
        }
        // The store lost the writer: this client reads from now on.
        writes = false;
      }
    }
  };

  const running: Promise<void>[] = [];
  for (const s of plan.writers) for (let c = 0; c < perStore; c++) running.push(client(s, true));
  for (const s of plan.readers) for (let c = 0; c < perStore; c++) running.push(client(s, false));
  if (plan.openWriter !== undefined) {
    await halfway;
    const s = await plan.openWriter();
    const late = Array.from({ length: perStore }, () => client(s, true));
    await Promise.all([...running, ...late]);
    await s.close();
  } else await Promise.all(running);
  for (const s of [...plan.writers, ...plan.readers]) await s.close();
  return ops;
}
