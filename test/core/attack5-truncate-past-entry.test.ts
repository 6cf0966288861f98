// Fixed (R14's second half): the test now runs in npm test and guards the fix (it failed before it); with the
// switch chainBeforeTruncate off it fails again (the second test).
// attack5 finding (safety): a learned TRUNCATE copied from a peer dropped an unlearned config entry below its
// target without chaining it, so removed members went on voting in the old configuration, and a stale writer
// partitioned with them got appends acknowledged that the log (governed by the new configuration) never holds.
//
// Sequence (voters 1..3, learners 4 and 5 caught up):
//  1. w appends 'a' and changes {1,2,3} -> {1,4,5}. The entry at p = 2 is accepted by r1, r2 (a quorum of
//     C0) and by 4 and 5 (the joint part); w's commits to r2 and r3 are lost, so the removed members r2
//     and r3 never learn p (r2 holds it accepted, a pending stop sign). w installs epoch 1 on {1,4,5}.
//  2. w (now in C1) appends 'b' and truncates to 5 (past p); r1 learns the TRUNCATE and begins at 5.
//  3. r2 and r3 copy r1's learned values (catch-up of a removed member that does not know it yet: it
//     still lists r1 as a peer). The copy holds the TRUNCATE (and what follows), not p. Before the fix,
//     learned() and the position index moved `begin` to 5 and dropped r2's pending entry at p, with a chain
//     of [C0] (R14 / I8 broken). Now the TRUNCATE names the head of config(5) (epoch 1 at 2, set by the
//     writer) and r2's chain lacks it: the TRUNCATE is not taken, begin stays, the entry stays pending.
//  4. A stale writer with the old view, partitioned with r2 and r3 (section 9's `stale-after` shape),
//     elects. Before the fix r2 and r3 promised (their chain said C0 governs everything), reported nothing
//     pending, and the writer's append 'z' was acknowledged at a position C1 governs, held by no C1 voter.
//     Now r2 reports the pending entry: the writer must finish that change first, which needs a quorum
//     of C1 it cannot reach, and acknowledges nothing.
//
// Violated (before the fix): R14 ("a replica never lets begin or learnedThrough pass a position whose
// governing configuration it has not learned"; "a TRUNCATE(to) entry carries the head of config(to); a
// replica that lacks it fetches the chain before applying the truncation"), hence Step 2 of section 8,
// I7 and Claim A.
//
// The fix: writer-appends.ts (sendBatches) sets the head of config(to) on every TRUNCATE it proposes; replica.ts (learned,
// commit) does not take a TRUNCATE whose head its chain lacks (acceptor-chain.ts, truncationCovered);
// catch-up adopts a peer's beginning only with the peer's chain up to config(begin) (ReadReply.chain,
// chainForBegin); the third test shows r2 taking both once a reply carries the chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainForBegin } from '../../src/core/acceptor-chain.js';
import { CatchUp, type CatchUpOutput } from '../../src/core/catchup.js';
import { pendingConfig, replicaStep } from '../../src/core/replica.js';
import type { Action, ReadReply } from '../../src/core/types.js';
import { seededRandom } from '../helpers/seeded-random.js';
import type { WriterOutput } from '../../src/core/writer.js';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import { appendAction, config0, ReconfigCluster } from './reconfig-harness.js';

function scenario(rules: SafetyRules): { c: ReconfigCluster; problems: string[] } {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]), rules);
  const ops = new Map<number, Action>();
  c.elect('w');
  c.run();
  ops.set(c.append('w', 'a'), appendAction('a'));
  c.run();
  c.copyLearned(1, 4);
  c.copyLearned(1, 5);
  // r3 takes no part in the change; r2 accepts the entry but never learns it.
  c.dropIf = (e) => e.from === 'w' && (e.to === 'r3' || (e.to === 'r2' && e.msg.type !== 'write'));
  c.change('w', { id: 'move', ifEpoch: 0, change: { kind: 'set', voters: [1, 4, 5], learners: [] } });
  c.run();
  assert.equal(c.changes.get('move')?.ok, true, 'the change completed');
  assert.equal(c.chain(1).length, 2);
  assert.equal((c.store(2).action(2) as { kind: string }).kind, 'config', 'r2 holds the entry at 2 accepted');
  assert.equal(c.store(2).slot(2)?.learned, false);
  // w in C1: 'b', then TRUNCATE(5) past p.
  ops.set(c.append('w', 'b'), appendAction('b'));
  c.run();
  const w = c.writers.get('w')!;
  const apply = (c as unknown as { applyWriter(n: string, o: WriterOutput): void }).applyWriter.bind(c);
  apply('w', w.step({ type: 'submit', op: { id: 9001, action: { kind: 'truncate', to: 5 } } }, c.now));
  apply('w', w.step({ type: 'flush' }, c.now));
  ops.set(c.append('w', 'c'), appendAction('c'));
  c.run();
  assert.equal(c.results.get(9001)?.ok, true, 'the truncation is chosen');
  assert.equal(c.store(1).begin(), 5);
  // The removed members copy r1's learned values (catch-up from a peer of their old view).
  c.dropIf = () => false;
  c.copyLearned(1, 2);
  c.copyLearned(1, 3);
  const r2 = c.store(2);
  const r2Chain = c.chain(2).length;
  // A stale writer partitioned with r2 and r3.
  c.writer('old', [c.c0]);
  c.dropIf = (e) => (e.from === 'old' && e.to !== 'r2' && e.to !== 'r3') || (e.to === 'old' && e.from !== 'r2' && e.from !== 'r3');
  c.elect('old');
  const z = c.append('old', 'z');
  ops.set(z, appendAction('z'));
  c.run(10_000);
  const zr = c.results.get(z);
  const problems: string[] = [];
  if (r2.begin() > 2 && r2Chain < 2) problems.push(`r2 begins at ${r2.begin()} (learnedThrough ${r2.learnedThrough()}) past the entry at 2, with a chain of ${r2Chain} link(s)`);
  if (zr?.ok === true) problems.push(`the stale writer's 'z' was acknowledged at ${zr.position}: ${c.misplacedAcks(new Map([[z, appendAction('z')]]), c.chain(1)).join('; ')}`);
  const silent = c.removedAccepted();
  if (silent.length > 0) problems.push(`removed members voted: ${silent.join('; ')}`);
  return { c, problems };
}

