/**
 * Watches: the changes to a key or a prefix from a revision on, as an async
 * iterator of per-revision batches (every event of one entry together, so a
 * watcher can resume exactly after the last batch it handled).
 *
 * Past revisions come from the log: a private replay (replay.ts) of the log
 * from its beginning emits the batches in [fromRevision, now]; then the
 * watcher takes the store's live batches, which it subscribed to before the
 * replay, skipping those it already had: no gap, no duplicate. A watcher that
 * falls too far behind the live batches goes back to the log the same way.
 * Revisions truncated away behind a snapshot fail with CompactedError naming
 * the oldest revision still available.
 */
import { TruncatedError } from '../core/errors.js';
import { CompactedError } from './errors.js';
import type { StateLog } from './log.js';
import { Replayer } from './replay.js';
import type { Subscription } from './subscription.js';
import type { WatchBatch } from './types.js';

export interface WatchOptions {
  /** Watch this key only. */
  readonly key?: string;
  /** Watch the keys under this prefix (every key by default). */
  readonly prefix?: string;
  /** The first revision to report (included); by default the next change. */
  readonly fromRevision?: number;
  /** Ends the iteration when aborted. */
  readonly signal?: AbortSignal;
}

export interface WatchSource {
  readonly log: StateLog;
  applied(): number;
  closed(): boolean;
  subscribe(matches: (key: string) => boolean): Subscription;
  unsubscribe(s: Subscription): void;
}

export async function* watchStore(src: WatchSource, opts: WatchOptions): AsyncGenerator<WatchBatch> {
  const matches = opts.key !== undefined ? (k: string) => k === opts.key : (k: string) => k.startsWith(opts.prefix ?? '');
  let next = opts.fromRevision ?? src.applied() + 1;
  if (!Number.isSafeInteger(next) || next < 0) throw new RangeError(`fromRevision must be a non-negative integer, got ${opts.fromRevision}`);
  const signal = opts.signal;
  while (!src.closed() && signal?.aborted !== true) {
    const sub = src.subscribe(matches);
    const onAbort = () => sub.finish({ kind: 'end' });
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const upTo = src.applied();
      if (next <= upTo) {
        for (const batch of await history(src.log, next, upTo, matches)) yield batch;
        next = upTo + 1;
      }
      for (;;) {
        const item = await sub.next();
        if (item.kind === 'end') return;
        if (item.kind === 'error') throw item.error;
        if (item.kind === 'overflow') break;
        if (item.batch.revision < next) continue;
        yield item.batch;
        next = item.batch.revision + 1;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      src.unsubscribe(sub);
    }
  }
}

/** The batches in [from, to] for the watched keys, replayed from the log. */
export async function history(log: StateLog, from: number, to: number, matches: (key: string) => boolean): Promise<WatchBatch[]> {
  for (let attempt = 0; ; attempt++) {
    const begin = await log.beginning();
    const batches: WatchBatch[] = [];
    const replayer = new Replayer(begin, (revision, _result, events) => {
      if (revision < from) return;
      const mine = events.filter((e) => matches(e.type === 'put' ? e.kv.key : e.key));
      if (mine.length > 0) batches.push({ revision, events: mine });
    });
    try {
      for (const e of await log.read(begin, to)) replayer.feed(e.position, e.data);
    } catch (err) {
      if (err instanceof TruncatedError && attempt < 5) continue;
      throw err;
    }
    // Changes at or below the base snapshot's revision (or below the beginning) were not replayed one by one.
    const oldest = replayer.loadedFrom !== undefined ? replayer.loadedFrom.revision + 1 : begin;
    if (from < oldest) throw new CompactedError(from, oldest);
    replayer.finish();
    return batches;
  }
}
