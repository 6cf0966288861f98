/**
 * A crash-consistency checker in the manner of ALICE (Pillai et al., OSDI'14):
 * run a workload on a FileStore through a file layer that records every
 * file-system operation (creates, writes, fdatasyncs, truncations, directory
 * fsyncs, unlinks), then build the crash states that a Linux/ext4-like file
 * system allows at each point of that sequence, open each with FileStore, and
 * check that the store either returns every acknowledged record or reports
 * the loss (damage, lost positions, or a non-voting status).
 *
 * The model, per crash point k (the first k operations happened):
 * - a write to a file is durable if an fdatasync of that file followed it
 *   (before k); a later write may be dropped, kept, or torn at 512-byte
 *   sector granularity (any subset of its sectors; a hole it leaves below the
 *   file's end reads as zeros), independently of the others (reordered);
 * - a create or unlink is durable if a directory fsync followed it; the
 *   unsynced ones persist as a prefix (the journal keeps their order);
 * - a truncation is durable with the next fdatasync of its file, else kept or not.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { nodeFileLayer, type FileLayer } from '../../src/storage/file-layer.js';
import { FileStore } from '../../src/storage/file-store.js';
import type { PersistRecord, Position } from '../../src/core/types.js';

export type FsOp =
  | { readonly k: 'create'; readonly name: string }
  | { readonly k: 'write'; readonly name: string; readonly offset: number; readonly bytes: Buffer }
  | { readonly k: 'datasync'; readonly name: string }
  | { readonly k: 'truncate'; readonly name: string; readonly length: number }
  | { readonly k: 'syncDir' }
  | { readonly k: 'unlink'; readonly name: string };

/** A file layer over the real file system that records what it does, by file name. */
export class RecordingLayer implements FileLayer {
  readonly ops: FsOp[] = [];
  private readonly names = new Map<number, string>();
  openSync(path: string, flags: 'r+' | 'wx+'): number {
    const fd = nodeFileLayer.openSync(path, flags);
    this.names.set(fd, basename(path));
    if (flags === 'wx+') this.ops.push({ k: 'create', name: basename(path) });
    return fd;
  }
  closeSync = nodeFileLayer.closeSync;
  sizeSync = nodeFileLayer.sizeSync;
  readSync = nodeFileLayer.readSync;
  readdirSync = nodeFileLayer.readdirSync;
  mkdirSync = nodeFileLayer.mkdirSync;
  async write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const n = await nodeFileLayer.write(fd, buf, offset, length, position);
    this.ops.push({ k: 'write', name: this.names.get(fd)!, offset: position, bytes: Buffer.from(buf.subarray(offset, offset + n)) });
    return n;
  }
  async datasync(fd: number): Promise<void> {
    await nodeFileLayer.datasync(fd);
    this.ops.push({ k: 'datasync', name: this.names.get(fd)! });
  }
  async truncate(fd: number, length: number): Promise<void> {
    await nodeFileLayer.truncate(fd, length);
    this.ops.push({ k: 'truncate', name: this.names.get(fd)!, length });
  }
  async syncDir(dir: string): Promise<void> {
    await nodeFileLayer.syncDir(dir);
    this.ops.push({ k: 'syncDir' });
  }
  async unlink(path: string): Promise<void> {
    await nodeFileLayer.unlink(path);
    this.ops.push({ k: 'unlink', name: basename(path) });
  }
}

/** What the workload was told was durable, and when (ops done at that moment). */
export interface Ack {
  readonly afterOps: number;
  readonly records: readonly PersistRecord[];
}

const value = (p: Position): Uint8Array => new TextEncoder().encode(`entry-${p}-`.repeat(1 + (p % 5)));

