// The simulator's reader client keeps one address across the ReaderCores it builds (refresh, after a
// stale-config), so a late reply to an earlier core's read reaches the new core. Found by shaped seed 69:
// each core numbered its requests from 1, so r10's late reply to the old core's read #1 (end 1814) was
// taken by the new core as the answer to its own #1, and a read stopped at 1815 while a quorum held 1816
// (read-consistency). The client now shares one request id allocator across its cores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_RULES_ON } from '../../src/core/rules.js';
import type { Message, ReadReply, ReplicaId } from '../../src/core/types.js';
import type { Checker } from '../../src/sim/checker.js';
import { ReaderClient, type ClientHost } from '../../src/sim/clients.js';
import type { Envelope } from '../../src/sim/network.js';
import { Prng } from '../../src/sim/prng.js';

interface Host extends ClientHost {
  readonly sent: Envelope[];
  readonly ok: { begin: number; end: number }[];
}

function host(): Host {
  const sent: Envelope[] = [];
  const ok: { begin: number; end: number }[] = [];
  let op = 1;
  const checker = {
    readStarted: (from: number, to: number, bounds: boolean) => ({ from, to, ackSeq: 0, factSeq: 0, bounds }),
    readOk: (_who: string, _start: unknown, _entries: unknown, begin: number, end: number) => ok.push({ begin, end }),
    readTruncated: () => undefined,
  } as unknown as Checker;
  return { prng: new Prng(1), checker, rules: ALL_RULES_ON, members: [1, 2, 3], now: () => 0, send: (env) => sent.push(env), trace: () => undefined, nextOpId: () => op++, sent, ok };
}

function boundsReply(rid: number, end: number): ReadReply {
  return { type: 'readReply', rid, status: 'VOTING', begin: 0, end, learnedThrough: end, slots: [], coveredThrough: 0, lost: [], writerActive: false };
}

/** The request ids of the read messages sent since `since`. */
function rids(h: Host, since: number): number[] {
  return h.sent.slice(since).flatMap((e) => (e.msg.type === 'read' ? [e.msg.rid] : []));
}

test('a reader client never reuses a request id across its cores', () => {
  const h = host();
  const rd = new ReaderClient('rd1', h);
  rd.bounds();
  const first = rids(h, 0);
  assert.ok(first.length > 0);
  for (const [i, id] of [1, 2, 3].entries()) rd.receive(id as ReplicaId, boundsReply(first[i % first.length]!, 10) as Message);
  assert.equal(rd.pending.size, 0, 'the first bounds read finished');
  assert.deepEqual(h.ok, [{ begin: 0, end: 10 }]);

  rd.refresh(); // a new core, as after a stale-config
  const mark = h.sent.length;
  rd.bounds();
  const second = rids(h, mark);
  assert.ok(second.length > 0);
  for (const rid of second) assert.ok(!first.includes(rid), `rid ${rid} of the new core was used by the old one (${first})`);

  // Late replies to the first core's read (end 10) reach the new core: they are not the answer to its read.
  for (const id of [1, 2, 3] as ReplicaId[]) rd.receive(id, boundsReply(first[0]!, 10) as Message);
  assert.equal(rd.pending.size, 1, 'the new read still waits for its own replies');
  for (const id of [1, 2, 3] as ReplicaId[]) rd.receive(id, boundsReply(second[0]!, 12) as Message);
  assert.deepEqual(h.ok.at(-1), { begin: 0, end: 12 }, 'the new read answers with what its own round heard');
});
