// A writer's lifecycle on real replica processes (issue 18, "Writer lifecycle"):
// once an append failed with NoQuorumError, another writer may have been
// elected, so the first one must not take the log back by itself on its next
// append (the two would fence each other in turns, neither application
// knowing). It fails with WriterInDoubtError until the application calls
// reelect(), which says what became of the append whose outcome was unknown.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient } from '../../src/client/log-client.js';
import { ClosedError, NoQuorumError, WriterFencedError, WriterInDoubtError } from '../../src/core/errors.js';
import { TestCluster } from './helpers.js';

let cluster: TestCluster;
const clients: LogClient[] = [];

before(async () => {
  cluster = await TestCluster.create(3);
  await cluster.startAll();
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await cluster.stop();
});

const text = (d: Uint8Array) => Buffer.from(d).toString('utf8');

test('after NoQuorum a writer stays in doubt (another writer is not fenced by its next append) until reelect() settles its unknown write', async () => {
  const logA = await LogClient.connect(cluster.addresses);
  clients.push(logA);
  const a = await logA.writer();
  assert.equal(a.state, 'elected');
  await a.append('a1');

  await Promise.all([cluster.kill(2), cluster.kill(3)]);
  const lost = await a.append('a2').then(
    () => assert.fail('an append with one of three replicas up succeeded'),
    (err: unknown) => err,
  );
  assert.ok(lost instanceof NoQuorumError, String(lost));
  assert.equal(lost.outcome, 'unknown', 'the write left for the replicas: its outcome is unknown');
  assert.ok(typeof lost.position === 'number', 'and the error names the position it took');
  assert.equal(a.state, 'in-doubt');
  await assert.rejects(a.append('a3'), WriterInDoubtError, 'no implicit re-election');

  cluster.start(2);
  cluster.start(3);
  await cluster.waitStatus([1, 2, 3], 'VOTING');
  const logB = await LogClient.connect(cluster.addresses);
  clients.push(logB);
  const b = await logB.writer();
  await b.append('b1');
  await assert.rejects(a.append('a4'), WriterInDoubtError, 'the writer in doubt does not take the log back from B');
  await b.append('b2');
  assert.equal(b.state, 'elected', 'B was not fenced');

  const r = await a.reelect();
  assert.equal(a.state, 'elected');
  assert.equal(r.settled.length, 1);
  const s = r.settled[0]!;
  assert.equal(s.position, lost.position);
  const there = await logA.read(s.position, s.position);
  assert.equal(s.written, there.length === 1 && text(there[0]!.data) === 'a2', 'written says whether the log holds the append at its position');
  const p5 = await a.append('a5');
  assert.ok(p5 > r.position);

  await assert.rejects(b.append('b3'), WriterFencedError, 'the explicit re-election fenced B');
  assert.ok((await b.fenced) instanceof WriterFencedError, 'B.fenced resolves with the reason');
  assert.ok(b.signal.aborted);
  assert.equal(b.state, 'fenced');

  await a.resign();
  assert.equal(a.state, 'resigned');
  await assert.rejects(a.append('a6'), ClosedError);
  const c = await logB.writer();
  await c.append('c1');
  assert.deepEqual((await logB.read(p5, p5)).map((e) => text(e.data)), ['a5']);
});
