/**
 * replog's public library interface (see ../shared/design/interfaces.md in the
 * project's design notes and the README).
 */
export * from './client/index.js';
export { startReplica, type Replica, type ReplicaOptions, type ReplicaEvents } from './server/replica-server.js';
export type { StorageEvent } from './server/replica-host.js';
export { AddressInUseError } from './server/replica-errors.js';
export {
  StorageError,
  StorageFullError,
  StorageIOError,
  StorageFatalError,
  DataDirLockedError,
  DataDirMismatchError,
  DataDirUnsafeError,
} from './storage/errors.js';
export type { Status } from './core/types.js';
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
