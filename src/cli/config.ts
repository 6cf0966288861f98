/**
 * `replog config show` and `replog member list` (interfaces.md, "Membership"):
 * the configuration the replicas report, which is the one their disks hold
 * (src/storage/stored-config.ts: before any change, the members they were
 * started with, all voters, epoch 0). Read-only until reconfiguration lands
 * (docs/reconfiguration.md); wire version 2 carries the epoch and the members
 * only, so every member shows as a voter and no change as pending.
 */
import { LogClient, type Configuration } from '../client/log-client.js';
import { quorumSize } from '../core/quorum.js';
import { logAddresses, out, clientOptions } from './common.js';
import { collectStatus } from './status.js';

async function configurationAt(log: string | undefined): Promise<Configuration> {
  const client = await LogClient.connect(logAddresses(log), clientOptions());
  try {
    return await client.configuration();
  } finally {
    await client.close();
  }
}

export async function configShowCommand(opts: { log?: string; json?: boolean }): Promise<void> {
  await printConfiguration(await configurationAt(opts.log), opts.json === true);
}

/** The `config show` text (or JSON document) of a configuration: what every change prints after it. */
export async function printConfiguration(c: Configuration, json: boolean): Promise<void> {
  const quorum = quorumSize(c.voters.length);
  const doc = { epoch: c.epoch, voters: c.voters, learners: c.learners, quorum, failuresTolerated: c.voters.length - quorum, pending: null };
  if (json) return out(JSON.stringify(doc) + '\n');
  const list = (ms: Configuration['voters']) => (ms.length === 0 ? '(none)' : ms.map((m) => `${m.id}=${m.address}`).join(', '));
  await out(
    `epoch               ${doc.epoch}\n` +
      `voters              ${list(c.voters)}\n` +
      `learners            ${list(c.learners)}\n` +
      `quorum              ${quorum} of ${c.voters.length}\n` +
      `failures tolerated  ${doc.failuresTolerated}\n` +
      `pending change      none\n`,
  );
}

export async function memberListCommand(opts: { log?: string; json?: boolean }): Promise<void> {
  const c = await configurationAt(opts.log);
  const members = [...c.voters.map((m) => ({ ...m, role: 'voter' })), ...c.learners.map((m) => ({ ...m, role: 'learner' }))].sort((a, b) => a.id - b.id);
  const rows = await collectStatus(members.map((m) => m.address));
  const docs = members.map((m, i) => ({ id: m.id, address: m.address, role: m.role, status: rows[i]!.status, begin: rows[i]!.begin, end: rows[i]!.end }));
  if (opts.json) return out(JSON.stringify({ epoch: c.epoch, members: docs }) + '\n');
  const head = ['ID', 'ADDRESS', 'ROLE', 'STATUS', 'BEGIN', 'END'];
  const body = docs.map((d) => [String(d.id), d.address, d.role, d.status, d.begin === null ? '-' : String(d.begin), d.end === null ? '-' : String(d.end)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cols: string[]) => cols.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  await out(`epoch ${c.epoch}\n` + [head, ...body].map(line).join('\n') + '\n');
}
