/**
 * Mutual TLS for the replica port (docs/security.md): the credentials a
 * process presents (CA, certificate, key; reloadable), the identity a
 * certificate names, and the verdict on a peer once its TLS handshake is done.
 *
 * Both sides verify by hand (rejectUnauthorized: false, then `judge*`), so
 * that a refusal can be told to the other side in a refusal frame (hello.ts)
 * and logged here with its reason, instead of a bare reset on both ends.
 *
 * Identity: a certificate names who holds it in a SAN URI:
 *   replog://replica/<id>     a member, id >= 1
 *   replog://client/<name>    a client (role client: read, append, truncate)
 *   replog://admin/<name>     a client with the admin role (membership changes)
 * A certificate of the CA with no such name (a Prometheus scraper's) may read
 * the admin endpoint's /metrics and /status, and nothing on the replica port.
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { InvalidArgumentError } from '../core/errors.js';

/** PEM strings or buffers, as `startReplica({ tls })` and `LogClient.connect(addrs, { tls })` take them. */
export interface TlsOptions {
  readonly ca: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export type CertIdentity =
  | { readonly kind: 'replica'; readonly id: number }
  | { readonly kind: 'client'; readonly name: string; readonly role: 'client' | 'admin' }
  | { readonly kind: 'none' };

/** Stable short codes for why a connection was refused (logs, metrics). */
export type TlsRefusalReason =
  | 'plaintext' // a plaintext peer on a TLS port
  | 'tls-on-plaintext-port' // a TLS peer on a plaintext port
  | 'no-certificate'
  | 'unknown-ca'
  | 'expired'
  | 'not-yet-valid'
  | 'hostname' // the replica's certificate does not name the host dialled
  | 'no-identity' // signed by the CA, but names no replog replica or client
  | 'wrong-identity' // names another member, or a client speaking as a replica
  | 'handshake-failed'
  | 'refused-by-peer';

export type TlsVerdict = { readonly ok: true; readonly identity: CertIdentity } | { readonly ok: false; readonly reason: TlsRefusalReason; readonly message: string };

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** The replog identity a certificate names (see the file comment); `none` if it names none, an error text if it names several. */
export function certIdentity(cert: X509Certificate): CertIdentity | string {
  const uris = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('URI:replog://'))
    .map((s) => s.slice('URI:replog://'.length));
  if (uris.length === 0) return { kind: 'none' };
  if (uris.length > 1) return `the certificate names several replog identities (${uris.join(', ')})`;
  const [kind, name, ...rest] = uris[0]!.split('/');
  if (rest.length > 0 || name === undefined || !NAME.test(name)) return `the certificate's replog name '${uris[0]}' is malformed`;
  if (kind === 'replica') {
    const id = Number(name);
    if (!Number.isSafeInteger(id) || id < 1 || String(id) !== name) return `the certificate names replica '${name}', not an id >= 1`;
    return { kind: 'replica', id };
  }
  if (kind === 'client' || kind === 'admin') return { kind: 'client', name, role: kind };
  return `the certificate's replog name '${uris[0]}' is neither replica/ID, client/NAME nor admin/NAME`;
}

export function describeIdentity(id: CertIdentity): string {
  if (id.kind === 'replica') return `replica ${id.id}`;
  if (id.kind === 'client') return `${id.role === 'admin' ? 'admin' : 'client'} '${id.name}'`;
  return 'no replog identity';
}

/**
 * What this process presents and trusts. `reload` swaps in new files
 * (certificate rotation): connections made afterwards use them, open ones
 * keep theirs. Bad material is refused with one clear line, and a failed
 * reload keeps the credentials in force.
 */
export class TlsCredentials {
  private opts: TlsOptions;
  private context: SecureContext;
  private listeners: (() => void)[] = [];
  /** Who our own certificate names. */
  identity: CertIdentity;
  /** When our certificate stops being valid (ms since the epoch). */
  notAfter: number;

  constructor(opts: TlsOptions) {
    const checked = check(opts);
    this.opts = opts;
    this.context = checked.context;
    this.identity = checked.identity;
    this.notAfter = checked.notAfter;
  }

  reload(opts: TlsOptions): void {
    const checked = check(opts);
    this.opts = opts;
    this.context = checked.context;
    this.identity = checked.identity;
    this.notAfter = checked.notAfter;
    for (const f of this.listeners) f();
  }

  /** Called after each reload (the listener swaps its server context). */
  onReload(f: () => void): void {
    this.listeners.push(f);
  }

  /** For tls.createServer / server.setSecureContext. */
  serverOptions(): { ca: string | Buffer; cert: string | Buffer; key: string | Buffer; requestCert: true; rejectUnauthorized: false } {
    return { ca: this.opts.ca, cert: this.opts.cert, key: this.opts.key, requestCert: true, rejectUnauthorized: false };
  }

  /** For tls.connect: the current context (new connections use the latest reload). */
  get secureContext(): SecureContext {
    return this.context;
  }
}

