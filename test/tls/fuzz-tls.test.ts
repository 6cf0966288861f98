// Fuzzing under mutual TLS (issue 15): three TLS replicas in this process, a writer appending and a reader
// reading with a client certificate, while other connections send hostile input: valid frames with hostile
// fields as a client, a client certificate speaking as a replica, replica 2's certificate speaking as
// member 1, plaintext hellos and random bytes on the TLS port, random bytes inside TLS, and a certificate of
// another CA. What must hold: no replica fails internally, the writer's and reader's links are never
// disturbed, no append or election fails for want of a quorum, every acknowledged append reads back, and
// every refusal is counted. FUZZ_MESSAGES=100000 for a long run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import pino from 'pino';
import { LogClient } from '../../src/client/log-client.js';
import { NoQuorumError, WriterFencedError } from '../../src/core/errors.js';
import type { Message } from '../../src/core/types.js';
import { encodeFrame } from '../../src/net/codec.js';
import { WIRE_VERSION, encodeHelloFrame } from '../../src/net/hello.js';
import type { TlsOptions } from '../../src/net/tls.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts, waitFor } from '../integration/helpers.js';
import { message } from '../net/arbitraries.js';
import { recordingLogger } from '../net/helpers.js';
import { makeTestCerts } from './fixture.js';

const MESSAGES = Number(process.env.FUZZ_MESSAGES ?? 5_000);
const text = (d: Uint8Array) => Buffer.from(d).toString('utf8');
/** Inputs sent on one connection at most. */
const PER_CONNECTION_MAX = 100;

/** One fuzzing input: a hostile message, or raw bytes. */
const input: fc.Arbitrary<{ msg: Message } | { bytes: Uint8Array }> = fc.oneof(
  { weight: 4, arbitrary: message.map((msg) => ({ msg })) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({ bytes })) },
);

/** How a fuzzing connection introduces itself; most are a client with a good certificate. */
type Kind = 'client' | 'client-as-replica' | 'replica-2-as-1' | 'plaintext' | 'other-ca';
const KINDS: readonly Kind[] = ['client', 'client', 'client', 'client', 'client', 'client-as-replica', 'replica-2-as-1', 'plaintext', 'other-ca', 'client'];

