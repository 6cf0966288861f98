/**
 * R13's discovery as the recovery protocol runs it (docs/reconfiguration.md,
 * R9a, R9d, R13): from the recover replies a replica gathered, the latest
 * configuration, the live pending one(s), the chain that leads there, whom
 * to ask next, and whether this replica was removed (R7). Pure: the caller
 * (recovery.ts) sends the requests and feeds the replies back.
 *
 * A recover request carries the asker's head; a replier whose chain is newer
 * answers with the links above it (RecoverReply.links), so the asker learns
 * the members of every newer configuration, not only its epoch. A replier
 * that knows the asker was removed says so (RecoverReply.removed, with the
 * configuration that removed it): the asker never votes again, whatever its
 * flags or its disk say (KAFKA-19850 re-added a removed voter by auto-join).
 *
 * One step of the chained query is membership.ts's `discover`: the newest
 * learned head wins, a pending entry counts only for the next epoch and
 * while no answer learned its position, and discovery is done once a quorum
 * of the latest configuration's voters (and of each live pending one's)
 * answered. Only voters are asked here: they are the ones whose answers
 * count for recording a disk (R9b) and for the restart check (R9d).
 */
import { discover, roleIn, roleOf, type Configuration, type DiscoveryAnswer, type PlacedConfiguration } from './membership.js';
import type { RecoverReply, ReplicaId } from './types.js';

export interface Discovered {
  /** A quorum of the latest configuration (and of each live pending one) answered, none knowing a newer one. */
  readonly done: boolean;
  /** The newest configuration any answer knows. */
  readonly latest: PlacedConfiguration;
  /** Live pending configurations (an entry of the next epoch accepted somewhere, its position learned nowhere). */
  readonly pending: readonly Configuration[];
  /**
   * The chain from the asker's own to `latest`, oldest first, if the answers
   * connect it link by link (or, for an asker with no stored chain, a chain a
   * replier sent whole); undefined if it is the asker's own.
   */
  readonly chain?: readonly PlacedConfiguration[];
  /** The voters to ask (of `latest` and the pending ones), ascending, the asker left out. */
  readonly ask: readonly ReplicaId[];
  /** The configuration that removed the asker, if an answer or the chain says it was (R7). */
  readonly removed?: PlacedConfiguration;
}

/**
 * What the replies say. `own` is the asker's chain (oldest first; its stored
 * one, or its bootstrap configuration alone); `stored` whether it is stored
 * (a replica with no stored chain takes a whole chain a replier sent).
 */
export function discoverFromReplies(
  self: ReplicaId,
  own: readonly PlacedConfiguration[],
  stored: boolean,
  replies: readonly (readonly [ReplicaId, RecoverReply])[],
): Discovered {
  const chain = extendByLinks(own, stored, replies.map(([, r]) => r.links ?? []));
  const known = chain ?? own;
  const byEpoch = new Map<number, PlacedConfiguration>();
  for (const c of own) byEpoch.set(c.epoch, c);
  for (const [, r] of replies) for (const c of [...(r.links ?? []), ...(r.removed === undefined ? [] : [r.removed])]) if (!byEpoch.has(c.epoch)) byEpoch.set(c.epoch, c);
  const answers: DiscoveryAnswer[] = [];
  let unresolved = false;
  for (const [from, r] of replies) {
    const epoch = r.config?.epoch ?? 0;
    const head = byEpoch.get(epoch);
    // A newer head without its links (a replier that sent none) cannot be resolved to members: not done yet.
    if (head === undefined) unresolved = true;
    answers.push({
      from,
      head: head ?? known[known.length - 1]!,
      learnedThrough: r.learnedThrough ?? -1,
      ...(r.pending === undefined ? {} : { pending: { position: r.pending.position, config: r.pending.config } }),
    });
  }
  const d = discover(known[known.length - 1]!, answers);
  const latest = d.latest;
  const pending = d.done ? d.pending : pendingOf(latest, answers);
  const ask = new Set<ReplicaId>();
  for (const c of [latest, ...pending]) for (const m of c.voters) if (m.id !== self) ask.add(m.id);
  let removed: PlacedConfiguration | undefined;
  for (const [, r] of replies) if (r.removed !== undefined && (removed === undefined || r.removed.epoch < removed.epoch)) removed = r.removed;
  if (removed === undefined) removed = removedBy(self, known, latest);
  return {
    done: d.done && !unresolved,
    latest,
    pending,
    ...(chain === undefined ? {} : { chain }),
    ask: [...ask].sort((a, b) => a - b),
    ...(removed === undefined ? {} : { removed }),
  };
}

