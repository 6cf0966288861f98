/**
 * Range digests: a checksum of the CHOSEN values of a range of positions of
 * one replica's store, for the divergence checks (docs/operations.md,
 * "Divergence checks"). Two replicas that learned the same values at the
 * same positions have equal digests; a value that differs in one byte (a bug
 * that stored a wrong value with a valid record checksum, which storage
 * cannot see) makes them differ.
 *
 * The digest of [from, through) is CRC32C over, for each position p in
 * order, the bytes
 *
 *     p:u64le  kind:u8  [ length:u32le data ]   for an append (kind 1)
 *                       [ to:u64le ]            for a truncate without a head (kind 2)
 *                       [ to:u64le epoch:u64le position+1:u64le ]  for a truncate with the head of config(to) (kind 4)
 *                       [ length:u32le bytes ]  for a config entry (kind 3; its stored bytes, config-codec.ts)
 *                                               nothing for a nop (kind 0; a tombstone is a nop)
 *
 * together with the count of positions covered and the range itself
 * ({ from, through, count, crc }): the encoding is unambiguous (the kind
 * says what follows, an append carries its length), so two different
 * sequences of chosen values give different byte streams.
 *
 * Only LEARNED positions count, and only positions at or above the store's
 * beginning: a digest stops before the first position that is not learned
 * (`unlearned`: past the learned prefix), that is held but unreadable
 * (`lost`: a corrupted record, repaired by the storage layer, not a
 * divergence), or at once when `from` lies below the beginning (`begin`:
 * truncated there). A digest is also cut at a bound of positions and entry
 * bytes read (`bound`): the caller goes on from `through` with `seed` set to
 * the crc so far, and the chained crc is the same as one computed whole
 * (CRC32C continues from any state). Callers compare only ranges that both
 * sides covered (src/server/divergence-compare.ts).
 *
 * Reads are synchronous (StoreView), so a caller bounds each call (a few
 * MiB) and yields to the event loop between calls.
 */
import { crc32c } from '@node-rs/crc32';
import type { StoreView } from '../core/store.js';
import { encodeConfig } from './config-codec.js';
import type { Action, Position } from '../core/types.js';

/** Why a digest ended where it did. */
export type DigestStop =
  /** It covered the whole range asked for. */
  | 'end'
  /** It reached its bound of positions or bytes: continue from `through` with `seed: crc`. */
  | 'bound'
  /** Position `through` is not learned here (past the learned prefix). */
  | 'unlearned'
  /** Position `through` is held but its record is corrupted (storage repairs it from peers). */
  | 'lost'
  /** `from` is below this store's beginning (truncated here): nothing was covered. */
  | 'begin';

export const DIGEST_STOPS: readonly DigestStop[] = ['end', 'bound', 'unlearned', 'lost', 'begin'];

export interface RangeDigest {
  /** The first position covered. */
  readonly from: Position;
  /** One past the last position covered: the digest is of [from, through). */
  readonly through: Position;
  /** Positions covered (through - from: every covered position is learned). */
  readonly count: number;
  /** CRC32C of the covered positions' encoding, continued from the seed. */
  readonly crc: number;
  /** Entry bytes read. */
  readonly bytes: number;
  readonly stop: DigestStop;
}

export interface DigestBounds {
  /** The crc to continue from (the crc of the range before `from`); default 0. */
  readonly seed?: number;
  /** Most positions covered in one call. */
  readonly positionsMax?: number;
  /** Entry bytes read in one call, after which it stops (at least one position is always covered). */
  readonly bytesMax?: number;
}

/** Defaults for one call: small enough to keep the event loop responsive (a few ms from the page cache). */
export const DIGEST_POSITIONS_MAX = 16 * 1024;
export const DIGEST_BYTES_MAX = 4 * 1024 * 1024;

const KIND_NOP = 0;
const KIND_APPEND = 1;
const KIND_TRUNCATE = 2;
/** A config entry: u32 length, then its stored bytes (config-codec.ts). None exists before reconfiguration's later steps. */
const KIND_CONFIG = 3;
/** A truncate carrying the head of config(to) (R14): two copies that differ only in the head must differ. */
const KIND_TRUNCATE_HEAD = 4;
/** Positions read per StoreView.readActions call. */
const READ_BATCH = 512;
/** Appends up to this size are copied into the scratch buffer; larger ones are checksummed in place. */
const COPY_MAX = 4096;
const SCRATCH_BYTES = 64 * 1024;

/** Streams the encoding of positions into a running CRC32C, batching small pieces into one native call. */
class DigestStream {
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private used = 0;
  constructor(private crc: number) {}

