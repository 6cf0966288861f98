/**
 * Writing a snapshot into the log. The state as of revision R (everything
 * applied so far) is encoded once, cut into chunks of `chunkBytes` (far below
 * the log's entry limit), and appended while other operations keep flowing:
 * those land between or after the chunks, above R, and every replay applies
 * them after loading the snapshot. Once the last chunk is chosen the log is
 * truncated to R' + 1, where R' is the previous complete snapshot's revision
 * (keepHistory) or this one's: every position left holds either a snapshot
 * chunk above R' or a change after it, so replay always finds its base.
 */
import { randomBytes } from 'node:crypto';
import { encodeChunk, encodeSnapshotPayload } from './codec.js';
import type { StateMachine } from './machine.js';
import type { CompleteSnapshot } from './replay.js';

export interface SnapshotInfo {
  /** The revision whose state the snapshot holds. */
  readonly revision: number;
  /** The position of its last chunk. */
  readonly position: number;
  readonly chunks: number;
  readonly bytes: number;
  /** The log's new beginning, if it was truncated. */
  readonly truncatedTo?: number;
}

export interface SnapshotWriterHost {
  /** Appends one entry as the store's writer; resolves once applied. */
  append(bytes: Uint8Array): Promise<void>;
  lastApplied(): number;
  truncate(to: number): Promise<void>;
  /** The complete snapshots in the log, oldest first (the store adds each as its last chunk is applied). */
  readonly snapshots: CompleteSnapshot[];
}

export async function writeSnapshot(host: SnapshotWriterHost, machine: StateMachine, chunkBytes: number, keepHistory: boolean): Promise<SnapshotInfo> {
  const revision = machine.applied;
  const kvs = machine.all();
  const payload = encodeSnapshotPayload(kvs);
  const digest = machine.digestRaw;
  const id = randomBytes(8).toString('hex');
  const total = Math.max(1, Math.ceil(payload.byteLength / chunkBytes));
  const appends: Promise<void>[] = [];
  for (let seq = 0; seq < total; seq++) {
    const data = payload.subarray(seq * chunkBytes, (seq + 1) * chunkBytes);
    appends.push(host.append(encodeChunk({ id, revision, seq, total, payloadBytes: payload.byteLength, keys: kvs.length, digest, data })));
  }
  await Promise.all(appends);
  const at = host.snapshots.findIndex((s) => s.id === id);
  if (at < 0) throw new Error('unreachable: a snapshot whose chunks were all applied is not complete');
  const position = host.snapshots[at]!.position;
  const keep = keepHistory ? at - 1 : at;
  const info = { revision, position, chunks: total, bytes: payload.byteLength };
  if (keep < 0) return info;
  const to = host.snapshots[keep]!.revision + 1;
  await host.truncate(to);
  // Older snapshots are gone from the log.
  host.snapshots.splice(0, keep);
  return { ...info, truncatedTo: to };
}