test(`fuzz under TLS: ${MESSAGES} hostile inputs against three TLS replicas while a writer appends`, async () => {
  const root = mkdtempSync(join(tmpdir(), 'replog-fuzz-tls-'));
  const certs = makeTestCerts(join(root, 'certs'));
  const ports = await freePorts(3);
  const members = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const internalErrors: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { if (/internal error/.test(line)) internalErrors.push(line.slice(0, 2000)); } });
  const replicas: Replica[] = [];
  for (let i = 0; i < 3; i++) {
    replicas.push(await startReplica({ id: i + 1, dir: join(root, `r${i + 1}`), listen: `127.0.0.1:${ports[i]}`, members, logger, tls: certs.material(`replica-${i + 1}`) }));
  }
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  const tls = certs.material('client-app');
  const clients: LogClient[] = [];
  try {
    await waitFor('the cluster starts', () => replicas.every((r) => r.host.status === 'VOTING'), 60_000);
    const acked = new Map<number, string>();
    const writerLog = recordingLogger();
    const log = await LogClient.connect(addresses, { log: writerLog, tls });
    clients.push(log);
    let fuzzing = true;
    const wedges: string[] = [];
    const appender = (async () => {
      let w = await log.writer();
      for (let i = 0; fuzzing; i++) {
        try {
          acked.set(await w.append(`ok-${i}`), `ok-${i}`);
        } catch (err) {
          if (!(err instanceof WriterFencedError || err instanceof NoQuorumError)) throw err;
          if (err instanceof NoQuorumError) wedges.push(`append: ${err.message}`);
          w = await log.writer();
        }
      }
    })();
    const readerLog = recordingLogger();
    const reader = await LogClient.connect(addresses, { log: readerLog, tls });
    clients.push(reader);
    const readFailures: string[] = [];
    const reading = (async () => {
      while (fuzzing) {
        try {
          const end = await reader.ending();
          if (end >= 0) await reader.read(Math.max(0, end - 10), end);
        } catch (err) {
          readFailures.push((err as Error).message);
        }
      }
    })();
    await waitFor('the writer appends', () => acked.size > 0, 30_000);

    const hello = (role: 'client' | 'replica', id?: number) =>
      encodeHelloFrame(role === 'client' ? { version: WIRE_VERSION, clusterId: '', role } : { version: WIRE_VERSION, clusterId: '', role, replicaId: id });
    const open = async (kind: Kind, port: number): Promise<Socket | undefined> => {
      const material: TlsOptions | undefined =
        kind === 'plaintext' ? undefined : kind === 'replica-2-as-1' ? certs.material('replica-2') : kind === 'other-ca' ? { ...certs.material('other-ca-app'), ca: tls.ca } : tls;
      const s: Socket =
        material === undefined ? tcpConnect({ host: '127.0.0.1', port }) : tlsConnect({ host: '127.0.0.1', port, ...material, rejectUnauthorized: false });
      let closed = false;
      s.on('error', () => {});
      s.on('close', () => (closed = true));
      s.on('data', () => {});
      await new Promise<void>((resolve) => s.once(material === undefined ? 'connect' : 'secureConnect', resolve).once('close', resolve));
      if (closed) return undefined;
      s.write(kind === 'client' || kind === 'other-ca' ? hello('client') : kind === 'client-as-replica' ? hello('replica', 2) : kind === 'replica-2-as-1' ? hello('replica', 1) : hello('client'));
      return s;
    };
    const samples = fc.sample(input, { numRuns: MESSAGES, seed: 15 });
    let sent = 0;
    let connections = 0;
    let socket: Socket | undefined;
    let onThisConnection = 0;
    for (const [k, item] of samples.entries()) {
      // A new connection when the replica closed the last one, or after a while (random bytes may announce a
      // long frame that swallows everything after them: legitimate, but it would starve the fuzzing).
      if (socket === undefined || socket.destroyed || socket.readyState !== 'open' || onThisConnection >= PER_CONNECTION_MAX) {
        socket?.destroy();
        socket = await open(KINDS[connections % KINDS.length]!, ports[k % 3]!);
        connections++;
        onThisConnection = 0;
        if (socket === undefined) continue;
      }
      onThisConnection++;
      socket.write('msg' in item ? encodeFrame(item.msg) : item.bytes);
      sent++;
      // A burst, then a turn of the event loop: the replicas answer (or close), and the writer runs.
      if (sent % 10 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    socket?.destroy();
    fuzzing = false;
    await appender;
    await reading;
    const disturbed = [...writerLog.lines, ...readerLog.lines].filter((l) => /disconnected|dropping it/.test(l.msg ?? ''));
    let refused = 0;
    for (const r of replicas) {
      for (const m of (await r.metrics.registry.metrics()).matchAll(/^replog_connections_refused_total\{[^}]*\} (\d+)$/gm)) refused += Number(m[1]);
    }
    console.log(
      `# fuzz under TLS: ${sent} inputs on ${connections} connections, ${refused} connections refused; meanwhile ${acked.size} appends acknowledged; ` +
        `${internalErrors.length} internal errors (crashes), ${wedges.length} wedges, ${readFailures.length} failed reads, ${disturbed.length} disturbed links`,
    );
    assert.deepEqual(internalErrors, [], 'no input made a replica fail internally');
    assert.deepEqual(wedges, [], 'no append failed for want of a quorum');
    assert.deepEqual(readFailures, [], 'every read beside the fuzzing succeeded');
    assert.deepEqual(disturbed.map((l) => `${l.msg} ${JSON.stringify(l.obj)}`), [], "the writer's and the reader's links were never closed");
    assert.ok(refused > 0, 'the refusals were counted');
    const after = await LogClient.connect([...addresses].reverse(), { tls });
    clients.push(after);
    const last = await (await after.writer()).append('after the fuzzing');
    const got = new Map((await after.read(Math.min(...acked.keys()), Math.max(...acked.keys()))).map((e) => [e.position, text(e.data)]));
    let lost = 0;
    for (const [p, d] of acked) if (got.get(p) !== d && p >= (await after.beginning())) lost++;
    console.log(`# fuzz under TLS: appends lost ${lost} of ${acked.size}`);
    assert.equal(lost, 0);
    assert.equal(text((await after.read(last, last))[0]!.data), 'after the fuzzing');
  } finally {
    for (const c of clients) await c.close();
    for (const r of replicas) await r.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
