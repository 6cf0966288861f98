// Protocol fuzzing against live replicas (issue 19): three replicas in this process, a writer appending,
// and connections that send valid frames with hostile field values (generated from the wire schema by
// fast-check), plus forged peers and junk. What must hold: no message makes a replica fail internally
// (an unexpected error closes only that connection and is logged: there must be none); no connection
// other than the offender's is disturbed (the writer's and a reader's links are never closed, every read
// succeeds, and an append fails only by fencing: the fuzzer may propose like any client, and a higher
// proposal fences the writer, which then takes over again; never for want of a quorum, which would be a
// wedge); every acknowledged append reads back; the three replicas hold the same value at every learned
// position; and the replicas serve a fresh writer and reader afterwards.
//
// The fuzzer speaks as a client (and as non-members): a client may legitimately propose, so what it
// writes under a high enough proposal may be chosen (the same on every replica: agreement holds whoever
// proposes). FUZZ_MESSAGES=100000 for a long run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { LogClient } from '../../src/client/log-client.js';
import { WriterFencedError, NoQuorumError } from '../../src/core/errors.js';
import type { Message } from '../../src/core/types.js';
import { encodeFrame } from '../../src/net/codec.js';
import { recordingLogger } from '../net/helpers.js';
import { WIRE_VERSION, encodeHelloFrame } from '../../src/net/hello.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from '../integration/helpers.js';
import { message } from '../net/arbitraries.js';

const MESSAGES = Number(process.env.FUZZ_MESSAGES ?? 20_000);
const text = (d: Uint8Array) => Buffer.from(d).toString('utf8');

/** Messages a fuzzer sends: any valid message, skewed towards the fields that steer a replica. */
const hostile: fc.Arbitrary<Message> = fc.oneof(
  message,
  fc.record({ type: fc.constant('read' as const), rid: fc.nat(), from: fc.nat({ max: 2 ** 50 }), to: fc.nat({ max: 2 ** 50 }), limit: fc.nat({ max: 2 ** 32 - 1 }) }),
  fc.record({ type: fc.constant('recover' as const), rid: fc.nat() }),
);

