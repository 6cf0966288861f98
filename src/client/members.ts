/**
 * `log.members`: membership changes from the library, the same steps as
 * `replog member add|promote|remove|replace` (interfaces.md, "Membership";
 * docs/reconfiguration.md section 7, step 5). Each change:
 *   1. reads the configuration (asked afresh of the replicas) and checks the
 *      change against it (membership.ts applyChange: unknown member, id or
 *      address in use, not a learner, ...): refused before anything is sent;
 *   2. asks every member for its status (a `recover` question over the
 *      replica port: status and end) and runs the R10 guard (checkLiveness):
 *      a quorum of the current voters reachable, and of the new voters
 *      reachable and caught up; `force` (remove only) skips the reachability
 *      part, never the caught-up one;
 *   3. gives the change, with an id and `ifEpoch` = the epoch read in 1, to
 *      the writer that holds the log, so that no application's appends fail
 *      (interfaces.md; R12's hand-off, handoff.ts): this client's own writer
 *      if it holds one (directly: no fence), else whichever writer takes it
 *      through the replicas' change relay. Only when no writer takes changes
 *      (every replica answers `no-writer`, or a held change is not taken in
 *      time and is withdrawn) does it elect a writer of its own, which fences
 *      any other, as before the hand-off;
 *   4. resolves with the configuration after the change once it is chosen
 *      and installed (R4), and resigns the writer it elected, if it did.
 * A promotion (`promote`, `add` with `voter`, `replace`) first waits until the
 * learner has caught up (its status VOTING and its end within
 * CAUGHT_UP_SLACK of the voters'), up to a deadline.
 */
import { randomUUID } from 'node:crypto';
import { ChangeRefusedError, ConfigChangedError, InvalidArgumentError, ReplogError } from '../core/errors.js';
import type { ChangeRequest } from '../core/writer.js';
import { changeError } from './writer.js';
import { handOff, HANDOFF_TIMING, type HandOffTiming } from './handoff.js';
import { applyChange, checkLiveness, isMemberId, roleIn, type MembershipChange, type PlacedConfiguration } from '../core/membership.js';
import type { ReplicaId } from '../core/types.js';
import { PeerLink } from '../net/peer-link.js';
import { describeIdentity, type TlsCredentials } from '../net/tls.js';
import type { Configuration, LogClient } from './log-client.js';
import type { Writer } from './writer.js';

/** A learner this many positions or fewer behind the voters counts as caught up (R10's threshold; R3 then waits for the exact one). */
export const CAUGHT_UP_SLACK = 64;

/** How long a promotion waits for the learner to catch up, by default. */
export const CATCH_UP_WAIT_MS = 120_000;

export interface MemberChangeOptions {
  /** How long a promotion waits for the learner to catch up (default CATCH_UP_WAIT_MS). */
  readonly catchUpTimeoutMs?: number;
  /** Told the learner's lag while a promotion waits for it. */
  readonly onLag?: (lag: LearnerLag) => void;
}

export interface LearnerLag {
  readonly id: ReplicaId;
  /** The learner's status (EMPTY, RECOVERING, VOTING, UNREACHABLE, ...). */
  readonly status: string;
  /** Positions behind the voters' highest end (null while it is unreachable). */
  readonly behind: number | null;
}

/** One member's answer to a status question (null fields: no answer). */
export interface MemberStatus {
  readonly id: ReplicaId;
  readonly address: string;
  readonly status: string;
  readonly begin: number | null;
  readonly end: number | null;
}

export class Members {
  /** @internal Made by LogClient. */
  constructor(
    private readonly client: LogClient<unknown>,
    private readonly tls: () => TlsCredentials | undefined,
    /** `writer.members`: this writer makes every change (docs/reconfiguration.md section 5), never another. */
    private readonly writer?: Writer<unknown>,
  ) {}

  /** Adds member `id` at `address` as a learner; with `voter`, waits until it caught up, then makes it a voter. */
  async add(id: ReplicaId, address: string, options: MemberChangeOptions & { readonly voter?: boolean } = {}): Promise<Configuration> {
    checkId(id);
    checkAddress(address);
    let c = await this.change({ kind: 'add', member: { id, address } });
    if (options.voter === true) {
      await this.waitCaughtUp(id, options);
      c = await this.change({ kind: 'promote', id }, false, options);
    }
    return c;
  }

  /** Makes learner `id` a voter once it has caught up (waits for it up to a deadline). */
  async promote(id: ReplicaId, options: MemberChangeOptions = {}): Promise<Configuration> {
    checkId(id);
    this.checkAdmin();
    await this.precheck({ kind: 'promote', id });
    await this.waitCaughtUp(id, options);
    return this.change({ kind: 'promote', id }, false, options);
  }

