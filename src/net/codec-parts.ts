/**
 * Size, write and read of the composite fields shared by several messages:
 * action, slot, entry, named lists, and the small enums. See docs/wire.md for
 * the layout.
 */
import { assert, assertNever } from '../core/assert.js';
import { limits } from '../core/constants.js';
import type { Action, Entry, Named, Outcome, PromiseOutcome, ReplicaId, Slot, Status, WriteOutcome } from '../core/types.js';
import { HEAD_BYTES, configurationSize, readConfiguration, readFlags, readHead, writeConfiguration, writeHead } from './config-codec.js';
import { storableConfigProblem } from '../storage/config-codec.js';
import { WireError } from './errors.js';
import { wireLimits } from './limits.js';
import {
  actionByCode,
  actionCode,
  outcomeByCode,
  outcomeCode,
  promiseOutcomeByCode,
  promiseOutcomeCode,
  slotFlag,
  statusByCode,
  statusCode,
  writeOutcomeByCode,
  writeOutcomeCode,
} from './schema.js';
import type { WireReader } from './wire-reader.js';
import { WireWriter } from './wire-writer.js';
import { FRAME_HEADER_BYTES } from './frame.js';

/** Bytes of a slot or entry before its action: the fixed part. */
export const SLOT_FIXED_BYTES = 8 + 8 + 8 + 1;
export const ENTRY_FIXED_BYTES = 8;
/** The smallest action (a nop) takes 2 bytes. */
export const ACTION_MIN_BYTES = 2;
/** A named member: `nat` id, `nat` generation, `nat` disk. */
export const NAMED_BYTES = 8 + 8 + 8;

export function actionSize(a: Action): number {
  switch (a.kind) {
    case 'nop':
      return 2;
    case 'append':
      return 1 + 4 + a.data.length;
    case 'truncate':
      return 1 + 8 + 1 + (a.config === undefined ? 0 : HEAD_BYTES);
    case 'config':
      return 1 + configurationSize(a.config);
    default:
      return assertNever(a, 'action');
  }
}

export function writeAction(w: WireWriter, a: Action): void {
  w.u8(actionCode[a.kind]);
  switch (a.kind) {
    case 'nop':
      w.u8(a.tombstone === true ? 1 : 0);
      return;
    case 'append':
      w.bytes(a.data);
      return;
    case 'truncate':
      // Wire version 4: a flags byte (bit 0: the head of config(to) follows).
      w.u64(a.to);
      w.u8(a.config === undefined ? 0 : 1);
      if (a.config !== undefined) writeHead(w, a.config);
      return;
    case 'config':
      writeConfiguration(w, a.config);
      return;
    default:
      assertNever(a, 'action');
  }
}

/** The nop without tombstone decodes without the `tombstone` key (its canonical form). */
export function readAction(r: WireReader): Action {
  const code = r.u8('action kind');
  const kind = actionByCode[code];
  if (kind === undefined) throw new WireError('bad-value', `unknown action kind ${code}`);
  switch (kind) {
    case 'nop':
      return r.bool('nop tombstone') ? { kind: 'nop', tombstone: true } : { kind: 'nop' };
    case 'append':
      // A plain Uint8Array view of the frame: zero copy, and deep-equal to what the sender passed.
      return { kind: 'append', data: r.view('append data', limits.entryBytesMax) };
    case 'truncate': {
      const to = r.position('truncate to');
      const f = readFlags(r, 'truncate flags', 1);
      return (f & 1) === 0 ? { kind: 'truncate', to } : { kind: 'truncate', to, config: readHead(r, 'truncate head') };
    }
    case 'config': {
      // A config action is stored as sent: refuse here what the record codec would refuse to write (an assertion there).
      const config = readConfiguration(r, 'config entry');
      const bad = storableConfigProblem(config);
      if (bad !== undefined) throw new WireError('bad-value', `config entry: ${bad}`);
      return { kind: 'config', config };
    }
    default:
      return assertNever(kind, 'action kind');
  }
}

export function slotSize(s: Slot): number {
  return SLOT_FIXED_BYTES + (s.action === undefined ? 0 : actionSize(s.action));
}

export function writeSlot(w: WireWriter, s: Slot): void {
  w.u64(s.position);
  w.u64(s.promised);
  w.u64(s.accepted);
  w.u8((s.learned ? slotFlag.learned : 0) | (s.action === undefined ? 0 : slotFlag.hasAction));
  if (s.action !== undefined) writeAction(w, s.action);
}

