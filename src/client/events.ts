/**
 * What a LogClient tells the application as it happens (`log.on(name, fn)`),
 * for dashboards and logs: the client's own view, without polling it.
 */
import type { ReplogError } from '../core/errors.js';
import type { Position, ReplicaId } from '../core/types.js';
import type { MembershipChange } from '../core/membership.js';

/** A connection to a replica was made (its handshake named `replica`). */
export interface ConnectEvent {
  readonly replica: ReplicaId;
  readonly address: string;
}

/** A connection to a replica was lost; the client dials it again by itself. */
export interface DisconnectEvent {
  /** Absent if the handshake had not named the replica yet. */
  readonly replica?: ReplicaId;
  readonly address: string;
  readonly reason: string;
}

/** A writer of this client was elected: by `writer()`, or again by `reelect()`. */
export interface ElectionEvent {
  /** The position of its election marker. */
  readonly position: Position;
  readonly reelected: boolean;
}

/** A writer of this client was fenced by another writer: it can never write again. */
export interface FencedEvent {
  readonly error: ReplogError;
}

/** A request got no answer from some replicas in time and was sent to them again. */
export interface RetransmitEvent {
  /** The request's type: 'write', 'promise', 'read', ... */
  readonly type: string;
  readonly replica: ReplicaId;
  /** How often this request was sent again so far. */
  readonly count: number;
}

/** An operation is still pending after `slowOperationMs` (LogClientOptions): reported once, while it waits. */
export interface SlowOperationEvent {
  /** The call: 'append()', 'read()', 'writer()', ... */
  readonly operation: string;
  readonly elapsedMs: number;
}

/**
 * A writer of this client took a membership change that was asked through the replicas (`replog member
 * ...` in another process; docs/reconfiguration.md R12): it carries it out between its appends.
 */
export interface ChangeEvent {
  /** The request's id (the new configuration's changeId). */
  readonly id: string;
  readonly change: MembershipChange;
  /** The epoch the asker read: the change applies to that configuration only. */
  readonly ifEpoch: number;
}

/** The events of a LogClient, by name (`log.on('fenced', (e) => ...)`). */
export interface LogClientEvents {
  connect: [ConnectEvent];
  disconnect: [DisconnectEvent];
  election: [ElectionEvent];
  fenced: [FencedEvent];
  retransmit: [RetransmitEvent];
  slow: [SlowOperationEvent];
  change: [ChangeEvent];
}