  /** Removes member `id`; refused when the reachable voters left would not form a quorum, unless `force`. */
  async remove(id: ReplicaId, options: { readonly force?: boolean } = {}): Promise<Configuration> {
    checkId(id);
    return this.change({ kind: 'remove', id }, options.force === true);
  }

  /** Adds `replacement` at `address` as a learner (unless it is one there already), waits until it caught up, then swaps `old` for it in one change. */
  async replace(old: ReplicaId, replacement: ReplicaId, address: string, options: MemberChangeOptions = {}): Promise<Configuration> {
    checkId(old);
    checkId(replacement);
    checkAddress(address);
    this.checkAdmin();
    const head = await this.head();
    if (roleIn(head, old) === undefined) throw new ChangeRefusedError(`member ${old} is not in the configuration (epoch ${head.epoch})`, 'unknown-member');
    const there = head.learners.find((m) => m.id === replacement);
    if (there === undefined) await this.change({ kind: 'add', member: { id: replacement, address } });
    else if (there.address !== address) throw new ChangeRefusedError(`member ${replacement} is a learner at ${there.address}, not ${address}`, 'address-used');
    await this.waitCaughtUp(replacement, options);
    return this.change({ kind: 'replace', old, replacement }, false, options);
  }

  /**
   * Moves member `id` to `address` (`replog member update`): run it before the process moves; peers and
   * clients link to the new address once they learn the change, and the replica, restarted there on the
   * same data directory, is the same disk.
   */
  async update(id: ReplicaId, address: string): Promise<Configuration> {
    checkId(id);
    checkAddress(address);
    return this.change({ kind: 'address', id, address });
  }

  /**
   * The whole membership at once (`replog config set`), among the current members, only while the
   * configuration's epoch is still `ifEpoch`: ConfigChangedError (the CLI exits 4) if it moved, before or
   * while the change is made (a concurrent change came first).
   */
  async set(voters: readonly ReplicaId[], learners: readonly ReplicaId[], options: { readonly ifEpoch: number }): Promise<Configuration> {
    for (const id of [...voters, ...learners]) checkId(id);
    if (!Number.isSafeInteger(options.ifEpoch) || options.ifEpoch < 0) throw new InvalidArgumentError(`epoch ${String(options.ifEpoch)} is not a non-negative integer`);
    return this.change({ kind: 'set', voters, learners }, false, undefined, options.ifEpoch);
  }

  /** Every member of the latest configuration with its status (a `recover` question to each; UNREACHABLE if it does not answer in time). */
  async status(timeoutMs = 2_000): Promise<MemberStatus[]> {
    const head = await this.head();
    const members = [...head.voters, ...head.learners].sort((a, b) => a.id - b.id);
    return Promise.all(members.map((m) => probe(m.id, m.address, this.tls(), timeoutMs)));
  }

  // ------------------------------------------------------------------ steps

  /** With TLS only an admin certificate may change members (R15): said before anything is sent, the replicas refuse it anyway. */
  private checkAdmin(): void {
    const tls = this.tls();
    if (tls === undefined) return;
    const id = tls.identity;
    if (id.kind === 'client' && id.role === 'admin') return;
    throw new ChangeRefusedError(
      `with TLS a membership change needs an admin certificate (replog://admin/NAME, replog certs create --clients admin); this one is ${describeIdentity(id)}`,
      'not-admin',
    );
  }

  /** The latest configuration, asked afresh. */
  private async head(): Promise<PlacedConfiguration> {
    await this.client.configuration();
    const chain = this.client.chain;
    if (chain.length === 0) throw new ReplogError('the replicas told no configuration');
    return chain[chain.length - 1]!;
  }

  /** Step 1 alone: the change applies to the configuration now (nothing sent). */
  private async precheck(change: MembershipChange): Promise<PlacedConfiguration> {
    const head = await this.head();
    const r = applyChange(head, change, { ifEpoch: head.epoch });
    if (!r.ok) throw refusal(r.refusal.reason, r.refusal.message);
    return head;
  }

