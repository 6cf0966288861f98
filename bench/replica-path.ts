/**
 * Micro-benchmark of one replica's hot path, in one process, without the
 * network: write requests of `--batch` 256 B entries are encoded as the
 * client would, decoded, handled by a ReplicaHost on a real FileStore
 * (fdatasync included), followed by a commit, with `--pipeline` requests in
 * flight. Prints CPU µs and GC ms per entry: the figure the optimisations of
 * src/net, src/storage and src/server move.
 *
 * Usage: node dist/bench/replica-path.js [--entries N] [--batch B] [--pipeline P] [--bytes S]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { Action, Message, WriteRequest } from '../src/core/types.js';
import { decodeMessage, encodeFrame } from '../src/net/codec.js';
import { ReplicaHost } from '../src/server/replica-host.js';
import { FileStore } from '../src/storage/file-store.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const entries = arg('entries', 300_000);
  const batch = arg('batch', 256);
  const pipeline = arg('pipeline', 4);
  const bytes = arg('bytes', 256);
  const dir = mkdtempSync(join(tmpdir(), 'replog-replica-path-'));
  const store = await FileStore.open(dir, { replicaId: 1, clusterId: 'bench' });
  store.append([{ type: 'metadata', metadata: { status: 'VOTING', promised: 0, incarnation: 'bench' } }]);
  await store.sync();
  const quiet = { info() {}, warn() {}, error() {} };
  const host = new ReplicaHost({ id: 1, members: [1, 2, 3], store, sendToPeer: () => undefined, log: quiet, restartCheck: false });
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  obs.observe({ entryTypes: ['gc'] });
  const data = new Uint8Array(bytes).fill(0x61);
  const actions: Action[] = Array.from({ length: batch }, () => ({ kind: 'append', data }));
  let next = 0;
  let rid = 1;
  let replies = 0;
  let waiting: (() => void) | undefined;
  const target = {
    send(_m: Message): boolean {
      replies++;
      waiting?.();
      return true;
    },
  };
  const sendOne = (): void => {
    const msg: WriteRequest = { type: 'write', rid: rid++, proposal: 1, from: next, actions, named: [{ id: 1, generation: 0, disk: 0 }] };
    const frame = encodeFrame(msg);
    host.handle(decodeMessage(frame.subarray(4)), target, undefined);
    next += batch;
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0;
  let committed = 0;
  while (committed < entries) {
    while (sent - replies < pipeline && sent * batch < entries) sendOne(), sent++;
    await new Promise<void>((r) => (waiting = r));
    waiting = undefined;
    // What the writer sends once a batch is chosen.
    const to = replies * batch - 1;
    if (to >= committed) {
      const frame = encodeFrame({ type: 'commit', proposal: 1, from: committed, to });
      host.handle(decodeMessage(frame.subarray(4)), target, undefined);
      committed = to + 1;
    }
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await host.drain();
  obs.disconnect();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const perEntry = (x: number) => (x / entries).toFixed(2);
  console.log(
    `replica path: ${entries} entries of ${bytes} B in write requests of ${batch}, ${pipeline} in flight: ` +
      `${Math.round(entries / (wall / 1000)).toLocaleString('en-US')}/s, CPU ${perEntry((cpu.user + cpu.system))} µs/entry ` +
      `(user ${perEntry(cpu.user)}, system ${perEntry(cpu.system)}), GC ${perEntry(gcMs * 1000)} µs/entry, RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
