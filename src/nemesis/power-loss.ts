/**
 * A power loss, done to a data directory whose replica was SIGKILLed: every
 * file goes back to what sync-hook.ts saw made durable. Modelled, from the
 * hook's journal (DIR.durable.jsonl beside DIR):
 *
 * - A file's bytes past its last fdatasync/fsync are gone (the file is cut to
 *   the size it had when that sync began; to 0 if it was never synced; an
 *   ftruncate since lowers that).
 * - A file whose name no fsync of DIR covered is gone altogether (created,
 *   maybe written and synced, but its directory entry never made durable).
 *
 * Not modelled (docs/nemesis.md): unsynced bytes that survive partly or
 * reordered (torn pages, a later write durable before an earlier one), and
 * unlinks or ftruncates undone by the power loss (a deleted segment coming
 * back). The storage layer renames nothing, so renames are not modelled either.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** The journal of `dir` (sync-hook.ts writes it, powerLoss reads it). */
export function journalPath(dir: string): string {
  const d = resolve(dir);
  return join(dirname(d), `${basename(d)}.durable.jsonl`);
}

export interface DurableState {
  /** Each file's durable length. */
  readonly lengths: ReadonlyMap<string, number>;
  /** The names the last fsync of the directory covered (undefined: it was never synced). */
  readonly names: ReadonlySet<string> | undefined;
}

/** Replays a journal (pure). A torn last line (the writer was SIGKILLed in it) is ignored. */
export function durableState(journal: string): DurableState {
  const lengths = new Map<string, number>();
  let names: Set<string> | undefined;
  for (const line of journal.split('\n')) {
    if (line === '') continue;
    let e: { f?: string; n?: number; t?: number; d?: string[] };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      continue;
    }
    if (e.d !== undefined) names = new Set(e.d);
    else if (e.f !== undefined && e.n !== undefined) lengths.set(e.f, e.n);
    else if (e.f !== undefined && e.t !== undefined) lengths.set(e.f, Math.min(lengths.get(e.f) ?? 0, e.t));
  }
  return { lengths, names };
}

/** What a power loss does to one file of size `size` (pure). */
export function fate(s: DurableState, name: string, size: number): { kind: 'remove' } | { kind: 'cut'; to: number } | { kind: 'keep' } {
  if (s.names === undefined || !s.names.has(name)) return { kind: 'remove' };
  const to = Math.min(size, s.lengths.get(name) ?? 0);
  return to < size ? { kind: 'cut', to } : { kind: 'keep' };
}

/**
 * Applies a power loss to `dir` (its replica must be down) and rewrites the journal to what survived.
 * Returns one line on what was lost (for the summary).
 */
export function powerLoss(dir: string): string {
  if (!existsSync(dir)) return 'no data directory';
  const j = journalPath(dir);
  const s = durableState(existsSync(j) ? readFileSync(j, 'utf8') : '');
  const lost: string[] = [];
  const kept: { name: string; size: number }[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = statSync(path);
    if (!st.isFile()) continue;
    const f = fate(s, name, st.size);
    if (f.kind === 'remove') {
      unlinkSync(path);
      lost.push(`${name} removed (${st.size} B)`);
      continue;
    }
    if (f.kind === 'cut') {
      truncateSync(path, f.to);
      lost.push(`${name} ${st.size}->${f.to}`);
    }
    kept.push({ name, size: f.kind === 'cut' ? f.to : st.size });
  }
  // What survived is durable now: the next power loss starts from it.
  writeFileSync(j, [JSON.stringify({ d: kept.map((k) => k.name) }), ...kept.map((k) => JSON.stringify({ f: k.name, n: k.size }))].join('\n') + '\n');
  return lost.length === 0 ? 'nothing unsynced' : lost.join(', ');
}

/** A wiped data directory starts a new journal. */
export function forgetJournal(dir: string): void {
  rmSync(journalPath(dir), { force: true });
}
