/**
 * Helpers for multi-process tests: real `replog replica` processes on
 * 127.0.0.1, the CLI run as a child process, and condition waits with
 * generous deadlines (never fixed sleeps: the disk here has fsync spikes).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectStatus } from '../../src/cli/status.js';

export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/replog.js');

/** Ports that were free a moment ago (bound to 0, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<import('node:net').Server>((res) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => res(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

export interface TestReplica {
  id: number;
  address: string;
  dir: string;
  /** The admin HTTP address (`--admin`), if the cluster was created with one. */
  adminAddress?: string;
  proc?: ChildProcess;
  stderr: string;
}

export class TestCluster {
  readonly replicas: TestReplica[];
  readonly root: string;

  private constructor(root: string, replicas: TestReplica[]) {
    this.root = root;
    this.replicas = replicas;
  }

  /** `ids`: the members' ids (default 1..n), in the order of `replicas` (any order, any positive numbers). */
  static async create(n = 3, ids: readonly number[] = Array.from({ length: n }, (_, i) => i + 1), opts: { admin?: boolean } = {}): Promise<TestCluster> {
    const root = mkdtempSync(join(tmpdir(), 'replog-it-'));
    const ports = await freePorts(opts.admin ? 2 * n : n);
    const replicas = ports.slice(0, n).map((p, i) => ({
      id: ids[i]!,
      address: `127.0.0.1:${p}`,
      dir: join(root, `r${ids[i]!}`),
      stderr: '',
      ...(opts.admin ? { adminAddress: `127.0.0.1:${ports[n + i]!}` } : {}),
    }));
    return new TestCluster(root, replicas);
  }

  /** The replica with member id `id`. */
  replica(id: number): TestReplica {
    const r = this.replicas.find((x) => x.id === id);
    if (r === undefined) throw new Error(`no replica ${id}`);
    return r;
  }

  get addresses(): string[] {
    return this.replicas.map((r) => r.address);
  }

  get membersFlag(): string {
    return this.replicas.map((r) => `${r.id}=${r.address}`).join(',');
  }

