/**
 * Certificates for the TLS tests, made at test time in a temporary directory
 * (no private key is committed): the cluster's CA with replicas 1-3 and the
 * clients app and admin (as `replog certs create` makes them), plus the bad
 * ones each refusal needs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, createCertificates, issue } from '../../src/cli/certs.js';
import type { TlsOptions } from '../../src/net/tls.js';

export interface TestCerts {
  readonly dir: string;
  /** PEM material by name: replica-1..3, client-app, client-admin, other-ca-app, expired-app, noname. */
  material(name: string): TlsOptions;
  /** The three file paths of a name (for the CLI's flags). */
  files(name: string): { ca: string; cert: string; key: string };
}

export function makeTestCerts(dir: string): TestCerts {
  createCertificates({ dir, replicas: [1, 2, 3], clients: [{ name: 'app', role: 'client' }, { name: 'admin', role: 'admin' }] });
  const ca = join(dir, 'ca');
  createCa(join(dir, 'other-ca'), 'another CA');
  issue(join(dir, 'other-ca'), join(dir, 'other-ca-app'), { kind: 'client', name: 'app', role: 'client' });
  issue(join(dir, 'other-ca'), join(dir, 'other-ca-replica-1'), { kind: 'replica', id: 1 });
  issue(ca, join(dir, 'expired-app'), { kind: 'client', name: 'app', role: 'client' }, [], -1);
  issue(ca, join(dir, 'noname'), { kind: 'none', name: 'prometheus' });
  const caFor = (name: string) => join(dir, name.startsWith('other-ca') ? 'other-ca.crt' : 'ca.crt');
  const files = (name: string) => ({ ca: caFor(name), cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });
  return {
    dir,
    files,
    material(name) {
      const f = files(name);
      return { ca: readFileSync(f.ca), cert: readFileSync(f.cert), key: readFileSync(f.key) };
    },
  };
}
