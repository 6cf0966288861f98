/**
 * Helpers for test/core/review.test.ts: finer control over the harness's
 * network (deliver one chosen message first, drop chosen messages), direct
 * replica steps, and writers with a proposal floor. Only public members of
 * Cluster are used.
 */
import assert from 'node:assert/strict';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import type { Message, ReplicaId, ReplicaReply } from '../../src/core/types.js';
import { WriterCore } from '../../src/core/writer.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { seededRandom, type Cluster, type Envelope } from './harness.js';

export type Pred = (e: Envelope) => boolean;

/** Envelope predicate: from/to/type (any may be omitted). */
export function env(q: { from?: string; to?: string; type?: Message['type'] }): Pred {
  return (e) => (q.from === undefined || e.from === q.from) && (q.to === undefined || e.to === q.to) && (q.type === undefined || e.msg.type === q.type);
}

/** Delivers the first in-flight message matching `p` (ahead of the others); fails if there is none. */
export function deliver(c: Cluster, p: Pred, what = 'a matching message'): Envelope {
  const i = c.inflight.findIndex(p);
  assert.ok(i >= 0, `expected ${what} in flight; in flight: ${c.inflight.map((e) => `${e.from}->${e.to}:${e.msg.type}`).join(', ')}`);
  const [e] = c.inflight.splice(i, 1);
  c.inflight.unshift(e!);
  c.deliverOne();
  return e!;
}

/** Delivers every in-flight message matching `p`, repeatedly, until none matches (replies they cause included if they match). */
export function deliverAll(c: Cluster, p: Pred): number {
  let n = 0;
  while (c.inflight.some(p)) {
    deliver(c, p);
    if (++n > 100_000) throw new Error('deliverAll: livelock?');
  }
  return n;
}

/** Removes every in-flight message matching `p`. */
export function drop(c: Cluster, p: Pred): number {
  const before = c.inflight.length;
  c.inflight = c.inflight.filter((e) => !p(e));
  return before - c.inflight.length;
}

/** A writer core registered under `name` whose first proposal is floor + 1. */
export function writerWithFloor(c: Cluster, name: string, floor: number): WriterCore {
  const w = new WriterCore({ members: c.ids, proposalFloor: floor, random: seededRandom(7), rules: c.rules });
  c.writers.set(name, w);
  return w;
}

/** Sends a raw message from a fake client `from` to replica `to` (its reply goes back to `from`, which nobody owns). */
export function inject(c: Cluster, from: string, to: ReplicaId, msg: Message): void {
  c.inflight.push({ from, to: `r${to}`, msg });
}

/** Steps a replica directly (as the harness does) and returns its reply. */
export function step(store: MemoryStore, msg: AcceptorMessage): ReplicaReply | undefined {
  const s = replicaStep(store, msg);
  store.append(s.records);
  store.syncNow();
  return s.reply;
}

/** The reply the replica sent to fake client `from` (the harness leaves it in flight). */
export function takeReply(c: Cluster, from: ReplicaId, to: string): ReplicaReply {
  const i = c.inflight.findIndex((e) => e.from === `r${from}` && e.to === to);
  assert.ok(i >= 0, `a reply from r${from} to ${to}`);
  const [e] = c.inflight.splice(i, 1);
  return e!.msg as ReplicaReply;
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const append = (s: string) => ({ kind: 'append' as const, data: bytes(s) });
