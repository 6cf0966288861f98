/** What every command shares: addresses, number flags, clean errors. */
import { InvalidArgumentError as CommanderArgError } from 'commander';
import { DEFAULT_ADDRESSES } from '../client/log-client.js';
import { InvalidArgumentError, NoQuorumError, ReplogError } from '../core/errors.js';
import { checkAddress } from '../server/members.js';

/** --log ADDRS, else $REPLOG_LOG, else the local cluster's addresses. */
export function logAddresses(flag: string | undefined): string[] {
  const text = flag ?? process.env['REPLOG_LOG'];
  if (text === undefined || text.trim() === '') return [...DEFAULT_ADDRESSES];
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

/** Exit statuses (interfaces.md): 0 ok, 1 failure, 2 bad usage, 3 no quorum reachable, 4 a condition failed. */
export const EXIT = { ok: 0, failure: 1, usage: 2, noQuorum: 3, conditionFailed: 4 } as const;

/** The exit status for an error: no quorum is 3, a bad argument 2, anything else 1. */
export function exitStatusFor(err: unknown): number {
  if (err instanceof NoQuorumError) return EXIT.noQuorum;
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
