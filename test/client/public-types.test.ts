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
import { json, utf8, EntryDecodeError, type Codec, type LogEntry } from 'replog/client';
import { startReplica, StateStore } from 'replog';
import * as server from 'replog/server';

interface Counted { readonly kind: 'add' | 'sub'; readonly n: number }

/** Codecs: T is inferred from the codec; the raw default keeps today's types. */
export async function typed(): Promise<void> {
  const events = await LogClient.connect([...DEFAULT_ADDRESSES], { codec: json<Counted>(), waitForQuorum: true });
  const ew = await events.writer();
  const asWriter: Writer<Counted> = ew;
  await asWriter.append({ kind: 'add', n: 1 });
  // @ts-expect-error a typed writer takes its type, not bytes or strings
  await ew.append('x');
  // @ts-expect-error nor a value of another shape
  await ew.append({ kind: 'mul', n: 1 });
  for (const e of await events.read(0, 9)) { const n: number = e.data.n; void n; }
  for await (const e of events.tail(0)) { const k: 'add' | 'sub' = e.data.kind; void k; break; }
  for await (const b of events.tailBatches(0)) { const first: LogEntry<Counted> | undefined = b.entries[0]; void first; break; }
  // @ts-expect-error entries of a typed client are not bytes
  const notBytes: Uint8Array = (await events.read(0, 0))[0]!.data;
  void notBytes;

  const raw = await LogClient.connect([...DEFAULT_ADDRESSES]);
  const rw: Writer = await raw.writer();
  await rw.append('text'); await rw.append(new Uint8Array(1)); await rw.append(Buffer.from('b'));
  const bytes: Uint8Array = (await raw.read(0, 0))[0]!.data;
  const entry: LogEntry = (await raw.read(0, 0))[0]!;
  void bytes; void entry;
  // @ts-expect-error raw entries are bytes, not strings
  const notText: string = (await raw.read(0, 0))[0]!.data;
  void notText;

  const text = await LogClient.connect([...DEFAULT_ADDRESSES], { codec: utf8() });
  const tw = await text.writer();
  await tw.append('s');
  // @ts-expect-error a utf8 writer takes strings
  await tw.append(new Uint8Array(1));
  const s: string = (await text.read(0, 0))[0]!.data;
  void s;

  const big: Codec<bigint> = { encode: (v) => Buffer.from(v.toString()), decode: (b) => BigInt(Buffer.from(b).toString()) };
  const bw = await (await LogClient.connect([...DEFAULT_ADDRESSES], { codec: big })).writer();
  await bw.append(10n);
  try { await events.read(0, 0); } catch (e) { if (e instanceof EntryDecodeError) console.log(e.position, e.data.byteLength); }
}

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
  const embedded: server.Replica = await server.startReplica({ id: 1, dir: 'd', listen: '127.0.0.1:0', members: { 1: '127.0.0.1:0' }, processMetrics: false });
  const text: string = await embedded.registry.metrics();
  void text;
  try { await server.startReplica({ id: 2, dir: 'd', listen: '127.0.0.1:0', members: '2=127.0.0.1:0' }); } catch (e) {
    if (e instanceof server.AddressInUseError) console.log(e.address, e.errno);
    else if (e instanceof server.DataDirLockedError) console.log(e.dir, e.owner);
  }
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
