// Attack on R15 (redone) from the honest side: a writer with a PLAIN client certificate that follows Paxos
// must re-propose a config entry it finds accepted at one replica of its election quorum (R5's stop sign,
// writer-election.ts becomeElected: `settle` takes the highest accepted value, and proposeChange sends the
// found entry to every member at the same position). Acceptors that did not accept that entry judge the
// re-proposal as a NEW placement (refuseNonAdminConfig: holds() is false there), so they need the admin's
// request held, and for an entry below their head they refuse it outright. A refusal closes the writer's
// connection, so its write never gets a quorum, the operation fails no-quorum, the writer goes in doubt,
// and every re-election finds the same entry again (the replica that holds it answers every election):
// the application's log is blocked for plain writers until an admin's own writer settles the position.
// Before R15 no such refusal existed.
//
// 1. Honest actors only: the request is no longer held where the entry was not accepted (ChangeAuthority
//    is in memory and forgets after ten minutes; a replica that restarted holds nothing; a withdrawal
//    revokes it). The asker is gone (its CLI killed, or its own writer failed), so nothing offers again.
// 2. A hostile plain writer that follows Paxos (but not R2's one-change barrier) leaves a trap that
//    outlives it: the same admin request accepted at position 10 on one replica and chosen at 11 on the
//    others (each acceptor sees one entry only, so sameEpochPending passes). Every later honest plain
//    writer whose quorum includes the first replica must re-propose 10, which the others refuse as "not
//    above this replica's head".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, PromiseReply } from '../../src/core/types.js';
import { WriterCore } from '../../src/core/writer.js';
import { applyChange, type Configuration } from '../../src/core/membership.js';
import { WIRE_VERSION } from '../../src/net/hello.js';
import { refuseConfigWrite, refuseNonAdminConfig, type ConfigAuthority } from '../../src/server/admission.js';
import { ChangeAuthority } from '../../src/server/change-authority.js';
import type { ChangeRequest } from '../../src/core/writer.js';
import { seededRandom } from '../helpers/seeded-random.js';

const client = { version: WIRE_VERSION, clusterId: '', role: 'client' as const };
const plain = { kind: 'client' as const, name: 'app', role: 'client' as const };
const m = (id: number) => ({ id, address: `127.0.0.1:${7000 + id}` });
const c0 = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
const req: ChangeRequest = { id: 'req-1', ifEpoch: 0, change: { kind: 'add', member: m(4) } };
const made = applyChange(c0, req.change, { ifEpoch: 0, changeId: req.id });
assert.ok(made.ok);
const E: Configuration = made.next;

const view = (authority: { get(id: string): ChangeRequest | undefined; vouched?(p: number, c: Configuration): boolean }, accepted: Record<number, object> = {}, chain: object[] = [c0]): ConfigAuthority => ({
  chain: chain as never,
  accepted: (p) => accepted[p] as never,
  request: (id) => authority.get(id),
  pending: () => Object.keys(accepted).map(Number),
  vouched: (p, c) => authority.vouched?.(p, c) ?? false,
});
/** Replica 1, which holds E accepted at `at` above its head, tells the others (replica-server.ts vouchPending, every peerStateMs). */
const vouchFrom1 = (at: number, ...to: ChangeAuthority[]) => { for (const a of to) a.vouch(1, { ...E, position: at, floor: 3 }); };
const judge = (msg: Message, held: ConfigAuthority): string | undefined => refuseConfigWrite(msg, held.chain) ?? refuseNonAdminConfig(msg, client, plain, held);

/** What an honest writer elected over {1 holding E at `at`, 2, 3 holding nothing} sends: the writes carrying a config entry (one message, to each member it named). */
function honestReproposal(at: number): Message[] {
  const w = new WriterCore({ members: [1, 2, 3], random: seededRandom(11), proposalFloor: 5 });
  const out = w.step({ type: 'elect' }, 0);
  const first = out.send[0]!.msg as { rid: number; proposal: number };
  const reply = (slots: PromiseReply['slots'], end: number): PromiseReply => ({
    type: 'promiseReply', rid: first.rid, outcome: 'accept', proposal: first.proposal, status: 'VOTING', begin: 0, end, learnedThrough: at - 1,
    slots, coveredThrough: end, generation: 0, disk: 0, config: { epoch: 0, position: -1 },
  });
  const sent: Message[] = [];
  const collect = (o: { send: { msg: Message }[] }) => { for (const s of o.send) if (s.msg.type === 'write' && s.msg.actions.some((a) => a.kind === 'config')) sent.push(s.msg); };
  collect(w.step({ type: 'reply', from: 1, msg: reply([{ position: at, promised: 0, accepted: 3, learned: false, action: { kind: 'config', config: E } }], at) }, 1));
  collect(w.step({ type: 'reply', from: 2, msg: reply([], at - 1) }, 2));
  collect(w.step({ type: 'reply', from: 3, msg: reply([], at - 1) }, 3));
  return sent;
}

