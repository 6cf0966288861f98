// Attack on R15's relay (mayCarryChanges): a writer with a PLAIN client certificate may now take an admin's
// change. One that takes it and never reports (a hostile or wedged application writer, connection left open,
// taking again every recommit) keeps the change 'taken': the admin's hand-off never withdraws a taken change
// (handoff.ts), waited outcomeWaitMs (120 s) and ended 'no-outcome', on which members.ts carryOut threw
// ("outcome unknown") instead of electing its own writer. Every retry (a new request id) is taken again.
// Before R15, under TLS the plain writer was never handed the change: the offer found no-writer and the
// admin's CLI elected its own writer, fencing the plain one. So a plain certificate can now block every
// membership change indefinitely.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeRelay } from '../../src/server/change-relay.js';
import { mayCarryChanges } from '../../src/server/admission.js';
import { handOff, type HandOffTiming } from '../../src/client/handoff.js';
import type { ChangeRequest } from '../../src/core/writer.js';
import { Members } from '../../src/client/members.js';

test('attack-r15: a plain writer that takes an admin\'s change and sits on it does not keep the admin from making it', async () => {
  const plain = { kind: 'client' as const, name: 'app', role: 'client' as const };
  const relay = new ChangeRelay({ now: () => performance.now(), holder: () => ({ proposal: 7, active: true }), takerWindowMs: 60_000 });
  const writerConn = {};
  const adminConn = {};
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, writerConn, mayCarryChanges(plain)); // the plain writer takes
  const t: HandOffTiming = { pollMs: 5, takeWaitMs: 60, answerMs: 50, outcomeWaitMs: 400, confirmWaitMs: 50 };
  const request: ChangeRequest = { id: 'admin-1', ifEpoch: 0, change: { kind: 'remove', id: 3 } };
  const port = {
    connectedMembers: () => [1],
    offerChange: async (_to: number, req: ChangeRequest, withdraw: boolean) => {
      const r = relay.offer({ type: 'changeOffer', rid: 1, request: req, ...(withdraw ? { withdraw: true } : {}) }, adminConn);
      // The plain writer takes again at every recommit: it holds the change and never reports.
      relay.take({ type: 'changeTake', rid: 2, proposal: 7 }, writerConn, mayCarryChanges(plain));
      return r;
    },
  };
  const result = await handOff(port, request, t);
  assert.equal(result.kind, 'overdue', 'a taken change with no outcome in outcomeWaitMs is overdue (the asker fences the taker)');

  // And the asker carries it out with a writer of its own (which fences the plain one): Members.carryOut
  // over a client whose relay is the one the plain writer sits on.
  let elected = 0;
  const made = { epoch: 1, voters: [{ id: 1, address: 'a:1' }, { id: 2, address: 'a:2' }], learners: [] };
  const client = {
    ...port,
    heldWriter: () => undefined,
    writer: async () => {
      elected++;
      return { change: async (r: ChangeRequest) => (assert.equal(r, request), made), resign: async () => undefined };
    },
  };
  const members = new Members(client as never, () => undefined);
  const config = await members.carryOut(request, t);
  assert.equal(elected, 1, 'the asker elected its own writer');
  assert.deepEqual(config, made);
});
