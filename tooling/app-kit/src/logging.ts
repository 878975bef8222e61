import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";
import type { LogFields, Logger } from "@zg/core";

export type { PinoLogger };

/**
 * The app's pino logger: JSON lines with `app` and `pid` on every line,
 * written synchronously to stdout (or `destination`), so nothing is lost when
 * the process exits right after a line.
 */
export function createAppLogger(
  app: string,
  level: string,
  destination?: DestinationStream,
): PinoLogger {
  return pino(
    {
      level,
      base: { app, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

function write(
  log: PinoLogger,
  level: "debug" | "info" | "warn" | "error",
  message: string,
  fields?: LogFields,
): void {
  if (fields === undefined) log[level](message);
  else log[level](fields, message);
}

/**
 * Adapts a pino logger to the four-method {@link Logger} seam zg components
 * accept (`logger` option): `debug(message, fields)` becomes
 * `pino.debug(fields, message)`.
 */
export function toZgLogger(log: PinoLogger): Logger {
  return {
    debug: (m, f) => write(log, "debug", m, f),
    info: (m, f) => write(log, "info", m, f),
    warn: (m, f) => write(log, "warn", m, f),
    error: (m, f) => write(log, "error", m, f),
  };
}
