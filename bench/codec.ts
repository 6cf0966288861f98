/**
 * Micro-benchmark of the wire codec: encode + decode of one write message,
 * for 1 append and for 256 appends of 256 B, with the hand-rolled binary
 * codec (src/net/codec.ts) and, for comparison, msgpackr (pure JS here: its
 * native accelerator did not build). Prints ns/message and MB/s of payload.
 *
 *   npx tsc -p . && node dist/bench/codec.js
 */
import { Packr, isNativeAccelerationEnabled } from 'msgpackr';
import type { Message } from '../src/core/types.js';
import { decodeMessage, encodeFrame } from '../src/net/codec.js';

function write(appends: number, bytes: number): Message {
  const actions = Array.from({ length: appends }, (_, i) => ({ kind: 'append' as const, data: new Uint8Array(bytes).fill(i & 0xff) }));
  const named = [
    { id: 1, generation: 0, disk: 0 },
    { id: 2, generation: 0, disk: 0 },
    { id: 3, generation: 0, disk: 0 },
  ];
  return { type: 'write', rid: 12345, proposal: 7_000_001, from: 1_000_000, actions, named };
}

const packr = new Packr({ useRecords: false });

const codecs: Record<string, { roundTrip(m: Message): number }> = {
  binary: {
    roundTrip(m) {
      const f = encodeFrame(m);
      decodeMessage(f.subarray(4));
      return f.length;
    },
  },
  msgpackr: {
    roundTrip(m) {
      const b = packr.pack(m);
      packr.unpack(b);
      return b.length;
    },
  },
};

function measure(roundTrip: (m: Message) => number, m: Message, minMs: number): { nsPerMsg: number; bytes: number } {
  let bytes = 0;
  for (let i = 0; i < 2000; i++) bytes = roundTrip(m); // warm up the JIT
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsedNs = 0;
  while (elapsedNs < minMs * 1e6) {
    for (let i = 0; i < 200; i++) roundTrip(m);
    n += 200;
    elapsedNs = Number(process.hrtime.bigint() - start);
  }
  return { nsPerMsg: elapsedNs / n, bytes };
}

const minMs = Number(process.env.BENCH_MS ?? 1000);
console.log(`node ${process.version}, msgpackr native acceleration: ${isNativeAccelerationEnabled}`);
console.log('codec      message             frame B   ns/msg (enc+dec)   entry MB/s');
for (const [label, m, entryBytes] of [
  ['write 1x256B', write(1, 256), 256],
  ['write 256x256B', write(256, 256), 256 * 256],
] as const) {
  for (const [name, c] of Object.entries(codecs)) {
    const r = measure(c.roundTrip, m, minMs);
    const mbs = (entryBytes / r.nsPerMsg) * 1e3; // bytes/ns * 1e9 / 1e6
    console.log(`${name.padEnd(10)} ${label.padEnd(18)} ${String(r.bytes).padStart(8)} ${r.nsPerMsg.toFixed(0).padStart(18)} ${mbs.toFixed(0).padStart(12)}`);
  }
}
