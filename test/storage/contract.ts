/**
 * The storage contract: behaviour every ReplicaStore must show, run against
 * each implementation (contract-memory.test.ts, contract-file.test.ts).
 * Reopening a store must give back exactly the state its durable records
 * describe ("reopen = replay").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaStore } from '../../src/core/store.js';
import type { Action, Metadata, PersistRecord, Position } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { seededRandom } from '../helpers/seeded-random.js';

/** A small seeded generator (mulberry32), so failures replay. */
export const seeded = seededRandom;

export interface StoreFactory {
  /** A new, empty store. */
  create(): Promise<ReplicaStore>;
  /** Closes `store` and opens it again from what it made durable. */
  reopen(store: ReplicaStore): Promise<ReplicaStore>;
  /** Releases what the factory made (directories). */
  cleanup?(): Promise<void>;
}

export const META: Metadata = { status: 'VOTING', promised: 3, incarnation: 'inc-1' };

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const append = (s: string): Action => ({ kind: 'append', data: bytes(s) });
export const accept = (position: Position, proposal: number, action: Action): PersistRecord => ({ type: 'accept', position, proposal, action });
export const learn = (position: Position, action: Action): PersistRecord => ({ type: 'learn', position, action });

/** Everything a store shows, as plain data (for deepEqual). */
export function snapshot(s: ReplicaStore): unknown {
  const hi = Math.max(s.end(), 0);
  const slots = [...s.positions(0, hi)].map((p) => ({ slot: s.slot(p), action: normalise(s.action(p)) }));
  return { metadata: s.metadata(), begin: s.begin(), end: s.end(), learnedThrough: s.learnedThrough(), slots, lost: s.lostPositions() };
}

function normalise(a: Action | 'lost' | undefined): unknown {
  if (a === undefined || a === 'lost' || a.kind !== 'append') return a;
  return { kind: 'append', data: [...a.data] };
}

async function withStore(f: StoreFactory, body: (s: ReplicaStore) => Promise<ReplicaStore | void>): Promise<void> {
  const s = await f.create();
  const last = await body(s);
  await (last ?? s).close();
}

