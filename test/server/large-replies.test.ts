// Replies larger than a frame (issue 19, items 1 and 4), with replica processes. 70 MiB of appends and a
// plain `replog read` (twice: a crash loop showed on the second) leave every replica running, and so does
// a wiped replica's catch-up over them; 70 MiB accepted but never chosen above the end (a proposer that
// wrote and vanished) still give promise replies cut at the byte bound, before and after a restart.
// Before, a read or promise reply over 64 MiB failed its frame assertion inside the socket's data handler
// and the replica exited, or the unsendable promise reply blocked every reply behind it. (The issue's
// five 15 MiB appends make the same 75 MiB reply; entries of 1 MiB keep the writer's retransmissions of
// whole batches from timing out on a loaded machine, which is a matter of the writer, not of this case.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { LogClient } from '../../src/client/log-client.js';
import { NoQuorumError, WriterFencedError } from '../../src/core/errors.js';
import type { Message, PromiseReply, ReadReply } from '../../src/core/types.js';
import { decodeMessage, encodeFrame } from '../../src/net/codec.js';
import { FrameDecoder } from '../../src/net/frame.js';
import { WIRE_VERSION, encodeHelloFrame } from '../../src/net/hello.js';
import { TestCluster, runCli, waitFor } from '../integration/helpers.js';

const MiB = 1024 * 1024;
/** Entries of 1 MiB, 70 of them: more than a frame (64 MiB) in one range. */
const ENTRIES = 70;
const big = (i: number) => Buffer.alloc(MiB, 0x61 + (i % 26)); // 'aaa…', 'bbb…', …
const letter = (i: number) => String.fromCharCode(0x61 + (i % 26));

let cluster: TestCluster;

// About 90 s with 200 MiB of disk writes per run: not part of `npm test`; REPLOG_LARGE_TESTS=1 runs it.
const skip = process.env['REPLOG_LARGE_TESTS'] !== '1';

before(async () => {
  if (skip) return;
  cluster = await TestCluster.create(3);
  await cluster.startAll();
});

after(async () => {
  if (skip) return;
  await cluster.stop();
});

function allRunning(): void {
  for (const r of cluster.replicas) assert.ok(r.proc !== undefined, `replica ${r.id} is running: ${r.stderr.slice(-3000)}`);
}

/** `replog read` of [from, to]: the lines it prints, as position -> first byte and length of the data. */
async function readLines(from: number, to: number, mustSucceed: false): Promise<Map<number, { first: string; bytes: number }> | undefined>;
async function readLines(from: number, to: number): Promise<Map<number, { first: string; bytes: number }>>;
async function readLines(from: number, to: number, mustSucceed = true): Promise<Map<number, { first: string; bytes: number }> | undefined> {
  const r = await runCli(['read', '--from', String(from), '--to', String(to)], { env: { REPLOG_LOG: cluster.addresses.join(',') } });
  if (!mustSucceed && r.code !== 0) return undefined;
  assert.equal(r.code, 0, r.stderr);
  const out = new Map<number, { first: string; bytes: number }>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const tab = line.indexOf('\t');
    out.set(Number(line.slice(0, tab)), { first: line[tab + 1] ?? '', bytes: line.length - tab - 1 });
  }
  return out;
}