/** Builds the context and checks the certificate against the CA, so a wrong file fails at start with a clear line. */
function check(opts: TlsOptions): { context: SecureContext; identity: CertIdentity; notAfter: number } {
  let cert: X509Certificate;
  let cas: X509Certificate[];
  try {
    cert = new X509Certificate(opts.cert);
  } catch (err) {
    throw new InvalidArgumentError(`TLS: the certificate is not a PEM certificate (${(err as Error).message})`);
  }
  try {
    // A CA file may hold several certificates (the old and the new CA while the CA is rotated).
    const pems = String(opts.ca).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (pems.length === 0) throw new Error('no PEM certificate in it');
    cas = pems.map((p) => new X509Certificate(p));
  } catch (err) {
    throw new InvalidArgumentError(`TLS: the CA is not a PEM certificate (${(err as Error).message})`);
  }
  let context: SecureContext;
  try {
    context = createSecureContext({ ca: opts.ca, cert: opts.cert, key: opts.key });
  } catch (err) {
    const m = (err as Error).message;
    throw new InvalidArgumentError(/mismatch/i.test(m) ? 'TLS: the key does not match the certificate' : `TLS: bad key or certificate (${m})`);
  }
  if (!cas.some((ca) => cert.verify(ca.publicKey))) throw new InvalidArgumentError(`TLS: the certificate (${cert.subject.replace(/\n/g, ', ')}) is not signed by the CA given`);
  const identity = certIdentity(cert);
  if (typeof identity === 'string') throw new InvalidArgumentError(`TLS: ${identity}`);
  return { context, identity, notAfter: Date.parse(cert.validTo) };
}

/** Bytes needed by looksLikeTls. */
export const TLS_SNIFF_BYTES = 3;

/** A TLS record header (handshake, version 3.x): never the start of a replog hello, whose length is at most 1024. */
export function looksLikeTls(head: Buffer): boolean {
  return head.length >= TLS_SNIFF_BYTES && head[0] === 0x16 && head[1] === 0x03 && head[2]! <= 0x04;
}

/** Why the chain did not verify, in words; `whose` is "the client's" or "the replica's". */
function chainProblem(code: string, whose: string): TlsVerdict {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return { ok: false, reason: 'expired', message: `${whose} certificate has expired` };
    case 'CERT_NOT_YET_VALID':
      return { ok: false, reason: 'not-yet-valid', message: `${whose} certificate is not valid yet` };
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return { ok: false, reason: 'hostname', message: `${whose} certificate does not name the host dialled (${code})` };
    default:
      return { ok: false, reason: 'unknown-ca', message: `${whose} certificate is not signed by this cluster's CA (${code})` };
  }
}

/** The listening replica's verdict on a client or peer, once its TLS handshake is done. */
export function judgeClient(socket: TLSSocket): TlsVerdict {
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) {
    return { ok: false, reason: 'no-certificate', message: 'no client certificate was presented (give --tls-cert and --tls-key, or REPLOG_TLS_CERT and REPLOG_TLS_KEY)' };
  }
  if (!socket.authorized) return chainProblem(String(socket.authorizationError), "the client's");
  const identity = certIdentity(cert);
  if (typeof identity === 'string') return { ok: false, reason: 'no-identity', message: identity };
  if (identity.kind === 'none') return { ok: false, reason: 'no-identity', message: 'the client certificate names no replog client or replica (a SAN URI replog://client/NAME)' };
  return { ok: true, identity };
}

/** A client's (or dialling replica's) verdict on the replica it reached, once the TLS handshake is done. */
export function judgeReplica(socket: TLSSocket, expectId: number | undefined): TlsVerdict {
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return { ok: false, reason: 'no-certificate', message: 'the replica presented no certificate' };
  if (!socket.authorized) return chainProblem(String(socket.authorizationError), "the replica's");
  const identity = certIdentity(cert);
  if (typeof identity === 'string') return { ok: false, reason: 'no-identity', message: identity };
  if (identity.kind !== 'replica') return { ok: false, reason: 'wrong-identity', message: `the server's certificate is not a replica's (it names ${describeIdentity(identity)})` };
  if (expectId !== undefined && identity.id !== expectId) {
    return { ok: false, reason: 'wrong-identity', message: `the certificate at this address names replica ${identity.id}, expected member ${expectId}` };
  }
  return { ok: true, identity };
}

/** A TLS error before the handshake completed, in words (the client side: what the replica did to us). */
export function explainHandshakeError(err: NodeJS.ErrnoException): { reason: TlsRefusalReason; message: string } {
  const code = err.code ?? '';
  if (/CERTIFICATE_REQUIRED/.test(code)) return { reason: 'no-certificate', message: 'the replica requires a client certificate (give --tls-cert and --tls-key)' };
  if (/UNKNOWN_CA|BAD_CERTIFICATE/.test(code)) return { reason: 'unknown-ca', message: `the replica refused our certificate (${code})` };
  if (/CERTIFICATE_EXPIRED/.test(code)) return { reason: 'expired', message: 'the replica says our certificate has expired' };
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD_LAYER/.test(code) || code === 'ECONNRESET' || code === 'EPIPE') {
    return { reason: 'handshake-failed', message: `TLS handshake failed (${code}): does the replica run without TLS?` };
  }
  return { reason: 'handshake-failed', message: `TLS handshake failed: ${err.message}` };
}
