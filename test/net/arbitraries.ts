/** fast-check generators of valid protocol messages, for the codec properties. */
import fc from 'fast-check';
import { limits } from '../../src/core/constants.js';
import { MEMBER_ID_MAX, type ConfigHead, type Configuration, type PlacedConfiguration } from '../../src/core/membership.js';
import type { Action, Entry, Message, Named, Slot } from '../../src/core/types.js';

const nat = fc.maxSafeNat();
/** A position: the codec refuses any above limits.positionMax. */
const pos = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: limits.positionMax }));
/** A proposal or generation: the codec refuses any above limits.proposalMax. */
const num = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: limits.proposalMax }));
/** A request's proposal: 1 or more (0 means none). */
const proposalNum = fc.integer({ min: 1, max: limits.proposalMax });
/** An inclusive range [from, to] with from <= to. */
const range = fc.tuple(pos, pos).map(([a, b]) => (a <= b ? { from: a, to: b } : { from: b, to: a }));
/** Plain-prototype records, so that deepStrictEqual compares them with decoded objects. */
const plain = { noNullPrototype: true } as const;
const posOrNone = fc.integer({ min: -1, max: limits.positionMax });
const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const status = fc.constantFrom('VOTING', 'RECOVERING', 'STARTING', 'EMPTY' as const);
const outcome = fc.constantFrom('accept', 'reject', 'ignored' as const);
/** A member id: 1 or more. */
const memberId = fc.integer({ min: 1, max: MEMBER_ID_MAX });
/** A disk generation: mostly small, sometimes anywhere in the safe range. */
const generation = num;
/** A disk number: 0 for an original disk, else random. */
const disk = fc.oneof(fc.constant(0), nat);
const namedOne: fc.Arbitrary<Named> = fc.record({ id: fc.oneof(fc.integer({ min: 1, max: 9 }), memberId), generation, disk }, plain);
const incarnation = fc.string({ maxLength: 40 }).filter((s) => Buffer.byteLength(s, 'utf8') <= 255);
/** A list of (member, generation, disk) with distinct ids. */
const namedList = (minLength: number): fc.Arbitrary<Named[]> =>
  fc.uniqueArray(namedOne, { minLength, maxLength: 6, selector: (n) => n.id });

/** A well-formed configuration (what the record codec stores): ascending distinct ids, distinct HOST:PORT addresses, nextId above them. */
const configuration: fc.Arbitrary<Configuration> = fc
  .uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 7 })
  .chain((ids) =>
    fc.record(
      {
        epoch: fc.integer({ min: 1, max: 1000 }),
        voterCount: fc.integer({ min: 1, max: ids.length }),
        extra: fc.integer({ min: 1, max: 5 }),
        changeId: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
      },
      plain,
    ).map(({ epoch, voterCount, extra, changeId }): Configuration => {
      const members = [...ids].sort((a, b) => a - b).map((id) => ({ id, address: `10.0.${id >> 8}.${id & 255}:${7000 + id}` }));
      const voters = members.filter((_, i) => i % ids.length < voterCount);
      const learners = members.filter((_, i) => i % ids.length >= voterCount);
      return { epoch, voters, learners, nextId: Math.max(...ids) + extra, ...(changeId === undefined ? {} : { changeId }) };
    }),
  );

/** A head: epoch 0 sits at -1, any other at a position (wire version 3's rule). */
const head: fc.Arbitrary<ConfigHead> = fc.oneof(
  fc.constant<ConfigHead>({ epoch: 0, position: -1 }),
  fc.record({ epoch: fc.integer({ min: 1, max: 1000 }), position: pos }, plain),
);

/** A chain of placed configurations (wire version 4: a promise's `links`): epochs consecutive, positions ascending. */
export const chain: fc.Arbitrary<PlacedConfiguration[]> = fc
  .tuple(fc.integer({ min: 1, max: 1000 }), fc.array(fc.tuple(configuration, fc.integer({ min: 1, max: 1000 }), num), { minLength: 0, maxLength: 3 }))
  .map(([epoch0, links]) => {
    let position = -1;
    return links.map(([c, step, floor], i): PlacedConfiguration => {
      position += step;
      return { ...c, epoch: epoch0 + i, position, floor };
    });
  });
/** A placed configuration (a promise's `install`). */
const placed: fc.Arbitrary<PlacedConfiguration> = chain.filter((c) => c.length > 0).map((c) => c[0]!);

export const action: fc.Arbitrary<Action> = fc.oneof(
  configuration.map((config): Action => ({ kind: 'config', config })),
  fc.constant<Action>({ kind: 'nop' }),
  fc.constant<Action>({ kind: 'nop', tombstone: true }),
  fc.uint8Array({ maxLength: 300 }).map((data): Action => ({ kind: 'append', data })),
  pos.map((to): Action => ({ kind: 'truncate', to })),
  fc.tuple(pos, head).map(([to, config]): Action => ({ kind: 'truncate', to, config })),
);

