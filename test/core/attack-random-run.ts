// The seeded random exploration of attack5-random2.test.ts and attack6-random-truncate.test.ts (their
// headers say what it does, what it checks and what it found): one seed per call, a failure's text or undefined.
import assert from 'node:assert/strict';
import type { Action, Position } from '../../src/core/types.js';
import { roleOf, type MembershipChange, type PlacedConfiguration } from '../../src/core/membership.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { appendAction, config0, learnedAgree, ReconfigCluster } from './reconfig-harness.js';
import { dump } from './attack5-helpers.js';
import { chainForBegin } from '../../src/core/acceptor-chain.js';
import { storedHead } from '../../src/core/config-view.js';


const changes0: MembershipChange[] = [
  { kind: 'set', voters: [4, 5, 6], learners: [] },
  { kind: 'set', voters: [1, 4, 5], learners: [6] },
  { kind: 'set', voters: [1, 2, 3, 4, 5], learners: [6] },
  { kind: 'promote', id: 4 },
  { kind: 'replace', old: 2, replacement: 4 },
  { kind: 'remove', id: 3 },
  { kind: 'remove', id: 1 },
];

function laterChange(c: PlacedConfiguration, rnd: () => number): MembershipChange {
  const voters = c.voters.map((m) => m.id);
  const learners = c.learners.map((m) => m.id);
  const opts: MembershipChange[] = [];
  for (const l of learners) opts.push({ kind: 'promote', id: l });
  if (voters.length > 1) for (const v of voters) opts.push({ kind: 'remove', id: v });
  for (const l of learners) for (const v of voters) opts.push({ kind: 'replace', old: v, replacement: l });
  if (opts.length === 0) opts.push({ kind: 'promote', id: 99 });
  return opts[Math.floor(rnd() * opts.length)]!;
}


