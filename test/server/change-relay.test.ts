/**
 * The change relay (src/server/change-relay.ts, docs/reconfiguration.md R12):
 * offers are held only while a writer that takes changes holds the promise;
 * held changes go once, to the holder's connection; only that connection's
 * report settles them; withdrawals, connection loss, expiry and the bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeRelay, type HolderView } from '../../src/server/change-relay.js';
import type { ChangeOffer } from '../../src/net/change-codec.js';
import type { PlacedConfiguration } from '../../src/core/membership.js';
import { mayCarryChanges, refuseChangeMessage } from '../../src/server/admission.js';
import { WIRE_VERSION } from '../../src/net/hello.js';

function setup(opts: { heldMax?: number; expiryMs?: number } = {}) {
  const clock = { now: 1_000 };
  let holder: HolderView | null = { proposal: 7, active: true };
  const relay = new ChangeRelay({ now: () => clock.now, holder: () => holder, takerWindowMs: 3_000, ...opts });
  return {
    relay,
    clock,
    setHolder: (h: HolderView | null) => (holder = h),
  };
}

const offer = (id: string, withdraw = false): ChangeOffer => ({
  type: 'changeOffer', rid: 1, request: { id, ifEpoch: 1, change: { kind: 'promote', id: 4 } }, ...(withdraw ? { withdraw: true as const } : {}),
});
const placed: PlacedConfiguration = { epoch: 2, voters: [{ id: 1, address: 'a:1' }], learners: [], nextId: 5, position: 9, floor: 3 };
const ok = { ok: true as const, config: placed };
/** The asker's connection (each offer below comes on it unless the test says otherwise). */
const asker = {};

test('no writer that takes changes: the offer is answered no-writer and nothing is held', () => {
  const { relay, setHolder } = setup();
  // An active holder that never asked for changes (an old client, a resigned one-shot writer) is no taker.
  assert.equal(relay.offer(offer('a'), asker).state, 'no-writer');
  assert.equal(relay.size, 0);
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, {});
  assert.equal(relay.offer(offer('a'), asker).state, 'held');
  // The holder stops being active (resigned, fenced, dead): new offers find no writer.
  setHolder({ proposal: 7, active: false });
  assert.equal(relay.offer(offer('b'), asker).state, 'no-writer');
  setHolder(null);
  assert.equal(relay.offer(offer('c'), asker).state, 'no-writer');
  // What was held stays held, and its poll says so.
  assert.equal(relay.offer(offer('a'), asker).state, 'held');
});

test('a taker under an older proposal still counts (its writer just changed proposal, R4): held, handed only to the new holder', () => {
  const { relay, setHolder } = setup();
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, {});
  setHolder({ proposal: 9, active: true });
  assert.equal(relay.offer(offer('a'), asker).state, 'held');
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 2, proposal: 7 }, {}).requests, []);
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 3, proposal: 9 }, {}).requests.map((r) => r.id), ['a']);
});

test('the taker\'s connection closes (a one-shot writer exits): no taker until the next take', () => {
  const { relay } = setup();
  const oneShot = {};
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, oneShot);
  assert.equal(relay.offer(offer('a'), asker).state, 'held');
  relay.connectionClosed(oneShot);
  assert.equal(relay.offer(offer('b'), asker).state, 'no-writer');
  relay.take({ type: 'changeTake', rid: 2, proposal: 7 }, {});
  assert.equal(relay.offer(offer('b'), asker).state, 'held');
});

test('a writer that stops taking (resigned, done) leaves no taker; another connection\'s done changes nothing', () => {
  const { relay } = setup();
  const writer = {};
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, writer);
  relay.offer(offer('a'), asker);
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 2, proposal: 7, done: true }, {}).requests, []);
  assert.equal(relay.offer(offer('b'), asker).state, 'held');
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 3, proposal: 7, done: true }, writer).requests, [], 'a done take is handed nothing');
  assert.equal(relay.offer(offer('c'), asker).state, 'no-writer');
});

test('a taker seen too long ago is no taker', () => {
  const { relay, clock } = setup();
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, {});
  clock.now += 3_000;
  assert.equal(relay.offer(offer('a'), asker).state, 'no-writer');
});