export const slot: fc.Arbitrary<Slot> = fc.record(
  { position: pos, promised: num, accepted: num, learned: fc.boolean(), action },
  { requiredKeys: ['position', 'promised', 'accepted', 'learned'], ...plain },
);

const entry: fc.Arbitrary<Entry> = fc.record({ position: pos, action }, plain);
const slots = fc.array(slot, { maxLength: 8 });

export const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('promise' as const), rid: nat, proposal: proposalNum }, plain),
  fc.record({ type: fc.constant('promise' as const), rid: nat, proposal: proposalNum, nonce: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) }, plain),
  fc.tuple(nat, proposalNum, range).map(([rid, proposal, r]) => ({ type: 'promise' as const, rid, proposal, from: r.from, to: r.to })),
  // Wire version 4: the head, a chosen configuration to install, the links a replica lacks; each may be absent.
  fc.record(
    { type: fc.constant('promise' as const), rid: nat, proposal: proposalNum, config: head, install: placed, links: chain },
    { requiredKeys: ['type', 'rid', 'proposal'], ...plain },
  ),
  fc.record({
    type: fc.constant('promiseReply' as const),
    rid: nat,
    outcome,
    proposal: num,
    status,
    begin: pos,
    end: posOrNone,
    learnedThrough: posOrNone,
    slots,
    coveredThrough: posOrNone,
    generation,
    disk,
  }, plain),
  fc.record({
    type: fc.constant('write' as const),
    rid: nat,
    proposal: proposalNum,
    from: fc.integer({ min: 0, max: limits.positionMax - 100 }),
    actions: fc.array(action, { maxLength: 20 }),
    named: namedList(0),
  }, plain),
  fc.record({
    type: fc.constant('writeReply' as const),
    rid: nat,
    outcome,
    proposal: num,
    from: fc.integer({ min: 0, max: limits.positionMax - 2 ** 32 }),
    count: u32,
    generation,
    disk,
    retired: fc.constant([]),
  }, plain),
  fc.record({
    type: fc.constant('writeReply' as const),
    rid: nat,
    outcome: fc.constant('stale' as const),
    proposal: num,
    from: fc.integer({ min: 0, max: limits.positionMax - 2 ** 32 }),
    count: u32,
    generation,
    disk,
    retired: namedList(1),
  }, plain),
  fc.tuple(proposalNum, range).map(([proposal, r]) => ({ type: 'commit' as const, proposal, from: r.from, to: r.to })),
  fc.record(
    { type: fc.constant('learned' as const), entries: fc.array(entry, { maxLength: 8 }), floors: fc.array(fc.record({ position: pos, floor: num }, plain), { maxLength: 8 }) },
    { requiredKeys: ['type', 'entries'], ...plain },
  ),
  // limit below 2^16: its high 16 bits carry a held read's waitMs (docs/wire.md).
  fc.record({ type: fc.constant('read' as const), rid: nat, from: pos, to: pos, limit: fc.integer({ min: 0, max: 0xffff }), waitMs: fc.integer({ min: 1, max: 0xffff }) }, { requiredKeys: ['type', 'rid', 'from', 'to', 'limit'], ...plain }),
  fc.record({
    type: fc.constant('readReply' as const),
    rid: nat,
    status,
    begin: pos,
    end: posOrNone,
    learnedThrough: posOrNone,
    slots,
    coveredThrough: posOrNone,
    lost: fc.array(pos, { maxLength: 8 }),
    writerActive: fc.boolean(),
    pendingTruncate: fc.tuple(pos, pos).map(([a, b]) => ({ position: Math.max(a, b), to: Math.min(a, b) })),
    // Wire version 4: the replier's chain, for a catch-up that adopts its begin (R14).
    chain,
  }, { requiredKeys: ['type', 'rid', 'status', 'begin', 'end', 'learnedThrough', 'slots', 'coveredThrough', 'lost', 'writerActive'], ...plain }),
  fc.record({ type: fc.constant('recover' as const), rid: nat }, plain),
  fc.record({ type: fc.constant('recover' as const), rid: nat, member: memberId }, plain),
  // Wire version 4: the asker's head (R13).
  fc.record({ type: fc.constant('recover' as const), rid: nat, member: memberId, config: head }, { requiredKeys: ['type', 'rid', 'config'], ...plain }),
  fc.record({
    type: fc.constant('recoverReply' as const),
    rid: nat,
    status,
    begin: pos,
    end: posOrNone,
    incarnation,
    generation,
    disk,
    memberGeneration: generation,
    memberDisk: disk,
    recorded: namedList(0),
    witness: fc.record({ generation, disk, promised: num, end: posOrNone }, plain),
    startView: fc.uniqueArray(fc.record({ id: memberId, incarnation }, plain), { maxLength: 5, selector: (e) => e.id }),
    progress: fc.record({ done: nat, total: nat }, plain),
    // Wire version 4 (R7, R11, R13).
    learnedThrough: posOrNone,
    links: chain,
    removed: placed,
    clusterId: incarnation,
    membersHash: incarnation,
  }, { requiredKeys: ['type', 'rid', 'status', 'begin', 'end', 'incarnation', 'generation', 'disk', 'memberGeneration', 'memberDisk', 'recorded'], ...plain }),
  fc.record({ type: fc.constant('rejoin' as const), rid: nat, member: memberId, generation, disk }, plain),
  fc.record(
    { type: fc.constant('rejoinReply' as const), rid: nat, outcome, status, begin: pos, end: posOrNone, generation, disk, removed: placed },
    { requiredKeys: ['type', 'rid', 'outcome', 'status', 'begin', 'end', 'generation', 'disk'], ...plain },
  ),
  fc.record(
    { type: fc.constant('peerState' as const), incarnation, generation, disk, status, promised: num, begin: pos, end: posOrNone, learnedThrough: posOrNone, yours: fc.record({ generation, disk }, plain) },
    { requiredKeys: ['type', 'incarnation', 'generation', 'disk', 'status', 'promised', 'begin', 'end', 'learnedThrough'], ...plain },
  ),
  fc.record({ type: fc.constant('config' as const), rid: nat }, plain),
  fc.record({
    type: fc.constant('configReply' as const),
    rid: nat,
    epoch: nat,
    members: fc.uniqueArray(fc.record({ id: memberId, address: incarnation }, plain), { minLength: 1, maxLength: 5, selector: (m) => m.id }),
  }, plain),
);

