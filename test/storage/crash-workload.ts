/**
 * The workload of the crash tests, shared by the child that writes it and the
 * parent that checks it: what each position holds is a function of the
 * position alone, so any byte out of place is detected.
 */
import type { Action, PersistRecord, Position } from '../../src/core/types.js';

/** Every TRUNCATE_EVERY-th position is a learned truncate that drops positions older than TRUNCATE_KEEP. */
export const TRUNCATE_EVERY = 97;
export const TRUNCATE_KEEP = 150;

export function expectedAction(p: Position): Action {
  if (p % TRUNCATE_EVERY === TRUNCATE_EVERY - 1 && p > TRUNCATE_KEEP) return { kind: 'truncate', to: p - TRUNCATE_KEEP };
  const n = p % 13 === 5 ? 5000 + (p % 300) : (p * 7919) % 300;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = (p * 31 + i) & 0xff;
  return { kind: 'append', data };
}

/** The records that write position p. */
export function recordsFor(p: Position): PersistRecord[] {
  const action = expectedAction(p);
  if (action.kind === 'truncate') return [{ type: 'learn', position: p, action }];
  const rs: PersistRecord[] = [{ type: 'accept', position: p, proposal: 1, action }];
  if (p % 10 === 0) rs.push({ type: 'commit', from: p, to: p, proposal: 1 });
  return rs;
}
