/**
 * Asks each peer for its status over the replica port, as `replog status`
 * does: a `recover` request without a member (a client's status question,
 * answered from the store with no side effect). One client link per peer,
 * kept open while the console is in use, one question a second; so one open
 * port per replica is all the console needs.
 */
import type { Message } from '../../core/types.js';
import { PeerLink } from '../../net/peer-link.js';
import type { TlsCredentials } from '../../net/tls.js';
import type { ProbeReply } from './members-view.js';

export class PeerProbes {
  private readonly links = new Map<number, PeerLink>();
  private readonly replies = new Map<number, ProbeReply>();
  private rid = 0;

  private readonly addresses = new Map<number, string>();

  constructor(
    private readonly clusterId: string,
    private readonly now: () => number,
    private readonly tls?: TlsCredentials,
  ) {}

  /** Probes exactly these peers: links to new ones (or moved ones) open, links to members no longer listed close. */
  follow(peers: ReadonlyMap<number, string>): void {
    for (const [id, link] of this.links) {
      if (peers.get(id) === this.addresses.get(id)) continue;
      void link.close();
      this.links.delete(id);
      this.addresses.delete(id);
      this.replies.delete(id);
    }
    for (const [id, address] of peers) {
      if (this.links.has(id)) continue;
      this.addresses.set(id, address);
      this.links.set(id, new PeerLink({ address, clusterId: this.clusterId, tls: this.tls, expectReplicaId: id, onMessage: (msg) => this.onMessage(id, msg) }));
    }
  }

  private onMessage(id: number, msg: Message): void {
    if (msg.type !== 'recoverReply') return;
    this.replies.set(id, { at: this.now(), status: msg.status, begin: msg.begin, end: msg.end, generation: msg.generation, progress: msg.progress ?? null });
  }

  /** Sends each connected peer the question; the answers show in replies(). */
  poll(): void {
    for (const link of this.links.values()) if (link.connected) link.send({ type: 'recover', rid: ++this.rid });
  }

  /** The peers whose connection is open (handshaken) now. */
  connected(): Set<number> {
    return new Set([...this.links].filter(([, l]) => l.connected).map(([id]) => id));
  }

  /** The latest answer of each peer that ever answered. */
  get latest(): ReadonlyMap<number, ProbeReply> {
    return this.replies;
  }

  async close(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.close()));
  }
}