/** One example of every message type, for table tests. */
export function oneOfEach(): Message[] {
  const data = new Uint8Array([1, 2, 3]);
  const s: Slot = { position: 4, promised: 3, accepted: 2, learned: true, action: { kind: 'append', data } };
  return [
    { type: 'promise', rid: 1, proposal: 2 },
    { type: 'promise', rid: 1, proposal: 2, from: 3, to: 9 },
    { type: 'promise', rid: 1, proposal: 2, nonce: 77 },
    { type: 'promiseReply', rid: 1, outcome: 'accept', proposal: 7, status: 'VOTING', begin: 0, end: -1, learnedThrough: -1, slots: [s], coveredThrough: -1, generation: 2, disk: 9 },
    {
      type: 'write',
      rid: 2,
      proposal: 7,
      from: 10,
      actions: [{ kind: 'nop' }, { kind: 'append', data }, { kind: 'truncate', to: 5 }],
      named: [{ id: 1, generation: 0, disk: 0 }, { id: 3, generation: 2, disk: 17 }],
    },
    { type: 'writeReply', rid: 2, outcome: 'reject', proposal: 9, from: 10, count: 3, generation: 0, disk: 0, retired: [] },
    { type: 'writeReply', rid: 2, outcome: 'stale', proposal: 7, from: 10, count: 3, generation: 1, disk: 5, retired: [{ id: 3, generation: 4, disk: 6 }] },
    { type: 'commit', proposal: 7, from: 10, to: 12 },
    { type: 'learned', entries: [{ position: 3, action: { kind: 'nop', tombstone: true } }] },
    { type: 'read', rid: 3, from: 0, to: 100, limit: 10 },
    { type: 'readReply', rid: 3, status: 'RECOVERING', begin: 0, end: 5, learnedThrough: 4, slots: [s], coveredThrough: 5, lost: [2], writerActive: false },
    { type: 'readReply', rid: 3, status: 'VOTING', begin: 0, end: 5, learnedThrough: 4, slots: [], coveredThrough: 5, lost: [], writerActive: true, pendingTruncate: { position: 5, to: 3 } },
    { type: 'recover', rid: 4 },
    { type: 'recover', rid: 4, member: 2 },
    { type: 'recoverReply', rid: 4, status: 'EMPTY', begin: 0, end: -1, incarnation: 'i1', generation: 1, disk: 2, memberGeneration: 3, memberDisk: 4, recorded: [] },
    {
      type: 'recoverReply', rid: 4, status: 'STARTING', begin: 0, end: 99, incarnation: 'i2', generation: 0, disk: 0, memberGeneration: 3, memberDisk: 4,
      recorded: [{ id: 1, generation: 0, disk: 0 }, { id: 2, generation: 3, disk: 4 }],
      witness: { generation: 0, disk: 0, promised: 5, end: 99 },
      startView: [{ id: 1, incarnation: 'a' }, { id: 2, incarnation: 'b' }],
      progress: { done: 40, total: 100 },
    },
    { type: 'rejoin', rid: 5, member: 2, generation: 3, disk: 8 },
    { type: 'rejoinReply', rid: 5, outcome: 'accept', status: 'VOTING', begin: 0, end: 42, generation: 3, disk: 8 },
    { type: 'peerState', incarnation: 'i3', generation: 1, disk: 2, status: 'VOTING', promised: 9, begin: 0, end: 10, learnedThrough: 8, yours: { generation: 2, disk: 7 } },
    { type: 'config', rid: 6 },
    { type: 'configReply', rid: 6, epoch: 0, members: [{ id: 1, address: '127.0.0.1:7001' }, { id: 2, address: 'h2:7002' }] },
  ];
}
