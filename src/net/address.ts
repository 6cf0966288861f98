/** Parses `host:port` (IPv6 hosts in brackets: `[::1]:7001`). */
import { InvalidArgumentError } from '../core/errors.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `portZero`: a port to listen on may be 0 (the system picks one); an address to dial may not. */
export function parseAddress(address: string, opts: { portZero?: boolean } = {}): HostPort {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  let host = address.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (i <= 0 || host === '' || !Number.isInteger(port) || port < (opts.portZero === true ? 0 : 1) || port > 65535) {
    throw new InvalidArgumentError(`bad address '${address}': expected HOST:PORT`);
  }
  return { host, port };
}
