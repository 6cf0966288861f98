import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestTracker, type TimerApi } from '../../src/net/request-tracker.js';
import { backoffDelayMs } from '../../src/net/backoff.js';
import { parseAddress } from '../../src/net/address.js';

/** Timers driven by hand: advance(ms) fires what is due. */
function manualTimers(): TimerApi & { advance(ms: number): void } {
  let now = 0;
  let next = 1;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    setTimeout(fn, ms) {
      due.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimeout(h) {
      due.delete(h as number);
    },
    advance(ms) {
      now += ms;
      for (const [h, t] of [...due]) if (t.at <= now && due.delete(h)) t.fn();
    },
  };
}

test('request tracker: a reply settles once and stops the timeout', () => {
  const timers = manualTimers();
  const t = new RequestTracker<string>(timers);
  const rid = t.nextRid();
  const got: string[] = [];
  t.track(rid, 100, (r) => got.push(r), () => got.push('timeout'));
  assert.equal(t.settle(rid, 'a'), true);
  assert.equal(t.settle(rid, 'b'), false, 'a duplicate reply is not delivered');
  timers.advance(1000);
  assert.deepStrictEqual(got, ['a']);
  assert.equal(t.size, 0);
});

test('request tracker: a request without reply times out, and a late reply is ignored', () => {
  const timers = manualTimers();
  const t = new RequestTracker<string>(timers);
  const got: string[] = [];
  const rid = t.nextRid();
  t.track(rid, 100, (r) => got.push(r), () => got.push('timeout'));
  timers.advance(99);
  assert.deepStrictEqual(got, []);
  timers.advance(1);
  assert.deepStrictEqual(got, ['timeout']);
  assert.equal(t.settle(rid, 'late'), false);
});

test('request tracker: cancelAll forgets everything without calling back', () => {
  const timers = manualTimers();
  const t = new RequestTracker<number>(timers);
  for (let i = 0; i < 5; i++) t.track(t.nextRid(), 10, () => assert.fail('reply'), () => assert.fail('timeout'));
  assert.equal(t.cancelAll(), 5);
  timers.advance(100);
  assert.equal(t.size, 0);
});

test('backoff: delays grow, are capped and jittered within [d/2, d]', () => {
  const opts = { initialMs: 10, maxMs: 1000 };
  assert.equal(backoffDelayMs(0, opts, () => 0), 5);
  assert.equal(backoffDelayMs(0, opts, () => 0.999999) <= 10, true);
  assert.equal(backoffDelayMs(3, opts, () => 0), 40);
  assert.equal(backoffDelayMs(1000, opts, () => 0), 500);
  assert.ok(backoffDelayMs(1000, opts, () => 0.999999) <= 1000);
});

test('address: host:port and [v6]:port parse; junk is rejected', () => {
  assert.deepStrictEqual(parseAddress('127.0.0.1:7001'), { host: '127.0.0.1', port: 7001 });
  assert.deepStrictEqual(parseAddress('[::1]:7001'), { host: '::1', port: 7001 });
  for (const bad of ['', 'host', ':7001', 'h:0', 'h:70000', 'h:x']) assert.throws(() => parseAddress(bad), /bad address/);
});
