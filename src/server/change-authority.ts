/**
 * The membership changes an admin asked for, as this replica knows them
 * (docs/reconfiguration.md R15): by id, from an admin's `changeOffer` on this
 * replica's port (admitted with the admin role under TLS) or from a peer's
 * `changeForward` (the replica that admitted the offer forwards it to the
 * other members). An acceptor takes a config write, or an R4 install, from a
 * connection without the admin role only for a request held here
 * (admission.ts refuseNonAdminConfig), so that a plain client certificate
 * (the application's writer, which carries the admin's change out through
 * the relay) never makes a configuration no admin asked for.
 *
 * A request is kept until a configuration carrying its id is in this
 * replica's chain (`forgetLearned`) or it expires (`expiryMs`, default ten
 * minutes: far longer than a change takes, drain and install included, so
 * that a writer's re-proposal of a pending entry finds it; keeping it longer
 * makes nothing new possible, since its `ifEpoch` lets it apply to one
 * predecessor only, and it can only make the very configuration the admin
 * asked). Bounded (`max`, default 64): only admins and members add, so the
 * oldest is forgotten when full. In memory only: a restarted replica holds
 * nothing, and refuses a plain writer's config write until a forward or an
 * offer comes again (the writer's own connection to it is closed; a quorum
 * of the others still chooses the entry).
 *
 * Shell code: it takes the shell's clock (`now`).
 */
import type { ChangeRequest } from '../core/writer.js';
import { sameConfiguration, type Configuration, type PlacedConfiguration } from '../core/membership.js';
import type { Position, ReplicaId } from '../core/types.js';
import { wireLimits } from '../net/limits.js';
import { timing } from '../core/constants.js';

export interface ChangeAuthorityOptions {
  readonly now: () => number;
  readonly expiryMs?: number;
  readonly max?: number;
  /** How long a peer's vouch stands without being repeated (default 10 × timing.peerStateMs, the period peers repeat it at). */
  readonly vouchExpiryMs?: number;
}

export class ChangeAuthority {
  private readonly held = new Map<string, { readonly request: ChangeRequest; readonly at: number }>();
  /** Config entries peers hold accepted above their heads (configVouch), by position, with when last told. */
  private readonly vouches = new Map<Position, { readonly config: PlacedConfiguration; readonly from: ReplicaId; readonly at: number }>();
  /** Ids withdrawn here, with when: a peer's forward that arrives late does not authorise them again. */
  private readonly revoked = new Map<string, number>();
  private readonly expiryMs: number;
  private readonly max: number;
  private readonly vouchExpiryMs: number;

  constructor(private readonly opts: ChangeAuthorityOptions) {
    this.expiryMs = opts.expiryMs ?? 10 * 60_000;
    this.max = opts.max ?? wireLimits.relayHeldMax;
    this.vouchExpiryMs = opts.vouchExpiryMs ?? 10 * timing.peerStateMs;
  }

  get size(): number {
    return this.held.size;
  }

  /**
   * Holds an admin's request; true if it is new here (the caller forwards it then). A request under an
   * id held already with another content is not taken (the first stays: an id names one request).
   * `offered`: the admin's own offer on this replica's port (else a peer's forward, which does not
   * bring back an id withdrawn here).
   */
  add(request: ChangeRequest, offered = false): boolean {
    const now = this.opts.now();
    this.expire(now);
    // An admin's own offer is asked again (it may withdraw and offer anew); a forward of a withdrawn id is
    // only late (attack-r15b-revoke-forward).
    if (offered) this.revoked.delete(request.id);
    else if (this.revoked.has(request.id)) return false;
    if (this.held.has(request.id)) return false;
    if (this.held.size >= this.max) {
      const oldest = this.held.keys().next().value;
      if (oldest !== undefined) this.held.delete(oldest);
    }
    this.held.set(request.id, { request, at: now });
    return true;
  }

  /** The authorised request with this id, if held and not expired. */
  get(id: string): ChangeRequest | undefined {
    this.expire(this.opts.now());
    return this.held.get(id)?.request;
  }

  /**
   * Forgets a request its admin withdrew (not taken in time on this replica: the admin's client goes on
   * with a writer of its own). Replicas the withdrawal did not reach keep it until it expires or is
   * carried out; what a plain writer could make of it there is exactly what the admin's own writer is
   * making, and the request's ifEpoch lets only one of the two be chosen.
   */
  revoke(id: string): void {
    this.held.delete(id);
    this.revoked.delete(id);
    if (this.revoked.size >= this.max) {
      const oldest = this.revoked.keys().next().value;
      if (oldest !== undefined) this.revoked.delete(oldest);
    }
    this.revoked.set(id, this.opts.now());
  }

  /** Forgets the requests a configuration of `chain` carries (they were carried out), and the vouches at or below its head. */
  forgetLearned(chain: readonly PlacedConfiguration[]): void {
    for (const c of chain) if (c.changeId !== undefined) this.held.delete(c.changeId);
    const head = chain[chain.length - 1];
    if (head !== undefined) for (const p of this.vouches.keys()) if (p <= head.position) this.vouches.delete(p);
  }

  /**
   * A peer holds `config` accepted at its position, above its head: a change in progress that an admin's
   * writer wrote or that passed the peer's own check (R15). A writer that finds it in an election must
   * propose it again at that position (R5), and a member that lacks the admin's request (it expired, this
   * replica restarted, or a withdrawal revoked it here) takes that re-proposal on the peer's word: peers
   * are members, authenticated under TLS. Kept vouchExpiryMs after the last word (peers repeat it while
   * the entry is pending); bounded like the requests.
   */
  vouch(from: ReplicaId, config: PlacedConfiguration): void {
    const now = this.opts.now();
    this.expire(now);
    this.vouches.delete(config.position);
    if (this.vouches.size >= this.max) {
      const oldest = this.vouches.keys().next().value;
      if (oldest !== undefined) this.vouches.delete(oldest);
    }
    this.vouches.set(config.position, { config, from, at: now });
  }

  /** True if a peer vouched for this very configuration at `position` (vouch). */
  vouched(position: Position, config: Configuration): boolean {
    this.expire(this.opts.now());
    const v = this.vouches.get(position);
    return v !== undefined && sameConfiguration(v.config, config);
  }

  private expire(now: number): void {
    // Insertion order is age order: stop at the first one still fresh.
    for (const [id, e] of this.held) {
      if (now - e.at < this.expiryMs) break;
      this.held.delete(id);
    }
    for (const [id, at] of this.revoked) {
      if (now - at < this.expiryMs) break;
      this.revoked.delete(id);
    }
    for (const [p, v] of this.vouches) {
      if (now - v.at < this.vouchExpiryMs) break;
      this.vouches.delete(p);
    }
  }
}
