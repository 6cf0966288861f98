/**
 * The acceptor's chain of configurations (docs/reconfiguration.md, R6, R7,
 * R14): which chain a replica holds, how a learned or installed config entry
 * extends it, whether the replica is a voter where a request reaches, and the
 * ballot floor there. Pure functions of the store and the message, used by
 * replica.ts.
 *
 * The chain is extended only link by link (epoch k + 1 after epoch k, at a
 * higher position). A config entry learned before its predecessor (a commit
 * that arrived first, a catch-up that copied a later range first) is held
 * back in the log, unchained; when the missing link is added, every learned
 * entry above it is chained in the same metadata record. Nothing else is
 * needed for R14's invariant: a held-back entry lies above the unlearned
 * predecessor, so learnedThrough has not passed it.
 */
import { governing, headOf, roleOf, sameConfiguration, type ConfigHead, type Configuration, type PlacedConfiguration } from './membership.js';
import type { StoreView } from './store.js';
import type { Metadata, Position, Proposal, ReplicaId } from './types.js';

/** A config entry becoming learned, with the floor it carries (R14). */
export interface LearnedLink {
  readonly position: Position;
  readonly config: Configuration;
  readonly floor: Proposal;
}

/**
 * The chain a replica holds: its stored chain, else the bootstrap
 * configuration its owner passed (its --members), else none (a replica built
 * in memory by a test: it has no configuration to check against, and behaves
 * as before reconfiguration).
 */
export function chainOf(meta: Metadata, bootstrap: PlacedConfiguration | undefined): readonly PlacedConfiguration[] | undefined {
  if (meta.configs !== undefined && meta.configs.length > 0) return meta.configs;
  return bootstrap === undefined ? undefined : [bootstrap];
}

/** The head of a chain (the bootstrap head for none). */
export function chainHead(chain: readonly PlacedConfiguration[] | undefined): ConfigHead {
  return chain === undefined ? { epoch: 0, position: -1 } : headOf(chain[chain.length - 1]!);
}

function placed(l: LearnedLink): PlacedConfiguration {
  const { changeId, ...rest } = l.config;
  return { ...rest, ...(changeId === undefined ? {} : { changeId }), position: l.position, floor: l.floor };
}

/**
 * The chain extended by `links` (any order, any epochs): each one that is
 * the next link, in position order, is appended; the others are left out
 * (already held, or held back until their predecessor comes). Returns the
 * same array if nothing was added.
 */
export function extendChain(chain: readonly PlacedConfiguration[] | undefined, links: readonly LearnedLink[]): readonly PlacedConfiguration[] | undefined {
  const sorted = [...links].sort((a, b) => a.position - b.position);
  let out = chain === undefined ? undefined : [...chain];
  let added = false;
  for (;;) {
    const head = out?.[out.length - 1];
    const next = sorted.find((l) => (head === undefined ? l.config.epoch === 1 : l.config.epoch === head.epoch + 1 && l.position > head.position));
    if (next === undefined) break;
    out = [...(out ?? []), placed(next)];
    added = true;
  }
  return added ? out : chain;
}

/**
 * Learned config entries above the chain's head that are not chained yet
 * (held back: learned before their predecessor), with the ballot they were
 * accepted under as their floor (a commit teaches only values accepted under
 * its own ballot, which is then the ballot that counted them chosen).
 * Walks the slots above the head: config entries are rare, and this runs
 * only when a config entry is learned.
 */
export function heldBackLinks(store: StoreView, chain: readonly PlacedConfiguration[] | undefined): LearnedLink[] {
  const from = chainHead(chain).position + 1;
  const out: LearnedLink[] = [];
  for (const p of store.positions(Math.max(from, store.begin()), store.end())) {
    const s = store.slot(p);
    if (s === undefined || !s.learned || s.kind !== 'config') continue;
    const a = store.action(p);
    if (a === undefined || a === 'lost' || a.kind !== 'config') continue;
    out.push({ position: p, config: a.config, floor: s.accepted });
  }
  return out;
}

/**
 * The ballot under which this replica accepted `config` at `position`, if
 * the value it holds there is that very entry; otherwise undefined. Only the
 * same entry's ballot may serve as a floor: a different value accepted at p
 * was accepted under a ballot below every one that chose the entry (Paxos:
 * from the lowest ballot that chose it on, only it is accepted), so its
 * ballot is below the floor R6 needs (attack5-weak-floor).
 */
export function ownAcceptance(store: StoreView, position: Position, config: Configuration): Proposal | undefined {
  const s = store.slot(position);
  if (s === undefined || s.kind !== 'config' || s.accepted < 1) return undefined;
  const a = store.action(position);
  if (a === undefined || a === 'lost' || a.kind !== 'config' || !sameConfiguration(a.config, config)) return undefined;
  return s.accepted;
}

/**
 * R6, R7: how this replica stands as a voter for a request reaching over
 * [from, to]: 'voter' if every configuration governing those positions lists
 * it as a voter; 'removed' if its chain removed it (it votes on nothing above
 * that entry: 'stale-config'); otherwise 'not-voter' (a learner, or a
 * position of a configuration that does not list it: IGNORED). Without a
 * chain or an id, 'voter' (nothing to check against).
 */
