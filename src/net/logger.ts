/**
 * The logger the client, the embedded replica and the wire layer write to: a
 * subset of pino's interface (`log.warn({ conn, reason }, 'closing
 * connection')`), so a pino logger (or console-like adapter) fits as is.
 * Defaults to silent in the client.
 */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The wire layer's name for it. */
export type NetLogger = Logger;

const noop = (): void => {};

export const silentLogger: Logger = { info: noop, warn: noop, error: noop };
