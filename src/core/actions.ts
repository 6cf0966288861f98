/** Small pure helpers over actions. */
import { sameConfiguration } from './membership.js';
import type { Action } from './types.js';

export const NOP: Action = Object.freeze({ kind: 'nop' });
export const TOMBSTONE: Action = Object.freeze({ kind: 'nop', tombstone: true });

/** Byte-for-byte equality of two actions (a tombstone equals any NOP). */
export function actionsEqual(a: Action, b: Action): boolean {
  switch (a.kind) {
    case 'nop':
      return b.kind === 'nop';
    case 'truncate':
      return b.kind === 'truncate' && a.to === b.to;
    case 'append':
      return b.kind === 'append' && bytesEqual(a.data, b.data);
    case 'config':
      return b.kind === 'config' && sameConfiguration(a.config, b.config);
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Entry bytes an action carries (for batch and memory bounds; a config entry's few hundred bytes are not entry bytes). */
export function actionBytes(a: Action): number {
  return a.kind === 'append' ? a.data.byteLength : 0;
}

export function describeAction(a: Action): string {
  switch (a.kind) {
    case 'nop':
      return a.tombstone ? 'NOP(tombstone)' : 'NOP';
    case 'truncate':
      return `TRUNCATE(${a.to})`;
    case 'append':
      return `APPEND(${a.data.byteLength}B)`;
    case 'config':
      return `CONFIG(epoch ${a.config.epoch})`;
  }
}
