/**
 * The workload of a nemesis run, as a process of its own (run on the bed's
 * client host, so link faults cut its connections): writers that contend
 * (each election fences the writer before it), many appends in flight,
 * truncations now and then, readers of ranges (one in four of the whole log)
 * and tails. It drives replog only
 * through the public LogClient, and prints every operation, once it ends, as
 * one JSON line on stdout (history.ts); operations still pending when the run
 * ends are printed with outcome `unknown`.
 *
 * Usage: node workload.js '<json WorkloadConfig>'
 */
import { performance } from 'node:perf_hooks';
import { LogClient, ReplogError, WriterFencedError, WriterInDoubtError, type Writer } from '../client/index.js';
import { Prng } from '../sim/prng.js';
import type { Op, Outcome } from './history.js';

export interface WorkloadConfig {
  readonly addresses: readonly string[];
  readonly timeMs: number;
  readonly seed: number;
  readonly writers: number;
  readonly readers: number;
  readonly tails: number;
  /** Most appends one writer has in flight. */
  readonly inflight: number;
  /** A truncation about this often (ms); 0 for none. */
  readonly truncateEveryMs: number;
  /** How long pending operations may take to finish once the run's time is up. */
  readonly drainMs: number;
}

const t0 = performance.now();
let lastTime = 0;
/** ms since the start, strictly increasing: two events never share a time. */
function now(): number {
  lastTime = Math.max(performance.now() - t0, lastTime + 0.001);
  return lastTime;
}

type Draft = { -readonly [K in keyof Op]?: unknown } & { id: number; kind: Op['kind']; actor: string; invoke: number };
const pending = new Map<number, Draft>();
let nextId = 1;
let stopping = false;

function emit(line: object): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function begin(kind: Op['kind'], actor: string, fields: Record<string, unknown>): Draft {
  const d = { id: nextId++, kind, actor, ...fields, invoke: now() } as Draft;
  pending.set(d.id, d);
  return d;
}

function finish(d: Draft, outcome: Outcome, fields: Record<string, unknown> = {}): void {
  if (!pending.delete(d.id)) return;
  emit({ type: 'op', ...d, ...fields, complete: now(), outcome });
}

