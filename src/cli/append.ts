/**
 * `replog append [DATA...]`: one writer appends each argument, or each line of
 * stdin, with many appends in flight; positions print in order as soon as each
 * is chosen. The first failure stops the command with one line on stderr.
 */
import { createInterface } from 'node:readline';
import { LogClient } from '../client/log-client.js';
import { fail, logAddresses, out, clientOptions } from './common.js';

/** Lines read ahead of the printed positions, at most (keeps memory flat for endless input). */
const READ_AHEAD_MAX = 16_384;

export async function appendCommand(data: string[], opts: { log?: string }): Promise<void> {
  const log = await LogClient.connect(logAddresses(opts.log), clientOptions());
  const writer = await log.writer().catch(fail);
  // Appends resolve in position order; each is printed after the one before it.
  let printed = Promise.resolve();
  const unprinted: Promise<void>[] = [];
  const submit = async (line: string) => {
    const p = writer.append(line);
    p.catch(() => {}); // reported in order below
    printed = printed.then(async () => {
      try {
        await out(`${await p}\n`);
      } catch (err) {
        fail(err);
      }
    });
    unprinted.push(printed);
    if (unprinted.length > READ_AHEAD_MAX) await unprinted.splice(0, READ_AHEAD_MAX / 2).pop();
  };
  if (data.length > 0) {
    for (const d of data) await submit(d);
  } else {
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of rl) await submit(line);
  }
  await printed;
  await log.close();
}