/** One seed; with `truncates`, 30% of the writers' operations are TRUNCATEs (attack6). */
export function runSeed2(seed: number, opts: { truncates?: boolean } = {}): string | undefined {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5, 6]));
  const ops = new Map<number, Action>();
  const readStarts = new Map<number, { from: Position; acked: Map<Position, string> }>();
  const ackedNow = (): Map<Position, string> => {
    const m = new Map<Position, string>();
    for (const [op, a] of ops) {
      const r = c.results.get(op);
      if (r?.ok) m.set(r.position, JSON.stringify(a));
    }
    return m;
  };
  let wn = 0;
  let rn = 0;
  let dn = 0;
  const live = (): string[] => [...c.writers.keys()];
  const newWriter = (chain: readonly PlacedConfiguration[]): string => {
    const n = `w${++wn}`;
    c.writer(n, chain);
    c.elect(n);
    return n;
  };
  const randomChain = (): readonly PlacedConfiguration[] => (rnd() < 0.3 ? [c.c0] : c.chain(pick([1, 2, 3, 4, 5, 6])));
  try {
    const w1 = newWriter([c.c0]);
    c.run();
    for (const d of ['a', 'b']) ops.set(c.append(w1, d), appendAction(d));
    c.run();
    for (const l of [4, 5, 6]) c.copyLearned(1, l);
    const heavy = Number(process.env.ATTACK_HEAVY ?? 1);
    const loss = Math.min(0.6, rnd() * 0.25 * heavy);
    const dup = Math.min(0.5, rnd() * 0.15 * heavy);
    c.dropIf = (e) => {
      if (rnd() < dup) c.inflight.push(e);
      return rnd() < loss;
    };
    c.change(w1, { id: 'ch1', ifEpoch: 0, change: pick(changes0) });
    ops.set(c.append(w1, 'c'), appendAction('c'));
    const steps = Math.floor((100 + Math.floor(rnd() * 200)) * Number(process.env.ATTACK_HEAVY ?? 1));
    for (let i = 0; i < steps; i++) {
      const x = rnd();
      if (x < 0.75) {
        if (c.inflight.length === 0) c.tick(50);
        else {
          c.inflight.push(...c.inflight.splice(Math.floor(rnd() * c.inflight.length), 1));
          c.deliverOne();
        }
      } else if (x < 0.83) {
        c.tick(50 + Math.floor(rnd() * 400));
      } else if (x < 0.88) {
        const ws = live();
        if (ws.length > 0) {
          const n = pick(ws);
          if (opts.truncates === true && rnd() < 0.3) {
            // attack6: a TRUNCATE to a random position at or below the writer's next (a farther one is refused).
            const w = c.writers.get(n)!;
            const apply = (c as unknown as { applyWriter(n: string, o: unknown): void }).applyWriter.bind(c);
            const to = Math.floor(rnd() * 12);
            apply(n, w.step({ type: 'submit', op: { id: 100_000 + ++dn, action: { kind: 'truncate', to } } }, c.now));
            apply(n, w.step({ type: 'flush' }, c.now));
          } else {
            const d = `d${++dn}`;
            ops.set(c.append(n, d), appendAction(d));
          }
        }
      } else if (x < 0.9) {
        const ws = live();
        if (ws.length > 0) c.writers.delete(pick(ws));
      } else if (x < 0.93) {
        if (live().length < 3) newWriter(randomChain());
      } else if (x < 0.95) {
        const ws = live();
        if (ws.length > 0) {
          const n = pick(ws);
          const w = c.writers.get(n)!;
          const cfg = w.latestConfig;
          const ch = cfg.epoch === 0 ? pick(changes0) : laterChange(cfg, rnd);
          c.change(n, { id: `ch${i}`, ifEpoch: cfg.epoch, change: ch });
        }
      } else if (x < 0.98) {
        const name = `rd${++rn}`;
        c.reader(name, randomChain());
        const from = Math.floor(rnd() * 8);
        const id = c.read(name, from, from + 40);
        readStarts.set(id, { from, acked: ackedNow() });
      }
    }
    // Heal.
    c.dropIf = () => false;
    c.run(40_000);
    // The node's catch-up, every 10 s: every replica copies the most advanced one's learned prefix.
    const catchUp = (): void => {
      let best = 1;
      for (const [id, s] of c.stores) if (s.learnedThrough() > c.store(best).learnedThrough()) best = id;
      for (const id of c.stores.keys()) {
        if (id === best) continue;
        // The node's catch-up adopts a peer's beginning with the peer's chain (ReadReply.chain, chainForBegin)
        // before it copies; ATTACK_NOCHAIN=1 copies without it (the wire before it carries ReadReply.chain).
        const src = c.store(best);
        const dst = c.store(id);
        if (!process.env.ATTACK_NOCHAIN && src.begin() > dst.learnedThrough() + 1 && src.begin() > dst.begin()) {
          const adopted = chainForBegin(dst, dst.metadata().configs, src.begin(), src.metadata().configs, storedHead(src.metadata()));
          if (adopted !== undefined) {
            const configs = adopted.chain ?? dst.metadata().configs;
            dst.append([{ type: 'metadata', metadata: { ...dst.metadata(), begin: src.begin(), ...(configs === undefined ? {} : { configs }) } }]);
            dst.syncNow();
          }
        }
        c.copyLearned(best, id);
      }
    };
    catchUp();
    for (const n of live()) c.writers.delete(n);
    if (process.env.ATTACK_RETIRE) {
      // R4: once the latest change is complete (a writer reported it), its removed members may be retired.
      const ch = c.oneChain();
      const head = ch[ch.length - 1]!;
      const complete = [...c.changes.values()].some((o) => o.ok && o.config.epoch === head.epoch && o.config.position === head.position);
      if (complete) for (const id of [1, 2, 3, 4, 5, 6]) if (roleOf(ch, id) === 'removed') c.up.delete(id);
    }
    // Reads still running must end once the network healed and every replica is up.
    for (let t = 0; t < 12; t++) {
      c.run(10_000);
      catchUp();
    }
    const stuck = [...c.readers].filter(([, r]) => r.pending > 0).map(([n]) => n);
    if (process.env.A5DEBUG && stuck.length > 0) {
      for (const n of stuck) {
        console.log(`stuck ${n}`);
        for (const e of c.sent.filter((e) => e.from === n || e.to === n).slice(-12)) console.log(' ', e.from, e.to, JSON.stringify(e.msg).slice(0, 400));
      }
    }
    assert.deepEqual(stuck, [], 'liveness: reads still running two minutes after the network healed');
    const chain = c.oneChain();
    // A client whose writer is fenced (by a fill, or a duel) starts another: three tries.
    let f = -1;
    let wf = '';
    for (let t = 0; t < 3; t++) {
      wf = newWriter(c.oneChain());
      c.run(30_000);
      f = c.append(wf, 'final');
      c.run(30_000);
      if (c.results.get(f)?.ok === true) break;
      c.writers.delete(wf);
    }
    void chain;
    ops.set(f, appendAction('final'));
    c.oneChain();
    const seen = learnedAgree(c);
    // Truncated positions are gone everywhere: acknowledged appends there are not expected to be held.
    const maxBegin = Math.max(...[...c.stores.values()].map((st) => st.begin()));
    for (const [op] of ops) {
      const r = c.results.get(op);
      if (r?.ok === true && r.position < maxBegin) ops.delete(op);
    }
    for (const [id, st] of c.stores) if (st.begin() > 0) c.checkChainComplete(id);
    assert.deepEqual(c.misplacedAcks(ops), []);
    assert.deepEqual(c.removedAccepted(), []);
    const fr = c.results.get(f);
    assert.ok(fr?.ok === true, `liveness: the final append (all up, no loss, three writers) was not acknowledged: ${JSON.stringify(fr)}; ${wf}`);
    c.reader('rfinal', c.oneChain());
    const b0 = Math.max(...[...c.stores.values()].map((st) => st.begin()));
    const last = c.read('rfinal', b0, 400);
    readStarts.set(last, { from: b0, acked: ackedNow() });
    c.run(60_000);
    const lr = c.reads.get(last);
    assert.ok(lr?.ok === true, `liveness: the final read failed: ${JSON.stringify(lr)}`);
    for (const [id, r] of c.reads) {
      if (!r.ok) continue;
      const got = new Map(r.entries.map((e) => [e.position, JSON.stringify(e.action)]));
      for (const e of r.entries) {
        const l = seen.get(e.position);
        assert.ok(l === undefined || l === JSON.stringify(e.action), `read ${id} returned at ${e.position} a value other than the learned one`);
      }
      const st = readStarts.get(id)!;
      for (const [p, a] of st.acked) {
        if (p < st.from || p > r.through || p < r.begin) continue;
        assert.equal(got.get(p), a, `read ${id} [${st.from}..] (through ${r.through}) lacks the append acknowledged at ${p} before it began`);
      }
    }
  } catch (err) {
    if (process.env.A5DEBUG) dump(c);
    const m = (err as Error).message;
    return `seed ${seed}: ${m.startsWith('Expected values') ? m.replace(/\s+/g, ' ').slice(0, 400) : m.split('\n')[0]}`;
  }
  return undefined;
}

