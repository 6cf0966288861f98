// Issue 20, item 3: tails outlive a loaded, healthy cluster. One client appends
// with 64 in flight and tails the log, two `replog read --follow` processes
// follow it, and rounds of concurrent full `replog read`s run over the growing
// log. Before the fix, a replica served the full reads' rounds ahead of
// everything else and held megabytes per reply; with every replica up, the
// cluster stalled for seconds and the tails ended with NO_QUORUM, short of
// what was acknowledged. Now every tail sees exactly the acknowledged entries,
// in order, and nothing fails. It took 44 s in the full suite on a 2-core machine
// with a load average of 15 (most of it appending under that load);
// TAIL_LOAD_ENTRIES (the log's size when the full reads start) runs it longer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient, type LogEntry } from '../../src/client/log-client.js';
import type { Writer } from '../../src/client/writer.js';
import { TestCluster, runCli, spawnCli, waitFor, type CliProcess, type CliResult } from './helpers.js';

const FULL_READS_AT = Number(process.env.TAIL_LOAD_ENTRIES ?? 10_000);
const IN_FLIGHT = 64;
const FULL_READS_AT_ONCE = 3;
const FULL_READ_ROUNDS = 2;

let cluster: TestCluster;
let log: LogClient | undefined;
const children: CliProcess[] = [];

before(async () => {
  cluster = await TestCluster.create(3);
  await cluster.startAll();
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await log?.close();
  await cluster.stop();
});

/** Appends `tail-load-${i}` with `inFlight` appends always in flight, until stop() or the first failure. */
function windowedAppends(w: Writer, inFlight: number) {
  const acked = new Map<number, string>();
  const failures: Error[] = [];
  let next = 0;
  let running = true;
  let pending = 0;
  let wake: (() => void) | undefined;
  const pump = (): void => {
    while (running && failures.length === 0 && pending < inFlight) {
      const data = `tail-load-${next++}`;
      pending++;
      w.append(data).then(
        (p) => acked.set(p, data),
        (err: Error) => failures.push(err),
      ).finally(() => {
        pending--;
        pump();
        if (pending === 0) wake?.();
      });
    }
  };
  pump();
  return {
    acked,
    failures,
    goneOnBy(n: number): boolean {
      if (failures.length > 0) throw new Error(`the writer failed: ${failures[0]!.stack}`);
      return acked.size >= n;
    },
    async stop(): Promise<void> {
      running = false;
      if (pending > 0) await new Promise<void>((res) => (wake = res));
    },
  };
}

/** The acknowledged entries as `position\tdata` lines, in position order. */
function expectedLines(acked: Map<number, string>): string[] {
  return [...acked.entries()].sort((a, b) => a[0] - b[0]).map(([p, d]) => `${p}\t${d}`);
}

test('a tail in the writing client and two `replog read --follow` see every acknowledged entry in order while full reads load the replicas', async () => {
  const addresses = cluster.addresses.join(',');
  log = await LogClient.connect(cluster.addresses);
  const w = await log.writer();
  const writes = windowedAppends(w, IN_FLIGHT);

  // The tail in the writing client.
  const tailed: string[] = [];
  let tailError: Error | undefined;
  const tailing = (async () => {
    try {
      for await (const e of log!.tail(0) as AsyncGenerator<LogEntry>) tailed.push(`${e.position}\t${Buffer.from(e.data).toString('utf8')}`);
    } catch (err) {
      tailError = err as Error;
    }
  })();
  const followers = [0, 1].map(() => spawnCli(['read', '--follow', '--log', addresses]));
  children.push(...followers);
  const healthy = (): void => {
    if (tailError !== undefined) throw new Error(`the tail failed: ${tailError.stack}`);
    for (const f of followers) if (f.exit() !== undefined) throw new Error(`a \`replog read --follow\` exited (${f.exit()}): ${f.stderr()}`);
  };

  // Rounds of concurrent full reads once the log is long enough, while the appends go on.
  await waitFor(`${FULL_READS_AT} appends`, () => writes.goneOnBy(FULL_READS_AT), 180_000);
  const fullReads: CliResult[] = [];
  for (let round = 0; round < FULL_READ_ROUNDS; round++) {
    fullReads.push(...(await Promise.all(Array.from({ length: FULL_READS_AT_ONCE }, () => runCli(['read', '--log', addresses])))));
    healthy();
  }
  await writes.stop();
  assert.deepEqual(writes.failures, [], 'no append failed');
  const expected = expectedLines(writes.acked);

  // Every tail reaches the last acknowledged entry, with every one before it, in order.
  const caughtUp = (lines: readonly string[]): boolean => {
    healthy();
    return lines.length >= expected.length;
  };
  await waitFor('the tail to catch up', () => caughtUp(tailed), 120_000);
  for (const [i, f] of followers.entries()) await waitFor(`follower ${i} to catch up`, () => caughtUp(f.lines), 120_000);
  assert.deepEqual(tailed, expected, 'the tail saw exactly the acknowledged entries, in order');
  for (const f of followers) assert.deepEqual(f.lines, expected, '`replog read --follow` printed exactly the acknowledged entries, in order');

  // Each full read printed a prefix of the log: acknowledged entries, in order, and no error.
  for (const r of fullReads) {
    assert.equal(r.code, 0, `a full read failed: ${r.stderr}`);
    const lines = r.stdout.split('\n').slice(0, -1);
    assert.ok(lines.length >= FULL_READS_AT, `a full read returned ${lines.length} entries, fewer than were acknowledged before it began`);
    assert.deepEqual(lines, expected.slice(0, lines.length), 'a full read printed the acknowledged entries in order');
  }

  await log.close();
  await tailing;
  assert.equal(tailError, undefined);
  await Promise.all(followers.map((f) => f.kill()));
});