export function readSlot(r: WireReader): Slot {
  const position = r.position('slot position');
  const promised = r.proposal('slot promised');
  const accepted = r.proposal('slot accepted');
  const flags = r.u8('slot flags');
  if ((flags & ~(slotFlag.learned | slotFlag.hasAction)) !== 0) throw new WireError('bad-value', `slot flags ${flags}`);
  const learned = (flags & slotFlag.learned) !== 0;
  if ((flags & slotFlag.hasAction) === 0) return { position, promised, accepted, learned };
  return { position, promised, accepted, learned, action: readAction(r) };
}

export function entrySize(e: Entry): number {
  return ENTRY_FIXED_BYTES + actionSize(e.action);
}

export function writeEntry(w: WireWriter, e: Entry): void {
  w.u64(e.position);
  writeAction(w, e.action);
}

export function readEntry(r: WireReader): Entry {
  const position = r.position('entry position');
  return { position, action: readAction(r) };
}

export function readStatus(r: WireReader): Status {
  const code = r.u8('status');
  const s = statusByCode[code];
  if (s === undefined) throw new WireError('bad-value', `unknown status ${code}`);
  return s;
}

export function writeStatus(w: WireWriter, s: Status): void {
  w.u8(statusCode[s]);
}

export function readOutcome(r: WireReader): Outcome {
  const code = r.u8('outcome');
  const o = outcomeByCode[code];
  if (o === undefined) throw new WireError('bad-value', `unknown outcome ${code}`);
  return o;
}

export function writeOutcome(w: WireWriter, o: Outcome): void {
  w.u8(outcomeCode[o]);
}

export function readPromiseOutcome(r: WireReader): PromiseOutcome {
  const code = r.u8('promise outcome');
  const o = promiseOutcomeByCode[code];
  if (o === undefined) throw new WireError('bad-value', `unknown promise outcome ${code}`);
  return o;
}

export function writePromiseOutcome(w: WireWriter, o: PromiseOutcome): void {
  w.u8(promiseOutcomeCode[o]);
}

export function readWriteOutcome(r: WireReader): WriteOutcome {
  const code = r.u8('write outcome');
  const o = writeOutcomeByCode[code];
  if (o === undefined) throw new WireError('bad-value', `unknown write outcome ${code}`);
  return o;
}

export function writeWriteOutcome(w: WireWriter, o: WriteOutcome): void {
  w.u8(writeOutcomeCode[o]);
}

/** A member id: a positive safe integer. */
export function readMember(r: WireReader, what: string): ReplicaId {
  const id = r.u64(what);
  if (id < 1) throw new WireError('bad-value', `${what} must be >= 1`);
  return id;
}

export function namedSize(list: readonly Named[]): number {
  return 4 + NAMED_BYTES * list.length;
}

export function writeNamed(w: WireWriter, list: readonly Named[]): void {
  assert(list.length <= wireLimits.namedLengthMax, `a named list of ${list.length} members exceeds the bound`);
  w.u32(list.length);
  for (const n of list) {
    assert(Number.isSafeInteger(n.id) && n.id >= 1, `member id must be >= 1, got ${n.id}`);
    w.u64(n.id);
    w.u64(n.generation);
    w.u64(n.disk);
  }
}

/** A list of (member, generation, disk): at most namedLengthMax entries, ids >= 1 and distinct. */
export function readNamed(r: WireReader, what: string): Named[] {
  const n = r.count(`${what} count`, NAMED_BYTES, wireLimits.namedLengthMax);
  const list = new Array<Named>(n);
  for (let i = 0; i < n; i++) {
    const id = readMember(r, `${what} member id`);
    for (let j = 0; j < i; j++) {
      if (list[j]!.id === id) throw new WireError('bad-value', `${what} names member ${id} twice`);
    }
    list[i] = { id, generation: r.proposal(`${what} generation`), disk: r.u64(`${what} disk`) };
  }
  return list;
}

/** Encodes a payload of `size` bytes written by `write` (no frame header); the size must be exact. */
export function encodePayload(size: number, write: (w: WireWriter) => void): Buffer {
  const w = new WireWriter(Buffer.allocUnsafe(size));
  write(w);
  assert(w.offset === size, `encoded ${w.offset} bytes, sized ${size}`);
  return w.buf;
}

/** Encodes a whole frame, `[u32 length][payload]`, in one allocation; the payload size must be exact. */
export function encodeFramed(size: number, write: (w: WireWriter) => void): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size);
  buf.writeUInt32LE(size, 0);
  const w = new WireWriter(buf, FRAME_HEADER_BYTES);
  write(w);
  assert(w.offset === buf.length, `encoded ${w.offset - FRAME_HEADER_BYTES} bytes, sized ${size}`);
  return buf;
}
