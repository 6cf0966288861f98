/**
 * The replicas of a nemesis run: `replog replica` processes (the CLI users
 * run), each on its host of the bed, and the process and disk faults done to
 * them: SIGKILL and restart, SIGSTOP/SIGCONT, a data directory wiped or its
 * segment files corrupted while the replica is down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readdirSync, rmSync, statSync, writeSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bed } from './bed.js';
import { forgetJournal, powerLoss } from './power-loss.js';

/** bin/replog.js of this checkout. */
export const REPLOG_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/replog.js');
export const REPLICA_PORT = 7001;

interface Proc {
  /** The slot: the bed's host, address and data directory stay the slot's across membership changes. */
  readonly id: number;
  readonly dir: string;
  /** The member id running there now: the slot's own until a `replace` fault gives it a new member. */
  member: number;
  /** Its member was assigned and not yet seen added (membership.ts settles it). */
  awaitingAdd: boolean;
  child?: ChildProcess;
  exited?: Promise<void>;
  paused: boolean;
}

export class Replicas {
  private readonly procs = new Map<number, Proc>();
  private readonly logs = new Map<number, WriteStream>();

  constructor(
    private readonly bed: Bed,
    readonly ids: readonly number[],
    root: string,
    /** Where each replica's stderr goes (r<ID>.stderr.log, appended across restarts). */
    logDir: string,
    /** Loopback beds share one address: each replica takes its own port there. */
    private readonly basePort: number,
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** Options for node before the script (a planted bug's --import). */
    private readonly nodeArgs: readonly string[] = [],
  ) {
    for (const id of ids) {
      this.procs.set(id, { id, dir: join(root, `r${id}`), member: id, awaitingAdd: false, paused: false });
      this.logs.set(id, createWriteStream(join(logDir, `r${id}.stderr.log`), { flags: 'a' }));
    }
  }

  address(id: number): string {
    const port = this.bed.mode === 'netns' ? REPLICA_PORT : this.basePort + this.ids.indexOf(id);
    return `${this.bed.address(id)}:${port}`;
  }

  get addresses(): string[] {
    return this.ids.map((id) => this.address(id));
  }

  dir(id: number): string {
    return this.proc(id).dir;
  }

  private proc(id: number): Proc {
    const p = this.procs.get(id);
    if (p === undefined) throw new Error(`no replica ${id}`);
    return p;
  }

  running(id: number): boolean {
    return this.proc(id).child !== undefined;
  }

  /** The member id running in slot `id` now. */
  member(id: number): number {
    return this.proc(id).member;
  }

  /** A member id never used in this run (ids are never reused: docs/reconfiguration.md R7). */
  nextMember(): number {
    return Math.max(...[...this.procs.values()].map((p) => p.member)) + 1;
  }

  /**
   * Slot `id` (down, its data directory wiped) will run member `member` from its next start: a new
   * member at the old one's address, started with `--join` (it waits until it is added).
   */
  assign(id: number, member: number): void {
    if (this.running(id)) throw new Error(`replica ${id} is running`);
    const p = this.proc(id);
    p.member = member;
    p.awaitingAdd = true;
  }

  /** Whether slot `id`'s member was assigned and not yet seen in the configuration (then it is added, not replaced). */
  awaitingAdd(id: number): boolean {
    return this.proc(id).awaitingAdd;
  }

  /** Slot `id`'s member was seen in the configuration. */
  added(id: number): void {
    this.proc(id).awaitingAdd = false;
  }

  start(id: number): void {
    const p = this.proc(id);
    if (p.child !== undefined) return;
    const [host, port] = [this.address(id).split(':')[0]!, this.address(id).split(':')[1]!];
    // A founding member keeps its --members (R11: seeds only after the first start); a member added later
    // joins through the other slots' addresses, on every start.
    const founder = p.member === id;
    const seeds = founder
      ? ['--members', this.ids.map((m) => `${m}=${this.address(m)}`).join(',')]
      : ['--join', this.ids.filter((m) => m !== id).map((m) => this.address(m)).join(',')];
    const { file, args } = this.bed.command(id, [process.execPath, ...this.nodeArgs, REPLOG_BIN, 'replica', '--id', String(p.member), '--dir', p.dir, '--listen', `${host}:${port}`, ...seeds]);
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: this.env });
    const log = this.logs.get(id)!;
    log.write(`--- start ${new Date().toISOString()}${founder ? '' : ` as member ${p.member}`}\n`);
    child.stderr!.on('data', (d: Buffer) => log.write(d));
    p.child = child;
    p.paused = false;
    p.exited = new Promise((res) =>
      child.on('exit', (code, signal) => {
        log.write(`--- exit ${code ?? signal}\n`);
        if (p.child === child) p.child = undefined;
        res();
      }),
    );
  }

  /** Sends `signal` and waits for the exit (a paused replica is continued first, or SIGTERM would wait). */
  async stop(id: number, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const p = this.proc(id);
    if (p.child === undefined) return;
    if (p.paused && signal !== 'SIGKILL') this.resume(id);
    p.child.kill(signal);
    await p.exited;
  }

  pause(id: number): void {
    const p = this.proc(id);
    if (p.child === undefined || p.paused) return;
    p.child.kill('SIGSTOP');
    p.paused = true;
  }

  resume(id: number): void {
    const p = this.proc(id);
    if (p.child === undefined || !p.paused) return;
    p.child.kill('SIGCONT');
    p.paused = false;
  }

  /** Deletes everything in the data directory (the replica must be down): it rejoins by itself (autorecovery). */
  wipe(id: number): void {
    if (this.running(id)) throw new Error(`replica ${id} is running`);
    const dir = this.proc(id).dir;
    // The directory itself stays: it may be a small disk's mount point (disks.ts).
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      // No data directory yet: nothing to wipe.
    }
    for (const n of names) rmSync(join(dir, n), { recursive: true, force: true });
    forgetJournal(this.proc(id).dir);
  }

  /** Cuts every file back to what was made durable (the replica must be down; power-loss.ts). */
  powerLoss(id: number): string {
    if (this.running(id)) throw new Error(`replica ${id} is running`);
    return powerLoss(this.proc(id).dir);
  }

  /**
   * Overwrites `bytes` bytes of one segment file at a fraction `at` of its length (the replica must be
   * down). `pick` chooses the file among the sorted segment names, so a seed fixes the choice.
   */
  corrupt(id: number, pick: (n: number) => number, at: number, bytes: number): string | undefined {
    if (this.running(id)) throw new Error(`replica ${id} is running`);
    const dir = this.proc(id).dir;
    let files: string[];
    try {
      files = readdirSync(dir).filter((n) => n.endsWith('.log')).sort();
    } catch {
      return undefined;
    }
    if (files.length === 0) return undefined;
    const f = files[pick(files.length)]!;
    const path = join(dir, f);
    const size = statSync(path).size;
    if (size === 0) return undefined;
    const offset = Math.floor(size * at);
    const n = Math.min(bytes, size - offset);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(n, 0x5a), 0, n, offset);
    closeSync(fd);
    return `${f}@${offset}+${n}`;
  }

  /** SIGKILLs every replica without waiting (an interrupted run, about to exit). */
  killNow(): void {
    for (const p of this.procs.values()) p.child?.kill('SIGKILL');
  }

  async stopAll(): Promise<void> {
    for (const id of this.ids) this.resume(id);
    await Promise.all(this.ids.map((id) => this.stop(id, 'SIGTERM')));
  }

  async close(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.stop(id, 'SIGKILL')));
    await Promise.all([...this.logs.values()].map((l) => new Promise((r) => l.end(r))));
  }
}
