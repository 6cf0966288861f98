/**
 * A small linearizability checker (after Wing & Gong, with Lowe's memoization
 * as in Knossos and Porcupine) for the store's single-key operations: the
 * model is one register holding a value and the revision that wrote it.
 *
 *   read            -> { value, rev }   (value undefined and rev 0: no key)
 *   write(v)        -> rev              (a put; revisions only grow)
 *   cas(expect, v)  -> ok: rev | fail: { value, rev }   (put with ifModRevision)
 *
 * An operation that failed with an unknown outcome never returned: it may
 * take effect at any point after its call, or never, and its revision is
 * whatever a later read shows (the model holds "some revision above n" until
 * an observation binds it). Keys are independent, so a history is checked
 * per key (P-compositionality).
 */

export type Call =
  | { readonly kind: 'read' }
  | { readonly kind: 'write'; readonly value: string }
  | { readonly kind: 'cas'; readonly expect: number; readonly value: string };

export type Ret =
  | { readonly kind: 'read'; readonly value: string | undefined; readonly rev: number }
  | { readonly kind: 'write'; readonly rev: number }
  | { readonly kind: 'cas'; readonly ok: true; readonly rev: number }
  | { readonly kind: 'cas'; readonly ok: false; readonly value: string | undefined; readonly rev: number }
  | { readonly kind: 'unknown' };

export interface Op {
  readonly key: string;
  readonly call: Call;
  /** `unknown`: the operation failed with an unknown outcome. */
  readonly ret: Ret;
  /** Times: any increasing clock; `end` of an unknown op is ignored (Infinity). */
  readonly start: number;
  readonly end: number;
}

/** The register: `rev` exact, or `above` when an unknown write set it to some revision above that. */
interface Reg {
  readonly value: string | undefined;
  readonly rev: number;
  readonly exact: boolean;
}

export interface CheckResult {
  readonly ok: boolean;
  /** For a failure: the key and the operations of its history (for the report). */
  readonly key?: string;
  readonly explored: number;
}

export function checkHistory(ops: readonly Op[], budget = 5_000_000): CheckResult {
  const byKey = new Map<string, Op[]>();
  for (const op of ops) (byKey.get(op.key) ?? byKey.set(op.key, []).get(op.key)!).push(op);
  let explored = 0;
  for (const [key, list] of byKey) {
    const r = checkKey(list, budget);
    explored += r.explored;
    if (!r.ok) return { ok: false, key, explored };
  }
  return { ok: true, explored };
}

function checkKey(ops: readonly Op[], budget: number): { ok: boolean; explored: number } {
  const n = ops.length;
  const end = ops.map((o) => (o.ret.kind === 'unknown' ? Infinity : o.end));
  const done = new Uint8Array(n);
  const seen = new Set<string>();
  let explored = 0;
  // Unknown ops need not be linearized at all: the search succeeds once every known op is.
  const known = ops.filter((o) => o.ret.kind !== 'unknown').length;

  const dfs = (reg: Reg, linearizedKnown: number): boolean => {
    if (linearizedKnown === known) return true;
    if (++explored > budget) throw new Error(`linearizability search over ${budget} steps: history too large`);
    const memo = `${Buffer.from(done).toString('base64')}|${reg.value ?? '\u0000'}|${reg.rev}|${reg.exact}`;
    if (seen.has(memo)) return false;
    seen.add(memo);
    // An op may go next only if no pending op returned before it was called.
    let horizon = Infinity;
    for (let i = 0; i < n; i++) if (!done[i]) horizon = Math.min(horizon, end[i]!);
    for (let i = 0; i < n; i++) {
      if (done[i] || ops[i]!.start > horizon) continue;
      const next = step(reg, ops[i]!);
      if (next === undefined) continue;
      done[i] = 1;
      if (dfs(next, linearizedKnown + (ops[i]!.ret.kind === 'unknown' ? 0 : 1))) return true;
      done[i] = 0;
    }
    return false;
  };
  const ok = dfs({ value: undefined, rev: 0, exact: true }, 0);
  return { ok, explored };
}

/** Whether the register allows `op` now, and the register after it. */
function step(reg: Reg, op: Op): Reg | undefined {
  const { call, ret } = op;
  const matches = (value: string | undefined, rev: number): Reg | undefined => {
    if (value !== reg.value) return undefined;
    if (reg.exact) return rev === reg.rev ? reg : undefined;
    return rev > reg.rev ? { value, rev, exact: true } : undefined;
  };
  const newer = (rev: number) => rev > reg.rev;
  if (ret.kind === 'unknown') {
    if (call.kind === 'read') return reg;
    // Took effect (the alternative, never taking effect, is leaving it out of the linearization).
    if (call.kind === 'cas') {
      if (reg.exact ? reg.rev !== call.expect : call.expect <= reg.rev) return undefined;
      return { value: call.value, rev: call.expect, exact: false };
    }
    return { value: call.value, rev: reg.rev, exact: false };
  }
  switch (call.kind) {
    case 'read':
      return ret.kind === 'read' ? matches(ret.value, ret.rev) : undefined;
    case 'write':
      return ret.kind === 'write' && newer(ret.rev) ? { value: call.value, rev: ret.rev, exact: true } : undefined;
    case 'cas':
      if (ret.kind !== 'cas') return undefined;
      if (ret.ok) {
        const held = reg.exact ? reg.rev === call.expect : call.expect > reg.rev;
        return held && ret.rev > call.expect ? { value: call.value, rev: ret.rev, exact: true } : undefined;
      }
      // A failed condition observed the register: it must differ from the expectation.
      if (ret.rev === call.expect) return undefined;
      return matches(ret.value, ret.rev);
  }
}
