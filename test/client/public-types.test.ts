// The package's declarations show the public API only (issue 18): a strict user program compiled with tsc against
// the built package (through its `exports`, as a user's would) uses it, and each line that reaches an internal
// carries @ts-expect-error, so tsc fails ("Unused '@ts-expect-error' directive") if one of them compiles again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const program = `
import { LogClient, Writer, DEFAULT_ADDRESSES, NoQuorumError, AbortedError, type ErrorCode, type Logger, type TailBatch } from 'replog/client';
import { startReplica, StateStore } from 'replog';

export async function app(): Promise<void> {
  const logger: Logger = console;
  const log = await LogClient.connect([...DEFAULT_ADDRESSES], { waitForQuorum: true, timeoutMs: 5000, log: logger });
  log.on('fenced', (e) => console.error(e.error.code));
  const w: Writer = await log.writer({ signal: AbortSignal.timeout(1000) });
  const p: number = await w.append('x', { timeoutMs: 100 });
  for await (const b of log.tailBatches(p)) {
    const batch: TailBatch = b;
    if (batch.through >= batch.end) break;
  }
  try { await w.truncate(p); } catch (e) {
    if (e instanceof NoQuorumError || e instanceof AbortedError) { const c: ErrorCode = e.code; console.log(c, e.outcome); }
  }
  void startReplica; void StateStore;

  // @ts-expect-error internal: a user cannot raise the client's proposal floor
  log.highestProposalSeen = 1e9;
  // @ts-expect-error internal: a user cannot fail a writer's operations
  w.failAll(new NoQuorumError('x'));
  // @ts-expect-error a writer is made by log.writer() only
  new Writer();
  // @ts-expect-error the default addresses are read-only
  DEFAULT_ADDRESSES.push('127.0.0.1:1');
  // @ts-expect-error internal: request ids
  log.rid();
  // @ts-expect-error internal: the writer's clock
  w.tick(0);
  const r = await startReplica({ id: 1, dir: 'd', listen: '127.0.0.1:0', members: '1=127.0.0.1:7001' });
  // @ts-expect-error internal: the replica's engine
  void r.host;
}
`;

test('a strict application compiles against the built declarations, and every internal stays out of reach', () => {
  const dir = mkdtempSync(join(tmpdir(), 'replog-types-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'replog'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'app.ts'), program);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext',
          lib: ['ES2022', 'esnext.disposable', 'DOM'], types: ['node'], typeRoots: [join(root, 'node_modules', '@types')], skipLibCheck: false,
        },
        files: ['app.ts'],
      }),
    );
    let out = '';
    try {
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? err);
    }
    assert.equal(out, '', `tsc found problems:\n${out}`);
    // CommonJS users: require(esm) through the package's exports (Node 20.19 and later, see engines).
    const cjs = execFileSync(process.execPath, ['-e', "const r = require('replog/client'); console.log(typeof r.LogClient, typeof require('replog/package.json').version)"], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.equal(cjs.trim(), 'function string');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
