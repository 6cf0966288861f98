// The embedded replica's surface (issue 18): the `replog/server` entry, and `replog/client` still loading no
// native addon and no CommonJS module; failures to start as exported classes (`instanceof` from the package
// entries: a locked data directory, a port in use); the replica's metrics merged into an application's registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import * as server from '../../src/server/index.js';
import * as main from '../../src/index.js';
import { StorageFullError as StorageFull, toStorageError } from '../../src/storage/errors.js';
import { removeTempDirs, tempDir } from '../storage/tmp-dirs.js';

test.after(removeTempDirs);

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const quiet = { info() {}, warn() {}, error() {} };

// Imports one of the package's entries (through its `exports`, as an application would) in a fresh process and
// counts the native addons it opened and the CommonJS modules it loaded.
const probe = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
let addons = 0;
const dlopen = process.dlopen;
process.dlopen = function (...args) { addons++; return dlopen.apply(this, args); };
const entry = await import(process.argv[2]);
console.log(JSON.stringify({ addons, cjs: Object.keys(require.cache).length, exports: Object.keys(entry).sort() }));
`;

test('replog/client loads no native addon and no CommonJS module; replog/server is the embedded replica', () => {
  const dir = mkdtempSync(join(tmpdir(), 'replog-entries-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'replog'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'probe.mjs'), probe);
    const load = (entry: string): { addons: number; cjs: number; exports: string[] } =>
      JSON.parse(execFileSync(process.execPath, ['probe.mjs', entry], { cwd: dir, encoding: 'utf8' })) as { addons: number; cjs: number; exports: string[] };
    const client = load('replog/client');
    assert.deepEqual({ addons: client.addons, cjs: client.cjs }, { addons: 0, cjs: 0 }, 'the client alone: no pino, prom-client or addon');
    assert.ok(client.exports.includes('json') && client.exports.includes('LogClient'));
    const srv = load('replog/server');
    // The probe sees what the client does not load: the server's addons (CRC, file lock) and CommonJS dependencies.
    assert.ok(srv.addons > 0 && srv.cjs > 0, JSON.stringify({ addons: srv.addons, cjs: srv.cjs }));
    for (const name of ['startReplica', 'AddressInUseError', 'DataDirLockedError', 'StorageFullError', 'StorageIOError', 'StorageFatalError']) {
      assert.ok(srv.exports.includes(name), `replog/server exports ${name}`);
    }
    const all = load('replog');
    for (const name of [...client.exports, ...srv.exports]) assert.ok(all.exports.includes(name), `replog still exports ${name}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every entry exports the very classes replog throws, so instanceof works from any of them', () => {
  for (const name of ['DataDirLockedError', 'StorageFullError', 'StorageIOError', 'StorageFatalError', 'AddressInUseError', 'ReplogError', 'InvalidArgumentError'] as const) {
    assert.equal(server[name], main[name], name);
  }
  const full = toStorageError(Object.assign(new Error('no space'), { code: 'ENOSPC' }), 'append');
  assert.ok(full instanceof server.StorageFullError && full instanceof StorageFull && full instanceof server.ReplogError);
  assert.ok(toStorageError(Object.assign(new Error('io'), { code: 'EIO' }), 'append') instanceof server.StorageIOError);
});

test('a second replica on a locked data directory fails with DataDirLockedError; a port in use with AddressInUseError', async () => {
  const dir = tempDir();
  const first = await server.startReplica({ id: 1, dir, listen: '127.0.0.1:0', admin: '127.0.0.1:0', members: { 1: '127.0.0.1:0' }, logger: quiet });
  try {
    await assert.rejects(server.startReplica({ id: 1, dir, listen: '127.0.0.1:0', members: { 1: '127.0.0.1:0' }, logger: quiet }), (err: unknown) => {
      assert.ok(err instanceof main.DataDirLockedError, String(err));
      assert.equal(err.code, 'DATA_DIR_LOCKED');
      return true;
    });
    const taken = first.address;
    await assert.rejects(server.startReplica({ id: 1, dir: tempDir(), listen: taken, members: { 1: taken }, logger: quiet }), (err: unknown) => {
      assert.ok(err instanceof main.AddressInUseError, String(err));
      assert.ok(err instanceof main.InvalidArgumentError, 'still an InvalidArgumentError, as before');
      assert.equal(err.address, taken);
      assert.equal(err.errno, 'EADDRINUSE');
      assert.equal((err.cause as { code?: string }).code, 'EADDRINUSE');
      return true;
    });
    const admin = first.adminAddress!;
    await assert.rejects(
      server.startReplica({ id: 1, dir: tempDir(), listen: '127.0.0.1:0', admin, members: { 1: '127.0.0.1:0' }, logger: quiet }),
      (err: unknown) => err instanceof main.AddressInUseError && err.address === admin,
    );
    // A bad address that is not in use stays a plain InvalidArgumentError.
    await assert.rejects(server.startReplica({ id: 1, dir: tempDir(), listen: '192.0.2.1:0', members: { 1: '192.0.2.1:0' }, logger: quiet }), (err: unknown) => {
      assert.ok(err instanceof main.InvalidArgumentError && !(err instanceof main.AddressInUseError), String(err));
      return true;
    });
  } finally {
    await first.stop();
  }
});

test("the replica's registry merges into the application's own /metrics", async () => {
  const app = new Registry();
  collectDefaultMetrics({ register: app });
  const requests = new Counter({ name: 'app_requests_total', help: 'requests', registers: [app] });
  requests.inc(3);
  const replica = await server.startReplica({ id: 1, dir: tempDir(), listen: '127.0.0.1:0', members: { 1: '127.0.0.1:0' }, logger: quiet, processMetrics: false });
  const withDefaults = await server.startReplica({ id: 1, dir: tempDir(), listen: '127.0.0.1:0', members: { 1: '127.0.0.1:0' }, logger: quiet });
  try {
    await replica.ready;
    const merged = Registry.merge([app, replica.registry]);
    const text = await merged.metrics();
    assert.match(text, /^app_requests_total 3$/m);
    assert.match(text, /^replog_sync_seconds_count \d+$/m);
    assert.match(text, /^replog_status\{status="VOTING"\} 1$/m);
    assert.equal(text.match(/^# TYPE process_cpu_user_seconds_total /gm)?.length, 1, "the process's metrics once, the application's");
    // Why processMetrics: false exists: prom-client refuses two metrics of one name.
    assert.throws(() => Registry.merge([app, withDefaults.registry]), /already been registered/);
    assert.equal(withDefaults.registry, withDefaults.metrics.registry, '/metrics serves the same registry');
  } finally {
    await replica.stop();
    await withDefaults.stop();
  }
});
