/**
 * Child process of crash.test.ts: writes positions end+1, end+2, ... through
 * a FileStore with several concurrent writers, and prints each position on
 * stdout once the sync covering it resolved. It runs until SIGKILLed.
 * (stdout to a pipe is synchronous on Linux: a printed line is never lost.)
 *
 * argv: dataDir
 */
import { FileStore } from '../../src/storage/file-store.js';
import { nodeFileLayer, type FileLayer } from '../../src/storage/file-layer.js';
import { recordsFor } from './crash-workload.js';

const WRITERS = 8;

/**
 * Short writes: each write() call stores at most 700 bytes (the store loops
 * over short writes, as it must for any file system). A batch then takes many
 * system calls, and a kill between two of them leaves a torn tail, cut in the
 * middle of a frame, as a power loss would.
 */
const shortWrites: FileLayer = {
  ...nodeFileLayer,
  write: (fd, buf, offset, length, position) => nodeFileLayer.write(fd, buf, offset, Math.min(length, 700), position),
};

async function main(): Promise<void> {
  const dir = process.argv[2]!;
  const store = await FileStore.open(dir, { segmentBytesMax: 64 * 1024, batchBytesMax: 32 * 1024, fileLayer: shortWrites });
  let next = store.end() + 1;
  process.stdout.write('ready\n');
  const writer = async (): Promise<void> => {
    for (;;) {
      const p = next++;
      store.append(recordsFor(p));
      await store.sync();
      process.stdout.write(`${p}\n`);
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

main().catch((e: unknown) => {
  process.stderr.write(`crash-child: ${String(e)}\n`);
  process.exit(2);
});
