/**
 * The process's limit on open file descriptors (the soft RLIMIT_NOFILE), read
 * from /proc/self/limits: Node has no getrlimit. Undefined where it cannot be
 * read (not Linux): the listener then keeps its configured bound.
 */
import { readFileSync } from 'node:fs';

export function openFilesLimit(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (m === null || m[1] === 'unlimited') return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