test('held changes go only to the holder of the promise, once, and only its connection settles them', () => {
  const { relay } = setup();
  const writer = {};
  const other = {};
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, writer);
  assert.equal(relay.offer(offer('a'), asker).state, 'held');
  // Another proposal (a fenced writer, a would-be writer) gets nothing.
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 2, proposal: 6 }, other).requests, []);
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 2, proposal: 8 }, other).requests, []);
  const got = relay.take({ type: 'changeTake', rid: 3, proposal: 7 }, writer);
  assert.deepEqual(got.requests.map((r) => r.id), ['a']);
  assert.equal(got.rid, 3);
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 4, proposal: 7 }, writer).requests, [], 'handed once');
  assert.equal(relay.offer(offer('a'), asker).state, 'taken');
  assert.equal(relay.report('a', ok, other), 'not-the-taker');
  assert.equal(relay.report('zz', ok, writer), 'unknown-id');
  assert.equal(relay.offer(offer('a'), asker).state, 'taken');
  assert.equal(relay.report('a', ok, writer), 'settled');
  assert.deepEqual(relay.offer(offer('a'), asker), { type: 'changeOfferReply', rid: 1, state: 'done', outcome: ok });
  assert.equal(relay.report('a', { ok: false, reason: 'unknown', message: 'x' }, writer), 'already-settled');
  assert.deepEqual(relay.offer(offer('a'), asker).outcome, ok, 'the first outcome stands');
});

test('a holder that may not carry changes (TLS without the admin role) is handed nothing and is no taker', () => {
  const { relay } = setup();
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, {}, false);
  assert.equal(relay.offer(offer('a'), asker).state, 'no-writer');
  const admin = {};
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, admin);
  assert.equal(relay.offer(offer('a'), asker).state, 'held');
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, {}, false).requests, []);
  assert.equal(relay.offer(offer('a'), asker).state, 'held');
  // A connection without the role changes nothing (it used to unseat the taker, so that an offer found
  // no-writer and the asker fenced the application's writer: hostile-relay-tls.test.ts).
  assert.equal(relay.offer(offer('b'), asker).state, 'held');
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 2, proposal: 7 }, admin).requests.map((r) => r.id), ['a', 'b']);
});

test('a change is its asker\'s: another connection may poll it, but not withdraw it or put another change under its id; after the asker\'s connection closed, the next offer of it is its asker', () => {
  const refused: string[] = [];
  const relay = new ChangeRelay({ now: () => 1_000, holder: () => ({ proposal: 7, active: true }), onRefused: (_c, type, why) => refused.push(`${type}: ${why}`) });
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, {});
  const other = {};
  assert.equal(relay.offer(offer('a'), asker).state, 'held');
  assert.equal(relay.offer(offer('a'), other).state, 'held', 'a poll from another connection');
  assert.equal(relay.offer(offer('a', true), other).state, 'held', 'its withdrawal is refused');
  const another: ChangeOffer = { type: 'changeOffer', rid: 2, request: { id: 'a', ifEpoch: 1, change: { kind: 'remove', id: 1 } } };
  assert.equal(relay.offer(another, other).state, 'withdrawn', 'another change under the id is not held for it');
  assert.equal(relay.offer(another, asker).state, 'withdrawn', 'not even from the asker\'s connection');
  assert.equal(refused.length, 3);
  assert.match(refused[0]!, /^changeOffer: a withdrawal of change a from a connection that did not offer it/);
  assert.equal(relay.offer(offer('a'), asker).state, 'held', 'still held, with its own request');
  relay.connectionClosed(asker);
  assert.equal(relay.offer(offer('a', true), other).state, 'withdrawn', 'its asker reconnected');
});

test('the taker is bound to its connection: another naming its proposal is refused, hands nothing, unseats nothing', () => {
  const refused: string[] = [];
  const clock = { now: 1_000 };
  const relay = new ChangeRelay({ now: () => clock.now, holder: () => ({ proposal: 7, active: true }), takerWindowMs: 3_000, onRefused: (_c, _type, why) => refused.push(why) });
  const writer = {};
  const thief = {};
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, writer);
  assert.equal(relay.offer(offer('a'), asker).state, 'held');
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 2, proposal: 7 }, thief).requests, [], 'not handed to another connection');
  assert.equal(refused.length, 1);
  assert.match(refused[0]!, /taker is another connection/);
  relay.take({ type: 'changeTake', rid: 3, proposal: 7, done: true }, thief);
  assert.equal(relay.offer(offer('b'), asker).state, 'held', 'its done does not unseat the taker');
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 4, proposal: 7 }, writer).requests.map((r) => r.id), ['a', 'b']);
  assert.equal(relay.report('a', ok, thief), 'not-the-taker');
  relay.connectionClosed(thief);
  assert.equal(relay.offer(offer('a'), asker).state, 'taken', 'its close resets nothing');
  // A taker that stopped taking (a writer whose old connection lingers after it reconnected) gives way.
  clock.now += 3_000;
  relay.take({ type: 'changeTake', rid: 5, proposal: 7 }, thief);
  assert.equal(refused.length, 1, 'not refused once the bound taker stopped taking');
  assert.equal(relay.offer(offer('c'), asker).state, 'held');
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 6, proposal: 7 }, writer).requests, [], 'the old connection is refused now');
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 7, proposal: 7 }, thief).requests.map((r) => r.id), ['c']);
});