  private room(n: number): void {
    if (this.used + n > SCRATCH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.used === 0) return;
    this.crc = crc32c(this.scratch.subarray(0, this.used), this.crc);
    this.used = 0;
  }

  private u64(n: number): void {
    this.scratch.writeUInt32LE(n % 0x1_0000_0000, this.used);
    this.scratch.writeUInt32LE(Math.floor(n / 0x1_0000_0000), this.used + 4);
    this.used += 8;
  }

  add(position: Position, action: Action): void {
    this.room(8 + 1 + 8);
    this.u64(position);
    switch (action.kind) {
      case 'nop':
        this.scratch[this.used++] = KIND_NOP;
        return;
      case 'truncate':
        if (action.config === undefined) {
          this.scratch[this.used++] = KIND_TRUNCATE;
          this.u64(action.to);
          return;
        }
        this.room(16);
        this.scratch[this.used++] = KIND_TRUNCATE_HEAD;
        this.u64(action.to);
        this.u64(action.config.epoch);
        this.u64(action.config.position + 1); // the head of epoch 0 sits at -1
        return;
      case 'config': {
        const bytes = encodeConfig(action.config);
        this.room(1 + 4);
        this.scratch[this.used++] = KIND_CONFIG;
        this.scratch.writeUInt32LE(bytes.length, this.used);
        this.used += 4;
        this.flush();
        this.crc = crc32c(bytes, this.crc);
        return;
      }
      case 'append': {
        const data = action.data;
        this.room(1 + 4);
        this.scratch[this.used++] = KIND_APPEND;
        this.scratch.writeUInt32LE(data.byteLength, this.used);
        this.used += 4;
        if (data.byteLength <= COPY_MAX) {
          this.room(data.byteLength);
          this.scratch.set(data, this.used);
          this.used += data.byteLength;
        } else {
          this.flush();
          this.crc = crc32c(data, this.crc);
        }
      }
    }
  }

  value(): number {
    this.flush();
    return this.crc >>> 0;
  }
}

/**
 * The digest of the learned positions of [from, to) on `store`, from `from`
 * up to where it stopped (see DigestStop). Never reads more than the bounds
 * allow, however large the range asked for.
 */
export function digestRange(store: StoreView, from: Position, to: Position, bounds: DigestBounds = {}): RangeDigest {
  const seed = (bounds.seed ?? 0) >>> 0;
  const positionsMax = Math.max(1, bounds.positionsMax ?? DIGEST_POSITIONS_MAX);
  const bytesMax = Math.max(1, bounds.bytesMax ?? DIGEST_BYTES_MAX);
  if (to <= from) return { from, through: from, count: 0, crc: seed, bytes: 0, stop: 'end' };
  if (from < store.begin()) return { from, through: from, count: 0, crc: seed, bytes: 0, stop: 'begin' };
  const learnedEnd = store.learnedThrough() + 1;
  // The last position this call may cover (exclusive), and why it would stop there.
  let limit = to;
  let limitStop: DigestStop = 'end';
  if (learnedEnd < limit) {
    limit = learnedEnd;
    limitStop = 'unlearned';
  }
  if (from + positionsMax < limit) {
    limit = from + positionsMax;
    limitStop = 'bound';
  }
  const stream = new DigestStream(seed);
  let bytes = 0;
  let p = from;
  while (p < limit) {
    const n = Math.min(READ_BATCH, limit - p);
    const batch: Position[] = new Array<Position>(n);
    for (let i = 0; i < n; i++) batch[i] = p + i;
    // Every position in [begin, learnedThrough] has a learned slot (PositionIndex invariant); check anyway.
    for (let i = 0; i < n; i++) {
      if (store.slot(batch[i]!)?.learned !== true) {
        batch.length = i;
        limit = p + i;
        limitStop = 'unlearned';
        break;
      }
    }
    const actions = store.readActions !== undefined ? store.readActions(batch) : batch.map((q) => store.action(q));
    for (let i = 0; i < batch.length; i++) {
      const a = actions[i];
      if (a === 'lost') return { from, through: p, count: p - from, crc: stream.value(), bytes, stop: 'lost' };
      // A learned slot without an action cannot be (the index keeps the kind of learned slots); treat it as unreadable.
      if (a === undefined) return { from, through: p, count: p - from, crc: stream.value(), bytes, stop: 'lost' };
      stream.add(p, a);
      p++;
      if (a.kind === 'append') {
        bytes += a.data.byteLength;
        if (bytes >= bytesMax && p < limit) return { from, through: p, count: p - from, crc: stream.value(), bytes, stop: 'bound' };
      }
    }
  }
  return { from, through: p, count: p - from, crc: stream.value(), bytes, stop: limitStop };
}
