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
    child.kill();
  }
}
