/**
 * The history a nemesis run records: every client operation with its invoke
 * and complete times and its outcome, the moments writers saw themselves
 * fenced, and what the log and each replica held at the end. Times are
 * milliseconds on one monotonic clock (the workload process's), so they
 * compare across all operations of a run. This is the checker's whole input,
 * written one JSON object a line (history.jsonl).
 */

/** ok: acknowledged; fail: certainly did not take effect (`not-written`); unknown: may or may not have. */
export type Outcome = 'ok' | 'fail' | 'unknown';

interface OpBase {
  /** Unique within a run. */
  readonly id: number;
  /** The workload actor that ran it (a writer loop, a reader), for the reader of the history. */
  readonly actor: string;
  readonly invoke: number;
  /** null: still pending when the run ended (the outcome is then `unknown`). */
  readonly complete: number | null;
  readonly outcome: Outcome;
  /** The error's code and message when the outcome is not ok. */
  readonly error?: string;
}

/** A writer was elected (`log.writer()`) or re-elected (`writer.reelect()`); a failure elects nothing. */
export interface ElectOp extends OpBase {
  readonly kind: 'elect' | 'reelect';
  /** The writer instance (unique in the run): every op of one Writer object names the same one. */
  readonly writer: string;
  /** reelect: the verdicts on writes that were in doubt. */
  readonly settled?: readonly { readonly position: number; readonly kind: string; readonly written: boolean }[];
}

export interface AppendOp extends OpBase {
  readonly kind: 'append';
  readonly writer: string;
  /** Unique in the run: the checker recognises an entry by its bytes (utf8). */
  readonly value: string;
  /** ok: the acknowledged position; unknown: the position it took, if it had one. */
  readonly position?: number;
}

export interface TruncateOp extends OpBase {
  readonly kind: 'truncate';
  readonly writer: string;
  /** Every position before `to` is removed. */
  readonly to: number;
  readonly position?: number;
}

/** A read of [from, to], or a tail session (entries as they came, `to` the last position seen). */
export interface ReadOp extends OpBase {
  readonly kind: 'read' | 'tail';
  readonly from: number;
  readonly to: number;
  /** [position, value] in the order returned. */
  readonly entries: readonly (readonly [number, string])[];
}

export type Op = ElectOp | AppendOp | TruncateOp | ReadOp;

/** A writer learned it was fenced (its `fenced` promise resolved; recorded a turn of the event loop later). */
export interface FenceEvent {
  readonly kind: 'fenced';
  readonly writer: string;
  readonly time: number;
}

/** The log as one read from a healed cluster saw it at the end. */
export interface FinalRead {
  readonly begin: number;
  readonly end: number;
  readonly entries: readonly (readonly [number, string])[];
}

/** One replica's learned positions, read from its data directory after it stopped. */
export interface ReplicaLog {
  readonly id: number;
  readonly begin: number;
  /** [position, kind, value (appends only)]. */
  readonly entries: readonly (readonly [number, string, string?])[];
}

export interface History {
  readonly ops: readonly Op[];
  readonly fences: readonly FenceEvent[];
  readonly final: FinalRead;
  readonly replicas: readonly ReplicaLog[];
}