export function runStoreContract(name: string, f: StoreFactory): void {
  test(`${name}: an empty store has no positions`, () =>
    withStore(f, async (s) => {
      assert.equal(s.begin(), 0);
      assert.equal(s.end(), -1);
      assert.equal(s.learnedThrough(), -1);
      assert.equal(s.slot(0), undefined);
      assert.equal(s.action(0), undefined);
      assert.deepEqual([...s.positions(0, 100)], []);
      assert.deepEqual(s.lostPositions(), []);
    }));

  test(`${name}: append applies at once, sync makes it durable`, () =>
    withStore(f, async (s) => {
      const seq = s.append([{ type: 'metadata', metadata: META }, accept(0, 3, append('zero'))]);
      assert.deepEqual(s.metadata(), META);
      assert.deepEqual(s.action(0), append('zero'));
      assert.equal(s.slot(0)?.accepted, 3);
      assert.equal(s.end(), 0);
      const durable = await s.sync();
      assert.ok(durable >= seq && s.durableSeq() >= seq);
    }));

  test(`${name}: a promise alone creates a slot without an action`, () =>
    withStore(f, async (s) => {
      s.append([{ type: 'promise', position: 7, promised: 9 }]);
      assert.equal(s.slot(7)?.promised, 9);
      assert.equal(s.slot(7)?.kind, undefined);
      assert.equal(s.action(7), undefined);
      assert.equal(s.end(), 7);
      assert.deepEqual([...s.positions(0, 10)], [7]);
    }));

  test(`${name}: commit learns only positions accepted under its proposal`, () =>
    withStore(f, async (s) => {
      s.append([accept(0, 2, append('a')), accept(1, 2, append('b')), accept(2, 1, append('c')), { type: 'commit', from: 0, to: 2, proposal: 2 }]);
      assert.equal(s.slot(0)?.learned, true);
      assert.equal(s.slot(1)?.learned, true);
      assert.equal(s.slot(2)?.learned, false);
      assert.equal(s.learnedThrough(), 1);
      s.append([learn(2, append('C'))]);
      assert.equal(s.learnedThrough(), 2);
      assert.deepEqual(s.action(2), append('C'));
    }));

  test(`${name}: a later accept replaces the action; a learn on a learned position changes nothing`, () =>
    withStore(f, async (s) => {
      s.append([accept(0, 1, append('old')), accept(0, 2, append('new'))]);
      await s.sync();
      assert.deepEqual(s.action(0), append('new'));
      s.append([learn(0, append('new')), learn(0, append('other'))]);
      await s.sync();
      assert.deepEqual(s.action(0), append('new'));
    }));

  test(`${name}: a learned truncate drops every position below it`, () =>
    withStore(f, async (s) => {
      for (let p = 0; p < 10; p++) s.append([learn(p, append(`e${p}`))]);
      await s.sync();
      s.append([learn(10, { kind: 'truncate', to: 6 })]);
      assert.equal(s.begin(), 6);
      assert.equal(s.slot(5), undefined);
      assert.equal(s.action(5), undefined);
      assert.deepEqual(s.action(6), append('e6'));
      assert.equal(s.learnedThrough(), 10);
      assert.deepEqual([...s.positions(0, 20)], [6, 7, 8, 9, 10]);
      await s.sync();
      return f.reopen(s).then((r) => {
        assert.equal(r.begin(), 6);
        assert.deepEqual(r.action(10), { kind: 'truncate', to: 6 });
        assert.deepEqual(r.action(6), append('e6'));
        return r;
      });
    }));

  test(`${name}: nop, tombstone, truncate and empty entries read back`, () =>
    withStore(f, async (s) => {
      const actions: Action[] = [{ kind: 'nop' }, { kind: 'nop', tombstone: true }, { kind: 'truncate', to: 0 }, append('')];
      actions.forEach((a, p) => s.append([accept(p, 5, a)]));
      await s.sync();
      const r = await f.reopen(s);
      actions.forEach((a, p) => assert.deepEqual(normalise(r.action(p)), normalise(a)));
      return r;
    }));

  test(`${name}: concurrent syncs all resolve past their own records`, () =>
    withStore(f, async (s) => {
      const waits: Promise<void>[] = [];
      for (let p = 0; p < 200; p++) {
        const seq = s.append([accept(p, 1, append(`v${p}`))]);
        waits.push(s.sync().then((d) => assert.ok(d >= seq, `sync for ${seq} resolved at ${d}`)));
      }
      await Promise.all(waits);
      assert.equal(s.durableSeq(), 200);
    }));

  test(`${name}: reopening replays every synced record`, () =>
    withStore(f, async (s) => {
      s.append([{ type: 'metadata', metadata: META }]);
      for (let p = 0; p < 50; p++) s.append([accept(p, 3, append(`value-${p}`.repeat(p % 7)))]);
      s.append([{ type: 'commit', from: 0, to: 30, proposal: 3 }, { type: 'promise', position: 60, promised: 8 }]);
      await s.sync();
      const before = snapshot(s);
      const r = await f.reopen(s);
      assert.deepEqual(snapshot(r), before);
      return r;
    }));

  test(`${name}: random records match the in-memory reference, before and after reopen`, () =>
    withStore(f, async (s) => {
      const ref = new MemoryStore();
      const rnd = seeded(42);
      const records = randomRecords(rnd, 600);
      for (let i = 0; i < records.length; i += 7) {
        const chunk = records.slice(i, i + 7);
        s.append(chunk);
        ref.append(chunk);
        if (rnd() < 0.3) await s.sync();
      }
      await s.sync();
      assert.deepEqual(snapshot(s), snapshot(ref));
      const r = await f.reopen(s);
      assert.deepEqual(snapshot(r), snapshot(ref));
      return r;
    }));

  if (f.cleanup !== undefined) test.after(f.cleanup);
}


/** Records such as a replica writes: accepts, commits, learns, promises, a truncate now and then. */
export function randomRecords(rnd: () => number, n: number): PersistRecord[] {
  const out: PersistRecord[] = [{ type: 'metadata', metadata: META }];
  const learned = new Set<number>();
  let begin = 0;
  let top = 0;
  for (let i = 0; i < n; i++) {
    const p = begin + Math.floor(rnd() * (top - begin + 3));
    top = Math.max(top, p);
    const x = rnd();
    if (x < 0.45) {
      if (!learned.has(p)) out.push(accept(p, 1 + Math.floor(rnd() * 3), append(`r${i}-`.repeat(Math.floor(rnd() * 40)))));
    } else if (x < 0.6) {
      const from = Math.max(begin, p - 5);
      out.push({ type: 'commit', from, to: p, proposal: 1 + Math.floor(rnd() * 3) });
      // The commit may learn any of these: never accept there again (the index refuses it).
      for (let q = from; q <= p; q++) learned.add(q);
    } else if (x < 0.75) {
      out.push({ type: 'promise', position: p, promised: Math.floor(rnd() * 10) });
    } else if (x < 0.97 || p <= begin + 2) {
      if (!learned.has(p)) out.push(learn(p, append(`L${i}`)));
      learned.add(p);
    } else if (!learned.has(p)) {
      const to = begin + Math.floor((p - begin) / 2);
      out.push(learn(p, { kind: 'truncate', to }));
      begin = Math.max(begin, to);
      learned.add(p);
    }
  }
  return out;
}
