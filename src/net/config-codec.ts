/**
 * The wire form of configurations (wire versions 3 and 4, docs/wire.md
 * "Configurations"): a configuration, a placed one (a chain link), a head, a
 * pending entry. Decoding checks the structure every core relies on (ids
 * positive and ascending, voters and learners disjoint, at least one voter,
 * nextId above every id); addresses are short strings, not parsed (a replica
 * started on port 0 lists itself at :0).
 */
import { assert } from '../core/assert.js';
import { isMemberId, MEMBER_ID_MAX, type ConfigHead, type Configuration, type PendingConfig, type PlacedConfiguration } from '../core/membership.js';
import type { Member } from '../core/types.js';
import { WireError } from './errors.js';
import { wireLimits } from './limits.js';
import { storableConfigProblem } from '../storage/config-codec.js';
import type { WireReader } from './wire-reader.js';
import { type WireWriter, shortStringSize } from './wire-writer.js';

/** A head: `nat` epoch, `pos` position. */
export const HEAD_BYTES = 16;

export function writeHead(w: WireWriter, h: ConfigHead): void {
  w.u64(h.epoch);
  w.pos(h.position);
}

export function readHead(r: WireReader, what: string): ConfigHead {
  const epoch = r.u64(`${what} epoch`);
  const position = r.positionOrNone(`${what} position`);
  if ((epoch === 0) !== (position === -1)) throw new WireError('bad-value', `${what}: epoch ${epoch} at position ${position} (only epoch 0 sits at -1)`);
  return { epoch, position };
}

export function membersSize(ms: readonly Member[]): number {
  let n = 4;
  for (const m of ms) n += 8 + shortStringSize(m.address);
  return n;
}

export function configurationSize(c: Configuration): number {
  return 8 + membersSize(c.voters) + membersSize(c.learners) + 8 + 1 + (c.changeId === undefined ? 0 : shortStringSize(c.changeId));
}

export function writeMembers(w: WireWriter, ms: readonly Member[]): void {
  assert(ms.length <= wireLimits.namedLengthMax, `a member list of ${ms.length} exceeds the bound`);
  w.u32(ms.length);
  for (const m of ms) {
    assert(Number.isSafeInteger(m.id) && m.id >= 1, `member id must be >= 1, got ${m.id}`);
    w.u64(m.id);
    w.shortString(m.address);
  }
}

export function writeConfiguration(w: WireWriter, c: Configuration): void {
  w.u64(c.epoch);
  writeMembers(w, c.voters);
  writeMembers(w, c.learners);
  w.u64(c.nextId);
  w.u8(c.changeId === undefined ? 0 : 1);
  if (c.changeId !== undefined) w.shortString(c.changeId);
}

export function readMembers(r: WireReader, what: string): Member[] {
  const n = r.count(`${what} count`, 9, wireLimits.namedLengthMax);
  const out = new Array<Member>(n);
  for (let i = 0; i < n; i++) {
    const id = r.u64(`${what} id`);
    if (!isMemberId(id)) throw new WireError('bad-value', `${what} id must be from 1 to ${MEMBER_ID_MAX}`);
    if (i > 0 && id <= out[i - 1]!.id) throw new WireError('bad-value', `${what} must be listed by ascending id, each once`);
    out[i] = { id, address: r.shortString(`${what} address`) };
  }
  return out;
}

export function readConfiguration(r: WireReader, what: string): Configuration {
  const epoch = r.u64(`${what} epoch`);
  const voters = readMembers(r, `${what} voter`);
  const learners = readMembers(r, `${what} learner`);
  const nextId = r.u64(`${what} nextId`);
  const changeId = r.bool(`${what} changeId flag`) ? r.shortString(`${what} changeId`) : undefined;
  if (voters.length === 0) throw new WireError('bad-value', `${what}: a configuration needs a voter`);
  const ids = new Set(voters.map((m) => m.id));
  for (const m of learners) if (ids.has(m.id)) throw new WireError('bad-value', `${what}: member ${m.id} is both a voter and a learner`);
  const top = Math.max(...voters.map((m) => m.id), ...learners.map((m) => m.id));
  if (nextId <= top) throw new WireError('bad-value', `${what}: nextId ${nextId} is not above every member id`);
  return { epoch, voters, learners, nextId, ...(changeId === undefined ? {} : { changeId }) };
}

