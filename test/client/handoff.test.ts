/**
 * The asker's side of the hand-off (src/client/handoff.ts) against scripted
 * replicas: no-writer at once, the poll until done, a change held and never
 * taken withdrawn in time, a withdrawal that finds it taken waits on, and a
 * held change no replica holds any more is withdrawn rather than waited for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handOff, type HandOffTiming, type RelayPort } from '../../src/client/handoff.js';
import type { ChangeOfferReply, OfferState, RelayOutcome } from '../../src/net/change-codec.js';
import type { ChangeRequest } from '../../src/core/writer.js';

const fast: HandOffTiming = { pollMs: 5, takeWaitMs: 60, answerMs: 50, outcomeWaitMs: 2_000, confirmWaitMs: 100 };
/** For runs whose verdict must not depend on how fast the machine polls: no deadline is reached by a slow turn. */
const patient: HandOffTiming = { ...fast, takeWaitMs: 60_000, outcomeWaitMs: 60_000 };
const request: ChangeRequest = { id: 'r1', ifEpoch: 3, change: { kind: 'remove', id: 2 } };
const outcome: RelayOutcome = { ok: false, reason: 'epoch-changed', message: 'the configuration is at epoch 4' };

/** Replicas whose answers follow `script(replica, round, withdraw)`; undefined: no answer. */
function port(ids: number[], script: (id: number, round: number, withdraw: boolean) => OfferState | undefined): RelayPort & { withdrawals: number } {
  const rounds = new Map<number, number>();
  const p = {
    withdrawals: 0,
    connectedMembers: () => ids,
    offerChange: async (to: number, req: ChangeRequest, withdraw: boolean): Promise<ChangeOfferReply | undefined> => {
      assert.equal(req, request);
      if (withdraw) p.withdrawals++;
      const round = rounds.get(to) ?? 0;
      rounds.set(to, round + 1);
      const state = script(to, round, withdraw);
      if (state === undefined) return undefined;
      return state === 'done' ? { type: 'changeOfferReply', rid: 1, state, outcome } : { type: 'changeOfferReply', rid: 1, state };
    },
  };
  return p;
}

test('every replica says no-writer (or nothing): no-writer at once, nothing withdrawn', async () => {
  const p = port([1, 2, 3], (id) => (id === 2 ? undefined : 'no-writer'));
  assert.deepEqual(await handOff(p, request, fast), { kind: 'no-writer' });
  assert.equal(p.withdrawals, 0);
});

test('held, then taken, then done on one replica: the outcome', async () => {
  const p = port([1, 2], (id, round) => (round < 2 ? 'held' : round < 5 ? 'taken' : id === 2 ? 'done' : 'taken'));
  assert.deepEqual(await handOff(p, request, patient), { kind: 'done', outcome });
  assert.equal(p.withdrawals, 0);
});

test('held and never taken: withdrawn everywhere after takeWaitMs', async () => {
  const p = port([1, 2, 3], (_id, _round, withdraw) => (withdraw ? 'withdrawn' : 'held'));
  const t0 = performance.now();
  assert.deepEqual(await handOff(p, request, fast), { kind: 'withdrawn' });
  assert.ok(performance.now() - t0 >= fast.takeWaitMs);
  assert.equal(p.withdrawals, 3);
});

test('a withdrawal one replica answers taken (it handed the change over meanwhile): the asker waits on for the outcome', async () => {
  let withdrawn = false;
  const p = port([1, 2], (id, round, withdraw) => {
    if (withdraw) {
      withdrawn = true;
      return id === 1 ? 'taken' : 'withdrawn';
    }
    if (!withdrawn) return 'held';
    return id === 1 && round > 20 ? 'done' : id === 1 ? 'taken' : 'withdrawn';
  });
  assert.deepEqual(await handOff(p, request, { ...fast, outcomeWaitMs: 60_000 }), { kind: 'done', outcome });
});

test('held once, then held nowhere (replicas restarted): withdrawn at once, not waited for', async () => {
  const p = port([1, 2], (_id, round, withdraw) => (withdraw ? 'withdrawn' : round === 0 ? 'held' : 'no-writer'));
  const t0 = performance.now();
  assert.deepEqual(await handOff(p, request, { ...fast, takeWaitMs: 10_000 }), { kind: 'withdrawn' });
  assert.ok(performance.now() - t0 < 5_000);
});

test('taken and never reported: overdue at outcomeWaitMs (the asker then fences the taker with its own writer)', async () => {
  const p = port([1], () => 'taken');
  assert.deepEqual(await handOff(p, request, { ...fast, outcomeWaitMs: 100 }), { kind: 'overdue' });
});
