/**
 * The machine's floor, measured in the same run as the load: what one
 * durable append cannot beat (a write + fdatasync on this disk) and what one
 * request cannot beat (a TCP round trip on loopback between two Node processes).
 */
import { spawn } from 'node:child_process';
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Samples, type LatencySummary } from './stats.js';

/** p50/p99 of a 4 KiB append + fdatasync, in a loop, for `ms` (at most 20,000 times). */
export function fdatasyncFloor(dir: string, ms: number, bytes = 4096): LatencySummary & { perSecond: number } {
  const path = join(dir, 'fdatasync-floor');
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(bytes, 7);
  const samples = new Samples();
  let offset = 0;
  // A few unmeasured rounds: the first syncs of a new file also write its metadata.
  for (let i = 0; i < 20; i++) {
    writeSync(fd, buf, 0, bytes, offset);
    offset += bytes;
    fdatasyncSync(fd);
  }
  const start = performance.now();
  while (performance.now() - start < ms && samples.count < 20_000) {
    const t = performance.now();
    writeSync(fd, buf, 0, bytes, offset);
    offset += bytes;
    fdatasyncSync(fd);
    samples.add(performance.now() - t);
  }
  const elapsed = performance.now() - start;
  closeSync(fd);
  rmSync(path, { force: true });
  return { ...samples.summary(), perSecond: (samples.count * 1000) / elapsed };
}

/** An echo server in its own Node process (so both ends run on their own event loop, as a client and a replica do). */
const ECHO_SERVER = `
const net = require('node:net');
const server = net.createServer((s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); });
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.on('disconnect', () => process.exit(0));
`;

/** p50/p99 of a 256 B request echoed back over loopback TCP (noDelay), one in flight, for `ms`. */
export async function loopbackFloor(ms: number, bytes = 256): Promise<LatencySummary> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', (code) => reject(new Error(`echo server exited (${code})`)));
    });
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const msg = Buffer.alloc(bytes, 1);
    const samples = new Samples();
    let got = 0;
    let done: (() => void) | undefined;
    socket.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= bytes && done !== undefined) {
        got -= bytes;
        const f = done;
        done = undefined;
        f();
      }
    });
    const roundTrip = () =>
      new Promise<void>((resolve) => {
        done = resolve;
        socket.write(msg);
      });
    for (let i = 0; i < 200; i++) await roundTrip(); // warm-up
    const start = performance.now();
    while (performance.now() - start < ms && samples.count < 50_000) {
      const t = performance.now();
      await roundTrip();
      samples.add(performance.now() - t);
    }
    socket.destroy();
    return samples.summary();
  } finally {
    // Waited for, so its CPU time is counted as ours (bench/lib/outside-load.ts), not as outside load.
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => (child.once('exit', r), child.kill()));
  }
}

/** The loop of fdatasyncFloor, in a child process (for syncing from several processes at once). */
const SYNC_CHILD = `
const fs = require('node:fs');
const [path, ms] = [process.argv[1], Number(process.argv[2])];
const fd = fs.openSync(path, 'w'); const b = Buffer.alloc(4096, 7); const lat = []; let off = 0;
for (let i = 0; i < 20; i++) { fs.writeSync(fd, b, 0, 4096, off); off += 4096; fs.fdatasyncSync(fd); }
const t0 = performance.now();
while (performance.now() - t0 < ms) { const t = performance.now(); fs.writeSync(fd, b, 0, 4096, off); off += 4096; fs.fdatasyncSync(fd); lat.push(performance.now() - t); }
fs.closeSync(fd); fs.rmSync(path, { force: true });
lat.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ p50: lat[Math.ceil(lat.length * 0.5) - 1], p99: lat[Math.ceil(lat.length * 0.99) - 1], count: lat.length }));
`;

/**
 * fdatasync of a 4 KiB append with `processes` processes doing the same at
 * once on the same disk (as the replicas of a local cluster do): the median
 * of their p50s and p99s.
 */
export async function concurrentFdatasyncFloor(dir: string, ms: number, processes = 3): Promise<{ p50: number; p99: number; processes: number }> {
  const results = await Promise.all(
    Array.from({ length: processes }, (_, i) =>
      new Promise<{ p50: number; p99: number }>((resolve, reject) => {
        const child = spawn(process.execPath, ['-e', SYNC_CHILD, join(dir, `fdatasync-floor-${i}`), String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { p50: number; p99: number }) : reject(new Error(`fdatasync child exited (${code})`))));
      }),
    ),
  );
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { p50: median(results.map((r) => r.p50)), p99: median(results.map((r) => r.p99)), processes };
}
