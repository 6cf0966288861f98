/**
 * How a configuration (the value of a `config` entry, docs/reconfiguration.md)
 * is stored inside a record's key:
 *
 *   epoch:f64  nextId:f64  flags:u8  [changeId:str]  voters:u16  (id:f64 address:str)*  learners:u16  (id:f64 address:str)*
 *
 * flags bit 0: a changeId follows; other bits must be 0. A configuration is
 * small (a few hundred bytes) and rare, so it sits in the key, under the key
 * checksum, like a truncate's `to`: a damaged one makes its record
 * unreadable (the position is then repaired by catch-up like any lost
 * record), never misread. The same bytes feed the range digest.
 *
 * Also here: the checks of the two metadata fields of the chain (R11, R14):
 * `clusterId` and `configs`, which the metadata codec keeps as JSON.
 */
import { assert, isNat } from '../core/assert.js';
import { chainProblem, configurationProblem, type Configuration, type PlacedConfiguration } from '../core/membership.js';
import type { Member } from '../core/types.js';
import { Malformed, STRING_BYTES_MAX, Writer, type Reader } from './codec-io.js';

/** Most members (voters and learners) a stored configuration lists: the wire's bound on a member list. */
export const CONFIG_MEMBERS_MAX = 256;
/** Most bytes a stored configuration takes. */
export const CONFIG_BYTES_MAX = 64 * 1024;
const FLAG_CHANGE_ID = 1;

/** A configuration checked and turned into the strings it is written with. */
export interface ConfigParts {
  readonly config: Configuration;
  readonly changeId: Buffer | undefined;
  readonly voters: readonly Buffer[];
  readonly learners: readonly Buffer[];
  /** Bytes writeConfig writes. */
  readonly bytes: number;
}

/**
 * Why `c` cannot be stored as a config entry, or undefined: configurationProblem
 * and the record's bounds (members, string lengths, bytes). The wire decoder
 * asks the same question of every `config` action a peer or client sends
 * (net/codec-parts.ts), so a value that would trip prepareConfig's assertions
 * is refused at the door instead of stopping the replica that tries to persist it.
 */
export function storableConfigProblem(c: Configuration): string | undefined {
  const bad = configurationProblem(c);
  if (bad !== undefined) return bad;
  if (c.voters.length + c.learners.length > CONFIG_MEMBERS_MAX) return `more than ${CONFIG_MEMBERS_MAX} members`;
  const strings = [...(c.changeId === undefined ? [] : [c.changeId]), ...c.voters.map((m) => m.address), ...c.learners.map((m) => m.address)];
  let bytes = 8 + 8 + 1 + 2 + 2;
  for (const s of strings) {
    const n = Buffer.byteLength(s, 'utf8');
    if (n > STRING_BYTES_MAX) return `a string longer than ${STRING_BYTES_MAX} bytes`;
    bytes += 1 + n + 8;
  }
  if (bytes > CONFIG_BYTES_MAX) return `${bytes} bytes, more than ${CONFIG_BYTES_MAX}`;
  return undefined;
}

export function prepareConfig(c: Configuration): ConfigParts {
  const bad = storableConfigProblem(c);
  assert(bad === undefined, `config entry: ${bad}`);
  const text = (s: string): Buffer => Buffer.from(s, 'utf8');
  const changeId = c.changeId === undefined ? undefined : text(c.changeId);
  const voters = c.voters.map((m) => text(m.address));
  const learners = c.learners.map((m) => text(m.address));
  const listBytes = (addresses: readonly Buffer[]): number => 2 + addresses.reduce((n, a) => n + 8 + 1 + a.length, 0);
  const bytes = 8 + 8 + 1 + (changeId === undefined ? 0 : 1 + changeId.length) + listBytes(voters) + listBytes(learners);
  // Keeps a config record's key within KEY_BYTES_MAX (record-codec.ts); real configurations take a few hundred bytes.
  assert(bytes <= CONFIG_BYTES_MAX, `config entry of ${bytes} bytes, more than ${CONFIG_BYTES_MAX}`);
  return { config: c, changeId, voters, learners, bytes };
}

