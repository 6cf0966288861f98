// The messages of issue 19 (items 2, 3, 5, 6 and 7), each sent on its own connection to a live replica of a
// three-replica cluster in this process: each is refused or answered harmlessly, closes at most its own
// connection, stores nothing, and leaves the cluster serving a fresh writer and reader.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LogClient } from '../../src/client/log-client.js';
import { limits } from '../../src/core/constants.js';
import type { Message } from '../../src/core/types.js';
import { decodeMessage, encodeFrame } from '../../src/net/codec.js';
import { FrameDecoder } from '../../src/net/frame.js';
import { WIRE_VERSION, encodeHelloFrame } from '../../src/net/hello.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from '../integration/helpers.js';

let root: string;
let replicas: Replica[] = [];
let ports: number[] = [];
const internalErrors: string[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'replog-messages-'));
  ports = await freePorts(3);
  const members = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const logger = pino({ level: 'info' }, { write: (line: string) => void (/internal error|could not be sent|storage failed/.test(line) && internalErrors.push(line)) });
  for (let i = 0; i < 3; i++) replicas.push(await startReplica({ id: i + 1, dir: join(root, `r${i + 1}`), listen: `127.0.0.1:${ports[i]}`, members, logger, net: { handshakeTimeoutMs: 120_000 } }));
  await waitFor('the cluster starts', () => replicas.every((r) => r.host.status === 'VOTING'), 60_000);
});

after(async () => {
  for (const r of replicas) await r.stop();
  replicas = [];
  rmSync(root, { recursive: true, force: true });
});

const asClient = () => encodeHelloFrame({ version: WIRE_VERSION, clusterId: '', role: 'client' });
const asMember = (id: number) => encodeHelloFrame({ version: WIRE_VERSION, clusterId: '', role: 'replica', replicaId: id });

/**
 * Sends `bytes` on a new connection to replica 1; resolves with the replies once `want` arrived or the
 * replica closed the connection.
 */
async function exchange(bytes: Buffer, want: number): Promise<{ replies: Message[]; closed: boolean }> {
  const socket = connect({ host: '127.0.0.1', port: ports[0]! });
  const decoder = new FrameDecoder();
  const replies: Message[] = [];
  let hello = false;
  let closed = false;
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  socket.on('data', (c: Buffer) => {
    for (const f of decoder.push(c)) {
      if (!hello) hello = true;
      else replies.push(decodeMessage(f));
    }
  });
  socket.write(bytes);
  await waitFor('the replies or the close', () => closed || replies.length >= want);
  socket.destroy();
  return { replies, closed };
}

/** A proposal the replicas grant (just above the highest they know): a client may always propose. */
const nextProposal = () => Math.max(...replicas.map((r) => r.host.store.highestProposal())) + 1;

test('item 2: a write of 150,000 NOPs and a learned message of 150,000 entries are refused at decode; only their connections close', async () => {
  const nops = Array.from({ length: 150_000 }, () => ({ kind: 'nop' as const }));
  const endBefore = replicas[0]!.host.store.end();
  const w = await exchange(Buffer.concat([asClient(), encodeFrame({ type: 'write', rid: 1, proposal: nextProposal(), from: endBefore + 1, actions: nops, named: [] })]), 1);
  assert.deepEqual(w, { replies: [], closed: true });
  const entries = nops.map((action, i) => ({ position: endBefore + 1 + i, action }));
  const l = await exchange(Buffer.concat([asMember(2), encodeFrame({ type: 'learned', entries })]), 1);
  assert.deepEqual(l, { replies: [], closed: true });
  assert.equal(replicas[0]!.host.store.end(), endBefore);
});

