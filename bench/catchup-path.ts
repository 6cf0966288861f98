/**
 * Micro-benchmark of the catch-up's hot path, in one process, without the
 * network: a serving FileStore holding `--entries` entries of `--bytes` B
 * (accepted, then committed) answers read requests of `--chunk` positions
 * (replicaStep 'read' + wire encoding); the replies are decoded and applied to
 * a fresh FileStore as learned entries (replicaStep 'learned', append, sync
 * per `--sync-every` chunks). Prints CPU µs per entry for each side.
 *
 * Usage: node dist/bench/catchup-path.js [--entries N] [--bytes S] [--chunk C]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { replicaStep } from '../src/core/replica.js';
import type { Entry, ReadReply } from '../src/core/types.js';
import { decodeMessage, encodeFrame } from '../src/net/codec.js';
import { FileStore } from '../src/storage/file-store.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function main(): Promise<void> {
  const entries = arg('entries', 200_000);
  const bytes = arg('bytes', 1024);
  const chunk = arg('chunk', 1024);
  const syncEvery = arg('sync-every', 4);
  const root = mkdtempSync(join(tmpdir(), 'replog-catchup-path-'));
  try {
    const server = await FileStore.open(join(root, 'server'), { replicaId: 1, clusterId: 'bench' });
    server.append([{ type: 'metadata', metadata: { status: 'VOTING', promised: 1, incarnation: 'a' } }]);
    const data = new Uint8Array(bytes).fill(7);
    for (let p = 0; p < entries; p += 1024) {
      const n = Math.min(1024, entries - p);
      const recs = [];
      for (let i = 0; i < n; i++) recs.push({ type: 'accept' as const, position: p + i, proposal: 1, action: { kind: 'append' as const, data } });
      recs.push({ type: 'commit' as const, from: p, to: p + n - 1, proposal: 1 });
      server.append(recs);
      if ((p / 1024) % 8 === 7) await server.sync();
    }
    await server.sync();
    const client = await FileStore.open(join(root, 'client'), { replicaId: 3, clusterId: 'bench' });
    client.append([{ type: 'metadata', metadata: { status: 'RECOVERING', promised: 0, incarnation: 'b', generation: 1 } }]);
    await client.sync();

    let serveUs = 0;
    let applyUs = 0;
    const t0 = performance.now();
    let chunks = 0;
    for (let from = 0; from < entries; from += chunk) {
      const to = Math.min(entries - 1, from + chunk - 1);
      let c = cpuUs();
      const step = replicaStep(server, { type: 'read', rid: 1, from, to, limit: chunk });
      const wire = encodeFrame(step.reply!);
      serveUs += cpuUs() - c;
      c = cpuUs();
      const reply = decodeMessage(wire.subarray(4)) as ReadReply;
      const learned: Entry[] = reply.slots.map((s) => ({ position: s.position, action: s.action! }));
      const records = replicaStep(client, { type: 'learned', entries: learned }).records;
      client.append(records);
      if (++chunks % syncEvery === 0) await client.sync();
      applyUs += cpuUs() - c;
    }
    const c = cpuUs();
    await client.sync();
    applyUs += cpuUs() - c;
    const s = (performance.now() - t0) / 1000;
    const mib = (entries * bytes) / 2 ** 20;
    console.log(`${entries} entries of ${bytes} B, chunks of ${chunk}: ${s.toFixed(2)} s wall (${(mib / s).toFixed(0)} MiB/s in one thread)`);
    console.log(`  serve (read + encode): ${(serveUs / entries).toFixed(2)} µs CPU/entry`);
    console.log(`  apply (decode + learned + append + sync): ${(applyUs / entries).toFixed(2)} µs CPU/entry`);
    await server.close();
    await client.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