test('a withdrawn change is never handed out; a taken one cannot be withdrawn; withdrawing an unknown id says withdrawn', () => {
  const { relay } = setup();
  const writer = {};
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, writer);
  relay.offer(offer('a'), asker);
  assert.equal(relay.offer(offer('a', true), asker).state, 'withdrawn');
  assert.equal(relay.offer(offer('a'), asker).state, 'withdrawn', 'an offer of a withdrawn id does not hold it again');
  assert.deepEqual(relay.take({ type: 'changeTake', rid: 2, proposal: 7 }, writer).requests, []);
  relay.offer(offer('b'), asker);
  relay.take({ type: 'changeTake', rid: 3, proposal: 7 }, writer);
  assert.equal(relay.offer(offer('b', true), asker).state, 'taken');
  assert.equal(relay.offer(offer('never', true), asker).state, 'withdrawn');
});

test('the taking connection closes before it reports: the change is held again for the next take', () => {
  const { relay } = setup();
  const first = {};
  const second = {};
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, first);
  relay.offer(offer('a'), asker);
  assert.equal(relay.take({ type: 'changeTake', rid: 2, proposal: 7 }, first).requests.length, 1);
  relay.connectionClosed(second);
  assert.equal(relay.offer(offer('a'), asker).state, 'taken', 'another connection closing changes nothing');
  relay.connectionClosed(first);
  assert.equal(relay.offer(offer('a'), asker).state, 'held');
  assert.equal(relay.report('a', ok, first), 'not-the-taker');
  assert.equal(relay.take({ type: 'changeTake', rid: 3, proposal: 7 }, second).requests.length, 1);
  assert.equal(relay.report('a', ok, second), 'settled');
});

test('bounded: at the bound the oldest settled or withdrawn goes first; with none, no-writer', () => {
  const { relay } = setup({ heldMax: 2 });
  const writer = {};
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, writer);
  relay.offer(offer('a'), asker);
  relay.offer(offer('b'), asker);
  assert.equal(relay.offer(offer('c'), asker).state, 'no-writer', 'full of held changes');
  relay.offer(offer('a', true), asker);
  assert.equal(relay.offer(offer('c'), asker).state, 'held', 'the withdrawn one made room');
  assert.equal(relay.size, 2);
  assert.equal(relay.offer(offer('a', true), asker).state, 'withdrawn');
});

test('expiry: a change nobody asked about for expiryMs is forgotten; each poll keeps it', () => {
  const { relay, clock } = setup({ expiryMs: 10_000 });
  const writer = {};
  relay.take({ type: 'changeTake', rid: 1, proposal: 7 }, writer);
  relay.offer(offer('a'), asker);
  relay.offer(offer('b'), asker);
  clock.now += 6_000;
  relay.take({ type: 'changeTake', rid: 2, proposal: 7 }, writer);
  relay.report('a', ok, writer);
  relay.offer(offer('a'), asker);
  clock.now += 6_000;
  assert.equal(relay.offer(offer('a'), asker).state, 'done');
  assert.equal(relay.size, 1, 'b expired');
  assert.equal(relay.report('b', ok, writer), 'unknown-id');
});

test('admission: offers need the admin role with TLS; takes and reports are any client\'s; forwards a replica\'s; replies and replica hellos are refused', () => {
  const client = { version: WIRE_VERSION, clusterId: '', role: 'client' as const };
  const peer = { version: WIRE_VERSION, clusterId: '', role: 'replica' as const, replicaId: 2 };
  const admin = { kind: 'client' as const, name: 'ops', role: 'admin' as const };
  const app = { kind: 'client' as const, name: 'app', role: 'client' as const };
  assert.equal(refuseChangeMessage('changeOffer', client), undefined, 'plaintext: anyone who reaches the port');
  assert.equal(refuseChangeMessage('changeOffer', client, admin), undefined);
  assert.match(refuseChangeMessage('changeOffer', client, app) ?? '', /needs an admin certificate/);
  for (const t of ['changeTake', 'changeReport'] as const) assert.equal(refuseChangeMessage(t, client, app), undefined, t);
  for (const t of ['changeOfferReply', 'changeTakeReply'] as const) assert.match(refuseChangeMessage(t, client) ?? '', /may not send/, t);
  assert.match(refuseChangeMessage('changeOffer', peer) ?? '', /a replica may not send/);
  // R15: a forward is a member's (a replica's authority); from any client, admin or not, it is refused.
  assert.equal(refuseChangeMessage('changeForward', peer), undefined);
  for (const id of [undefined, admin, app]) assert.match(refuseChangeMessage('changeForward', client, id) ?? '', /a client may not send 'changeForward'/);
  assert.equal(mayCarryChanges(undefined), true);
  assert.equal(mayCarryChanges(admin), true);
  // R15: a plain client certificate carries an admin's change (every member holds the request: changeForward).
  assert.equal(mayCarryChanges(app), true);
  assert.equal(mayCarryChanges({ kind: 'replica', id: 2 } as never), false, "a replica's certificate on a client hello");
});
