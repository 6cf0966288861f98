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
 * and here a message that needs the admin role (membership changes) is
 * refused unless the certificate is an admin's.
 */
import type { Hello } from '../net/hello.js';
import type { CertIdentity } from '../net/tls.js';
import type { Message, ReplicaId } from '../core/types.js';

const CLIENT_MAY_SEND: ReadonlySet<Message['type']> = new Set(['promise', 'write', 'commit', 'read', 'config', 'recover']);
const REPLICA_MAY_SEND: ReadonlySet<Message['type']> = new Set([...CLIENT_MAY_SEND, 'learned', 'rejoin', 'peerState']);

/** Why a hello is refused on this replica's port, or undefined if it is admitted. */
export function refuseHello(peer: Hello, self: ReplicaId, members: readonly ReplicaId[]): string | undefined {
  if (peer.role !== 'replica') return undefined;
  if (peer.replicaId === self) return `a replica hello names this replica's own id ${self}`;
  if (!members.includes(peer.replicaId!)) return `a replica hello names ${peer.replicaId}, not a member (members ${members.join(',')})`;
  return undefined;
}

/**
 * Messages that change the membership: only an admin certificate may send them (with TLS; anyone who can
 * reach the port without). None exists yet: reconfiguration (docs/reconfiguration.md) adds its messages here.
 */
export const ADMIN_ONLY: ReadonlySet<Message['type']> = new Set<Message['type']>([]);

/** Why `msg` is refused from `peer` (whose certificate names `identity`, with TLS), or undefined if it may be handled. */
export function refuseMessage(msg: Message, peer: Hello, identity?: CertIdentity): string | undefined {
  if (ADMIN_ONLY.has(msg.type) && identity !== undefined && !(identity.kind === 'client' && identity.role === 'admin')) {
    return `'${msg.type}' needs an admin certificate`;
  }
  const allowed = peer.role === 'replica' ? REPLICA_MAY_SEND : CLIENT_MAY_SEND;
  if (!allowed.has(msg.type)) return `a ${peer.role} may not send '${msg.type}' to a replica's port`;
  // Nothing proposes a configuration entry yet (the change path is docs/reconfiguration.md steps 4 and 8,
  // where R15 admits one from an admin): until then a client's write carrying one is refused, so no
  // configuration the operator never asked for is accepted or learned.
  if (peer.role !== 'replica' && msg.type === 'write' && msg.actions.some((a) => a.kind === 'config')) {
    return "a client's write carries a config action (membership changes are not open to clients yet)";
  }
  // Wire version 4 carries R4's install and R6's links on a promise: the acceptor adds them to its chain,
  // so from a client they are a membership change by another door, refused on the same terms.
  if (peer.role !== 'replica' && msg.type === 'promise' && (msg.install !== undefined || msg.links !== undefined)) {
    return "a client's promise carries configurations (membership changes are not open to clients yet)";
  }
  // A status question is a client's; a question about a member's disk is that member's own.
  if (msg.type === 'recover' && msg.member !== undefined && (peer.role !== 'replica' || msg.member !== peer.replicaId)) {
    return `'recover' about member ${msg.member} from ${peer.role === 'replica' ? `replica ${peer.replicaId}` : 'a client'}`;
  }
  return undefined;
}

const REPLY_TYPES: ReadonlySet<Message['type']> = new Set(['promiseReply', 'writeReply', 'readReply', 'recoverReply', 'rejoinReply']);

/** Why `msg`, arriving on this replica's own link to a peer, is refused: only replies to its requests come back there. */
export function refuseOnPeerLink(msg: Message): string | undefined {
  return REPLY_TYPES.has(msg.type) ? undefined : `'${msg.type}' on a link this replica opened (only replies come back there)`;
}
