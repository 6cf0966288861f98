/**
 * A raw client connection to a replica's port under mutual TLS, for tests that send protocol messages a
 * LogClient would not (a config write from a plain certificate, a change relay frame): what it was
 * answered, and whether the replica closed it. It never reconnects by itself. And the two-replica
 * TLS cluster such tests run against.
 */
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Message } from '../../src/core/types.js';
import { startReplica } from '../../src/server/replica-server.js';
import { makeTestCerts } from '../tls/fixture.js';
import { freePorts } from './helpers.js';
import { PeerLink } from '../../src/net/peer-link.js';
import { CHANGE_CODES } from '../../src/net/change-codec.js';
import { TlsCredentials, type TlsOptions } from '../../src/net/tls.js';

export interface RawTlsClient {
  readonly link: PeerLink;
  readonly replies: Message[];
  readonly closed: string[];
}

export async function rawTlsClient(address: string, material: TlsOptions): Promise<RawTlsClient> {
  const replies: Message[] = [];
  const closed: string[] = [];
  let connected!: () => void;
  const up = new Promise<void>((r) => (connected = r));
  const link = new PeerLink({
    address,
    clusterId: '',
    tls: new TlsCredentials(material),
    onMessage: (m) => replies.push(m),
    onConnect: () => connected(),
    onDisconnect: (reason) => closed.push(reason),
    extension: { codes: CHANGE_CODES, onFrame: () => undefined },
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  await up;
  return { link, replies, closed };
}

/** Two replicas in this process under mutual TLS (members 1 and 2), stopped and removed after the file's tests. */
export async function twoTlsReplicas(prefix: string) {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const certs = makeTestCerts(join(root, 'certs'));
  const ports = await freePorts(3);
  const addr = (i: number) => `127.0.0.1:${ports[i - 1]}`;
  const members = `1=${addr(1)},2=${addr(2)}`;
  const replicas = await Promise.all([1, 2].map((id) => startReplica({ id, dir: join(root, `r${id}`), listen: addr(id), members, logger: pino({ level: 'silent' }), tls: certs.material(`replica-${id}`) })));
  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    rmSync(root, { recursive: true, force: true });
  });
  return { certs, addr, replicas };
}
