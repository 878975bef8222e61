/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/**
 * The logging seam every zg component accepts (`logger` option). Four levels,
 * each a message plus structured fields. pino, bunyan and winston loggers fit
 * with a thin adapter; apps wire a real one. Packages never use `console`.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const noop = (): void => {};

/** The default logger: discards everything (components are silent by default). */
export const silentLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});

/** A logger that adds `fields` (e.g. `{ component: "PirateQueue" }`) to every line of `logger`. */
export function childLogger(logger: Logger, fields: LogFields): Logger {
  if (logger === silentLogger) return logger;
  return {
    debug: (m, f) => logger.debug(m, { ...fields, ...f }),
    info: (m, f) => logger.info(m, { ...fields, ...f }),
    warn: (m, f) => logger.warn(m, { ...fields, ...f }),
    error: (m, f) => logger.error(m, { ...fields, ...f }),
  };
}