test('attack-r15b: an honest plain writer\'s R5 re-proposal of a pending entry gets a quorum after the request expired where it was not accepted', () => {
  const writes = honestReproposal(10);
  assert.ok(writes.length >= 2, 'premise: the honest writer re-proposes the pending entry to the members it named');
  assert.equal((writes[0] as { from: number }).from, 10, 'premise: at its own position');
  let now = 0;
  const authority = () => {
    const a = new ChangeAuthority({ now: () => now });
    a.add(req); // the forward, when the admin asked
    return a;
  };
  const a1 = authority(), a2 = authority(), a3 = authority();
  const replicas = [view(a1, { 10: { kind: 'config', config: E } }), view(a2), view(a3)];
  assert.equal(replicas.filter((r, i) => judge(writes[0]!, r) === undefined).length, 3, 'premise: while the request is held, all three take it');
  now = 10 * 60_000 + 1; // the writer that placed it crashed; the asker is gone; the next writer comes ten minutes later
  vouchFrom1(10, a2, a3);
  const admitted = replicas.filter((r, i) => judge(writes[0]!, r) === undefined).length;
  assert.ok(admitted >= 2, `only ${admitted} of 3 replicas take the re-proposal (${replicas.map((r, i) => judge(writes[0]!, r) ?? 'ok').join(' | ')}): the plain writer's election can never finish`);
});

test('attack-r15b: an honest plain writer\'s R5 re-proposal gets a quorum after the replicas that lack the entry restarted (authority is in memory)', () => {
  const writes = honestReproposal(10);
  const held = new ChangeAuthority({ now: () => 0 });
  held.add(req);
  const restarted = new ChangeAuthority({ now: () => 0 }); // replicas 2 and 3 restarted: they hold nothing
  vouchFrom1(10, restarted);
  const replicas = [view(held, { 10: { kind: 'config', config: E } }), view(restarted), view(restarted)];
  const admitted = replicas.filter((r, i) => judge(writes[0]!, r) === undefined).length;
  assert.ok(admitted >= 2, `only ${admitted} of 3 take the re-proposal: ${judge(writes[0]!, replicas[1]!)}`);
});

test('attack-r15b: an honest plain writer\'s R5 re-proposal gets a quorum after a withdrawal revoked the request where the entry was not accepted', () => {
  // The taker placed E at 10 (accepted at replica 1 only) and crashed; its relay entries were held again, no
  // writer took them within takeWaitMs, and the asker withdrew everywhere (revoking), then its own writer
  // failed (no quorum at that moment) and the CLI exited. The application's writer comes back.
  const writes = honestReproposal(10);
  const auth = [1, 2, 3].map(() => {
    const a = new ChangeAuthority({ now: () => 0 });
    a.add(req);
    a.revoke(req.id);
    return a;
  });
  vouchFrom1(10, auth[1]!, auth[2]!);
  const replicas = [view(auth[0]!, { 10: { kind: 'config', config: E } }), view(auth[1]!), view(auth[2]!)];
  const admitted = replicas.filter((r, i) => judge(writes[0]!, r) === undefined).length;
  assert.ok(admitted >= 2, `only ${admitted} of 3 take the re-proposal: ${judge(writes[0]!, replicas[1]!)}`);
});

// Not closed, by design (docs/reconfiguration.md, R15's second review): the trap needs a writer that breaks R2
// (two placements of one change), which is out of the model as re-proposing over accepted values is; each
// acceptor sees one placement, so none can refuse it, and admitting the re-proposal of 10 below the head would
// choose a second epoch-1 entry. Refusing keeps the chain single; the log is stuck for plain writers there.
test('attack-r15b: a plain writer cannot leave one admin request accepted at 10 and chosen at 11, a trap every later plain writer falls in', { skip: 'out of the model: a writer that breaks R2 (docs/reconfiguration.md, R15); the refusal keeps the chain single' }, () => {
  const held = new ChangeAuthority({ now: () => 0 });
  held.add(req);
  const write = (from: number) => ({ type: 'write', rid: 1, proposal: 5, from, actions: [{ kind: 'config', config: E }], named: [] }) as unknown as Message;
  // The hostile writer (proposal 5, following Paxos: nothing was accepted at 10 or 11 anywhere) writes E at 10
  // to replica 1 only, and E at 11 to replicas 2 and 3. Each acceptor sees one entry: all three admit it.
  assert.equal(judge(write(10), view(held)), undefined, 'premise: replica 1 takes E at 10');
  assert.equal(judge(write(11), view(held)), undefined, 'premise: replica 2 takes E at 11');
  assert.equal(judge(write(11), view(held)), undefined, 'premise: replica 3 takes E at 11');
  // 11 is chosen (2 and 3) and committed: their chain is [c0, E@11]. Replica 1 catches the chain up from them
  // and still holds E at 10, accepted under 3 (the writer's election proposal was 5: any of its ballots).
  const chained = [c0, { ...E, position: 11, floor: 5 }];
  // Every later honest plain writer whose election hears replica 1 must re-propose E at 10 (the highest
  // accepted value there): replicas 2 and 3 refuse it ("not above this replica's head") and close its
  // connection; it never gets a quorum, and the application cannot write until an admin's writer settles 10.
  const honest = write(10);
  const answers = [
    judge(honest, view(held, { 10: { kind: 'config', config: E } }, chained)),
    judge(honest, view(held, { 11: { kind: 'config', config: E } }, chained)),
    judge(honest, view(held, { 11: { kind: 'config', config: E } }, chained)),
  ];
  const admitted = answers.filter((a) => a === undefined).length;
  assert.ok(admitted >= 2, `only ${admitted} of 3 take the Paxos-mandated re-proposal of 10: ${answers.join(' | ')}`);
});
