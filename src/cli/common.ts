/** What every command shares: addresses, TLS flags, number flags, clean errors. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError as CommanderArgError, Option } from 'commander';
import { DEFAULT_ADDRESSES, type LogClientOptions } from '../client/log-client.js';
import type { TlsOptions } from '../net/tls.js';
import { ConfigChangedError, InvalidArgumentError, NoQuorumError, ReplogError } from '../core/errors.js';
import { checkAddress } from '../server/members.js';

/** --log ADDRS, else $REPLOG_LOG, else the local cluster's addresses. */
export function logAddresses(flag: string | undefined): string[] {
  const text = flag ?? process.env['REPLOG_LOG'];
  if (text === undefined || text.trim() === '') return [...DEFAULT_ADDRESSES];
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const a of list) checkAddress(a);
  return list;
}

/** The TLS flags as commander parses them. */
export interface TlsFlags {
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

/** --tls-ca, --tls-cert, --tls-key: for every command that connects or listens (added in main.ts). */
export function tlsFlagOptions(): Option[] {
  return [
    new Option('--tls-ca <file>', "the cluster's CA certificate, PEM (default $REPLOG_TLS_CA); with the next two: mutual TLS"),
    new Option('--tls-cert <file>', 'this process\'s certificate, PEM (default $REPLOG_TLS_CERT)'),
    new Option('--tls-key <file>', 'its private key, PEM (default $REPLOG_TLS_KEY)'),
  ];
}

/** The TLS files named by the flags, else by REPLOG_TLS_* (an empty variable counts as unset); undefined for plaintext. */
export function tlsFiles(flags: TlsFlags): { ca: string; cert: string; key: string } | undefined {
  const env = (name: string) => {
    const v = process.env[name];
    return v === undefined || v.trim() === '' ? undefined : v;
  };
  const ca = flags.tlsCa ?? env('REPLOG_TLS_CA');
  const cert = flags.tlsCert ?? env('REPLOG_TLS_CERT');
  const key = flags.tlsKey ?? env('REPLOG_TLS_KEY');
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  if (ca === undefined || cert === undefined || key === undefined) {
    const missing = [ca === undefined && '--tls-ca', cert === undefined && '--tls-cert', key === undefined && '--tls-key'].filter(Boolean).join(', ');
    throw new InvalidArgumentError(`TLS needs all three of --tls-ca, --tls-cert and --tls-key (or REPLOG_TLS_CA, _CERT, _KEY): missing ${missing}`);
  }
  return { ca, cert, key };
}

/** Reads the TLS files (again, on each call: certificate rotation re-reads them). */
export function readTls(files: { ca: string; cert: string; key: string }): TlsOptions {
  const read = (flag: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new InvalidArgumentError(`cannot read ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return { ca: read('--tls-ca', files.ca), cert: read('--tls-cert', files.cert), key: read('--tls-key', files.key) };
}

/** The TLS material of this command run (set from its flags before its action runs; see main.ts). */
let commandTls: TlsOptions | undefined;

export function useTlsFlags(flags: TlsFlags): void {
  const files = tlsFiles(flags);
  commandTls = files === undefined ? undefined : readTls(files);
}

export function commandTlsOptions(): TlsOptions | undefined {
  return commandTls;
}

/** LogClient options for this command run: its TLS material, if any. */
export function clientOptions(): LogClientOptions {
  return commandTls === undefined ? {} : { tls: commandTls };
}

/** Bad usage found by an action (exit 2, one line). */
export function usageError(message: string): never {
  throw new InvalidArgumentError(message);
}

/** commander argument parser for non-negative safe integers. */
export function natural(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new CommanderArgError(`'${value}' is not a non-negative integer`);
  return n;
}

/** commander argument parser for ports. */
export function port(value: string): number {
  const n = natural(value);
  if (n < 1 || n > 65535) throw new CommanderArgError(`'${value}' is not a port (1-65535)`);
  return n;
}

export let debug = process.argv.includes('--debug');

/** Exit statuses (interfaces.md): 0 ok, 1 failure, 2 bad usage, 3 no quorum reachable, 4 a condition failed. */
export const EXIT = { ok: 0, failure: 1, usage: 2, noQuorum: 3, conditionFailed: 4 } as const;

/** The exit status for an error: no quorum is 3, a bad argument 2, anything else 1. */
export function exitStatusFor(err: unknown): number {
  if (err instanceof NoQuorumError) return EXIT.noQuorum;
  if (err instanceof ConfigChangedError) return EXIT.conditionFailed;
  if (err instanceof InvalidArgumentError || err instanceof CommanderArgError) return EXIT.usage;
  return EXIT.failure;
}

/** Prints one clear line (the stack only with --debug) and exits non-zero. */
export function fail(err: unknown): never {
  const e = err as Error;
  const code = err instanceof ReplogError ? ` [${err.code}]` : '';
  process.stderr.write(`replog: ${e?.message ?? String(err)}${code}\n`);
  if (debug && e?.stack) process.stderr.write(e.stack + '\n');
  process.exit(exitStatusFor(err));
}

/**
 * A reader that stops early (`replog read | head -1`) closes the pipe: end
 * quietly with status 0, as Unix tools do, instead of an EPIPE stack trace.
 */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT.ok);
      throw err;
    });
  }
}

/** Writes to stdout, waiting when the pipe is full (so huge outputs keep memory flat). */
export async function out(line: string): Promise<void> {
  if (!process.stdout.write(line)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
}
