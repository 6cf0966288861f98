/**
 * Codecs: how a client turns the application's values into entry bytes and
 * back (`LogClient.connect(addrs, { codec: json<Event>() })` gives a
 * `Writer<Event>` and `LogEntry<Event>`). Without one, entries are raw bytes.
 *
 * Also the rule for raw entries' memory: an entry decoded from a reply is a
 * view into the socket chunk it came in (src/net/codec.ts, zero copy), so a
 * 10-byte entry kept by the application would keep the whole chunk alive.
 * `ownBytes` copies an entry out when its buffer is more than twice its size.
 */
import { ReplogError } from '../core/errors.js';
import type { Position } from '../core/types.js';

/**
 * Turns values of type `T` into entry bytes and back. `encode` runs in
 * `append()` (an exception there rejects the append with
 * InvalidArgumentError; nothing is written); `decode` runs on every entry a
 * read or a tail returns (an exception there rejects it with
 * EntryDecodeError). `decode` gets bytes of the entry's own (see ownBytes):
 * it may keep them.
 */
export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/**
 * What `append()` takes for entries of type `T`: the value itself, or for
 * raw entries (no codec) bytes or a string (written as UTF-8), as before
 * codecs existed.
 */
export type Appendable<T> = [Uint8Array] extends [T] ? ([T] extends [Uint8Array] ? Uint8Array | string : T) : T;

/** Entries as JSON text (UTF-8). `T` is the application's promise about what the log holds: decode does not check it. */
export function json<T = unknown>(): Codec<T> {
  return {
    encode(value: T): Uint8Array {
      const text = JSON.stringify(value);
      // JSON.stringify(undefined), of a function or a symbol, is undefined: not an entry.
      if (text === undefined) throw new TypeError(`a ${typeof value} is not JSON`);
      return Buffer.from(text, 'utf8');
    },
    decode(bytes: Uint8Array): T {
      return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as T;
    },
  };
}

/** Entries as UTF-8 text. Bytes that are not UTF-8 decode with U+FFFD in their place. */
export function utf8(): Codec<string> {
  return {
    encode(value: string): Uint8Array {
      if (typeof value !== 'string') throw new TypeError(`a ${typeof value} is not a string`);
      return Buffer.from(value, 'utf8');
    },
    decode(bytes: Uint8Array): string {
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    },
  };
}

/** An entry the client's codec could not decode. The read or tail that met it rejects; `position` and `data` say which and what. */
export class EntryDecodeError extends ReplogError {
  constructor(
    message: string,
    /** The entry's position: a tail may go on from `position + 1`. */
    readonly position: Position,
    /** The entry's bytes. */
    readonly data: Uint8Array,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The entry's bytes, in a buffer of their own when the one they sit in is
 * more than twice their size: an entry never keeps alive more than twice its
 * own bytes. Small entries (most of them) are copied, each into an
 * ArrayBuffer of exactly its size (not Node's shared 8 KiB pool, which would
 * pin a slab in turn): 0.2 to 1.5 us each, mostly allocation and GC
 * (bench/entry-copy.ts). An entry that fills most of its buffer (a large one
 * alone in its frame) is handed on as it is, since copying it would free
 * little. A Buffer either way, as before.
 */
export function ownBytes(view: Uint8Array): Uint8Array {
  if (view.buffer.byteLength <= 2 * view.byteLength) return view;
  // allocUnsafeSlow: an ArrayBuffer of exactly this size, outside the pool (and faster than Buffer.from(new ArrayBuffer)).
  const own = Buffer.allocUnsafeSlow(view.byteLength);
  own.set(view);
  return own;
}

/** The entry at `position` as the application sees it: its own bytes, decoded by the codec if there is one. */
export function decodeEntry<T>(codec: Codec<T> | undefined, position: Position, view: Uint8Array): T {
  const bytes = ownBytes(view);
  if (codec === undefined) return bytes as T;
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw new EntryDecodeError(`the entry at position ${position} (${bytes.byteLength} bytes) does not decode: ${(err as Error)?.message ?? String(err)}`, position, bytes, { cause: err });
  }
}