export function writeConfig(w: Writer, p: ConfigParts): void {
  w.num(p.config.epoch);
  w.num(p.config.nextId);
  w.u8(p.changeId === undefined ? 0 : FLAG_CHANGE_ID);
  if (p.changeId !== undefined) w.str(p.changeId);
  const list = (members: readonly Member[], addresses: readonly Buffer[]): void => {
    w.u8(members.length & 0xff);
    w.u8(members.length >> 8);
    members.forEach((m, i) => {
      w.num(m.id);
      w.str(addresses[i]!);
    });
  };
  list(p.config.voters, p.voters);
  list(p.config.learners, p.learners);
}

/** The stored bytes of a configuration alone (the range digest hashes them). */
export function encodeConfig(c: Configuration): Buffer {
  const p = prepareConfig(c);
  const buf = Buffer.alloc(p.bytes);
  const w = new Writer(buf, 0);
  writeConfig(w, p);
  assert(w.at === p.bytes, 'config length');
  return buf;
}

/** Reads a configuration; throws Malformed unless it is well formed (configurationProblem). */
export function readConfig(r: Reader): Configuration {
  const epoch = r.nat();
  const nextId = r.nat();
  const flags = r.u8();
  if ((flags & ~FLAG_CHANGE_ID) !== 0) throw new Malformed();
  const changeId = (flags & FLAG_CHANGE_ID) !== 0 ? r.str() : undefined;
  const list = (): Member[] => {
    const n = r.u8() | (r.u8() << 8);
    if (n > CONFIG_MEMBERS_MAX) throw new Malformed();
    const out: Member[] = [];
    for (let i = 0; i < n; i++) out.push({ id: r.nat(), address: r.str() });
    return out;
  };
  const voters = list();
  const learners = list();
  if (voters.length + learners.length > CONFIG_MEMBERS_MAX) throw new Malformed();
  const c: Configuration = { epoch, voters, learners, nextId, ...(changeId === undefined ? {} : { changeId }) };
  if (configurationProblem(c) !== undefined) throw new Malformed();
  return c;
}

// --------------------------------------------------------------- metadata fields

/**
 * Why the metadata fields of the chain are not what a replica may have
 * written, or undefined: `clusterId` a non-empty string of at most 255
 * bytes; `configs` a chain (membership.ts chainProblem) of placed
 * configurations with safe integer positions and floors. Both optional
 * (absent on every directory written before them: R11's migration reads it,
 * stored-config.ts). The metadata codec asserts this at encode and refuses
 * the record at decode.
 */
export function chainFieldsProblem(m: { readonly clusterId?: unknown; readonly configs?: unknown }): string | undefined {
  if (m.clusterId !== undefined) {
    if (typeof m.clusterId !== 'string' || m.clusterId === '') return 'clusterId is not a non-empty string';
    if (Buffer.byteLength(m.clusterId) > STRING_BYTES_MAX) return `clusterId is longer than ${STRING_BYTES_MAX} bytes`;
  }
  if (m.configs === undefined) return undefined;
  if (!Array.isArray(m.configs)) return 'configs is not a list';
  for (const c of m.configs as unknown[]) {
    const bad = placedShapeProblem(c);
    if (bad !== undefined) return `configs: ${bad}`;
  }
  const bad = chainProblem(m.configs as PlacedConfiguration[]);
  return bad === undefined ? undefined : `configs: ${bad}`;
}

/** JSON comes from disk: check every field's type before the membership rules look at it. */
function placedShapeProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'a configuration is not an object';
  const c = v as Record<string, unknown>;
  const known = new Set(['epoch', 'voters', 'learners', 'nextId', 'changeId', 'position', 'floor']);
  for (const k of Object.keys(c)) if (!known.has(k)) return `unknown field '${k}'`;
  if (!isNat(c.epoch) || !isNat(c.nextId) || !isNat(c.floor)) return 'epoch, nextId and floor must be safe non-negative integers';
  if (!Number.isSafeInteger(c.position) || (c.position as number) < -1) return 'position must be a safe integer of at least -1';
  if (c.changeId !== undefined && typeof c.changeId !== 'string') return 'changeId is not a string';
  for (const list of [c.voters, c.learners]) {
    if (!Array.isArray(list)) return 'voters and learners must be lists';
    for (const m of list as unknown[]) {
      if (typeof m !== 'object' || m === null) return 'a member is not an object';
      const { id, address, ...rest } = m as Record<string, unknown>;
      if (typeof id !== 'number' || typeof address !== 'string' || Object.keys(rest).length > 0) return 'a member is not {id, address}';
    }
  }
  return undefined;
}