test('item 1: 70 MiB of appends, then `replog read` twice and a wiped replica catching up: every replica keeps running', { skip }, async () => {
  const log = await LogClient.connect(cluster.addresses);
  // One at a time, taking over again if an append times out on a loaded machine (then it is appended again).
  let w = await log.writer();
  const positions: number[] = [];
  while (positions.length < ENTRIES) {
    try {
      positions.push(await w.append(big(positions.length)));
    } catch (err) {
      if (!(err instanceof NoQuorumError || err instanceof WriterFencedError)) throw err;
      w = await log.writer();
    }
  }
  await log.close();
  // Each replica pages a read of the whole range: every reply fits a frame, and continuing after its
  // coveredThrough reaches every entry.
  for (const address of cluster.addresses) {
    const got = new Map<number, Uint8Array>();
    let from = positions[0]!;
    for (let pages = 0; from <= positions.at(-1)!; pages++) {
      assert.ok(pages < 2 * ENTRIES, 'the pages move forward');
      const [reply] = await exchange(address, [{ type: 'read', rid: 1, from, to: positions.at(-1)!, limit: 4096 }], 1);
      assert.equal(reply!.type, 'readReply');
      const r = reply as ReadReply;
      for (const s of r.slots) if (s.action?.kind === 'append') got.set(s.position, s.action.data);
      assert.ok(r.coveredThrough >= from, 'a reply covers at least one position');
      from = r.coveredThrough + 1;
    }
    positions.forEach((p, i) => assert.equal(got.get(p)?.[0], letter(i).charCodeAt(0), `${address}: position ${p}`));
  }
  // `replog read` over the range, twice (the crash loop showed on the second): every replica keeps running.
  // (Its output is checked when it succeeds: a read whose replies are cut by the byte bound can time out
  // in the reader under load, on main too, which is the reader's matter, not this case's.)
  for (let round = 0; round < 2; round++) {
    const lines = await readLines(positions[0]!, positions.at(-1)!, false);
    if (lines !== undefined) positions.forEach((p, i) => assert.deepEqual(lines.get(p), { first: letter(i), bytes: MiB }, `position ${p}, read ${round + 1}`));
    allRunning();
  }
  // A wiped replica 3 copies the 70 MiB from its peers in reads of their own.
  await cluster.kill(3);
  rmSync(cluster.replica(3).dir, { recursive: true, force: true });
  cluster.start(3);
  await cluster.waitStatus([3], 'VOTING', 120_000);
  allRunning();
});

/** Sends `msgs` after a client hello to `address`; resolves with the first `want` replies. */
async function exchange(address: string, msgs: Message[], want: number): Promise<Message[]> {
  const [host, port] = address.split(':') as [string, string];
  const socket = connect({ host, port: Number(port) });
  const decoder = new FrameDecoder();
  const replies: Message[] = [];
  let hello = false;
  socket.on('error', () => {});
  socket.on('data', (c: Buffer) => {
    for (const f of decoder.push(c)) {
      if (!hello) hello = true;
      else replies.push(decodeMessage(f));
    }
  });
  socket.write(Buffer.concat([encodeHelloFrame({ version: WIRE_VERSION, clusterId: '', role: 'client' }), ...msgs.map(encodeFrame)]));
  try {
    await waitFor(`${want} replies from ${address}`, () => replies.length >= want, 60_000);
    return replies;
  } finally {
    socket.destroy();
  }
}

test('item 4: 70 MiB accepted above the end and never chosen: every promise reply is cut at the byte bound and sent, before and after a restart of every replica', { skip }, async () => {
  // A proposer that promises, writes 70 values of 1 MiB above the end on every replica, and vanishes.
  const proposal = 1_000;
  const granted = await Promise.all(cluster.addresses.map((a) => exchange(a, [{ type: 'promise', rid: 1, proposal }], 1)));
  const end = Math.max(...granted.map((r) => (r[0] as PromiseReply).end));
  for (const g of granted) assert.equal((g[0] as PromiseReply).outcome, 'accept');
  const writes: Message[] = Array.from({ length: ENTRIES }, (_, i) => ({ type: 'write', rid: 10 + i, proposal, from: end + 1 + i, actions: [{ kind: 'append', data: big(i) }], named: [] }));
  for (const a of cluster.addresses) {
    const replies = await exchange(a, writes, ENTRIES);
    for (const r of replies) assert.equal(r.type === 'writeReply' && r.outcome, 'accept');
  }
  for (const round of ['before', 'after'] as const) {
    if (round === 'after') {
      for (const r of cluster.replicas) await cluster.kill(r.id, 'SIGTERM');
      await cluster.startAll();
    }
    // Every replica answers a promise above it with a reply cut at the byte bound, and pages the rest.
    for (const [k, address] of cluster.addresses.entries()) {
      const [reply] = await exchange(address, [{ type: 'promise', rid: 1, proposal: proposal + 1 + k + (round === 'after' ? 10 : 0) }], 1);
      const pr = reply as PromiseReply;
      assert.equal(pr.outcome, 'accept', `${address} ${round}`);
      assert.ok(pr.coveredThrough < pr.end && pr.slots.length > 0, `${address} ${round}: the promise reply is cut, not too large to send`);
    }
    allRunning();
    // (A writer's election then re-proposes the 70 MiB through its window; on a loaded machine that can
    // exceed the operation timeout, on main too: the writer's throughput, not this case.)
  }
});
