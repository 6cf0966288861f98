/**
 * The one error the wire layer raises for bad input. Its `reason` is a stable
 * short code (for logs and metrics); the message says what was wrong and where.
 */
import { ReplogError } from '../core/errors.js';

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
