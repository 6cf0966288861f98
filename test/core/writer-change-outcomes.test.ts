// Which outcome a membership change gets when its writer stops (writer-changes.ts, failChanges). The
// outcome tells the asker what it may do next: 'no-quorum' or 'fenced' say nothing was written (the
// asker may ask again, or carry the change out itself); 'unknown' says the entry may be on replicas and
// a later writer may still find and finish it, so asking again as if nothing happened is not safe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeOutcome } from '../../src/core/writer.js';
import { config0, ReconfigCluster } from './reconfig-harness.js';

/** Voters 1..3, learners 4 and 5, writer w elected. */
function elected(): ReconfigCluster {
  const c = new ReconfigCluster(config0([1, 2, 3], [4, 5]));
  c.elect('w');
  c.run();
  assert.equal(c.writer('w').roleKind, 'elected');
  return c;
}

const reason = (o: ChangeOutcome | undefined): string => (o === undefined ? 'no outcome' : o.ok ? 'ok' : o.reason);

test('a change still queued behind an append when the writer loses its quorum is reported no-quorum: nothing was written', () => {
  const c = elected();
  c.up.delete(2);
  c.up.delete(3);
  c.append('w', 'x'); // in flight: the change waits for it to be chosen
  c.change('w', { id: 'p4', ifEpoch: 0, change: { kind: 'promote', id: 4 } });
  c.run();
  assert.equal(reason(c.changes.get('p4')), 'no-quorum', JSON.stringify(c.changes.get('p4')));
});

test('a change already proposed when the writer loses its quorum is reported unknown: its entry may be on replicas', () => {
  const c = elected();
  c.dropIf = (e) => e.msg.type === 'writeReply';
  c.change('w', { id: 'p4', ifEpoch: 0, change: { kind: 'promote', id: 4 } });
  assert.ok(c.sent.some((e) => e.msg.type === 'write'), 'the config entry went out');
  c.run();
  assert.equal(reason(c.changes.get('p4')), 'unknown', JSON.stringify(c.changes.get('p4')));
});

test('a change still queued when the writer is fenced is reported fenced, and so is a change asked of it afterwards', () => {
  const c = elected();
  c.elect('v'); // a newer ballot: w learns of it from its next write's refusals
  c.run();
  assert.equal(c.writer('v').roleKind, 'elected');
  c.append('w', 'x');
  c.change('w', { id: 'p4', ifEpoch: 0, change: { kind: 'promote', id: 4 } });
  c.run();
  assert.equal(c.writer('w').roleKind, 'fenced');
  assert.equal(reason(c.changes.get('p4')), 'fenced', JSON.stringify(c.changes.get('p4')));
  c.change('w', { id: 'p5', ifEpoch: 0, change: { kind: 'promote', id: 5 } });
  assert.equal(reason(c.changes.get('p5')), 'fenced', 'a fenced writer answers at once');
});
