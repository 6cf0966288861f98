/**
 * The console's event timeline: what changed between two samples of the
 * cluster (a replica went down or came back, rejoined with a new disk, the
 * writer changed, the log was truncated, corruption was found or repaired).
 * Pure: two observations in, events out.
 */
import type { MemberRow } from './members-view.js';

export type EventKind = 'down' | 'up' | 'status' | 'rejoined' | 'writer' | 'truncated' | 'corruption' | 'repaired' | 'started';

export interface ConsoleEvent {
  /** Wall-clock time, ISO 8601. */
  readonly at: string;
  readonly kind: EventKind;
  readonly text: string;
}

export interface Observation {
  readonly rows: readonly MemberRow[];
  readonly writerProposal: number | null;
  /** This replica's begin and corrupted positions. */
  readonly selfId: number;
  readonly selfBegin: number;
  readonly lostPositions: number;
}

export function changes(prev: Observation, cur: Observation): { kind: EventKind; text: string }[] {
  const out: { kind: EventKind; text: string }[] = [];
  const before = new Map(prev.rows.map((r) => [r.id, r]));
  for (const r of cur.rows) {
    const p = before.get(r.id);
    if (p === undefined) continue;
    if (p.status !== r.status) {
      const kind = r.status === 'UNREACHABLE' ? 'down' : p.status === 'UNREACHABLE' ? 'up' : 'status';
      out.push({ kind, text: `replica ${r.id}: ${p.status} → ${r.status}` });
    }
    if (p.generation !== null && r.generation !== null && r.generation > p.generation) {
      out.push({ kind: 'rejoined', text: `replica ${r.id} rejoined with a new disk (generation ${p.generation} → ${r.generation})` });
    }
  }
  if (cur.writerProposal !== null && cur.writerProposal !== prev.writerProposal) {
    out.push({ kind: 'writer', text: prev.writerProposal === null ? `writer seen: proposal ${cur.writerProposal}` : `writer changed: proposal ${prev.writerProposal} → ${cur.writerProposal}` });
  }
  if (cur.selfBegin > prev.selfBegin) out.push({ kind: 'truncated', text: `log truncated on replica ${cur.selfId}: begins at ${cur.selfBegin} (was ${prev.selfBegin})` });
  if (cur.lostPositions > prev.lostPositions) out.push({ kind: 'corruption', text: `corruption found on replica ${cur.selfId}: ${cur.lostPositions - prev.lostPositions} positions with a damaged record` });
  if (cur.lostPositions < prev.lostPositions) out.push({ kind: 'repaired', text: `replica ${cur.selfId} repaired ${prev.lostPositions - cur.lostPositions} corrupted positions from its peers` });
  return out;
}
