/**
 * `replog member add|promote|remove|replace|update` and `replog config set` (interfaces.md, "Membership";
 * docs/reconfiguration.md section 7): the library's `log.members` steps
 * (src/client/members.ts) with one line a step on stderr and the
 * configuration after the change on stdout. Refused changes exit 1 with one
 * line, malformed arguments 2, no quorum 3, an epoch that moved 4.
 */
import { LogClient, type Configuration } from '../client/log-client.js';
import type { LearnerLag, MemberChangeOptions } from '../client/members.js';
import { InvalidArgumentError as CommanderArgError } from 'commander';
import { InvalidArgumentError } from '../core/errors.js';
import { isMemberId } from '../core/membership.js';
import { checkAddress } from '../server/members.js';
import { clientOptions, logAddresses } from './common.js';
import { printConfiguration } from './config.js';

/** A member id argument: a positive integer, else bad usage (exit 2). */
export function memberId(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !isMemberId(n)) throw new InvalidArgumentError(`'${text}' is not a member id (a positive integer)`);
  return n;
}

/** A member address argument: HOST:PORT, else bad usage (exit 2). */
export function memberAddress(text: string): string {
  checkAddress(text);
  return text;
}

interface CommonOpts {
  readonly log?: string;
  readonly json?: boolean;
  /** Seconds a promotion waits for the learner to catch up. */
  readonly wait?: number;
}

async function withClient(opts: CommonOpts, run: (log: LogClient) => Promise<Configuration>, done?: string): Promise<void> {
  const log = await LogClient.connect(logAddresses(opts.log), clientOptions());
  try {
    const c = await run(log);
    await printConfiguration(c, opts.json === true);
    if (done !== undefined) process.stderr.write(`replog: ${done}\n`);
  } finally {
    await log.close();
  }
}

/** Prints the learner's lag on stderr while a promotion waits (a line when it changes, at most one a second). */
function catchUp(opts: CommonOpts): MemberChangeOptions {
  let last = '';
  let at = 0;
  return {
    ...(opts.wait === undefined ? {} : { catchUpTimeoutMs: opts.wait * 1000 }),
    onLag: (lag: LearnerLag) => {
      const line = `waiting for member ${lag.id} to catch up: ${lag.status}${lag.behind === null ? '' : `, ${lag.behind} positions behind`}`;
      if (line === last || Date.now() - at < 1000) return;
      last = line;
      at = Date.now();
      process.stderr.write(`replog: ${line}\n`);
    },
  };
}

export function memberAddCommand(id: string, address: string, opts: CommonOpts & { voter?: boolean }): Promise<void> {
  const m = memberId(id);
  const a = memberAddress(address);
  return withClient(opts, (log) => log.members.add(m, a, { voter: opts.voter === true, ...catchUp(opts) }));
}

export function memberPromoteCommand(id: string, opts: CommonOpts): Promise<void> {
  const m = memberId(id);
  return withClient(opts, (log) => log.members.promote(m, catchUp(opts)));
}

export function memberRemoveCommand(id: string, opts: CommonOpts & { force?: boolean }): Promise<void> {
  const m = memberId(id);
  return withClient(opts, (log) => log.members.remove(m, { force: opts.force === true }), `complete: member ${m} was removed and may be stopped`);
}

export function memberReplaceCommand(old: string, replacement: string, address: string, opts: CommonOpts): Promise<void> {
  const o = memberId(old);
  const n = memberId(replacement);
  const a = memberAddress(address);
  return withClient(opts, (log) => log.members.replace(o, n, a, catchUp(opts)), `complete: member ${o} was replaced by ${n} and may be stopped`);
}

export function memberUpdateCommand(id: string, address: string, opts: CommonOpts): Promise<void> {
  const m = memberId(id);
  const a = memberAddress(address);
  return withClient(opts, (log) => log.members.update(m, a), `complete: member ${m} is at ${a} now; restart its replica there (same data directory)`);
}

/** commander's parser of a list of member ids (`1,2,4`): bad usage (exit 2) otherwise. */
export function memberIds(text: string): number[] {
  const parts = text.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  const ids: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d+$/.test(p) || !isMemberId(n)) throw new CommanderArgError(`'${p}' is not a member id (a positive integer)`);
    ids.push(n);
  }
  if (new Set(ids).size !== ids.length) throw new CommanderArgError(`'${text}' names a member twice`);
  return ids;
}

export function configSetCommand(opts: CommonOpts & { voters: number[]; learners: number[]; ifEpoch: number }): Promise<void> {
  return withClient(opts, (log) => log.members.set(opts.voters, opts.learners, { ifEpoch: opts.ifEpoch }));
}
