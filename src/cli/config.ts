/**
 * `replog config show` and `replog member list` (interfaces.md, "Membership"):
 * the configuration the replicas report, which is the one their disks hold
 * (src/storage/stored-config.ts: before any change, the members they were
 * started with, all voters, epoch 0), and the change in progress if a replica
 * holds one accepted above it (docs/reconfiguration.md).
 */
import { LogClient, type Configuration } from '../client/log-client.js';
import { quorumSize } from '../core/quorum.js';
import { logAddresses, out, clientOptions } from './common.js';
import { collectStatus } from './status.js';

type Pending = ReturnType<LogClient['pendingChange']>;

async function configurationAt(log: string | undefined): Promise<{ config: Configuration; pending: Pending }> {
  const client = await LogClient.connect(logAddresses(log), clientOptions());
  try {
    const config = await client.configuration();
    return { config, pending: client.pendingChange() };
  } finally {
    await client.close();
  }
}

export async function configShowCommand(opts: { log?: string; json?: boolean }): Promise<void> {
  const { config, pending } = await configurationAt(opts.log);
  await printConfiguration(config, opts.json === true, pending);
}

/**
 * The `config show` text (or JSON document) of a configuration: what every change prints after it (with
 * no change pending: it just completed). `pending`: a configuration of the next epoch a replica holds
 * accepted and not yet chosen (a change in progress, or one a writer left that the next writer settles).
 */
export async function printConfiguration(c: Configuration, json: boolean, pending: Pending = null): Promise<void> {
  const quorum = quorumSize(c.voters.length);
  const doc = { epoch: c.epoch, voters: c.voters, learners: c.learners, quorum, failuresTolerated: c.voters.length - quorum, pending };
  if (json) return out(JSON.stringify(doc) + '\n');
  const list = (ms: Configuration['voters']) => (ms.length === 0 ? '(none)' : ms.map((m) => `${m.id}=${m.address}`).join(', '));
  const change = pending === null ? 'none' : `epoch ${pending.epoch} at position ${pending.position}: voters ${list(pending.voters)}; learners ${list(pending.learners)}`;
  await out(
    `epoch               ${doc.epoch}\n` +
      `voters              ${list(c.voters)}\n` +
      `learners            ${list(c.learners)}\n` +
      `quorum              ${quorum} of ${c.voters.length}\n` +
      `failures tolerated  ${doc.failuresTolerated}\n` +
      `pending change      ${change}\n`,
  );
}

export async function memberListCommand(opts: { log?: string; json?: boolean }): Promise<void> {
  const { config: c } = await configurationAt(opts.log);
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
