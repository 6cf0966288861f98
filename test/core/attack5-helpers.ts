// attack5: a state dump of a ReconfigCluster for debugging random runs (A5DEBUG=1), and a driver for a
// standalone fill over the cluster.
import type { Fill, FillOutbound, FillResult } from '../../src/core/fill.js';
import type { PromiseReply, WriteReply } from '../../src/core/types.js';
import type { ReconfigCluster } from './reconfig-harness.js';

/**
 * Runs `fill` over the cluster until it ends: its messages go to the replicas except to `cut` (whose
 * answers are lost), and its commits only to `commitTo`; ticks of 50 ms when nothing moves. The last
 * commits reach `commitTo` too. Returns the result and the fill's clock, which the cluster's catches up.
 */
export function driveFill(c: ReconfigCluster, fill: Fill, send: FillOutbound[], now: number, cut: number, commitTo: number): FillResult | undefined {
  let result: FillResult | undefined;
  for (let i = 0; i < 2_000 && result === undefined; i++) {
    for (const m of send.splice(0)) {
      if (m.to === cut || (m.msg.type === 'commit' && m.to !== commitTo)) continue;
      c.deliverTo(m.to, m.msg, 'fill');
    }
    const replies = c.inflight.filter((e) => e.to === 'fill');
    c.inflight = c.inflight.filter((e) => e.to !== 'fill');
    for (const e of replies) {
      const from = Number(e.from.slice(1));
      const r = e.msg.type === 'promiseReply' ? fill.onPromiseReply(from, e.msg as PromiseReply, now, send) : fill.onWriteReply(from, e.msg as WriteReply, now, send);
      if (r !== undefined) result = r;
    }
    if (send.length === 0 && result === undefined) {
      now += 50;
      const r = fill.onTick(now, send);
      if (r !== undefined) result = r;
    }
  }
  for (const m of send.splice(0)) if (m.msg.type === 'commit' && m.to === commitTo) c.deliverTo(m.to, m.msg, 'fill');
  c.now = Math.max(c.now, now);
  return result;
}

export function dump(c: ReconfigCluster): void {
  for (const [id, s] of c.stores) {
    const chain = (s.metadata().configs ?? []).map((k) => `e${k.epoch}@${k.position}[${k.voters.map((m) => m.id)}|${k.learners.map((m) => m.id)}]f${k.floor}`).join(' ');
    const slots: string[] = [];
    for (const p of s.positions(0, s.end())) {
      const sl = s.slot(p)!;
      const a = s.action(p);
      const k = a === undefined || a === 'lost' ? String(a) : a.kind === 'append' ? new TextDecoder().decode(a.data) : a.kind === 'config' ? `cfg${a.config.epoch}` : a.kind;
      slots.push(`${p}:${k}${sl.learned ? 'L' : ''}/${sl.accepted}`);
    }
    console.log(`r${id} promised ${s.metadata().promised} lt ${s.learnedThrough()} chain ${chain} :: ${slots.join(' ')}`);
  }
  for (const [n, w] of c.writers) console.log(`${n}: ${w.roleKind} proposal ${w.proposal} cfg e${w.latestConfig.epoch} changing ${w.changing} inflight ${w.inflightPositions} queued ${w.queued}`);
  console.log('results', JSON.stringify([...c.results]), 'changes', JSON.stringify([...c.changes]));
}

