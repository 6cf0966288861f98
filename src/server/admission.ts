/**
 * What a connection to a replica's port may send, by who it said it is.
 *
 * A connection's hello names its role. Clients (writers, readers, the CLI)
 * may elect, write, commit, read, and ask for the membership or a status;
 * everything that carries a replica's authority (learned values, rejoins,
 * state gossip, recovery questions about a member) comes only from a member
 * of the cluster other than this replica. Replies never arrive on inbound
 * connections at all: this replica's own requests go out on its peer links,
 * and their replies come back on those links.
 *
 * A refused message closes the connection with a logged reason; it is never
 * handed to the core (one forged `learned` would store a value as chosen,
 * one forged `rejoin` would retire a member's disk).
 *
 * With TLS the hello is no longer taken on trust: the listener refuses a
 * replica hello unless the certificate names that member (src/net/listener.ts),
 * and here a message that needs the admin role (a change offered to the relay)
 * is refused unless the certificate is an admin's; a config write or install
 * from a connection without it is taken only for a change an admin asked for
 * (refuseNonAdminConfig, R15).
 */
import type { Hello } from '../net/hello.js';
import type { ChangeMessage } from '../net/change-codec.js';
import type { CertIdentity } from '../net/tls.js';
import type { Action, Message, Position, PromiseRequest, ReplicaId } from '../core/types.js';
import { applyChange, chainProblem, governing, sameConfiguration, type Configuration, type PlacedConfiguration } from '../core/membership.js';
import type { ChangeRequest } from '../core/writer.js';

const CLIENT_MAY_SEND: ReadonlySet<Message['type']> = new Set(['promise', 'write', 'commit', 'read', 'config', 'recover']);
const REPLICA_MAY_SEND: ReadonlySet<Message['type']> = new Set([...CLIENT_MAY_SEND, 'learned', 'rejoin', 'peerState']);

/**
 * A replica hello naming another id than this replica's, which refuseHello refuses because this replica
 * does not know it (yet): a member of a newer configuration. Its state gossip is taken all the same (R13,
 * replica-server.ts), and nothing else until a configuration this replica learns lists it.
 */
export function isStrangerHello(peer: Hello, self: ReplicaId): boolean {
  return peer.role === 'replica' && peer.replicaId !== self;
}

/** Why a hello is refused on this replica's port, or undefined if it is admitted. */
export function refuseHello(peer: Hello, self: ReplicaId, members: readonly ReplicaId[]): string | undefined {
  if (peer.role !== 'replica') return undefined;
  if (peer.replicaId === self) return `a replica hello names this replica's own id ${self}`;
  if (!members.includes(peer.replicaId!)) return `a replica hello names ${peer.replicaId}, not a member (members ${members.join(',')})`;
  return undefined;
}

/**
 * Messages that ask for a membership change: only an admin certificate may send them (with TLS; anyone who
 * can reach the port without). A change is offered to the change relay (`changeOffer`, wire version 5,
 * docs/reconfiguration.md R12 and R15) for the writer that holds the log to carry out, or written by an
 * admin's own writer; a writer without the admin role carries out only what an admin asked
 * (refuseNonAdminConfig).
 */
export const ADMIN_ONLY: ReadonlySet<string> = new Set<string>(['changeOffer']);

/** Why `msg` is refused from `peer` (whose certificate names `identity`, with TLS), or undefined if it may be handled. */
export function refuseMessage(msg: Message, peer: Hello, identity?: CertIdentity): string | undefined {
  if (ADMIN_ONLY.has(msg.type) && identity !== undefined && !isAdmin(identity)) {
    return `'${msg.type}' needs an admin certificate`;
  }
  const allowed = peer.role === 'replica' ? REPLICA_MAY_SEND : CLIENT_MAY_SEND;
  if (!allowed.has(msg.type)) return `a ${peer.role} may not send '${msg.type}' to a replica's port`;
  // A client's write carrying a config entry, or a promise carrying configurations (R4's install, R6's
  // links), is a membership change: without TLS anyone who reaches the port may make one, as anyone may
  // truncate; with TLS an admin certificate may, and a connection without the admin role only what
  // refuseNonAdminConfig below admits against the changes admins asked for (R15). The shell calls it for
  // every such message from a client.
  // A status question is a client's; a question about a member's disk is that member's own.
  if (msg.type === 'recover' && msg.member !== undefined && (peer.role !== 'replica' || msg.member !== peer.replicaId)) {
    return `'recover' about member ${msg.member} from ${peer.role === 'replica' ? `replica ${peer.replicaId}` : 'a client'}`;
  }
  return undefined;
}

