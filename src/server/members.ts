/**
 * Parsing and checking the membership flags: `1=host:port,2=host:port,...`.
 * The cluster id, unless given, is derived from the membership, so that every
 * replica started with the same --members agrees on it without coordination.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../core/errors.js';
import { parseAddress } from '../net/address.js';
import { isMemberId, MEMBER_ID_MAX } from '../core/membership.js';
import type { Member } from '../core/types.js';

export type Members = Readonly<Record<number, string>>;

export function parseMembers(text: string): Members {
  const out: Record<number, string> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)=(.+)$/.exec(part);
    if (m === null) throw new InvalidArgumentError(`bad member '${part}': expected ID=HOST:PORT, e.g. 1=127.0.0.1:7001`);
    const id = Number(m[1]);
    if (!isMemberId(id)) throw new InvalidArgumentError(`bad member id '${m[1]}': ids are integers from 1 to ${MEMBER_ID_MAX}`);
    if (out[id] !== undefined) throw new InvalidArgumentError(`member id ${id} appears twice`);
    checkAddress(m[2]!);
    out[id] = m[2]!;
  }
  if (Object.keys(out).length === 0) throw new InvalidArgumentError('--members lists no member');
  return out;
}

export function checkAddress(address: string): void {
  try {
    parseAddress(address);
  } catch (err) {
    throw new InvalidArgumentError(`bad address '${address}': expected HOST:PORT`, { cause: err });
  }
}

export function memberIds(members: Members): number[] {
  return Object.keys(members).map(Number).sort((a, b) => a - b);
}

/** A stable id for a membership: the same --members give the same id on every replica. */
export function clusterIdFor(members: Members): string {
  const canonical = memberIds(members).map((id) => `${id}=${members[id]}`).join(',');
  return 'c-' + createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** The members as a list by ascending id (the shape configurations use). */
export function memberList(members: Members): Member[] {
  return memberIds(members).map((id) => ({ id, address: members[id]! }));
}
