/**
 * The console's banner: can the cluster lose another replica, and if
 * something is wrong, what and what to do. Pure: from the member rows the
 * console shows, so the page, /cluster and the tests read the same words.
 */
import type { MemberRow } from './members-view.js';

export type VerdictLevel = 'ok' | 'warning' | 'critical';

export interface Verdict {
  readonly level: VerdictLevel;
  /** One line: "healthy: can lose 1 more replica", "degraded: …", "no quorum: …". */
  readonly headline: string;
  /** What is wrong with each member that is not VOTING, and what to do; empty when healthy. */
  readonly details: readonly string[];
  /** Members VOTING and answering, the quorum size, and how many more may be lost (0 when none or no quorum). */
  readonly voting: number;
  readonly quorum: number;
  readonly canLose: number;
}

export function quorumOf(members: number): number {
  return Math.floor(members / 2) + 1;
}

const replicas = (n: number) => `${n} more replica${n === 1 ? '' : 's'}`;

/** What each member that is not VOTING needs, in the words of `replog status`. */
function adviceFor(r: MemberRow, haveQuorum: boolean): string | undefined {
  const who = `${r.role === 'learner' ? 'learner' : 'replica'} ${r.id} (${r.address})`;
  switch (r.status) {
    case 'VOTING':
      return undefined;
    case 'UNREACHABLE':
      return `${who} is UNREACHABLE: nothing heard from it for ${secondsText(r.lastContactMs)}; check that its process runs and its port is open (a restart keeps its data)`;
    case 'RECOVERING':
      return r.recovery !== null
        ? `${who} is RECOVERING: catching up ${r.recovery.done} of ${r.recovery.total} positions${r.recovery.etaSeconds !== null ? `, about ${Math.ceil(r.recovery.etaSeconds)} s left` : ''}; it votes once done, nothing to do`
        : haveQuorum
          ? `${who} is RECOVERING: rejoining after losing its data; it votes once it has caught up, nothing to do`
          : `${who} is RECOVERING and waits for a quorum of VOTING replicas to copy from: bring back a replica that holds the data`;
    case 'EMPTY':
    case 'STARTING':
      return haveQuorum
        ? `${who} is ${r.status}: it joins once it has caught up from the others, nothing to do`
        : `${who} is ${r.status}: it will not start an empty log over data others may hold; bring back the members that hold the data`;
  }
}

function secondsText(ms: number | null): string {
  return ms === null ? 'ever (since this console started)' : `${Math.round(ms / 1000)} s`;
}

export function verdict(
  rows: readonly MemberRow[],
  extra: { storageError?: string | null; lostPositions?: number; divergence?: { position: number; peer: number } | null } = {},
): Verdict {
  // Only voters make a quorum; a learner's status is advice, never a lost replica.
  const voters = rows.filter((r) => r.role !== 'learner');
  const n = voters.length;
  const quorum = quorumOf(n);
  const voting = voters.filter((r) => r.status === 'VOTING').length;
  const haveQuorum = voting >= quorum;
  const canLose = haveQuorum ? voting - quorum : 0;
  const details = rows.map((r) => adviceFor(r, haveQuorum)).filter((d): d is string => d !== undefined);
  const self = rows.find((r) => r.self);
  if (extra.storageError) details.unshift(`replica ${self?.id ?? '?'} (this one): storage failed: ${extra.storageError}; it answers nothing until a write succeeds (a failed fsync stops it: restart it)`);
  if ((extra.lostPositions ?? 0) > 0) details.push(`replica ${self?.id ?? '?'} (this one): ${extra.lostPositions} corrupted positions found on disk; not served, being repaired from the others`);
  const div = extra.divergence ?? null;
  if (div !== null) {
    details.unshift(
      `DIVERGENCE: replica ${self?.id ?? '?'} (this one) and replica ${div.peer} hold different chosen values at position ${div.position}; nothing was repaired: run \`replog check\` to see which copy differs from the others, then replace that replica's disk (docs/operations.md, "Divergence checks")`,
    );
  }
  if (!haveQuorum) {
    return { level: 'critical', headline: `no quorum: ${voting} of ${n} replicas VOTING, ${quorum} needed; appends and reads wait until a quorum is back`, details, voting, quorum, canLose };
  }
  if (voting < n) {
    return { level: canLose === 0 ? 'critical' : 'warning', headline: `degraded: can lose ${replicas(canLose)}; ${n - voting} of ${n} not VOTING`, details, voting, quorum, canLose };
  }
  if (div !== null) return { level: 'critical', headline: `divergence: replicas ${self?.id ?? '?'} and ${div.peer} differ at position ${div.position}`, details, voting, quorum, canLose };
  const level = extra.storageError || canLose === 0 || (extra.lostPositions ?? 0) > 0 ? 'warning' : 'ok';
  const headline = canLose === 0 ? `at risk: can lose no more replicas (${n} member${n === 1 ? '' : 's'}, quorum ${quorum})` : `healthy: can lose ${replicas(canLose)}`;
  return { level, headline, details, voting, quorum, canLose };
}