/** The workload: metadata, promises, accepts over several small segments, a truncation that reclaims some. */
export async function runWorkload(dir: string, layer: RecordingLayer): Promise<Ack[]> {
  const acks: Ack[] = [];
  const s = await FileStore.open(dir, { fileLayer: layer, replicaId: 1, clusterId: 'c', segmentBytesMax: 700 });
  const step = async (records: PersistRecord[]): Promise<void> => {
    s.append(records);
    await s.sync();
    acks.push({ afterOps: layer.ops.length, records });
  };
  await step([{ type: 'metadata', metadata: { status: 'VOTING', promised: 2, incarnation: 'inc', generation: 1 } }]);
  for (let p = 0; p < 24; p++) {
    const batch: PersistRecord[] = [{ type: 'accept', position: p, proposal: 2 + (p >> 3), action: { kind: 'append', data: value(p) } }];
    if (p % 6 === 5) batch.push({ type: 'promise', position: p + 1, promised: 40 + p });
    if (p === 12) batch.push({ type: 'metadata', metadata: { status: 'VOTING', promised: 9, incarnation: 'inc', generation: 1 } });
    await step(batch);
  }
  await step([{ type: 'commit', from: 0, to: 23, proposal: 4 }, { type: 'learn', position: 24, action: { kind: 'truncate', to: 10 } }]);
  for (let p = 25; p < 30; p++) await step([{ type: 'accept', position: p, proposal: 5, action: { kind: 'append', data: value(p) } }]);
  await s.close();
  return acks;
}

/** A seeded choice of crash states. */
export interface StateChooser {
  /** Uniform in [0, 1). */
  random(): number;
}

type Files = Map<string, Buffer>;

function applyWrite(files: Files, name: string, offset: number, bytes: Buffer, sectors: ((i: number) => boolean) | undefined): void {
  let f = files.get(name);
  if (f === undefined) return; // its create did not persist
  const SECTOR = 512;
  for (let at = 0; at < bytes.length; ) {
    const abs = offset + at;
    const next = Math.min(bytes.length, (Math.floor(abs / SECTOR) + 1) * SECTOR - offset);
    if (sectors === undefined || sectors(Math.floor(abs / SECTOR))) {
      if (offset + next > f.length) {
        const g = Buffer.alloc(offset + next);
        f.copy(g);
        f = g;
      }
      bytes.copy(f, abs, at, next);
    }
    at = next;
  }
  files.set(name, f);
}

/**
 * Builds one crash state after the first `k` operations: `mode` 'synced'
 * keeps only what was made durable, 'all' keeps every operation, 'random'
 * draws each unsynced operation (and each sector of an unsynced write).
 */
export function crashState(ops: readonly FsOp[], k: number, mode: 'synced' | 'all' | 'random', rnd: StateChooser): Files {
  const prefix = ops.slice(0, k);
  // Which operations were made durable by a later sync in the prefix.
  const durable = new Array<boolean>(prefix.length).fill(false);
  let dirSynced = -1;
  const fileSynced = new Map<string, number>();
  for (let i = prefix.length - 1; i >= 0; i--) {
    const op = prefix[i]!;
    if (op.k === 'syncDir' && dirSynced < 0) dirSynced = i;
    if (op.k === 'datasync' && !fileSynced.has(op.name)) fileSynced.set(op.name, i);
  }
  prefix.forEach((op, i) => {
    if (op.k === 'create' || op.k === 'unlink') durable[i] = i < dirSynced;
    else if (op.k === 'write' || op.k === 'truncate') durable[i] = i < (fileSynced.get(op.name) ?? -1);
    else durable[i] = true;
  });
  // Unsynced directory operations persist as a prefix.
  const unsyncedDir = prefix.map((op, i) => ((op.k === 'create' || op.k === 'unlink') && !durable[i] ? i : -1)).filter((i) => i >= 0);
  const dirKept = mode === 'synced' ? 0 : mode === 'all' ? unsyncedDir.length : Math.floor(rnd.random() * (unsyncedDir.length + 1));
  const keepDir = new Set(unsyncedDir.slice(0, dirKept));
  const files: Files = new Map();
  prefix.forEach((op, i) => {
    const keep = durable[i] || mode === 'all' || (op.k === 'create' || op.k === 'unlink' ? keepDir.has(i) : mode === 'random' && rnd.random() < 0.5);
    if (!keep) return;
    switch (op.k) {
      case 'create':
        files.set(op.name, Buffer.alloc(0));
        return;
      case 'unlink':
        files.delete(op.name);
        return;
      case 'write': {
        const torn = !durable[i] && mode === 'random' && rnd.random() < 0.5;
        const chosen = new Map<number, boolean>();
        applyWrite(files, op.name, op.offset, op.bytes, torn ? (s) => chosen.get(s) ?? (chosen.set(s, rnd.random() < 0.5), chosen.get(s)!) : undefined);
        return;
      }
      case 'truncate': {
        const f = files.get(op.name);
        if (f !== undefined) files.set(op.name, f.length >= op.length ? f.subarray(0, op.length) : Buffer.concat([f, Buffer.alloc(op.length - f.length)]));
        return;
      }
      default:
        return;
    }
  });
  return files;
}

