/** `replog read`: prints the entries of [from, to]; --follow keeps printing new ones. */
import { LogClient, type LogEntry } from '../client/log-client.js';
import { InvalidArgumentError } from '../core/errors.js';
import { logAddresses, out, clientOptions } from './common.js';

export type Format = 'text' | 'json' | 'base64';

export function formatEntry(e: LogEntry, format: Format): string {
  const b = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
  switch (format) {
    case 'text':
      return `${e.position}\t${b.toString('utf8')}\n`;
    case 'base64':
      return `${e.position}\t${b.toString('base64')}\n`;
    case 'json':
      return JSON.stringify({ position: e.position, data: b.toString('base64') }) + '\n';
  }
}

export async function readCommand(opts: { log?: string; from?: number; to?: number; follow?: boolean; format: string }): Promise<void> {
  const format = opts.format as Format;
  if (!['text', 'json', 'base64'].includes(format)) throw new InvalidArgumentError(`--format must be text, json or base64, not '${opts.format}'`);
  const log = await LogClient.connect(logAddresses(opts.log), clientOptions());
  try {
    const from = opts.from ?? (await log.beginning());
    if (opts.follow) {
      const stop = () => void log.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      for await (const e of log.tail(from)) {
        if (opts.to !== undefined && e.position > opts.to) break;
        await out(formatEntry(e, format));
      }
      return;
    }
    const to = opts.to ?? (await log.ending());
    // Read in chunks so a long log streams instead of filling memory. `to` is only an upper bound (the highest
    // end a quorum's members claimed: two members that vouch for each other can claim 2^40): stop at the first
    // chunk that shows the log holds nothing more, instead of walking every chunk up to it.
    const chunk = 4096;
    for (let lo = from; lo <= to; lo += chunk) {
      const hi = Math.min(to, lo + chunk - 1);
      const { entries, through } = await log.readThrough(lo, hi);
      for (const e of entries) await out(formatEntry(e, format));
      if (through < hi) break;
    }
  } finally {
    await log.close();
  }
}
