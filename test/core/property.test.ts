// Property: under random interleavings of two or three writers, message loss,
// duplication and reordering, no two replicas ever learn different actions at
// one position, and every acknowledged append is learned at its position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Cluster, text } from './harness.js';

type Cmd =
  | { kind: 'append'; w: number }
  | { kind: 'elect'; w: number }
  | { kind: 'deliver'; n: number }
  | { kind: 'drop'; n: number }
  | { kind: 'dup'; n: number }
  | { kind: 'shuffle'; seed: number }
  | { kind: 'tick' };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), w: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('elect' as const), w: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('deliver' as const), n: fc.integer({ min: 0, max: 50 }) }),
  fc.record({ kind: fc.constant('drop' as const), n: fc.integer({ min: 0, max: 50 }) }),
  fc.record({ kind: fc.constant('dup' as const), n: fc.integer({ min: 0, max: 50 }) }),
  fc.record({ kind: fc.constant('shuffle' as const), seed: fc.integer() }),
  fc.constant({ kind: 'tick' as const }),
);

function runScenario(replicas: number, writers: number, cmds: Cmd[]): void {
  const c = new Cluster(replicas);
  const acked = new Map<number, string>();
  const pending = new Map<number, string>();
  let n = 0;
  for (const k of cmds) {
    switch (k.kind) {
      case 'append': {
        const data = `w${k.w % writers}-${n++}`;
        pending.set(c.append(`w${k.w % writers}`, data), data);
        break;
      }
      case 'elect':
        c.elect(`w${k.w % writers}`);
        break;
      case 'deliver':
        for (let i = 0; i < k.n && c.deliverOne(); i++);
        break;
      case 'drop':
        if (c.inflight.length > 0) c.inflight.splice(k.n % c.inflight.length, 1);
        break;
      case 'dup':
        if (c.inflight.length > 0) c.inflight.push(c.inflight[k.n % c.inflight.length]!);
        break;
      case 'shuffle': {
        let s = k.seed >>> 0;
        for (let i = c.inflight.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1103515245) + 12345) >>> 0;
          const j = s % (i + 1);
          [c.inflight[i], c.inflight[j]] = [c.inflight[j]!, c.inflight[i]!];
        }
        break;
      }
      case 'tick':
        c.tick(100);
        break;
    }
    c.checkAgreement();
  }
  c.run(60_000);
  c.checkAgreement();
  for (const [id, data] of pending) {
    const r = c.results.get(id);
    if (r?.ok) acked.set(r.position, data);
  }
  // Every acknowledged append is chosen: a new writer's election learns it everywhere.
  c.elect('final');
  c.run(60_000);
  c.checkAgreement();
  for (const [p, data] of acked) {
    const learned = [...c.replicas.keys()].map((id) => c.learnedText(id, p)).find((t) => t !== undefined);
    assert.equal(learned, data, `acknowledged append at ${p} survives`);
  }
  const rd = c.read('reader', 0, Number.MAX_SAFE_INTEGER);
  c.run(60_000);
  const res = c.reads.get(rd);
  if (res?.ok) {
    const got = new Map(res.entries.map((e) => [e.position, e.action.kind === 'append' ? text(e.action.data) : '']));
    for (const [p, data] of acked) assert.equal(got.get(p), data, `read returns acknowledged ${p}`);
  }
}

test('no two values are ever learned at one position (3 replicas, 2 writers)', () => {
  fc.assert(fc.property(fc.array(cmd, { maxLength: 120 }), (cmds) => runScenario(3, 2, cmds)), { numRuns: 150, seed: 1 });
});

test('no two values are ever learned at one position (5 replicas, 3 writers)', () => {
  fc.assert(fc.property(fc.array(cmd, { maxLength: 120 }), (cmds) => runScenario(5, 3, cmds)), { numRuns: 100, seed: 2 });
});
