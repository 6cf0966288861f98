// Attack on reconfig3 (wire version 3): the `config` action (kind 3) is now on the wire, and any client
// may put one in a write. Two findings, against a live three-replica cluster in this process:
//  A. Hostile input: the wire decoder (net/config-codec.ts readConfiguration) checks less than the
//     storage codec asserts (storage/config-codec.ts prepareConfig -> configurationProblem): an address
//     that is not HOST:PORT, two members at one address, or more than 256 members in all pass the
//     decoder, the acceptor accepts the write, and persisting the accept record fails an assertion.
//     Rule broken: hostile input from the network is a clean error, never an assertion.
//     Fix: readConfiguration runs configurationProblem (and the 256-member total) and throws WireError.
//  B. Authorisation / step 3 "no behaviour change": a well-formed config entry from a plain client is
//     accepted and, with a commit, learned, though nothing may propose one before step 4 and R15 says a
//     client never makes a configuration no admin asked for. The log then holds a learned config entry
//     that is not in the replica's chain (R14's invariant broken on disk, for step 4's code to meet).
//     Fix: until step 4's change path and R15's checks land, the acceptor IGNOREs writes that carry a
//     config action (or the decoder refuses the kind from a client connection).
// Both failed on reconfig3. Fixed: A by net/codec-parts.ts (storableConfigProblem at decode), B by
// server/admission.ts (a client's write carrying a config action is refused until the change path lands).
// Step 5 opened the change path to clients (R15's first half): B now checks that a plaintext client's
// config write is admitted; the TLS refusal of a plain certificate is in test/server/admission.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Configuration } from '../../src/core/membership.js';
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
/** Replicas that stopped for good (their shell would exit the process with code 70). */
const fatal: string[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'replog-attack3-'));
  ports = await freePorts(3);
  const members = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const logger = pino({ level: 'info' }, { write: (line: string) => void (/internal error|could not be sent|storage failed|Assertion|assert/i.test(line) && internalErrors.push(line)) });
  for (let i = 0; i < 3; i++) replicas.push(await startReplica({ id: i + 1, dir: join(root, `r${i + 1}`), listen: `127.0.0.1:${ports[i]}`, members, logger, net: { handshakeTimeoutMs: 120_000 }, onFatal: (err) => void fatal.push(`r${i + 1}: ${err.message}`) }));
  await waitFor('the cluster starts', () => replicas.every((r) => r.host.status === 'VOTING'), 60_000);
});

after(async () => {
  for (const r of replicas) await r.stop().catch(() => {});
  replicas = [];
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

const asClient = () => encodeHelloFrame({ version: WIRE_VERSION, clusterId: '', role: 'client' });

async function exchange(port: number, bytes: Buffer, want: number): Promise<{ replies: Message[]; closed: boolean }> {
  const socket = connect({ host: '127.0.0.1', port });
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
  const fatalBefore = fatal.length;
  socket.write(bytes);
  await waitFor('the replies, the close or a replica stopping', () => closed || replies.length >= want || fatal.length > fatalBefore, 20_000);
  socket.destroy();
  return { replies, closed };
}

const nextProposal = () => Math.max(...replicas.map((r) => r.host.store.highestProposal())) + 1;
const member = (id: number, address: string) => ({ id, address });

/** Sends one write of `config` at replica `i`'s end + 1; returns the reply (if any) and what its store holds there. */
async function writeConfig(i: number, config: Configuration, commit = false) {
  const r = replicas[i]!;
  const proposal = nextProposal();
  const from = r.host.store.end() + 1;
  const frames = [
    asClient(),
    encodeFrame({ type: 'write', rid: 1, proposal, from, actions: [{ kind: 'config', config }], named: [] }),
    ...(commit ? [encodeFrame({ type: 'commit', proposal, from, to: from }), encodeFrame({ type: 'recover', rid: 2 })] : []),
  ];
  const got = await exchange(ports[i]!, Buffer.concat(frames), commit ? 2 : 1);
  return { ...got, from };
}

test('A: a config action whose address is not HOST:PORT is refused at decode (it was decoded, accepted, and persisting it failed an assertion)', async () => {
  const bad: Configuration = { epoch: 1, voters: [member(1, 'not-an-address')], learners: [], nextId: 2 };
  const got = await writeConfig(0, bad);
  assert.deepEqual(fatal, [], 'no replica stopped for good');
  assert.deepEqual(internalErrors, [], 'no internal error or assertion in the replica');
  const reply = got.replies.find((m) => m.type === 'writeReply');
  assert.ok(got.closed || (reply?.type === 'writeReply' && reply.outcome === 'ignored'), `refused cleanly, got ${JSON.stringify(got.replies)}`);
  assert.equal(replicas[0]!.host.store.slot(got.from), undefined, 'nothing stored');
});

test('A: a config action listing 256 voters and 256 learners (512 members, the stored bound is 256) is refused at decode', async () => {
  const voters = Array.from({ length: 256 }, (_, k) => member(k + 1, `10.0.${k >> 8}.${k & 255}:1`));
  const learners = Array.from({ length: 256 }, (_, k) => member(k + 257, `10.1.${k >> 8}.${k & 255}:1`));
  const got = await writeConfig(1, { epoch: 1, voters, learners, nextId: 600 });
  assert.deepEqual(fatal, [], 'no replica stopped for good');
  assert.deepEqual(internalErrors, [], 'no internal error or assertion in the replica');
  const reply = got.replies.find((m) => m.type === 'writeReply');
  assert.ok(got.closed || (reply?.type === 'writeReply' && reply.outcome === 'ignored'), `refused cleanly, got ${JSON.stringify(got.replies)}`);
});

test('B: a config entry that is not a valid next configuration (it lowers nextId) is refused before the acceptor (it was accepted, learned, and writing its chain stopped the replica)', async () => {
  const bad: Configuration = { epoch: 1, voters: [member(1, `127.0.0.1:${ports[0]}`), member(2, `127.0.0.1:${ports[1]}`)], learners: [], nextId: 3 };
  const got = await writeConfig(1, bad, true);
  assert.deepEqual(fatal, [], 'no replica stopped for good');
  assert.deepEqual(internalErrors, [], 'no internal error or assertion in the replica');
  assert.ok(got.closed, 'the connection is closed');
  assert.equal(replicas[1]!.host.store.slot(got.from), undefined, 'nothing stored');
});

test('B: without TLS a client may write a valid config entry (R15: anyone who reaches the port may change membership, as anyone may truncate); with TLS only an admin certificate may (test/server/admission.test.ts)', async () => {
  const i = 2;
  const ok: Configuration = { epoch: 1, voters: [member(1, `127.0.0.1:${ports[0]}`), member(2, `127.0.0.1:${ports[1]}`)], learners: [], nextId: 4 };
  const got = await writeConfig(i, ok, true);
  assert.deepEqual(fatal, [], 'no replica stopped for good');
  assert.deepEqual(internalErrors, [], 'no internal error or assertion in the replica');
  assert.ok(got.replies.some((m) => m.type === 'writeReply'), `admitted and answered, got ${JSON.stringify(got.replies.map((m) => m.type))}`);
});
