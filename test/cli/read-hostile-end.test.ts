// `replog read` without --to reads up to log.ending(), which is only an upper bound: the highest end any
// member of a quorum claimed. Two members of three that vouch for each other in the reply gate (their
// replies judged before the honest member's, see the last test of test/server/hostile-replica.test.ts) make it 2^40, and the
// command then walked [0, 2^40] in chunks of 4096 positions: 2^28 reads, each a network round, at 100% CPU
// for about a day (the hang of hostile-replica.test.ts's 'the CLI with two replicas sending an accepted
// value at 2^40'). The command must stop where a read shows the log holds nothing more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient, type LogEntry } from '../../src/client/log-client.js';
import { readCommand } from '../../src/cli/read.js';

const HELD = 20; // the log holds positions 0..20
const HOSTILE_END = 2 ** 40;
const READS_MAX = 1000; // far more than an honest read of 21 entries needs

test('replog read stops where the log ends, not at an end of 2^40 that two members vouched for', async () => {
  let reads = 0;
  const entries = (from: number, to: number): LogEntry[] => {
    if (++reads > READS_MAX) throw new Error(`read ${reads} times: walking towards the claimed end ${HOSTILE_END}`);
    const out: LogEntry[] = [];
    for (let p = from; p <= Math.min(to, HELD); p++) out.push({ position: p, data: Buffer.from(`e${p}`) });
    return out;
  };
  const fake = {
    beginning: async () => 0,
    ending: async () => HOSTILE_END,
    read: async (from: number, to: number) => entries(from, to),
    // As LogClient: `through` is the last position resolved, below `to` once the log holds nothing more.
    readThrough: async (from: number, to: number) => ({ entries: entries(from, to), through: Math.min(to, HELD) }),
    close: async () => {},
  };
  const connect = LogClient.connect;
  const write = process.stdout.write;
  let printed = '';
  (LogClient as unknown as { connect: unknown }).connect = async () => fake;
  process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
  try {
    await readCommand({ log: '127.0.0.1:1', format: 'text' });
  } finally {
    (LogClient as unknown as { connect: unknown }).connect = connect;
    process.stdout.write = write;
  }
  assert.equal(printed.split('\n').filter(Boolean).length, HELD + 1, 'every entry printed');
  assert.ok(reads <= 2, `stopped after the read that showed the log's end (${reads} reads)`);
});