/**
 * Why a client's write carrying config entries is refused against this replica's chain, or undefined:
 * each entry must be a well-formed next link of the configuration that governs its position here (the
 * next epoch, ids never reused, a new voter a learner first: membership.ts chainProblem). A writer that
 * follows membership.ts's applyChange never sends another; a hostile or broken client could, and a
 * chosen entry that does not chain would stop the replica when it writes the chain down. A position this
 * replica's chain does not reach is left to the acceptor (it answers for the configuration it knows).
 */
export function refuseConfigWrite(msg: Message, chain: readonly PlacedConfiguration[]): string | undefined {
  if (msg.type !== 'write') return undefined;
  for (let i = 0; i < msg.actions.length; i++) {
    const a = msg.actions[i]!;
    if (a.kind !== 'config') continue;
    const position = msg.from + i;
    const gov = governing(chain, position);
    if (gov === undefined) continue;
    const bad = chainProblem([gov, { ...a.config, position, floor: 0 }]);
    if (bad !== undefined) return `a config entry at ${position} is not a valid next configuration of epoch ${gov.epoch}: ${bad}`;
  }
  return undefined;
}

/**
 * Why a client's promise carrying configurations (`links`, `install`) is refused against this replica's
 * chain, or undefined: each one must be a well-formed next link of the one before it (in the chain here
 * or among those offered), as for a config write (refuseConfigWrite). One whose predecessor is unknown
 * here is left to the acceptor, which never installs a link out of order.
 */
export function refuseConfigPromise(msg: Message, chain: readonly PlacedConfiguration[]): string | undefined {
  if (msg.type !== 'promise') return undefined;
  const offered = [...(msg.links ?? []), ...(msg.install === undefined ? [] : [msg.install])];
  for (const c of offered) {
    const prev = [...chain, ...offered].find((x) => x.epoch === c.epoch - 1);
    if (prev === undefined) continue;
    const bad = chainProblem([prev, c]);
    if (bad !== undefined) return `a promise offers configuration epoch ${c.epoch}, not a valid next configuration of epoch ${prev.epoch}: ${bad}`;
  }
  return undefined;
}

/**
 * A client's promise with only the configurations it offers that this replica already has a part in: a
 * link of its chain, or the config entry it holds accepted at that position with the same value (the
 * writer that made a change had it accepted by a quorum of the new voters, R3, and installs it there,
 * R4). Any other offer is dropped and the promise answered as a plain one: an install or a link is a
 * configuration taken as chosen, and a client's word is no proof of that, as a client's `learned` is
 * none (attack7-forged-install: two forged installs stopped the log). A replica that misses a chosen
 * configuration learns it from its peers (catch-up carries the chain), never from a client.
 */
export function vouchedOffers(msg: PromiseRequest, chain: readonly PlacedConfiguration[], accepted: (p: Position) => Action | 'lost' | undefined): PromiseRequest {
  const vouched = (c: PlacedConfiguration): boolean => {
    if (chain.some((k) => k.epoch === c.epoch && k.position === c.position && sameConfiguration(k, c))) return true;
    const a = accepted(c.position);
    return a !== undefined && a !== 'lost' && a.kind === 'config' && sameConfiguration(a.config, c);
  };
  const { install, links, ...plain } = msg;
  const cut = links === undefined ? -1 : links.findIndex((c) => !vouched(c));
  const keptLinks = links === undefined || cut === -1 ? links : links.slice(0, cut);
  return {
    ...plain,
    ...(keptLinks === undefined || keptLinks.length === 0 ? {} : { links: keptLinks }),
    ...(install !== undefined && vouched(install) ? { install } : {}),
  };
}

/**
 * Why a change relay message (src/net/change-codec.ts) is refused from `peer`, or undefined. Offers are
 * a client's and need the admin role with TLS (ADMIN_ONLY); takes and reports are a writer's, any
 * client's (the relay hands changes only to the holder of the replica's promise, and takes a report only
 * from the connection it handed the change to); a forward (R15) is a member's, with a replica's
 * authority (with TLS its certificate names that member: src/net/listener.ts); replies never arrive on a
 * replica's port.
 */