test(`fuzz: ${MESSAGES} hostile messages against three live replicas while a writer appends`, async () => {
  const root = mkdtempSync(join(tmpdir(), 'replog-fuzz-'));
  const ports = await freePorts(3);
  const members = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const internalErrors: string[] = [];
  // Logs: every 'internal error' (an unexpected exception while handling a message) is a finding.
  const logger = pino({ level: 'info' }, { write: (line: string) => { if (/internal error/.test(line)) internalErrors.push(line.slice(0, 2000)); } });
  const replicas: Replica[] = [];
  for (let i = 0; i < 3; i++) replicas.push(await startReplica({ id: i + 1, dir: join(root, `r${i + 1}`), listen: `127.0.0.1:${ports[i]}`, members, logger }));
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  const clients: LogClient[] = [];
  try {
    await waitFor('the cluster starts', () => replicas.every((r) => r.host.status === 'VOTING'), 60_000);
    // The writer: appends until the fuzzing ends; a fuzzer's promise may fence it, and then a new one takes over.
    const acked = new Map<number, string>();
    const writerLog = recordingLogger();
    const log = await LogClient.connect(addresses, { log: writerLog });
    clients.push(log);
    let fuzzing = true;
    let fenced = 0;
    const wedges: string[] = [];
    const appender = (async () => {
      // An election can be fenced too: a fuzzer's promise is a competing proposer's (then it elects again).
      const elect = async () => {
        for (;;) {
          try {
            return await log.writer();
          } catch (e) {
            if (e instanceof WriterFencedError) fenced++;
            else if (e instanceof NoQuorumError) wedges.push(`election: ${e.message}`);
            else throw e;
          }
        }
      };
      let w = await elect();
      for (let i = 0; fuzzing; i++) {
        const data = `ok-${i}`;
        try {
          acked.set(await w.append(data), data);
        } catch (err) {
          if (!(err instanceof WriterFencedError || err instanceof NoQuorumError)) throw err;
          if (err instanceof NoQuorumError) wedges.push(`append: ${err.message}`);
          else fenced++;
          w = await elect();
        }
      }
    })();
    // A reader beside it: reads the last entries again and again; none may fail.
    const readerLog = recordingLogger();
    const reader = await LogClient.connect(addresses, { log: readerLog });
    clients.push(reader);
    let reads = 0;
    const readFailures: string[] = [];
    const reading = (async () => {
      while (fuzzing) {
        try {
          const end = await reader.ending(); // -1 until the writer's first entry is chosen
          if (end >= 0) await reader.read(Math.max(0, end - 10), end);
          reads++;
        } catch (err) {
          readFailures.push((err as Error).message);
        }
      }
    })();
    await waitFor('the writer appends', () => acked.size > 0, 30_000);
    // The fuzzers: as a client, as a non-member "replica", and as the target replica's own id. (Not as
    // another member: without TLS a connection that names a member is trusted as that member.)
    const hellos = (targetId: number) => [
      encodeHelloFrame({ version: WIRE_VERSION, clusterId: '', role: 'client' }),
      encodeHelloFrame({ version: WIRE_VERSION, clusterId: '', role: 'replica', replicaId: 9 }),
      encodeHelloFrame({ version: WIRE_VERSION, clusterId: '', role: 'replica', replicaId: targetId }),
    ];
    const samples = fc.sample(hostile, { numRuns: MESSAGES, seed: 42 });
    let sent = 0;
    let connections = 0;
    let socket: Socket | undefined;
    let closed = true;
    for (const [k, msg] of samples.entries()) {
      if (closed) {
        const target = k % 3;
        socket = connect({ host: '127.0.0.1', port: ports[target]! });
        socket.on('error', () => {});
        closed = false;
        socket.on('close', () => (closed = true));
        socket.on('data', () => {});
        await new Promise<void>((resolve) => socket!.once('connect', resolve).once('close', resolve));
        if (closed) continue;
        connections++;
        socket.write(hellos(target + 1)[connections % 3]!);
      }
      socket!.write(encodeFrame(msg));
      sent++;
      // Let the replicas answer now and then (and the writer run): a burst, then a turn of the event loop.
      if (sent % 50 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    socket?.destroy();
    fuzzing = false;
    await appender;
    await reading;
    const disturbed = [...writerLog.lines, ...readerLog.lines].filter((l) => /disconnected|dropping it/.test(l.msg ?? ''));
    console.log(
      `# fuzz: ${sent} messages on ${connections} connections; meanwhile ${acked.size} appends acknowledged, ${fenced} fencings by fuzzed proposals, ` +
        `${reads} reads; ${internalErrors.length} internal errors (crashes), ${wedges.length} wedges, ${readFailures.length} failed reads, ${disturbed.length} disturbed links`,
    );
    assert.deepEqual(internalErrors, [], 'no message made a replica fail internally');
    assert.deepEqual(wedges, [], 'no append or election failed for want of a quorum');
    assert.deepEqual(readFailures, [], 'every read beside the fuzzing succeeded');
    assert.deepEqual(disturbed.map((l) => `${l.msg} ${JSON.stringify(l.obj)}`), [], "the writer's and the reader's links were never closed");
    for (const r of replicas) console.log(`# replica ${r.id}: ${r.host.status}, promised ${r.host.store.metadata().promised}, highest ${r.host.store.highestProposal()}, end ${r.host.store.end()}, learned ${r.host.store.learnedThrough()}, ${r.host.waiting}`);
    // Every acknowledged append reads back, and the cluster still serves a fresh writer and reader.
    const after = await LogClient.connect([...addresses].reverse());
    clients.push(after);
    const w = await after.writer();
    const last = await w.append('after the fuzzing');
    if (acked.size > 0) {
      const got = new Map((await after.read(Math.min(...acked.keys()), Math.max(...acked.keys()))).map((e) => [e.position, text(e.data)]));
      for (const [p, d] of acked) assert.equal(got.get(p), d, `acknowledged append at ${p}`);
    }
    assert.equal(text((await after.read(last, last))[0]!.data), 'after the fuzzing');
    // The replicas agree on every position: each learned the same value at each position of the common
    // learned prefix (the last append commits everything below it on every replica, eventually).
    await waitFor('every replica learns through the last append', () => replicas.every((r) => r.host.store.learnedThrough() >= last), 60_000);
    const lo = Math.max(...replicas.map((r) => r.host.store.begin()));
    let compared = 0;
    for (let p = lo; p <= last; p++) {
      const [a, ...rest] = replicas.map((r) => r.host.store.action(p));
      for (const b of rest) assert.deepEqual(b, a, `the replicas disagree at position ${p}`);
      compared++;
    }
    const lost = [...acked].filter(([p, d]) => d !== undefined && p < lo).length;
    console.log(`# fuzz: the three replicas agree on ${compared} positions [${lo}, ${last}]; appends lost 0 (${acked.size} read back${lost > 0 ? `, ${lost} truncated by fuzzed truncations` : ''})`);
  } finally {
    for (const c of clients) await c.close();
    for (const r of replicas) await r.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
