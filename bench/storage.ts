/**
 * Storage benchmark: sustained durable records/s and MB/s of FileStore for
 * 100 B, 1 KiB and 16 KiB records at 1, 16 and 256 concurrent writers (a
 * writer loops: append one record, await sync), beside this machine's raw
 * fdatasync rate (write 100 B + fdatasync, in a loop) measured in the same
 * run. Group commit should let 256 writers of 100 B records reach at least
 * 20 times the raw fdatasync rate.
 *
 * Usage: node dist/bench/storage.js [--seconds S] [--dir D]
 *   --seconds  measuring time per configuration (default 1.5; the whole run
 *              takes about 7 times as long plus set-up)
 *   --dir      where the temporary data directories go (default the OS temp dir)
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileStore } from '../src/storage/file-store.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

const seconds = Number(arg('seconds', '1.5'));
const base = arg('dir', tmpdir());

/** The floor: one 100 B write + fdatasync at a time, synchronously, for `ms`. */
function rawFdatasyncPerSecond(ms: number): number {
  const dir = mkdtempSync(join(base, 'replog-bench-raw-'));
  const fd = openSync(join(dir, 'raw'), 'w');
  const buf = Buffer.alloc(100, 7);
  let n = 0;
  let offset = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    writeSync(fd, buf, 0, buf.length, offset);
    offset += buf.length;
    fdatasyncSync(fd);
    n++;
  }
  const rate = n / ((performance.now() - start) / 1000);
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

interface Result {
  readonly recordBytes: number;
  readonly writers: number;
  readonly recordsPerSecond: number;
  readonly mbPerSecond: number;
}

async function run(recordBytes: number, writers: number, ms: number): Promise<Result> {
  const dir = mkdtempSync(join(base, 'replog-bench-'));
  const store = await FileStore.open(dir);
  const data = new Uint8Array(recordBytes).fill(42);
  let next = 0;
  let done = 0;
  let stop = false;
  let measuring = false;
  const writer = async (): Promise<void> => {
    while (!stop) {
      const position = next++;
      store.append([{ type: 'accept', position, proposal: 1, action: { kind: 'append', data } }]);
      await store.sync();
      if (measuring) done++;
    }
  };
  const loops = Array.from({ length: writers }, writer);
  await new Promise((r) => setTimeout(r, Math.min(300, ms / 4))); // warm-up
  measuring = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  measuring = false;
  const elapsed = (performance.now() - start) / 1000;
  const counted = done;
  stop = true;
  await Promise.all(loops);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const recordsPerSecond = counted / elapsed;
  return { recordBytes, writers, recordsPerSecond, mbPerSecond: (recordsPerSecond * recordBytes) / 1e6 };
}

async function main(): Promise<void> {
  const ms = seconds * 1000;
  const rawBefore = rawFdatasyncPerSecond(Math.min(ms, 1500));
  console.log(`raw fdatasync (100 B write + fdatasync): ${rawBefore.toFixed(0)}/s`);
  console.log('record   writers   durable records/s        MB/s   x raw fdatasync');
  const results: Result[] = [];
  for (const recordBytes of [100, 1024, 16 * 1024]) {
    for (const writers of [1, 16, 256]) {
      const r = await run(recordBytes, writers, ms);
      results.push(r);
      const label = recordBytes >= 1024 ? `${recordBytes / 1024} KiB` : `${recordBytes} B`;
      console.log(
        `${label.padStart(6)}  ${String(writers).padStart(8)}  ${r.recordsPerSecond.toFixed(0).padStart(18)}  ${r.mbPerSecond.toFixed(1).padStart(10)}  ${(r.recordsPerSecond / rawBefore).toFixed(1).padStart(16)}`,
      );
    }
  }
  const rawAfter = rawFdatasyncPerSecond(Math.min(ms, 1500));
  const target = results.find((r) => r.recordBytes === 100 && r.writers === 256)!;
  const raw = Math.max(rawBefore, rawAfter);
  const ratio = target.recordsPerSecond / raw;
  console.log(`raw fdatasync again: ${rawAfter.toFixed(0)}/s`);
  console.log(`100 B x 256 writers: ${ratio.toFixed(1)}x the raw fdatasync rate (better of the two floors; target >= 20x): ${ratio >= 20 ? 'PASS' : 'FAIL'}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
