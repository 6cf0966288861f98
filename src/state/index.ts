/**
 * replog/state: a replicated key-value store kept in the log (see store.ts).
 */
export { StateStore, type StateStoreOptions, type StoreMode } from './store.js';
export { Variable } from './variable.js';
export { CompactedError, StateLostError, StateFormatError, StateReadOnlyError } from './errors.js';
export type { StateLog, StateLogWriter, StateLogEntry } from './log.js';
export type { SnapshotInfo } from './snapshot.js';
export type { WatchOptions } from './watch.js';
export type {
  KeyValue,
  Compare,
  CompareOp,
  TxnOp,
  TxnRequest,
  TxnResponse,
  TxnResult,
  WriteResult,
  DeleteResult,
  WatchEvent,
  WatchBatch,
  Consistency,
} from './types.js';
