// attack5: a state dump of a ReconfigCluster for debugging random runs (A5DEBUG=1).
import type { ReconfigCluster } from './reconfig-harness.js';

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