export function refuseChangeMessage(type: ChangeMessage['type'], peer: Hello, identity?: CertIdentity): string | undefined {
  if (type === 'changeOfferReply' || type === 'changeTakeReply') return `a ${peer.role} may not send '${type}' to a replica's port`;
  if (type === 'changeForward' || type === 'configVouch') return peer.role === 'replica' ? undefined : `a ${peer.role} may not send '${type}' to a replica's port`;
  if (peer.role !== 'client') return `a ${peer.role} may not send '${type}' to a replica's port`;
  if (ADMIN_ONLY.has(type) && identity !== undefined && !isAdmin(identity)) return `'${type}' needs an admin certificate (replog://admin/NAME)`;
  return undefined;
}

/**
 * Whether a writer on a connection with `identity` may be handed relayed changes: without TLS any; with
 * TLS a client certificate's, admin or plain. A held change is always an admin's (changeOffer is
 * ADMIN_ONLY), and every member holds it as authorised (changeForward), so a plain writer's config write
 * and install of it pass refuseNonAdminConfig (R15). A replica's certificate on a client hello carries none.
 */
export function mayCarryChanges(identity: CertIdentity | undefined): boolean {
  return identity === undefined || identity.kind === 'client';
}

/** What refuseNonAdminConfig consults: this replica's chain, its accepted values, and the admins' requests it holds. */
export interface ConfigAuthority {
  readonly chain: readonly PlacedConfiguration[];
  /** The value this replica accepted (or learned) at `p`. */
  readonly accepted: (p: Position) => Action | 'lost' | undefined;
  /** The admin's request under this id, if held (change-authority.ts). */
  readonly request: (id: string) => ChangeRequest | undefined;
  /** Positions where this replica holds a config entry accepted, learned or not (StoreView.pendingConfigs). */
  readonly pending: () => Iterable<Position>;
  /** True if a peer told this replica it holds `config` accepted at `position` (configVouch; absent: none). */
  readonly vouched?: (position: Position, config: Configuration) => boolean;
}

/**
 * R15's acceptor checks: why a config write or a promise carrying configurations from a client `identity`
 * without the admin role (with TLS) is refused, or undefined (also for replicas, plaintext, admins).
 *
 * - A config entry at p is taken if it is the admin request its `changeId` names, held here, applied to
 *   the configuration that governs p here (applyChange with the request's ifEpoch and id); or if it is the
 *   very configuration this replica already holds at p (in its chain, or accepted at p: a writer's
 *   re-proposal of a pending entry, R5, which made nothing new).
 * - An install (R4) is taken if this replica holds it at that position (chain, or accepted there) or holds
 *   its request and it is that request applied to its predecessor. Taken here means passed on:
 *   vouchedOffers still drops an install this replica has no part in, as for any client (a held
 *   request is no proof the entry was chosen).
 * - Links (R6) are not refused: they are copies of chosen configurations a writer sends an acceptor that
 *   answered unknown-config, in every election after a change, and vouchedOffers keeps only those this
 *   replica already holds (chain) or accepted at that position with that value, which under TLS an admin
 *   wrote or this check admitted; the rest are dropped and the promise is answered as a plain one.
 *   Refusing them would close a plain writer's connection to each lagging member at every election.
 */
