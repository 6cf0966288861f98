/**
 * replog's public library interface (see ../shared/design/interfaces.md in the
 * project's design notes and the README).
 */
export { LogClient, DEFAULT_ADDRESSES, type LogEntry, type LogClientOptions, type Configuration } from './client/log-client.js';
export type { CallOptions } from './client/deadline.js';
export type { Logger } from './net/logger.js';
export type {
  LogClientEvents,
  ConnectEvent,
  DisconnectEvent,
  ElectionEvent,
  FencedEvent,
  RetransmitEvent,
  SlowOperationEvent,
} from './client/events.js';
export type { TailBatch, TailOptions } from './client/tail.js';
export { Writer, type WriterState, type Reelection, type SettledWrite } from './client/writer.js';
export { startReplica, type Replica, type ReplicaOptions } from './server/replica-server.js';
export {
  ReplogError,
  WriterFencedError,
  NoQuorumError,
  WriterInDoubtError,
  type WriteOutcome,
  type ErrorCode,
  TruncatedError,
  ClosedError,
  InvalidArgumentError,
  AbortedError,
  TimeoutError,
} from './core/errors.js';
export {
  StorageError,
  StorageFullError,
  StorageIOError,
  StorageFatalError,
  DataDirLockedError,
  DataDirMismatchError,
  DataDirUnsafeError,
} from './storage/errors.js';
export type { Position, Status } from './core/types.js';
export {
  StateStore,
  Variable,
  CompactedError,
  StateLostError,
  StateFormatError,
  StateReadOnlyError,
  type StateStoreOptions,
  type KeyValue,
  type TxnRequest,
  type TxnResult,
  type WriteResult,
  type DeleteResult,
  type WatchBatch,
  type WatchEvent,
} from './state/index.js';