  /**
   * Steps 1 to 4 for one change. `caughtUp`: a promotion that waited for its learner (waitCaughtUp) asks
   * the guard again until that wait's deadline when the guard finds it behind: under steady appends a
   * learner's lag moves around CAUGHT_UP_SLACK, and the guard's snapshot is not the wait's (R3 then
   * waits for the exact position anyway).
   */
  private async change(change: MembershipChange, force = false, caughtUp?: MemberChangeOptions, ifEpoch?: number): Promise<Configuration> {
    this.checkAdmin();
    if (ifEpoch !== undefined) {
      const now = await this.head();
      if (now.epoch !== ifEpoch) throw new ConfigChangedError(`the configuration's epoch is ${now.epoch}, not ${ifEpoch}: nothing was changed`);
    }
    const head = await this.precheck(change);
    const next = applyChange(head, change, { ifEpoch: ifEpoch ?? head.epoch });
    if (!next.ok) throw refusal(next.refusal.reason, next.refusal.message);
    // Deadlines on the monotonic clock: a wall-clock jump neither ends the wait early nor stretches it.
    const deadline = performance.now() + (caughtUp?.catchUpTimeoutMs ?? CATCH_UP_WAIT_MS);
    for (;;) {
      const seen = await this.status();
      const byId = new Map(seen.map((s) => [s.id, s]));
      const top = voterEnd(head, seen);
      const guard = checkLiveness(head, next.next, (id) => {
        const s = byId.get(id);
        const reachable = s !== undefined && s.status !== 'UNREACHABLE';
        return { reachable, caughtUp: reachable && s.status === 'VOTING' && (roleIn(head, id) === 'voter' || behind(s, top) <= CAUGHT_UP_SLACK) };
      });
      if (guard === undefined || (force && guard.reason === 'would-lose-quorum')) break;
      if (guard.reason === 'not-caught-up' && caughtUp !== undefined && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      throw new ChangeRefusedError(`${guard.message}${guard.reason === 'would-lose-quorum' ? ' (--force skips this check)' : ''}`, guard.reason);
    }
    return this.carryOut({ id: randomUUID(), ifEpoch: ifEpoch ?? head.epoch, change });
  }

  /**
   * Step 3 and 4: the writer that holds the log makes the change (see the file header). @internal Also
   * the tests' door to a request with an `ifEpoch` of their choosing.
   */
  async carryOut(request: ChangeRequest, timing: HandOffTiming = HANDOFF_TIMING): Promise<Configuration> {
    const own = this.writer ?? this.client.heldWriter();
    if (own !== undefined) return shape(await own.change(request));
    const handed = await handOff(this.client, request, timing);
    if (handed.kind === 'done') {
      const o = handed.outcome;
      if (o.ok) {
        // Another client's word is no proof of a configuration (as a client's `learned` is none to a
        // replica): the replicas are asked, and the one their chain holds with this request's id is the
        // answer. It was installed before the writer reported (R4), so they hold it; a reply that lags is
        // waited for. A report they never confirm (a hostile or confused writer, or relay) is not
        // believed: this client carries the change out itself, below (attack-r15b-lying-taker).
        const made = await this.confirmed(request.id, timing.confirmWaitMs);
        if (made !== undefined) return shape(made);
      } else if (o.reason !== 'fenced' && o.reason !== 'no-quorum' && o.reason !== 'unknown') {
        // A refusal is believed only if the replicas' configuration bears it out: every refusal a writer
        // makes is applyChange's against the configuration it holds, which this client can apply too.
        // Under TLS the taker may be an application's writer with a plain certificate, and a made-up
        // refusal must not veto an admin's change (attack-r15b-lying-taker); one not borne out (a lie,
        // or a view of this client's that lags) is carried out here, and this client's writer refuses it
        // for real if it must.
        if (await this.bearsOut(request, o.reason)) return this.unlessMade(request, changeError(o));
      }
      // Otherwise the writer that took it stopped: before proposing it (fenced, no-quorum: nothing
      // written), or not knowing (unknown: its entry may be pending). This client carries it out: its
      // election finishes a pending entry first (R5), and then the request is either made by it or
      // refused as epoch-changed, which unlessMade turns into the configuration the other writer made.
    }
    // No writer takes changes (or it did not take this one in time, and it was withdrawn everywhere; or
    // it took it and sat on it past outcomeWaitMs: attack-r15-sit): this client elects its own, which
    // fences any other writer. The same request, `ifEpoch` included: if a
    // writer this client could not see took it after all, only one of the two is chosen, and the other is
    // refused as epoch-changed (unlessMade then finds the change made).
    try {
      const writer = await this.client.writer();
      try {
        return shape(await writer.change(request));
      } finally {
        await writer.resign().catch(() => undefined);
      }
    } catch (err) {
      return this.unlessMade(request, err as Error);
    }
  }

  /**
   * A change that failed with an epoch that moved or an unknown outcome may have been made all the same
   * (by the other writer of a hand-off race, or by one that finished it): the configuration made by the
   * request carries its id as `changeId`. Found: that configuration; else `err`.
   */
  private async unlessMade(request: ChangeRequest, err: Error): Promise<Configuration> {
    if (!(err instanceof ConfigChangedError) && !/outcome is unknown/.test(err.message)) throw err;
    const made = await this.madeBy(request.id).catch(() => undefined);
    if (made !== undefined) return shape(made);
    throw err;
  }

  /** True if the replicas' newest configuration refuses `request` for `reason` (applyChange), as a taker reported. */
  private async bearsOut(request: ChangeRequest, reason: string): Promise<boolean> {
    await this.client.configuration().catch(() => undefined);
    const head = this.client.chain[this.client.chain.length - 1];
    if (head === undefined) return false;
    const r = applyChange(head, request.change, { ifEpoch: request.ifEpoch, changeId: request.id });
    return !r.ok && r.refusal.reason === reason;
  }

  /** The configuration the request `id` made, once the replicas' chain holds it, asked again until `waitMs` passed; else undefined. */
  private async confirmed(id: string, waitMs: number): Promise<PlacedConfiguration | undefined> {
    const deadline = performance.now() + waitMs;
    for (;;) {
      const made = await this.madeBy(id).catch(() => undefined);
      if (made !== undefined || performance.now() >= deadline) return made;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The configuration the request `id` made, if the chain the replicas report holds it. */
  private async madeBy(id: string): Promise<PlacedConfiguration | undefined> {
    await this.client.configuration();
    return this.client.chain.find((c) => c.changeId === id);
  }

  /** Waits until learner `id` is VOTING and within CAUGHT_UP_SLACK of the voters' end; refused (not-caught-up) at the deadline. */
  private async waitCaughtUp(id: ReplicaId, options: MemberChangeOptions): Promise<void> {
    const deadline = performance.now() + (options.catchUpTimeoutMs ?? CATCH_UP_WAIT_MS);
    let last: LearnerLag = { id, status: 'UNREACHABLE', behind: null };
    for (;;) {
      const head = await this.head();
      if (roleIn(head, id) === undefined) throw new ChangeRefusedError(`member ${id} is not in the configuration (epoch ${head.epoch})`, 'unknown-member');
      const seen = await this.status();
      const s = seen.find((x) => x.id === id)!;
      const top = voterEnd(head, seen);
      last = { id, status: s.status, behind: s.end === null ? null : Math.max(0, top - s.end) };
      options.onLag?.(last);
      if (s.status === 'VOTING' && last.behind !== null && last.behind <= CAUGHT_UP_SLACK) return;
      if (performance.now() >= deadline) {
        const lag = last.behind === null ? 'no answer' : `${last.behind} positions behind`;
        throw new ChangeRefusedError(
          `member ${id} has not caught up within ${Math.round((options.catchUpTimeoutMs ?? CATCH_UP_WAIT_MS) / 1000)} s (status ${last.status}, ${lag}): is it running (replog replica --join)? nothing was promoted`,
          'not-caught-up',
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function shape(c: { readonly epoch: number; readonly voters: Configuration['voters']; readonly learners: Configuration['learners'] }): Configuration {
  return { epoch: c.epoch, voters: c.voters, learners: c.learners };
}

/** The highest end among the reachable VOTING voters of `head`. */
function voterEnd(head: PlacedConfiguration, seen: readonly MemberStatus[]): number {
  let top = -1;
  for (const s of seen) if (roleIn(head, s.id) === 'voter' && s.status === 'VOTING' && s.end !== null) top = Math.max(top, s.end);
  return top;
}

function behind(s: MemberStatus, top: number): number {
  return s.end === null ? Infinity : Math.max(0, top - s.end);
}

function refusal(reason: string, message: string): ReplogError {
  if (reason === 'epoch-changed') return new ConfigChangedError(message);
  return reason === 'invalid' ? new InvalidArgumentError(message) : new ChangeRefusedError(message, reason);
}

function checkId(id: number): void {
  if (!isMemberId(id)) throw new InvalidArgumentError(`member id ${String(id)} is not a positive integer`);
}

function checkAddress(address: string): void {
  const m = /^(.+):(\d{1,5})$/.exec(address);
  const port = m === null ? 0 : Number(m[2]);
  if (m === null || m[1]!.length === 0 || port < 1 || port > 65535) throw new InvalidArgumentError(`address '${address}' is not HOST:PORT`);
}

/** One member's status, asked with a `recover` question over its replica port. */
function probe(id: ReplicaId, address: string, tls: TlsCredentials | undefined, timeoutMs: number): Promise<MemberStatus> {
  return new Promise((resolve) => {
    let link: PeerLink | undefined = undefined;
    const finish = (s: MemberStatus): void => {
      clearTimeout(timer);
      void link?.close();
      resolve(s);
    };
    const unreachable: MemberStatus = { id, address, status: 'UNREACHABLE', begin: null, end: null };
    const timer = setTimeout(() => finish(unreachable), timeoutMs);
    link = new PeerLink({
      address,
      clusterId: '',
      tls,
      onRefused: () => finish(unreachable),
      onConnect: () => link!.send({ type: 'recover', rid: 1 }),
      onMessage: (msg) => {
        if (msg.type === 'recoverReply') finish({ id, address, status: msg.status, begin: msg.begin, end: msg.end });
      },
    });
  });
}