test('attack5: a TRUNCATE copied past an unlearned config entry lets removed members elect a stale writer', () => {
  const { c, problems } = scenario(ALL_RULES_ON);
  assert.deepEqual(problems, []);
  const r2 = c.store(2);
  assert.ok(r2.begin() <= 2, `r2 begins at ${r2.begin()}`);
  const truncate = c.store(1).action(5);
  assert.deepEqual(truncate, { kind: 'truncate', to: 5, config: { epoch: 1, position: 2 } }, 'the writer set the head of config(to)');
});

test('chainBeforeTruncate: off, a removed member takes a TRUNCATE past its unlearned config entry and a stale writer gets an append acknowledged', () => {
  const { problems } = scenario({ ...ALL_RULES_ON, chainBeforeTruncate: false });
  assert.ok(problems.length > 0, 'the violation shows with the switch off');
});

test('R14: catch-up adopts a peer beginning only with its chain up to config(begin), then takes the TRUNCATE', () => {
  const { c } = scenario(ALL_RULES_ON);
  const r1 = c.store(1);
  const r2 = c.store(2);
  const readOf = (withChain: boolean): ReadReply => {
    const reply = replicaStep(r1, { type: 'read', rid: 1, from: r2.learnedThrough() + 1, to: r1.learnedThrough(), limit: 1000 }, ALL_RULES_ON, { self: 1 }).reply as ReadReply;
    assert.ok(reply.chain !== undefined && reply.chain.length === 2, 'a reply whose beginning lies above the range carries the chain');
    if (withChain) return reply;
    const { chain: _chain, ...bare } = reply;
    return bare;
  };
  const copy = (reply: ReadReply): CatchUpOutput => {
    const cu = new CatchUp(r2.learnedThrough() + 1, r1.learnedThrough(), { peers: [1], random: seededRandom(1), rid: () => 1, fillGaps: false });
    cu.start(0);
    return cu.onReply(1, reply, 0);
  };
  // Without the chain (the wire before it carries ReadReply.chain): r1's head (epoch 1) is not in r2's chain.
  const bare = copy(readOf(false));
  assert.equal(bare.begin, 5);
  assert.equal(chainForBegin(r2, r2.metadata().configs, bare.begin!, bare.chain, bare.beginHead!), undefined, 'not adopted');
  // With it: the chain up to config(5) and the beginning in one metadata record, then the copies.
  const out = copy(readOf(true));
  const adopted = chainForBegin(r2, r2.metadata().configs, out.begin!, out.chain, out.beginHead!);
  assert.ok(adopted !== undefined && adopted.chain !== undefined);
  assert.equal(adopted.chain.length, 2);
  assert.ok(adopted.chain[1]!.floor >= c.chain(1)[1]!.floor, 'at least the peer floor (or its own acceptance of the entry)');
  const metadata = { ...r2.metadata(), begin: out.begin!, configs: adopted.chain };
  r2.append([{ type: 'metadata', metadata }]);
  const step = replicaStep(r2, { type: 'learned', entries: out.learned }, ALL_RULES_ON, { self: 2 });
  r2.append(step.records);
  r2.checkInvariants();
  c.checkChainComplete(2);
  assert.equal(r2.begin(), 5);
  assert.ok(r2.learnedThrough() >= 6, `r2 learned through ${r2.learnedThrough()}`);
  assert.equal(pendingConfig(r2), undefined, 'the entry at 2 is chained: nothing pending');
});
