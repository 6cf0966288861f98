/**
 * Maps bounded by recency, for what a replica learns from peers it does not know (R13's seeds and
 * strangers): a forged sender must not hold a place for good, so when the map is full the entry heard
 * from longest ago makes room.
 */
import { assert } from './assert.js';

/** Sets `key` in a map bounded to `max` entries: when full, the entry heard from longest ago makes room. */
export function keepRecent<K, V extends { readonly at: number }>(map: Map<K, V>, key: K, value: V, max: number): void {
  assert(max > 0, 'a bounded map holds at least one entry');
  if (!map.has(key) && map.size >= max) {
    let oldest: K | undefined;
    let oldestAt = Infinity;
    for (const [k, v] of map) {
      if (v.at < oldestAt) {
        oldest = k;
        oldestAt = v.at;
      }
    }
    map.delete(oldest!);
  }
  map.set(key, value);
}
