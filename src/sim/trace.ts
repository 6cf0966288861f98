/**
 * The trace of a run: one short line per event, hashed as it is written (the
 * hash shows two runs were identical), the last lines kept for a failure
 * report, and every line printed in verbose mode.
 */
import { configurationKey } from '../core/membership.js';
import type { Action, Message } from '../core/types.js';

const decoder = new TextDecoder();

/** 'a:w1.1#7' for an append, 'nop', 'tomb', 't:12' for a truncate to 12. */
export function actionKey(a: Action): string {
  switch (a.kind) {
    case 'nop':
      return a.tombstone ? 'tomb' : 'nop';
    case 'truncate':
      return `t:${a.to}`;
    case 'append':
      return `a:${decoder.decode(a.data)}`;
    case 'config':
      return `c:${configurationKey(a.config)}`;
  }
}

/** A key under which every NOP (tombstone or not) is the same value, as actionsEqual says. */
export function valueKey(a: Action): string {
  return a.kind === 'nop' ? 'nop' : actionKey(a);
}

function actions(list: readonly Action[]): string {
  const keys = list.map(actionKey);
  return keys.length <= 4 ? keys.join(',') : `${keys.slice(0, 3).join(',')},..+${keys.length - 3}`;
}

/** One message, readable and short. */
export function describeMessage(m: Message): string {
  switch (m.type) {
    case 'promise':
      return m.from === undefined ? `promise#${m.rid} b${m.proposal}` : `promise#${m.rid} b${m.proposal} [${m.from},${m.to}]`;
    case 'write':
      return `write#${m.rid} b${m.proposal} @${m.from} ${actions(m.actions)}`;
    case 'commit':
      return `commit b${m.proposal} [${m.from},${m.to}]`;
    case 'learned':
      return `learned ${m.entries.map((e) => `${e.position}=${actionKey(e.action)}`).slice(0, 4).join(',')}`;
    case 'read':
      return `read#${m.rid} [${m.from},${m.to}]`;
    case 'recover':
      return `recover#${m.rid}`;
    case 'promiseReply':
      return `promiseReply#${m.rid} ${m.outcome} b${m.proposal} ${m.status} end${m.end} lt${m.learnedThrough} slots${m.slots.length}`;
    case 'writeReply':
      return `writeReply#${m.rid} ${m.outcome} b${m.proposal} @${m.from}+${m.count} g${m.generation}`;
    case 'readReply':
      return `readReply#${m.rid} ${m.status} begin${m.begin} end${m.end} slots${m.slots.length}`;
    case 'recoverReply':
      return `recoverReply#${m.rid} ${m.status} g${m.generation}`;
    case 'rejoin':
      return `rejoin#${m.rid} r${m.member} g${m.generation}`;
    case 'rejoinReply':
      return `rejoinReply#${m.rid} ${m.outcome} ${m.status} [${m.begin},${m.end}] g${m.generation}`;
    case 'config':
      return `config#${m.rid}`;
    case 'configReply':
      return `configReply#${m.rid} e${m.epoch} ${m.members.map((x) => x.id).join(',')}`;
    case 'peerState':
      return `peerState ${m.status} g${m.generation} end${m.end} lt${m.learnedThrough} b${m.promised}`;
  }
}

export class Trace {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  private readonly tail: string[] = [];
  private tailStart = 0;
  lines = 0;

  constructor(
    private readonly tailMax: number,
    private readonly echo?: (line: string) => void,
  ) {}

  /** Adds one line at simulated time `now`. */
  add(now: number, text: string): void {
    const line = `${String(now).padStart(6)}ms ${text}`;
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 13);
    }
    this.h1 = Math.imul(h1 ^ 10, 0x01000193);
    this.h2 = h2;
    this.lines++;
    if (this.tail.length < this.tailMax) this.tail.push(line);
    else {
      this.tail[this.tailStart] = line;
      this.tailStart = (this.tailStart + 1) % this.tailMax;
    }
    this.echo?.(line);
  }

  /** The hash of every line so far, 16 hex digits. */
  hash(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }

  /** The last lines, oldest first. */
  last(): string[] {
    return this.tail.slice(this.tailStart).concat(this.tail.slice(0, this.tailStart));
  }
}
