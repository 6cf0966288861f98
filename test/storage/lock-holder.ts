/** Child process for lock.test.ts: opens the store at argv[2], says "open", and holds it until stdin closes. */
import { FileStore } from '../../src/storage/file-store.js';

const s = await FileStore.open(process.argv[2]!);
process.stdout.write('open\n');
process.stdin.resume();
process.stdin.on('end', () => void s.close().then(() => process.exit(0)));