/** What a failed write did: not-written errors took no effect; any other may have. */
function writeFailure(err: unknown): { outcome: Outcome; error: string; position?: number } {
  const e = err as ReplogError & { outcome?: string; position?: number };
  const error = `${e?.code ?? 'ERROR'}: ${e?.message ?? String(err)}`.slice(0, 300);
  if (e instanceof WriterInDoubtError || e?.outcome === 'not-written') return { outcome: 'fail', error };
  return { outcome: 'unknown', error, ...(typeof e?.position === 'number' ? { position: e.position } : {}) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (d: Uint8Array) => Buffer.from(d).toString('utf8');

/** The highest position acknowledged to any writer, and the last truncation asked for: truncations trail the log. */
let highestAcked = -1;
let lastTruncateAt = 0;
let truncatedTo = 0;

async function writerActor(cfg: WorkloadConfig, name: string, rng: Prng): Promise<void> {
  const log = await LogClient.connect(cfg.addresses);
  let gen = 0;
  let n = 0;
  while (!stopping) {
    const wid = `${name}.${++gen}`;
    const e = begin('elect', name, { writer: wid });
    let w: Writer;
    try {
      w = await log.writer();
      finish(e, 'ok');
    } catch (err) {
      finish(e, 'fail', { error: String((err as Error)?.message ?? err).slice(0, 300) });
      await sleep(rng.int(100, 800));
      continue;
    }
    void w.fenced.then((reason) => {
      // A turn of the event loop later: every acknowledgement the client delivered before the fencing is recorded first.
      if (reason instanceof WriterFencedError) setImmediate(() => emit({ type: 'fenced', writer: wid, time: now() }));
    });
    const until = now() + rng.int(1500, 7000);
    const inflight = new Set<Promise<void>>();
    while (!stopping && now() < until && (w.state === 'elected' || w.state === 'in-doubt')) {
      if (w.state === 'in-doubt') {
        await Promise.allSettled(inflight);
        await reelect(w, wid, name, rng);
        continue;
      }
      if (inflight.size >= cfg.inflight) {
        await Promise.race(inflight);
        continue;
      }
      if (cfg.truncateEveryMs > 0 && now() - lastTruncateAt > cfg.truncateEveryMs && highestAcked - 200 > truncatedTo) {
        lastTruncateAt = now();
        truncatedTo = highestAcked - 200;
        track(inflight, truncateOp(w, wid, name, truncatedTo));
      } else {
        const value = `${wid}:${n}:${'x'.repeat((n * 7) % 61)}`;
        n++;
        track(inflight, appendOp(w, wid, name, value));
      }
      await sleep(rng.int(0, 8));
    }
    await Promise.allSettled(inflight);
    // A writer left in doubt settles its unknown writes before it goes (reelect's verdicts are checked).
    if (w.state === 'in-doubt' && !stopping) await reelect(w, wid, name, rng);
    if (w.state === 'elected') await w.resign().catch(() => undefined);
    await sleep(rng.int(50, 1200));
  }
  await log.close();
}

function track(set: Set<Promise<void>>, p: Promise<void>): void {
  set.add(p);
  void p.finally(() => set.delete(p));
}

async function appendOp(w: Writer, wid: string, actor: string, value: string): Promise<void> {
  const d = begin('append', actor, { writer: wid, value });
  try {
    const position = await w.append(value);
    highestAcked = Math.max(highestAcked, position);
    finish(d, 'ok', { position });
  } catch (err) {
    finish(d, writeFailure(err).outcome, writeFailure(err));
  }
}

async function truncateOp(w: Writer, wid: string, actor: string, to: number): Promise<void> {
  const d = begin('truncate', actor, { writer: wid, to });
  try {
    const position = await w.truncate(to);
    finish(d, 'ok', { position });
  } catch (err) {
    finish(d, writeFailure(err).outcome, writeFailure(err));
  }
}

async function reelect(w: Writer, wid: string, actor: string, rng: Prng): Promise<void> {
  const d = begin('reelect', actor, { writer: wid });
  try {
    const r = await w.reelect();
    finish(d, 'ok', { settled: r.settled.map((s) => ({ position: s.position, kind: s.kind, written: s.written })) });
  } catch (err) {
    // A failed re-election elects nothing (it may still fence others, which fences nothing of the history).
    finish(d, 'fail', { error: String((err as Error)?.message ?? err).slice(0, 300) });
    await sleep(rng.int(200, 1000));
  }
}

async function readerActor(cfg: WorkloadConfig, name: string, rng: Prng): Promise<void> {
  const log = await LogClient.connect(cfg.addresses);
  let n = 0;
  while (!stopping) {
    let from: number;
    let to: number;
    try {
      const end = await log.ending({ timeoutMs: 5000 });
      const b = await log.beginning({ timeoutMs: 5000 });
      // One read in four reads the whole log: old positions are judged again (checker: lost, stale-read).
      from = ++n % 4 === 0 ? b : Math.max(b, end - rng.int(0, 400));
      to = end + rng.int(0, 20);
    } catch {
      await sleep(rng.int(100, 500));
      continue;
    }
    const d = begin('read', name, { from, to, entries: [] });
    try {
      const es = await log.read(from, to);
      finish(d, 'ok', { entries: es.map((e) => [e.position, text(e.data)]) });
    } catch (err) {
      finish(d, 'fail', { error: String((err as Error)?.message ?? err).slice(0, 300) });
    }
    await sleep(rng.int(20, 300));
  }
  await log.close();
}

async function tailActor(cfg: WorkloadConfig, name: string, rng: Prng): Promise<void> {
  const log = await LogClient.connect(cfg.addresses);
  while (!stopping) {
    let from: number;
    try {
      const end = await log.ending({ timeoutMs: 5000 });
      from = Math.max(await log.beginning({ timeoutMs: 5000 }), end - rng.int(0, 200));
    } catch {
      await sleep(rng.int(100, 500));
      continue;
    }
    const entries: [number, string][] = [];
    const d = begin('tail', name, { from, to: from, entries });
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), rng.int(1000, 6000));
    const stopCheck = setInterval(() => stopping && stop.abort(), 100);
    try {
      for await (const e of log.tail(from, { signal: stop.signal })) entries.push([e.position, text(e.data)]);
      finish(d, 'ok', { to: entries.at(-1)?.[0] ?? from });
    } catch (err) {
      // Entries a tail yielded were returned, whatever ended it: they are judged either way.
      finish(d, stop.signal.aborted ? 'ok' : 'fail', { to: entries.at(-1)?.[0] ?? from, ...(stop.signal.aborted ? {} : { error: String((err as Error)?.message ?? err).slice(0, 300) }) });
    } finally {
      clearTimeout(timer);
      clearInterval(stopCheck);
    }
  }
  await log.close();
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]!) as WorkloadConfig;
  const rng = new Prng(cfg.seed);
  const actors: Promise<void>[] = [];
  const guard = (p: Promise<void>, name: string): Promise<void> =>
    p.catch((err) => {
      process.stderr.write(`workload: ${name} stopped: ${(err as Error)?.stack ?? err}\n`);
    });
  for (let i = 1; i <= cfg.writers; i++) actors.push(guard(writerActor(cfg, `w${i}`, new Prng(rng.next32())), `w${i}`));
  for (let i = 1; i <= cfg.readers; i++) actors.push(guard(readerActor(cfg, `r${i}`, new Prng(rng.next32())), `r${i}`));
  for (let i = 1; i <= cfg.tails; i++) actors.push(guard(tailActor(cfg, `t${i}`, new Prng(rng.next32())), `t${i}`));
  await sleep(cfg.timeMs);
  stopping = true;
  await Promise.race([Promise.all(actors), sleep(cfg.drainMs)]);
  // Whatever is still pending never completed: its outcome is unknown.
  for (const d of pending.values()) emit({ type: 'op', ...d, complete: null, outcome: 'unknown' });
  emit({ type: 'end', time: now() });
  process.stdout.write('', () => process.exit(0));
}

main().catch((err) => {
  process.stderr.write(`workload: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
