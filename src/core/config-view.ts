/**
 * The configuration view a proposer or a replica works with: config(q), the
 * configuration that governs position q (docs/reconfiguration.md, section 2),
 * built from the chain its owner learned. Step 3 of the plan: every core
 * takes a view instead of a member list; with a one-link chain the view is
 * the bootstrap members, all voters, for every position.
 *
 * Cores only count ids: a view built from ids alone (oneLinkView) carries no
 * addresses, and nothing in src/core reads them.
 */
import { assert } from './assert.js';
import { governing, headOf, voterIds, type ConfigHead, type PlacedConfiguration } from './membership.js';
import type { Metadata, Position, ReplicaId } from './types.js';

/** config(q): the configuration that governs position q. */
export type ConfigView = (q: Position) => PlacedConfiguration;

/** The position past every other: the view there is the owner's latest configuration. */
const BEYOND = Number.MAX_SAFE_INTEGER;

/** The latest configuration the view knows (its head): the one new ballots are in. */
export function latestOf(view: ConfigView): PlacedConfiguration {
  return view(BEYOND);
}

/** The head that requests of a ballot in the view's latest configuration carry. */
export function latestHead(view: ConfigView): ConfigHead {
  return headOf(latestOf(view));
}

/** The bootstrap configuration of these members (epoch 0, every one a voter), placed at -1. */
export function bootstrapConfiguration(ids: readonly ReplicaId[]): PlacedConfiguration {
  assert(ids.length >= 1, 'a configuration needs a voter');
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  assert(sorted.length === ids.length, 'members are listed once each');
  return { epoch: 0, voters: sorted.map((id) => ({ id, address: '' })), learners: [], nextId: sorted[sorted.length - 1]! + 1, position: -1, floor: 0 };
}

/** A one-link chain: the bootstrap members, all voters, govern every position (what `members` meant before). */
export function oneLinkView(ids: readonly ReplicaId[]): ConfigView {
  const c = bootstrapConfiguration(ids);
  return () => c;
}

/**
 * The view of a chain (oldest first). A position below the chain's first
 * entry is governed, as far as this owner can tell, by its oldest link: the
 * chain is kept from config(begin) on (R14), so such positions are truncated.
 */
export function chainView(chain: readonly PlacedConfiguration[]): ConfigView {
  assert(chain.length >= 1, 'a chain has at least one configuration');
  return (q) => governing(chain, q) ?? chain[0]!;
}

/**
 * A replica's view: its stored chain (Metadata.configs), read at each call so
 * that it follows what the replica learns; without one (a directory written
 * before reconfiguration, or a store built in memory), the members it was
 * started with, all voters, at epoch 0 (the read side of R11's migration).
 */
export function storedView(metadata: () => Metadata, members: readonly ReplicaId[]): ConfigView {
  const fallback = bootstrapConfiguration(members);
  return (q) => {
    const chain = metadata().configs;
    if (chain === undefined || chain.length === 0) return fallback;
    return governing(chain, q) ?? chain[0]!;
  };
}

/** The voters of config(q), ascending. */
export function votersAt(view: ConfigView, q: Position): ReplicaId[] {
  return voterIds(view(q));
}

/** The head of a replica's latest learned configuration, from its metadata (the bootstrap head if it stores no chain). */
export function storedHead(metadata: Metadata): ConfigHead {
  const chain = metadata.configs;
  return chain === undefined || chain.length === 0 ? { epoch: 0, position: -1 } : headOf(chain[chain.length - 1]!);
}

/**
 * The last position of [from, to] governed by the same configuration as
 * `from` (R1: no round spans two configurations). With one link it is `to`.
 */
export function cutAtConfig(view: ConfigView, from: Position, to: Position): Position {
  const epoch = view(from).epoch;
  if (view(to).epoch === epoch) return to;
  let lo = from;
  let hi = to; // view(lo) is epoch, view(hi) is not
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (view(mid).epoch === epoch) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The chain a view knows, oldest first, as far back as it reaches (each
 * link's predecessor is the configuration governing its own position). A
 * proposer sends a replica that lacks some of it the missing links (R6).
 */
export function chainOfView(view: ConfigView): PlacedConfiguration[] {
  const out = [latestOf(view)];
  for (;;) {
    const c = out[0]!;
    if (c.epoch === 0) break;
    const prev = view(c.position);
    if (prev.epoch !== c.epoch - 1) break;
    out.unshift(prev);
  }
  return out;
}

/** The links of `chain` above a replica's head `epoch` (what it lacks), oldest first. */
export function linksAbove(chain: readonly PlacedConfiguration[], epoch: number): PlacedConfiguration[] {
  return chain.filter((c) => c.epoch > epoch);
}

/** A view extended by links its owner does not know yet (a writer's own installed change). */
export function extendView(view: ConfigView, links: readonly PlacedConfiguration[]): ConfigView {
  if (links.length === 0) return view;
  return (q) => {
    for (let i = links.length - 1; i >= 0; i--) if (links[i]!.position < q && links[i]!.epoch > view(q).epoch) return links[i]!;
    return view(q);
  };
}
