/** What every command shares: addresses, number flags, clean errors. */
import { InvalidArgumentError as CommanderArgError } from 'commander';
import { DEFAULT_ADDRESSES } from '../client/log-client.js';
import { ReplogError } from '../core/errors.js';
import { checkAddress } from '../server/members.js';

/** --log ADDRS, else $REPLOG_LOG, else the local cluster's addresses. */
export function logAddresses(flag: string | undefined): string[] {
  const text = flag ?? process.env['REPLOG_LOG'];
  if (text === undefined || text.trim() === '') return DEFAULT_ADDRESSES;
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const a of list) checkAddress(a);
  return list;
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

/** Prints one clear line (the stack only with --debug) and exits non-zero. */
export function fail(err: unknown): never {
  const e = err as Error;
  const code = err instanceof ReplogError ? ` [${err.code}]` : '';
  process.stderr.write(`replog: ${e?.message ?? String(err)}${code}\n`);
  if (debug && e?.stack) process.stderr.write(e.stack + '\n');
  process.exit(1);
}

/** Writes to stdout, waiting when the pipe is full (so huge outputs keep memory flat). */
export async function out(line: string): Promise<void> {
  if (!process.stdout.write(line)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
}
