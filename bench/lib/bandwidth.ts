/**
 * The machine's own limits beside a benchmark's figures: sequential disk
 * write bandwidth and loopback TCP bandwidth, measured in the same run.
 */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const MiB = 1024 * 1024;

/** Sequential write bandwidth of this disk: 4 MiB writes, one fdatasync at the end. */
export function diskWriteMBps(dir: string, totalMiB = 512): number {
  const path = join(dir, 'disk-bandwidth');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4 * MiB, 1);
  const t = performance.now();
  for (let off = 0; off < totalMiB * MiB; off += chunk.length) writeSync(fd, chunk, 0, chunk.length, off);
  fdatasyncSync(fd);
  const s = (performance.now() - t) / 1000;
  closeSync(fd);
  rmSync(path, { force: true });
  return totalMiB / s;
}

/** Loopback TCP bandwidth between this process and a sink in this process: 64 KiB writes. */
export async function loopbackMBps(totalMiB = 1024): Promise<number> {
  let received = 0;
  const server = createServer((s) => s.on('data', (d: Buffer) => (received += d.length)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const sock = connect({ host: '127.0.0.1', port });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const chunk = Buffer.alloc(64 * 1024, 2);
  const t = performance.now();
  for (let sent = 0; sent < totalMiB * MiB; sent += chunk.length) {
    if (!sock.write(chunk)) await new Promise<void>((r) => sock.once('drain', () => r()));
  }
  await new Promise<void>((r) => {
    const check = () => (received >= totalMiB * MiB ? r() : setImmediate(check));
    check();
  });
  const s = (performance.now() - t) / 1000;
  sock.destroy();
  server.close();
  return totalMiB / s;
}
