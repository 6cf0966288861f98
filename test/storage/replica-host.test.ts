/**
 * The server's shell (src/server/replica-host.ts) over a FileStore: nothing
 * that reveals state leaves before it is durable, a failed write never drops
 * a step's records (the core counted them), and a failed fsync stops the
 * replica for good.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, ReadReply } from '../../src/core/types.js';
import { ReplicaHost, type ReplyTarget } from '../../src/server/replica-host.js';
import { StorageFatalError } from '../../src/storage/errors.js';
import { FileStore } from '../../src/storage/file-store.js';
import { nodeFileLayer } from '../../src/storage/file-layer.js';
import { FaultyLayer } from './faulty-layer.js';
import { removeTempDirs, tempDir } from './tmp-dirs.js';

test.after(removeTempDirs);

const quiet = { info() {}, warn() {}, error() {} };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Waits for `cond`, polling, up to a generous deadline (no fixed sleeps). */
async function until(cond: () => boolean, what: string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A file layer whose fdatasyncs wait until the test lets them through (on the thread pool: a main-thread sync cannot wait). */
class GatedLayer extends FaultyLayer {
  private gate: (() => void)[] = [];
  held = false;
  constructor() {
    super({ synchronous: false });
  }
  override async datasync(fd: number): Promise<void> {
    if (this.held) await new Promise<void>((r) => this.gate.push(r));
    return super.datasync(fd);
  }
  open(): void {
    this.held = false;
    for (const r of this.gate.splice(0)) r();
  }
}

async function votingStore(layer = nodeFileLayer): Promise<FileStore> {
  const dir = tempDir();
  const s0 = await FileStore.open(dir);
  s0.append([{ type: 'metadata', metadata: { status: 'VOTING', promised: 3, incarnation: 'i' } }]);
  for (let p = 0; p < 5; p++) s0.append([{ type: 'accept', position: p, proposal: 3, action: { kind: 'append', data: enc(`v${p}`) } }]);
  await s0.sync();
  await s0.close();
  return FileStore.open(dir, { fileLayer: layer });
}

test('a reply without records of its own waits for the records appended before it (a read after a lazy commit)', async () => {
  const layer = new GatedLayer();
  const store = await votingStore(layer);
  const host = new ReplicaHost({ id: 1, members: [1], store, log: quiet, sendToPeer() {}, onFatal: () => assert.fail('fatal') });
  layer.held = true;
  host.handle({ type: 'commit', proposal: 3, from: 0, to: 4 }, { send: () => true });
  let reply: ReadReply | undefined;
  const target: ReplyTarget = { send: (m: Message) => ((reply = m as ReadReply), true) };
  host.handle({ type: 'read', rid: 1, from: 0, to: 4, limit: 100 }, target);
  // The commit's record is not durable yet: the read, which would reveal it as learned, must wait.
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(reply, undefined, 'the read reply left before the commit it reveals was durable');
  layer.open();
  await until(() => reply !== undefined, 'the read reply');
  assert.equal(reply!.learnedThrough, 4);
  assert.ok(store.durableSeq() >= 1);
  await host.drain();
  await store.close();
});

test('a failed write pauses the replica and drops no step: a rejoin under a full disk never turns VOTING with holes', async () => {
  const dir = tempDir();
  const layer = new FaultyLayer();
  const store = await FileStore.open(dir, { fileLayer: layer, initialMetadata: { status: 'RECOVERING', promised: 0, incarnation: 'x' } });
  const sent: { to: number; msg: Message }[] = [];
  const host = new ReplicaHost({ id: 1, members: [1, 2, 3], store, log: quiet, sendToPeer: (to, msg) => sent.push({ to, msg }), onFatal: () => assert.fail('fatal') });
  const take = (type: string): { to: number; msg: Message }[] => {
    const out = sent.filter((s) => s.msg.type === type);
    sent.length = 0;
    return out;
  };
  const ok: ReplyTarget = { send: () => true };
  const END = 599;
  host.tick();
  for (const { to, msg } of take('recover')) host.handle({ type: 'recoverReply', rid: (msg as { rid: number }).rid, status: 'VOTING', begin: 0, end: END, incarnation: 'peer', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0, recorded: [] }, ok, to);
  await until(() => sent.some((s) => s.msg.type === 'rejoin'), 'rejoin requests');
  for (const { to, msg } of take('rejoin')) {
    const m = msg as { rid: number; generation: number; disk: number };
    host.handle({ type: 'rejoinReply', rid: m.rid, outcome: 'accept', status: 'VOTING', begin: 0, end: END, generation: m.generation, disk: m.disk }, ok, to);
  }
  const answer = ({ to, msg }: { to: number; msg: Message }): void => {
    const r = msg as { rid: number; from: number; to: number };
    const slots = Array.from({ length: r.to - r.from + 1 }, (_, i) => ({ position: r.from + i, promised: 0, accepted: 0, learned: true, action: { kind: 'append' as const, data: enc(`chosen-${r.from + i}`) } }));
    host.handle({ type: 'readReply', rid: r.rid, status: 'VOTING', begin: 0, end: END, learnedThrough: END, coveredThrough: r.to, lost: [], slots, writerActive: false }, ok, to);
  };
  let reads = take('read');
  assert.ok(reads.length >= 2, 'catch-up reads');
  layer.writeFaults.push(...Array<string>(50).fill('ENOSPC')); // the disk fills up
  answer(reads[0]!);
  await until(() => host.storageError !== undefined, 'the failed write');
  answer(reads[1]!); // paused: dropped as a network would lose it, never half-applied
  layer.writeFaults.length = 0; // space is freed
  for (let round = 0; round < 200 && store.metadata().status !== 'VOTING'; round++) {
    host.tick();
    await new Promise((r) => setTimeout(r, 5));
    reads = reads.slice(2).concat(take('read'));
    for (const r of reads.splice(0)) answer(r);
    for (const { to, msg } of take('recover')) host.handle({ type: 'recoverReply', rid: (msg as { rid: number }).rid, status: 'VOTING', begin: 0, end: END, incarnation: 'peer', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0, recorded: [] }, ok, to);
  }
  await host.drain();
  const held = [...store.positions(0, END)].filter((p) => store.slot(p)?.learned === true).length;
  assert.equal(store.metadata().status, 'VOTING', 'the rejoin finished once space was back');
  assert.equal(held, END + 1, 'VOTING only with the whole range learned');
  await store.close();
  const r = await FileStore.open(dir);
  assert.equal(r.metadata().status, 'VOTING');
  assert.equal([...r.positions(0, END)].length, END + 1, 'after a restart too');
  await r.close();
});

test('a failed fdatasync stops the host for good: nothing waiting is released, onFatal is called', async () => {
  const layer = new FaultyLayer();
  const store = await votingStore(layer);
  let fatal: Error | undefined;
  const host = new ReplicaHost({ id: 1, members: [1], store, log: quiet, sendToPeer() {}, onFatal: (e) => (fatal = e) });
  layer.syncFaults.push('EIO');
  let replied = false;
  host.handle({ type: 'promise', rid: 1, proposal: 9 }, { send: () => ((replied = true), true) });
  await until(() => fatal !== undefined, 'the fatal failure');
  assert.ok(fatal instanceof StorageFatalError);
  assert.equal(replied, false, 'the promise was never made durable: no reply');
  host.handle({ type: 'promise', rid: 2, proposal: 10 }, { send: () => ((replied = true), true) });
  host.tick();
  assert.equal(replied, false);
  await store.close();
});

for (const [synchronous, path] of [
  [true, 'main thread'],
  [false, 'thread pool'],
] as const) {
  test(`a failed write or fdatasync surfaces alike on the ${path}: no reply, the replica reports it, nothing acknowledged that is not durable`, async () => {
    const layer = new FaultyLayer({ synchronous });
    const store = await votingStore(layer);
    const events: string[] = [];
    let fatal: Error | undefined;
    const host = new ReplicaHost({ id: 1, members: [1], store, log: quiet, sendToPeer() {}, onStorage: (e) => events.push(e.state), onFatal: (e) => (fatal = e) });
    const replies: Message[] = [];
    const target: ReplyTarget = { send: (m) => (replies.push(m), true) };
    const durable0 = store.durableSeq();
    layer.writeFaults.push('EIO');
    host.handle({ type: 'promise', rid: 1, proposal: 9 }, target);
    await until(() => events.includes('paused'), 'the paused event');
    assert.deepEqual(replies, [], 'no reply for a promise whose write failed');
    assert.equal(store.durableSeq(), durable0);
    for (let i = 0; i < 2000 && !events.includes('resumed'); i++) {
      host.tick();
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => replies.length === 1, 'the reply once the write went through');
    assert.ok(store.durableSeq() > durable0, 'replied only once durable');
    layer.syncFaults.push('EIO');
    host.handle({ type: 'promise', rid: 2, proposal: 10 }, target);
    await until(() => fatal !== undefined, 'the fatal failure');
    assert.ok(fatal instanceof StorageFatalError);
    assert.deepEqual(events, ['paused', 'resumed', 'fatal']);
    assert.equal(replies.length, 1, 'no reply for a promise whose fdatasync failed');
    assert.deepEqual(new Set(layer.paths), new Set([synchronous ? 'sync' : 'async']), `every write and sync on the ${path}`);
    await store.close();
  });
}

test('lazy records (a commit) are synced by the next tick, not by a timer of their own', async () => {
  const store = await votingStore();
  const host = new ReplicaHost({ id: 1, members: [1], store, log: quiet, sendToPeer() {}, onFatal: () => assert.fail('fatal') });
  const durable0 = store.durableSeq();
  host.handle({ type: 'commit', proposal: 3, from: 0, to: 4 }, { send: () => true });
  assert.ok(store.metadata() !== undefined);
  // No timer: however many turns of the event loop pass, nothing syncs the commit's record before a tick.
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  assert.equal(store.durableSeq(), durable0, 'synced without a tick');
  host.tick();
  await until(() => store.durableSeq() > durable0, 'the tick to sync the lazy record');
  await host.drain();
  await store.close();
});

test('a read queued behind lazy records syncs at once, without waiting for the tick', async () => {
  const store = await votingStore();
  const host = new ReplicaHost({ id: 1, members: [1], store, log: quiet, sendToPeer() {}, onFatal: () => assert.fail('fatal') });
  host.handle({ type: 'commit', proposal: 3, from: 0, to: 4 }, { send: () => true });
  let reply: ReadReply | undefined;
  host.handle({ type: 'read', rid: 1, from: 0, to: 4, limit: 100 }, { send: (m: Message) => ((reply = m as ReadReply), true) });
  // No tick is ever called here: the reply must start its own sync.
  await until(() => reply !== undefined, 'the read reply');
  assert.equal(reply!.learnedThrough, 4);
  await host.drain();
  await store.close();
});
