/**
 * `replog status`: a row per replica (id, address, status, begin, end,
 * recovery), asked over the replica port itself with a recover request, so it
 * needs nothing but the log's addresses. --watch redraws until Ctrl-C.
 */
import { PeerLink } from '../net/peer-link.js';
import { TlsCredentials } from '../net/tls.js';
import type { Message } from '../core/types.js';
import { commandTlsOptions, logAddresses } from './common.js';

export interface ReplicaRow {
  id: number | null;
  address: string;
  status: string;
  begin: number | null;
  end: number | null;
  recovery: { done: number; total: number } | null;
  /** The member's role in the configuration it holds (interfaces.md): voter, learner, removed; null if it did not answer. */
  role: 'voter' | 'learner' | 'removed' | null;
  /** Why the replica refused the connection (TLS: plaintext, another CA, ...), when it did; absent otherwise. */
  refused?: string;
}

/** Asks every address once; a replica that does not answer within `timeoutMs` is UNREACHABLE. */
export async function collectStatus(addresses: string[], timeoutMs = 2000, tls = cliCredentials()): Promise<ReplicaRow[]> {
  return Promise.all(
    addresses.map(
      (address) =>
        new Promise<ReplicaRow>((resolve) => {
          let id: number | null = null;
          let refused: string | undefined;
          let row: ReplicaRow | undefined;
          let role: ReplicaRow['role'] | undefined;
          let link: PeerLink | undefined = undefined;
          const finish = (row: ReplicaRow) => {
            clearTimeout(timer);
            void link?.close();
            resolve(row);
          };
          const unreachable = (): ReplicaRow => ({ id, address, status: 'UNREACHABLE', begin: null, end: null, recovery: null, role: null, ...(refused === undefined ? {} : { refused }) });
          const timer = setTimeout(() => finish(unreachable()), timeoutMs);
          link = new PeerLink({
            address,
            clusterId: '',
            tls,
            onRefused: (_reason, message) => {
              // A refusal is an answer: no point waiting for the deadline.
              refused = message;
              finish(unreachable());
            },
            onConnect: (peer) => {
              id = peer.replicaId ?? null;
              link!.send({ type: 'recover', rid: 1 });
              link!.send({ type: 'config', rid: 2 });
            },
            onMessage: (msg: Message) => {
              // Its status, and its role in the configuration it holds (its own config reply): both, in either order.
              if (msg.type === 'recoverReply') row = { id, address, status: msg.status, begin: msg.begin, end: msg.end, recovery: msg.progress ?? null, role: null };
              if (msg.type === 'configReply') {
                const voters = msg.voters ?? msg.members;
                role = voters.some((m) => m.id === id) ? 'voter' : (msg.learners ?? []).some((m) => m.id === id) ? 'learner' : 'removed';
              }
              if (row !== undefined && role !== undefined) finish({ ...row, role });
            },
          });
        }),
    ),
  );
}

/** A text progress bar: `[#####.....]  52%  5200/10000`. */
function bar(p: { done: number; total: number }, width = 20): string {
  const f = p.total === 0 ? 1 : Math.min(1, p.done / p.total);
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${String(Math.floor(f * 100)).padStart(3)}%  ${p.done}/${p.total}`;
}

function table(rows: ReplicaRow[], bars = false): string {
  const head = ['ID', 'ADDRESS', 'STATUS', 'BEGIN', 'END', 'RECOVERY'];
  const body = rows.map((r) => [
    String(r.id ?? '-'),
    r.address,
    r.status,
    r.begin === null ? '-' : String(r.begin),
    r.end === null ? '-' : String(r.end),
    r.recovery === null ? '-' : bars ? bar(r.recovery) : `${r.recovery.done}/${r.recovery.total}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** The first line of `replog status`: can the cluster append, and how many more replicas it can lose. */
export function verdict(rows: ReplicaRow[]): string {
  const n = rows.length;
  const quorum = Math.floor(n / 2) + 1;
  const voting = rows.filter((r) => r.status === 'VOTING').length;
  const spare = voting - quorum;
  if (spare < 0) return `no quorum: ${voting} of ${n} replicas VOTING, ${quorum} needed to append or read\n`;
  const more = `can lose ${spare} more replica${spare === 1 ? '' : 's'}`;
  return voting === n ? `healthy: ${more}\n` : `degraded: ${more}; ${n - voting} of ${n} not VOTING\n`;
}

/** One line per replica that is not VOTING, saying why, from what the table shows. */
export function explain(rows: ReplicaRow[]): string {
  const n = rows.length;
  const quorum = Math.floor(n / 2) + 1;
  const voting = rows.filter((r) => r.status === 'VOTING').length;
  const lines: string[] = [];
  for (const r of rows) {
    const who = `replica ${r.id ?? r.address}`;
    if (r.status === 'UNREACHABLE') lines.push(r.refused === undefined ? `${who}: not answering at ${r.address}` : `${who}: ${r.refused}`);
    else if (r.status === 'RECOVERING' && r.recovery !== null) lines.push(`${who}: rejoining, catching up ${r.recovery.done} of ${r.recovery.total} positions; it votes once done`);
    else if ((r.status === 'EMPTY' || r.status === 'RECOVERING') && voting >= quorum) lines.push(`${who}: lost its data and is rejoining (it does not vote until it has caught up)`);
    else if (r.status === 'EMPTY' || r.status === 'RECOVERING' || r.status === 'STARTING') {
      lines.push(
        voting > 0
          ? `${who}: ${r.status}, waiting: only ${voting} of ${n} replicas are VOTING (a quorum is ${quorum}); it will not start an empty log over data that others hold, so bring back a replica that has the data`
          : `${who}: ${r.status}, waiting for every member to answer before a new cluster starts`,
      );
    }
  }
  if (voting < quorum) lines.push(`no quorum: ${voting} of ${n} replicas VOTING, ${quorum} needed to append or read`);
  return lines.length === 0 ? '' : lines.map((l) => `note: ${l}`).join('\n') + '\n';
}

export async function statusCommand(opts: { log?: string; json?: boolean; watch?: boolean }): Promise<void> {
  const addresses = logAddresses(opts.log);
  if (!opts.watch) {
    const rows = await collectStatus(addresses);
    process.stdout.write(opts.json ? JSON.stringify({ replicas: rows }) + '\n' : verdict(rows) + table(rows) + explain(rows));
    return;
  }
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  process.once('SIGTERM', () => (stop = true));
  while (!stop) {
    const rows = await collectStatus(addresses, 1000);
    const text = opts.json ? JSON.stringify({ replicas: rows }) + '\n' : verdict(rows) + table(rows, true) + explain(rows);
    process.stdout.write(process.stdout.isTTY ? `\x1b[2J\x1b[H${new Date().toISOString()}\n${text}` : text);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** This command run's TLS material as credentials (built once: they are checked on construction). */
let credentials: TlsCredentials | undefined;
export function cliCredentials(): TlsCredentials | undefined {
  const tls = commandTlsOptions();
  if (tls === undefined) return undefined;
  credentials ??= new TlsCredentials(tls);
  return credentials;
}
