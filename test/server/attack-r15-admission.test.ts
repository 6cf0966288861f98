// Attacks on R15's acceptor check (admission.ts refuseNonAdminConfig): a plain (non-admin) client certificate
// places an admin's request a second time, at a position no admin asked for, so that two config entries of
// one epoch are chosen and replicas' chains can fork (the one that learns the lower entry first chains it,
// the others the higher: governing() then differs between replicas for the positions in between).
//
// Why it passes: asked() compares with governing(chain, position), and governing() of a position below the
// chain's entry of that request (a hole the hostile writer left), or of any position while the entry is
// still only accepted (the writer withholds its commit), is the request's predecessor again. Nothing checks
// that the request was already carried out (the chain carries its id), or that the batch already holds a
// config entry, or that another config entry is pending above the head. The core's write() takes config
// entries without chain checks (the shell's refuseConfigWrite is the only one, and it passes these too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/core/types.js';
import { WIRE_VERSION } from '../../src/net/hello.js';
import { refuseConfigWrite, refuseNonAdminConfig, type ConfigAuthority } from '../../src/server/admission.js';

const client = { version: WIRE_VERSION, clusterId: '', role: 'client' as const };
const plain = { kind: 'client' as const, name: 'app', role: 'client' as const };
const m = (id: number) => ({ id, address: `127.0.0.1:${7000 + id}` });
const c0 = { epoch: 0, voters: [m(1), m(2), m(3)], learners: [], nextId: 4, position: -1, floor: 0 };
const req1 = { id: 'req-1', ifEpoch: 0, change: { kind: 'add' as const, member: m(4) } };
const req2 = { id: 'req-2', ifEpoch: 0, change: { kind: 'remove' as const, id: 3 } };
const asked1 = { epoch: 1, voters: [m(1), m(2), m(3)], learners: [m(4)], nextId: 5, changeId: 'req-1' };
const asked2 = { epoch: 1, voters: [m(1), m(2)], learners: [], nextId: 4, changeId: 'req-2' };
const write = (from: number, ...configs: object[]) =>
  ({ type: 'write', rid: 1, proposal: 5, from, actions: configs.map((config) => ({ kind: 'config', config })), named: [] }) as unknown as Message;
const holding = (requests: object[], accepted: Record<number, object> = {}, chain: object[] = [c0]): ConfigAuthority => ({
  chain: chain as never,
  accepted: (p) => accepted[p] as never,
  request: (id) => (requests as { id: string }[]).find((r) => r.id === id) as never,
  pending: () => Object.keys(accepted).map(Number),
});

/** Both shell checks a plain client's config write goes through (replica-server.ts). */
const judge = (msg: Message, held: ConfigAuthority): string | undefined => refuseConfigWrite(msg, held.chain) ?? refuseNonAdminConfig(msg, client, plain, held);

test('attack-r15: a carried-out request is not placed again below its chain entry (a hole) by a plain writer', () => {
  // req-1 was carried out: epoch 1 at 20 is in this replica's chain. The request is still held (ChangeAuthority
  // forgets only when another admin request arrives, or after ten minutes). Position 11 is a hole below it.
  const chain = [c0, { ...asked1, position: 20, floor: 3 }];
  const why = judge(write(11, asked1), holding([req1], {}, chain));
  assert.ok(why !== undefined, 'a second epoch-1 entry at 11, below the chain\'s epoch-1 entry at 20, was admitted');
});

test('attack-r15: one request is not placed at two positions while its first entry is only accepted (commit withheld)', () => {
  // The hostile writer had asked1 accepted at 10 (not committed, so not in any chain) and now writes it again at 14.
  const why = judge(write(14, asked1), holding([req1], { 10: { kind: 'config', config: asked1 } }));
  assert.ok(why !== undefined, 'a second entry of req-1 at 14 while the one at 10 is pending was admitted');
});

test('attack-r15: one request is not placed twice in one write batch', () => {
  const batch = judge(write(10, asked1, asked1), holding([req1]));
  assert.ok(batch !== undefined, 'a batch with req-1 at 10 and again at 11 was admitted');
});

test('attack-r15: two admin requests for the same epoch are not both placed (a fork of epoch 1) by a plain writer', () => {
  // An admin asked req-1, then req-2 (say after req-1 looked stuck, or was withdrawn); both name ifEpoch 0. Only
  // one may become epoch 1; a plain writer has both accepted, at 10 and 11, in one batch.
  const why = judge(write(10, asked1, asked2), holding([req1, req2]));
  assert.ok(why !== undefined, 'epoch 1 = req-1 at 10 and epoch 1 = req-2 at 11 were both admitted');
});

test('attack-r15: a second request of the same epoch is not placed while the first is pending here', () => {
  const later = judge(write(11, asked2), holding([req1, req2], { 10: { kind: 'config', config: asked1 } }));
  assert.ok(later !== undefined, 'epoch 1 = req-2 at 11 admitted while epoch 1 = req-1 is pending at 10');
});

test('attack-r15: the pair that would fork the chain by learning order is not admitted', async () => {
  // Why the refusals above matter: were both epoch-1 entries chosen, a replica that learns 10 first chains
  // req-1, one that learns 11 first chains req-2 (extendChain keeps the first next link it learns), and
  // governing() differs between replicas for the positions after. The hostile writer controls its commits
  // (CLIENT_MAY_SEND has 'commit'), so it would choose the order. W writes 10 to replicas A and B, 11 to B
  // and C: B judges 11 with 10 pending, and refuses it, so 11 has no quorum.
  const { extendChain } = await import('../../src/core/acceptor-chain.js');
  const start = [c0] as never;
  const l10 = { position: 10, config: asked1, floor: 5 } as never;
  const l11 = { position: 11, config: asked2, floor: 5 } as never;
  assert.notDeepEqual(extendChain(extendChain(start, [l10]), [l11]), extendChain(extendChain(start, [l11]), [l10]), 'premise: the learning order decides the chain');
  assert.equal(judge(write(10, asked1), holding([req1, req2])), undefined, 'premise: 10 admitted');
  const second = judge(write(11, asked2), holding([req1, req2], { 10: { kind: 'config', config: asked1 } }));
  assert.ok(second !== undefined, 'epoch 1 = req-2 at 11 was admitted with epoch 1 = req-1 pending at 10: the chain can fork');
});
