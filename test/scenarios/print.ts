/**
 * How a scenario prints what it sees: records, operation results, a replica's
 * log. Short, one line per thing, and stable (no addresses, no wall time), so
 * that an expected output reads as a story and a change shows as a small diff.
 */
import { actionKey } from '../../src/sim/trace.js';
import type { Action, PersistRecord } from '../../src/core/types.js';
import type { OpResult } from '../../src/core/writer.js';
import type { MemoryStore } from '../../src/storage/memory-store.js';

export function describeRecord(r: PersistRecord): string {
  switch (r.type) {
    case 'metadata': {
      const m = r.metadata;
      const recorded = Object.entries(m.recorded ?? {}).map(([id, g]) => `r${id}:g${g.generation}`);
      return `metadata ${m.status} promised b${m.promised} g${m.generation ?? 0}${recorded.length > 0 ? ` recorded ${recorded.join(',')}` : ''}`;
    }
    case 'promise':
      return `promise@${r.position} b${r.promised}`;
    case 'accept':
      return `accept@${r.position} b${r.proposal} ${actionKey(r.action)}`;
    case 'commit':
      return `commit b${r.proposal} [${r.from},${r.to}]`;
    case 'learn':
      return `learn@${r.position} ${actionKey(r.action)}`;
  }
}

export function describeOp(action: Action | undefined, r: OpResult): string {
  const what = action === undefined ? '' : `${actionKey(action)} `;
  if (r.ok) return `${what}ok at ${r.position}`;
  const details = [r.proposal !== undefined ? `b${r.proposal}` : '', r.unknownAt !== undefined ? `unknown at ${r.unknownAt}` : '', r.position !== undefined ? `at ${r.position}` : ''].filter((s) => s !== '');
  return `${what}failed: ${r.error}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
}

/**
 * One replica's state in one line: status, promise, generation, bounds, then
 * each slot as `p=value` (learned) or `p~value/bN` (accepted under N, not
 * learned); `p=?` is a lost (damaged) record.
 */
export function describeReplica(name: string, store: MemoryStore, up: boolean): string {
  const m = store.metadata();
  const slots: string[] = [];
  for (const p of store.positions(store.begin(), store.end())) {
    const s = store.slot(p);
    if (s === undefined) continue;
    const a = store.action(p);
    const v = a === undefined ? '-' : a === 'lost' ? '?' : actionKey(a);
    if (s.learned) slots.push(`${p}=${v}`);
    else if (s.accepted !== undefined && s.accepted > 0) slots.push(`${p}~${v}/b${s.accepted}`);
  }
  const state = `${up ? '' : 'DOWN '}${m.status} b${m.promised} g${m.generation ?? 0} begin ${store.begin()} end ${store.end()} learned ${store.learnedThrough()}`;
  return `${name}: ${state}${slots.length > 0 ? ` | ${slots.join(' ')}` : ''}`;
}
