/**
 * The logger the wire layer writes to: a subset of pino's interface
 * (`log.warn({ conn, reason }, 'closing connection')`), so the server can pass
 * its pino logger as is. Defaults to silent.
 */
export interface NetLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

export const silentLogger: NetLogger = { info: noop, warn: noop, error: noop };
