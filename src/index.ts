/**
 * replog's public library interface (see ../shared/design/interfaces.md in the
 * project's design notes and the README).
 */
export * from './client/index.js';
// The embedded replica: the same exports as the `replog/server` entry (one list, kept there).
export * from './server/index.js';
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
