// Issue 11 (writer-election.ts, the settle bound's boundary): an election whose quorum reports exactly
// limits.electionSettleMax unsettled positions above its learned prefix settles them; one more is refused as
// insane (writer-election-rules.test.ts). Apart from writer-election-rules.test.ts because it queues 2^20 settling
// NOPs (0.2 to 0.7 s here): it fails with `>=` planted for `>` in becomeElected's bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limits } from '../../src/core/constants.js';
import type { PromiseReply, PromiseRequest } from '../../src/core/types.js';
import { WriterCore } from '../../src/core/writer.js';

test('settle bound: exactly electionSettleMax unsettled positions are settled, NOPs from the learned prefix up', () => {
  const w = new WriterCore({ members: [1, 2, 3], random: () => 0.5, proposalFloor: 10 });
  const req = w.step({ type: 'elect' }, 0).send[0]!.msg as PromiseRequest;
  const far = limits.electionSettleMax;
  const reply = (slots: PromiseReply['slots']): PromiseReply => {
    const end = Math.max(0, ...slots.map((s) => s.position));
    return { type: 'promiseReply', rid: req.rid, outcome: 'accept', proposal: req.proposal, status: 'VOTING', begin: 0, end, learnedThrough: 0, slots, coveredThrough: end, generation: 0, disk: 0 };
  };
  w.step({ type: 'reply', from: 1, msg: reply([{ position: far, promised: 3, accepted: 3, learned: false, action: { kind: 'nop' } }]) }, 0);
  const out = w.step({ type: 'reply', from: 2, msg: reply([]) }, 0);
  assert.equal(w.roleKind, 'elected');
  assert.equal(out.election, undefined);
  const first = out.send.find((s) => s.msg.type === 'write');
  assert.equal(first?.msg.type === 'write' && first.msg.from, 1);
  assert.equal(w.queued + w.inflightPositions, far + 1, 'positions 1 to 2^20 and the election NOP');
});
