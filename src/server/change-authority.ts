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
import type { PlacedConfiguration } from '../core/membership.js';
import { wireLimits } from '../net/limits.js';

export interface ChangeAuthorityOptions {
  readonly now: () => number;
  readonly expiryMs?: number;
  readonly max?: number;
}

export class ChangeAuthority {
  private readonly held = new Map<string, { readonly request: ChangeRequest; readonly at: number }>();
  private readonly expiryMs: number;
  private readonly max: number;

  constructor(private readonly opts: ChangeAuthorityOptions) {
    this.expiryMs = opts.expiryMs ?? 10 * 60_000;
    this.max = opts.max ?? wireLimits.relayHeldMax;
  }

  get size(): number {
    return this.held.size;
  }

  /**
   * Holds an admin's request; true if it is new here (the caller forwards it then). A request under an
   * id held already with another content is not taken (the first stays: an id names one request).
   */
  add(request: ChangeRequest): boolean {
    const now = this.opts.now();
    this.expire(now);
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
  }

  /** Forgets the requests a configuration of `chain` carries: they were carried out. */
  forgetLearned(chain: readonly PlacedConfiguration[]): void {
    if (this.held.size === 0) return;
    for (const c of chain) if (c.changeId !== undefined) this.held.delete(c.changeId);
  }

  private expire(now: number): void {
    // Insertion order is age order: stop at the first one still fresh.
    for (const [id, e] of this.held) {
      if (now - e.at < this.expiryMs) break;
      this.held.delete(id);
    }
  }
}
