/**
 * `replog certs create`: a CA and one key pair per replica and client, made
 * with the `openssl` command (no hand-rolled ASN.1). Names follow
 * src/net/tls.ts: replicas get the SAN URI replog://replica/ID, clients
 * replog://client/NAME, and a client named `admin` (or written NAME:admin)
 * replog://admin/NAME. Every certificate names localhost, 127.0.0.1 and the
 * --hosts given, so it also serves as a server certificate there.
 *
 * Keys are P-256, written 0600 in a directory made 0700. An existing CA in
 * DIR is reused (so new members can be added later); an existing leaf file
 * is never overwritten.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../core/errors.js';
import { isMemberId, MEMBER_ID_MAX } from '../core/membership.js';

/** The CA's lifetime: long, since replacing it means re-issuing every certificate. */
export const CA_DAYS = 3650;
/** A replica's or client's lifetime: a year; rotate before it ends (SIGHUP, docs/security.md). */
export const LEAF_DAYS = 365;

export interface CertsPlan {
  readonly dir: string;
  readonly replicas: readonly number[];
  readonly clients: readonly { name: string; role: 'client' | 'admin' }[];
  /** Extra DNS names or IP addresses every certificate names. */
  readonly hosts?: readonly string[];
  readonly days?: number;
}

/** Who a certificate is for. */
export type Subject = { kind: 'replica'; id: number } | { kind: 'client'; name: string; role: 'client' | 'admin' } | { kind: 'none'; name: string };

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** `app,admin,ops:admin` → clients with roles (the name `admin` has the admin role). */
export function parseClients(list: string): { name: string; role: 'client' | 'admin' }[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [name, role] = item.split(':');
      if (!NAME.test(name!)) throw new InvalidArgumentError(`client name '${name}' must be 1 to 64 of A-Z a-z 0-9 . _ -`);
      if (role !== undefined && role !== 'admin' && role !== 'client') throw new InvalidArgumentError(`client role '${role}' must be admin or client`);
      return { name: name!, role: (role ?? (name === 'admin' ? 'admin' : 'client')) as 'client' | 'admin' };
    });
}

/** `1,2,3` → replica ids. */
export function parseReplicaIds(list: string): number[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const n = Number(s);
      if (!isMemberId(n)) throw new InvalidArgumentError(`replica id '${s}' must be an integer from 1 to ${MEMBER_ID_MAX}`);
      return n;
    });
}

export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new InvalidArgumentError('the openssl command is needed to create certificates (apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim().split('\n')[0] ?? String(err)}`);
  }
}

/** Creates `path` empty with mode 0600, so the key openssl writes into it is never readable by others. */
function privateFile(path: string): void {
  closeSync(openSync(path, 'w', 0o600));
  chmodSync(path, 0o600);
}

/** A minimal openssl config, so that nothing depends on the system's openssl.cnf. */
function withConfig<T>(f: (tmp: string, config: string) => T): T {
  const tmp = mkdtempSync(join(tmpdir(), 'replog-certs-'));
  try {
    const config = join(tmp, 'openssl.cnf');
    writeFileSync(config, '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n');
    return f(tmp, config);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Writes a self-signed CA: `out`.crt and `out`.key. */
export function createCa(out: string, name = 'replog cluster CA', days = CA_DAYS): void {
  withConfig((_tmp, config) => {
    privateFile(`${out}.key`);
    openssl([
      'req', '-x509', '-config', config, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', `${out}.key`, '-out', `${out}.crt`, '-days', String(days), '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  });
  chmodSync(`${out}.key`, 0o600);
}

/** The subject alternative names of a certificate for `who`. */
function altNames(who: Subject, hosts: readonly string[]): string {
  const uri = who.kind === 'replica' ? [`URI:replog://replica/${who.id}`] : who.kind === 'client' ? [`URI:replog://${who.role}/${who.name}`] : [];
  const names = ['localhost', '127.0.0.1', '::1', ...hosts].map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`));
  return [...uri, ...new Set(names)].join(',');
}

/**
 * Issues a certificate for `who`, signed by the CA at `ca`.crt/.key: writes `out`.crt and `out`.key.
 * `days` may be negative (an already expired certificate, for tests).
 */
export function issue(ca: string, out: string, who: Subject, hosts: readonly string[] = [], days = LEAF_DAYS): void {
  for (const h of hosts) if (!/^[A-Za-z0-9.:-]{1,253}$/.test(h)) throw new InvalidArgumentError(`host '${h}' is not a DNS name or an IP address`);
  const cn = who.kind === 'replica' ? `replica-${who.id}` : who.kind === 'client' ? `client-${who.name}` : who.name;
  withConfig((tmp, config) => {
    const csr = join(tmp, 'req.csr');
    const ext = join(tmp, 'ext.cnf');
    writeFileSync(
      ext,
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${altNames(who, hosts)}\n`,
    );
    privateFile(`${out}.key`);
    openssl(['req', '-new', '-config', config, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${out}.key`, '-out', csr, '-subj', `/CN=${cn}`]);
    openssl([
      'x509', '-req', '-in', csr, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial', `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '7')}`,
      '-days', String(days), '-extfile', ext, '-out', `${out}.crt`,
    ]);
  });
  chmodSync(`${out}.key`, 0o600);
}

/** What `replog certs create` writes (interfaces.md, "TLS"); returns the files written. */
export function createCertificates(plan: CertsPlan): string[] {
  const dir = resolve(plan.dir);
  if (plan.replicas.length === 0 && plan.clients.length === 0) throw new InvalidArgumentError('nothing to create: give --replicas and/or --clients');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const written: string[] = [];
  const ca = join(dir, 'ca');
  if (!existsSync(`${ca}.crt`) || !existsSync(`${ca}.key`)) {
    createCa(ca);
    written.push(`${ca}.crt`, `${ca}.key`);
  }
  const leaves: { file: string; who: Subject }[] = [
    ...plan.replicas.map((id) => ({ file: join(dir, `replica-${id}`), who: { kind: 'replica', id } as Subject })),
    ...plan.clients.map((c) => ({ file: join(dir, `client-${c.name}`), who: { kind: 'client', ...c } as Subject })),
  ];
  for (const { file } of leaves) {
    if (existsSync(`${file}.crt`) || existsSync(`${file}.key`)) throw new InvalidArgumentError(`${file}.crt already exists: remove it first to issue a new one`);
  }
  for (const { file, who } of leaves) {
    issue(ca, file, who, plan.hosts ?? [], plan.days ?? LEAF_DAYS);
    written.push(`${file}.crt`, `${file}.key`);
  }
  return written;
}

export function certsCreateCommand(opts: { dir: string; replicas?: string; clients?: string; hosts?: string; days?: number }): void {
  const files = createCertificates({
    dir: opts.dir,
    replicas: parseReplicaIds(opts.replicas ?? ''),
    clients: parseClients(opts.clients ?? ''),
    hosts: (opts.hosts ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    days: opts.days,
  });
  for (const f of files) process.stdout.write(`${f}\n`);
}
