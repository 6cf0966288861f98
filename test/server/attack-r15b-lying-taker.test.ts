// Attack on R15's claim (c), redone: "a plain writer that takes a change and sits on it cannot block the
// admin". It need not sit: the relay takes a report from the connection it handed the change to, and the
// asker (members.ts carryOut) believes a refusal from it. A writer with a PLAIN client certificate that holds
// the log takes every admin change (mayCarryChanges) and at once reports a refusal it made up:
//   - 'epoch-changed': carryOut looks for the request's id in the chain (unlessMade), finds none, and throws
//     ConfigChangedError;
//   - any refusal reason ('would-lose-quorum', 'unknown-member', ...): thrown as ChangeRefusedError;
//   - a success with a made-up configuration: carryOut does not find it in the replicas' chain within
//     confirmWaitMs and throws "outcome unknown", electing nothing on purpose.
// In each case the admin's `replog member ...` fails in milliseconds, nothing is made, and every retry (a new
// id, the same ifEpoch) is taken and refused again: a plain certificate vetoes every membership change for
// as long as its writer holds the log, including the change that would remove its writer's replicas. Before
// R15 a plain writer was never handed a change under TLS (the admin's CLI found no-writer and elected its
// own). The replicas' configuration (what carryOut already reads for a success) shows each lie: the epoch
// did not move, and the request is no refusal at that epoch (the asker checked it with applyChange and the
// guard before offering it). What the tests expect: the asker carries the change out with a writer of its
// own (fencing the taker), as it does for a taker that sits on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeRelay } from '../../src/server/change-relay.js';
import { mayCarryChanges } from '../../src/server/admission.js';
import type { HandOffTiming } from '../../src/client/handoff.js';
import type { ChangeRequest } from '../../src/core/writer.js';
import type { RelayOutcome } from '../../src/net/change-codec.js';
import { Members } from '../../src/client/members.js';

const plain = { kind: 'client' as const, name: 'app', role: 'client' as const };
const m = (id: number) => ({ id, address: `127.0.0.1:${7000 + id}` });
const c0 = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
const t: HandOffTiming = { pollMs: 5, takeWaitMs: 200, answerMs: 50, outcomeWaitMs: 2_000, confirmWaitMs: 100 };

/** Runs the admin's carryOut against a relay whose holder is a plain writer that reports `lie` for every change it takes. */
async function adminAgainstLiar(lie: RelayOutcome): Promise<{ result: unknown; elected: number }> {
  const relay = new ChangeRelay({ now: () => performance.now(), holder: () => ({ proposal: 7, active: true }), takerWindowMs: 60_000 });
  const writerConn = {};
  const adminConn = {};
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, writerConn, mayCarryChanges(plain)); // the plain writer asks for changes
  const request: ChangeRequest = { id: 'admin-1', ifEpoch: 0, change: { kind: 'remove', id: 3 } };
  let elected = 0;
  const made = { ...c0, epoch: 1, voters: [m(1), m(2)], changeId: request.id, position: 40, floor: 9 };
  const client = {
    connectedMembers: () => [1],
    offerChange: async (_to: number, req: ChangeRequest, withdraw: boolean) => {
      const r = relay.offer({ type: 'changeOffer', rid: 1, request: req, ...(withdraw ? { withdraw: true } : {}) }, adminConn);
      // The plain writer takes at its next recommit and reports the lie on the connection it took with.
      const taken = relay.take({ type: 'changeTake', rid: 2, proposal: 7 }, writerConn, mayCarryChanges(plain));
      for (const q of taken.requests) relay.report(q.id, lie, writerConn);
      return r;
    },
    heldWriter: () => undefined,
    // The replicas' configuration: still epoch 0, no configuration carries the request's id.
    configuration: async () => undefined,
    chain: [c0],
    writer: async () => {
      elected++;
      return { change: async () => made, resign: async () => undefined };
    },
  };
  const members = new Members(client as never, () => undefined);
  const result = await members.carryOut(request, t).catch((err: Error) => err);
  return { result, elected };
}

test('attack-r15b: a plain taker\'s made-up epoch-changed does not end an admin\'s change (the epoch did not move)', async () => {
  const { result, elected } = await adminAgainstLiar({ ok: false, reason: 'epoch-changed', message: 'the configuration changed (made up)' });
  assert.ok(!(result instanceof Error), `the admin's change failed on the taker's word: ${(result as Error).message}`);
  assert.equal(elected, 1, 'the asker elected its own writer');
});

test('attack-r15b: a plain taker\'s made-up refusal does not end an admin\'s change', async () => {
  const { result, elected } = await adminAgainstLiar({ ok: false, reason: 'would-lose-quorum', message: 'refused (made up)' });
  assert.ok(!(result instanceof Error), `the admin's change failed on the taker's word: ${(result as Error).message}`);
  assert.equal(elected, 1, 'the asker elected its own writer');
});

test('attack-r15b: a plain taker\'s made-up success that the replicas never confirm does not end an admin\'s change', async () => {
  const fake = { ...c0, epoch: 1, voters: [m(1), m(2)], changeId: 'admin-1', position: 40, floor: 9 };
  const { result, elected } = await adminAgainstLiar({ ok: true, config: fake });
  assert.ok(!(result instanceof Error), `the admin's change failed on the taker's word: ${(result as Error).message}`);
  assert.equal(elected, 1, 'the asker elected its own writer');
});