/** What a crash state's store showed: 'intact' (every acknowledged record), 'reported' (a loss it reported), or a violation. */
export type Verdict = { readonly ok: true; readonly kind: 'intact' | 'reported' } | { readonly ok: false; readonly why: string };

/** Opens the crash state in `dir` and judges it against the records acknowledged by then. */
export async function judge(dir: string, files: Files, acked: readonly PersistRecord[]): Promise<Verdict> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o700 });
  for (const [name, buf] of files) writeFileSync(join(dir, name), buf, { mode: 0o600 });
  let s: FileStore;
  try {
    s = await FileStore.open(dir, { replicaId: 1, clusterId: 'c' });
  } catch (e) {
    return { ok: false, why: `open failed: ${String(e)}` };
  }
  try {
    const r = s.openReport;
    const reported = r.metadataCorrupted || s.metadata().status !== 'VOTING' || r.corruptRegions.length > 0;
    const lost = new Set(s.lostPositions());
    const wanted = new Map<Position, Uint8Array>();
    let promised = 0;
    for (const rec of acked) {
      if (rec.type === 'accept' && rec.action.kind === 'append') wanted.set(rec.position, rec.action.data);
      if (rec.type === 'promise') promised = Math.max(promised, rec.promised);
    }
    const begin = s.begin();
    // Never serve a value that was not written there.
    for (const p of s.positions(0, 100)) {
      const a = s.action(p);
      const w = wanted.get(p);
      if (a !== undefined && a !== 'lost' && a.kind === 'append' && w !== undefined && Buffer.compare(Buffer.from(a.data), Buffer.from(w)) !== 0) return { ok: false, why: `position ${p} served other bytes` };
    }
    if (reported && s.metadata().status !== 'VOTING') return { ok: true, kind: 'reported' };
    for (const [p, data] of wanted) {
      if (p < begin) continue;
      const a = s.action(p);
      if (a === 'lost' || lost.has(p)) continue; // reported, not voted on, repaired from the others
      if (a === undefined || a.kind !== 'append' || Buffer.compare(Buffer.from(a.data), Buffer.from(data)) !== 0) return { ok: false, why: `acknowledged position ${p} is gone while VOTING (damage reported: ${reported})` };
    }
    if (s.highestProposal() < promised) return { ok: false, why: `highest proposal ${s.highestProposal()} below an acknowledged promise ${promised}` };
    return { ok: true, kind: reported ? 'reported' : 'intact' };
  } finally {
    await s.close();
  }
}

/** Runs the workload and checks `states` crash states drawn from it (every crash point, then random ones). */
export async function checkCrashStates(workDir: string, states: number, rnd: StateChooser): Promise<{ states: number; intact: number; reported: number; violations: string[] }> {
  const layer = new RecordingLayer();
  const acks = await runWorkload(join(workDir, 'run'), layer);
  const ops = layer.ops;
  const out = { states: 0, intact: 0, reported: 0, violations: [] as string[] };
  const stateDir = join(workDir, 'state');
  const modes = ['synced', 'all', 'random'] as const;
  for (let i = 0; i < states; i++) {
    // The first states walk every crash point with the two extreme modes; the rest are random.
    const k = i < 2 * (ops.length + 1) ? i >> 1 : Math.floor(rnd.random() * (ops.length + 1));
    const mode = i < 2 * (ops.length + 1) ? modes[i & 1]! : modes[2];
    const files = crashState(ops, k, mode, rnd);
    const acked = acks.filter((a) => a.afterOps <= k).flatMap((a) => a.records);
    const v = await judge(stateDir, files, acked);
    out.states++;
    if (v.ok) out[v.kind]++;
    else out.violations.push(`crash after op ${k} of ${ops.length} (${mode}): ${v.why}`);
  }
  return out;
}