test('item 3: one NOP written far beyond the end and a commit up to it: not voted on, nothing walked or stored', async () => {
  const far = 2 ** 40;
  const proposal = nextProposal();
  const endBefore = replicas[0]!.host.store.end();
  const { replies, closed } = await exchange(
    Buffer.concat([
      asClient(),
      encodeFrame({ type: 'promise', rid: 1, proposal }),
      encodeFrame({ type: 'write', rid: 2, proposal, from: far, actions: [{ kind: 'nop' }], named: [] }),
      encodeFrame({ type: 'commit', proposal, from: 0, to: far }),
      encodeFrame({ type: 'recover', rid: 3 }),
    ]),
    3,
  );
  assert.equal(closed, false);
  const write = replies.find((m) => m.type === 'writeReply');
  assert.equal(write?.type === 'writeReply' && write.outcome, 'ignored');
  assert.ok(replies.some((m) => m.type === 'recoverReply'), 'the replica answers at once after the commit');
  assert.equal(replicas[0]!.host.store.end(), endBefore, 'nothing stored at 2^40');
});

test('item 5: a promise of 2^53 - 1 is refused at decode; one of 2^50 is not granted; a rejoin for another member and a TRUNCATE past its own position are not taken', async () => {
  const top = await exchange(Buffer.concat([asClient(), encodeFrame({ type: 'promise', rid: 1, proposal: Number.MAX_SAFE_INTEGER })]), 1);
  assert.deepEqual(top, { replies: [], closed: true });
  const bound = await exchange(Buffer.concat([asClient(), encodeFrame({ type: 'promise', rid: 2, proposal: limits.proposalMax })]), 1);
  const reply = bound.replies[0];
  assert.equal(reply?.type === 'promiseReply' && reply.outcome, 'ignored', 'a number with no room above it is not granted');
  const recordedBefore = replicas[0]!.host.store.metadata().recorded;
  const rejoin = await exchange(Buffer.concat([asMember(2), encodeFrame({ type: 'rejoin', rid: 3, member: 3, generation: 9, disk: 9 })]), 1);
  assert.equal(rejoin.replies[0]?.type === 'rejoinReply' && rejoin.replies[0].outcome, 'ignored');
  assert.deepEqual(replicas[0]!.host.store.metadata().recorded, recordedBefore, 'no generation recorded for member 3 on 2\'s word');
  const proposal = nextProposal();
  const end = replicas[0]!.host.store.end();
  const truncate = await exchange(
    Buffer.concat([asClient(), encodeFrame({ type: 'promise', rid: 4, proposal }), encodeFrame({ type: 'write', rid: 5, proposal, from: end + 1, actions: [{ kind: 'truncate', to: end + 100 }], named: [] })]),
    2,
  );
  const tw = truncate.replies.find((m) => m.type === 'writeReply');
  assert.equal(tw?.type === 'writeReply' && tw.outcome, 'ignored', 'a TRUNCATE past its own position is not voted on');
});

test('item 6: a client cannot send what only members may, and a replica hello must name another member', async () => {
  const forged: Message = { type: 'learned', entries: [{ position: 0, action: { kind: 'append', data: new Uint8Array([1]) } }] };
  for (const hello of [asClient(), asMember(9), asMember(1)]) {
    const r = await exchange(Buffer.concat([hello, encodeFrame(forged)]), 1);
    assert.deepEqual(r, { replies: [], closed: true });
  }
});

// The handshake timeout is two minutes here: a connection closed within the test's wait was closed for its length.
test('item 7: a first frame announcing 64 MiB is refused as soon as its length arrives, before any payload', async () => {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(64 * 1024 * 1024, 0);
  const r = await exchange(header, 1);
  assert.deepEqual(r, { replies: [], closed: true });
});

test('after all of them: no internal error, and a fresh writer and reader work', async () => {
  const client = await LogClient.connect(ports.map((p) => `127.0.0.1:${p}`));
  try {
    const w = await client.writer();
    const p = await w.append('still serving');
    assert.equal(Buffer.from((await client.read(p, p))[0]!.data).toString(), 'still serving');
  } finally {
    await client.close();
  }
  assert.deepEqual(internalErrors, []);
});