export function refuseNonAdminConfig(msg: Message, peer: Hello, identity: CertIdentity | undefined, held: ConfigAuthority): string | undefined {
  if (peer.role === 'replica' || identity === undefined || isAdmin(identity)) return undefined;
  const holds = (c: Configuration, position: Position): boolean => {
    if (held.chain.some((k) => k.position === position && sameConfiguration(k, c))) return true;
    const a = held.accepted(position);
    return a !== undefined && a !== 'lost' && a.kind === 'config' && sameConfiguration(a.config, c);
  };
  const asked = (c: Configuration, prev: Configuration | undefined): string | undefined => {
    if (c.changeId === undefined) return 'it carries no change id (no admin asked for it)';
    const request = held.request(c.changeId);
    if (request === undefined) return `no admin's request ${c.changeId} is held here`;
    if (prev === undefined || prev.epoch !== c.epoch - 1) return `its predecessor, epoch ${c.epoch - 1}, is not known here`;
    const made = applyChange(prev, request.change, { ifEpoch: request.ifEpoch, changeId: request.id });
    if (!made.ok) return `the admin's request ${request.id} does not apply to epoch ${prev.epoch}: ${made.refusal.message}`;
    if (!sameConfiguration(made.next, c)) return `it is not the admin's request ${request.id} applied to epoch ${prev.epoch}`;
    return undefined;
  };
  if (msg.type === 'write') {
    // One configuration per batch: two entries of one request, or of two requests of one epoch, would both
    // be chosen, and replicas that learn them in different orders would chain different ones (attack-r15).
    if (msg.actions.filter((a) => a.kind === 'config').length > 1) return 'a write from a client without the admin role carries more than one config entry';
    const head = held.chain[held.chain.length - 1];
    for (let i = 0; i < msg.actions.length; i++) {
      const a = msg.actions[i]!;
      if (a.kind !== 'config') continue;
      const position = msg.from + i;
      if (holds(a.config, position)) continue;
      // A new entry goes above this replica's head (below it governing() returns an older configuration
      // again, and the epoch is taken: a request carried out could be placed again, attack-r15); above it,
      // the request's ifEpoch keeps it to the one predecessor.
      if (head !== undefined && position <= head.position) return `a config entry at ${position} from a client without the admin role: it is not above this replica's head (epoch ${head.epoch} at ${head.position})`;
      // A peer's vouch stands in for the admin's request: the entry is pending there, and this is a
      // writer's re-proposal of it (R5), which a replica that lost the request must not block.
      const why = held.vouched?.(position, a.config) === true ? undefined : asked(a.config, governing(held.chain, position));
      if (why !== undefined) return `a config entry at ${position} from a client without the admin role: ${why}`;
      // Nor beside a change in progress here: an entry of this epoch (or a later one) accepted at another
      // position above the head is one the same writer, or an earlier one, already placed. Two of one
      // epoch would both be chosen where quorums meet only through this replica, and the chains of the
      // replicas that learn them in different orders would fork (attack-r15). An honest writer places a
      // change once and re-proposes a pending one at its own position (holds() above), so it never
      // meets this refusal unless a pending entry here was replaced by a NOP elsewhere and not here yet:
      // then the writer's next round, which writes that NOP here too, clears it.
      const beside = sameEpochPending(held, head, position, a.config.epoch);
      if (beside !== undefined) return `a config entry at ${position} from a client without the admin role: epoch ${beside.epoch} is pending here at ${beside.position}`;
    }
    return undefined;
  }
  if (msg.type === 'promise' && msg.install !== undefined) {
    const c = msg.install;
    if (holds(c, c.position)) return undefined;
    const prev = [...held.chain, ...(msg.links ?? [])].find((x) => x.epoch === c.epoch - 1 && x.position < c.position);
    const why = held.vouched?.(c.position, c) === true ? undefined : asked(c, prev);
    if (why !== undefined) return `an install of epoch ${c.epoch} at ${c.position} from a client without the admin role: it was not accepted here, and ${why}`;
  }
  return undefined;
}

/** A config entry of epoch `epoch` or later held here at another position than `position`, above `head`. */
function sameEpochPending(held: ConfigAuthority, head: PlacedConfiguration | undefined, position: Position, epoch: number): { position: Position; epoch: number } | undefined {
  for (const q of held.pending()) {
    if (q === position || (head !== undefined && q <= head.position)) continue;
    const a = held.accepted(q);
    if (a !== undefined && a !== 'lost' && a.kind === 'config' && a.config.epoch >= epoch) return { position: q, epoch: a.config.epoch };
  }
  return undefined;
}

function isAdmin(identity: CertIdentity): boolean {
  return identity.kind === 'client' && identity.role === 'admin';
}

const REPLY_TYPES: ReadonlySet<Message['type']> = new Set(['promiseReply', 'writeReply', 'readReply', 'recoverReply', 'rejoinReply']);

/** Why `msg`, arriving on this replica's own link to a peer, is refused: only replies to its requests come back there. */
export function refuseOnPeerLink(msg: Message): string | undefined {
  return REPLY_TYPES.has(msg.type) ? undefined : `'${msg.type}' on a link this replica opened (only replies come back there)`;
}
