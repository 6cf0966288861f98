// Codecs (issue 18): `connect(addrs, { codec })` gives typed writers and entries over a real replica; and entries
// do not pin the reply they came in (ownBytes): a 10-byte entry keeps 10 bytes alive, not the socket chunk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogClient, type LogEntry } from '../../src/client/log-client.js';
import { EntryDecodeError, json, ownBytes, utf8 } from '../../src/client/codec.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { startReplica, type Replica } from '../../src/server/replica-server.js';
import { removeTempDirs, tempDir } from '../storage/tmp-dirs.js';

const quiet = { info() {}, warn() {}, error() {} };
let replica: Replica;

test.before(async () => {
  replica = await startReplica({ id: 1, dir: tempDir(), listen: '127.0.0.1:0', members: { 1: '127.0.0.1:0' }, logger: quiet });
  await replica.ready;
});
test.after(async () => {
  await replica.stop();
  removeTempDirs();
});

interface Event {
  readonly kind: 'add' | 'sub';
  readonly n: number;
}

test('json<T>(): a writer appends values, and read, tail and tailBatches return them decoded', async () => {
  await using log = await LogClient.connect([replica.address], { codec: json<Event>(), waitForQuorum: true, connectTimeoutMs: 20_000 });
  await using w = await log.writer();
  const a = await w.append({ kind: 'add', n: 2 });
  const b = await w.append({ kind: 'sub', n: 1 });
  assert.deepEqual((await log.read(a, b)).map((e) => e.data), [{ kind: 'add', n: 2 }, { kind: 'sub', n: 1 }]);
  const batch = await log.tailBatches(a).next();
  assert.deepEqual(batch.value?.entries.map((e) => e.data.n), [2, 1]);
  const tail = log.tail(b);
  assert.deepEqual((await tail.next()).value, { position: b, data: { kind: 'sub', n: 1 } });
  await tail.return();
});

test('utf8(): strings in, strings out; raw clients see the same bytes', async () => {
  await using text = await LogClient.connect([replica.address], { codec: utf8(), waitForQuorum: true, connectTimeoutMs: 20_000 });
  await using raw = await LogClient.connect([replica.address], { waitForQuorum: true, connectTimeoutMs: 20_000 });
  await using w = await text.writer();
  const p = await w.append('héllo');
  assert.equal((await text.read(p, p))[0]!.data, 'héllo');
  const bytes: LogEntry = (await raw.read(p, p))[0]!;
  assert.deepEqual([...bytes.data], [...Buffer.from('héllo', 'utf8')]);
});

test('a value the codec cannot encode is refused before anything is written', async () => {
  await using log = await LogClient.connect([replica.address], { codec: json<unknown>(), waitForQuorum: true, connectTimeoutMs: 20_000 });
  await using w = await log.writer();
  const before = await log.ending();
  await assert.rejects(w.append(undefined), (err: unknown) => err instanceof InvalidArgumentError && /encode/.test(err.message));
  const cyclic: { self?: unknown } = {};
  cyclic.self = cyclic;
  await assert.rejects(w.append(cyclic), InvalidArgumentError);
  assert.equal(w.state, 'elected', 'the writer goes on');
  assert.equal(await log.ending(), before, 'nothing was written');
  const bad = await LogClient.connect([replica.address], { codec: { encode: () => 'not bytes' as unknown as Uint8Array, decode: (b) => b } });
  await using badW = await bad.writer();
  await assert.rejects(badW.append(new Uint8Array(1)), /not a Uint8Array/);
  await bad.close();
});

test('an entry the codec cannot decode fails the read with EntryDecodeError, naming its position', async () => {
  await using raw = await LogClient.connect([replica.address], { waitForQuorum: true, connectTimeoutMs: 20_000 });
  await using events = await LogClient.connect([replica.address], { codec: json<Event>(), waitForQuorum: true, connectTimeoutMs: 20_000 });
  let p: number;
  {
    await using w = await raw.writer();
    p = await w.append('{not json');
  }
  await assert.rejects(events.read(p, p), (err: unknown) => {
    assert.ok(err instanceof EntryDecodeError);
    assert.equal(err.position, p);
    assert.equal(Buffer.from(err.data).toString(), '{not json');
    assert.ok(err.cause instanceof SyntaxError);
    return true;
  });
  await assert.rejects(events.tail(p).next(), EntryDecodeError);
});

test('raw entries do not pin the reply: small ones have a buffer of their own, large ones at most twice their size', async () => {
  await using log = await LogClient.connect([replica.address], { waitForQuorum: true, connectTimeoutMs: 20_000 });
  await using w = await log.writer();
  const small = await Promise.all(Array.from({ length: 50 }, (_, i) => w.append(`entry ${String(i).padStart(4, '0')}`)));
  const large = await w.append(new Uint8Array(300_000).fill(7));
  const entries = await log.read(small[0]!, large);
  assert.equal(entries.length, 51);
  for (const e of entries.slice(0, 50)) {
    assert.equal(e.data.byteLength, 10);
    assert.equal(e.data.buffer.byteLength, 10, 'a 10-byte entry keeps 10 bytes alive');
    assert.ok(Buffer.isBuffer(e.data), 'still a Buffer, as before');
  }
  const big = entries[50]!.data;
  assert.equal(big.byteLength, 300_000);
  assert.ok(big.buffer.byteLength <= 2 * big.byteLength, `a large entry keeps at most twice its size (${big.buffer.byteLength})`);
  const [first] = await (async () => {
    for await (const b of log.tailBatches(small[0]!)) return b.entries;
    return [];
  })();
  assert.equal(first!.data.buffer.byteLength, 10, 'tails copy too');
});

test('ownBytes: the rule itself', () => {
  const chunk = Buffer.alloc(1000, 1);
  const small = ownBytes(chunk.subarray(10, 20));
  assert.equal(small.buffer.byteLength, 10);
  assert.deepEqual([...small], Array(10).fill(1));
  const half = chunk.subarray(0, 500);
  assert.equal(ownBytes(half), half, 'half of its buffer or more: handed on as it is');
  const under = chunk.subarray(0, 499);
  assert.notEqual(ownBytes(under), under);
  assert.equal(ownBytes(new Uint8Array(0)).byteLength, 0);
});
