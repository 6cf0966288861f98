/**
 * Planted bugs, to show that a nemesis run catches them. Loaded with
 * `node --import <this file>` into the replica processes and the workload
 * when REPLOG_PLANT names a bug (`npm run nemesis -- --plant NAME`); it patches
 * the loaded classes in memory, so the shipped code holds no switch at all.
 *
 * - `reply-before-sync` (replicas): every record counts as durable the moment
 *   it is appended, so promises and acceptances are answered before they are
 *   written, and the write itself waits a second: a SIGKILL forgets them.
 * - `read-stops-at-hole` (client): a read ends at the first position that
 *   holds no append (a NOP fill, an election's marker, a truncation).
 * - `writer-no-fence` (client): a writer ignores being fenced: a replica's
 *   refusal of its write because it promised a higher proposal is counted
 *   as that replica's acceptance (its old ballot, the disk it named), so the
 *   writer keeps appending and acknowledges writes no quorum accepted.
 */
import { LogClient } from '../client/log-client.js';
import { WriterCore } from '../core/writer.js';
import type { WriteReply } from '../core/types.js';
import { FileStore } from '../storage/file-store.js';

export const PLANTS = ['reply-before-sync', 'read-stops-at-hole', 'writer-no-fence'] as const;
export type Plant = (typeof PLANTS)[number];

const plant = process.env.REPLOG_PLANT;

if (plant === 'reply-before-sync') {
  const proto = FileStore.prototype as unknown as { durableSeq(): number; sync(): Promise<number>; seq: number };
  const realSync = proto.sync;
  proto.durableSeq = function (this: { seq: number }) {
    return this.seq;
  };
  proto.sync = function (this: FileStore) {
    return new Promise((r) => setTimeout(r, 1000)).then(() => realSync.call(this));
  };
} else if (plant === 'read-stops-at-hole') {
  const proto = LogClient.prototype as unknown as { read: (from: number, to: number, o?: unknown) => Promise<{ position: number }[]> };
  const realRead = proto.read;
  proto.read = async function (this: LogClient, from: number, to: number, o?: unknown) {
    const all = await realRead.call(this, from, to, o);
    let i = 0;
    while (i < all.length && all[i]!.position === from + i) i++;
    return all.slice(0, i);
  };
} else if (plant === 'writer-no-fence') {
  type Named = { id: number; generation: number; disk: number };
  type Role = { kind: string; proposal?: number; inflight?: { rid: number; named: Named[] }[] };
  const proto = WriterCore.prototype as unknown as { onWriteReply(from: number, msg: WriteReply, out: unknown): void; role: Role };
  const realOnWriteReply = proto.onWriteReply;
  proto.onWriteReply = function (this: { role: Role }, from: number, msg: WriteReply, out: unknown) {
    const role = this.role;
    if (msg.outcome === 'reject' && role.kind === 'elected' && msg.proposal > role.proposal!) {
      // The bug: "rejected by a higher proposal" read as "accepted under mine", by the disk the writer named.
      const named = role.inflight!.find((b) => b.rid === msg.rid)?.named.find((n) => n.id === from);
      if (named !== undefined) msg = { ...msg, outcome: 'accept', proposal: role.proposal!, generation: named.generation, disk: named.disk };
    }
    realOnWriteReply.call(this, from, msg, out);
  };
} else if (plant !== undefined && plant !== '') {
  throw new Error(`REPLOG_PLANT=${plant}: no such planted bug (known: ${PLANTS.join(', ')})`);
}
