// One replica under mutual TLS for a test file: certificates, free ports for it and for members a test adds,
// started before the file's tests and stopped (its directory removed) after them.
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { freePorts } from '../integration/helpers.js';
import { makeTestCerts, type TestCerts } from './fixture.js';

export interface TlsReplica {
  readonly certs: TestCerts;
  readonly replica: Replica;
  /** ports[0] is the replica's; the others are free for members a test adds. */
  readonly ports: readonly number[];
}

/** Registers the file's before/after hooks; the fields are set once `before` ran. */
export function useTlsReplica(name: string, portCount: number): TlsReplica {
  const state = {} as { certs: TestCerts; replica: Replica; ports: number[] };
  let root = '';
  before(async () => {
    root = mkdtempSync(join(tmpdir(), `replog-tls-${name}-`));
    state.certs = makeTestCerts(join(root, 'certs'));
    state.ports = await freePorts(portCount);
    const listen = `127.0.0.1:${state.ports[0]}`;
    state.replica = await startReplica({ id: 1, dir: join(root, 'r1'), listen, members: `1=${listen}`, logger: pino({ level: 'silent' }), tls: state.certs.material('replica-1') });
    await state.replica.ready;
  });
  after(async () => {
    await state.replica?.stop();
    rmSync(root, { recursive: true, force: true });
  });
  return {
    get certs() { return state.certs; },
    get replica() { return state.replica; },
    get ports() { return state.ports; },
  };
}
