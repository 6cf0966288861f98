// Fixed (R14's second half, floors named by the sender): the test now runs in npm test and guards the fix.
// A copy that names no floor, of an entry the replica never accepted, is not taken (held back until a copy that
// names it, or R4's install, brings it); catch-up names the floors from the peers' chain (ReadReply.chain ->
// LearnedMessage.floors, replica-node.ts). The weak floor of the story below can no longer arise.
// attack5 finding (safety; the end-to-end violation is attack5-weak-floor-e2e.test.ts): R6's floor invariant ("every floor is at least t_min", section 8 Step
// 3) is broken by the learned-copy path. A `learned` message that names no floor (every real copy: catch-up
// and the node send `{ type: 'learned', entries }`; `floors` is not on the wire) makes the acceptor take
// `store.slot(p).accepted` as the floor: the ballot of WHATEVER this replica accepted at p, also a
// different value (a deposed writer's NOP) under a ballot below every ballot that ever counted the entry.
// The weak floor then spreads: proposers whose view is this replica's chain send it as `links`, and
// installFrom installs the link's floor as given on replicas that accepted the entry under a higher ballot.
//
// Sequence (replica-level, exact messages):
//  1. r1 (voters 1..3) accepts a NOP at p = 2 under ballot 1 (a writer deposed before its value was chosen).
//  2. The entry config(C1) is chosen at 2 under ballot 5 elsewhere; r1 copies it from a peer: a `learned`
//     message without floors (what catch-up sends). r1's chain gets C1 with floor 1 (< 5).
//  3. A fill whose view is r1's chain (r1's own catch-up fill, or a reader built from it) meets r4 (a new
//     voter that accepted the entry under 5 but has not learned it): unknown-config, then the links from the
//     view: r4 installs C1 with floor 1, although it itself accepted the entry under 5.
//  4. Both now accept C1 ballots in (1, 5] above p, where the floor must keep them out (a C0 leftover
//     above p may have any ballot below t_min = 5: see attack5-floor-violation.test.ts for what a missing
//     floor does).
//
// Suggested fix: put floors on the wire (LearnedMessage.floors in catch-up copies, from the sender's chain)
// before relying on R6's floor; meanwhile, a config entry copied without a named floor should be held back
// like one without its predecessor (or take the floor only from an acceptance of that very entry, never of
// another value), and installFrom should keep the higher of the offered floor and the replica's own
// acceptance of the entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainView } from '../../src/core/config-view.js';
import { Fill, type FillOutbound } from '../../src/core/fill.js';
import type { Configuration, PlacedConfiguration } from '../../src/core/membership.js';
import { replicaStep, type AcceptorMessage } from '../../src/core/replica.js';
import type { PromiseReply } from '../../src/core/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { config0, member } from './reconfig-harness.js';

const c0 = config0([1, 2, 3], [4]);
const cfg1: Configuration = { epoch: 1, voters: [member(1), member(2), member(4)], learners: [], nextId: 5 };
const nop = { kind: 'nop' as const };

function replica(self: number): { store: MemoryStore; step: (m: AcceptorMessage) => ReturnType<typeof replicaStep> } {
  const store = new MemoryStore({ status: 'VOTING', promised: 0, incarnation: `i${self}`, configs: [c0] });
  return {
    store,
    step: (m) => {
      const s = replicaStep(store, m, undefined, { self });
      store.append(s.records);
      store.checkInvariants();
      return s;
    },
  };
}

test('attack5: a config entry copied without a floor takes the ballot of another value as its floor, and links spread it', () => {
  const r1 = replica(1);
  r1.step({ type: 'learned', entries: [0, 1].map((position) => ({ position, action: nop })) });
  assert.equal((r1.step({ type: 'write', rid: 1, proposal: 1, from: 2, actions: [nop], named: [], config: { epoch: 0, position: -1 } }).reply as { outcome: string }).outcome, 'accept');
  // The entry, chosen under 5 elsewhere, copied without a floor (what the wire carried before): not taken.
  const bare = r1.step({ type: 'learned', entries: [{ position: 2, action: { kind: 'config', config: cfg1 } }] });
  assert.deepEqual(bare.records, [], 'a copy that names no floor of an entry r1 never accepted is held back');
  assert.equal(r1.store.slot(2)?.learned, false);
  // As catch-up copies it now: the floor named from the sender's chain.
  r1.step({ type: 'learned', entries: [{ position: 2, action: { kind: 'config', config: cfg1 } }], floors: [{ position: 2, floor: 5 }] });
  const chain1 = r1.store.metadata().configs ?? [];
  assert.equal(chain1.length, 2, 'r1 learned C1');
  const problems: string[] = [];
  if (chain1[1]!.floor < 5) problems.push(`r1's floor for C1 is ${chain1[1]!.floor} (the ballot of the NOP it had accepted at 2), below 5`);
  // r4 accepted the entry under 5 (R3's joint write) but never learned it.
  const r4 = replica(4);
  r4.step({ type: 'learned', entries: [0, 1].map((position) => ({ position, action: nop })) });
  const joint = r4.step({ type: 'write', rid: 2, proposal: 5, from: 2, actions: [{ kind: 'config', config: cfg1 }], named: [], config: { epoch: 0, position: -1 } });
  assert.equal((joint.reply as { outcome: string }).outcome, 'accept');
  // A fill in C1 above p with r1's chain as its view, ballot 2: r4 answers unknown-config, gets the links.
  let rid = 10;
  const send: FillOutbound[] = [];
  const fill = new Fill(3, 3, 1, { view: chainView(chain1 as PlacedConfiguration[]), random: seededRandom(1), rid: () => rid++ }, 0, send);
  const toR4 = send.filter((m) => m.to === 4);
  const first = r4.step(toR4[0]!.msg as AcceptorMessage).reply as PromiseReply;
  assert.equal(first.outcome, 'unknown-config');
  const again: FillOutbound[] = [];
  fill.onPromiseReply(4, first, 0, again);
  const second = r4.step(again.find((m) => m.to === 4)!.msg as AcceptorMessage).reply as PromiseReply;
  const chain4 = r4.store.metadata().configs ?? [];
  if (chain4.length === 2 && chain4[1]!.floor < 5) problems.push(`r4 installed C1 with floor ${chain4[1]!.floor} from the links, though it accepted the entry under 5`);
  if (second.outcome === 'accept') problems.push(`r4 promised ballot ${second.proposal} above p (a ballot not above t_min = 5)`);
  assert.deepEqual(problems, []);
});
