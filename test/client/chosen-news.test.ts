// A tail on the client whose writer appends is woken when the position is chosen, not at its next poll (issue 18).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChosenNews } from '../../src/client/chosen-news.js';

const never = new AbortController().signal;
const HOUR = 3_600_000;

test('a waiting tail wakes when a position at or above its cursor is chosen, not for one below', async () => {
  const news = new ChosenNews();
  let woke = false;
  const waiting = news.wait(5, news.mark, HOUR, never).then(() => (woke = true));
  news.chosen(4);
  await new Promise((r) => setImmediate(r));
  assert.equal(woke, false);
  news.chosen(5);
  await waiting;
  assert.equal(woke, true);
});

test('news since the mark wakes at once; news the read already saw does not (no busy loop)', async () => {
  const news = new ChosenNews();
  news.chosen(9);
  await news.wait(7, 3, HOUR, never); // chosen after the mark 3: the read may have missed it
  const ctl = new AbortController();
  let woke = false;
  const waiting = news.wait(7, news.mark, HOUR, ctl.signal).then(() => (woke = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(woke, false, 'the read after mark 9 saw everything through 9');
  ctl.abort();
  await waiting;
});
