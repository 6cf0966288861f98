/**
 * The one error the wire layer raises for bad input. Its `reason` is a stable
 * short code (for logs and metrics); the message says what was wrong and where.
 */
import { ReplogError } from '../core/errors.js';
import type { TlsRefusalReason } from './tls.js';

export type WireErrorReason =
  | 'truncated' // the payload ended inside a field
  | 'trailing-bytes' // bytes left over after the last field
  | 'oversized' // a length prefix above the frame bound, or an array/string above its bound
  | 'unknown-type' // a message type code we do not know
  | 'bad-value' // a field out of range: unsafe integer, unknown enum, invalid UTF-8, ...
  | 'handshake'; // a bad or mismatched hello

export class WireError extends ReplogError {
  override readonly code = 'WIRE_ERROR';
  constructor(
    readonly reason: WireErrorReason,
    message: string,
  ) {
    super(`${reason}: ${message}`);
  }
}

/** One address's refusal of a client's connection, as the client saw it. */
export interface ConnectionRefusal {
  readonly address: string;
  /**
   * The refusal's reason, as in replog_connections_refused_total (docs/security.md, "Refusals"):
   * `refused-by-peer` when the replica refused and said why only in words (`message`).
   */
  readonly reason: TlsRefusalReason;
  readonly message: string;
}

/**
 * The `cause` of the client's ReplogError when every replica address refused its connections for their
 * transport, certificate or hello (mutual TLS and roles): a refusal to fix, not an outage to wait out.
 * `code` tells it apart from other causes without an instanceof.
 */
export class ConnectionRefusedError extends Error {
  readonly code = 'CONNECTION_REFUSED';
  constructor(readonly refusals: readonly ConnectionRefusal[]) {
    super(refusals.map((r) => `${r.address}: ${r.message}`).join('; '));
    this.name = 'ConnectionRefusedError';
  }
}
