/**
 * The state store's public types. A revision is the log position of the
 * entry that made a change; positions that hold no state entry (NOPs,
 * truncations, other data, snapshot chunks) are revisions where nothing
 * changed.
 */

/** One key as the store holds it. */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** The revision of the entry that created the key (since its last deletion). */
  readonly createRevision: number;
  /** The revision of the entry that last wrote the key. */
  readonly modRevision: number;
  /** Writes since the key was created: 1 after the first put. */
  readonly version: number;
}

/** What a compare looks at; exactly one of the fields is given. A missing key has revisions and version 0 and no value. */
export type Compare = { readonly key: string; readonly op?: CompareOp } & (
  | { readonly modRevision: number }
  | { readonly createRevision: number }
  | { readonly version: number }
  | { readonly value: Uint8Array | string }
);

/** `=` by default. */
export type CompareOp = '=' | '!=' | '<' | '>';

export type TxnOp =
  | { readonly put: { readonly key: string; readonly value: Uint8Array | string } }
  | { readonly delete: { readonly key: string } }
  | { readonly get: { readonly key: string } };

export interface TxnRequest {
  readonly compare?: readonly Compare[];
  readonly success?: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

export type TxnResponse =
  | { readonly type: 'put'; readonly prev?: KeyValue }
  | { readonly type: 'delete'; readonly deleted: boolean; readonly prev?: KeyValue }
  | { readonly type: 'get'; readonly kv?: KeyValue };

export interface TxnResult {
  /** Whether every compare held (then `success` ran, else `failure`). */
  readonly succeeded: boolean;
  /** The revision (log position) of the transaction's entry. */
  readonly revision: number;
  readonly responses: readonly TxnResponse[];
}

/** The result of a conditional put or delete: a failed condition is a result with the key's current state. */
export type WriteResult =
  | { readonly ok: true; readonly revision: number }
  | { readonly ok: false; readonly revision: number; readonly current: KeyValue | undefined };

export type DeleteResult =
  | { readonly ok: true; readonly revision: number; readonly deleted: boolean; readonly prev?: KeyValue }
  | { readonly ok: false; readonly revision: number; readonly current: KeyValue | undefined };

export type WatchEvent =
  | { readonly type: 'put'; readonly kv: KeyValue; readonly prev?: KeyValue }
  | { readonly type: 'delete'; readonly key: string; readonly modRevision: number; readonly prev: KeyValue };

/** Every change one entry made (to the watched keys), together. */
export interface WatchBatch {
  readonly revision: number;
  readonly events: readonly WatchEvent[];
}

export type Consistency = 'local' | 'linearizable';
