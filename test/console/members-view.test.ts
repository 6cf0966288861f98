// The console's member table, verdict and timeline, from made-up inputs: the
// UNREACHABLE rule (interfaces.md: within 5 s), lag, recovery rate, verdict words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memberRows, SILENT_LIMIT_MS, UNREACHABLE_AFTER_MS, type ProbeReply, type ViewInputs } from '../../src/server/console/members-view.js';
import { verdict } from '../../src/server/console/verdict.js';
import { changes } from '../../src/server/console/timeline.js';
import type { PeerStateMessage } from '../../src/core/types.js';

const members = { 1: '127.0.0.1:7001', 2: '127.0.0.1:7002', 3: '127.0.0.1:7003' };
const gossip = (end: number, status: PeerStateMessage['status'] = 'VOTING', generation = 1): PeerStateMessage => ({
  type: 'peerState', incarnation: 'x', generation, disk: 1, status, promised: 1, begin: 0, end, learnedThrough: end,
});

function inputs(now: number, over: Partial<ViewInputs> = {}): ViewInputs {
  return {
    now,
    members,
    self: { id: 1, status: 'VOTING', generation: 1, begin: 0, end: 100, learnedThrough: 100, progress: null },
    gossip: new Map([[2, { state: gossip(100), at: now - 100 }], [3, { state: gossip(90), at: now - 100 }]]),
    probes: new Map(),
    connected: new Set([2, 3]),
    ...over,
  };
}

test('every member VOTING and heard from: healthy, can lose 1 more replica; lag against the highest end', () => {
  const rows = memberRows(inputs(10_000));
  assert.deepEqual(rows.map((r) => r.status), ['VOTING', 'VOTING', 'VOTING']);
  assert.deepEqual(rows.map((r) => r.lagPositions), [0, 0, 10]);
  assert.equal(rows[0]!.self, true);
  const v = verdict(rows);
  assert.equal(v.level, 'ok');
  assert.equal(v.headline, 'healthy: can lose 1 more replica');
});

test('a peer whose connection is down and silent past UNREACHABLE_AFTER_MS is UNREACHABLE (well within 5 s), not before', () => {
  assert.ok(UNREACHABLE_AFTER_MS + 1000 <= 5000, 'plus one refresh period the console shows it within 5 s');
  const now = 50_000;
  const quiet = (ms: number) => inputs(now, { gossip: new Map([[2, { state: gossip(100), at: now - 100 }], [3, { state: gossip(100), at: now - ms }]]), connected: new Set([2]) });
  assert.equal(memberRows(quiet(UNREACHABLE_AFTER_MS - 1))[2]!.status, 'VOTING');
  const rows = memberRows(quiet(UNREACHABLE_AFTER_MS + 1));
  assert.equal(rows[2]!.status, 'UNREACHABLE');
  assert.equal(rows[2]!.end, null);
  const v = verdict(rows);
  assert.equal(v.level, 'critical');
  assert.match(v.headline, /^degraded: can lose 0 more replicas; 1 of 3 not VOTING/);
  assert.match(v.details[0]!, /replica 3 \(127\.0\.0\.1:7003\) is UNREACHABLE/);
});

test('a peer still connected but silent (slow syncs) stays shown until SILENT_LIMIT_MS, then UNREACHABLE', () => {
  const now = 50_000;
  const silent = (ms: number) => inputs(now, { gossip: new Map([[2, { state: gossip(100), at: now - 100 }], [3, { state: gossip(100), at: now - ms }]]) });
  assert.equal(memberRows(silent(UNREACHABLE_AFTER_MS + 1000))[2]!.status, 'VOTING');
  assert.equal(memberRows(silent(SILENT_LIMIT_MS + 1))[2]!.status, 'UNREACHABLE');
});

