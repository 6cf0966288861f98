// attack5: seeded random exploration of the change path, wider than reconfig-property.test.ts.
//
// Each seed: voters 1..3 with learners 4..6 caught up; writer w (view C0) appends, then asks one change
// drawn from a larger set (including {1,2,3} -> {4,5,6}, sharing no voter, and {1,2,3} -> {1,4,5}); while
// it runs, messages are lost, duplicated and reordered; at a random moment w is deposed (or kept) and a
// second writer w2 with the old view elects and appends; a reader with the old view reads the whole log
// meanwhile; then faults stop, a writer w3 following the learned chain may ask a SECOND change (drawn
// again), appends, and a reader with the learned chain reads everything.
//
// Checks (after each seed): no exception from the cores (an assertion reachable from correct peers' messages
// is a crash finding), I3 one chain, learned values agree everywhere, every acknowledged append held by a
// quorum of its configuration's voters (I1 as durability), removed replicas silent (I7), every value a read
// returned equal to the value learned there, the final reader's result containing every acknowledged
// append, and liveness: with every replica up and no loss, w3's append is acknowledged.
//
// Run: ATTACK=1 ATTACK_SEEDS=5000 node --test dist/test/core/attack5-random.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { Action } from '../../src/core/types.js';
import type { MembershipChange } from '../../src/core/membership.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { appendAction, config0, learnedAgree, ReconfigCluster } from './reconfig-harness.js';
import { dump } from './attack5-helpers.js';

const SEEDS = Number(process.env.ATTACK_SEEDS ?? 300);
const FIRST = Number(process.env.ATTACK_FIRST ?? 1);

const firstChanges: MembershipChange[] = [
  { kind: 'set', voters: [4, 5, 6], learners: [] },
  { kind: 'set', voters: [1, 4, 5], learners: [6] },
  { kind: 'set', voters: [1, 2, 3, 4, 5], learners: [6] },
  { kind: 'promote', id: 4 },
  { kind: 'replace', old: 2, replacement: 4 },
  { kind: 'remove', id: 3 },
];


