/**
 * Each replica's stored log, read from its data directory once the replica
 * has stopped: every learned position with its action (the checker compares
 * them with each other and with the final read). Opening a directory takes
 * its lock, so a replica still running makes this fail rather than race.
 */
import { FileStore } from '../storage/file-store.js';
import type { ReplicaLog } from './history.js';

export async function dumpReplicaLog(id: number, dir: string): Promise<ReplicaLog> {
  const store = await FileStore.open(dir);
  try {
    const begin = store.begin();
    const entries: [number, string, string?][] = [];
    for (const p of store.positions(begin, Math.max(begin, store.end()))) {
      if (store.slot(p)?.learned !== true) continue;
      const a = store.action(p);
      if (a === undefined) continue;
      if (a === 'lost') entries.push([p, 'lost']);
      else if (a.kind === 'append') entries.push([p, 'append', Buffer.from(a.data).toString('utf8')]);
      else entries.push([p, a.kind]);
    }
    return { id, begin, entries };
  } finally {
    await store.close();
  }
}
