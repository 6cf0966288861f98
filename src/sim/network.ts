/**
 * The simulated network: every message between a client and a replica goes
 * through `send`, which may lose it, duplicate it, delay it (a long delay
 * reorders it behind later ones), or drop it because a partition blocks the
 * link. Links are directed, so one-way partitions are a set of blocked
 * (from, to) pairs; a symmetric partition blocks both directions.
 */
import { AssertionError } from '../core/assert.js';
import type { Message } from '../core/types.js';
import { decodeMessage, encodeFrame } from '../net/codec.js';
import { FRAME_HEADER_BYTES } from '../net/frame.js';
import type { Prng } from './prng.js';

/**
 * Every message a core sends must go through the real wire: encodable within
 * the frame bound, and accepted by the decoder's sanity bounds (slot counts,
 * positions, proposals). A core that makes a message production would refuse
 * or could not send (an unbounded reply, a position past the bounds) is a bug
 * the simulator must catch at the step that makes it.
 */
export function checkWire(msg: Message): void {
  try {
    decodeMessage(encodeFrame(msg).subarray(FRAME_HEADER_BYTES));
  } catch (err) {
    throw new AssertionError(`a ${msg.type} message the wire would refuse: ${(err as Error).message}`);
  }
}

/** A node's address: 'r1', 'r2', ... for replicas, the client name otherwise. */
export type Addr = string;

export interface Envelope {
  readonly from: Addr;
  readonly to: Addr;
  readonly msg: Message;
}

/** Fault rates of the network; all probabilities are per message. */
export interface NetworkFaults {
  /** Probability a message is lost, in [0, 1). */
  readonly lossRate: number;
  /** Probability a message is delivered twice. */
  readonly dupRate: number;
  /** Normal one-way delay range, [delayMinMs, delayMaxMs]. */
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
  /** Probability a message is held back for a long delay in (delayMaxMs, slowMaxMs]. */
  readonly slowRate: number;
  readonly slowMaxMs: number;
}

export const CALM_NETWORK: NetworkFaults = {
  lossRate: 0,
  dupRate: 0,
  delayMinMs: 1,
  delayMaxMs: 5,
  slowRate: 0,
  slowMaxMs: 5,
};

export interface NetworkCounters {
  sent: number;
  lost: number;
  duplicated: number;
  slowed: number;
  blocked: number;
}

/**
 * A slow or lossy set of directed links (the workload shapes' laggards,
 * shapes.ts): messages across a link it matches are held back a further
 * [extraMs / 2, extraMs] and lost with probability `loss`.
 */
export interface LinkRule {
  readonly match: (from: Addr, to: Addr, msg: Message) => boolean;
  readonly extraMs: number;
  readonly loss: number;
}

export class SimNetwork {
  faults: NetworkFaults;
  /** Slow or lossy links in force (none in a classic run: no random draw is spent on them). */
  readonly linkRules = new Set<LinkRule>();
  /** Blocked directed links, as 'from>to', with how many partitions block each (they overlap). */
  private readonly blocked = new Map<string, number>();
  readonly counters: NetworkCounters = { sent: 0, lost: 0, duplicated: 0, slowed: 0, blocked: 0 };

  constructor(
    private readonly prng: Prng,
    faults: NetworkFaults,
    /** Called for every copy of a message that will arrive, with its delay. */
    private readonly deliverAfter: (delayMs: number, env: Envelope) => void,
  ) {
    this.faults = faults;
  }

  send(env: Envelope): void {
    this.counters.sent++;
    checkWire(env.msg);
    if (this.blocked.has(`${env.from}>${env.to}`)) {
      this.counters.blocked++;
      return;
    }
    const f = this.faults;
    if (f.lossRate > 0 && this.prng.chance(f.lossRate)) {
      this.counters.lost++;
      return;
    }
    let extraMs = 0;
    for (const rule of this.linkRules) {
      if (!rule.match(env.from, env.to, env.msg)) continue;
      if (rule.loss > 0 && this.prng.chance(rule.loss)) {
        this.counters.lost++;
        return;
      }
      extraMs = Math.max(extraMs, rule.extraMs > 0 ? this.prng.int(Math.ceil(rule.extraMs / 2), rule.extraMs) : 0);
    }
    const copies = f.dupRate > 0 && this.prng.chance(f.dupRate) ? 2 : 1;
    if (copies === 2) this.counters.duplicated++;
    for (let i = 0; i < copies; i++) this.deliverAfter(this.delay() + extraMs, env);
  }

  /** Whether a link is blocked now (a message sent across it is dropped). */
  isBlocked(from: Addr, to: Addr): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  block(from: Addr, to: Addr): void {
    const k = `${from}>${to}`;
    this.blocked.set(k, (this.blocked.get(k) ?? 0) + 1);
  }

  unblock(from: Addr, to: Addr): void {
    const k = `${from}>${to}`;
    const n = (this.blocked.get(k) ?? 0) - 1;
    if (n <= 0) this.blocked.delete(k);
    else this.blocked.set(k, n);
  }

  healAll(): void {
    this.blocked.clear();
    this.linkRules.clear();
  }

  get blockedLinks(): number {
    return this.blocked.size;
  }

  private delay(): number {
    const f = this.faults;
    if (f.slowRate > 0 && this.prng.chance(f.slowRate)) {
      this.counters.slowed++;
      return this.prng.int(f.delayMaxMs + 1, Math.max(f.delayMaxMs + 1, f.slowMaxMs));
    }
    return this.prng.int(f.delayMinMs, f.delayMaxMs);
  }
}