export function runSeed(seed: number, rules: SafetyRules = ALL_RULES_ON): string | undefined {
  const rnd = seededRandom(seed);
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5, 6]), rules);
  const ops = new Map<number, Action>();
  const step = (where: string): void => {
    void where;
  };
  try {
    c.elect('w');
    c.run();
    for (const d of ['a', 'b']) ops.set(c.append('w', d), appendAction(d));
    c.run();
    for (const l of [4, 5, 6]) c.copyLearned(1, l);
    const loss = rnd() * 0.3;
    const dup = rnd() * 0.2;
    c.dropIf = (e) => {
      if (rnd() < dup) c.inflight.push(e);
      return rnd() < loss;
    };
    const ch1 = firstChanges[Math.floor(rnd() * firstChanges.length)]!;
    c.change('w', { id: 'ch1', ifEpoch: 0, change: ch1 });
    ops.set(c.append('w', 'c'), appendAction('c'));
    const reader = c.reader('rd', [c.c0]);
    const readStartedAt = rnd() < 0.5 ? Math.floor(rnd() * 40) : -1;
    let oldRead: number | undefined;
    const cut = Math.floor(rnd() * 60);
    for (let i = 0; i < cut; i++) {
      if (i === readStartedAt) oldRead = c.read('rd', 0, 30);
      if (c.inflight.length === 0) c.tick(50);
      else c.inflight.push(...c.inflight.splice(Math.floor(rnd() * c.inflight.length), 1));
      c.deliverOne();
    }
    void reader;
    const deposed = rnd() < 0.5;
    if (deposed) c.writers.delete('w');
    step('w2');
    c.writer('w2', [c.c0]);
    c.elect('w2');
    ops.set(c.append('w2', 'x'), appendAction('x'));
    for (let i = 0; i < 200 && c.inflight.length > 0; i++) {
      c.inflight.push(...c.inflight.splice(Math.floor(rnd() * c.inflight.length), 1));
      c.deliverOne();
    }
    c.run(20_000);
    c.dropIf = () => false;
    c.run(20_000);
    // Everything up, no loss: a writer following the learned chain, maybe with a second change.
    const chain = c.oneChain();
    c.writer('w3', chain);
    c.elect('w3');
    c.run(20_000);
    if (rnd() < 0.5) {
      // The node's catch-up is not in the harness: bring every replica up to the most advanced one's prefix.
      let best = 1;
      for (const [id, s] of c.stores) if (s.learnedThrough() > c.store(best).learnedThrough()) best = id;
      for (const id of c.stores.keys()) if (id !== best) c.copyLearned(best, id);
      const latest = c.writer('w3').latestConfig;
      const voters = latest.voters.map((m) => m.id);
      const learners = latest.learners.map((m) => m.id);
      // Second change: promote a learner if any, else remove a voter (keeping >= 1).
      const second: MembershipChange =
        learners.length > 0 ? { kind: 'promote', id: learners[0]! } : voters.length > 1 ? { kind: 'remove', id: voters[voters.length - 1]! } : { kind: 'promote', id: 6 };
      // Learners must be caught up to be promoted usefully: copy from a voter.
      c.change('w3', { id: 'ch2', ifEpoch: latest.epoch, change: second });
    }
    const y = c.append('w3', 'y');
    ops.set(y, appendAction('y'));
    c.run(30_000);
    const final = c.oneChain();
    const seen = learnedAgree(c);
    assert.deepEqual(c.misplacedAcks(ops), []);
    assert.deepEqual(c.removedAccepted(), []);
    // Liveness: all up, no loss, a writer on the learned chain.
    const yr = c.results.get(y);
    assert.ok(yr?.ok === true, `liveness: w3's append with every replica up was not acknowledged: ${JSON.stringify(yr)} (w3 ${c.writers.get('w3')!.roleKind}, change ch2 ${JSON.stringify(c.changes.get('ch2'))})`);
    // A reader on the final chain reads every acknowledged append.
    const rf = c.reader('rf', final);
    void rf;
    const fr = c.read('rf', 0, 60);
    c.run(30_000);
    const res = c.reads.get(fr);
    assert.ok(res?.ok === true, `final read: ${JSON.stringify(res)}`);
    const got = new Map(res.entries.map((e) => [e.position, JSON.stringify(e.action)]));
    for (const [op, action] of ops) {
      const r = c.results.get(op);
      if (r === undefined || !r.ok) continue;
      assert.equal(got.get(r.position), JSON.stringify(action), `final read lacks acknowledged append at ${r.position}`);
    }
    for (const [rid, r] of c.reads) {
      if (!r.ok) continue;
      for (const e of r.entries) {
        const l = seen.get(e.position);
        assert.ok(l === undefined || l === JSON.stringify(e.action), `read ${rid} returned at ${e.position} a value other than the learned one`);
      }
    }
    if (oldRead !== undefined) {
      const r = c.reads.get(oldRead);
      assert.ok(r !== undefined, 'liveness: the old reader never finished its read');
    }
  } catch (err) {
    if (process.env.A5DEBUG) dump(c);
    return `seed ${seed}: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

test(`attack5 random exploration (${SEEDS} seeds from ${FIRST})`, { skip: !process.env.ATTACK }, () => {
  const failures: string[] = [];
  for (let s = FIRST; s < FIRST + SEEDS; s++) {
    const f = runSeed(s);
    if (f !== undefined) failures.push(f);
  }
  if (failures.length > 0) console.log(`FAILURES ${failures.length}/${SEEDS}\n` + failures.slice(0, 40).join('\n'));
  else console.log(`no failures in ${SEEDS} seeds`);
  assert.deepEqual(failures, []);
});