  start(id: number): ChildProcess {
    const r = this.replica(id);
    r.stderr = '';
    const admin = r.adminAddress === undefined ? [] : ['--admin', r.adminAddress];
    const proc = spawn(process.execPath, [BIN, 'replica', '--id', String(id), '--dir', r.dir, '--listen', r.address, '--members', this.membersFlag, ...admin], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr!.on('data', (d: Buffer) => (r.stderr += d.toString()));
    r.proc = proc;
    proc.on('exit', () => {
      if (r.proc === proc) r.proc = undefined;
    });
    return proc;
  }

  /** Starts replica `id` with `flags` in place of `--members` (a cluster of some members only, `--join ADDRS`). */
  startWith(id: number, flags: readonly string[]): ChildProcess {
    const r = this.replica(id);
    r.stderr = '';
    const admin = r.adminAddress === undefined ? [] : ['--admin', r.adminAddress];
    const proc = spawn(process.execPath, [BIN, 'replica', '--id', String(id), '--dir', r.dir, '--listen', r.address, ...flags, ...admin], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr!.on('data', (d: Buffer) => (r.stderr += d.toString()));
    r.proc = proc;
    proc.on('exit', () => {
      if (r.proc === proc) r.proc = undefined;
    });
    return proc;
  }

  async startAll(): Promise<void> {
    for (const r of this.replicas) this.start(r.id);
    await this.waitStatus(this.replicas.map((r) => r.id), 'VOTING');
  }

  async waitStatus(ids: number[], status: string, timeoutMs = 30_000): Promise<void> {
    const addrs = ids.map((id) => this.replica(id).address);
    await waitFor(`replicas ${ids.join(',')} ${status}`, async () => (await collectStatus(addrs, 1000)).every((r) => r.status === status), timeoutMs);
  }

  kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.replica(id).proc;
    if (proc === undefined) return Promise.resolve();
    return new Promise((res) => {
      proc.once('exit', () => res());
      proc.kill(signal);
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((r) => this.kill(r.id, 'SIGTERM')));
    rmSync(this.root, { recursive: true, force: true });
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `replog ARGS` with optional stdin; resolves when it exits. */
/**
 * Runs a one-shot `replog append` and elects again when its new writer was fenced before it wrote anything
 * (the CLI says "this write was not written"): right after a membership change a catching-up replica's fill
 * may settle a position before the fresh writer's first write (the fill sees no active writer yet). Up to
 * `tries` attempts; any other failure is returned as it is.
 */
export async function appendUnlessFenced(run: () => Promise<CliResult>, tries = 5): Promise<CliResult> {
  let r = await run();
  for (let i = 1; i < tries && r.code !== 0 && /WRITER_FENCED/.test(r.stderr) && /was not written/.test(r.stderr); i++) r = await run();
  return r;
}

export function runCli(args: string[], opts: { input?: string; env?: Record<string, string>; killAfterMs?: number } = {}): Promise<CliResult> {
  return new Promise((res) => {
    const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A command that hangs is killed (exit code null) so the test fails with what it printed, not at the runner's timeout.
    const timer = opts.killAfterMs === undefined ? undefined : setTimeout(() => proc.kill('SIGKILL'), opts.killAfterMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
    proc.stdin.end(opts.input ?? '');
  });
}

/** A `replog` child process whose stdout is taken line by line as it comes (for `read --follow`). */
export interface CliProcess {
  readonly proc: ChildProcess;
  /** Every complete stdout line so far. */
  readonly lines: string[];
  readonly stderr: () => string;
  /** The exit code (or the signal's name) once it exited; undefined while it runs. */
  readonly exit: () => number | string | undefined;
  /** Resolves when it exited. */
  readonly exited: Promise<void>;
  /** Kills it (SIGKILL) unless it already exited, and waits for the exit. */
  kill(): Promise<void>;
}

export function spawnCli(args: string[], opts: { env?: Record<string, string> } = {}): CliProcess {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  let exit: number | string | undefined;
  proc.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((res) => proc.on('exit', (code, signal) => {
    exit = code ?? signal ?? 'unknown';
    res();
  }));
  return {
    proc,
    lines,
    stderr: () => stderr,
    exit: () => exit,
    exited,
    async kill() {
      if (exit === undefined) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * The members a writer counts now (their disks promised it), read from its core. A writer elected by a
 * bare quorum counts a member that promised late only once the others confirm it; tests that take a
 * replica down right after an election wait for this first (docs/protocol.md, "Counted members").
 */
export function countedMembers(w: unknown): ReadonlyMap<number, { generation: number }> {
  return (w as { core: { namedMembers: ReadonlyMap<number, { generation: number }> } }).core.namedMembers;
}

export interface AppendLoop {
  /** Every acknowledged position with its data. */
  readonly acked: Map<number, string>;
  /** The error that ended the loop, if any (the loop stops at the first). */
  readonly failures: Error[];
  /** True once `n` appends are acknowledged; throws at once with the writer's error if the loop failed. */
  goneOnBy(n: number): boolean;
  stop(): Promise<void>;
}

/**
 * Appends `${tag}-${i}-${k}` in batches of `batch` until stop() or the first failure. `acked` may be
 * shared by successive loops (a second writer taking over).
 */
export function appendLoop(
  w: { append(data: string): Promise<number> },
  { tag = 'e', batch = 20, acked = new Map<number, string>() }: { tag?: string; batch?: number; acked?: Map<number, string> } = {},
): AppendLoop {
  const failures: Error[] = [];
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) {
      const data = Array.from({ length: batch }, (_, k) => `${tag}-${i}-${k}`);
      try {
        const ps = await Promise.all(data.map((d) => w.append(d)));
        ps.forEach((p, k) => acked.set(p, data[k]!));
      } catch (err) {
        failures.push(err as Error);
        return;
      }
    }
  })();
  return {
    acked,
    failures,
    goneOnBy(n) {
      if (failures.length > 0) throw new Error(`the append loop failed: ${failures[0]!.stack}`);
      return acked.size >= n;
    },
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** The CLI's stdout, after asserting that it exited 0 (`what` names the step in the failure). */
export function ok(r: CliResult, what: string): string {
  assert.equal(r.code, 0, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
  return r.stdout;
}
