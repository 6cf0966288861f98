/**
 * `replog/client`: the client library alone. It loads no server code, no
 * storage and none of the package's dependencies (pino, prom-client, the
 * native CRC addon): an application that only reads and writes a replog
 * cluster imports this. The `replog` entry exports all of it too, with the
 * embedded replica and the state store.
 */
export { LogClient, DEFAULT_ADDRESSES, type LogEntry, type LogClientOptions, type Configuration, type MemberIds } from './log-client.js';
export { CAUGHT_UP_SLACK, type MemberChangeOptions, type LearnerLag, type MemberStatus } from './members.js';
export { Writer, type WriterState, type Reelection, type SettledWrite } from './writer.js';
export type { CallOptions } from './deadline.js';
export type { TlsOptions } from '../net/tls.js';
export { json, utf8, EntryDecodeError, type Codec, type Appendable } from './codec.js';
export type { TailBatch, TailOptions } from './tail.js';
export type { Logger } from '../net/logger.js';
export type {
  LogClientEvents,
  ConnectEvent,
  DisconnectEvent,
  ElectionEvent,
  FencedEvent,
  RetransmitEvent,
  SlowOperationEvent,
  ChangeEvent,
} from './events.js';
export {
  ReplogError,
  WriterFencedError,
  NoQuorumError,
  WriterInDoubtError,
  TruncatedError,
  ClosedError,
  InvalidArgumentError,
  AbortedError,
  TimeoutError,
  ChangeRefusedError,
  ConfigChangedError,
  type WriteOutcome,
  type ErrorCode,
} from '../core/errors.js';
export type { Position } from '../core/types.js';
export { ConnectionRefusedError, type ConnectionRefusal } from '../net/errors.js';
