/**
 * CRC32C (Castagnoli) in plain JavaScript, for a few bytes at a time: the
 * record keys (about 20 bytes) are checksummed on every append, and a call
 * into the native @node-rs/crc32 costs more than the table walk for inputs
 * that small. Same results as `crc32c(buf, initial)` of @node-rs/crc32
 * (test/storage checks it); long inputs still go to the native one.
 */
const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** crc32c of buf[from, to), continuing from `initial` (the crc of what came before; 0 for none). */
export function crc32cSmall(buf: Uint8Array, from: number, to: number, initial = 0): number {
  let c = ~initial;
  for (let i = from; i < to; i++) c = TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
