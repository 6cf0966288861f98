/**
 * `replog/server`: the embedded replica alone (startReplica, its options,
 * events and errors), for an application that runs a replica in its own
 * process. It loads the server's dependencies (pino, prom-client, the native
 * CRC and file-lock addons); `replog/client` loads none of them. The `replog`
 * entry exports all of this too.
 */
export { startReplica, type Replica, type ReplicaOptions, type ReplicaEvents } from './replica-server.js';
export type { StorageEvent } from './replica-host.js';
export { AddressInUseError } from './replica-errors.js';
export {
  StorageError,
  StorageFullError,
  StorageIOError,
  StorageFatalError,
  DataDirLockedError,
  DataDirMismatchError,
  DataDirUnsafeError,
} from '../storage/errors.js';
export { ReplogError, InvalidArgumentError, type ErrorCode } from '../core/errors.js';
export type { Status } from '../core/types.js';
export type { Logger } from '../net/logger.js';
export type { TlsOptions } from '../net/tls.js';
