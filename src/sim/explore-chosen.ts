/**
 * "Chosen" across configuration changes, as docs/reconfiguration.md section 8
 * defines it, for the world's checks when its replicas hold a chain
 * (World with `learners`, the exhaustive search's change configurations):
 * a value is chosen at q when a quorum of config(q)'s voters accepted it
 * under one ballot that is in config(q) (the write named config(q)'s head),
 * counting only the disks that ballot's proposer named. Acceptances under
 * another configuration's ballot are leftovers nobody may count.
 *
 * config(q) comes from the true chain, itself derived from the acceptances:
 * the entry of epoch k + 1 is chosen at p when it is chosen there in this
 * sense under C_k (Step 1 of section 8), or when a replica learned it. The
 * chain is recomputed from the whole history at each check, so a value that
 * looked chosen under C_k above an entry not yet chosen stops being chosen
 * once the entry is: such a value must never have been acknowledged.
 */
import { configQuorum, governing, headOf, type Configuration, type PlacedConfiguration } from '../core/membership.js';
import type { ConfigHead } from '../core/membership.js';
import type { Position, Proposal, ReplicaId } from '../core/types.js';

/** One acceptance a replica made (history: a disk wiped later still made it). */
export interface Acceptance {
  readonly id: ReplicaId;
  readonly p: Position;
  readonly b: Proposal;
  readonly key: string;
  /** The entry, if the value is a config entry. */
  readonly config?: Configuration;
  /** The configuration the ballot is in (the write's head); undefined if not taken from a write. */
  readonly head?: ConfigHead;
  /** The write named this replica's disk (its acceptance may be counted). */
  readonly named: boolean;
}

export interface ChainTruth {
  readonly chain: PlacedConfiguration[];
  /** Claim C / I4: a second entry of one epoch chosen (or quorum-accepted under its configuration's ballot). */
  readonly problems: string[];
}

const sameHead = (a: ConfigHead | undefined, b: ConfigHead): boolean => a !== undefined && a.epoch === b.epoch && a.position === b.position;

/** Groups of acceptances at one position under one ballot of `c`, by value, counted from `c`'s named voters. */
function quorumValues(c: PlacedConfiguration, accepts: readonly Acceptance[], p: Position | undefined): Map<string, { p: Position; b: Proposal; key: string; config?: Configuration }> {
  const voters = new Set(c.voters.map((m) => m.id));
  const head = headOf(c);
  const groups = new Map<string, { ids: Set<ReplicaId>; a: Acceptance }>();
  for (const a of accepts) {
    if ((p !== undefined && a.p !== p) || !a.named || !voters.has(a.id) || !sameHead(a.head, head)) continue;
    const k = `${a.p}|${a.b}|${a.key}`;
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = { ids: new Set(), a }));
    g.ids.add(a.id);
  }
  const out = new Map<string, { p: Position; b: Proposal; key: string; config?: Configuration }>();
  for (const { ids, a } of groups.values()) {
    if (ids.size >= configQuorum(c)) out.set(`${a.p}|${a.key}`, { p: a.p, b: a.b, key: a.key, ...(a.config === undefined ? {} : { config: a.config }) });
  }
  return out;
}

/**
 * The true chain from `c0`: at each link C_k, the epoch-(k + 1) entry chosen
 * under C_k above C_k's position, or learned by a replica. Two different
 * ones of an epoch (at two positions, or two values) are reported (I4) and
 * the lowest is followed.
 */
export function trueChain(c0: PlacedConfiguration, accepts: readonly Acceptance[], learned: ReadonlyMap<Position, Configuration>): ChainTruth {
  const chain: PlacedConfiguration[] = [c0];
  const problems: string[] = [];
  for (;;) {
    const c = chain[chain.length - 1]!;
    const found = new Map<string, { p: Position; config: Configuration; how: string }>();
    const entries = accepts.filter((a) => a.config !== undefined && a.config.epoch === c.epoch + 1 && a.p > c.position);
    for (const v of quorumValues(c, entries, undefined).values()) found.set(`${v.p}|${v.key}`, { p: v.p, config: v.config!, how: `accepted by a quorum of epoch ${c.epoch} under b${v.b}` });
    for (const [p, config] of learned) {
      if (config.epoch === c.epoch + 1 && p > c.position && ![...found.values()].some((f) => f.p === p)) found.set(`${p}|learned`, { p, config, how: 'learned' });
    }
    if (found.size === 0) return { chain, problems };
    const all = [...found.values()].sort((a, b) => a.p - b.p);
    if (all.length > 1) problems.push(`one change pending (I4): two entries of epoch ${c.epoch + 1} chosen under epoch ${c.epoch}: ${all.map((f) => `@${f.p} (${f.how})`).join(' and ')}`);
    const first = all[0]!;
    chain.push({ ...first.config, position: first.p, floor: 0 });
  }
}

/** The values chosen at q under the true chain (section 8's definition). */
export function chosenAt(chain: readonly PlacedConfiguration[], accepts: readonly Acceptance[], q: Position): string[] {
  const c = governing(chain, q) ?? chain[0]!;
  return [...new Set([...quorumValues(c, accepts, q).values()].map((v) => v.key))];
}

/** Why `stored` (a replica's chain) is not a prefix of the true chain, or undefined (I3). */
export function chainMismatch(stored: readonly PlacedConfiguration[], truth: readonly PlacedConfiguration[]): string | undefined {
  const ids = (c: Configuration): string => `${c.voters.map((m) => m.id).join(',')}/${c.learners.map((m) => m.id).join(',')}`;
  for (let i = 0; i < stored.length; i++) {
    const s = stored[i]!;
    if (i > 0 && (s.epoch !== stored[i - 1]!.epoch + 1 || s.position <= stored[i - 1]!.position)) return `link ${i} (epoch ${s.epoch} at ${s.position}) does not follow the one before`;
    const t = truth.find((x) => x.epoch === s.epoch);
    if (t === undefined) return `holds epoch ${s.epoch} at ${s.position}, which is not chosen`;
    if (t.position !== s.position || ids(t) !== ids(s)) return `holds epoch ${s.epoch} at ${s.position} (${ids(s)}) but the chosen one is at ${t.position} (${ids(t)})`;
  }
  return undefined;
}
