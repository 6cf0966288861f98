/**
 * What copying entries out of the reply costs (src/client/codec.ts, ownBytes):
 * a read reply of N entries of S bytes is decoded as the client decodes it,
 * then each entry's data is given a buffer of its own when it is smaller than
 * half the reply's. Prints ns per entry for decoding alone and for decoding
 * plus ownBytes, and the copies' share.
 *
 *   npx tsc -p . && node dist/bench/entry-copy.js      (or npm run bench -- entry-copy)
 */
import type { Message, Slot } from '../src/core/types.js';
import { decodeMessage, encodeFrame } from '../src/net/codec.js';
import { ownBytes } from '../src/client/codec.js';

function reply(count: number, bytes: number): Buffer {
  const slots: Slot[] = Array.from({ length: count }, (_, i) => ({
    position: 1000 + i,
    promised: 0,
    accepted: 7,
    learned: true,
    action: { kind: 'append', data: new Uint8Array(bytes).fill(i & 0xff) },
  }));
  const msg: Message = { type: 'readReply', rid: 1, status: 'VOTING', begin: 0, end: 1000 + count, learnedThrough: 1000 + count, slots, coveredThrough: 999 + count, lost: [], writerActive: false };
  return encodeFrame(msg).subarray(4);
}

/** ns per entry of `rounds` decodes (and copies, if `copy`), best of 5 runs. */
function measure(payload: Buffer, count: number, copy: boolean, rounds: number): number {
  let best = Infinity;
  let sink = 0;
  for (let run = 0; run < 5; run++) {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) {
      const m = decodeMessage(payload);
      if (m.type !== 'readReply') throw new Error('not a read reply');
      for (const s of m.slots) if (s.action?.kind === 'append') sink += (copy ? ownBytes(s.action.data) : s.action.data).byteLength;
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / rounds / count);
  }
  if (sink === 0) throw new Error('nothing read');
  return best;
}

console.log('entries x bytes     decode ns/entry  +ownBytes ns/entry  copied  copy share');
for (const [count, bytes] of [[4096, 10], [4096, 100], [1024, 1024], [64, 16 * 1024], [1, 600 * 1024]] as const) {
  const payload = reply(count, bytes);
  const rounds = Math.max(20, Math.round(2e7 / payload.byteLength));
  measure(payload, count, true, rounds); // warm-up
  const plain = measure(payload, count, false, rounds);
  const copied = measure(payload, count, true, rounds);
  const m = decodeMessage(payload) as Extract<Message, { type: 'readReply' }>;
  const first = m.slots[0]!.action;
  if (first?.kind !== 'append') throw new Error('not an append');
  const isCopied = ownBytes(first.data) !== first.data;
  console.log(
    `${`${count} x ${bytes}`.padEnd(18)}  ${plain.toFixed(0).padStart(15)}  ${copied.toFixed(0).padStart(18)}  ${(isCopied ? 'yes' : 'no').padStart(6)}  ${(((copied - plain) / copied) * 100).toFixed(0).padStart(9)}%`,
  );
}