test('a fresh probe answer gives the status replog status shows, and catch-up progress with rate and time left', () => {
  const now = 20_000;
  const probe: ProbeReply = { at: now - 50, status: 'RECOVERING', begin: 0, end: 40, generation: 2, progress: { done: 400, total: 1000 } };
  const rows = memberRows(inputs(now, { probes: new Map([[3, probe]]), rates: new Map([[3, 200]]) }));
  const r = rows[2]!;
  assert.equal(r.status, 'RECOVERING');
  assert.equal(r.generation, 2);
  assert.deepEqual(r.recovery, { done: 400, total: 1000, bytes: null, ratePerSec: 200, etaSeconds: 3 });
  const v = verdict(rows);
  assert.equal(v.level, 'critical');
  assert.match(v.details[0]!, /RECOVERING: catching up 400 of 1000 positions, about 3 s left/);
});

test('two of three members down: no quorum, with what to do', () => {
  const now = 90_000;
  const rows = memberRows(inputs(now, { gossip: new Map(), connected: new Set() }));
  assert.deepEqual(rows.map((r) => r.status), ['VOTING', 'UNREACHABLE', 'UNREACHABLE']);
  assert.deepEqual(rows.map((r) => r.lastContactMs), [0, null, null]);
  const v = verdict(rows);
  assert.equal(v.level, 'critical');
  assert.match(v.headline, /^no quorum: 1 of 3 replicas VOTING, 2 needed/);
  assert.equal(v.details.length, 2);
});

test('five members all VOTING can lose 2; corruption on this replica turns the verdict to a warning', () => {
  const rows = [1, 2, 3, 4, 5].map((id) => ({ id, address: `h:${id}`, role: 'voter' as const, self: id === 1, status: 'VOTING' as const, generation: 1, begin: 0, end: 9, learnedThrough: 9, lagPositions: 0, lagSeconds: 0, lastContactMs: 0, recovery: null }));
  assert.equal(verdict(rows).headline, 'healthy: can lose 2 more replicas');
  const v = verdict(rows, { lostPositions: 3 });
  assert.equal(v.level, 'warning');
  assert.match(v.details[0]!, /3 corrupted positions/);
});

test('learners show with their role and never count for the quorum: a learner down is advice, not a lost replica', () => {
  const now = 10_000;
  const withLearner = { ...members, 4: '127.0.0.1:7004' };
  const rows = memberRows(inputs(now, { members: withLearner, learners: new Set([4]) }));
  assert.deepEqual(rows.map((r) => r.role), ['voter', 'voter', 'voter', 'learner']);
  assert.equal(rows[3]!.status, 'UNREACHABLE', 'nothing heard from the new member yet');
  const v = verdict(rows);
  assert.equal(v.quorum, 2);
  assert.equal(v.voting, 3);
  assert.equal(v.headline, 'healthy: can lose 1 more replica');
  assert.match(v.details[0]!, /^learner 4 \(127\.0\.0\.1:7004\) is UNREACHABLE/);
  // Promoted: the same member now counts, and its absence degrades the cluster.
  const promoted = memberRows(inputs(now, { members: withLearner, learners: new Set() }));
  assert.match(verdict(promoted).headline, /^degraded: can lose 0 more replicas; 1 of 4 not VOTING/);
});

test('timeline: a replica going down and back, a new disk, a writer change, a truncation, corruption found and repaired', () => {
  const now = 10_000;
  const before = memberRows(inputs(now));
  const after = memberRows(inputs(now, { gossip: new Map([[2, { state: gossip(100, 'VOTING', 2), at: now - 100 }]]), connected: new Set([2]) }));
  const ev = changes(
    { rows: before, writerProposal: 3, selfId: 1, selfBegin: 0, lostPositions: 0 },
    { rows: after, writerProposal: 5, selfId: 1, selfBegin: 50, lostPositions: 2 },
  );
  assert.deepEqual(ev.map((e) => e.kind), ['rejoined', 'down', 'writer', 'truncated', 'corruption']);
  assert.equal(ev[1]!.text, 'replica 3: VOTING → UNREACHABLE');
  const back = changes({ rows: after, writerProposal: 5, selfId: 1, selfBegin: 50, lostPositions: 2 }, { rows: before, writerProposal: 5, selfId: 1, selfBegin: 50, lostPositions: 0 });
  assert.deepEqual(back.map((e) => e.kind), ['up', 'repaired']);
});