/**
 * The configuration that removed `self`, if the chain says so: the first link
 * that no longer lists it after one that did; or the latest configuration,
 * if it does not list `self` and its ids have passed it (an id below
 * nextId that is not a member was used and removed, or was never given out:
 * either way it can never join).
 */
export function removedBy(self: ReplicaId, chain: readonly PlacedConfiguration[], latest: PlacedConfiguration): PlacedConfiguration | undefined {
  const all = chain[chain.length - 1]!.epoch >= latest.epoch ? chain : [...chain, latest];
  if (roleOf(all, self) === 'removed') {
    for (let i = 1; i < all.length; i++) if (roleIn(all[i]!, self) === undefined && roleIn(all[i - 1]!, self) !== undefined) return all[i];
    return all[all.length - 1];
  }
  if (roleIn(latest, self) === undefined && self < latest.nextId && latest.epoch > 0) return latest;
  return undefined;
}

/** Live pending configurations above `latest` (as `discover` counts them). */
function pendingOf(latest: PlacedConfiguration, answers: readonly DiscoveryAnswer[]): Configuration[] {
  const learned = Math.max(-1, ...answers.map((a) => a.learnedThrough));
  const out: Configuration[] = [];
  for (const a of answers) {
    const e = a.pending;
    if (e === undefined || e.position <= latest.position || e.config.epoch !== latest.epoch + 1 || learned >= e.position) continue;
    if (!out.some((c) => c.epoch === e.config.epoch && sameMembers(c, e.config))) out.push(e.config);
  }
  return out;
}

function sameMembers(a: Configuration, b: Configuration): boolean {
  const ids = (c: Configuration) => `${c.voters.map((m) => m.id).join(',')}/${c.learners.map((m) => m.id).join(',')}/${c.nextId}`;
  return ids(a) === ids(b);
}

/**
 * The asker's chain extended by the links the replies carried, link by link
 * (epoch k + 1 after k, at a higher position). An asker with no stored
 * chain takes instead the chain reaching the newest epoch that a replier
 * sent whole (it starts at epoch 0, or at the replier's config(begin) after a
 * truncation); of two reaching the same epoch, the first reply's: both are
 * copies of one chain, one maybe cut shorter. Undefined if nothing newer
 * connects.
 */
function extendByLinks(
  own: readonly PlacedConfiguration[],
  stored: boolean,
  links: readonly (readonly PlacedConfiguration[])[],
): PlacedConfiguration[] | undefined {
  if (!stored) {
    let best: readonly PlacedConfiguration[] | undefined;
    for (const l of links) {
      if (l.length === 0 || !consecutive(l)) continue;
      if (best === undefined || l[l.length - 1]!.epoch > best[best.length - 1]!.epoch) best = l;
    }
    if (best !== undefined && best[best.length - 1]!.epoch > own[own.length - 1]!.epoch) return [...best];
    return undefined;
  }
  const out = [...own];
  let added = false;
  for (;;) {
    const head = out[out.length - 1]!;
    let next: PlacedConfiguration | undefined;
    for (const l of links) {
      next = l.find((c) => c.epoch === head.epoch + 1 && c.position > head.position);
      if (next !== undefined) break;
    }
    if (next === undefined) break;
    out.push(next);
    added = true;
  }
  return added ? out : undefined;
}

function consecutive(chain: readonly PlacedConfiguration[]): boolean {
  for (let i = 1; i < chain.length; i++) if (chain[i]!.epoch !== chain[i - 1]!.epoch + 1 || chain[i]!.position <= chain[i - 1]!.position) return false;
  return true;
}