export function placedSize(c: PlacedConfiguration): number {
  return configurationSize(c) + 8 + 8;
}

export function writePlaced(w: WireWriter, c: PlacedConfiguration): void {
  writeConfiguration(w, c);
  w.pos(c.position);
  w.u64(c.floor);
}

export function readPlaced(r: WireReader, what: string): PlacedConfiguration {
  const c = readConfiguration(r, what);
  const position = r.positionOrNone(`${what} position`);
  const floor = r.proposal(`${what} floor`);
  if ((c.epoch === 0) !== (position === -1)) throw new WireError('bad-value', `${what}: epoch ${c.epoch} at position ${position}`);
  return { ...c, position, floor };
}

export function pendingSize(p: PendingConfig): number {
  return 8 + 8 + configurationSize(p.config);
}

export function writePending(w: WireWriter, p: PendingConfig): void {
  w.u64(p.position);
  w.u64(p.proposal);
  writeConfiguration(w, p.config);
}

export function readPending(r: WireReader, what: string): PendingConfig {
  const position = r.position(`${what} position`);
  const proposal = r.proposal(`${what} proposal`);
  return { position, proposal, config: readConfiguration(r, `${what} config`) };
}

/**
 * A placed configuration a replica will store in its chain (a promise's
 * `install` or `links`, wire version 4): refused here, as a config action is,
 * if the store could not write it (an assertion there).
 */
export function readStorablePlaced(r: WireReader, what: string): PlacedConfiguration {
  const c = readPlaced(r, what);
  const bad = storableConfigProblem(c);
  if (bad !== undefined) throw new WireError('bad-value', `${what}: ${bad}`);
  return c;
}

/** A chain: `u32` count, then placed configurations, epochs consecutive and positions ascending. */
export function chainSize(chain: readonly PlacedConfiguration[]): number {
  let n = 4;
  for (const c of chain) n += placedSize(c);
  return n;
}

export function writeChain(w: WireWriter, chain: readonly PlacedConfiguration[]): void {
  assert(chain.length <= wireLimits.namedLengthMax, `a chain of ${chain.length} links exceeds the bound`);
  w.u32(chain.length);
  for (const c of chain) writePlaced(w, c);
}

export function readChain(r: WireReader, what: string, storable = false): PlacedConfiguration[] {
  const n = r.count(`${what} count`, 40, wireLimits.namedLengthMax);
  const out = new Array<PlacedConfiguration>(n);
  for (let i = 0; i < n; i++) {
    const c = storable ? readStorablePlaced(r, `${what} link`) : readPlaced(r, `${what} link`);
    if (i > 0 && (c.epoch !== out[i - 1]!.epoch + 1 || c.position <= out[i - 1]!.position)) {
      throw new WireError('bad-value', `${what}: epoch ${c.epoch} at ${c.position} does not follow epoch ${out[i - 1]!.epoch} at ${out[i - 1]!.position}`);
    }
    out[i] = c;
  }
  return out;
}

/**
 * The optional fields a version 3 or 4 message appends: a flags byte, then each
 * field whose bit is set, in bit order. A field absent from the message is
 * absent after decoding (round trips are exact).
 */
export function flagsOf(...present: boolean[]): number {
  let f = 0;
  present.forEach((p, i) => {
    if (p) f |= 1 << i;
  });
  return f;
}

/** Reads a flags byte that may set only the low `bits` bits. */
export function readFlags(r: WireReader, what: string, bits: number): number {
  const f = r.u8(what);
  if ((f & ~((1 << bits) - 1)) !== 0) throw new WireError('bad-value', `${what} ${f}`);
  return f;
}
