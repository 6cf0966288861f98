/**
 * What the store needs of a log: LogClient's public API (a LogClient is a
 * StateLog as it is). Tests pass an in-memory log with the same behaviour.
 */
export interface StateLogEntry {
  readonly position: number;
  readonly data: Uint8Array;
}

export interface StateLogWriter {
  /** The position of the writer's election marker: every position below it is chosen. */
  readonly position: number;
  append(data: Uint8Array): Promise<number>;
  truncate(to: number): Promise<number>;
  resign?(): Promise<void>;
}

export interface StateLog {
  writer(): Promise<StateLogWriter>;
  read(from: number, to: number): Promise<readonly StateLogEntry[]>;
  beginning(): Promise<number>;
  ending(): Promise<number>;
  tail(from?: number): AsyncIterable<StateLogEntry>;
}