export function voterStanding(
  chain: readonly PlacedConfiguration[] | undefined,
  self: ReplicaId | undefined,
  from: Position,
  to: Position,
): 'voter' | 'removed' | 'not-voter' {
  if (chain === undefined || self === undefined) return 'voter';
  for (const c of governingOver(chain, from, to) ?? []) {
    if (c.voters.some((m) => m.id === self)) continue;
    return roleOf(chain, self) === 'removed' ? 'removed' : 'not-voter';
  }
  return 'voter';
}

/** R6's floor for [from, to]: the highest floor of the configurations governing those positions (0 without a chain). */
export function floorOver(chain: readonly PlacedConfiguration[] | undefined, from: Position, to: Position): Proposal {
  if (chain === undefined) return 0;
  return Math.max(0, ...(governingOver(chain, from, to) ?? []).map((c) => c.floor));
}

/**
 * The links that govern some position of [from, to]. Positions at or below
 * the first link's entry are not checked: the chain no longer reaches them
 * (truncated), or never did (a replica without its bootstrap configuration,
 * whose chain starts at the first link it learned).
 */
function governingOver(chain: readonly PlacedConfiguration[], from: Position, to: Position): PlacedConfiguration[] | undefined {
  const lo = Math.max(from, chain[0]!.position + 1);
  if (lo > to) return undefined;
  const first = governing(chain, lo)!;
  const out = [first];
  for (const c of chain) if (c.position > first.position && c.position < to) out.push(c);
  return out;
}

/**
 * Whether `chain` holds the configuration whose head is `head`. A head older
 * than the chain's first link is below what the chain reaches (a chain that
 * starts at the first link its replica learned): held. Without a chain, only
 * the bootstrap configuration (epoch 0) is held.
 */
export function holdsHead(chain: readonly PlacedConfiguration[] | undefined, head: ConfigHead): boolean {
  if (chain === undefined) return head.epoch === 0;
  if (head.epoch < chain[0]!.epoch) return true;
  return chain.some((c) => c.epoch === head.epoch && c.position === head.position);
}

/**
 * R14's second half: whether a chosen TRUNCATE(to) may move this replica's
 * beginning to `to` while its chain is `chain` (as it will be after the step
 * that learns the TRUNCATE). Yes if it does not move the beginning, if the
 * chain reaches `to` (its head's entry lies at to - 1 or above: every config
 * entry below `to` is in it), or if the TRUNCATE names config(to)'s head and
 * the chain holds it (the proposer's view had no config entry between that
 * head and `to`: R2's barrier and R6 keep a writer that missed one from
 * choosing anything above it). A TRUNCATE that names no head (written before
 * TRUNCATE carried one) is taken unless this replica holds a config entry it
 * has not chained below `to` (`unchained`: it would drop that stop sign).
 */
export function truncationCovered(
  begin: Position,
  chain: readonly PlacedConfiguration[] | undefined,
  to: Position,
  head: ConfigHead | undefined,
  unchained: readonly Position[],
): boolean {
  if (to <= begin) return true;
  const reach = chainHead(chain).position;
  if (reach >= to - 1) return true;
  if (head !== undefined) return holdsHead(chain, head);
  return !unchained.some((p) => p > reach && p < to);
}

/**
 * R14, catch-up: the chain this replica holds once it adopts a peer's
 * beginning `begin`, or undefined if it may not adopt it yet. `peerChain` is
 * the chain the peer sent (ReadReply.chain; may be absent), `peerHead` the
 * peer's head. The peer's links extend this replica's chain link by link,
 * each with the higher of the peer's floor and this replica's own acceptance
 * of the entry (as installFrom does). The beginning is adopted only if the
 * result holds config(begin): the peer's link governing `begin`, or, without
 * the peer's chain, the peer's head (the peer's chain holds config(begin),
 * R14 on the peer, and a chain that holds its head holds all of it).
 */
export function chainForBegin(
  store: StoreView,
  chain: readonly PlacedConfiguration[] | undefined,
  begin: Position,
  peerChain: readonly PlacedConfiguration[] | undefined,
  peerHead: ConfigHead,
): { chain: readonly PlacedConfiguration[] | undefined } | undefined {
  let after = chain;
  if (peerChain !== undefined && peerChain.length > 0) {
    const links: LearnedLink[] = peerChain.map((c) => {
      const { position, floor, ...config } = c;
      return { position, floor: Math.max(floor, ownAcceptance(store, position, config) ?? 0), config };
    });
    after = extendChain(chain, links) ?? chain;
  }
  if (chainHead(after).position >= begin - 1) return { chain: after };
  const governs = peerChain === undefined || peerChain.length === 0 ? undefined : governing(peerChain, begin);
  return holdsHead(after, governs === undefined ? peerHead : headOf(governs)) ? { chain: after } : undefined;
}
